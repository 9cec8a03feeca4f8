import { TerraformStack, Testing } from "cdktf";
import { Naming } from "../../../constructs/core/naming";
import {
  METRICS_LABEL,
  METRICS_LABEL_VALUE,
  METRICS_PORT_NAME,
} from "../../../constructs/monitoring/conventions";
import {
  KubernetesInferenceService,
  type InferenceServiceIdentityProps,
  type KubernetesInferenceServiceProps,
} from "../../../constructs/serving/kubernetes-inference-service";
import { onlyResource, resourcesOf, type StackJson } from "../../helpers/synth";

const IMAGE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-dev-inference:v1.4.2";

function synth(overrides: Partial<KubernetesInferenceServiceProps> = {}): StackJson {
  const stack = new TerraformStack(Testing.app(), "test");
  new KubernetesInferenceService(stack, "Churn", { name: "churn", image: IMAGE, ...overrides });
  return JSON.parse(Testing.synth(stack)) as StackJson;
}

type PodSpec = Record<string, unknown> & { container: Record<string, unknown>[] };

function podSpec(json: StackJson): PodSpec {
  const deployment = onlyResource(json, "kubernetes_deployment_v1") as {
    spec: { template: { spec: PodSpec } };
  };
  return deployment.spec.template.spec;
}

describe("KubernetesInferenceService (defaults, CPU)", () => {
  let json: StackJson;
  let deployment: Record<string, unknown> & { spec: Record<string, unknown> };
  let pod: PodSpec;
  let container: Record<string, unknown>;
  beforeAll(() => {
    json = synth();
    deployment = onlyResource(json, "kubernetes_deployment_v1") as typeof deployment;
    pod = podSpec(json);
    container = pod.container[0];
  });

  test("every object lives in the serving namespace under the service's name", () => {
    for (const type of [
      "kubernetes_deployment_v1",
      "kubernetes_service_v1",
      "kubernetes_service_account_v1",
      "kubernetes_horizontal_pod_autoscaler_v2",
      "kubernetes_pod_disruption_budget_v1",
    ]) {
      expect(onlyResource(json, type).metadata).toMatchObject({ name: "churn", namespace: "serving" });
    }
  });

  test("the pod runs as a non-root user with the RuntimeDefault seccomp profile", () => {
    expect(pod.security_context).toEqual({
      run_as_non_root: true,
      run_as_user: "10001",
      run_as_group: "10001",
      fs_group: "10001",
      seccomp_profile: { type: "RuntimeDefault" },
    });
  });

  test("the container has a read-only root filesystem, no capabilities and no privilege escalation", () => {
    expect(container.security_context).toEqual({
      run_as_non_root: true,
      run_as_user: "10001",
      read_only_root_filesystem: true,
      allow_privilege_escalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      seccomp_profile: { type: "RuntimeDefault" },
    });
  });

  test("writable space is emptyDir volumes for /tmp and the model cache", () => {
    expect(container.volume_mount).toEqual([
      { name: "tmp", mount_path: "/tmp" },
      { name: "model-cache", mount_path: "/models" },
    ]);
    expect(pod.volume).toEqual([
      { name: "tmp", empty_dir: { size_limit: "1Gi" } },
      { name: "model-cache", empty_dir: { size_limit: "20Gi" } },
    ]);
  });

  test("liveness, readiness and startup probes check the model server over HTTP", () => {
    expect(container.liveness_probe).toMatchObject({
      http_get: { path: "/health", port: "http" },
      period_seconds: 10,
    });
    expect(container.readiness_probe).toMatchObject({
      http_get: { path: "/ready", port: "http" },
      period_seconds: 5,
    });
    expect(container.startup_probe).toMatchObject({
      http_get: { path: "/health", port: "http" },
      period_seconds: 10,
      failure_threshold: 60,
    });
  });

  test("the image is the pinned one", () => {
    expect(container.image).toBe(IMAGE);
  });

  test("requests equal limits and no GPU is asked for", () => {
    expect(container.resources).toEqual({
      requests: { cpu: "1", memory: "4Gi" },
      limits: { cpu: "1", memory: "4Gi" },
    });
    expect(pod.toleration).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
  });

  test("rolling updates never take a replica away before its replacement is ready", () => {
    expect(deployment.spec.strategy).toEqual({
      type: "RollingUpdate",
      rolling_update: { max_unavailable: "0", max_surge: "1" },
    });
  });

  test("the service account token is not mounted", () => {
    expect(pod.automount_service_account_token).toBe(false);
    expect(onlyResource(json, "kubernetes_service_account_v1").automount_service_account_token).toBe(false);
  });

  test("the autoscaler owns the replica count between 2 and 4", () => {
    expect(onlyResource(json, "kubernetes_horizontal_pod_autoscaler_v2").spec).toMatchObject({
      min_replicas: 2,
      max_replicas: 4,
    });
    expect(deployment.lifecycle).toEqual({ ignore_changes: ["spec[0].replicas"] });
  });

  test("a disruption budget lets one replica go at a time", () => {
    expect(onlyResource(json, "kubernetes_pod_disruption_budget_v1").spec).toEqual({
      max_unavailable: "1",
      selector: { match_labels: { "app.kubernetes.io/name": "churn" } },
    });
  });

  test("the service is internal to the cluster", () => {
    expect(onlyResource(json, "kubernetes_service_v1").spec).toMatchObject({ type: "ClusterIP" });
    expect(resourcesOf(json, "kubernetes_ingress_v1")).toEqual({});
  });

  test("replicas are not spread across zones unless asked", () => {
    const keys = (pod.topology_spread_constraint as { topology_key: string }[]).map((c) => c.topology_key);
    expect(keys).toEqual(["kubernetes.io/hostname"]);
  });
});

describe("KubernetesInferenceService with GPUs, zone spread and ingress", () => {
  let json: StackJson;
  let pod: PodSpec;
  beforeAll(() => {
    json = synth({ gpus: 1, spreadAcrossZones: true, ingress: { host: "churn.internal.example.com" } });
    pod = podSpec(json);
  });

  test("GPUs are requested and limited alike", () => {
    const resources = pod.container[0].resources as Record<string, Record<string, string>>;
    expect(resources.requests["nvidia.com/gpu"]).toBe("1");
    expect(resources.limits["nvidia.com/gpu"]).toBe("1");
  });

  test("the pod tolerates the GPU taint and requires GPU nodes", () => {
    expect(pod.toleration).toEqual([
      { key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" },
    ]);
    expect(pod.affinity).toEqual({
      node_affinity: {
        required_during_scheduling_ignored_during_execution: {
          node_selector_term: [
            { match_expressions: [{ key: "nvidia.com/gpu.present", operator: "In", values: ["true"] }] },
          ],
        },
      },
    });
  });

  test("replicas are spread across zones", () => {
    expect(pod.topology_spread_constraint).toContainEqual(
      expect.objectContaining({
        topology_key: "topology.kubernetes.io/zone",
        when_unsatisfiable: "DoNotSchedule",
        max_skew: 1,
      }),
    );
  });

  test("the ingress is internal", () => {
    const ingress = onlyResource(json, "kubernetes_ingress_v1") as {
      metadata: { annotations: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(ingress.metadata.annotations["alb.ingress.kubernetes.io/scheme"]).toBe("internal");
    expect(ingress.spec).toMatchObject({
      ingress_class_name: "alb",
      rule: [{ host: "churn.internal.example.com" }],
    });
  });
});

type ServicePort = { name: string; port: number; target_port: string; protocol: string };

function serviceOf(json: StackJson): {
  metadata: { namespace: string; labels: Record<string, string> };
  spec: { port: ServicePort[] };
} {
  return onlyResource(json, "kubernetes_service_v1") as ReturnType<typeof serviceOf>;
}

describe("KubernetesInferenceService metrics", () => {
  test("by default the Service is what the inference-services ServiceMonitor selects, on the serving port", () => {
    const json = synth();
    const service = serviceOf(json);
    // The ServiceMonitor selects Services in namespace serving by this label and scrapes the port named so.
    expect(service.metadata.namespace).toBe("serving");
    expect(service.metadata.labels[METRICS_LABEL]).toBe(METRICS_LABEL_VALUE);
    const metrics = service.spec.port.filter((p) => p.name === METRICS_PORT_NAME);
    expect(metrics).toEqual([{ name: METRICS_PORT_NAME, port: 8080, target_port: "http", protocol: "TCP" }]);
    // Metrics are served on the API port: no extra container port.
    expect(podSpec(json).container[0].port).toEqual([
      { name: "http", container_port: 8080, protocol: "TCP" },
    ]);
  });

  test("the http Service port stays port 80 and the metrics port never collides with it", () => {
    const ports = serviceOf(synth({ port: 1024 })).spec.port;
    expect(ports.map((p) => [p.name, p.port])).toEqual([
      ["http", 80],
      [METRICS_PORT_NAME, 1024],
    ]);
  });

  test("the metrics port follows a custom serving port", () => {
    const ports = serviceOf(synth({ port: 9000 })).spec.port;
    expect(ports.find((p) => p.name === METRICS_PORT_NAME)).toMatchObject({
      port: 9000,
      target_port: "http",
    });
  });

  test("a separate metrics port is a container port named metrics that the Service targets", () => {
    const json = synth({ metricsPort: 9102 });
    expect(podSpec(json).container[0].port).toEqual([
      { name: "http", container_port: 8080, protocol: "TCP" },
      { name: METRICS_PORT_NAME, container_port: 9102, protocol: "TCP" },
    ]);
    const service = serviceOf(json);
    expect(service.metadata.labels[METRICS_LABEL]).toBe(METRICS_LABEL_VALUE);
    expect(service.spec.port).toEqual([
      { name: "http", port: 80, target_port: "http", protocol: "TCP" },
      { name: METRICS_PORT_NAME, port: 9102, target_port: METRICS_PORT_NAME, protocol: "TCP" },
    ]);
  });

  test("false leaves the label and the metrics port out", () => {
    const json = synth({ metricsPort: false });
    const service = serviceOf(json);
    expect(service.metadata.labels).not.toHaveProperty(METRICS_LABEL);
    expect(service.spec.port).toEqual([{ name: "http", port: 80, target_port: "http", protocol: "TCP" }]);
    expect(podSpec(json).container[0].port).toEqual([
      { name: "http", container_port: 8080, protocol: "TCP" },
    ]);
  });

  test("only the Service carries the metrics label", () => {
    const json = synth();
    for (const type of ["kubernetes_deployment_v1", "kubernetes_service_account_v1"]) {
      expect(
        (onlyResource(json, type).metadata as { labels: Record<string, string> }).labels,
      ).not.toHaveProperty(METRICS_LABEL);
    }
  });
});

describe("KubernetesInferenceService environment variables", () => {
  test("come after the model cache directory, ordered by code unit whatever the machine's locale", () => {
    const container = podSpec(
      synth({ environment: { MODEL_NAME: "churn", aa: "2", MODELS: "all", LOG_LEVEL: "info" } }),
    ).container[0];
    expect(container.env).toEqual([
      { name: "MODEL_CACHE_DIR", value: "/models" },
      { name: "LOG_LEVEL", value: "info" },
      { name: "MODELS", value: "all" },
      { name: "MODEL_NAME", value: "churn" },
      { name: "aa", value: "2" },
    ]);
  });
});

describe("KubernetesInferenceService rejects", () => {
  test.each([
    ["the latest tag", { image: "repo/x:latest" }, /tag "latest" moves/],
    ["an image without a tag", { image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/x" }, /has no tag/],
    ["a registry port mistaken for a tag", { image: "registry:5000/x" }, /has no tag/],
    ["max below min", { minReplicas: 3, maxReplicas: 2 }, /at least minReplicas \(3\)/],
    ["a privileged port", { port: 80 }, /non-root process/],
    ["a privileged metrics port", { metricsPort: 80 }, /metricsPort 80 must be from 1024 to 65535/],
    ["a metrics port above 65535", { metricsPort: 70000 }, /metricsPort 70000 must be from 1024/],
    ["a fractional metrics port", { metricsPort: 9102.5 }, /metricsPort 9102.5 must be/],
    ["a bad quantity", { memory: "4 GB" }, /Kubernetes quantity/],
    ["a root user", { runAsUser: 0 }, /non-root user id/],
  ] as [string, Partial<KubernetesInferenceServiceProps>, RegExp][])("%s", (_case, overrides, message) => {
    expect(() => synth(overrides)).toThrow(message);
  });

  test("accepts an image pinned by digest", () => {
    const image = `${IMAGE.split(":")[0]}@sha256:${"b".repeat(64)}`;
    expect(podSpec(synth({ image })).container[0].image).toBe(image);
  });
});

describe("KubernetesInferenceService.createPodIdentityRole", () => {
  const synthRole = (cluster: Partial<InferenceServiceIdentityProps>): StackJson => {
    const stack = new TerraformStack(Testing.app(), "platform");
    KubernetesInferenceService.createPodIdentityRole(stack, "ChurnServingRole", {
      name: "churn",
      naming: new Naming({ project: "mlops", environment: "dev" }),
      location: { accountId: "111111111111", region: "eu-west-1" },
      modelArtifacts: {
        bucketName: "mlops-dev-model-artifacts",
        prefix: "churn/v12",
        key: { aliasName: "mlops-dev-data" },
      },
      ...cluster,
    });
    return JSON.parse(Testing.synth(stack)) as StackJson;
  };
  const trustOf = (stack: StackJson): Record<string, unknown>[] =>
    (
      JSON.parse(onlyResource(stack, "aws_iam_role").assume_role_policy as string) as {
        Statement: Record<string, unknown>[];
      }
    ).Statement;
  let json: StackJson;
  beforeAll(() => {
    json = synthRole({ clusterName: "mlops-dev" });
  });

  test("the role is trusted by EKS Pod Identity of this account, for pods of the cluster it is associated in", () => {
    expect(onlyResource(json, "aws_iam_role").name).toBe("mlops-dev-serving-churn");
    // Another cluster of the account (dev and test may share one) cannot hand the role to its pods.
    expect(trustOf(json)).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: { "aws:SourceAccount": "111111111111" },
          ArnEquals: { "aws:SourceArn": "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev" },
        },
      },
    ]);
  });

  test("the role is trusted by pods of the cluster given by ARN, when the cluster makes the association", () => {
    const clusterArn = "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev-eks";
    const stack = synthRole({ clusterArn });
    expect(trustOf(stack)[0].Condition).toEqual({
      StringEquals: { "aws:SourceAccount": "111111111111" },
      ArnEquals: { "aws:SourceArn": clusterArn },
    });
    expect(resourcesOf(stack, "aws_eks_pod_identity_association")).toEqual({});
  });

  test("the role is trusted by any cluster of this account only when no cluster is given", () => {
    expect(trustOf(synthRole({}))[0].Condition).toEqual({
      StringEquals: { "aws:SourceAccount": "111111111111" },
    });
  });

  test("the role reads the model's prefix only", () => {
    const statements = JSON.parse(onlyResource(json, "aws_iam_role_policy").policy as string).Statement as {
      Sid: string;
      Resource: unknown;
    }[];
    expect(statements.find((s) => s.Sid === "ReadModelArtifacts")!.Resource).toBe(
      "arn:aws:s3:::mlops-dev-model-artifacts/churn/v12/*",
    );
    expect(statements.map((s) => s.Sid)).toEqual([
      "ReadModelArtifacts",
      "ListModelArtifacts",
      "DecryptModelArtifacts",
    ]);
  });

  test("the role is associated with the service's account in the serving namespace", () => {
    expect(onlyResource(json, "aws_eks_pod_identity_association")).toMatchObject({
      cluster_name: "mlops-dev",
      namespace: "serving",
      service_account: "churn",
    });
  });
});
