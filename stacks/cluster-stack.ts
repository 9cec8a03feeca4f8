import { DataAwsEksCluster } from "@cdktf/provider-aws/lib/data-aws-eks-cluster";
import { HelmProvider } from "@cdktf/provider-helm/lib/provider";
import { Release } from "@cdktf/provider-helm/lib/release";
import { LimitRangeV1 } from "@cdktf/provider-kubernetes/lib/limit-range-v1";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { PriorityClassV1 } from "@cdktf/provider-kubernetes/lib/priority-class-v1";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { ResourceQuotaV1 } from "@cdktf/provider-kubernetes/lib/resource-quota-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { StorageClassV1 } from "@cdktf/provider-kubernetes/lib/storage-class-v1";
import { dependable, Fn } from "cdktf";
import type { Construct } from "constructs";
import { DataBucketReference } from "../constructs/data/data-bucket-reference";
import { MlflowServer } from "../constructs/model-registry/mlflow-server";
import { modelRegistryNames } from "../constructs/model-registry/model-registry";
import { ContainerRegistry } from "../constructs/registry/container-registry";
import type { KubernetesInferenceService } from "../constructs/serving/kubernetes-inference-service";
import { EFA_NETWORK_CARDS } from "../constructs/training/gpu-instance-types";
import {
  DEVICE_PLUGIN_LABEL,
  EFA_LABEL,
  EFA_RESOURCE,
  GPU_TAINT,
} from "../constructs/training/gpu-node-group";
import type { EnvironmentConfig } from "../environments/schema";
import { CLUSTER_NAMESPACES } from "../environments/sections/cluster";
import {
  CLUSTER_AUTOSCALER_IDENTITY,
  clusterNameOf,
  MLFLOW_IDENTITY,
  TRAINING_IDENTITY,
} from "./cluster-contract";
import { MlopsStack, type SynthOptions } from "./mlops-stack";
import { addInferenceServices, dataNames } from "./serving";
import { addClusterMonitoring } from "./monitoring";

/** Where the pinned Helm charts come from. */
export const CHART_REPOSITORIES = {
  nvidiaDevicePlugin: "https://nvidia.github.io/k8s-device-plugin",
  clusterAutoscaler: "https://kubernetes.github.io/autoscaler",
  kueue: "oci://registry.k8s.io/kueue/charts",
  efaDevicePlugin: "https://aws.github.io/eks-charts",
  metricsServer: "https://kubernetes-sigs.github.io/metrics-server/",
} as const;

/**
 * The label that GpuTrainingCluster (constructs/training/gpu-training-cluster.ts) gives the nodes of its
 * system node group, for the cluster services that belong there.
 */
export const SYSTEM_NODE_SELECTOR = { "mlops/node-role": "system" } as const;

/** The Kueue API version of the queues (served by the pinned Kueue chart). */
export const KUEUE_API_VERSION = "kueue.x-k8s.io/v1beta1";

/** A cluster namespace the platform creates. */
export type ClusterNamespace = (typeof CLUSTER_NAMESPACES)[number];

/** Tolerates the GPU taint, for pods that must run on GPU nodes. */
const GPU_TOLERATION = { key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect };

/**
 * `<project>-<env>-cluster`: what runs inside the environment's EKS cluster, through the Kubernetes and
 * Helm providers: namespaces with GPU quotas and container defaults, priority classes, the default
 * encrypted gp3 storage class, the NVIDIA device plugin (where the AMI lacks it), the EFA device plugin (where a
 * GPU group has EFA interfaces), the cluster autoscaler, metrics-server and Kueue with a queue per team.
 *
 * The providers find the cluster by name (`DataAwsEksCluster`) and authenticate with `aws eks get-token` on
 * every run, so no token is stored or expires between plan and apply. The AWS CLI must be on the PATH of
 * whoever runs Terraform, and a private API endpoint must be reachable (from inside the VPC) in test and
 * prod.
 */
export class ClusterStack extends MlopsStack {
  /** The platform's namespaces, for other parts (serving, MLflow, monitoring) to deploy into. */
  readonly namespaces: Record<ClusterNamespace, NamespaceV1>;
  readonly kubernetesProvider: KubernetesProvider;
  readonly helmProvider: HelmProvider;
  /** The cluster's name. */
  readonly clusterName: string;
  /** The self-hosted MLflow server (when `modelRegistry.backend` is `self-hosted`). */
  readonly mlflowServer?: MlflowServer;
  /** The inference services of `serving.kubernetesServices`, by name. */
  readonly inferenceServices: Record<string, KubernetesInferenceService>;

  constructor(scope: Construct, config: EnvironmentConfig, options: SynthOptions = {}) {
    super(scope, { ...options, config, part: "cluster" });
    const settings = config.cluster;
    this.clusterName = clusterNameOf(this.naming);

    const cluster = new DataAwsEksCluster(this, "EksCluster", { name: this.clusterName });
    const host = cluster.endpoint;
    const clusterCaCertificate = Fn.base64decode(cluster.certificateAuthority.get(0).data);
    const tokenArgs = ["eks", "get-token", "--cluster-name", this.clusterName, "--region", config.aws.region];
    // The token must be for the role that has an access entry: the environment's deploy role when there is one.
    if (config.aws.assumeRoleArn && !this.offline) tokenArgs.push("--role-arn", config.aws.assumeRoleArn);
    const exec = { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: tokenArgs };
    this.kubernetesProvider = new KubernetesProvider(this, "kubernetes", {
      host,
      clusterCaCertificate,
      exec: [exec],
    });
    this.helmProvider = new HelmProvider(this, "helm", { kubernetes: { host, clusterCaCertificate, exec } });

    const namespaces = {} as Record<ClusterNamespace, NamespaceV1>;
    for (const name of CLUSTER_NAMESPACES) {
      const id = pascal(name);
      const namespaceSettings = settings.namespaces[name];
      const namespace = new NamespaceV1(this, `${id}Namespace`, {
        metadata: {
          name,
          labels: {
            "app.kubernetes.io/managed-by": "cdktf",
            ...(name === "monitoring"
              ? {
                  // The node exporter (host network, PID namespace and file system) and the DCGM exporter
                  // (a hostPath and SYS_ADMIN) run in it: baseline would refuse their pods, and the release
                  // that waits for them would fail.
                  "pod-security.kubernetes.io/enforce": "privileged",
                }
              : {
                  // Baseline blocks privileged pods and host access; restricted is reported, not yet enforced.
                  "pod-security.kubernetes.io/enforce": "baseline",
                  "pod-security.kubernetes.io/warn": "restricted",
                }),
          },
        },
      });
      namespaces[name] = namespace;
      new ResourceQuotaV1(this, `${id}GpuQuota`, {
        metadata: { name: "gpu", namespace: namespace.metadata.name },
        spec: { hard: { "requests.nvidia.com/gpu": String(namespaceSettings.gpuQuota) } },
      });
      const defaults = namespaceSettings.containerDefaults;
      new LimitRangeV1(this, `${id}ContainerDefaults`, {
        metadata: { name: "container-defaults", namespace: namespace.metadata.name },
        spec: {
          limit: [
            {
              type: "Container",
              defaultRequest: { cpu: defaults.cpuRequest, memory: defaults.memoryRequest },
              default: { memory: defaults.memoryLimit },
            },
          ],
        },
      });
    }
    this.namespaces = namespaces;

    new ServiceAccountV1(this, "TrainingServiceAccount", {
      metadata: {
        name: TRAINING_IDENTITY.name,
        namespace: namespaces.training.metadata.name,
        labels: { "app.kubernetes.io/managed-by": "cdktf" },
      },
    });

    new PriorityClassV1(this, "TrainingPriorityClass", {
      metadata: { name: "training" },
      value: 1000,
      globalDefault: false,
      preemptionPolicy: "PreemptLowerPriority",
      description: "Training jobs: may be preempted by serving, never preempt it",
    });
    const servingPriority = new PriorityClassV1(this, "ServingPriorityClass", {
      metadata: { name: "serving" },
      value: 100000,
      globalDefault: false,
      preemptionPolicy: "PreemptLowerPriority",
      description: "Inference services: scheduled before training",
    });
    this.inferenceServices = addInferenceServices(this, {
      config,
      location: this.location,
      names: dataNames(this.naming, this.location),
      namespace: namespaces.serving.metadata.name,
      priorityClassName: servingPriority.metadata.name,
    });

    const gp3 = new StorageClassV1(this, "Gp3StorageClass", {
      metadata: { name: "gp3", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
      storageProvisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true", fsType: "ext4" },
      // A volume created where its pod is scheduled, so it lands in the pod's zone.
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
      reclaimPolicy: config.protection.preventDestroy ? "Retain" : "Delete",
    });

    // Bottlerocket NVIDIA AMIs run the device plugin themselves; AL2023 NVIDIA AMIs only ship the driver.
    const groups = Object.values(settings.gpuNodeGroups);
    if (groups.some((group) => group.amiType === "AL2023_x86_64_NVIDIA")) {
      new Release(this, "NvidiaDevicePlugin", {
        name: "nvidia-device-plugin",
        namespace: "kube-system",
        repository: CHART_REPOSITORIES.nvidiaDevicePlugin,
        chart: "nvidia-device-plugin",
        version: settings.charts.nvidiaDevicePlugin,
        atomic: true,
        values: [
          helmValues({
            nodeSelector: { [DEVICE_PLUGIN_LABEL]: "daemonset" },
            tolerations: [GPU_TOLERATION, { key: "CriticalAddonsOnly", operator: "Exists" }],
            priorityClassName: "system-node-critical",
          }),
        ],
      });
    }

    // Neither the AL2023 nor the Bottlerocket EKS AMIs run the EFA device plugin; without it a pod cannot request
    // the `vpc.amazonaws.com/efa` devices of the node's EFA interfaces.
    if (groups.some((group) => group.efa)) {
      new Release(this, "EfaDevicePlugin", {
        name: "aws-efa-k8s-device-plugin",
        namespace: "kube-system",
        repository: CHART_REPOSITORIES.efaDevicePlugin,
        chart: "aws-efa-k8s-device-plugin",
        version: settings.charts.efaDevicePlugin,
        atomic: true,
        values: [
          helmValues({
            nodeSelector: { [EFA_LABEL]: "true" },
            tolerations: [GPU_TOLERATION],
            // The chart also requires a node whose instance type is in its own list, which lags new EFA types:
            // the label the node groups set stands in for that list.
            supportedInstanceLabels: { keys: [EFA_LABEL], values: ["true"] },
          }),
        ],
      });
    }

    new Release(this, "ClusterAutoscaler", {
      name: "cluster-autoscaler",
      namespace: CLUSTER_AUTOSCALER_IDENTITY.namespace,
      repository: CHART_REPOSITORIES.clusterAutoscaler,
      chart: "cluster-autoscaler",
      version: settings.charts.clusterAutoscaler,
      atomic: true,
      values: [
        helmValues({
          cloudProvider: "aws",
          awsRegion: config.aws.region,
          autoDiscovery: { clusterName: this.clusterName },
          image: { tag: settings.autoscaler.imageTag },
          // The platform stack associates this service account with the autoscaler's role (Pod Identity).
          rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_IDENTITY.name } },
          priorityClassName: "system-cluster-critical",
          extraArgs: {
            "scale-down-unneeded-time": `${settings.autoscaler.scaleDownUnneededMinutes}m`,
            "scale-down-delay-after-add": `${settings.autoscaler.scaleDownDelayAfterAddMinutes}m`,
            "balance-similar-node-groups": true,
            expander: "least-waste",
            "skip-nodes-with-local-storage": false,
          },
        }),
      ],
    });

    // HorizontalPodAutoscalers (the inference services') read pod CPU from the `metrics.k8s.io` API, which
    // neither EKS nor kube-prometheus-stack serves. The chart's default arguments fit EKS: kubelets are
    // reached at their InternalIP on the port they report, and serve certificates signed by the cluster CA,
    // which metrics-server verifies (so no `--kubelet-insecure-tls`).
    const metricsServerReplicas = settings.metricsServer.replicas;
    const metricsServer = new Release(this, "MetricsServer", {
      name: "metrics-server",
      namespace: "kube-system",
      repository: CHART_REPOSITORIES.metricsServer,
      chart: "metrics-server",
      version: settings.charts.metricsServer,
      atomic: true,
      values: [
        helmValues({
          replicas: metricsServerReplicas,
          // With one replica a budget would block every drain of its node; with more, one stays up.
          podDisruptionBudget: { enabled: metricsServerReplicas > 1, minAvailable: 1 },
          priorityClassName: "system-cluster-critical",
          nodeSelector: SYSTEM_NODE_SELECTOR,
          // The system nodes carry no taint today; this keeps metrics-server on them if they get the one the
          // EKS add-ons (CoreDNS among them) tolerate on nodes reserved to cluster services.
          tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
          // The replicas on different nodes where there are enough, so losing a node leaves one serving.
          topologySpreadConstraints: [
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
          ],
        }),
      ],
    });
    // The inference services' autoscalers come after it, so an apply that creates them leaves them the
    // metrics API they scale on.
    for (const service of Object.values(this.inferenceServices)) {
      const autoscaler = service.autoscaler;
      autoscaler.dependsOn = [...(autoscaler.dependsOn ?? []), dependable(metricsServer)];
    }

    const kueue = new Release(this, "Kueue", {
      name: "kueue",
      namespace: "kueue-system",
      createNamespace: true,
      repository: CHART_REPOSITORIES.kueue,
      chart: "kueue",
      version: settings.charts.kueue,
      atomic: true,
      wait: true,
    });
    this.addKueueQueues(config, kueue);

    addClusterMonitoring(this, {
      storageClassName: gp3.metadata.name,
      dependsOn: [namespaces.monitoring, gp3],
    });
    if (config.modelRegistry.backend === "self-hosted") this.mlflowServer = this.addMlflowServer(config);
  }

  /**
   * The self-hosted MLflow server in the `mlflow` namespace. It finds its database, credential secrets and
   * artifact store by the names the platform stack gives them, and gets AWS access through the Pod Identity
   * association the platform stack creates for `mlflow/mlflow`.
   */
  private addMlflowServer(config: EnvironmentConfig): MlflowServer {
    const settings = config.modelRegistry;
    const names = modelRegistryNames(this.naming);
    const location = this.location;
    const artifacts = DataBucketReference.fromPurpose({
      naming: this.naming,
      location,
      purpose: "model-artifacts",
    });
    const { certificateArn, sourceCidrs, identityProvider } = settings.loadBalancer;
    return new MlflowServer(this, "MlflowServer", {
      namespace: this.namespaces.mlflow.metadata.name,
      serviceAccountName: MLFLOW_IDENTITY.name,
      image: {
        repositoryUrl: ContainerRegistry.repositoryUrlFor(this.naming, location, "mlflow"),
        ...settings.server.image,
      },
      region: location.region,
      databaseIdentifier: names.databaseIdentifier,
      adminSecretName: names.adminSecretName,
      workloadsSecretName: names.workloadsSecretName,
      artifactStoreUri: artifacts.s3Url(settings.artifactPrefix),
      replicas: settings.server.replicas,
      workers: settings.server.workers,
      resources: {
        cpuRequest: settings.server.cpuRequest,
        memoryRequest: settings.server.memoryRequest,
        cpuLimit: settings.server.cpuLimit,
        memoryLimit: settings.server.memoryLimit,
      },
      loadBalancer: {
        certificateArn,
        sourceCidrs,
        oidc: identityProvider && {
          issuer: identityProvider.issuer,
          authorizationEndpoint: identityProvider.authorizationEndpoint,
          tokenEndpoint: identityProvider.tokenEndpoint,
          userInfoEndpoint: identityProvider.userInfoEndpoint,
          clientSecretName: identityProvider.clientSecretName,
          scope: identityProvider.scope,
        },
      },
    });
  }

  /**
   * One ClusterQueue per team (CPU and memory from any node, GPUs from GPU nodes, borrowing idle quota
   * within one cohort) and a LocalQueue of the same name in the team's namespace, where jobs are submitted
   * with the label `kueue.x-k8s.io/queue-name: <team>`.
   *
   * Kueue admits no workload that requests a resource its ClusterQueue does not cover. Where GPU groups have
   * EFA, the queues therefore cover `vpc.amazonaws.com/efa` too, with a quota of every EFA interface those
   * groups have at their maximum size: the GPU quota stays what limits a team.
   *
   * `kubernetes_manifest` needs the Kueue CRDs at plan time: on a new cluster, apply the Kueue release first
   * (`cdktf deploy` twice, or `terraform apply -target` of the release).
   */
  private addKueueQueues(config: EnvironmentConfig, kueue: Release): void {
    const manifest = (id: string, body: Record<string, unknown>) =>
      new Manifest(this, id, { manifest: { apiVersion: KUEUE_API_VERSION, ...body }, dependsOn: [kueue] });

    manifest("KueueDefaultFlavor", {
      kind: "ResourceFlavor",
      metadata: { name: "default-flavor" },
      spec: {},
    });
    manifest("KueueGpuFlavor", {
      kind: "ResourceFlavor",
      metadata: { name: "gpu" },
      // Admitted GPU pods are steered to GPU nodes and tolerate their taint.
      spec: { nodeLabels: { "nvidia.com/gpu.present": "true" }, tolerations: [GPU_TOLERATION] },
    });
    const efaInterfaces = Object.entries(config.cluster.gpuNodeGroups)
      .filter(([, group]) => group.efa)
      .reduce((sum, [name, group]) => {
        // GpuNodeGroup refuses EFA on other types, and types with different card counts in one group.
        const cards = EFA_NETWORK_CARDS[group.instanceTypes[0]];
        if (!cards)
          throw new Error(`cluster.gpuNodeGroups.${name}: efa needs an instance type with EFA cards`);
        return sum + group.maxSize * cards;
      }, 0);
    const gpuResources = efaInterfaces > 0 ? ["nvidia.com/gpu", EFA_RESOURCE] : ["nvidia.com/gpu"];
    for (const [team, queue] of Object.entries(config.cluster.kueue.teams)) {
      const id = pascal(team);
      const quotas: Record<string, string> = {
        "nvidia.com/gpu": String(queue.gpuQuota),
        [EFA_RESOURCE]: String(efaInterfaces),
      };
      manifest(`KueueClusterQueue${id}`, {
        kind: "ClusterQueue",
        metadata: { name: team },
        spec: {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": queue.namespace } },
          cohort: this.naming.prefix,
          queueingStrategy: "BestEffortFIFO",
          preemption: { reclaimWithinCohort: "Any", withinClusterQueue: "LowerPriority" },
          resourceGroups: [
            {
              coveredResources: ["cpu", "memory"],
              flavors: [
                {
                  name: "default-flavor",
                  resources: [
                    { name: "cpu", nominalQuota: queue.cpuQuota },
                    { name: "memory", nominalQuota: queue.memoryQuota },
                  ],
                },
              ],
            },
            {
              coveredResources: gpuResources,
              flavors: [
                {
                  name: "gpu",
                  resources: gpuResources.map((name) => ({ name, nominalQuota: quotas[name] })),
                },
              ],
            },
          ],
        },
      });
      manifest(`KueueLocalQueue${id}`, {
        kind: "LocalQueue",
        metadata: { name: team, namespace: queue.namespace },
        spec: { clusterQueue: team },
      });
    }
  }
}

/** Helm values as YAML; JSON is YAML, and `JSON.stringify` keeps the synth output deterministic. */
function helmValues(values: Record<string, unknown>): string {
  return JSON.stringify(values);
}

/** `mlops-dev` → `MlopsDev`, for construct ids. */
function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}
