import { GPU_TAINT_KEY, INFERENCE_METRICS, inferenceLatencyQuantile, MLFLOW_METRICS } from "./conventions";

/** Thresholds of the platform's Prometheus alert rules. */
export interface PlatformAlertThresholds {
  /**
   * A GPU counts as idle below this utilisation (percent).
   * @default 5
   */
  readonly gpuIdleUtilizationPercent?: number;
  /**
   * Minutes a GPU may stay idle before it is reported (it costs money all that time).
   * @default 60
   */
  readonly gpuIdleMinutes?: number;
  /**
   * p95 latency of an inference service above which it is reported (milliseconds).
   * @default 1000
   */
  readonly inferenceLatencyP95Ms?: number;
  /**
   * Share of an inference service's requests answered with 5xx above which it is reported (percent).
   * @default 5
   */
  readonly inferenceErrorRatePercent?: number;
  /**
   * Used share of Prometheus' volume above which it is reported (percent).
   * @default 85
   */
  readonly prometheusStorageFullPercent?: number;
}

/** Namespaces the rules look at. */
export interface PlatformAlertNamespaces {
  /** @default "serving" */
  readonly serving?: string;
  /** @default "mlflow" */
  readonly mlflow?: string;
  /** Where Prometheus runs. @default "monitoring" */
  readonly monitoring?: string;
  /** Namespaces whose crash-looping pods are reported. @default ["training", serving, mlflow, monitoring] */
  readonly workloads?: readonly string[];
}

/** One Prometheus alerting rule. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** A group of rules, as a PrometheusRule's `spec.groups[]` holds them. */
export interface AlertRuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** Every threshold filled in. */
export type ResolvedThresholds = Required<PlatformAlertThresholds>;

/** The thresholds with their defaults; throws when one is out of range. */
export function resolveThresholds(thresholds: PlatformAlertThresholds = {}): ResolvedThresholds {
  const resolved: ResolvedThresholds = {
    gpuIdleUtilizationPercent: thresholds.gpuIdleUtilizationPercent ?? 5,
    gpuIdleMinutes: thresholds.gpuIdleMinutes ?? 60,
    inferenceLatencyP95Ms: thresholds.inferenceLatencyP95Ms ?? 1000,
    inferenceErrorRatePercent: thresholds.inferenceErrorRatePercent ?? 5,
    prometheusStorageFullPercent: thresholds.prometheusStorageFullPercent ?? 85,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`alert threshold ${name} must be a positive number, got ${value}`);
  }
  for (const name of [
    "gpuIdleUtilizationPercent",
    "inferenceErrorRatePercent",
    "prometheusStorageFullPercent",
  ] as const) {
    if (resolved[name] >= 100)
      throw new Error(`alert threshold ${name} is a percentage and must be below 100, got ${resolved[name]}`);
  }
  if (!Number.isInteger(resolved.gpuIdleMinutes)) {
    throw new Error(
      `alert threshold gpuIdleMinutes must be a whole number of minutes, got ${resolved.gpuIdleMinutes}`,
    );
  }
  return resolved;
}

/** Prints a number without float noise (0.1 + 0.2 style) for PromQL. */
function num(value: number): string {
  return String(Number(value.toFixed(6)));
}

/**
 * The platform's alert rules, grouped as a PrometheusRule holds them: idle and failing GPUs, GPU nodes that
 * are not ready, slow or failing inference services, an unavailable MLflow, crash-looping pods and a
 * Prometheus volume that is filling up. Every rule carries `platform: mlops` and a `severity`.
 */
export function platformAlertRules(
  thresholds: PlatformAlertThresholds = {},
  namespaces: PlatformAlertNamespaces = {},
): AlertRuleGroup[] {
  const t = resolveThresholds(thresholds);
  const serving = namespaces.serving ?? "serving";
  const mlflow = namespaces.mlflow ?? "mlflow";
  const monitoring = namespaces.monitoring ?? "monitoring";
  const workloads = namespaces.workloads ?? ["training", serving, mlflow, monitoring];
  const { requestCounter, statusLabel, serverErrorStatus } = INFERENCE_METRICS;
  const labels = (severity: "warning" | "critical", category: string) => ({
    severity,
    category,
    platform: "mlops",
  });
  const errorRate = t.inferenceErrorRatePercent / 100;
  const latencySeconds = t.inferenceLatencyP95Ms / 1000;
  const freeShare = 1 - t.prometheusStorageFullPercent / 100;

  return [
    {
      name: "mlops-platform.gpu",
      rules: [
        {
          alert: "GpuNodeIdle",
          expr: `max by (node, modelName) (DCGM_FI_DEV_GPU_UTIL) < ${num(t.gpuIdleUtilizationPercent)}`,
          for: `${t.gpuIdleMinutes}m`,
          labels: labels("warning", "cost"),
          annotations: {
            summary: "GPU node {{ $labels.node }} has been idle for " + `${t.gpuIdleMinutes} minutes`,
            description:
              "No GPU of node {{ $labels.node }} ({{ $labels.modelName }}) went above " +
              `${num(t.gpuIdleUtilizationPercent)} % utilisation for ${t.gpuIdleMinutes} minutes. An idle GPU node ` +
              "still costs its full price: check for finished jobs holding it or a node group that does not scale down.",
          },
        },
        {
          alert: "GpuAllocatedButIdle",
          expr:
            'avg by (exported_namespace, exported_pod) (DCGM_FI_DEV_GPU_UTIL{exported_pod!=""}) < ' +
            num(t.gpuIdleUtilizationPercent),
          for: `${t.gpuIdleMinutes}m`,
          labels: labels("warning", "cost"),
          annotations: {
            summary:
              "Pod {{ $labels.exported_namespace }}/{{ $labels.exported_pod }} holds GPUs it does not use",
            description:
              `The GPUs of the pod averaged below ${num(t.gpuIdleUtilizationPercent)} % for ${t.gpuIdleMinutes} ` +
              "minutes. Stop it or give its GPUs back.",
          },
        },
        {
          // DCGM_FI_DEV_XID_ERRORS is a gauge holding the code of the last XID, not a counter: it keeps that
          // value until the driver or the exporter restarts. The rule fires when it changes to a non-zero code
          // (so once per new XID, resolving 5 minutes later), and its value is the code, not the change count.
          alert: "GpuXidError",
          expr:
            "max by (node, gpu, modelName) " +
            "(DCGM_FI_DEV_XID_ERRORS > 0 and changes(DCGM_FI_DEV_XID_ERRORS[5m]) > 0)",
          for: "0m",
          labels: labels("critical", "hardware"),
          annotations: {
            summary: "GPU {{ $labels.gpu }} of node {{ $labels.node }} reported XID error {{ $value }}",
            description:
              "The NVIDIA driver reported XID error {{ $value }} in the last 5 minutes: jobs on this GPU may fail " +
              "or hang. Look the code up in NVIDIA's XID catalogue; cordon and replace the node when it is a " +
              "hardware error. The same code again in a row is not reported (the gauge does not change).",
          },
        },
        {
          alert: "GpuNodeNotReady",
          expr:
            'kube_node_status_condition{condition="Ready", status="true"} == 0 ' +
            `and on (node) kube_node_spec_taint{key="${GPU_TAINT_KEY}"}`,
          for: "5m",
          labels: labels("critical", "availability"),
          annotations: {
            summary: "GPU node {{ $labels.node }} is not ready",
            description:
              "The GPU node has not been Ready for 5 minutes; its jobs cannot run and it may still be billed.",
          },
        },
      ],
    },
    {
      name: "mlops-platform.inference",
      rules: [
        {
          alert: "InferenceLatencyHigh",
          expr: `${inferenceLatencyQuantile("0.95", `namespace="${serving}"`, ["namespace", "service"])} > ${num(latencySeconds)}`,
          for: "10m",
          labels: labels("warning", "serving"),
          annotations: {
            summary: "Inference service {{ $labels.service }} is slow",
            description: `p95 latency has been above ${t.inferenceLatencyP95Ms} ms for 10 minutes (now {{ $value }} s).`,
          },
        },
        {
          alert: "InferenceErrorRateHigh",
          expr:
            `sum by (namespace, service) (rate(${requestCounter}{namespace="${serving}", ${statusLabel}=~"${serverErrorStatus}"}[5m])) ` +
            `/ sum by (namespace, service) (rate(${requestCounter}{namespace="${serving}"}[5m])) > ${num(errorRate)}`,
          for: "10m",
          labels: labels("critical", "serving"),
          annotations: {
            summary: "Inference service {{ $labels.service }} fails requests",
            description: `More than ${num(t.inferenceErrorRatePercent)} % of requests got a 5xx answer for 10 minutes.`,
          },
        },
        {
          // The server's own scraped health, not only Kubernetes' view of its pods: a pod can be Ready and
          // still fail every request. `unless` also fires when no scrape succeeds at all, and the Deployment
          // term keeps the rule quiet where MLflow is not self-hosted.
          alert: "MlflowUnavailable",
          expr:
            `sum(kube_deployment_spec_replicas{namespace="${mlflow}", deployment="mlflow"}) > 0 ` +
            `unless on () sum(${MLFLOW_METRICS.healthGauge}{namespace="${mlflow}", job="${MLFLOW_METRICS.job}"}) > 0`,
          for: "5m",
          labels: labels("critical", "registry"),
          annotations: {
            summary: "No MLflow server answers",
            description:
              "No MLflow pod answered its health check through the metrics scrape for 5 minutes: training jobs " +
              "cannot log runs and deployments cannot resolve models.",
          },
        },
      ],
    },
    {
      name: "mlops-platform.workloads",
      rules: [
        {
          alert: "PodCrashLooping",
          expr:
            'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", ' +
            `namespace=~"${workloads.join("|")}"}[5m]) >= 1`,
          for: "15m",
          labels: labels("warning", "availability"),
          annotations: {
            summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} is crash-looping",
            description:
              "Container {{ $labels.container }} has been restarting in CrashLoopBackOff for 15 minutes.",
          },
        },
      ],
    },
    {
      name: "mlops-platform.prometheus",
      rules: [
        {
          alert: "PrometheusStorageNearlyFull",
          expr:
            `kubelet_volume_stats_available_bytes{namespace="${monitoring}", persistentvolumeclaim=~"prometheus-.*"} ` +
            `/ kubelet_volume_stats_capacity_bytes{namespace="${monitoring}", persistentvolumeclaim=~"prometheus-.*"} ` +
            `< ${num(freeShare)}`,
          for: "15m",
          labels: labels("warning", "monitoring"),
          annotations: {
            summary: "Prometheus volume {{ $labels.persistentvolumeclaim }} is nearly full",
            description:
              `More than ${num(t.prometheusStorageFullPercent)} % of the volume is used. Raise the volume size or ` +
              "shorten retention in the environment file before Prometheus stops ingesting.",
          },
        },
      ],
    },
  ];
}
