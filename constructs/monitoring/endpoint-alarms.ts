import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { recordPackageVersion } from "../core/package-info";
import { VARIANT_NAME } from "../serving/variant-name";

/** Properties of an {@link EndpointAlarms}. */
export interface EndpointAlarmsProps {
  /** The SageMaker endpoint, by name (deterministic, so the endpoint may live in this or another stack). */
  readonly endpointName: string;
  /**
   * The production variant whose metrics are watched (SageMaker publishes per endpoint and variant). Give it
   * for an endpoint made elsewhere: the SageMaker Python SDK, for one, names its variant `AllTraffic`.
   * @default VARIANT_NAME ("primary"), the variant of every endpoint `SageMakerEndpoint` creates
   */
  readonly variantName?: string;
  /** SNS topic that alarm and recovery notifications go to. */
  readonly alarmTopicArn: string;
  /**
   * Alarm when the p95 `ModelLatency` stays above this many milliseconds.
   * @default 1000
   */
  readonly modelLatencyP95Ms?: number;
  /**
   * Alarm when `Invocation5XXErrors` in 5 minutes reach this count.
   * @default 5
   */
  readonly serverErrorThreshold?: number;
  /**
   * Alarm when `InvocationModelErrors` in 5 minutes reach this count. Cannot be given for a serverless
   * endpoint, which gets no such alarm.
   * @default 5
   */
  readonly modelErrorThreshold?: number;
  /**
   * The endpoint is serverless. Serverless endpoints do not publish `InvocationModelErrors` (AWS, "Alarms
   * and logs for tracking metrics from serverless endpoints"), so no model-error alarm is created: on
   * missing data it would stay OK forever and look like coverage. The 5xx and latency alarms stay.
   * @default false
   */
  readonly serverless?: boolean;
  /**
   * Alarms that already watch this endpoint's 5xx errors or model latency, such as a `SageMakerEndpoint`'s
   * rollback alarms (`serverErrorsAlarm`, `latencyAlarm`). They get this construct's notifications instead of
   * a second alarm being created on the same metric, so one alarm both rolls a deployment back and tells
   * people. They keep their own thresholds: `serverErrorThreshold` and `modelLatencyP95Ms` cannot be given
   * for a signal whose alarm is reused.
   * @default - every alarm is created here
   */
  readonly existingAlarms?: {
    readonly serverErrors?: CloudwatchMetricAlarm;
    readonly latency?: CloudwatchMetricAlarm;
  };
}

/**
 * CloudWatch alarms for one SageMaker endpoint (namespace `AWS/SageMaker`, dimensions `EndpointName` and
 * `VariantName`): p95 model latency, 5xx invocation errors and (except for a serverless endpoint, which does
 * not publish them) model errors, each notifying the topic when it goes into ALARM and back to OK. No traffic
 * is not an alarm (missing data counts as OK). Their names start with the endpoint's name, so they can be
 * referenced by name. Where the endpoint already has alarms on the same signals (a `SageMakerEndpoint`'s
 * rollback alarms), pass them as `existingAlarms`: they are reused and notify, rather than doubled.
 *
 * @example
 * // An endpoint made with the SageMaker Python SDK, whose variant is AllTraffic.
 * new EndpointAlarms(this, "ChurnAlarms", {
 *   endpointName: "churn-sdk", variantName: "AllTraffic", alarmTopicArn: topic.topicArn, modelLatencyP95Ms: 500,
 * });
 * // An endpoint of this package: its rollback alarms notify too, only the model-error alarm is added.
 * new EndpointAlarms(this, "ChurnAlarms", {
 *   endpointName: endpoint.endpointName, alarmTopicArn: topic.topicArn,
 *   existingAlarms: { serverErrors: endpoint.serverErrorsAlarm, latency: endpoint.latencyAlarm },
 * });
 */
export class EndpointAlarms extends Construct {
  readonly latency: CloudwatchMetricAlarm;
  readonly serverErrors: CloudwatchMetricAlarm;
  /** The `InvocationModelErrors` alarm; none for a serverless endpoint. */
  readonly modelErrors?: CloudwatchMetricAlarm;
  /** Names of the alarms (reused ones included): three, or two for a serverless endpoint. */
  readonly alarmNames: readonly string[];

  constructor(scope: Construct, id: string, props: EndpointAlarmsProps) {
    super(scope, id);
    recordPackageVersion(this);
    const existing = props.existingAlarms ?? {};
    for (const [signal, prop] of [
      ["latency", "modelLatencyP95Ms"],
      ["serverErrors", "serverErrorThreshold"],
    ] as const) {
      if (existing[signal] && props[prop] !== undefined) {
        throw new Error(
          `EndpointAlarms ${this.node.path}: ${prop} cannot be given with existingAlarms.${signal}, which keeps its own ` +
            "threshold; set the threshold where that alarm is defined, or drop the existing alarm",
        );
      }
    }
    const serverless = props.serverless ?? false;
    if (serverless && props.modelErrorThreshold !== undefined) {
      throw new Error(
        `EndpointAlarms ${this.node.path}: modelErrorThreshold cannot be given for a serverless endpoint, ` +
          "which publishes no InvocationModelErrors and so gets no model-error alarm",
      );
    }
    const latencyMs = positive(this, "modelLatencyP95Ms", props.modelLatencyP95Ms ?? 1000);
    const serverErrors = positive(this, "serverErrorThreshold", props.serverErrorThreshold ?? 5);
    const modelErrors = positive(this, "modelErrorThreshold", props.modelErrorThreshold ?? 5);
    const endpoint = props.endpointName;
    const names = {
      latency: `${endpoint}-model-latency-p95`,
      serverErrors: `${endpoint}-invocation-5xx-errors`,
      modelErrors: `${endpoint}-invocation-model-errors`,
    };
    const common = {
      namespace: "AWS/SageMaker",
      dimensions: { EndpointName: endpoint, VariantName: props.variantName ?? VARIANT_NAME },
      alarmActions: [props.alarmTopicArn],
      okActions: [props.alarmTopicArn],
      // An endpoint without traffic publishes nothing; that is not an incident.
      treatMissingData: "notBreaching",
    };

    this.latency = existing.latency
      ? notify(existing.latency, props.alarmTopicArn)
      : new CloudwatchMetricAlarm(this, "ModelLatencyP95", {
          ...common,
          alarmName: names.latency,
          alarmDescription: `p95 model latency of SageMaker endpoint ${endpoint} above ${latencyMs} ms for 3 of 5 minutes`,
          metricName: "ModelLatency",
          extendedStatistic: "p95",
          period: 60,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          // ModelLatency is published in microseconds.
          threshold: latencyMs * 1000,
          comparisonOperator: "GreaterThanThreshold",
        });
    this.serverErrors = existing.serverErrors
      ? notify(existing.serverErrors, props.alarmTopicArn)
      : new CloudwatchMetricAlarm(this, "Invocation5xxErrors", {
          ...common,
          alarmName: names.serverErrors,
          alarmDescription: `SageMaker endpoint ${endpoint} returned at least ${serverErrors} 5xx errors in 5 minutes`,
          metricName: "Invocation5XXErrors",
          statistic: "Sum",
          period: 300,
          evaluationPeriods: 1,
          threshold: serverErrors,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
        });
    // Serverless endpoints publish no InvocationModelErrors: the alarm would stay OK forever.
    this.modelErrors = serverless
      ? undefined
      : new CloudwatchMetricAlarm(this, "InvocationModelErrors", {
          ...common,
          alarmName: names.modelErrors,
          alarmDescription: `The model behind SageMaker endpoint ${endpoint} failed at least ${modelErrors} invocations in 5 minutes`,
          metricName: "InvocationModelErrors",
          statistic: "Sum",
          period: 300,
          evaluationPeriods: 1,
          threshold: modelErrors,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
        });
    // The names as given (not Terraform references), so the dashboard built from them stays plain text.
    const nameOf = (alarm: CloudwatchMetricAlarm) => alarm.alarmNameInput ?? alarm.alarmName;
    this.alarmNames = [
      nameOf(this.latency),
      nameOf(this.serverErrors),
      ...(this.modelErrors ? [names.modelErrors] : []),
    ];
  }
}

/** Adds `topicArn` to the alarm's ALARM and OK actions (once), and returns the alarm. */
function notify(alarm: CloudwatchMetricAlarm, topicArn: string): CloudwatchMetricAlarm {
  const add = (actions: string[] | undefined) => [...new Set([...(actions ?? []), topicArn])];
  alarm.alarmActions = add(alarm.alarmActionsInput);
  alarm.okActions = add(alarm.okActionsInput);
  return alarm;
}

/** `value` when it is a positive number; a precise error otherwise. */
export function positive(scope: Construct, prop: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(
      `${scope.constructor.name} ${scope.node.path}: ${prop} must be a positive number, got ${value}`,
    );
  }
  return value;
}
