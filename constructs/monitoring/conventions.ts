/**
 * The monitoring contract between the platform and the workloads it watches. Workloads that follow it are
 * scraped, dashboarded and alerted on without touching the monitoring code; see docs/monitoring.md.
 */

/** Label a Kubernetes Service carries to be scraped by Prometheus (value {@link METRICS_LABEL_VALUE}). */
export const METRICS_LABEL = "mlops.platform/metrics";
export const METRICS_LABEL_VALUE = "true";

/** Name of the Service port that serves Prometheus metrics. */
export const METRICS_PORT_NAME = "metrics";

/** HTTP path of the metrics. */
export const METRICS_PATH = "/metrics";

/**
 * Metrics an inference service exposes (the names of prometheus-fastapi-instrumentator and most Python
 * model servers): a latency histogram in seconds, and a request counter with the HTTP status in `status`
 * (`500` or `5xx` both count as server errors). Latency quantiles come from `latencyHistogramHighResolution`
 * where a service exposes it (the instrumentator's, with buckets up to 60 s), else from `latencyHistogram`,
 * whose buckets must reach beyond the latency alert's threshold: a quantile above the highest finite bucket
 * reads as that bucket's bound (the instrumentator's default stops at 1 s).
 */
export const INFERENCE_METRICS = {
  latencyHistogram: "http_request_duration_seconds",
  latencyHistogramHighResolution: "http_request_duration_highr_seconds",
  requestCounter: "http_requests_total",
  statusLabel: "status",
  serverErrorStatus: "5.*",
} as const;

/**
 * The PromQL of an inference service's latency quantile `q` (0.95) in seconds, per `by` labels (`le` is
 * added): from the high-resolution histogram where a service exposes it, else from the plain one.
 */
export function inferenceLatencyQuantile(q: string, selector: string, by: readonly string[]): string {
  const quantile = (histogram: string) =>
    `histogram_quantile(${q}, sum by (${[...by, "le"].join(", ")}) (rate(${histogram}_bucket{${selector}}[5m])))`;
  return (
    `(${quantile(INFERENCE_METRICS.latencyHistogramHighResolution)} or ` +
    `${quantile(INFERENCE_METRICS.latencyHistogram)})`
  );
}

/**
 * The self-hosted MLflow server's metrics: the Service Prometheus scrapes (so its samples carry
 * `job="mlflow-metrics"`), prometheus_flask_exporter's request metrics (`mlflow server --expose-prometheus`,
 * labels `method` and `status`), and the image's health gauge (1 when `/health` answered during the scrape).
 */
export const MLFLOW_METRICS = {
  job: "mlflow-metrics",
  healthGauge: "mlflow_server_healthy",
  requestCounter: "mlflow_http_request_total",
  latencyHistogram: "mlflow_http_request_duration_seconds",
} as const;

/** Label of the Grafana sidecar that loads dashboards from ConfigMaps. */
export const GRAFANA_DASHBOARD_LABEL = "grafana_dashboard";
export const GRAFANA_DASHBOARD_LABEL_VALUE = "1";

/** Service accounts of the kube-prometheus-stack release, fixed so Pod Identity roles can be bound to them. */
export const PROMETHEUS_SERVICE_ACCOUNT = "prometheus";
export const ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager";

/** The taint every GPU node carries (set by the GPU node groups), tolerated by the DCGM exporter. */
export const GPU_TAINT_KEY = "nvidia.com/gpu";
