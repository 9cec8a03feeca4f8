import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { Construct } from "constructs";
import { arn, type AwsLocation } from "../core/arn";
import { recordPackageVersion } from "../core/package-info";
import { VARIANT_NAME } from "../serving/variant-name";

/** A SageMaker endpoint shown on a {@link PlatformDashboard}. */
export interface DashboardEndpoint {
  readonly endpointName: string;
  /**
   * The production variant shown (give it for an endpoint made elsewhere, such as `AllTraffic`).
   * @default VARIANT_NAME ("primary"), the variant of every endpoint `SageMakerEndpoint` creates
   */
  readonly variantName?: string;
  /**
   * The endpoint is serverless: its errors widget leaves out `InvocationModelErrors`, which serverless
   * endpoints do not publish (AWS, "Alarms and logs for tracking metrics from serverless endpoints").
   * @default false
   */
  readonly serverless?: boolean;
}

/** Properties of a {@link PlatformDashboard}. */
export interface PlatformDashboardProps {
  readonly location: AwsLocation;
  /** Dashboard name, such as `mlops-dev-platform` (letters, digits, `-` and `_`, at most 255). */
  readonly dashboardName: string;
  /**
   * SageMaker endpoints: invocations, p50/p95/p99 model latency and errors (4xx, 5xx and, except for a
   * serverless endpoint, model errors) per endpoint.
   * @default - none
   */
  readonly endpoints?: readonly DashboardEndpoint[];
  /**
   * RDS instance identifiers: CPU, free storage and connections.
   * @default - none
   */
  readonly databases?: readonly string[];
  /**
   * EKS cluster whose Container Insights node and GPU metrics are shown.
   * @default - no cluster widgets
   */
  readonly clusterName?: string;
  /**
   * Names of CloudWatch alarms whose state is shown at the top.
   * @default - no alarm widget
   */
  readonly alarmNames?: readonly string[];
}

/** One metric of a CloudWatch metric widget: namespace, name, dimension pairs, then rendering options. */
export type MetricLine = (string | Record<string, unknown>)[];

/** A widget of the dashboard body, as CloudWatch's dashboard body structure defines it. */
export interface DashboardWidget {
  readonly type: "metric" | "alarm" | "text";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: Record<string, unknown>;
}

const WIDTH = 24;

/**
 * The environment's CloudWatch dashboard: alarm states, then one row per SageMaker endpoint, per registry
 * database and for the GPU cluster. The body is built from the props alone, in a fixed order, so the same
 * configuration always gives the same JSON (and an unchanged plan).
 *
 * @example
 * new PlatformDashboard(this, "Dashboard", {
 *   location, dashboardName: "mlops-dev-platform", endpoints: [{ endpointName: "mlops-dev-churn" }],
 *   databases: ["mlops-dev-mlflow"], clusterName: "mlops-dev", alarmNames: alarms.alarmNames,
 * });
 */
export class PlatformDashboard extends Construct {
  readonly resource: CloudwatchDashboard;
  readonly dashboardName: string;
  /** The dashboard body as an object (what `dashboard_body` holds, parsed). */
  readonly body: { readonly widgets: readonly DashboardWidget[] };

  constructor(scope: Construct, id: string, props: PlatformDashboardProps) {
    super(scope, id);
    recordPackageVersion(this);
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(props.dashboardName)) {
      throw new Error(
        `PlatformDashboard ${this.node.path}: dashboardName "${props.dashboardName}" may hold only letters, digits, ` +
          "hyphens and underscores (at most 255)",
      );
    }
    this.dashboardName = props.dashboardName;
    const region = props.location.region;
    const widgets: DashboardWidget[] = [];
    let y = 0;
    const row = (
      cells: { title: string; properties: Record<string, unknown>; type?: DashboardWidget["type"] }[],
      height = 6,
    ) => {
      const width = Math.floor(WIDTH / cells.length);
      cells.forEach((cell, index) =>
        widgets.push({
          type: cell.type ?? "metric",
          x: index * width,
          y,
          width,
          height,
          properties: { title: cell.title, region, ...cell.properties },
        }),
      );
      y += height;
    };
    const timeSeries = (metrics: MetricLine[], extra: Record<string, unknown> = {}) => ({
      view: "timeSeries",
      stacked: false,
      period: 300,
      metrics,
      ...extra,
    });

    const alarmNames = [...(props.alarmNames ?? [])].sort();
    if (alarmNames.length > 0) {
      row(
        [
          {
            type: "alarm",
            title: "Alarms",
            properties: {
              alarms: alarmNames.map((name) => arn(props.location, "cloudwatch", `alarm:${name}`)),
            },
          },
        ],
        Math.min(2 + Math.ceil(alarmNames.length / 4), 8),
      );
    }

    for (const endpoint of props.endpoints ?? []) {
      const dims = [
        "EndpointName",
        endpoint.endpointName,
        "VariantName",
        endpoint.variantName ?? VARIANT_NAME,
      ];
      const metric = (name: string, stat: string, label: string): MetricLine => [
        "AWS/SageMaker",
        name,
        ...dims,
        { stat, label },
      ];
      row([
        {
          title: `${endpoint.endpointName}: invocations`,
          properties: timeSeries([metric("Invocations", "Sum", "invocations")]),
        },
        {
          title: `${endpoint.endpointName}: model latency (µs)`,
          properties: timeSeries([
            metric("ModelLatency", "p50", "p50"),
            metric("ModelLatency", "p95", "p95"),
            metric("ModelLatency", "p99", "p99"),
          ]),
        },
        {
          title: `${endpoint.endpointName}: errors`,
          properties: timeSeries([
            metric("Invocation4XXErrors", "Sum", "4xx"),
            metric("Invocation5XXErrors", "Sum", "5xx"),
            // Serverless endpoints publish no InvocationModelErrors: the line would stay empty.
            ...(endpoint.serverless ? [] : [metric("InvocationModelErrors", "Sum", "model errors")]),
          ]),
        },
      ]);
    }

    for (const db of props.databases ?? []) {
      const metric = (name: string, stat: string, label: string): MetricLine => [
        "AWS/RDS",
        name,
        "DBInstanceIdentifier",
        db,
        { stat, label },
      ];
      row([
        { title: `${db}: CPU (%)`, properties: timeSeries([metric("CPUUtilization", "Average", "CPU")]) },
        {
          title: `${db}: free storage (bytes)`,
          properties: timeSeries([metric("FreeStorageSpace", "Minimum", "free storage")]),
        },
        {
          title: `${db}: connections`,
          properties: timeSeries([metric("DatabaseConnections", "Maximum", "connections")]),
        },
      ]);
    }

    if (props.clusterName) {
      const metric = (name: string, stat: string, label: string): MetricLine => [
        "ContainerInsights",
        name,
        "ClusterName",
        props.clusterName!,
        { stat, label },
      ];
      row([
        {
          title: `${props.clusterName}: nodes`,
          properties: timeSeries([
            metric("cluster_node_count", "Maximum", "nodes"),
            metric("cluster_failed_node_count", "Maximum", "failed nodes"),
          ]),
        },
        {
          title: `${props.clusterName}: GPU utilisation (%)`,
          properties: timeSeries([
            metric("node_gpu_utilization", "Average", "average"),
            metric("node_gpu_utilization", "Maximum", "busiest"),
          ]),
        },
        {
          title: `${props.clusterName}: GPU memory utilisation (%)`,
          properties: timeSeries([metric("node_gpu_memory_utilization", "Average", "average")]),
        },
      ]);
    }

    if (widgets.length === 0) {
      row(
        [
          {
            type: "text",
            title: "",
            properties: {
              markdown: `# ${props.dashboardName}\nNo endpoints, databases or cluster are monitored yet.`,
            },
          },
        ],
        2,
      );
    }

    this.body = { widgets };
    this.resource = new CloudwatchDashboard(this, "Resource", {
      dashboardName: props.dashboardName,
      dashboardBody: JSON.stringify(this.body),
    });
  }
}
