import { CostAnomalyAlerts } from "../../../constructs/monitoring/cost-anomaly-alerts";
import { MonthlyBudget } from "../../../constructs/monitoring/monthly-budget";
import { onlyResource, resourcesOf, type StackJson } from "../../helpers/synth";
import { synthBare } from "./bare-stack";

const TOPIC = "arn:aws:sns:eu-west-1:111111111111:mlops-dev-alerts";

describe("MonthlyBudget", () => {
  let budget: Record<string, unknown>;
  beforeAll(() => {
    const json = synthBare((stack) => {
      new MonthlyBudget(stack, "Budget", {
        budgetName: "mlops-dev-monthly",
        limitUsd: 1500,
        alertTopicArn: TOPIC,
        emails: ["finance@example.com"],
      });
    });
    budget = onlyResource(json, "aws_budgets_budget");
  });

  it("is a monthly cost budget with the limit in USD", () => {
    expect(budget).toMatchObject({
      name: "mlops-dev-monthly",
      budget_type: "COST",
      limit_amount: "1500.00",
      limit_unit: "USD",
      time_unit: "MONTHLY",
    });
  });

  it("tells the topic and the emails at 80 % forecast and 100 % actual", () => {
    const subscribers = {
      subscriber_sns_topic_arns: [TOPIC],
      subscriber_email_addresses: ["finance@example.com"],
    };
    expect(budget.notification).toEqual([
      {
        notification_type: "FORECASTED",
        comparison_operator: "GREATER_THAN",
        threshold: 80,
        threshold_type: "PERCENTAGE",
        ...subscribers,
      },
      {
        notification_type: "ACTUAL",
        comparison_operator: "GREATER_THAN",
        threshold: 100,
        threshold_type: "PERCENTAGE",
        ...subscribers,
      },
    ]);
  });

  const build = (props: Partial<ConstructorParameters<typeof MonthlyBudget>[2]>) => () =>
    synthBare(
      (stack) =>
        new MonthlyBudget(stack, "B", { budgetName: "b", limitUsd: 10, alertTopicArn: TOPIC, ...props }),
    );

  it("rejects a budget nobody would hear about", () => {
    expect(build({ alertTopicArn: undefined })).toThrow(/give alertTopicArn or emails/);
  });

  it("rejects a limit that is not positive", () => {
    expect(build({ limitUsd: 0 })).toThrow(/limitUsd must be a positive number of US dollars, got 0/);
  });

  it("rejects more email addresses than Budgets allows", () => {
    expect(build({ emails: Array.from({ length: 11 }, (_, i) => `p${i}@example.com`) })).toThrow(
      /at most 10 email/,
    );
  });
});

describe("CostAnomalyAlerts", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthBare((stack) => {
      new CostAnomalyAlerts(stack, "Anomalies", {
        namePrefix: "mlops-dev",
        thresholdUsd: 100,
        alertTopicArn: TOPIC,
        emails: ["finance@example.com"],
      });
    });
  });

  it("monitors each AWS service's spending", () => {
    expect(onlyResource(json, "aws_ce_anomaly_monitor")).toMatchObject({
      name: "mlops-dev-services",
      monitor_type: "DIMENSIONAL",
      monitor_dimension: "SERVICE",
    });
  });

  it("tells the topic immediately when an anomaly's impact reaches the threshold", () => {
    const subscriptions = Object.values(resourcesOf(json, "aws_ce_anomaly_subscription"));
    expect(subscriptions.find((s) => s.frequency === "IMMEDIATE")).toMatchObject({
      name: "mlops-dev-cost-anomalies",
      subscriber: [{ type: "SNS", address: TOPIC }],
      threshold_expression: {
        dimension: {
          key: "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
          match_options: ["GREATER_THAN_OR_EQUAL"],
          values: ["100.00"],
        },
      },
    });
  });

  it("sends the emails a daily summary", () => {
    const subscriptions = Object.values(resourcesOf(json, "aws_ce_anomaly_subscription"));
    expect(subscriptions.find((s) => s.frequency === "DAILY")).toMatchObject({
      subscriber: [{ type: "EMAIL", address: "finance@example.com" }],
    });
  });

  it("subscribes to an existing monitor instead of creating a second one", () => {
    const existing = "arn:aws:ce::111111111111:anomalymonitor/abc";
    const reused = synthBare((stack) => {
      new CostAnomalyAlerts(stack, "A", {
        namePrefix: "p",
        thresholdUsd: 5,
        alertTopicArn: TOPIC,
        existingMonitorArn: existing,
      });
    });
    expect(resourcesOf(reused, "aws_ce_anomaly_monitor")).toEqual({});
    expect(onlyResource(reused, "aws_ce_anomaly_subscription").monitor_arn_list).toEqual([existing]);
  });

  it("rejects alerts nobody would hear about", () => {
    expect(() =>
      synthBare((stack) => new CostAnomalyAlerts(stack, "A", { namePrefix: "p", thresholdUsd: 5 })),
    ).toThrow(/give alertTopicArn or emails/);
  });
});
