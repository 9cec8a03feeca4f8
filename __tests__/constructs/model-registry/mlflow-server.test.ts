import { TerraformStack, Testing } from "cdktf";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { MlflowServer, type MlflowServerProps } from "../../../constructs/model-registry/mlflow-server";
import {
  METRICS_LABEL,
  METRICS_LABEL_VALUE,
  METRICS_PORT_NAME,
  MLFLOW_METRICS,
} from "../../../constructs/monitoring/conventions";

const MLFLOW_METRICS_SERVICE = MLFLOW_METRICS.job;
import { onlyResource, resourcesOf, synthStack, type StackJson } from "../../helpers/synth";

const REPOSITORY = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-dev-mlflow";

function serverProps(overrides: Partial<MlflowServerProps> = {}): MlflowServerProps {
  return {
    namespace: "mlflow",
    region: "eu-west-1",
    image: { repositoryUrl: REPOSITORY, tag: "3.1.1-2" },
    databaseIdentifier: "mlops-dev-mlflow",
    adminSecretName: "mlops-dev-mlflow-admin",
    workloadsSecretName: "mlops-dev-mlflow-workloads",
    artifactStoreUri: "s3://mlops-dev-model-artifacts/mlflow",
    ...overrides,
  };
}

function synthServer(props: MlflowServerProps): StackJson {
  const stack = new TerraformStack(Testing.app(), "cluster-test");
  new MlflowServer(stack, "MlflowServer", props);
  return synthStack(stack);
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("MlflowServer with defaults", () => {
  let json: StackJson;
  let deployment: Json;
  let pod: Json;
  let container: Json;
  beforeAll(() => {
    json = synthServer(serverProps());
    deployment = onlyResource(json, "kubernetes_deployment_v1");
    pod = deployment.spec.template.spec;
    container = pod.container[0];
  });

  test("runs our image by its release tag", () => {
    expect(container.image).toBe(`${REPOSITORY}:3.1.1-2`);
  });

  test("runs 2 replicas spread across zones", () => {
    expect(deployment.spec.replicas).toBe("2");
    expect(pod.topology_spread_constraint[0]).toMatchObject({
      topology_key: "topology.kubernetes.io/zone",
      max_skew: 1,
    });
  });

  test("keeps a pod running through node drains with a PodDisruptionBudget", () => {
    const pdb = onlyResource(json, "kubernetes_pod_disruption_budget_v1") as Json;
    expect(pdb.spec.min_available).toBe("1");
    expect(pdb.spec.selector.match_labels).toEqual(deployment.spec.selector.match_labels);
  });

  test("has startup, readiness and liveness probes", () => {
    expect(container.startup_probe.http_get).toMatchObject({ path: "/health", port: "http" });
    expect(container.readiness_probe.http_get).toMatchObject({ path: "/health", port: "http" });
    expect(container.liveness_probe.exec.command).toEqual(["python", "/opt/mlflow/healthcheck.py"]);
  });

  test("requests and limits CPU and memory", () => {
    expect(container.resources).toEqual({
      requests: { cpu: "500m", memory: "1Gi" },
      limits: { cpu: "2", memory: "2Gi" },
    });
  });

  test("runs as a non-root user without privilege escalation, capabilities or a writable root", () => {
    expect(pod.security_context).toMatchObject({
      run_as_non_root: true,
      run_as_user: "10001",
      seccomp_profile: { type: "RuntimeDefault" },
    });
    expect(container.security_context).toMatchObject({
      run_as_non_root: true,
      allow_privilege_escalation: false,
      privileged: false,
      read_only_root_filesystem: true,
      capabilities: { drop: ["ALL"] },
      seccomp_profile: { type: "RuntimeDefault" },
    });
  });

  test("mounts emptyDirs on /scratch and the metrics directory, the only writable paths", () => {
    expect(container.volume_mount).toEqual([
      { name: "scratch", mount_path: "/scratch" },
      { name: "prometheus-multiproc", mount_path: "/prometheus-multiproc" },
    ]);
    expect(pod.volume).toEqual([
      { name: "scratch", empty_dir: { size_limit: "2Gi" } },
      { name: "prometheus-multiproc", empty_dir: { size_limit: "256Mi" } },
    ]);
  });

  test("asks the entrypoint for --expose-prometheus in the mounted directory, served on the metrics port", () => {
    const env = Object.fromEntries(
      (container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      MLFLOW_PROMETHEUS_DIR: "/prometheus-multiproc",
      MLFLOW_METRICS_PORT: "9102",
    });
  });

  test("names the container's API and metrics ports", () => {
    expect(container.port).toEqual([
      { name: "http", container_port: 5000, protocol: "TCP" },
      { name: "metrics", container_port: 9102, protocol: "TCP" },
    ]);
  });

  test("exposes only the metrics port on a Service labelled for the platform's ServiceMonitor", () => {
    const service = Object.values(resourcesOf(json, "kubernetes_service_v1")).find(
      (s: Json) => s.metadata.name === MLFLOW_METRICS_SERVICE,
    ) as Json;
    expect(service.metadata.labels).toMatchObject({ [METRICS_LABEL]: METRICS_LABEL_VALUE });
    expect(service.spec).toMatchObject({
      type: "ClusterIP",
      selector: deployment.spec.selector.match_labels,
      port: [{ name: METRICS_PORT_NAME, port: 9102, target_port: METRICS_PORT_NAME }],
    });
  });

  test("labels no other Service for scraping (the API port needs basic-auth)", () => {
    const labelled = Object.values(resourcesOf(json, "kubernetes_service_v1"))
      .filter((s: Json) => s.metadata.labels?.[METRICS_LABEL] === METRICS_LABEL_VALUE)
      .map((s: Json) => s.metadata.name);
    expect(labelled).toEqual([MLFLOW_METRICS_SERVICE]);
  });

  test("lets only the monitoring namespace reach the metrics port, and anyone the API port", () => {
    const policy = onlyResource(json, "kubernetes_network_policy_v1") as Json;
    expect(policy.spec.pod_selector.match_labels).toEqual(deployment.spec.selector.match_labels);
    expect(policy.spec.policy_types).toEqual(["Ingress"]);
    expect(policy.spec.ingress).toEqual([
      { ports: [{ port: "http", protocol: "TCP" }] },
      {
        ports: [{ port: "metrics", protocol: "TCP" }],
        from: [{ namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "monitoring" } } }],
      },
    ]);
  });

  test("runs as its own service account without a Kubernetes API token", () => {
    const account = onlyResource(json, "kubernetes_service_account_v1") as Json;
    expect(account.metadata).toMatchObject({ name: "mlflow", namespace: "mlflow" });
    expect(account.automount_service_account_token).toBe(false);
    expect(pod.service_account_name).toMatch(/kubernetes_service_account_v1\.\w+\.metadata\[0\]\.name/);
    expect(pod.automount_service_account_token).toBe(false);
  });

  test("tells the server where to find its database, secrets and artifact store, but no credential", () => {
    const env = Object.fromEntries(
      (container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      MLFLOW_DB_INSTANCE_IDENTIFIER: "mlops-dev-mlflow",
      MLFLOW_ADMIN_SECRET_ID: "mlops-dev-mlflow-admin",
      MLFLOW_WORKLOADS_SECRET_ID: "mlops-dev-mlflow-workloads",
      MLFLOW_ARTIFACTS_DESTINATION: "s3://mlops-dev-model-artifacts/mlflow",
      AWS_REGION: "eu-west-1",
    });
    expect(Object.keys(env).filter((name) => /PASSWORD|TOKEN|KEY/i.test(name))).toEqual([]);
  });

  test("exposes a ClusterIP service on port 5000", () => {
    const service = Object.values(resourcesOf(json, "kubernetes_service_v1")).find(
      (s: Json) => s.metadata.name === "mlflow",
    ) as Json;
    expect(service.spec).toMatchObject({ type: "ClusterIP", port: [{ port: 5000, target_port: "http" }] });
  });

  test("exposes an internal Network Load Balancer, never an internet-facing one", () => {
    const lb = Object.values(resourcesOf(json, "kubernetes_service_v1")).find(
      (s: Json) => s.spec.type === "LoadBalancer",
    ) as Json;
    expect(lb.metadata.annotations).toMatchObject({
      "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
      "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    });
    expect(JSON.stringify(json)).not.toMatch(/internet-facing/);
    expect(resourcesOf(json, "kubernetes_ingress_v1")).toEqual({});
  });

  test("outputs the in-cluster and load balancer tracking URIs", () => {
    expect(json.output?.mlflow_in_cluster_tracking_uri.value).toBe(
      "http://mlflow.mlflow.svc.cluster.local:5000",
    );
    expect(json.output?.mlflow_tracking_uri.value).toMatch(
      /^http:\/\/\$\{kubernetes_service_v1\.\w+\.status\[0\]\.load_balancer\[0\]\.ingress\[0\]\.hostname\}$/,
    );
  });
});

describe("MlflowServer with one replica", () => {
  test("has no PodDisruptionBudget (it would block every drain)", () => {
    const json = synthServer(serverProps({ replicas: 1 }));
    expect(resourcesOf(json, "kubernetes_pod_disruption_budget_v1")).toEqual({});
    expect((onlyResource(json, "kubernetes_deployment_v1") as Json).spec.replicas).toBe("1");
  });
});

describe("MlflowServer image by digest", () => {
  test("runs the image by digest", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const json = synthServer(serverProps({ image: { repositoryUrl: REPOSITORY, digest } }));
    expect(
      (onlyResource(json, "kubernetes_deployment_v1") as Json).spec.template.spec.container[0].image,
    ).toBe(`${REPOSITORY}@${digest}`);
  });
});

describe("MlflowServer with TLS", () => {
  test("listens on 443 with the certificate on the internal NLB", () => {
    const certificateArn = "arn:aws:acm:eu-west-1:111111111111:certificate/abc";
    const json = synthServer(
      serverProps({ loadBalancer: { certificateArn, sourceCidrs: ["10.10.0.0/16"] } }),
    );
    const lb = Object.values(resourcesOf(json, "kubernetes_service_v1")).find(
      (s: Json) => s.spec.type === "LoadBalancer",
    ) as Json;
    expect(lb.metadata.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"]).toBe(
      certificateArn,
    );
    expect(lb.spec.port[0]).toMatchObject({ port: 443, target_port: "http" });
    expect(lb.spec.load_balancer_source_ranges).toEqual(["10.10.0.0/16"]);
    expect(json.output?.mlflow_tracking_uri.value).toMatch(/^https:\/\//);
  });
});

describe("MlflowServer with an OIDC identity provider", () => {
  let json: StackJson;
  let annotations: Record<string, string>;
  beforeAll(() => {
    json = synthServer(
      serverProps({
        loadBalancer: {
          certificateArn: "arn:aws:acm:eu-west-1:111111111111:certificate/abc",
          oidc: {
            issuer: "https://login.example.com",
            authorizationEndpoint: "https://login.example.com/authorize",
            tokenEndpoint: "https://login.example.com/token",
            userInfoEndpoint: "https://login.example.com/userinfo",
            clientSecretName: "mlflow-oidc-client",
          },
        },
      }),
    );
    annotations = (onlyResource(json, "kubernetes_ingress_v1") as Json).metadata.annotations;
  });

  test("authenticates at an internal Application Load Balancer", () => {
    expect(annotations["alb.ingress.kubernetes.io/scheme"]).toBe("internal");
    expect(annotations["alb.ingress.kubernetes.io/auth-type"]).toBe("oidc");
    expect(JSON.parse(annotations["alb.ingress.kubernetes.io/auth-idp-oidc"])).toEqual({
      issuer: "https://login.example.com",
      authorizationEndpoint: "https://login.example.com/authorize",
      tokenEndpoint: "https://login.example.com/token",
      userInfoEndpoint: "https://login.example.com/userinfo",
      secretName: "mlflow-oidc-client",
    });
  });

  test("listens on HTTPS only", () => {
    expect(JSON.parse(annotations["alb.ingress.kubernetes.io/listen-ports"])).toEqual([{ HTTPS: 443 }]);
  });

  test("replaces the Network Load Balancer", () => {
    const types = Object.values(resourcesOf(json, "kubernetes_service_v1")).map((s: Json) => s.spec.type);
    expect(types).not.toContain("LoadBalancer");
  });
});

describe("MlflowServer with metrics on another port and scraper namespace", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthServer(serverProps({ metrics: { port: 9200, scraperNamespace: "observability" } }));
  });

  test("serves the metrics on that port", () => {
    const service = Object.values(resourcesOf(json, "kubernetes_service_v1")).find(
      (s: Json) => s.metadata.name === MLFLOW_METRICS_SERVICE,
    ) as Json;
    expect(service.spec.port[0]).toMatchObject({ port: 9200, target_port: "metrics" });
  });

  test("opens the metrics port to that namespace", () => {
    const policy = onlyResource(json, "kubernetes_network_policy_v1") as Json;
    expect(policy.spec.ingress[1].from[0].namespace_selector.match_labels).toEqual({
      "kubernetes.io/metadata.name": "observability",
    });
  });
});

describe("MlflowServer without metrics", () => {
  let json: StackJson;
  let container: Json;
  beforeAll(() => {
    json = synthServer(serverProps({ metrics: { enabled: false } }));
    container = (onlyResource(json, "kubernetes_deployment_v1") as Json).spec.template.spec.container[0];
  });

  test("has no metrics Service, port, directory or exporter settings", () => {
    const names = Object.values(resourcesOf(json, "kubernetes_service_v1")).map((s: Json) => s.metadata.name);
    expect(names).not.toContain(MLFLOW_METRICS_SERVICE);
    expect(container.port.map((p: Json) => p.name)).toEqual(["http"]);
    expect(container.volume_mount.map((m: Json) => m.name)).toEqual(["scratch"]);
    expect(container.env.map((e: Json) => e.name)).not.toContain("MLFLOW_PROMETHEUS_DIR");
  });

  test("still limits ingress to the API port", () => {
    const policy = onlyResource(json, "kubernetes_network_policy_v1") as Json;
    expect(policy.spec.ingress).toEqual([{ ports: [{ port: "http", protocol: "TCP" }] }]);
  });
});

describe("MlflowServer errors", () => {
  const build = (overrides: Partial<MlflowServerProps>) => () => synthServer(serverProps(overrides));

  test("refuses the latest tag", () => {
    expect(build({ image: { repositoryUrl: REPOSITORY, tag: "latest" } })).toThrow(
      /image\.tag must not be "latest"/,
    );
  });

  test("refuses both a tag and a digest", () => {
    expect(
      build({ image: { repositoryUrl: REPOSITORY, tag: "1", digest: `sha256:${"a".repeat(64)}` } }),
    ).toThrow(/exactly one of tag and digest/);
  });

  test("refuses a malformed digest", () => {
    expect(build({ image: { repositoryUrl: REPOSITORY, digest: "sha256:abc" } })).toThrow(
      /image\.digest "sha256:abc" must be sha256:/,
    );
  });

  test("refuses a repository URL that carries a tag", () => {
    expect(build({ image: { repositoryUrl: `${REPOSITORY}:1`, tag: "1" } })).toThrow(
      /must be a repository URL without tag or digest/,
    );
  });

  test("refuses zero replicas", () => {
    expect(build({ replicas: 0 })).toThrow(/replicas \(0\) must be a whole number of at least 1/);
  });

  test("refuses OIDC without a certificate", () => {
    expect(
      build({
        loadBalancer: {
          oidc: {
            issuer: "i",
            authorizationEndpoint: "a",
            tokenEndpoint: "t",
            userInfoEndpoint: "u",
            clientSecretName: "s",
          },
        },
      }),
    ).toThrow(/loadBalancer\.oidc needs loadBalancer\.certificateArn/);
  });

  test("refuses a metrics port equal to the API port", () => {
    expect(build({ metrics: { port: 5000 } })).toThrow(/metrics\.port \(5000\) must be from 1024 to 65535/);
  });

  test("refuses a privileged metrics port", () => {
    expect(build({ metrics: { port: 80 } })).toThrow(/metrics\.port \(80\)/);
  });

  test("refuses a scraper namespace that is not a DNS label", () => {
    expect(build({ metrics: { scraperNamespace: "Monitoring" } })).toThrow(
      /metrics\.scraperNamespace "Monitoring" must be a Kubernetes namespace name/,
    );
  });

  test("refuses an artifact store that is not S3", () => {
    expect(build({ artifactStoreUri: "file:///srv/artifacts" })).toThrow(
      /artifactStoreUri "file:\/\/\/srv\/artifacts" must be s3:/,
    );
  });
});

describe("MlflowServer with values known only at apply", () => {
  test("accepts the namespace resource's name, so the namespace is created first", () => {
    const stack = new TerraformStack(Testing.app(), "cluster-test");
    const namespace = new NamespaceV1(stack, "Namespace", { metadata: { name: "mlflow" } });
    new MlflowServer(stack, "MlflowServer", serverProps({ namespace: namespace.metadata.name }));
    const deployment = onlyResource(synthStack(stack), "kubernetes_deployment_v1") as Json;
    expect(deployment.metadata.namespace).toMatch(
      /^\$\{kubernetes_namespace_v1\.\w+\.metadata\[0\]\.name\}$/,
    );
  });
});
