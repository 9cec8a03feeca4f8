import {
  platformAlertRules,
  resolveThresholds,
  type AlertRule,
} from "../../../constructs/monitoring/alert-rules";

function rule(groups: ReturnType<typeof platformAlertRules>, alert: string): AlertRule {
  const found = groups.flatMap((group) => group.rules).find((r) => r.alert === alert);
  if (!found) throw new Error(`no rule ${alert}`);
  return found;
}

describe("platformAlertRules", () => {
  const groups = platformAlertRules({
    gpuIdleMinutes: 45,
    gpuIdleUtilizationPercent: 3,
    inferenceLatencyP95Ms: 300,
    inferenceErrorRatePercent: 2.5,
    prometheusStorageFullPercent: 90,
  });

  it("reports GPU nodes idle longer than the minutes given (cost)", () => {
    expect(rule(groups, "GpuNodeIdle")).toMatchObject({
      expr: "max by (node, modelName) (DCGM_FI_DEV_GPU_UTIL) < 3",
      for: "45m",
      labels: { category: "cost", severity: "warning", platform: "mlops" },
    });
  });

  it("reports pods that hold GPUs without using them", () => {
    expect(rule(groups, "GpuAllocatedButIdle").expr).toContain('DCGM_FI_DEV_GPU_UTIL{exported_pod!=""}) < 3');
  });

  it("reports a new GPU XID error at once, with its code, and not again while the gauge keeps it", () => {
    const xid = rule(groups, "GpuXidError");
    // The gauge holds the last XID's code until a reset: the rule looks for a change to a non-zero code,
    // and its value is that code (the gauge's, not the change count).
    expect(xid).toMatchObject({
      expr:
        "max by (node, gpu, modelName) " +
        "(DCGM_FI_DEV_XID_ERRORS > 0 and changes(DCGM_FI_DEV_XID_ERRORS[5m]) > 0)",
      for: "0m",
      labels: { severity: "critical" },
    });
    expect(xid.annotations.summary).toContain("XID error {{ $value }}");
  });

  it("reports GPU nodes that are not ready, recognised by their taint", () => {
    expect(rule(groups, "GpuNodeNotReady").expr).toBe(
      'kube_node_status_condition{condition="Ready", status="true"} == 0 and on (node) kube_node_spec_taint{key="nvidia.com/gpu"}',
    );
  });

  it("reports inference p95 latency above the threshold, in seconds, preferring the high-resolution histogram", () => {
    // The instrumentator's plain histogram stops at 1 s, where a quantile above it reads as 1: the one with
    // buckets up to 60 s is used where a service has it.
    expect(rule(groups, "InferenceLatencyHigh").expr).toBe(
      '(histogram_quantile(0.95, sum by (namespace, service, le) (rate(http_request_duration_highr_seconds_bucket{namespace="serving"}[5m]))) ' +
        'or histogram_quantile(0.95, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket{namespace="serving"}[5m])))) > 0.3',
    );
  });

  it("reports inference error rates above the threshold, as a ratio", () => {
    expect(rule(groups, "InferenceErrorRateHigh").expr).toMatch(/status=~"5\.\*".* > 0\.025$/);
  });

  it("reports crash-looping pods of the platform's namespaces", () => {
    expect(rule(groups, "PodCrashLooping").expr).toContain(
      'reason="CrashLoopBackOff", namespace=~"training|serving|mlflow|monitoring"',
    );
  });

  it("reports a Prometheus volume fuller than the percentage given", () => {
    expect(rule(groups, "PrometheusStorageNearlyFull").expr).toMatch(
      /persistentvolumeclaim=~"prometheus-\.\*"\} < 0\.1$/,
    );
  });

  it("reports an MLflow whose scraped health check no pod passes, while its Deployment wants replicas", () => {
    expect(rule(groups, "MlflowUnavailable").expr).toBe(
      'sum(kube_deployment_spec_replicas{namespace="mlflow", deployment="mlflow"}) > 0 ' +
        'unless on () sum(mlflow_server_healthy{namespace="mlflow", job="mlflow-metrics"}) > 0',
    );
  });

  it("looks for MLflow in the namespace given", () => {
    const expr = rule(platformAlertRules({}, { mlflow: "registry" }), "MlflowUnavailable").expr;
    expect(expr).toContain('kube_deployment_spec_replicas{namespace="registry"');
    expect(expr).toContain('mlflow_server_healthy{namespace="registry"');
  });

  it("uses the defaults when no threshold is given", () => {
    expect(resolveThresholds()).toEqual({
      gpuIdleUtilizationPercent: 5,
      gpuIdleMinutes: 60,
      inferenceLatencyP95Ms: 1000,
      inferenceErrorRatePercent: 5,
      prometheusStorageFullPercent: 85,
    });
    expect(rule(platformAlertRules(), "GpuNodeIdle").for).toBe("60m");
  });

  it("rejects a percentage of 100 or more", () => {
    expect(() => resolveThresholds({ prometheusStorageFullPercent: 100 })).toThrow(
      /prometheusStorageFullPercent is a percentage and must be below 100, got 100/,
    );
  });

  it("rejects idle minutes that are not whole", () => {
    expect(() => resolveThresholds({ gpuIdleMinutes: 2.5 })).toThrow(
      /gpuIdleMinutes must be a whole number of minutes/,
    );
  });
});
