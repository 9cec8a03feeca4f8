import { App, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { compareCodeUnits } from "../core/order";
import { MIN_SUPPRESSION_REASON_LENGTH, type Suppression } from "./engine";
import { ruleById } from "./rules";

/** Construct metadata type under which suppressions are recorded. */
export const SUPPRESSION_METADATA = "mlops:policy-suppression";

/**
 * Suppressions of policy rules, attached to a construct: they apply to the Terraform resources of that
 * construct and of its children, never to a whole stack or app. Each needs a reason a reviewer can judge; the
 * reason is written next to the resource in `cdk.tf.json` (`//.policy_suppressions`), so it shows in the
 * policy report and in the pull-request diff.
 *
 * @example
 * PolicySuppressions.add(endpoint, "MLOPS-SM-002", "The model downloads its tokenizer from the Hugging Face Hub at start-up");
 */
export class PolicySuppressions {
  /**
   * Suppresses `rule` on `scope` and everything under it.
   * @throws when the rule does not exist, the reason is shorter than 10 characters, or `scope` is a stack or app.
   */
  static add(scope: IConstruct, rule: string, reason: string): void {
    const where = scope.node.path || "the app";
    if (TerraformStack.isStack(scope) || App.isApp(scope)) {
      throw new Error(
        `PolicySuppressions.add(${where}, "${rule}"): suppressions are never global; attach it to the construct that owns the resource.`,
      );
    }
    if (!ruleById(rule)) {
      throw new Error(
        `PolicySuppressions.add(${where}, "${rule}"): no such rule; the rules are listed in docs/policy.md.`,
      );
    }
    if (typeof reason !== "string" || reason.trim().length < MIN_SUPPRESSION_REASON_LENGTH) {
      throw new Error(
        `PolicySuppressions.add(${where}, "${rule}"): the reason must say why, in at least ${MIN_SUPPRESSION_REASON_LENGTH} characters (got ${JSON.stringify(reason)}).`,
      );
    }
    scope.node.addMetadata(SUPPRESSION_METADATA, { rule, reason: reason.trim() } satisfies Suppression);
  }

  /** The suppressions that apply to `construct`: its own and its ancestors', nearest first, one per rule. */
  static of(construct: IConstruct): Suppression[] {
    const found = new Map<string, Suppression>();
    for (const scope of [...construct.node.scopes].reverse()) {
      for (const entry of scope.node.metadata) {
        if (entry.type !== SUPPRESSION_METADATA) continue;
        const suppression = entry.data as Suppression;
        if (!found.has(suppression.rule)) found.set(suppression.rule, suppression);
      }
    }
    return [...found.values()].sort((a, b) => compareCodeUnits(a.rule, b.rule));
  }
}
