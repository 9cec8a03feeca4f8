import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { positive } from "./endpoint-alarms";
import { recordPackageVersion } from "../core/package-info";

/** Properties of a {@link DatabaseAlarms}. */
export interface DatabaseAlarmsProps {
  /** The RDS instance identifier (deterministic, such as `mlops-dev-mlflow`). */
  readonly dbInstanceIdentifier: string;
  /** SNS topic that alarm and recovery notifications go to. */
  readonly alarmTopicArn: string;
  /**
   * Alarm when average CPU stays above this percentage for 15 minutes.
   * @default 80
   */
  readonly cpuUtilizationPercent?: number;
  /**
   * Alarm when free storage falls below this many GiB.
   * @default 5
   */
  readonly freeStorageGiB?: number;
  /**
   * Alarm when open connections stay above this count for 10 minutes (size it below the instance class's
   * `max_connections`).
   * @default 80
   */
  readonly maxConnections?: number;
}

/**
 * CloudWatch alarms for one RDS instance (namespace `AWS/RDS`, dimension `DBInstanceIdentifier`): CPU,
 * free storage and connections. A database that stops publishing metrics is itself a problem, so missing
 * free-storage data counts as breaching.
 *
 * @example
 * new DatabaseAlarms(this, "RegistryDatabaseAlarms", {
 *   dbInstanceIdentifier: "mlops-dev-mlflow", alarmTopicArn: topic.topicArn, freeStorageGiB: 2,
 * });
 */
export class DatabaseAlarms extends Construct {
  readonly cpu: CloudwatchMetricAlarm;
  readonly freeStorage: CloudwatchMetricAlarm;
  readonly connections: CloudwatchMetricAlarm;
  /** Names of the three alarms. */
  readonly alarmNames: readonly string[];

  constructor(scope: Construct, id: string, props: DatabaseAlarmsProps) {
    super(scope, id);
    recordPackageVersion(this);
    const cpu = positive(this, "cpuUtilizationPercent", props.cpuUtilizationPercent ?? 80);
    if (cpu > 100)
      throw new Error(
        `DatabaseAlarms ${this.node.path}: cpuUtilizationPercent must be at most 100, got ${cpu}`,
      );
    const freeGiB = positive(this, "freeStorageGiB", props.freeStorageGiB ?? 5);
    const connections = positive(this, "maxConnections", props.maxConnections ?? 80);
    const db = props.dbInstanceIdentifier;
    const names = {
      cpu: `${db}-cpu-utilization`,
      freeStorage: `${db}-free-storage`,
      connections: `${db}-connections`,
    };
    const common = {
      namespace: "AWS/RDS",
      dimensions: { DBInstanceIdentifier: db },
      alarmActions: [props.alarmTopicArn],
      okActions: [props.alarmTopicArn],
    };

    this.cpu = new CloudwatchMetricAlarm(this, "CpuUtilization", {
      ...common,
      alarmName: names.cpu,
      alarmDescription: `Average CPU of RDS instance ${db} above ${cpu} % for 15 minutes`,
      metricName: "CPUUtilization",
      statistic: "Average",
      period: 300,
      evaluationPeriods: 3,
      threshold: cpu,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "missing",
    });
    this.freeStorage = new CloudwatchMetricAlarm(this, "FreeStorageSpace", {
      ...common,
      alarmName: names.freeStorage,
      alarmDescription: `Free storage of RDS instance ${db} below ${freeGiB} GiB`,
      metricName: "FreeStorageSpace",
      statistic: "Minimum",
      period: 300,
      evaluationPeriods: 1,
      // FreeStorageSpace is published in bytes.
      threshold: freeGiB * 1024 ** 3,
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
    });
    this.connections = new CloudwatchMetricAlarm(this, "DatabaseConnections", {
      ...common,
      alarmName: names.connections,
      alarmDescription: `RDS instance ${db} has held more than ${connections} connections for 10 minutes`,
      metricName: "DatabaseConnections",
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 2,
      threshold: connections,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "missing",
    });
    this.alarmNames = [names.cpu, names.freeStorage, names.connections];
  }
}
