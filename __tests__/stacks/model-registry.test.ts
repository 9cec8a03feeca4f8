/**
 * The model registry as each environment gets it: the platform stack's database, credentials and server
 * role (or managed server), and the cluster stack's MLflow server, per tier and per backend.
 */
import { configFor, onlyResource, resourcesOf, type StackJson, synthEnvironment } from "../helpers/synth";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function synth(name: string, patch: Record<string, unknown> = {}): Record<string, StackJson> {
  const json = synthEnvironment(configFor(name, patch)).json;
  return { ...json, cluster: withoutServingNamespace(json.cluster) };
}

/** The cluster stack without what the environment files also run in the serving namespace (inference services). */
function withoutServingNamespace(stack: StackJson): StackJson {
  const inServing = (resource: Json) =>
    /kubernetes_namespace_v1\.ServingNamespace/.test(String(resource.metadata?.namespace));
  const resource = Object.fromEntries(
    Object.entries(stack.resource ?? {})
      .map(([type, byId]) => [
        type,
        Object.fromEntries(Object.entries(byId).filter(([, r]) => !inServing(r as Json))),
      ])
      .filter(([, byId]) => Object.keys(byId as object).length > 0),
  );
  return { ...stack, resource };
}

describe("dev: self-hosted, cheap and disposable", () => {
  let platform: StackJson;
  let cluster: StackJson;
  let db: Json;
  beforeAll(() => {
    ({ platform, cluster } = synth("dev"));
    db = onlyResource(platform, "aws_db_instance");
  });

  test("trusts EKS Pod Identity of the environment's cluster only for the server role", () => {
    const role = Object.values(resourcesOf(platform, "aws_iam_role")).find(
      (r) => r.name === "mlops-dev-mlflow-server",
    )!;
    expect(JSON.parse(role.assume_role_policy as string).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: { "aws:SourceAccount": "111111111111" },
          ArnEquals: { "aws:SourceArn": "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev-eks" },
        },
      },
    ]);
  });

  test("runs a micro single-zone database with one day of backups", () => {
    expect(db).toMatchObject({
      identifier: "mlops-dev-mlflow",
      instance_class: "db.t4g.micro",
      multi_az: false,
      backup_retention_period: 1,
    });
  });

  test("runs PostgreSQL 16 by major version: minor upgrades automatic, major ones off", () => {
    expect(db).toMatchObject({
      engine_version: "16",
      auto_minor_version_upgrade: true,
      allow_major_version_upgrade: false,
    });
    expect(db).not.toHaveProperty("apply_immediately");
    expect(onlyResource(platform, "aws_db_parameter_group").family).toBe("postgres16");
  });

  test("may be destroyed without a final snapshot", () => {
    expect(db).toMatchObject({
      deletion_protection: false,
      skip_final_snapshot: true,
      lifecycle: { prevent_destroy: false },
    });
  });

  test("keeps the database private, encrypted, TLS-only, its password managed by Secrets Manager", () => {
    expect(db).toMatchObject({
      publicly_accessible: false,
      storage_encrypted: true,
      manage_master_user_password: true,
      kms_key_id: "${aws_kms_key.PlatformKey.arn}",
      master_user_secret_kms_key_id: "${aws_kms_key.PlatformKey.arn}",
    });
    expect(onlyResource(platform, "aws_db_parameter_group").parameter).toEqual(
      expect.arrayContaining([{ name: "rds.force_ssl", value: "1" }]),
    );
  });

  test("places the database in the VPC's private subnets, reachable from the cluster's security group only", () => {
    expect(onlyResource(platform, "aws_db_subnet_group").subnet_ids).toEqual([
      expect.stringMatching(/aws_subnet\.Network_PrivateSubnetA/),
      expect.stringMatching(/aws_subnet\.Network_PrivateSubnetB/),
    ]);
    const ingress = Object.values(resourcesOf(platform, "aws_vpc_security_group_ingress_rule")).filter(
      (rule) => rule.from_port === 5432,
    );
    expect(ingress).toEqual([
      expect.objectContaining({
        referenced_security_group_id: expect.stringMatching(/vpc_config\[0\]\.cluster_security_group_id/),
      }),
    ]);
  });

  test("gives the mlflow/mlflow service account the server role through Pod Identity", () => {
    const association = Object.values(resourcesOf(platform, "aws_eks_pod_identity_association")).find(
      (a) => a.namespace === "mlflow",
    );
    expect(association).toMatchObject({
      service_account: "mlflow",
      role_arn: expect.stringMatching(/aws_iam_role\.ModelRegistry_ServerRole/),
    });
  });

  test("uses the data stack's model-artifacts bucket, by name", () => {
    const policy = JSON.parse(
      Object.entries(resourcesOf(platform, "aws_iam_role_policy")).find(([id]) =>
        id.includes("ModelRegistry_ServerPolicy"),
      )![1].policy as string,
    ) as { Statement: { Resource: string | string[] }[] };
    expect(JSON.stringify(policy)).toContain("arn:aws:s3:::mlops-dev-model-artifacts-111111111111/mlflow/*");
    expect(platform.output?.mlflow_artifact_store_uri.value).toBe(
      "s3://mlops-dev-model-artifacts-111111111111/mlflow",
    );
  });

  test("lets training jobs use the registry", () => {
    expect(
      Object.keys(resourcesOf(platform, "aws_iam_role_policy")).some((id) =>
        id.includes("ModelRegistry_AccessTrainingRole"),
      ),
    ).toBe(true);
  });

  test("outputs the in-cluster tracking URI", () => {
    expect(platform.output?.mlflow_tracking_uri.value).toBe("http://mlflow.mlflow.svc.cluster.local:5000");
  });

  test("runs one MLflow pod of the environment's mlflow image, without a disruption budget", () => {
    const deployment = onlyResource(cluster, "kubernetes_deployment_v1") as Json;
    expect(deployment.spec.replicas).toBe("1");
    expect(deployment.spec.template.spec.container[0].image).toBe(
      "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-dev-mlflow:3.1.1-2",
    );
    expect(deployment.metadata.namespace).toMatch(/kubernetes_namespace_v1\.MlflowNamespace/);
    expect(resourcesOf(cluster, "kubernetes_pod_disruption_budget_v1")).toEqual({});
  });

  test("exposes it on a ClusterIP service and an internal load balancer", () => {
    const services = Object.values(resourcesOf(cluster, "kubernetes_service_v1")) as Json[];
    expect(services.map((service) => service.spec.type).sort()).toEqual([
      "ClusterIP",
      "ClusterIP",
      "LoadBalancer",
    ]);
    const lb = services.find((service) => service.spec.type === "LoadBalancer")!;
    expect(lb.metadata.annotations["service.beta.kubernetes.io/aws-load-balancer-internal"]).toBe("true");
  });

  test("creates no managed tracking server", () => {
    expect(resourcesOf(platform, "aws_sagemaker_mlflow_tracking_server")).toEqual({});
  });
});

describe("test: self-hosted, protected but small", () => {
  let platform: StackJson;
  let cluster: StackJson;
  beforeAll(() => ({ platform, cluster } = synth("test")));

  test("keeps a week of backups, a final snapshot and deletion protection", () => {
    expect(onlyResource(platform, "aws_db_instance")).toMatchObject({
      instance_class: "db.t4g.small",
      backup_retention_period: 7,
      deletion_protection: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: "mlops-test-mlflow-final",
      lifecycle: { prevent_destroy: true },
    });
  });

  test("runs two MLflow pods with a disruption budget", () => {
    expect((onlyResource(cluster, "kubernetes_deployment_v1") as Json).spec.replicas).toBe("2");
    expect((onlyResource(cluster, "kubernetes_pod_disruption_budget_v1") as Json).spec.min_available).toBe(
      "1",
    );
  });
});

describe("a major version upgrade in the environment file", () => {
  test("upgrades the database during the deploy, with a parameter group of the new family", () => {
    const { platform } = synth("test", {
      modelRegistry: { database: { engineVersion: "17", allowMajorVersionUpgrade: true } },
    });
    expect(onlyResource(platform, "aws_db_instance")).toMatchObject({
      engine_version: "17",
      allow_major_version_upgrade: true,
      apply_immediately: true,
    });
    expect(onlyResource(platform, "aws_db_parameter_group")).toMatchObject({
      name: "mlops-test-mlflow-postgres17",
      family: "postgres17",
    });
  });
});

describe("prod: SageMaker-managed by default", () => {
  let platform: StackJson;
  let cluster: StackJson;
  beforeAll(() => ({ platform, cluster } = synth("prod")));

  test("runs a Medium managed tracking server with automatic model registration", () => {
    expect(onlyResource(platform, "aws_sagemaker_mlflow_tracking_server")).toMatchObject({
      tracking_server_name: "mlops-prod-mlflow",
      tracking_server_size: "Medium",
      automatic_model_registration: true,
      weekly_maintenance_window_start: "SUN:03:00",
      artifact_store_uri: "s3://mlops-prod-model-artifacts-333333333333/mlflow",
      lifecycle: { prevent_destroy: true },
    });
  });

  test("creates no database and no MLflow server in the cluster", () => {
    expect(resourcesOf(platform, "aws_db_instance")).toEqual({});
    expect(resourcesOf(cluster, "kubernetes_deployment_v1")).toEqual({});
  });
});

describe("prod switched to self-hosted", () => {
  let platform: StackJson;
  let cluster: StackJson;
  beforeAll(() => ({ platform, cluster } = synth("prod", { modelRegistry: { backend: "self-hosted" } })));

  test("runs a Multi-AZ database with two weeks of backups, a final snapshot and every protection", () => {
    expect(onlyResource(platform, "aws_db_instance")).toMatchObject({
      instance_class: "db.m7g.large",
      multi_az: true,
      backup_retention_period: 14,
      deletion_protection: true,
      final_snapshot_identifier: "mlops-prod-mlflow-final",
      lifecycle: { prevent_destroy: true },
    });
  });

  test("runs two MLflow pods with a disruption budget", () => {
    expect((onlyResource(cluster, "kubernetes_deployment_v1") as Json).spec.replicas).toBe("2");
    expect(Object.keys(resourcesOf(cluster, "kubernetes_pod_disruption_budget_v1"))).toHaveLength(1);
  });
});

describe("dev switched to sagemaker-managed", () => {
  let platform: StackJson;
  let cluster: StackJson;
  beforeAll(
    () => ({ platform, cluster } = synth("dev", { modelRegistry: { backend: "sagemaker-managed" } })),
  );

  test("runs a Small managed tracking server instead of the database", () => {
    expect(onlyResource(platform, "aws_sagemaker_mlflow_tracking_server")).toMatchObject({
      tracking_server_size: "Small",
    });
    expect(resourcesOf(platform, "aws_db_instance")).toEqual({});
  });

  test("has no MLflow server in the cluster", () => {
    expect(resourcesOf(cluster, "kubernetes_deployment_v1")).toEqual({});
  });
});

describe("an identity provider in the environment file", () => {
  test("puts OIDC on an internal ALB in front of the server", () => {
    const { cluster } = synth("dev", {
      modelRegistry: {
        loadBalancer: {
          certificateArn:
            "arn:aws:acm:eu-west-1:111111111111:certificate/0f0e0d0c-0b0a-0908-0706-050403020100",
          identityProvider: {
            issuer: "https://login.example.com",
            authorizationEndpoint: "https://login.example.com/authorize",
            tokenEndpoint: "https://login.example.com/token",
            userInfoEndpoint: "https://login.example.com/userinfo",
            clientSecretName: "mlflow-oidc",
          },
        },
      },
    });
    const ingress = onlyResource(cluster, "kubernetes_ingress_v1") as Json;
    expect(ingress.metadata.annotations).toMatchObject({
      "alb.ingress.kubernetes.io/scheme": "internal",
      "alb.ingress.kubernetes.io/auth-type": "oidc",
    });
  });
});

describe("no secret value in any synthesized stack", () => {
  test.each(["dev", "test", "prod"])("%s", (name) => {
    // Generated secrets (Grafana's admin password) reach Secrets Manager and Kubernetes only through
    // write-only attributes fed by an ephemeral resource: a reference, never a value.
    const ephemeral = /^\$\{.*ephemeral\.aws_secretsmanager_random_password\.\w+\.random_password.*\}$/s;
    for (const json of Object.values(synth(name))) {
      const text = JSON.stringify(json);
      expect(text).not.toMatch(/"(password|password_wo|secret_string|master_password)"\s*:/);
      for (const version of Object.values(resourcesOf(json, "aws_secretsmanager_secret_version"))) {
        expect(version.secret_string_wo).toMatch(ephemeral);
      }
      for (const secret of Object.values(resourcesOf(json, "kubernetes_secret_v1"))) {
        expect(secret.data).toBeUndefined();
        expect(Object.values(secret.data_wo as Record<string, string>)).toContainEqual(
          expect.stringMatching(ephemeral),
        );
      }
    }
  });
});
