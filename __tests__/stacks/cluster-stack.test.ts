import { Testing } from "cdktf";
import { ClusterStack } from "../../stacks/cluster-stack";
import {
  configFor,
  onlyResource,
  resourcesOf,
  synthEnvironment,
  synthStack,
  type StackJson,
} from "../helpers/synth";

const values = (json: StackJson, type: string) => Object.values(resourcesOf(json, type));
const release = (json: StackJson, name: string) => values(json, "helm_release").find((r) => r.name === name);
const helmValues = (json: StackJson, name: string) =>
  JSON.parse((release(json, name)!.values as string[])[0]);
const manifests = (json: StackJson) =>
  values(json, "kubernetes_manifest").map(
    (m) =>
      m.manifest as {
        kind: string;
        metadata: { name: string; namespace?: string };
        spec: Record<string, unknown>;
      },
  );

describe("cluster stack", () => {
  // dev with two EFA groups at most 3 × 32 + 2 × 4 = 104 EFA interfaces, and one group without EFA.
  let efaCache: ReturnType<typeof synthEnvironment>["json"] | undefined;
  const efaJson = () =>
    (efaCache ??= synthEnvironment(
      configFor("dev", {
        cluster: {
          gpuNodeGroups: {
            p5: { instanceTypes: ["p5.48xlarge"], efa: true, maxSize: 3 },
            p4: { instanceTypes: ["p4d.24xlarge"], efa: true, maxSize: 2 },
            g6: { instanceTypes: ["g6.xlarge"] },
          },
        },
      }),
    ).json);
  let dev: StackJson;
  let devPlatform: StackJson;
  let prod: StackJson;
  let devStacks: ReturnType<typeof synthEnvironment>["stacks"];
  beforeAll(() => {
    const synthDev = synthEnvironment(configFor("dev"));
    dev = synthDev.json.cluster;
    devPlatform = synthDev.json.platform;
    devStacks = synthDev.stacks;
    prod = synthEnvironment(configFor("prod")).json.cluster;
  });

  it("is mlops-<env>-cluster and deploys after the platform stack", () => {
    expect(devStacks.cluster.node.id).toBe("mlops-dev-cluster");
    expect(devStacks.cluster.dependencies.map((d) => d.node.id)).toEqual(["mlops-dev-platform"]);
  });

  it("finds the cluster by name", () => {
    expect(dev.data!.aws_eks_cluster).toEqual({
      EksCluster: expect.objectContaining({ name: "mlops-dev-eks" }),
    });
  });

  it("configures the Kubernetes and Helm providers with exec authentication, not a stored token", () => {
    const exec = {
      api_version: "client.authentication.k8s.io/v1beta1",
      command: "aws",
      args: ["eks", "get-token", "--cluster-name", "mlops-dev-eks", "--region", "eu-west-1"],
    };
    const kubernetes = dev.provider!.kubernetes[0];
    expect(kubernetes).toMatchObject({
      host: "${data.aws_eks_cluster.EksCluster.endpoint}",
      cluster_ca_certificate:
        "${base64decode(data.aws_eks_cluster.EksCluster.certificate_authority[0].data)}",
      exec: [exec],
    });
    expect(kubernetes.token).toBeUndefined();
    expect(dev.provider!.helm[0]).toEqual({ kubernetes: expect.objectContaining({ exec }) });
  });

  it("gets the token for the environment's deploy role", () => {
    const exec = (prod.provider!.kubernetes[0].exec as { args: string[] }[])[0];
    expect(exec.args).toEqual(
      expect.arrayContaining(["--role-arn", "arn:aws:iam::333333333333:role/platform-deploy"]),
    );
  });

  it("creates the training, serving, mlflow and monitoring namespaces", () => {
    const names = values(dev, "kubernetes_namespace_v1").map((n) => (n.metadata as { name: string }).name);
    expect(names.sort()).toEqual(["mlflow", "monitoring", "serving", "training"]);
  });

  it("enforces Pod Security baseline, except in monitoring, whose host agents need privileged", () => {
    const levels = Object.fromEntries(
      values(dev, "kubernetes_namespace_v1").map((namespace) => {
        const { name, labels } = namespace.metadata as { name: string; labels: Record<string, string> };
        return [name, labels["pod-security.kubernetes.io/enforce"]];
      }),
    );
    expect(levels).toEqual({
      training: "baseline",
      serving: "baseline",
      mlflow: "baseline",
      monitoring: "privileged",
    });
    // The releases whose DaemonSets use the host's network, processes and files, which baseline refuses.
    const hostAgents = values(dev, "helm_release").filter((release) =>
      ["kube-prometheus-stack", "dcgm-exporter"].includes(release.name as string),
    );
    expect(hostAgents.map((release) => release.namespace)).toEqual(["monitoring", "monitoring"]);
  });

  it("limits GPU requests per namespace from the environment file", () => {
    const quotas = Object.fromEntries(
      Object.entries(resourcesOf(prod, "kubernetes_resource_quota_v1")).map(([key, quota]) => [
        key.replace(/GpuQuota.*$/, ""),
        (quota.spec as { hard: Record<string, string> }).hard["requests.nvidia.com/gpu"],
      ]),
    );
    expect(quotas).toEqual({ Training: "32", Serving: "8", Mlflow: "0", Monitoring: "0" });
  });

  it("gives containers default requests and a memory limit", () => {
    const limitRange = values(dev, "kubernetes_limit_range_v1")[0];
    expect(limitRange.spec).toEqual({
      limit: [
        { type: "Container", default_request: { cpu: "250m", memory: "512Mi" }, default: { memory: "2Gi" } },
      ],
    });
  });

  it("ranks serving above training", () => {
    const classes = Object.fromEntries(
      values(dev, "kubernetes_priority_class_v1").map((c) => [
        (c.metadata as { name: string }).name,
        c.value,
      ]),
    );
    expect(classes).toEqual({ training: 1000, serving: 100000 });
  });

  it("makes encrypted gp3 the default storage class, retained in prod", () => {
    expect(onlyResource(dev, "kubernetes_storage_class_v1")).toMatchObject({
      storage_provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true", fsType: "ext4" },
      volume_binding_mode: "WaitForFirstConsumer",
      reclaim_policy: "Delete",
      metadata: { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    });
    expect(onlyResource(prod, "kubernetes_storage_class_v1").reclaim_policy).toBe("Retain");
  });

  it("creates the training service account that the platform stack gives the data-reading role", () => {
    const accounts = Object.values(resourcesOf(dev, "kubernetes_service_account_v1")) as {
      metadata: unknown;
    }[];
    expect(accounts.map((account) => account.metadata)).toContainEqual(
      expect.objectContaining({ name: "training", namespace: expect.stringMatching(/TrainingNamespace/) }),
    );
  });

  it("installs the NVIDIA device plugin, pinned, only on AL2023 GPU nodes, tolerating the GPU taint", () => {
    expect(release(dev, "nvidia-device-plugin")).toMatchObject({
      repository: "https://nvidia.github.io/k8s-device-plugin",
      chart: "nvidia-device-plugin",
      version: "0.17.4",
    });
    const pluginValues = helmValues(dev, "nvidia-device-plugin");
    expect(pluginValues.nodeSelector).toEqual({ "mlops/nvidia-device-plugin": "daemonset" });
    expect(pluginValues.tolerations).toContainEqual({
      key: "nvidia.com/gpu",
      operator: "Exists",
      effect: "NoSchedule",
    });
  });

  it("leaves the device plugin out when every GPU node group runs Bottlerocket, which ships it", () => {
    const bottlerocket = synthEnvironment(
      configFor("dev", {
        cluster: {
          gpuNodeGroups: { g5: { instanceTypes: ["g5.xlarge"], amiType: "BOTTLEROCKET_x86_64_NVIDIA" } },
        },
      }),
    ).json.cluster;
    expect(release(bottlerocket, "nvidia-device-plugin")).toBeUndefined();
  });

  it("installs the EFA device plugin, pinned, only where a GPU group has EFA, on the nodes of those groups", () => {
    expect(release(dev, "aws-efa-k8s-device-plugin")).toBeUndefined();
    const efa = efaJson();
    expect(release(efa.cluster, "aws-efa-k8s-device-plugin")).toMatchObject({
      namespace: "kube-system",
      repository: "https://aws.github.io/eks-charts",
      chart: "aws-efa-k8s-device-plugin",
      version: "v0.5.20",
      atomic: true,
    });
    const pluginValues = helmValues(efa.cluster, "aws-efa-k8s-device-plugin");
    expect(pluginValues.tolerations).toEqual([
      { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
    // The node selector and the chart's node affinity (instead of its own list of instance types) both ask for
    // the label that the platform stack gives the nodes of EFA groups, and of no others.
    expect(pluginValues.nodeSelector).toEqual({ "vpc.amazonaws.com/efa.present": "true" });
    expect(pluginValues.supportedInstanceLabels).toEqual({
      keys: ["vpc.amazonaws.com/efa.present"],
      values: ["true"],
    });
    const labelsOf = (group: string) =>
      (
        values(efa.platform, "aws_eks_node_group").find(
          (g) => g.node_group_name === `mlops-dev-eks-gpu-${group}`,
        )!.labels as Record<string, string>
      )["vpc.amazonaws.com/efa.present"];
    expect([labelsOf("p5"), labelsOf("g6")]).toEqual(["true", undefined]);
  });

  it("installs the cluster autoscaler, pinned, with the Pod Identity service account and the scale-down delay", () => {
    expect(release(dev, "cluster-autoscaler")).toMatchObject({
      repository: "https://kubernetes.github.io/autoscaler",
      version: "9.47.0",
      namespace: "kube-system",
    });
    const autoscaler = helmValues(dev, "cluster-autoscaler");
    expect(autoscaler).toMatchObject({
      autoDiscovery: { clusterName: "mlops-dev-eks" },
      awsRegion: "eu-west-1",
      image: { tag: "v1.33.1" },
      rbac: { serviceAccount: { create: true, name: "cluster-autoscaler" } },
    });
    expect(autoscaler.extraArgs["scale-down-unneeded-time"]).toBe("5m");
    expect(helmValues(prod, "cluster-autoscaler").extraArgs["scale-down-unneeded-time"]).toBe("15m");
  });

  it("installs metrics-server, pinned by the schema, in kube-system on the system nodes, as cluster-critical", () => {
    expect(configFor("dev").cluster.charts.metricsServer).toBe("3.12.2");
    expect(release(dev, "metrics-server")).toMatchObject({
      namespace: "kube-system",
      repository: "https://kubernetes-sigs.github.io/metrics-server/",
      chart: "metrics-server",
      version: "3.12.2",
      atomic: true,
    });
    const metricsServer = helmValues(dev, "metrics-server");
    expect(metricsServer).toMatchObject({
      priorityClassName: "system-cluster-critical",
      nodeSelector: { "mlops/node-role": "system" },
      tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
    });
    // The chart's default arguments (InternalIP, the kubelet's reported port, its certificate verified) fit
    // EKS: nothing replaces or adds to them, `--kubelet-insecure-tls` least of all.
    expect(metricsServer.defaultArgs).toBeUndefined();
    expect(metricsServer.args).toBeUndefined();
    // The nodes it selects are the platform stack's system nodes.
    const system = values(devPlatform, "aws_eks_node_group").find(
      (group) => group.node_group_name === "mlops-dev-eks-system",
    )!;
    expect(system.labels).toMatchObject(metricsServer.nodeSelector);
  });

  it("takes the metrics-server chart version from cluster.charts", () => {
    const cluster = synthStack(
      new ClusterStack(Testing.app(), configFor("dev", { cluster: { charts: { metricsServer: "3.13.1" } } })),
    );
    expect(release(cluster, "metrics-server")!.version).toBe("3.13.1");
  });

  it("runs one metrics-server in dev, and two spread over nodes with a disruption budget in test and prod", () => {
    const test = synthStack(new ClusterStack(Testing.app(), configFor("test")));
    const replicas = (json: StackJson) => {
      const { replicas, podDisruptionBudget } = helmValues(json, "metrics-server");
      return { replicas, podDisruptionBudget };
    };
    // A budget over a single replica would block every drain of its node.
    expect(replicas(dev)).toEqual({ replicas: 1, podDisruptionBudget: { enabled: false, minAvailable: 1 } });
    for (const json of [test, prod])
      expect(replicas(json)).toEqual({
        replicas: 2,
        podDisruptionBudget: { enabled: true, minAvailable: 1 },
      });
    // The spread selects the chart's pods by the labels it gives them (release and chart both metrics-server).
    expect(helmValues(prod, "metrics-server").topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: {
          matchLabels: {
            "app.kubernetes.io/name": "metrics-server",
            "app.kubernetes.io/instance": "metrics-server",
          },
        },
      },
    ]);
  });

  it("serves the metrics API that the inference services' autoscalers scale on, and creates them after it", () => {
    const autoscalers = values(dev, "kubernetes_horizontal_pod_autoscaler_v2");
    expect(autoscalers.length).toBeGreaterThan(0);
    for (const autoscaler of autoscalers) {
      // A Resource metric (CPU) is read from metrics.k8s.io.
      const metrics = (autoscaler.spec as { metric: { type: string }[] }).metric;
      expect(metrics.map((metric) => metric.type)).toContain("Resource");
      expect(autoscaler.depends_on).toContain("helm_release.MetricsServer");
    }
    expect(release(dev, "metrics-server")).toBeDefined();
  });

  it("installs metrics-server without inference services too, for kubectl top and other autoscalers", () => {
    const valid = configFor("dev");
    const config = { ...valid, serving: { ...valid.serving, kubernetesServices: {} } };
    const cluster = synthStack(new ClusterStack(Testing.app(), config));
    expect(values(cluster, "kubernetes_horizontal_pod_autoscaler_v2")).toEqual([]);
    expect(release(cluster, "metrics-server")).toBeDefined();
  });

  it("installs Kueue, pinned, from its OCI registry", () => {
    expect(release(dev, "kueue")).toMatchObject({
      repository: "oci://registry.k8s.io/kueue/charts",
      chart: "kueue",
      version: "0.14.3",
      namespace: "kueue-system",
    });
  });

  it("gives each team a ClusterQueue with its GPU quota and a LocalQueue in its namespace", () => {
    const queue = manifests(prod).find((m) => m.kind === "ClusterQueue" && m.metadata.name === "research")!;
    expect(queue.spec.resourceGroups).toContainEqual({
      coveredResources: ["nvidia.com/gpu"],
      flavors: [{ name: "gpu", resources: [{ name: "nvidia.com/gpu", nominalQuota: "32" }] }],
    });
    expect(manifests(prod).find((m) => m.kind === "LocalQueue")).toMatchObject({
      metadata: { name: "research", namespace: "training" },
      spec: { clusterQueue: "research" },
    });
  });

  it("lets Kueue admit jobs that request EFA interfaces, up to every interface of the EFA groups at their maximum size", () => {
    const queue = manifests(efaJson().cluster).find(
      (m) => m.kind === "ClusterQueue" && m.metadata.name === "research",
    )!;
    // Kueue leaves a workload pending when it requests a resource its ClusterQueue does not cover.
    expect(queue.spec.resourceGroups).toContainEqual({
      coveredResources: ["nvidia.com/gpu", "vpc.amazonaws.com/efa"],
      flavors: [
        {
          name: "gpu",
          resources: [
            { name: "nvidia.com/gpu", nominalQuota: "4" },
            { name: "vpc.amazonaws.com/efa", nominalQuota: "104" },
          ],
        },
      ],
    });
  });

  it("refuses to count the EFA interfaces of an instance type without EFA cards, even on its own", () => {
    // The environment schema refuses such a group, and in the app the platform stack's GpuNodeGroup would
    // too: a code user's configuration, built past the schema.
    const valid = configFor("dev");
    const g5 = { ...valid.cluster.gpuNodeGroups.g5, instanceTypes: ["g5.xlarge"], efa: true };
    const config = { ...valid, cluster: { ...valid.cluster, gpuNodeGroups: { g5 } } };
    expect(() => new ClusterStack(Testing.app(), config)).toThrow(
      /cluster.gpuNodeGroups.g5: efa needs an instance type with EFA cards/,
    );
  });

  it("steers GPU workloads admitted by Kueue to the tainted GPU nodes", () => {
    expect(
      manifests(dev).find((m) => m.kind === "ResourceFlavor" && m.metadata.name === "gpu")!.spec,
    ).toEqual({
      nodeLabels: { "nvidia.com/gpu.present": "true" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    });
  });

  it("creates the Kueue queues after Kueue itself", () => {
    for (const manifest of values(dev, "kubernetes_manifest"))
      expect(manifest.depends_on).toEqual(["helm_release.Kueue"]);
  });
});
