/**
 * The AWS side of monitoring, in one bare stack, passes `terraform validate` and an offline `terraform plan`
 * against hashicorp/aws 5.100.0 from the local mirror: the alarms, dashboard, budget and anomaly detection
 * are real resources with real arguments. Skipped (with the reason) where Terraform or the mirror is missing.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, LocalBackend, TerraformStack } from "cdktf";
import { AlertTopic } from "../../../constructs/monitoring/alert-topic";
import { CostAnomalyAlerts } from "../../../constructs/monitoring/cost-anomaly-alerts";
import { DatabaseAlarms } from "../../../constructs/monitoring/database-alarms";
import { EndpointAlarms } from "../../../constructs/monitoring/endpoint-alarms";
import { GpuClusterAlarms } from "../../../constructs/monitoring/gpu-cluster-alarms";
import { ManagedPrometheus } from "../../../constructs/monitoring/managed-prometheus";
import { MonthlyBudget } from "../../../constructs/monitoring/monthly-budget";
import { PlatformDashboard } from "../../../constructs/monitoring/platform-dashboard";
import { PodIdentityRole } from "../../../constructs/training/pod-identity-role";
import {
  checkStackOffline,
  findProviderMirror,
  offlineTerraformEnv,
  readSynthesizedStacks,
  type StackCheck,
} from "../../../tools/lib/terraform";
import { LOCATION } from "./bare-stack";

function unavailableReason(): string | undefined {
  try {
    execFileSync("terraform", ["version", "-json"], { encoding: "utf8", stdio: "pipe" });
  } catch {
    return "terraform is not on PATH";
  }
  return findProviderMirror() ? undefined : "no filesystem mirror of hashicorp/aws 5.100.0";
}

const reason = unavailableReason();
const describeOffline = reason ? describe.skip : describe;

describeOffline(`monitoring constructs offline${reason ? ` (skipped: ${reason})` : ""}`, () => {
  let check: StackCheck;

  beforeAll(
    async () => {
      const work = mkdtempSync(join(tmpdir(), "mlops-monitoring-"));
      const app = new App({ outdir: join(work, "cdktf.out") });
      const stack = new TerraformStack(app, "monitoring");
      new LocalBackend(stack, { path: "terraform.tfstate" });
      new AwsProvider(stack, "aws", {
        region: LOCATION.region,
        skipCredentialsValidation: true,
        skipRequestingAccountId: true,
        skipMetadataApiCheck: "true",
      });
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
      app.synth();
      const [synthesized] = readSynthesizedStacks(join(work, "cdktf.out"));
      check = await checkStackOffline(synthesized, offlineTerraformEnv(work), {
        validate: false,
        plan: true,
      });
    },
    5 * 60 * 1000,
  );

  it("plans every resource with mock credentials", () => {
    const output = `${check.init.stderr}${check.plan?.stdout ?? ""}${check.plan?.stderr ?? ""}`;
    expect(check.plan?.code === 0 ? "planned" : output).toBe("planned");
    const types = (
      JSON.parse(check.planJson!) as { resource_changes: { type: string }[] }
    ).resource_changes.map((c) => c.type);
    expect(new Set(types)).toEqual(
      new Set([
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
      ]),
    );
  });
});
