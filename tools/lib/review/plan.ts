/**
 * Reviews of real plans: `terraform show -json <planfile>` output turned into the same review model as
 * the configuration diff, so one renderer serves both. Sensitive values are masked, values known only
 * after apply are marked, and drift (`resource_drift`) is listed apart from the change.
 */
import { diffValues, formatPath, schemaPath, valueAt, type RawChange, type Segment } from "./diff";
import { isStatefulType, weakenedProtection, whatIsLost } from "./risk";
import {
  summarize,
  sortStacks,
  type Action,
  type AttributeChange,
  type ResourceReview,
  type Review,
  type Risk,
  type StackReview,
} from "./types";

/** The parts of `terraform show -json` this module reads. */
export interface PlanJson {
  readonly format_version?: string;
  readonly resource_changes?: PlanResourceChange[];
  readonly resource_drift?: PlanResourceChange[];
  readonly errored?: boolean;
}

/** One entry of `resource_changes` or `resource_drift`. */
export interface PlanResourceChange {
  readonly address: string;
  readonly previous_address?: string;
  readonly mode?: "managed" | "data";
  readonly type: string;
  readonly action_reason?: string;
  readonly change: {
    readonly actions: string[];
    readonly before?: unknown;
    readonly after?: unknown;
    readonly after_unknown?: unknown;
    readonly before_sensitive?: unknown;
    readonly after_sensitive?: unknown;
    readonly replace_paths?: Segment[][];
    readonly importing?: { id?: string; identity?: unknown };
  };
}

/** What replaces a sensitive value in the output. */
export const SENSITIVE = "(sensitive)";
/** What stands for a value Terraform knows only after apply. */
export const KNOWN_AFTER_APPLY = "(known after apply)";

const ACTION_REASONS: Record<string, string> = {
  replace_because_tainted: "the object is tainted",
  replace_because_cannot_update: "an attribute cannot change in place",
  replace_by_request: "replacement was requested (-replace)",
  delete_because_no_resource_config: "it is no longer in the configuration",
  delete_because_no_module: "its module is no longer in the configuration",
  delete_because_wrong_repetition: "count/for_each changed how it repeats",
  delete_because_count_index: "its count index is out of range",
  delete_because_each_key: "its for_each key is gone",
};

/** True when `mask` (a `*_sensitive` or `after_unknown` tree) marks the value at `segments`, or above it. */
function marked(mask: unknown, segments: readonly Segment[]): boolean {
  if (mask === true) return true;
  let current: unknown = mask;
  for (const segment of segments) {
    if (current === true) return true;
    if (current === null || typeof current !== "object") return false;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current === true;
}

/** Masks sensitive leaves in a value (used for nested values reported whole). */
function maskValue(value: unknown, mask: unknown): unknown {
  if (mask === true) return SENSITIVE;
  if (!mask || typeof mask !== "object" || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item, i) => maskValue(item, (mask as unknown[])[i]));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
      key,
      maskValue(inner, (mask as Record<string, unknown>)[key]),
    ]),
  );
}

function attributeChanges(change: PlanResourceChange["change"], action: Action): AttributeChange[] {
  const raw: RawChange[] = diffValues(change.before ?? undefined, change.after ?? undefined);
  const changes: AttributeChange[] = [];
  for (const { segments, before, after } of raw) {
    const unknown = marked(change.after_unknown, segments);
    // A replacement makes every computed attribute (id, arn...) unknown again: noise, not a change.
    if (unknown && action !== "update") continue;
    const beforeSensitive = marked(change.before_sensitive, segments);
    const afterSensitive = marked(change.after_sensitive, segments);
    changes.push({
      path: formatPath(segments),
      before: beforeSensitive
        ? SENSITIVE
        : (maskValue(before, valueAt(change.before_sensitive, segments)) ?? null),
      after: afterSensitive
        ? SENSITIVE
        : unknown
          ? KNOWN_AFTER_APPLY
          : (maskValue(after, valueAt(change.after_sensitive, segments)) ?? null),
    });
  }
  return changes;
}

/** True for Terraform 1.7+'s `forget` (a `removed` block with `destroy = false`), alone or in a replacement. */
const forgets = (entry: PlanResourceChange) => entry.change.actions.includes("forget");

function actionOf(entry: PlanResourceChange): Action | undefined {
  const actions = entry.change.actions;
  if ((actions.includes("delete") || actions.includes("forget")) && actions.includes("create"))
    return "replace";
  // The object leaves the state but stays in AWS: to the state (and the reader) it is gone, like a delete.
  if (actions.includes("forget")) return "delete";
  if (actions.includes("create")) return entry.change.importing ? "import" : "create";
  if (actions.includes("delete")) return "delete";
  if (actions.includes("update"))
    return entry.previous_address ? "move" : entry.change.importing ? "import" : "update";
  if (entry.previous_address) return "move";
  if (entry.change.importing) return "import";
  return undefined;
}

type Body = Record<string, unknown> | undefined;
const asBody = (value: unknown): Body =>
  value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;

/** One resource change of a plan, or undefined for no-ops and reads. */
export function reviewPlanChange(entry: PlanResourceChange): ResourceReview | undefined {
  if (entry.mode === "data") return undefined;
  const action = actionOf(entry);
  if (!action) return undefined;
  const { change } = entry;
  const reasons: string[] = [];
  let risk: Risk = action === "create" || action === "import" || action === "move" ? "none" : "low";
  const stateful = isStatefulType(entry.type);
  if (entry.previous_address) reasons.push(`moved from ${entry.previous_address}`);
  if (change.importing) reasons.push(`imported (${change.importing.id ?? "by identity"})`);
  const forgotten = forgets(entry);
  if (action === "replace") {
    const paths = (change.replace_paths ?? []).map((path) => formatPath(path));
    reasons.push(
      paths.length
        ? `${paths.join(", ")} forces replacement`
        : `replaced: ${ACTION_REASONS[entry.action_reason ?? ""] ?? "see the plan"}`,
    );
    if (forgotten) {
      reasons.push(
        "destroy = false: Terraform forgets the existing object, which stays in AWS, and creates a new one",
      );
      // The data stays in the forgotten object, but what the configuration manages from now on starts empty.
      if (stateful) reasons.push(`the new ${entry.type} starts without the data of the old one`);
    } else if (stateful) reasons.push(`replacing this ${entry.type}: ${whatIsLost(entry.type)}`);
  }
  if (action === "delete" && forgotten) {
    // Nothing is destroyed: the object keeps its data and protection but Terraform no longer manages it.
    reasons.push("removed block with destroy = false: Terraform forgets it, the object stays in AWS");
  } else if (action === "delete") {
    reasons.push(`deleted: ${ACTION_REASONS[entry.action_reason ?? ""] ?? "see the plan"}`);
    if (stateful) reasons.push(`deleting this ${entry.type}: ${whatIsLost(entry.type)}`);
  }
  if ((action === "replace" || (action === "delete" && !forgotten)) && stateful) risk = "high";
  const weakened =
    action === "delete" && forgotten
      ? []
      : weakenedProtection(
          entry.type,
          asBody(change.before),
          action === "delete" ? undefined : asBody(change.after),
        );
  if (asBody(change.before) && weakened.length) {
    reasons.push(...weakened);
    risk = "high";
  }
  if (action === "update" && schemaPathsOnlyTags(change)) risk = "none";
  return {
    address: entry.address,
    type: entry.type,
    action,
    risk,
    reasons,
    changes: action === "create" || action === "delete" ? [] : attributeChanges(change, action),
    ...(entry.previous_address ? { previousAddress: entry.previous_address } : {}),
  };
}

function schemaPathsOnlyTags(change: PlanResourceChange["change"]): boolean {
  const raw = diffValues(change.before ?? undefined, change.after ?? undefined);
  return (
    raw.length > 0 && raw.every((c) => ["tags", "tags_all"].includes(schemaPath(c.segments).split(".")[0]))
  );
}

/** Where a plan's stack and environment come from when the caller does not say. */
export interface PlanLabel {
  readonly stack: string;
  readonly environment?: string;
}

function environmentOf(plan: PlanJson, stack: string): string {
  for (const entry of plan.resource_changes ?? []) {
    for (const side of [entry.change.after, entry.change.before]) {
      const tag = (asBody(side)?.tags_all as Record<string, string> | undefined)?.Environment;
      if (tag) return tag;
    }
  }
  const parts = stack.split("-");
  return parts.length >= 3 ? parts[parts.length - 2] : stack;
}

/** Reviews one stack's plan. */
export function reviewPlan(plan: PlanJson, label: PlanLabel): StackReview {
  // `terraform show -json <plan>` always writes format_version; JSON without it is some other file, and
  // reviewing it would report "no change".
  if (
    typeof plan !== "object" ||
    plan === null ||
    Array.isArray(plan) ||
    typeof plan.format_version !== "string"
  )
    throw new Error(
      `${label.stack}: not a Terraform plan in JSON (it has no format_version); make one with ` +
        "terraform show -json <plan file>",
    );
  // `terraform show -json` without a plan file shows the state, with format_version too: its `values` are
  // what exists, and a plan has `planned_values` instead.
  if ("values" in plan && !("planned_values" in plan))
    throw new Error(
      `${label.stack}: the JSON of a state, not of a plan; make one with terraform show -json <plan file>`,
    );
  const major = plan.format_version.split(".")[0];
  if (major !== "1")
    throw new Error(
      `${label.stack}: plan format_version ${plan.format_version} is not supported (expected 1.x)`,
    );
  const resources = (plan.resource_changes ?? [])
    .map(reviewPlanChange)
    .filter((r): r is ResourceReview => Boolean(r));
  const drift = (plan.resource_drift ?? [])
    .map(reviewPlanChange)
    .filter((r): r is ResourceReview => Boolean(r))
    .map((r) => ({ ...r, reasons: ["changed outside Terraform", ...r.reasons] }));
  return {
    stack: label.stack,
    environment: label.environment ?? environmentOf(plan, label.stack),
    resources,
    ...(drift.length ? { drift } : {}),
  };
}

/** Reviews several stacks' plans as one review. */
export function reviewPlans(plans: { plan: PlanJson; label: PlanLabel }[]): Review {
  const stacks = sortStacks(plans.map(({ plan, label }) => reviewPlan(plan, label)));
  const notes = plans
    .filter(({ plan }) => plan.errored)
    .map(({ label }) => `The plan of ${label.stack} errored: it is incomplete.`);
  return { kind: "plan", stacks, summary: summarize(stacks), notes };
}
