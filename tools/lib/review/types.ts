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

/** What a policy finding did between base and head. */
export interface FindingChange {
  readonly status: "added" | "fixed";
  readonly ruleId: string;
  readonly severity: string;
  readonly message: string;
  readonly address?: string;
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
  /** Policy findings the change adds or fixes. */
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
    // Added blocking findings on a changed resource already made it high risk; count the others here.
    const onChangedResource = (address?: string) =>
      stack.resources.some(
        (r) => address !== undefined && (r.address === address || r.constructPath === address),
      );
    summary.highRisk += (stack.findings ?? []).filter(
      (f) => f.status === "added" && isBlocking(f) && !onChangedResource(f.address),
    ).length;
  }
  return summary;
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
