import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import {
  DeploymentV1,
  type DeploymentV1SpecTemplateSpecContainerLivenessProbe,
  type DeploymentV1SpecTemplateSpecTopologySpreadConstraint,
} from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { HorizontalPodAutoscalerV2 } from "@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2";
import { IngressV1 } from "@cdktf/provider-kubernetes/lib/ingress-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Construct } from "constructs";
import { eksClusterArn, type AwsLocation } from "../core/arn";
import type { Naming } from "../core/naming";
import { compareCodeUnits } from "../core/order";
import { recordPackageVersion } from "../core/package-info";
import { METRICS_LABEL, METRICS_LABEL_VALUE, METRICS_PORT_NAME } from "../monitoring/conventions";
import { podIdentityTrustPolicy } from "../training/pod-identity-role";
import {
  checkPinnedImage,
  modelArtifactReadStatements,
  normalizeModelPrefix,
  policyJson,
  type ModelArtifactsLocation,
} from "./model-access";

/** HTTP probe paths of the model server. */
export interface InferenceProbes {
  /**
   * Restarts the container when it stops answering.
   * @default "/health"
   */
  readonly livenessPath?: string;
  /**
   * Takes the pod out of the Service while it cannot serve (loading, overloaded).
   * @default "/ready"
   */
  readonly readinessPath?: string;
  /**
   * Holds the other probes back while the model loads.
   * @default livenessPath
   */
  readonly startupPath?: string;
  /**
   * Longest time a model may take to load before the container is restarted, in seconds.
   * @default 600
   */
  readonly startupTimeoutSeconds?: number;
}

/** An internal Ingress in front of the Service. */
export interface InferenceIngress {
  /**
   * Host name the Ingress answers for.
   * @default - any host
   */
  readonly host?: string;
  /**
   * Ingress class.
   * @default "alb"
   */
  readonly className?: string;
  /**
   * Extra annotations (the internal-scheme annotations of the AWS Load Balancer Controller are always set).
   * @default - none
   */
  readonly annotations?: Record<string, string>;
}

/** Properties of a {@link KubernetesInferenceService}. */
export interface KubernetesInferenceServiceProps {
  /** The service's name (`churn`); every Kubernetes object of the service is named after it. */
  readonly name: string;
  /**
   * Namespace of every object.
   * @default "serving"
   */
  readonly namespace?: string;
  /** Model server image, pinned by a release tag (never `latest`) or a digest. */
  readonly image: string;
  /**
   * Port the model server listens on (HTTP).
   * @default 8080
   */
  readonly port?: number;
  /**
   * Container port the model server serves Prometheus metrics on (at `/metrics`), or `false` for a server
   * without metrics. The Service then carries the label `mlops.platform/metrics: "true"` and a port named
   * `metrics` (numbered like the container port), which is what the monitoring stack's ServiceMonitor
   * `inference-services` scrapes. A port other than `port` is added to the container as a port named
   * `metrics`.
   * @default - the serving port (`port`): most Python model servers serve /metrics on their API port
   */
  readonly metricsPort?: number | false;
  /**
   * Arguments of the container.
   * @default - the image's
   */
  readonly args?: string[];
  /**
   * Environment variables of the container.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Replicas the autoscaler keeps at least.
   * @default 2
   */
  readonly minReplicas?: number;
  /**
   * Replicas the autoscaler may add up to.
   * @default minReplicas * 2
   */
  readonly maxReplicas?: number;
  /**
   * Average CPU utilisation (% of requests) the autoscaler aims for.
   * @default 70
   */
  readonly targetCpuUtilization?: number;
  /**
   * CPU request and limit (the limit is the request: a model server must not be throttled by neighbours).
   * @default "1"
   */
  readonly cpu?: string;
  /**
   * Memory request and limit.
   * @default "4Gi"
   */
  readonly memory?: string;
  /**
   * GPUs per replica (`nvidia.com/gpu`, requests = limits). Pods that ask for GPUs tolerate the GPU taint
   * and are pinned to GPU nodes.
   * @default 0
   */
  readonly gpus?: number;
  /**
   * Node labels that mark GPU nodes (required node affinity when `gpus` > 0).
   * @default { "nvidia.com/gpu.present": "true" }
   */
  readonly gpuNodeLabels?: Record<string, string>;
  /** HTTP probes. @default - see {@link InferenceProbes} */
  readonly probes?: InferenceProbes;
  /**
   * Size limit of the model cache (`emptyDir` at `/models`; the root filesystem is read-only).
   * @default "20Gi"
   */
  readonly modelCacheSize?: string;
  /**
   * Spread replicas across availability zones (required), for services that must survive a zone outage.
   * @default false
   */
  readonly spreadAcrossZones?: boolean;
  /**
   * PriorityClass of the pods.
   * @default - the cluster default
   */
  readonly priorityClassName?: string;
  /**
   * Mount the service account's token. The EKS Pod Identity agent injects its own token, so the model server
   * needs this only when it calls the Kubernetes API.
   * @default false
   */
  readonly automountServiceAccountToken?: boolean;
  /**
   * User and group the container runs as (non-root).
   * @default 10001
   */
  readonly runAsUser?: number;
  /**
   * An internal Ingress.
   * @default - none; the service is reachable inside the cluster only
   */
  readonly ingress?: InferenceIngress;
  /**
   * Seconds a pod gets to finish in-flight requests when it stops.
   * @default 60
   */
  readonly terminationGracePeriodSeconds?: number;
}

/** Properties of {@link KubernetesInferenceService.createPodIdentityRole}. */
export interface InferenceServiceIdentityProps {
  /** The service's name, as given to {@link KubernetesInferenceService}. */
  readonly name: string;
  /** Names the role (`<project>-<env>-serving-<name>`). */
  readonly naming: Naming;
  /** Account and region, for ARNs. */
  readonly location: AwsLocation;
  /** The model's artifacts; the role can read this prefix only. */
  readonly modelArtifacts: ModelArtifactsLocation;
  /**
   * EKS cluster to associate the role with the service account through Pod Identity.
   * @default - no association (make it with the cluster construct)
   */
  readonly clusterName?: string;
  /**
   * The EKS cluster whose pods may get the role (the `aws:SourceArn` condition of its trust policy), so that
   * another cluster of the account (dev and test may share one) cannot hand the role to its pods.
   * @default - the ARN of `clusterName` when it is given, otherwise any cluster of the account
   */
  readonly clusterArn?: string;
  /**
   * Namespace of the service account.
   * @default "serving"
   */
  readonly namespace?: string;
}

/** The AWS side of a service's identity, created in the platform stack. */
export interface InferenceServiceIdentity {
  readonly role: IamRole;
  readonly policy: IamRolePolicy;
  readonly association?: EksPodIdentityAssociation;
}

const NAME = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;

/**
 * A model server on the cluster: a Deployment with rolling updates that never take a replica away before
 * its replacement is ready, a ClusterIP Service, a HorizontalPodAutoscaler, a PodDisruptionBudget and an
 * optional internal Ingress. Containers run as non-root with a read-only root filesystem, no capabilities
 * and the RuntimeDefault seccomp profile; GPU replicas request whole GPUs and tolerate the GPU taint.
 * The Service follows the platform's metrics convention (constructs/monitoring/conventions.ts), so Prometheus
 * scrapes the model server's `/metrics` unless `metricsPort` is `false`.
 * The service account gets its AWS role through EKS Pod Identity; create that role in the platform stack
 * with {@link KubernetesInferenceService.createPodIdentityRole}.
 *
 * @example
 * new KubernetesInferenceService(this, "Churn", {
 *   name: "churn",
 *   image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-dev-inference:v1.4.2",
 *   gpus: 1,
 *   minReplicas: 2,
 *   maxReplicas: 6,
 * });
 */
export class KubernetesInferenceService extends Construct {
  /** The name of the Pod Identity role of service `name`, so the platform and cluster stacks agree on it. */
  static podIdentityRoleName(naming: Naming, name: string): string {
    return naming.name("iamRole", "serving", name);
  }

  /**
   * Creates, in an AWS stack, the role the service's pods assume through EKS Pod Identity: it can read the
   * model's prefix of the model-artifacts bucket and nothing else. Only pods of this account's clusters can
   * get it, and only those of the cluster `clusterArn` (or `clusterName`) when given; otherwise pods of any
   * cluster of the account can.
   */
  static createPodIdentityRole(
    scope: Construct,
    id: string,
    props: InferenceServiceIdentityProps,
  ): InferenceServiceIdentity {
    recordPackageVersion(scope);
    const where = `KubernetesInferenceService.createPodIdentityRole ${scope.node.path}/${id}`;
    checkName(props.name, where);
    const prefix = normalizeModelPrefix(props.modelArtifacts.prefix, where);
    const clusterArn =
      props.clusterArn ?? (props.clusterName ? eksClusterArn(props.location, props.clusterName) : undefined);
    const role = new IamRole(scope, id, {
      name: KubernetesInferenceService.podIdentityRoleName(props.naming, props.name),
      description: `Pod Identity role of inference service ${props.name}: reads ${prefix} only`,
      assumeRolePolicy: podIdentityTrustPolicy(props.location.accountId, clusterArn),
    });
    const policy = new IamRolePolicy(scope, `${id}Policy`, {
      name: "read-model-artifacts",
      role: role.name,
      policy: policyJson(modelArtifactReadStatements(props.location, { ...props.modelArtifacts, prefix })),
    });
    const association = props.clusterName
      ? new EksPodIdentityAssociation(scope, `${id}Association`, {
          clusterName: props.clusterName,
          namespace: props.namespace ?? "serving",
          serviceAccount: props.name,
          roleArn: role.arn,
        })
      : undefined;
    return { role, policy, association };
  }

  /** Namespace of the service's objects. */
  readonly namespace: string;
  /** Name of every object of the service (Deployment, Service, ServiceAccount...). */
  readonly serviceName: string;
  /** In-cluster URL of the service. */
  readonly url: string;
  readonly deployment: DeploymentV1;
  readonly service: ServiceV1;
  readonly serviceAccount: ServiceAccountV1;
  readonly autoscaler: HorizontalPodAutoscalerV2;
  readonly disruptionBudget: PodDisruptionBudgetV1;
  readonly ingress?: IngressV1;

  constructor(scope: Construct, id: string, props: KubernetesInferenceServiceProps) {
    super(scope, id);
    recordPackageVersion(this);
    const where = `KubernetesInferenceService ${this.node.path}`;
    checkName(props.name, where);
    const image = checkPinnedImage(props.image, `${where} image`);
    const port = props.port ?? 8080;
    const minReplicas = props.minReplicas ?? 2;
    const maxReplicas = props.maxReplicas ?? minReplicas * 2;
    const gpus = props.gpus ?? 0;
    const cpu = props.cpu ?? "1";
    const memory = props.memory ?? "4Gi";
    const runAsUser = props.runAsUser ?? 10001;
    if (!Number.isInteger(port) || port < 1024 || port > 65535) {
      throw new Error(
        `${where}: port ${port} must be from 1024 to 65535 (a non-root process cannot bind lower ports).`,
      );
    }
    const metricsPort = props.metricsPort ?? port;
    if (
      metricsPort !== false &&
      (!Number.isInteger(metricsPort) || metricsPort < 1024 || metricsPort > 65535)
    ) {
      throw new Error(
        `${where}: metricsPort ${metricsPort} must be from 1024 to 65535 (a non-root process cannot bind lower ports), or false for a server without metrics.`,
      );
    }
    if (!Number.isInteger(minReplicas) || minReplicas < 1)
      throw new Error(`${where}: minReplicas (${minReplicas}) must be at least 1.`);
    if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas) {
      throw new Error(
        `${where}: maxReplicas (${maxReplicas}) must be at least minReplicas (${minReplicas}).`,
      );
    }
    if (!Number.isInteger(gpus) || gpus < 0)
      throw new Error(`${where}: gpus (${gpus}) must be a whole number of GPUs.`);
    for (const [field, value] of [
      ["cpu", cpu],
      ["memory", memory],
      ["modelCacheSize", props.modelCacheSize ?? "20Gi"],
    ]) {
      if (!QUANTITY.test(value))
        throw new Error(
          `${where}: ${field} "${value}" must be a Kubernetes quantity such as "2", "500m" or "8Gi".`,
        );
    }
    if (!Number.isInteger(runAsUser) || runAsUser < 1)
      throw new Error(`${where}: runAsUser (${runAsUser}) must be a non-root user id.`);

    this.namespace = props.namespace ?? "serving";
    this.serviceName = props.name;
    this.url = `http://${this.serviceName}.${this.namespace}.svc.cluster.local`;
    const labels = { "app.kubernetes.io/name": this.serviceName, "app.kubernetes.io/component": "inference" };
    const selector = { "app.kubernetes.io/name": this.serviceName };
    const metadata = { name: this.serviceName, namespace: this.namespace, labels };

    this.serviceAccount = new ServiceAccountV1(this, "ServiceAccount", {
      metadata,
      automountServiceAccountToken: props.automountServiceAccountToken ?? false,
    });

    const probes = props.probes ?? {};
    const livenessPath = probes.livenessPath ?? "/health";
    const startupTimeout = probes.startupTimeoutSeconds ?? 600;
    const httpProbe = (
      path: string,
      periodSeconds: number,
      failureThreshold: number,
    ): DeploymentV1SpecTemplateSpecContainerLivenessProbe => ({
      httpGet: { path, port: "http" },
      periodSeconds,
      failureThreshold,
      timeoutSeconds: 5,
    });

    const resources: Record<string, string> = { cpu, memory };
    if (gpus > 0) resources["nvidia.com/gpu"] = String(gpus);
    const gpuNodeLabels = props.gpuNodeLabels ?? { "nvidia.com/gpu.present": "true" };

    const spread: DeploymentV1SpecTemplateSpecTopologySpreadConstraint[] = [
      {
        // Never two replicas on one node if it can be helped: losing a GPU node must not take the service down.
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: [{ matchLabels: selector }],
      },
    ];
    if (props.spreadAcrossZones) {
      spread.push({
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: [{ matchLabels: selector }],
      });
    }

    this.deployment = new DeploymentV1(this, "Resource", {
      metadata,
      spec: {
        // The autoscaler owns the replica count after creation (see ignoreChanges below).
        replicas: String(minReplicas),
        selector: { matchLabels: selector },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "0", maxSurge: "1" } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: this.serviceAccount.metadata.name,
            automountServiceAccountToken: props.automountServiceAccountToken ?? false,
            terminationGracePeriodSeconds: props.terminationGracePeriodSeconds ?? 60,
            ...(props.priorityClassName ? { priorityClassName: props.priorityClassName } : {}),
            securityContext: {
              runAsNonRoot: true,
              runAsUser: String(runAsUser),
              runAsGroup: String(runAsUser),
              fsGroup: String(runAsUser),
              seccompProfile: { type: "RuntimeDefault" },
            },
            container: [
              {
                name: "model-server",
                image,
                imagePullPolicy: "IfNotPresent",
                ...(props.args ? { args: props.args } : {}),
                env: [
                  { name: "MODEL_CACHE_DIR", value: "/models" },
                  ...Object.entries(props.environment ?? {})
                    .sort(([a], [b]) => compareCodeUnits(a, b))
                    .map(([name, value]) => ({ name, value })),
                ],
                port: [
                  { name: "http", containerPort: port, protocol: "TCP" },
                  ...(metricsPort !== false && metricsPort !== port
                    ? [{ name: METRICS_PORT_NAME, containerPort: metricsPort, protocol: "TCP" }]
                    : []),
                ],
                resources: { requests: resources, limits: resources },
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: String(runAsUser),
                  readOnlyRootFilesystem: true,
                  allowPrivilegeEscalation: false,
                  privileged: false,
                  capabilities: { drop: ["ALL"] },
                  seccompProfile: { type: "RuntimeDefault" },
                },
                startupProbe: httpProbe(
                  probes.startupPath ?? livenessPath,
                  10,
                  Math.max(1, Math.ceil(startupTimeout / 10)),
                ),
                livenessProbe: httpProbe(livenessPath, 10, 3),
                readinessProbe: httpProbe(probes.readinessPath ?? "/ready", 5, 3),
                volumeMount: [
                  { name: "tmp", mountPath: "/tmp" },
                  { name: "model-cache", mountPath: "/models" },
                ],
              },
            ],
            volume: [
              { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
              { name: "model-cache", emptyDir: { sizeLimit: props.modelCacheSize ?? "20Gi" } },
            ],
            topologySpreadConstraint: spread,
            ...(gpus > 0
              ? {
                  toleration: [
                    { key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" },
                  ],
                  affinity: {
                    nodeAffinity: {
                      requiredDuringSchedulingIgnoredDuringExecution: {
                        nodeSelectorTerm: [
                          {
                            matchExpressions: Object.entries(gpuNodeLabels).map(([key, value]) => ({
                              key,
                              operator: "In",
                              values: [value],
                            })),
                          },
                        ],
                      },
                    },
                  },
                }
              : {}),
          },
        },
      },
      // GPU nodes may have to scale up from zero before the new replicas are ready.
      timeouts: { create: "30m", update: "30m" },
      lifecycle: { ignoreChanges: ["spec[0].replicas"] },
    });

    // The metrics port keeps its container port's number on the Service: at least 1024, so it can never take
    // the http port's 80. Only the Service carries the metrics label, which is what the ServiceMonitor selects.
    this.service = new ServiceV1(this, "Service", {
      metadata:
        metricsPort === false
          ? metadata
          : { ...metadata, labels: { ...labels, [METRICS_LABEL]: METRICS_LABEL_VALUE } },
      spec: {
        type: "ClusterIP",
        selector,
        port: [
          { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
          ...(metricsPort === false
            ? []
            : [
                {
                  name: METRICS_PORT_NAME,
                  port: metricsPort,
                  targetPort: metricsPort === port ? "http" : METRICS_PORT_NAME,
                  protocol: "TCP",
                },
              ]),
        ],
      },
    });

    this.autoscaler = new HorizontalPodAutoscalerV2(this, "Autoscaler", {
      metadata,
      spec: {
        minReplicas,
        maxReplicas,
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.deployment.metadata.name },
        metric: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: { type: "Utilization", averageUtilization: props.targetCpuUtilization ?? 70 },
            },
          },
        ],
        behavior: {
          // Scale down slowly: a replica that leaves takes its loaded model with it.
          scaleDown: [
            { stabilizationWindowSeconds: 300, policy: [{ type: "Pods", value: 1, periodSeconds: 120 }] },
          ],
          scaleUp: [
            { stabilizationWindowSeconds: 0, policy: [{ type: "Pods", value: 2, periodSeconds: 60 }] },
          ],
        },
      },
    });

    this.disruptionBudget = new PodDisruptionBudgetV1(this, "DisruptionBudget", {
      metadata,
      // One replica at a time may be evicted by node drains; with one replica this still lets a drain proceed.
      spec: { maxUnavailable: "1", selector: { matchLabels: selector } },
    });

    if (props.ingress) {
      const ingress = props.ingress;
      this.ingress = new IngressV1(this, "Ingress", {
        metadata: {
          ...metadata,
          annotations: {
            ...ingress.annotations,
            "alb.ingress.kubernetes.io/scheme": "internal",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/healthcheck-path": probes.readinessPath ?? "/ready",
          },
        },
        spec: {
          ingressClassName: ingress.className ?? "alb",
          rule: [
            {
              ...(ingress.host ? { host: ingress.host } : {}),
              http: {
                path: [
                  {
                    path: "/",
                    pathType: "Prefix",
                    backend: { service: { name: this.service.metadata.name, port: { name: "http" } } },
                  },
                ],
              },
            },
          ],
        },
      });
    }
  }
}

function checkName(name: string, where: string): void {
  if (!NAME.test(name)) {
    throw new Error(
      `${where}: name "${name}" must be 1-40 lower-case letters, digits or hyphens, starting with a letter.`,
    );
  }
}
