import { parse } from "yaml";
import { DCGM_EXPORTER_CHART_VERSION, DcgmExporter } from "../../../constructs/monitoring/dcgm-exporter";
import { onlyResource } from "../../helpers/synth";
import { synthBare } from "./bare-stack";

describe("DcgmExporter", () => {
  let release: Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let values: any;
  beforeAll(() => {
    const json = synthBare((stack) => {
      new DcgmExporter(stack, "Dcgm", {
        gpuNodeSelector: { key: "eks.amazonaws.com/nodegroup", values: ["mlops-dev-gpu"] },
      });
    });
    release = onlyResource(json, "helm_release");
    values = parse((release.values as string[])[0]);
  });

  it("installs NVIDIA's pinned chart", () => {
    expect(release).toMatchObject({
      repository: "https://nvidia.github.io/dcgm-exporter/helm-charts",
      chart: "dcgm-exporter",
      version: DCGM_EXPORTER_CHART_VERSION,
      namespace: "monitoring",
    });
  });

  it("neither waits for the DaemonSet nor is atomic, which would make Helm wait anyway", () => {
    // With GPU node groups at zero there is no pod to wait for.
    expect(release.wait).toBe(false);
    expect(release.atomic ?? false).toBe(false);
  });

  it("tolerates the GPU taint", () => {
    expect(values.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
  });

  it("runs only on GPU nodes", () => {
    expect(
      values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
    ).toEqual([
      {
        matchExpressions: [{ key: "eks.amazonaws.com/nodegroup", operator: "In", values: ["mlops-dev-gpu"] }],
      },
    ]);
  });

  it("has a ServiceMonitor that labels samples with the node name", () => {
    expect(values.serviceMonitor).toMatchObject({
      enabled: true,
      relabelings: [
        { sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node", action: "replace" },
      ],
    });
  });

  it("rejects a GPU node selector without values", () => {
    expect(() =>
      synthBare((stack) => new DcgmExporter(stack, "D", { gpuNodeSelector: { key: "k", values: [] } })),
    ).toThrow(/gpuNodeSelector needs a label key and at least one value/);
  });
});
