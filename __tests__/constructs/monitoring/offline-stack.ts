/**
 * The AWS side of monitoring in one bare stack: topic, alarms, dashboard, budget, anomaly detection and the
 * managed Prometheus workspace, for the offline Terraform run (`__tests__/terraform/offline.test.ts`) to plan.
 */
import type { App, TerraformStack } from "cdktf";
import { AlertTopic } from "../../../constructs/monitoring/alert-topic";
import { CostAnomalyAlerts } from "../../../constructs/monitoring/cost-anomaly-alerts";
import { DatabaseAlarms } from "../../../constructs/monitoring/database-alarms";
import { EndpointAlarms } from "../../../constructs/monitoring/endpoint-alarms";
import { GpuClusterAlarms } from "../../../constructs/monitoring/gpu-cluster-alarms";
import { ManagedPrometheus } from "../../../constructs/monitoring/managed-prometheus";
import { MonthlyBudget } from "../../../constructs/monitoring/monthly-budget";
import { PlatformDashboard } from "../../../constructs/monitoring/platform-dashboard";
import { PodIdentityRole } from "../../../constructs/training/pod-identity-role";
import { offlineBareStack } from "../../helpers/offline-stack";
import { LOCATION } from "./bare-stack";

/** The Terraform types the stack holds. */
export const MONITORING_RESOURCE_TYPES = [
  "aws_sns_topic",
  "aws_sns_topic_policy",
  "aws_sns_topic_subscription",
  "aws_kms_key",
  "aws_kms_alias",
  "aws_cloudwatch_metric_alarm",
  "aws_cloudwatch_dashboard",
  "aws_budgets_budget",
  "aws_ce_anomaly_monitor",
  "aws_ce_anomaly_subscription",
  "aws_prometheus_workspace",
  "aws_cloudwatch_log_group",
  "aws_iam_role",
  "aws_iam_role_policy",
];

/** Adds the stack to `app`, with an AWS provider that needs no account. */
export function monitoringStack(app: App, id = "monitoring"): TerraformStack {
  const stack = offlineBareStack(app, id, LOCATION.region);
  const topic = new AlertTopic(stack, "Alerts", {
    location: LOCATION,
    topicName: "mlops-dev-alerts",
    subscriptions: [{ protocol: "email", endpoint: "oncall@example.com" }],
  });
  const alarms = [
    new EndpointAlarms(stack, "Endpoint", {
      endpointName: "mlops-dev-churn",
      alarmTopicArn: topic.topicArn,
    }),
    new DatabaseAlarms(stack, "Database", {
      dbInstanceIdentifier: "mlops-dev-mlflow",
      alarmTopicArn: topic.topicArn,
    }),
    new GpuClusterAlarms(stack, "Gpu", { clusterName: "mlops-dev", alarmTopicArn: topic.topicArn }),
  ];
  new PlatformDashboard(stack, "Dashboard", {
    location: LOCATION,
    dashboardName: "mlops-dev-platform",
    endpoints: [{ endpointName: "mlops-dev-churn" }],
    databases: ["mlops-dev-mlflow"],
    clusterName: "mlops-dev",
    alarmNames: alarms.flatMap((a) => a.alarmNames),
  });
  new MonthlyBudget(stack, "Budget", {
    budgetName: "mlops-dev-monthly",
    limitUsd: 1000,
    alertTopicArn: topic.topicArn,
  });
  new CostAnomalyAlerts(stack, "Anomalies", {
    namePrefix: "mlops-dev",
    thresholdUsd: 100,
    alertTopicArn: topic.topicArn,
  });
  const amp = new ManagedPrometheus(stack, "Amp", {
    location: LOCATION,
    alias: "mlops-dev-metrics",
    keyAliasName: "mlops-dev-metrics",
    logRetentionDays: 30,
  });
  const alertmanager = new PodIdentityRole(stack, "Alertmanager", {
    roleName: "mlops-dev-alertmanager",
    accountId: LOCATION.accountId,
    clusterArn: "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev-eks",
  });
  topic.grantPublish(alertmanager.role);
  amp.grantRemoteWrite(alertmanager.role);
  return stack;
}
