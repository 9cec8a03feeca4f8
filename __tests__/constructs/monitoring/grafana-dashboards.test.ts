import {
  GrafanaDashboards,
  PLATFORM_DASHBOARDS,
  type GrafanaDashboard,
} from "../../../constructs/monitoring/grafana-dashboards";
import { MLFLOW_METRICS } from "../../../constructs/monitoring/conventions";
import { resourcesOf, type StackJson } from "../../helpers/synth";
import { synthBare } from "./bare-stack";

interface Panel {
  title: string;
  targets: { expr: string }[];
}

function panel(dashboard: GrafanaDashboard, title: string): Panel {
  const found = (dashboard.panels as unknown as Panel[]).find((p) => p.title === title);
  if (!found) throw new Error(`dashboard ${dashboard.uid} has no panel "${title}"`);
  return found;
}

describe("GrafanaDashboards", () => {
  let json: StackJson;
  let provisioned: Record<string, GrafanaDashboard>;
  beforeAll(() => {
    json = synthBare((stack) => new GrafanaDashboards(stack, "Dashboards"));
    provisioned = {};
    for (const configMap of Object.values(resourcesOf(json, "kubernetes_config_map_v1"))) {
      for (const [file, text] of Object.entries(configMap.data as Record<string, string>)) {
        // What Terraform hands Kubernetes: "$${" is Terraform's escape of a literal "${".
        provisioned[file] = JSON.parse(text.replace(/\$\$\{/g, "${")) as GrafanaDashboard;
      }
    }
  });

  it("provisions one ConfigMap per dashboard, labelled for Grafana's sidecar", () => {
    const configMaps = Object.values(resourcesOf(json, "kubernetes_config_map_v1"));
    expect(configMaps.map((c) => (c.metadata as { name: string }).name).sort()).toEqual([
      "grafana-dashboard-gpu",
      "grafana-dashboard-inference",
      "grafana-dashboard-mlflow",
      "grafana-dashboard-training-quota",
    ]);
    for (const configMap of configMaps) {
      expect(configMap.metadata).toMatchObject({
        namespace: "monitoring",
        labels: { grafana_dashboard: "1" },
      });
    }
  });

  it("hands Grafana the committed dashboards unchanged", () => {
    expect(provisioned["gpu.json"]).toEqual(PLATFORM_DASHBOARDS.gpu);
    expect(provisioned["training-quota.json"]).toEqual(PLATFORM_DASHBOARDS["training-quota"]);
  });

  it("escapes Grafana's ${datasource} from Terraform interpolation", () => {
    const text = Object.values(resourcesOf(json, "kubernetes_config_map_v1"))
      .map((c) => Object.values(c.data as Record<string, string>).join(""))
      .join("");
    expect(text).toContain("$${datasource}");
    expect(text.replace(/\$\$\{/g, "")).not.toContain("${");
  });

  it("shows GPU utilisation, memory and temperature per node and per job", () => {
    const gpu = PLATFORM_DASHBOARDS.gpu;
    expect(panel(gpu, "GPU utilisation per node").targets[0].expr).toContain("DCGM_FI_DEV_GPU_UTIL");
    expect(panel(gpu, "GPU memory used per node").targets[0].expr).toContain("DCGM_FI_DEV_FB_USED");
    expect(panel(gpu, "GPU temperature per node").targets[0].expr).toContain("DCGM_FI_DEV_GPU_TEMP");
    expect(panel(gpu, "GPU utilisation per job").targets[0].expr).toContain(
      "by (exported_namespace, exported_pod)",
    );
    expect(panel(gpu, "GPU memory used per job").targets[0].expr).toContain("DCGM_FI_DEV_FB_USED");
    expect(panel(gpu, "GPU temperature per job").targets[0].expr).toContain("DCGM_FI_DEV_GPU_TEMP");
  });

  it("shows the training namespace's GPU quota use", () => {
    const expr = panel(PLATFORM_DASHBOARDS["training-quota"], "Training namespace GPU quota use").targets.map(
      (t) => t.expr,
    );
    expect(expr.join(" ")).toMatch(
      /kube_resourcequota\{.*resource="requests\.nvidia\.com\/gpu", type="used"\}/,
    );
    expect(expr.join(" ")).toContain('type="hard"');
  });

  it("shows inference latency p50, p95 and p99, throughput and errors per service", () => {
    const inference = PLATFORM_DASHBOARDS.inference;
    for (const [title, quantile] of [
      ["Inference latency p50", "0.50"],
      ["Inference latency p95", "0.95"],
      ["Inference latency p99", "0.99"],
    ]) {
      expect(panel(inference, title).targets[0].expr).toContain(
        `histogram_quantile(${quantile}, sum by (service, le)`,
      );
    }
    expect(panel(inference, "Inference throughput per service").targets[0].expr).toContain(
      "http_requests_total",
    );
    expect(panel(inference, "Inference errors per service").targets[0].expr).toContain('status=~"5.*"');
  });

  it("shows MLflow availability from the health gauge of the MLflow scrape job", () => {
    expect(panel(PLATFORM_DASHBOARDS.mlflow, "MLflow availability").targets[0].expr).toBe(
      `sum(${MLFLOW_METRICS.healthGauge}{namespace="mlflow", job="${MLFLOW_METRICS.job}"}) / ` +
        'sum(kube_deployment_spec_replicas{namespace="mlflow", deployment="mlflow"})',
    );
  });

  it("reads MLflow's requests and latency from the metrics --expose-prometheus exports", () => {
    const mlflow = PLATFORM_DASHBOARDS.mlflow;
    expect(panel(mlflow, "MLflow requests").targets[0].expr).toContain(
      `rate(${MLFLOW_METRICS.requestCounter}{namespace="mlflow", job="${MLFLOW_METRICS.job}"}[5m])`,
    );
    expect(panel(mlflow, "MLflow request latency p95").targets[0].expr).toContain(
      `${MLFLOW_METRICS.latencyHistogram}_bucket{namespace="mlflow", job="${MLFLOW_METRICS.job}"}`,
    );
  });

  it("keeps the replica panel from kube-state-metrics, with the scraped targets beside it", () => {
    const exprs = panel(PLATFORM_DASHBOARDS.mlflow, "MLflow replicas available").targets.map((t) => t.expr);
    expect(exprs).toEqual([
      'sum(kube_deployment_status_replicas_available{namespace="mlflow"})',
      'sum(kube_deployment_spec_replicas{namespace="mlflow"})',
      `sum(up{namespace="mlflow", job="${MLFLOW_METRICS.job}"})`,
    ]);
  });

  it("gives every dashboard a unique uid, the datasource variable and panels with queries", () => {
    const uids = Object.values(PLATFORM_DASHBOARDS).map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const dashboard of Object.values(PLATFORM_DASHBOARDS)) {
      expect((dashboard.templating as { list: { name: string }[] }).list[0].name).toBe("datasource");
      for (const p of dashboard.panels as unknown as Panel[]) expect(p.targets.length).toBeGreaterThan(0);
    }
  });

  it("rejects two dashboards with one uid", () => {
    const twin = { ...PLATFORM_DASHBOARDS.gpu };
    expect(() =>
      synthBare((stack) => new GrafanaDashboards(stack, "D", { dashboards: { a: twin, b: twin } })),
    ).toThrow(/dashboard "b" needs a uid of its own, got "mlops-gpu"/);
  });
});
