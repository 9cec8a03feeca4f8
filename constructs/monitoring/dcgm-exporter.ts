import { Release } from "@cdktf/provider-helm/lib/release";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { stringify } from "yaml";
import { GPU_TAINT_KEY } from "./conventions";
import { escapeInterpolation } from "./kube-prometheus-stack";
import { recordPackageVersion } from "../core/package-info";

/** The NVIDIA dcgm-exporter chart version this construct is written and tested against. */
export const DCGM_EXPORTER_CHART_VERSION = "4.8.3";

/** A node label that marks GPU nodes. */
export interface GpuNodeSelector {
  readonly key: string;
  /** The node matches when its label has one of these values. */
  readonly values: readonly string[];
}

/** Properties of a {@link DcgmExporter}. */
export interface DcgmExporterProps {
  /** @default "monitoring" */
  readonly namespace?: string;
  /** @default DCGM_EXPORTER_CHART_VERSION */
  readonly chartVersion?: string;
  /**
   * Which nodes are GPU nodes: the exporter runs there and nowhere else.
   * @default { key: "nvidia.com/gpu.present", values: ["true"] }
   */
  readonly gpuNodeSelector?: GpuNodeSelector;
  /** @default "15s" */
  readonly scrapeInterval?: string;
  /**
   * Resources the release waits for (the kube-prometheus-stack release, whose CRDs the ServiceMonitor needs).
   * @default - none
   */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * NVIDIA's DCGM exporter (Helm, pinned): a DaemonSet on GPU nodes only (node affinity, and a toleration of
 * the `nvidia.com/gpu` taint) that exposes per-GPU utilisation, memory, temperature and XID errors, with
 * the pod each GPU is allocated to, and a ServiceMonitor so Prometheus scrapes it. A DaemonSet pod does not
 * keep a node from scaling down, so GPU node groups still scale to zero.
 *
 * Metrics carry the node name in `node`, and the workload's namespace and pod in `exported_namespace` and
 * `exported_pod` (the dashboards and alert rules rely on both).
 *
 * @example
 * new DcgmExporter(this, "DcgmExporter", {
 *   gpuNodeSelector: { key: "eks.amazonaws.com/nodegroup", values: ["mlops-dev-gpu-g5"] },
 *   dependsOn: [monitoring.release],
 * });
 */
export class DcgmExporter extends Construct {
  readonly release: Release;
  readonly values: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: DcgmExporterProps = {}) {
    super(scope, id);
    recordPackageVersion(this);
    const selector = props.gpuNodeSelector ?? { key: "nvidia.com/gpu.present", values: ["true"] };
    if (!selector.key || selector.values.length === 0) {
      throw new Error(
        `DcgmExporter ${this.node.path}: gpuNodeSelector needs a label key and at least one value`,
      );
    }
    this.values = {
      fullnameOverride: "dcgm-exporter",
      tolerations: [{ key: GPU_TAINT_KEY, operator: "Exists", effect: "NoSchedule" }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: selector.key, operator: "In", values: [...selector.values] }] },
            ],
          },
        },
      },
      serviceMonitor: {
        enabled: true,
        interval: props.scrapeInterval ?? "15s",
        // The exporter's own namespace/pod labels win; the GPU's workload keeps its labels as exported_*.
        honorLabels: false,
        relabelings: [
          { sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node", action: "replace" },
        ],
      },
    };
    this.release = new Release(this, "Resource", {
      name: "dcgm-exporter",
      repository: "https://nvidia.github.io/dcgm-exporter/helm-charts",
      chart: "dcgm-exporter",
      version: props.chartVersion ?? DCGM_EXPORTER_CHART_VERSION,
      namespace: props.namespace ?? "monitoring",
      createNamespace: false,
      // With GPU node groups at zero the DaemonSet has no pod to wait for; Helm must not wait for one. Not
      // `atomic` either: the Helm provider turns `wait` on for an atomic release, whatever `wait` says.
      wait: false,
      cleanupOnFail: true,
      maxHistory: 5,
      values: [escapeInterpolation(stringify(this.values, { lineWidth: 0 }))],
      dependsOn: props.dependsOn,
    });
  }
}
