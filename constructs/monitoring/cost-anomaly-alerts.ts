import { CeAnomalyMonitor } from "@cdktf/provider-aws/lib/ce-anomaly-monitor";
import { CeAnomalySubscription } from "@cdktf/provider-aws/lib/ce-anomaly-subscription";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { recordPackageVersion } from "../core/package-info";

/** Properties of a {@link CostAnomalyAlerts}. */
export interface CostAnomalyAlertsProps {
  /** Name prefix of the monitor and subscriptions, such as `mlops-dev`. */
  readonly namePrefix: string;
  /** Tell people about an anomaly whose total cost impact reaches this many US dollars. */
  readonly thresholdUsd: number;
  /**
   * SNS topic told as soon as an anomaly is detected.
   * @default - none; then `emails` must name someone
   */
  readonly alertTopicArn?: string;
  /**
   * Email addresses sent a daily summary of anomalies (Cost Anomaly Detection emails only in summaries).
   * @default - none
   */
  readonly emails?: readonly string[];
  /**
   * An existing monitor to subscribe to instead of creating one. AWS allows one AWS-services monitor per
   * account, so a second environment in the same account must reuse the first one's monitor.
   * @default - a DIMENSIONAL monitor over SERVICE is created
   */
  readonly existingMonitorArn?: string;
  /**
   * Resources to create first, such as the alert topic's policy (AWS checks it may publish when the
   * subscription is made).
   * @default - none
   */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * AWS Cost Anomaly Detection for the account: a monitor that learns each AWS service's spending pattern, and
 * subscriptions that tell the alert topic immediately (and email addresses daily) when an anomaly's total
 * impact reaches the threshold.
 *
 * @example
 * new CostAnomalyAlerts(this, "CostAnomalies", {
 *   namePrefix: "mlops-dev", thresholdUsd: 100, alertTopicArn: topic.topicArn,
 * });
 */
export class CostAnomalyAlerts extends Construct {
  /** The monitor, unless `existingMonitorArn` was given. */
  readonly monitor?: CeAnomalyMonitor;
  /** The ARN of the monitor the subscriptions watch. */
  readonly monitorArn: string;
  readonly subscriptions: readonly CeAnomalySubscription[];

  constructor(scope: Construct, id: string, props: CostAnomalyAlertsProps) {
    super(scope, id);
    recordPackageVersion(this);
    const where = `CostAnomalyAlerts ${this.node.path}`;
    if (!Number.isFinite(props.thresholdUsd) || props.thresholdUsd <= 0) {
      throw new Error(
        `${where}: thresholdUsd must be a positive number of US dollars, got ${props.thresholdUsd}`,
      );
    }
    const emails = [...(props.emails ?? [])];
    if (emails.length === 0 && !props.alertTopicArn) {
      throw new Error(`${where}: give alertTopicArn or emails, or nobody is told about cost anomalies`);
    }
    if (emails.length > 10)
      throw new Error(`${where}: a subscription notifies at most 10 email addresses, got ${emails.length}`);

    if (props.existingMonitorArn) {
      this.monitorArn = props.existingMonitorArn;
    } else {
      this.monitor = new CeAnomalyMonitor(this, "Monitor", {
        name: `${props.namePrefix}-services`,
        monitorType: "DIMENSIONAL",
        monitorDimension: "SERVICE",
      });
      this.monitorArn = this.monitor.arn;
    }

    const thresholdExpression = {
      dimension: {
        key: "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
        matchOptions: ["GREATER_THAN_OR_EQUAL"],
        values: [props.thresholdUsd.toFixed(2)],
      },
    };
    const subscriptions: CeAnomalySubscription[] = [];
    if (props.alertTopicArn) {
      subscriptions.push(
        new CeAnomalySubscription(this, "TopicSubscription", {
          name: `${props.namePrefix}-cost-anomalies`,
          // SNS subscribers must be told immediately; daily and weekly summaries go to email only.
          frequency: "IMMEDIATE",
          dependsOn: props.dependsOn,
          monitorArnList: [this.monitorArn],
          subscriber: [{ type: "SNS", address: props.alertTopicArn }],
          thresholdExpression,
        }),
      );
    }
    if (emails.length > 0) {
      subscriptions.push(
        new CeAnomalySubscription(this, "EmailSubscription", {
          name: `${props.namePrefix}-cost-anomalies-daily`,
          frequency: "DAILY",
          monitorArnList: [this.monitorArn],
          subscriber: emails.map((address) => ({ type: "EMAIL", address })),
          thresholdExpression,
        }),
      );
    }
    this.subscriptions = subscriptions;
  }
}
