import { Release } from "@cdktf/provider-helm/lib/release";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { stringify } from "yaml";
import { platformAlertRules, type AlertRuleGroup, type PlatformAlertThresholds } from "./alert-rules";
import {
  ALERTMANAGER_SERVICE_ACCOUNT,
  GRAFANA_DASHBOARD_LABEL,
  GRAFANA_DASHBOARD_LABEL_VALUE,
  METRICS_LABEL,
  METRICS_LABEL_VALUE,
  METRICS_PATH,
  METRICS_PORT_NAME,
  PROMETHEUS_SERVICE_ACCOUNT,
} from "./conventions";
import { recordPackageVersion } from "../core/package-info";

/**
 * The kube-prometheus-stack chart version this construct is written and tested against
 * (prometheus-community/helm-charts). Bump it deliberately, per environment if need be.
 */
export const KUBE_PROMETHEUS_STACK_CHART_VERSION = "88.1.5";

/**
 * CPU and memory of each Prometheus replica (the `prometheus` container of the StatefulSet the operator
 * makes). No CPU limit, so a replica is never throttled while it compacts or replays its write-ahead log; a
 * memory limit, so a runaway replica is OOM-killed rather than its node.
 */
export interface PrometheusResources {
  /** What the scheduler reserves for each replica. */
  readonly requests?: {
    /**
     * CPU reserved (a Kubernetes quantity).
     * @default "500m"
     */
    readonly cpu?: string;
    /**
     * Memory reserved (a Kubernetes quantity); at most `limits.memory`.
     * @default "1Gi"
     */
    readonly memory?: string;
  };
  /** What each replica may use at most. */
  readonly limits?: {
    /**
     * Memory above which the replica is OOM-killed (a Kubernetes quantity).
     * @default "2Gi"
     */
    readonly memory?: string;
  };
}

/** Properties of a {@link KubePrometheusStack}. */
export interface KubePrometheusStackProps {
  /**
   * Namespace of the release (it must exist).
   * @default "monitoring"
   */
  readonly namespace?: string;
  /** @default KUBE_PROMETHEUS_STACK_CHART_VERSION */
  readonly chartVersion?: string;
  /** Prometheus itself. */
  readonly prometheus: {
    /** Days metrics are kept. */
    readonly retentionDays: number;
    /** Size of each replica's persistent volume, in GiB. */
    readonly volumeSizeGiB: number;
    /**
     * StorageClass of the volume. The volume is encrypted only if this class encrypts (the `gp3` class the
     * cluster stack makes does); nothing here checks it.
     * @default - the cluster's default StorageClass, encrypted or not as that class says
     */
    readonly storageClassName?: string;
    /** @default 1 */
    readonly replicas?: number;
    /** @default "30s" */
    readonly scrapeInterval?: string;
    /**
     * CPU and memory of each replica. Without them the chart sets none, and Prometheus gets the defaults
     * of its namespace's LimitRange, if any, which are sized for small workloads, not for a time-series
     * database (memory grows with the active series, the scrape interval and remote write).
     * @default - requests of 500m CPU and 1Gi memory, a 2Gi memory limit, no CPU limit
     */
    readonly resources?: PrometheusResources;
    /**
     * Send every sample to a remote-write endpoint (Amazon Managed Service for Prometheus), signed with
     * SigV4 by the Pod Identity role bound to the `prometheus` service account. The replicas then carry the
     * external labels Amazon Managed Prometheus de-duplicates on (`cluster`, and `__replica__` = pod name),
     * so the samples of several replicas are stored and billed once.
     * @default - no remote write
     */
    readonly remoteWrite?: {
      readonly url: string;
      readonly region: string;
      /**
       * Value of the `cluster` external label: the same for every replica, and different for each cluster
       * writing to the same workspace (the EKS cluster's name).
       * @default "<namespace>/kube-prometheus-stack"
       */
      readonly clusterLabel?: string;
    };
  };
  /** Alertmanager and where it sends alerts. */
  readonly alertmanager: {
    /** SNS topic alerts are published to, signed with SigV4 by the Pod Identity role of `alertmanager`. */
    readonly snsTopicArn: string;
    readonly region: string;
    /** @default 1 */
    readonly replicas?: number;
  };
  /** Grafana. */
  readonly grafana: {
    /**
     * Existing Kubernetes Secret with the admin credential, keys `admin-user` and `admin-password`
     * (see {@link GrafanaAdminCredential}). Grafana never falls back to a default password.
     */
    readonly adminSecretName: string;
    /**
     * How Grafana is reached: only inside the cluster (`kubectl port-forward`) or through an internal
     * Network Load Balancer in the VPC, made by EKS's built-in cloud controller (no add-on needed). Never
     * from the internet.
     * @default "cluster-ip"
     */
    readonly exposure?: "cluster-ip" | "internal-load-balancer";
  };
  /** Thresholds of the platform's alert rules. @default - the defaults of {@link PlatformAlertThresholds} */
  readonly alertThresholds?: PlatformAlertThresholds;
  /**
   * Namespaces whose Services labelled `mlops.platform/metrics: "true"` are scraped (a ServiceMonitor each).
   * @default { mlflow: "mlflow", serving: "serving" }
   */
  readonly scrapedNamespaces?: {
    /**
     * Namespace of MLflow.
     * @default "mlflow"
     */
    readonly mlflow?: string;
    /**
     * Namespace of the inference services.
     * @default "serving"
     */
    readonly serving?: string;
  };
  /** Resources the release waits for (the Grafana admin secret, the namespace...). @default - none */
  readonly dependsOn?: ITerraformDependable[];
}

/** A ServiceMonitor as kube-prometheus-stack's `prometheus.additionalServiceMonitors` takes it. */
export interface ServiceMonitorValues {
  readonly name: string;
  readonly namespaceSelector: { readonly matchNames: readonly string[] };
  readonly selector: { readonly matchLabels: Record<string, string> };
  readonly endpoints: readonly { readonly port: string; readonly path: string; readonly interval: string }[];
}

/**
 * The cluster's monitoring: the kube-prometheus-stack Helm chart (Prometheus Operator, Prometheus,
 * Alertmanager, Grafana, kube-state-metrics, node exporter) at a pinned version, configured for the platform:
 *
 * - Prometheus keeps `retentionDays` of metrics on a persistent volume of the given StorageClass (or the
 *   cluster's default), encrypted only if that class encrypts, and stops at 80 % of it by size, so a full
 *   disk never stops ingestion; it optionally remote-writes to Amazon Managed Prometheus (with the labels it
 *   de-duplicates replicas on); each replica requests the CPU and memory given, with a memory limit and no
 *   CPU limit, rather than its namespace's LimitRange defaults;
 * - the control-plane components EKS does not expose (scheduler, controller manager, etcd) are not scraped,
 *   so their rules do not fire forever;
 * - Alertmanager sends every alert (firing and resolved) to the environment's SNS topic;
 * - Grafana reads its admin credential from an existing Secret, has no ingress, and loads the platform's
 *   dashboards from ConfigMaps labelled `grafana_dashboard: "1"`;
 * - the platform's alert rules become a PrometheusRule, and ServiceMonitors scrape MLflow and the inference
 *   services that follow the metrics convention.
 *
 * Rules and ServiceMonitors are rendered by the chart, not as `kubernetes_manifest` resources: the chart
 * installs the CRDs first, whereas `kubernetes_manifest` needs the CRDs to exist when the plan is made, which
 * fails on a new cluster.
 *
 * @example
 * new KubePrometheusStack(this, "Monitoring", {
 *   prometheus: {
 *     retentionDays: 15,
 *     volumeSizeGiB: 50,
 *     storageClassName: "gp3-encrypted",
 *     resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "4Gi" } },
 *   },
 *   alertmanager: { snsTopicArn: AlertTopic.arnFor(location, "mlops-dev-alerts"), region: "eu-west-1" },
 *   grafana: { adminSecretName: credential.kubernetesSecretName },
 *   alertThresholds: { gpuIdleMinutes: 30 },
 * });
 */
export class KubePrometheusStack extends Construct {
  /** The Helm release. */
  readonly release: Release;
  readonly namespace: string;
  /** The values given to the chart (what the release's `values` holds, as YAML). */
  readonly values: Record<string, unknown>;
  /** The alert rule groups of the platform's PrometheusRule. */
  readonly alertRuleGroups: readonly AlertRuleGroup[];
  /** The ServiceMonitors the chart creates. */
  readonly serviceMonitors: readonly ServiceMonitorValues[];

  constructor(scope: Construct, id: string, props: KubePrometheusStackProps) {
    super(scope, id);
    recordPackageVersion(this);
    const where = `KubePrometheusStack ${this.node.path}`;
    const { prometheus, alertmanager, grafana } = props;
    if (!Number.isInteger(prometheus.retentionDays) || prometheus.retentionDays < 1) {
      throw new Error(`${where}: prometheus.retentionDays must be a whole number of days, at least 1`);
    }
    if (!Number.isInteger(prometheus.volumeSizeGiB) || prometheus.volumeSizeGiB < 5) {
      throw new Error(`${where}: prometheus.volumeSizeGiB must be a whole number of GiB, at least 5`);
    }
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(alertmanager.snsTopicArn)) {
      throw new Error(
        `${where}: alertmanager.snsTopicArn "${alertmanager.snsTopicArn}" is not an SNS topic ARN`,
      );
    }
    if (!grafana.adminSecretName) {
      throw new Error(
        `${where}: grafana.adminSecretName must name the Secret that holds Grafana's admin credential`,
      );
    }
    const resources = prometheusResources(prometheus.resources, where);
    this.namespace = props.namespace ?? "monitoring";
    const scrapeInterval = prometheus.scrapeInterval ?? "30s";
    const mlflowNamespace = props.scrapedNamespaces?.mlflow ?? "mlflow";
    const servingNamespace = props.scrapedNamespaces?.serving ?? "serving";

    this.alertRuleGroups = platformAlertRules(props.alertThresholds, {
      serving: servingNamespace,
      mlflow: mlflowNamespace,
      monitoring: this.namespace,
    });
    const serviceMonitor = (name: string, namespace: string): ServiceMonitorValues => ({
      name,
      namespaceSelector: { matchNames: [namespace] },
      selector: { matchLabels: { [METRICS_LABEL]: METRICS_LABEL_VALUE } },
      endpoints: [{ port: METRICS_PORT_NAME, path: METRICS_PATH, interval: scrapeInterval }],
    });
    this.serviceMonitors = [
      serviceMonitor("mlflow", mlflowNamespace),
      serviceMonitor("inference-services", servingNamespace),
    ];

    const internalLoadBalancer = grafana.exposure === "internal-load-balancer";
    this.values = {
      fullnameOverride: "kube-prometheus-stack",
      defaultRules: { create: true },
      // EKS runs the control plane itself and exposes no scheduler, controller manager or etcd endpoint to
      // scrape: left on, their ServiceMonitors find no target and the chart's KubeSchedulerDown,
      // KubeControllerManagerDown and etcd rules fire (and page) forever. Turning the components off also
      // turns off their rules. kube-proxy runs on the nodes (an EKS add-on) and stays scraped.
      kubeScheduler: { enabled: false },
      kubeControllerManager: { enabled: false },
      kubeEtcd: { enabled: false },
      additionalPrometheusRulesMap: { "mlops-platform": { groups: this.alertRuleGroups } },
      prometheus: {
        serviceAccount: { create: true, name: PROMETHEUS_SERVICE_ACCOUNT },
        additionalServiceMonitors: this.serviceMonitors,
        prometheusSpec: {
          replicas: prometheus.replicas ?? 1,
          scrapeInterval,
          retention: `${prometheus.retentionDays}d`,
          // Prometheus' GB are GiB; 80 % leaves room for the WAL and compaction before the volume is full.
          retentionSize: `${Math.floor(prometheus.volumeSizeGiB * 0.8)}GB`,
          // The chart leaves them empty; a memory limit is always given, or a LimitRange's default limit
          // (which may be below the request) would apply.
          resources,
          // Select every ServiceMonitor, PodMonitor, Probe and rule in the cluster, not only this release's,
          // so workloads can bring their own.
          serviceMonitorSelectorNilUsesHelmValues: false,
          podMonitorSelectorNilUsesHelmValues: false,
          probeSelectorNilUsesHelmValues: false,
          ruleSelectorNilUsesHelmValues: false,
          storageSpec: {
            volumeClaimTemplate: {
              spec: {
                ...(prometheus.storageClassName ? { storageClassName: prometheus.storageClassName } : {}),
                accessModes: ["ReadWriteOnce"],
                resources: { requests: { storage: `${prometheus.volumeSizeGiB}Gi` } },
              },
            },
          },
          ...(prometheus.remoteWrite
            ? {
                // Amazon Managed Prometheus keeps one replica's samples per `cluster` and drops the others
                // (it strips `__replica__`); without both labels every replica's samples are stored and billed.
                replicaExternalLabelName: "__replica__",
                externalLabels: {
                  cluster: prometheus.remoteWrite.clusterLabel ?? `${this.namespace}/kube-prometheus-stack`,
                },
                remoteWrite: [
                  {
                    url: prometheus.remoteWrite.url,
                    sigv4: { region: prometheus.remoteWrite.region },
                    queueConfig: { maxSamplesPerSend: 1000, maxShards: 200, capacity: 2500 },
                  },
                ],
              }
            : {}),
        },
      },
      alertmanager: {
        enabled: true,
        serviceAccount: { create: true, name: ALERTMANAGER_SERVICE_ACCOUNT },
        alertmanagerSpec: { replicas: alertmanager.replicas ?? 1 },
        config: {
          global: { resolve_timeout: "5m" },
          route: {
            receiver: "sns",
            group_by: ["alertname", "namespace"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: "4h",
            routes: [
              // The chart's always-firing heartbeat and inhibitor alerts are not news.
              { receiver: "null", matchers: ['alertname = "Watchdog"'] },
              { receiver: "null", matchers: ['alertname = "InfoInhibitor"'] },
            ],
          },
          inhibit_rules: [
            {
              source_matchers: ['severity = "critical"'],
              target_matchers: ['severity = "warning"'],
              equal: ["alertname", "namespace"],
            },
          ],
          receivers: [
            { name: "null" },
            {
              name: "sns",
              sns_configs: [
                {
                  topic_arn: alertmanager.snsTopicArn,
                  sigv4: { region: alertmanager.region },
                  send_resolved: true,
                  subject: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}",
                  attributes: { platform: "mlops" },
                },
              ],
            },
          ],
        },
      },
      grafana: {
        enabled: true,
        admin: {
          existingSecret: grafana.adminSecretName,
          userKey: "admin-user",
          passwordKey: "admin-password",
        },
        ingress: { enabled: false },
        service: internalLoadBalancer
          ? {
              type: "LoadBalancer",
              // An internal NLB of EKS's built-in cloud controller, as MlflowServer's. Type "external" is served
              // only by the AWS Load Balancer Controller, which the platform does not install: the Service
              // would stay Pending and the atomic release roll back. Both spellings of "internal", so that
              // controller, if installed later, reads it the same way.
              annotations: {
                "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
                "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
              },
            }
          : { type: "ClusterIP" },
        defaultDashboardsTimezone: "utc",
        sidecar: {
          dashboards: {
            enabled: true,
            label: GRAFANA_DASHBOARD_LABEL,
            labelValue: GRAFANA_DASHBOARD_LABEL_VALUE,
          },
        },
        "grafana.ini": {
          // Anonymous access, sign-up and embedding stay off whatever the chart's defaults become.
          "auth.anonymous": { enabled: false },
          users: { allow_sign_up: false },
          security: { allow_embedding: false },
          analytics: { reporting_enabled: false, check_for_updates: false },
        },
      },
    };

    this.release = new Release(this, "Resource", {
      name: "kube-prometheus-stack",
      repository: "https://prometheus-community.github.io/helm-charts",
      chart: "kube-prometheus-stack",
      version: props.chartVersion ?? KUBE_PROMETHEUS_STACK_CHART_VERSION,
      namespace: this.namespace,
      createNamespace: false,
      atomic: true,
      cleanupOnFail: true,
      timeout: 900,
      maxHistory: 5,
      // Terraform would read a literal "${" in a value as its own interpolation.
      values: [escapeInterpolation(stringify(this.values, { lineWidth: 0 }))],
      dependsOn: props.dependsOn,
    });
  }
}

const QUANTITY = /^(\d+(?:\.\d+)?)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;
const QUANTITY_FACTOR: Readonly<Record<string, number>> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** {@link PrometheusResources} with their defaults, checked: quantities, memory request within limit. */
function prometheusResources(given: PrometheusResources | undefined, where: string) {
  const resources = {
    requests: { cpu: given?.requests?.cpu ?? "500m", memory: given?.requests?.memory ?? "1Gi" },
    limits: { memory: given?.limits?.memory ?? "2Gi" },
  };
  const value = (field: string, quantity: string): number => {
    const match = QUANTITY.exec(quantity);
    if (!match) {
      throw new Error(
        `${where}: prometheus.resources.${field} "${quantity}" must be a Kubernetes quantity such as "500m", "2" or "4Gi"`,
      );
    }
    return Number(match[1]) * QUANTITY_FACTOR[match[2] ?? ""];
  };
  value("requests.cpu", resources.requests.cpu);
  if (value("requests.memory", resources.requests.memory) > value("limits.memory", resources.limits.memory)) {
    throw new Error(
      `${where}: prometheus.resources.requests.memory (${resources.requests.memory}) exceeds limits.memory ` +
        `(${resources.limits.memory}), and Kubernetes refuses a request above its limit`,
    );
  }
  return resources;
}

/**
 * Escapes Terraform's `${` and `%{` so a literal string reaches the provider unchanged; cdktf tokens
 * (`${TfToken[...]}`) stay as they are, so values may still refer to other resources.
 */
export function escapeInterpolation(text: string): string {
  return text.replace(/\$\{(?!TfToken\[)/g, "$$${").replace(/%\{/g, "%%{");
}
