import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { GRAFANA_DASHBOARD_LABEL, GRAFANA_DASHBOARD_LABEL_VALUE } from "./conventions";
import gpu from "./dashboards/gpu.json";
import inference from "./dashboards/inference.json";
import mlflow from "./dashboards/mlflow.json";
import trainingQuota from "./dashboards/training-quota.json";
import { escapeInterpolation } from "./kube-prometheus-stack";
import { recordPackageVersion } from "../core/package-info";

/** A Grafana dashboard model (the JSON Grafana exports). */
export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly { readonly title: string }[];
  readonly [key: string]: unknown;
}

/** The platform's dashboards, committed under `constructs/monitoring/dashboards/`, keyed by file name. */
export const PLATFORM_DASHBOARDS: Readonly<Record<string, GrafanaDashboard>> = {
  gpu,
  inference,
  mlflow,
  "training-quota": trainingQuota,
};

/** Properties of a {@link GrafanaDashboards}. */
export interface GrafanaDashboardsProps {
  /**
   * Namespace of Grafana (its sidecar reads dashboards from there).
   * @default "monitoring"
   */
  readonly namespace?: string;
  /**
   * Dashboards keyed by a short name (lower case, digits, hyphens).
   * @default PLATFORM_DASHBOARDS
   */
  readonly dashboards?: Readonly<Record<string, GrafanaDashboard>>;
  /**
   * Resources the ConfigMaps wait for, such as the namespace they are written to.
   * @default - none
   */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Dashboards as code: one ConfigMap per dashboard, labelled `grafana_dashboard: "1"` so Grafana's sidecar
 * loads it (and reloads it when the ConfigMap changes). The dashboards' JSON is committed in the repository;
 * edit it there (Grafana's "Export > Save to file" gives the JSON), not in Grafana, where edits are lost.
 *
 * @example
 * new GrafanaDashboards(this, "Dashboards");
 */
export class GrafanaDashboards extends Construct {
  /** The ConfigMaps, keyed by dashboard name. */
  readonly configMaps: Readonly<Record<string, ConfigMapV1>>;

  constructor(scope: Construct, id: string, props: GrafanaDashboardsProps = {}) {
    super(scope, id);
    recordPackageVersion(this);
    const dashboards = props.dashboards ?? PLATFORM_DASHBOARDS;
    const configMaps: Record<string, ConfigMapV1> = {};
    const uids = new Set<string>();
    for (const name of Object.keys(dashboards).sort()) {
      const dashboard = dashboards[name];
      if (!/^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/.test(name)) {
        throw new Error(
          `GrafanaDashboards ${this.node.path}: dashboard name "${name}" must be lower-case letters, digits and hyphens`,
        );
      }
      if (!dashboard.uid || uids.has(dashboard.uid)) {
        throw new Error(
          `GrafanaDashboards ${this.node.path}: dashboard "${name}" needs a uid of its own, got "${dashboard.uid}"`,
        );
      }
      uids.add(dashboard.uid);
      const id = name
        .split("-")
        .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
        .join("");
      configMaps[name] = new ConfigMapV1(this, id, {
        metadata: {
          name: `grafana-dashboard-${name}`,
          namespace: props.namespace ?? "monitoring",
          labels: {
            [GRAFANA_DASHBOARD_LABEL]: GRAFANA_DASHBOARD_LABEL_VALUE,
            "app.kubernetes.io/part-of": "mlops-platform",
          },
        },
        // Grafana variables are written ${name}; Terraform must not take them for interpolation.
        data: { [`${name}.json`]: escapeInterpolation(JSON.stringify(dashboard, null, 2)) },
        dependsOn: props.dependsOn,
      });
    }
    this.configMaps = configMaps;
  }
}
