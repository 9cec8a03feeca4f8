import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Testing } from "cdktf";
import { Construct } from "constructs";
import { modelRegistryNames } from "../../../constructs/model-registry/model-registry";
import { onlyResource, resourcesOf, type StackJson } from "../../helpers/synth";
import {
  NAMING,
  asList,
  policiesOf,
  registryProps,
  registryStack,
  synthRegistry,
  type PolicyStatement,
} from "./fixtures";

/** The statements of the MLflow server role's trust policy. */
function serverTrust(json: StackJson): Record<string, unknown>[] {
  const role = Object.values(resourcesOf(json, "aws_iam_role")).find(
    (r) => r.name === "mlops-dev-mlflow-server",
  )!;
  return (JSON.parse(role.assume_role_policy as string) as { Statement: Record<string, unknown>[] })
    .Statement;
}

describe("ModelRegistry, self-hosted with defaults", () => {
  let json: StackJson;
  let db: Record<string, unknown>;
  beforeAll(() => {
    json = synthRegistry(registryProps());
    db = onlyResource(json, "aws_db_instance");
  });

  test("runs PostgreSQL named after the environment", () => {
    expect(db).toMatchObject({
      identifier: "mlops-dev-mlflow",
      engine: "postgres",
      engine_version: "16",
      db_name: "mlflow",
    });
  });

  test("encrypts storage with the registry's own rotating KMS key", () => {
    const key = onlyResource(json, "aws_kms_key");
    expect(key.enable_key_rotation).toBe(true);
    expect(db.storage_encrypted).toBe(true);
    expect(db.kms_key_id).toMatch(/^\$\{aws_kms_key\.\w+\.arn\}$/);
  });

  test("is not publicly accessible", () => {
    expect(db.publicly_accessible).toBe(false);
  });

  test("lets Secrets Manager manage the master password, encrypted with the registry key", () => {
    expect(db.manage_master_user_password).toBe(true);
    expect(db.master_user_secret_kms_key_id).toBe(db.kms_key_id);
    expect(db).not.toHaveProperty("password");
  });

  test("forces TLS through its parameter group", () => {
    const group = onlyResource(json, "aws_db_parameter_group");
    expect(group.family).toBe("postgres16");
    expect(group.parameter).toEqual(expect.arrayContaining([{ name: "rds.force_ssl", value: "1" }]));
    expect(db.parameter_group_name).toMatch(/aws_db_parameter_group/);
  });

  test("exports PostgreSQL and upgrade logs to encrypted log groups with retention", () => {
    expect(db.enabled_cloudwatch_logs_exports).toEqual(["postgresql", "upgrade"]);
    const groups = Object.values(resourcesOf(json, "aws_cloudwatch_log_group"));
    expect(groups.map((group) => group.name).sort()).toEqual([
      "/aws/rds/instance/mlops-dev-mlflow/postgresql",
      "/aws/rds/instance/mlops-dev-mlflow/upgrade",
    ]);
    for (const group of groups) {
      expect(group.retention_in_days).toBe(365);
      expect(group.kms_key_id).toBe(db.kms_key_id);
    }
  });

  test("upgrades minor versions automatically but never major ones, in the maintenance window", () => {
    expect(db.auto_minor_version_upgrade).toBe(true);
    expect(db.allow_major_version_upgrade).toBe(false);
    expect(db).not.toHaveProperty("apply_immediately");
  });

  test("names its parameter group after the engine family and replaces it before destroying the old one", () => {
    const groups = resourcesOf(json, "aws_db_parameter_group");
    expect(Object.keys(groups)).toEqual([expect.stringMatching(/DatabaseParameterGroup/)]);
    expect(Object.values(groups)[0]).toMatchObject({
      name: "mlops-dev-mlflow-postgres16",
      family: "postgres16",
      lifecycle: { create_before_destroy: true },
    });
  });

  test("defaults to production safety: Multi-AZ, deletion protection, 14 days of backups", () => {
    expect(db).toMatchObject({ multi_az: true, deletion_protection: true, backup_retention_period: 14 });
  });

  test("takes a final snapshot with a deterministic name", () => {
    expect(db.skip_final_snapshot).toBe(false);
    expect(db.final_snapshot_identifier).toBe("mlops-dev-mlflow-final");
  });

  test("prevents destruction of the database, key, secrets and log groups", () => {
    const stateful = [
      ...Object.values(resourcesOf(json, "aws_db_instance")),
      ...Object.values(resourcesOf(json, "aws_kms_key")),
      ...Object.values(resourcesOf(json, "aws_secretsmanager_secret")),
      ...Object.values(resourcesOf(json, "aws_cloudwatch_log_group")),
    ];
    expect(stateful).toHaveLength(6);
    for (const resource of stateful) expect(resource.lifecycle).toMatchObject({ prevent_destroy: true });
  });

  test("places the database in the given private subnets", () => {
    const group = onlyResource(json, "aws_db_subnet_group");
    expect(group.subnet_ids).toEqual(["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]);
    expect(db.db_subnet_group_name).toMatch(/aws_db_subnet_group/);
  });

  test("opens port 5432 only to the cluster's security groups, and nothing outbound", () => {
    const group = onlyResource(json, "aws_security_group");
    expect(group.egress).toEqual([]);
    expect(group).not.toHaveProperty("ingress");
    const rules = Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule"));
    expect(rules).toEqual([
      expect.objectContaining({
        referenced_security_group_id: "sg-0ccccccccccccccc3",
        ip_protocol: "tcp",
        from_port: 5432,
        to_port: 5432,
      }),
    ]);
    expect(rules[0]).not.toHaveProperty("cidr_ipv4");
  });

  test("creates the admin and workloads credential secrets empty, encrypted with the registry key", () => {
    const secrets = Object.values(resourcesOf(json, "aws_secretsmanager_secret"));
    expect(secrets.map((secret) => secret.name).sort()).toEqual([
      "mlops-dev-mlflow-admin",
      "mlops-dev-mlflow-workloads",
    ]);
    for (const secret of secrets) {
      expect(secret.kms_key_id).toBe(db.kms_key_id);
      expect(secret.recovery_window_in_days).toBe(30);
    }
    expect(resourcesOf(json, "aws_secretsmanager_secret_version")).toEqual({});
  });

  test("puts no password or secret value into the synthesized configuration", () => {
    const text = JSON.stringify(json);
    expect(text).not.toMatch(/"(password|secret_string|secret_string_wo|master_password)"\s*:/);
    expect(resourcesOf(json, "random_password")).toEqual({});
  });

  test("outputs the in-cluster tracking URI and the artifact store", () => {
    expect(json.output?.mlflow_tracking_uri.value).toBe("http://mlflow.mlflow.svc.cluster.local:5000");
    expect(json.output?.mlflow_artifact_store_uri.value).toBe("s3://mlops-dev-model-artifacts/mlflow");
  });

  test("creates no managed tracking server", () => {
    expect(resourcesOf(json, "aws_sagemaker_mlflow_tracking_server")).toEqual({});
  });
});

describe("ModelRegistry server role", () => {
  let json: StackJson;
  let statements: PolicyStatement[];
  beforeAll(() => {
    json = synthRegistry(
      registryProps({
        server: { clusterName: "mlops-dev", namespace: "mlflow", serviceAccountName: "mlflow" },
      }),
    );
    statements = policiesOf(json, "ServerPolicy")[0].Statement;
  });

  test("is assumed only through EKS Pod Identity of the cluster it is associated in", () => {
    const trust = serverTrust(json);
    expect(trust).toHaveLength(1);
    // Only EKS Pod Identity acting for this account and for this cluster: neither another account's cluster
    // nor another cluster of the account (dev and test may share one) can hand the role out.
    expect(trust[0]).toEqual({
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: {
        StringEquals: { "aws:SourceAccount": "111111111111" },
        ArnEquals: { "aws:SourceArn": "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev" },
      },
    });
  });

  test("is associated with the server's service account", () => {
    expect(onlyResource(json, "aws_eks_pod_identity_association")).toMatchObject({
      cluster_name: "mlops-dev",
      namespace: "mlflow",
      service_account: "mlflow",
    });
  });

  test("reaches S3 objects only under the artifact prefix", () => {
    const s3Resources = statements
      .filter((s) => asList(s.Action).some((a) => a.startsWith("s3:")))
      .flatMap((s) => asList(s.Resource));
    expect([...new Set(s3Resources)].sort()).toEqual([
      "arn:aws:s3:::mlops-dev-model-artifacts",
      "arn:aws:s3:::mlops-dev-model-artifacts/mlflow/*",
    ]);
    const list = statements.find((s) => asList(s.Action).includes("s3:ListBucket"))!;
    expect(list.Condition).toEqual({ StringLike: { "s3:prefix": ["mlflow", "mlflow/*"] } });
  });

  test("locates the artifact bucket without the listing's prefix condition, which GetBucketLocation never meets", () => {
    const locate = statements.filter((s) => asList(s.Action).includes("s3:GetBucketLocation"));
    expect(locate).toHaveLength(1);
    expect(locate[0]).toMatchObject({
      Effect: "Allow",
      Action: "s3:GetBucketLocation",
      Resource: "arn:aws:s3:::mlops-dev-model-artifacts",
    });
    expect(locate[0].Condition).toBeUndefined();
  });

  test("uses the artifact bucket's key only by its alias and only through S3", () => {
    const key = statements.find((s) => s.Sid === "ArtifactStoreKey")!;
    expect(key.Resource).toBe("arn:aws:kms:eu-west-1:111111111111:key/*");
    expect(key.Condition).toEqual({
      "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/mlops-dev-data" },
      StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
    });
  });

  test("reads the database's master secret and the two credential secrets, nothing else", () => {
    const secretResources = statements
      .filter((s) =>
        asList(s.Action).some(
          (a) => a.startsWith("secretsmanager:") && a !== "secretsmanager:GetRandomPassword",
        ),
      )
      .flatMap((s) => asList(s.Resource));
    expect(secretResources).toHaveLength(3);
    expect(secretResources).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/aws_db_instance\.\w+\.master_user_secret\[0\]\.secret_arn/),
        expect.stringMatching(/aws_secretsmanager_secret\.\w*AdminSecret\w*\.arn/),
        expect.stringMatching(/aws_secretsmanager_secret\.\w*WorkloadsSecret\w*\.arn/),
      ]),
    );
  });

  test("has no wildcard action and only GetRandomPassword on every resource", () => {
    for (const statement of statements) {
      expect(asList(statement.Action).every((action) => !action.endsWith(":*") && action !== "*")).toBe(true);
    }
    const unscoped = statements.filter((s) => asList(s.Resource).includes("*"));
    expect(unscoped.flatMap((s) => asList(s.Action))).toEqual(["secretsmanager:GetRandomPassword"]);
  });
});

describe("ModelRegistry server role trust", () => {
  test("is limited to the cluster given by ARN, when the service account is associated elsewhere", () => {
    const clusterArn = "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev-eks";
    const json = synthRegistry(registryProps({ server: { clusterArn } }));
    expect(serverTrust(json)[0].Condition).toEqual({
      StringEquals: { "aws:SourceAccount": "111111111111" },
      ArnEquals: { "aws:SourceArn": clusterArn },
    });
    expect(resourcesOf(json, "aws_eks_pod_identity_association")).toEqual({});
  });

  test("is limited to this account only when no cluster is given", () => {
    expect(serverTrust(synthRegistry(registryProps()))[0].Condition).toEqual({
      StringEquals: { "aws:SourceAccount": "111111111111" },
    });
  });
});

describe("ModelRegistry database major version upgrade", () => {
  let json: StackJson;
  let db: Record<string, unknown>;
  beforeAll(() => {
    json = synthRegistry(
      registryProps({
        database: { ...registryProps().database!, engineVersion: "17", allowMajorVersionUpgrade: true },
      }),
    );
    db = onlyResource(json, "aws_db_instance");
  });

  test("is allowed and applied during the deploy", () => {
    expect(db).toMatchObject({
      engine_version: "17",
      auto_minor_version_upgrade: true,
      allow_major_version_upgrade: true,
      apply_immediately: true,
    });
  });

  test("comes with a parameter group of the new family, created before the old one goes", () => {
    const groups = resourcesOf(json, "aws_db_parameter_group");
    const [id, group] = Object.entries(groups)[0];
    expect(Object.keys(groups)).toHaveLength(1);
    expect(id).toMatch(/DatabaseParameterGroup/);
    expect(group).toMatchObject({
      name: "mlops-dev-mlflow-postgres17",
      family: "postgres17",
      lifecycle: { create_before_destroy: true },
    });
    expect(db.parameter_group_name).toBe(`\${aws_db_parameter_group.${id}.name}`);
  });
});

describe("ModelRegistry.grantAccess, self-hosted", () => {
  let statements: PolicyStatement[];
  beforeAll(() => {
    statements = policiesOf(synthRegistry(registryProps()), "AccessTrainingRole")[0].Statement;
  });

  test("lets the role read the workloads' credential only", () => {
    const read = statements.find((s) => s.Sid === "ReadMlflowWorkloadsCredential")!;
    expect(read.Action).toEqual(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]);
    expect(read.Resource).toMatch(/aws_secretsmanager_secret\.\w*WorkloadsSecret\w*\.arn/);
  });

  test("gives no S3 access (artifacts go through the server)", () => {
    expect(statements.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith("s3:"))).toEqual([]);
  });

  test("decrypts with the registry key only through Secrets Manager", () => {
    const decrypt = statements.find((s) => s.Sid === "DecryptMlflowWorkloadsCredential")!;
    expect(decrypt.Condition).toEqual({
      StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" },
    });
  });

  test("adds one policy however often it is called for the same role", () => {
    const { stack, registry, workloadRole } = registryStack(registryProps());
    registry.grantAccess(workloadRole);
    expect(policiesOf(JSON.parse(Testing.synth(stack)), "Access")).toHaveLength(1);
  });
});

describe("ModelRegistry, self-hosted for a disposable environment", () => {
  let db: Record<string, unknown>;
  let json: StackJson;
  beforeAll(() => {
    json = synthRegistry(
      registryProps({
        preventDestroy: false,
        secretRecoveryWindowDays: 7,
        keyDeletionWindowDays: 7,
        database: {
          ...registryProps().database!,
          instanceClass: "db.t4g.micro",
          multiAz: false,
          deletionProtection: false,
          backupRetentionDays: 1,
          skipFinalSnapshot: true,
          logRetentionDays: 30,
        },
      }),
    );
    db = onlyResource(json, "aws_db_instance");
  });

  test("uses a small single-zone instance with one day of backups", () => {
    expect(db).toMatchObject({ instance_class: "db.t4g.micro", multi_az: false, backup_retention_period: 1 });
  });

  test("can be deleted without a final snapshot", () => {
    expect(db).toMatchObject({ deletion_protection: false, skip_final_snapshot: true });
    expect(db).not.toHaveProperty("final_snapshot_identifier");
  });

  test("drops prevent_destroy", () => {
    expect(db.lifecycle).toMatchObject({ prevent_destroy: false });
  });

  test("uses the shorter key and secret windows", () => {
    expect(onlyResource(json, "aws_kms_key").deletion_window_in_days).toBe(7);
    for (const secret of Object.values(resourcesOf(json, "aws_secretsmanager_secret"))) {
      expect(secret.recovery_window_in_days).toBe(7);
    }
  });
});

describe("ModelRegistry with a given key", () => {
  test("uses that key and creates none", () => {
    const keyArn = "arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555";
    const json = synthRegistry(registryProps({ encryptionKeyArn: keyArn }));
    expect(resourcesOf(json, "aws_kms_key")).toEqual({});
    expect(onlyResource(json, "aws_db_instance")).toMatchObject({
      kms_key_id: keyArn,
      master_user_secret_kms_key_id: keyArn,
    });
  });
});

describe("ModelRegistry, sagemaker-managed", () => {
  let json: StackJson;
  let server: Record<string, unknown>;
  beforeAll(() => {
    json = synthRegistry(registryProps({ backend: "sagemaker-managed", database: undefined }));
    server = onlyResource(json, "aws_sagemaker_mlflow_tracking_server");
  });

  test("creates a managed tracking server on the artifact prefix", () => {
    expect(server).toMatchObject({
      tracking_server_name: "mlops-dev-mlflow",
      artifact_store_uri: "s3://mlops-dev-model-artifacts/mlflow",
    });
  });

  test("defaults to a Small server with automatic model registration and a Sunday maintenance window", () => {
    expect(server).toMatchObject({
      tracking_server_size: "Small",
      automatic_model_registration: true,
      weekly_maintenance_window_start: "SUN:03:00",
    });
  });

  test("runs as an execution role that SageMaker assumes", () => {
    expect(server.role_arn).toMatch(/aws_iam_role\.\w*TrackingServerRole\w*\.arn/);
    const role = Object.values(resourcesOf(json, "aws_iam_role")).find(
      (r) => r.name === "mlops-dev-mlflow-tracking",
    )!;
    const trust = JSON.parse(role.assume_role_policy as string) as { Statement: { Principal: unknown }[] };
    expect(trust.Statement[0].Principal).toEqual({ Service: "sagemaker.amazonaws.com" });
  });

  test("scopes the execution role's S3 access to the artifact prefix", () => {
    const statements = policiesOf(json, "TrackingServerPolicy")[0].Statement;
    const s3Resources = statements
      .filter((s) => asList(s.Action).some((a) => a.startsWith("s3:")))
      .flatMap((s) => asList(s.Resource));
    expect([...new Set(s3Resources)].sort()).toEqual([
      "arn:aws:s3:::mlops-dev-model-artifacts",
      "arn:aws:s3:::mlops-dev-model-artifacts/mlflow/*",
    ]);
  });

  test("creates no database, secrets or server role", () => {
    for (const type of [
      "aws_db_instance",
      "aws_secretsmanager_secret",
      "aws_security_group",
      "aws_kms_key",
    ]) {
      expect(resourcesOf(json, type)).toEqual({});
    }
  });

  test("outputs the server's ARN as tracking URI and its URL", () => {
    expect(json.output?.mlflow_tracking_uri.value).toMatch(/aws_sagemaker_mlflow_tracking_server\.\w+\.arn/);
    expect(json.output?.mlflow_tracking_server_url.value).toMatch(
      /aws_sagemaker_mlflow_tracking_server\.\w+\.tracking_server_url/,
    );
  });

  test("grantAccess allows the MLflow API on this server only, presigned URLs and the artifact prefix", () => {
    const statements = policiesOf(json, "AccessTrainingRole")[0].Statement;
    const use = statements.find((s) => s.Sid === "UseTrackingServer")!;
    expect(use.Action).toEqual(
      expect.arrayContaining(["sagemaker-mlflow:*", "sagemaker:CreatePresignedMlflowTrackingServerUrl"]),
    );
    expect(use.Resource).toMatch(/aws_sagemaker_mlflow_tracking_server\.\w+\.arn/);
    expect(statements.find((s) => s.Sid === "ArtifactsObjects")!.Resource).toBe(
      "arn:aws:s3:::mlops-dev-model-artifacts/mlflow/*",
    );
  });

  test("grantAccess and the tracking server's role locate the artifact bucket without a prefix condition", () => {
    for (const policy of [
      policiesOf(json, "AccessTrainingRole")[0],
      policiesOf(json, "TrackingServerPolicy")[0],
    ]) {
      const locate = policy.Statement.find((s) => asList(s.Action).includes("s3:GetBucketLocation"))!;
      expect(asList(locate.Action)).toEqual(["s3:GetBucketLocation"]);
      expect(locate.Resource).toBe("arn:aws:s3:::mlops-dev-model-artifacts");
      expect(locate.Condition).toBeUndefined();
    }
  });

  test("takes size, version and maintenance window from its props", () => {
    const custom = onlyResource(
      synthRegistry(
        registryProps({
          backend: "sagemaker-managed",
          managedServer: { size: "Medium", mlflowVersion: "2.16", weeklyMaintenanceWindowStart: "TUE:04:30" },
        }),
      ),
      "aws_sagemaker_mlflow_tracking_server",
    );
    expect(custom).toMatchObject({
      tracking_server_size: "Medium",
      mlflow_version: "2.16",
      weekly_maintenance_window_start: "TUE:04:30",
    });
  });
});

describe("ModelRegistry errors", () => {
  const build = (overrides: Parameters<typeof registryProps>[0]) => () =>
    registryStack(registryProps(overrides));

  test("self-hosted without a database says what to give", () => {
    expect(build({ database: undefined })).toThrow(/self-hosted backend needs `database`/);
  });

  test("a single subnet is refused", () => {
    expect(build({ database: { ...registryProps().database!, subnetIds: ["subnet-1"] } })).toThrow(
      /database\.subnetIds: must list at least 2 private subnets/,
    );
  });

  test("no allowed security group is refused", () => {
    expect(build({ database: { ...registryProps().database!, allowedSecurityGroupIds: [] } })).toThrow(
      /allowedSecurityGroupIds: must list the cluster's node or pod security group/,
    );
  });

  test("a minor engine version is refused with the major version to write", () => {
    expect(build({ database: { ...registryProps().database!, engineVersion: "16.4" } })).toThrow(
      /database\.engineVersion: "16\.4" must be a major version only; write "16"\. RDS upgrades minor versions automatically, and once it has, every plan would try to downgrade to 16\.4, which RDS refuses/,
    );
  });

  test("an engine version that is no version is refused", () => {
    expect(build({ database: { ...registryProps().database!, engineVersion: "sixteen" } })).toThrow(
      /database\.engineVersion: "sixteen" must be a PostgreSQL major version such as 16/,
    );
  });

  test("backups beyond 35 days are refused", () => {
    expect(build({ database: { ...registryProps().database!, backupRetentionDays: 40 } })).toThrow(
      /backupRetentionDays \(40\) must be a whole number from 1 to 35/,
    );
  });

  test("a key alias without alias/ is refused", () => {
    expect(build({ artifactKeyAlias: "mlops-dev-data" })).toThrow(
      /must be a KMS alias name starting with "alias\/"/,
    );
  });

  test("an artifact prefix with a trailing slash is refused", () => {
    expect(build({ artifactPrefix: "mlflow/" })).toThrow(
      /artifactPrefix "mlflow\/" must be an S3 key prefix/,
    );
  });

  test("a malformed maintenance window is refused", () => {
    expect(
      build({ backend: "sagemaker-managed", managedServer: { weeklyMaintenanceWindowStart: "sunday 3am" } }),
    ).toThrow(/weeklyMaintenanceWindowStart "sunday 3am" must be DDD:HH:MM/);
  });
});

describe("modelRegistryNames", () => {
  test("gives the names the cluster stack uses to find the registry", () => {
    expect(modelRegistryNames(NAMING)).toEqual({
      databaseIdentifier: "mlops-dev-mlflow",
      adminSecretName: "mlops-dev-mlflow-admin",
      workloadsSecretName: "mlops-dev-mlflow-workloads",
      serverRoleName: "mlops-dev-mlflow-server",
      trackingServerName: "mlops-dev-mlflow",
    });
  });
});

describe("ModelRegistry.grantAccess on a wrapped role", () => {
  test("names the policy after the construct that wraps the role", () => {
    const { stack, registry } = registryStack(registryProps());
    const wrapper = new Construct(stack, "InferenceRole");
    const role = new IamRole(wrapper, "Resource", { name: "mlops-dev-inference", assumeRolePolicy: "{}" });
    registry.grantAccess(role);
    const ids = Object.keys(JSON.parse(Testing.synth(stack)).resource.aws_iam_role_policy as object);
    expect(ids.some((id) => id.includes("AccessInferenceRole"))).toBe(true);
  });
});
