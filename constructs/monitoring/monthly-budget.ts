import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { recordPackageVersion } from "../core/package-info";

/** Properties of a {@link MonthlyBudget}. */
export interface MonthlyBudgetProps {
  /** Budget name, unique in the account (at most 100 characters). */
  readonly budgetName: string;
  /** Monthly cost limit in US dollars. */
  readonly limitUsd: number;
  /**
   * SNS topic told when the forecast or actual cost exceeds its percentage of the limit (AWS Budgets allows
   * one per notification).
   * @default - none; then `emails` must name someone
   */
  readonly alertTopicArn?: string;
  /**
   * Email addresses told as well (AWS Budgets allows up to 10 per notification).
   * @default - none
   */
  readonly emails?: readonly string[];
  /**
   * Percentage of the limit that the month's FORECASTED cost may reach before people are told.
   * @default 80
   */
  readonly forecastedPercent?: number;
  /**
   * Percentage of the limit that the month's ACTUAL cost may reach before people are told.
   * @default 100
   */
  readonly actualPercent?: number;
  /**
   * Resources to create first, such as the alert topic's policy (AWS checks it may publish when the
   * subscription is made).
   * @default - none
   */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * An AWS Budgets cost budget for one environment's account: a monthly USD limit with a notification when
 * the forecast exceeds 80 % of it and another when actual spend exceeds 100 % (both percentages adjustable),
 * to the alert topic and/or email addresses.
 *
 * @example
 * new MonthlyBudget(this, "Budget", {
 *   budgetName: "mlops-dev-monthly", limitUsd: 2000, alertTopicArn: topic.topicArn,
 * });
 */
export class MonthlyBudget extends Construct {
  readonly resource: BudgetsBudget;

  constructor(scope: Construct, id: string, props: MonthlyBudgetProps) {
    super(scope, id);
    recordPackageVersion(this);
    const where = `MonthlyBudget ${this.node.path}`;
    if (!Number.isFinite(props.limitUsd) || props.limitUsd <= 0) {
      throw new Error(`${where}: limitUsd must be a positive number of US dollars, got ${props.limitUsd}`);
    }
    if (props.budgetName.length === 0 || props.budgetName.length > 100) {
      throw new Error(`${where}: budgetName must be 1-100 characters, got ${props.budgetName.length}`);
    }
    const emails = [...(props.emails ?? [])];
    if (emails.length > 10)
      throw new Error(`${where}: AWS Budgets notifies at most 10 email addresses, got ${emails.length}`);
    if (emails.length === 0 && !props.alertTopicArn) {
      throw new Error(
        `${where}: give alertTopicArn or emails, or nobody is told when the budget is exceeded`,
      );
    }
    const forecasted = props.forecastedPercent ?? 80;
    const actual = props.actualPercent ?? 100;
    for (const [prop, value] of [
      ["forecastedPercent", forecasted],
      ["actualPercent", actual],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0 || value > 1000) {
        throw new Error(`${where}: ${prop} must be a percentage above 0 and at most 1000, got ${value}`);
      }
    }
    const subscribers = {
      ...(props.alertTopicArn ? { subscriberSnsTopicArns: [props.alertTopicArn] } : {}),
      ...(emails.length > 0 ? { subscriberEmailAddresses: emails } : {}),
    };

    this.resource = new BudgetsBudget(this, "Resource", {
      name: props.budgetName,
      budgetType: "COST",
      // Budgets stores the amount as a decimal string; a fixed format keeps plans free of "1000" vs "1000.0" noise.
      limitAmount: props.limitUsd.toFixed(2),
      dependsOn: props.dependsOn,
      limitUnit: "USD",
      timeUnit: "MONTHLY",
      notification: [
        {
          notificationType: "FORECASTED",
          comparisonOperator: "GREATER_THAN",
          threshold: forecasted,
          thresholdType: "PERCENTAGE",
          ...subscribers,
        },
        {
          notificationType: "ACTUAL",
          comparisonOperator: "GREATER_THAN",
          threshold: actual,
          thresholdType: "PERCENTAGE",
          ...subscribers,
        },
      ],
    });
  }
}
