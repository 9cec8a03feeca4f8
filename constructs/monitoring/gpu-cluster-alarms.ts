import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { positive } from "./endpoint-alarms";
import { recordPackageVersion } from "../core/package-info";

/** Properties of a {@link GpuClusterAlarms}. */
export interface GpuClusterAlarmsProps {
  /** The EKS cluster, by name. */
  readonly clusterName: string;
  /** SNS topic that alarm and recovery notifications go to. */
  readonly alarmTopicArn: string;
  /**
   * The cluster's GPUs count as idle below this average utilisation (percent).
   * @default 5
   */
  readonly gpuIdleUtilizationPercent?: number;
  /**
   * Alarm when the cluster's GPUs have been idle this long (5-1440 minutes, a multiple of 5).
   * @default 60
   */
  readonly gpuIdleMinutes?: number;
  /**
   * Alarm when at least this many nodes are failed (not ready or under pressure) for 5 minutes.
   * @default 1
   */
  readonly failedNodeThreshold?: number;
  /**
   * What must exist before the alarms: the Container Insights add-on, whose agent starts reporting the node
   * counts once it runs, so that the failed-nodes alarm (missing data is failure) does not page on the
   * first apply.
   * @default - none
   */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * CloudWatch alarms for a GPU training cluster, from Container Insights metrics (namespace
 * `ContainerInsights`, dimension `ClusterName` only): failed nodes (`cluster_failed_node_count`) and GPUs
 * that are running but idle (`node_gpu_utilization`, cost).
 *
 * Why Container Insights: EKS managed node groups get Auto Scaling group names that are only known after
 * apply, so `AWS/EC2` or `AWS/AutoScaling` alarms could not be planned from configuration; Container
 * Insights aggregates per cluster name, which the configuration knows. Only create these alarms for a
 * cluster that runs the `amazon-cloudwatch-observability` EKS add-on (`GpuTrainingCluster`'s
 * `containerInsights`, a version before v6.2.0): without it nothing publishes the metrics, and the failed-nodes
 * alarm, which takes missing data as failure (the agent being down), would stay in ALARM. Per-node, per-job
 * GPU alerts come from Prometheus in the cluster.
 *
 * @example
 * new GpuClusterAlarms(this, "GpuClusterAlarms", {
 *   clusterName: "mlops-dev", alarmTopicArn: topic.topicArn, gpuIdleMinutes: 30,
 * });
 */
export class GpuClusterAlarms extends Construct {
  readonly failedNodes: CloudwatchMetricAlarm;
  readonly gpuIdle: CloudwatchMetricAlarm;
  /** Names of the alarms. */
  readonly alarmNames: readonly string[];

  constructor(scope: Construct, id: string, props: GpuClusterAlarmsProps) {
    super(scope, id);
    recordPackageVersion(this);
    const idlePercent = positive(this, "gpuIdleUtilizationPercent", props.gpuIdleUtilizationPercent ?? 5);
    const idleMinutes = positive(this, "gpuIdleMinutes", props.gpuIdleMinutes ?? 60);
    if (idleMinutes % 5 !== 0 || idleMinutes > 1440) {
      throw new Error(
        `GpuClusterAlarms ${this.node.path}: gpuIdleMinutes must be a multiple of 5 up to 1440 (CloudWatch evaluates ` +
          `at most one day), got ${idleMinutes}`,
      );
    }
    const failedNodes = positive(this, "failedNodeThreshold", props.failedNodeThreshold ?? 1);
    const cluster = props.clusterName;
    const names = { failedNodes: `${cluster}-failed-nodes`, gpuIdle: `${cluster}-gpus-idle` };
    const common = {
      namespace: "ContainerInsights",
      dimensions: { ClusterName: cluster },
      alarmActions: [props.alarmTopicArn],
      okActions: [props.alarmTopicArn],
      dependsOn: props.dependsOn,
    };

    this.failedNodes = new CloudwatchMetricAlarm(this, "FailedNodes", {
      ...common,
      alarmName: names.failedNodes,
      alarmDescription:
        `At least ${failedNodes} node(s) of EKS cluster ${cluster} failed for 5 minutes, or no node count ` +
        "arrived for 5 minutes: the Container Insights agent is not reporting",
      // The cluster's node counts come from an agent on the system nodes, which never scale to zero: no data
      // means the agent (or the add-on) is down, and with it every other signal of the cluster.
      treatMissingData: "breaching",
      metricName: "cluster_failed_node_count",
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 5,
      threshold: failedNodes,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    this.gpuIdle = new CloudwatchMetricAlarm(this, "GpusIdle", {
      ...common,
      alarmName: names.gpuIdle,
      alarmDescription:
        `GPUs of EKS cluster ${cluster} averaged below ${idlePercent} % utilisation for ${idleMinutes} minutes ` +
        "while running: idle GPU nodes cost money, check for stuck jobs or a node group that does not scale down",
      metricName: "node_gpu_utilization",
      statistic: "Average",
      period: 300,
      evaluationPeriods: idleMinutes / 5,
      threshold: idlePercent,
      comparisonOperator: "LessThanThreshold",
      // GPU node groups scale to zero: no nodes, no data, nothing to pay for.
      treatMissingData: "notBreaching",
    });
    this.alarmNames = [names.failedNodes, names.gpuIdle];
  }
}
