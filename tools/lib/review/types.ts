/**
 * The review model shared by the configuration diff (`npm run review`) and the plan summary
 * (`npm run plan-summary`), and its JSON form (`--format json`).
 */
import { compareCodeUnits } from "../../../constructs/core/order";

/** What happens to one resource. */
export type Action = "create" | "update" | "delete" | "replace" | "move" | "import";

/** How much a reviewer should worry. */
export type Risk = "none" | "low" | "high";

/** The actions in the order the summary and the details list them. */
export const ACTIONS: readonly Action[] = ["replace", "delete", "move", "update", "create", "import"];

/** One changed attribute. `path` is like `versioning_configuration[0].status` or `policy.Statement[0].Effect`. */
export interface AttributeChange {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * What a policy finding did between base and head: `added` (newly fails), `suppressed` (newly let through by
 * a suppression, whose `reason` is given) or `fixed` (no longer fails nor needs a suppression).
 */
export interface FindingChange {
  readonly status: "added" | "suppressed" | "fixed";
  readonly ruleId: string;
  readonly severity: string;
  readonly message: string;
  /** `high` for an added blocking finding or a suppressed critical one that would block, `none` for a fix. */
  readonly risk: Risk;
  readonly address?: string;
  /** The suppression's reason (`suppressed` only). */
  readonly reason?: string;
}

/** One resource of one stack. */
export interface ResourceReview {
  readonly address: string;
  readonly type: string;
  readonly action: Action;
  readonly risk: Risk;
  readonly reasons: string[];
  readonly changes: AttributeChange[];
  /** For a move: where the resource was. */
  readonly previousAddress?: string;
  /** The construct path (`mlops-dev-data/RawBucket/Resource`), when the configuration says it. */
  readonly constructPath?: string;
}

/** The changes of one stack. */
export interface StackReview {
  readonly stack: string;
  readonly environment: string;
  readonly resources: ResourceReview[];
  /** Objects changed outside Terraform (plans only). */
  readonly drift?: ResourceReview[];
  /** Policy findings the change adds, suppresses or fixes. */
  readonly findings?: FindingChange[];
}

/** Counts over every stack. */
export interface ReviewSummary {
  create: number;
  update: number;
  delete: number;
  replace: number;
  move: number;
  import: number;
  highRisk: number;
}

/** A whole review. */
export interface Review {
  /** `configuration-diff` compares synthesized configuration; `plan` summarises `terraform show -json`. */
  readonly kind: "configuration-diff" | "plan";
  readonly base?: string;
  readonly head?: string;
  readonly stacks: StackReview[];
  readonly summary: ReviewSummary;
  /** Things the reader must know about how the review was made (what it cannot see, what was skipped). */
  readonly notes: string[];
}

const RISK_ORDER: Record<Risk, number> = { none: 0, low: 1, high: 2 };

/** The higher of two risks. */
export function maxRisk(a: Risk, b: Risk): Risk {
  return RISK_ORDER[a] >= RISK_ORDER[b] ? a : b;
}

/** True when `risk` is at least `threshold`. */
export function riskAtLeast(risk: Risk, threshold: Risk): boolean {
  return RISK_ORDER[risk] >= RISK_ORDER[threshold];
}

/** Counts the actions and high-risk items of `stacks`. */
export function summarize(stacks: readonly StackReview[]): ReviewSummary {
  const summary: ReviewSummary = {
    create: 0,
    update: 0,
    delete: 0,
    replace: 0,
    move: 0,
    import: 0,
    highRisk: 0,
  };
  for (const stack of stacks) {
    for (const resource of stack.resources) {
      summary[resource.action]++;
      if (resource.risk === "high") summary.highRisk++;
    }
    // A high-risk finding on a changed resource already made it high risk; count the others here.
    summary.highRisk += unattachedFindings(stack).filter((f) => f.risk === "high").length;
  }
  return summary;
}

/** True when `finding` concerns one of the stack's changed resources (and so is counted with it). */
export function onChangedResource(stack: StackReview, finding: FindingChange): boolean {
  const { address } = finding;
  return (
    address !== undefined && stack.resources.some((r) => r.address === address || r.constructPath === address)
  );
}

/** The finding changes of `stack` that concern no changed resource. */
export function unattachedFindings(stack: StackReview): FindingChange[] {
  return (stack.findings ?? []).filter((finding) => !onChangedResource(stack, finding));
}

/**
 * How many changes of `stacks` are at least `threshold` risky: resources, and policy findings on resources
 * that do not change (a finding on a changed resource already raised that resource's risk). `--fail-on`
 * fails when it is not zero, so `--fail-on low` fails on everything `--fail-on high` fails on.
 */
export function countAtLeast(stacks: readonly StackReview[], threshold: Risk): number {
  return stacks.reduce(
    (count, stack) =>
      count +
      stack.resources.filter((r) => riskAtLeast(r.risk, threshold)).length +
      unattachedFindings(stack).filter((f) => riskAtLeast(f.risk, threshold)).length,
    0,
  );
}

/** Findings of these severities make a change high risk. */
export function isBlocking(finding: { severity: string }): boolean {
  return ["error", "high", "critical", "blocking"].includes(finding.severity.toLowerCase());
}

/** Orders stacks by environment then name, and resources by action then address, so output is stable. */
export function sortStacks(stacks: StackReview[]): StackReview[] {
  const order = (action: Action) => ACTIONS.indexOf(action);
  return [...stacks]
    .sort((a, b) => compareCodeUnits(a.environment, b.environment) || compareCodeUnits(a.stack, b.stack))
    .map((stack) => ({
      ...stack,
      resources: [...stack.resources].sort(
        (a, b) => order(a.action) - order(b.action) || compareCodeUnits(a.address, b.address),
      ),
    }));
}
