/**
 * Policy findings in the review: which findings of the policy pack a change adds and which it fixes.
 *
 * The review does not know the rules; it asks a {@link FindingsSource} for the findings of each side and
 * compares them. Two sources are built in, tried in order:
 * 1. `policy-report.json` in the synthesized output folder (`cdktf.out/policy-report.json`), when the
 *    synth writes one (this app does in report mode, which is how the review synthesizes both sides):
 *    `{ "findings": [ { "ruleId", "severity", "stack", "address" | "constructPath", "message" } ] }` (a bare
 *    array is accepted too, and so is the shape of `npm run policy -- --format json`, which this app writes).
 * 2. The tree's `npm run policy -- --format json --outdir <synth output> --no-synth`, when its
 *    `package.json` has a `policy` script; its output may be a list of findings or an object with
 *    `findings`, `results` or `environments[].findings` (entries whose `result` or `status` is `pass` are
 *    ignored; a `blocking` flag decides the severity when present).
 * Suppressed findings (`result: "suppressed"`, with the suppression's `reason`) are kept: a finding that
 * goes from failing (or absent) to suppressed is a new exception, not a fix, and is reported as such.
 * A side without a source has no findings, and a delta is only computed when both sides have a source,
 * so a base that predates the policy pack does not make every head finding look new.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../terraform";
import type { FindingChange, ResourceReview, Risk, StackReview } from "./types";
import { isBlocking, maxRisk } from "./types";

/** One policy finding on one resource. */
export interface PolicyFinding {
  readonly ruleId: string;
  /**
   * `error` blocks (high risk when added); `warning` and `info` do not. For a suppressed finding: what it
   * would do without the suppression.
   */
  readonly severity: string;
  /** The rule's own severity (`critical`, `high`...), when the report gives one besides a blocking flag. */
  readonly ruleSeverity?: string;
  readonly stack: string;
  /** The Terraform address, when known. */
  readonly address?: string;
  /** The construct path, when known (used when there is no address). */
  readonly constructPath?: string;
  readonly message: string;
  /** True when a suppression on the construct lets the finding through; `reason` says why. */
  readonly suppressed?: boolean;
  /** The suppression's reason, as the report records it (`PolicySuppressions.add(..., reason)`). */
  readonly reason?: string;
}

/** One side of the review as a findings source sees it. */
export interface ReviewSide {
  /** The checked-out tree (the project root or the base's temporary worktree). */
  readonly treeDir: string;
  /** Where that tree was synthesized. */
  readonly outdir: string;
}

/** Where findings come from; `undefined` means "this source does not apply to this side". */
export interface FindingsSource {
  readonly name: string;
  collect(side: ReviewSide): Promise<PolicyFinding[] | undefined>;
}

function pick(entry: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = entry[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

/** Normalises the findings of a report in any of the accepted shapes. */
export function parseFindings(json: unknown): PolicyFinding[] {
  const object = json as
    { findings?: unknown; results?: unknown; environments?: { findings?: unknown }[] } | undefined;
  const list = Array.isArray(json)
    ? json
    : Array.isArray(object?.findings)
      ? object.findings
      : Array.isArray(object?.results)
        ? object.results
        : Array.isArray(object?.environments)
          ? object.environments.flatMap((environment) =>
              Array.isArray(environment.findings) ? environment.findings : [],
            )
          : [];
  const findings: PolicyFinding[] = [];
  for (const raw of list as Record<string, unknown>[]) {
    if (!raw || typeof raw !== "object") continue;
    const result = pick(raw, "result", "status")?.toLowerCase();
    if (result && ["pass", "passed", "ok"].includes(result)) continue;
    const ruleId = pick(raw, "ruleId", "rule", "id");
    if (!ruleId) continue;
    const suppressed = result === "suppressed";
    const ruleSeverity = pick(raw, "severity");
    const reason = pick(raw, "reason", "justification");
    findings.push({
      ruleId,
      severity: severityOf(raw, suppressed),
      ...(ruleSeverity ? { ruleSeverity } : {}),
      stack: pick(raw, "stack", "stackName") ?? "",
      address: pick(raw, "address", "resource"),
      constructPath: pick(raw, "constructPath", "path"),
      message: pick(raw, "message", "title", "description") ?? ruleId,
      ...(suppressed ? { suppressed, reason: reason ?? "(no reason given)" } : {}),
    });
  }
  return findings;
}

/**
 * Whether a finding blocks when it fails: a report that says so (`blocking`) is believed over its severity
 * label. A suppressed finding never blocks, so its `level` (`error`, `warn`) says what it would do without
 * the suppression.
 */
function severityOf(raw: Record<string, unknown>, suppressed: boolean): string {
  const level = pick(raw, "level")?.toLowerCase();
  if (suppressed && typeof raw.blocking === "boolean" && level)
    return level === "error" ? "error" : "warning";
  if (typeof raw.blocking === "boolean" && !suppressed) return raw.blocking ? "error" : "warning";
  return pick(raw, "severity", "level") ?? "warning";
}

/**
 * The risk of a new suppression. Critical rules guard against what the review already calls high risk when
 * a change does it directly (public access, lost data, unencrypted secrets), so suppressing one where it
 * would block (test, prod) is high risk too; any other new suppression is low: it is a reviewed exception,
 * but an exception the reviewer must see.
 */
export function suppressionRisk(finding: PolicyFinding): Risk {
  const critical = (finding.ruleSeverity ?? finding.severity).toLowerCase() === "critical";
  return critical && isBlocking(finding) ? "high" : "low";
}

/** Reads `<outdir>/policy-report.json`. */
export const reportFileSource: FindingsSource = {
  name: "policy-report.json",
  async collect(side) {
    const file = join(side.outdir, "policy-report.json");
    if (!existsSync(file)) return undefined;
    return parseFindings(JSON.parse(readFileSync(file, "utf8")));
  },
};

/** Runs the tree's `npm run policy -- --format json` (offline). */
export const policyScriptSource: FindingsSource = {
  name: "npm run policy",
  async collect(side) {
    const manifest = join(side.treeDir, "package.json");
    if (!existsSync(manifest)) return undefined;
    const scripts =
      (JSON.parse(readFileSync(manifest, "utf8")) as { scripts?: Record<string, string> }).scripts ?? {};
    if (!scripts.policy) return undefined;
    // The side is already synthesized: the policy tool evaluates that output instead of synthesizing again.
    const args = [
      "run",
      "--silent",
      "policy",
      "--",
      "--format",
      "json",
      "--outdir",
      side.outdir,
      "--no-synth",
    ];
    const result = await run("npm", args, { cwd: side.treeDir, env: { ...process.env, MLOPS_OFFLINE: "1" } });
    try {
      return parseFindings(JSON.parse(result.stdout));
    } catch {
      throw new Error(
        `npm run policy -- --format json printed no JSON (exit ${result.code}): ${result.stderr.slice(0, 500)}`,
      );
    }
  },
};

/** The built-in sources, in the order they are tried. */
export const DEFAULT_SOURCES: readonly FindingsSource[] = [reportFileSource, policyScriptSource];

/** The findings of one side from the first source that applies, or undefined when none does. */
export async function collectFindings(
  side: ReviewSide,
  sources: readonly FindingsSource[] = DEFAULT_SOURCES,
) {
  for (const source of sources) {
    const findings = await source.collect(side);
    if (findings) return { source: source.name, findings };
  }
  return undefined;
}

const keyOf = (f: PolicyFinding) => `${f.stack}|${f.ruleId}|${f.address ?? f.constructPath ?? ""}`;

type Delta = { finding: PolicyFinding; status: FindingChange["status"]; risk: Risk };

/**
 * What changed between the findings of base and head, by finding: `added` when head fails and base did not
 * (base passed, had none, or suppressed it), `suppressed` when head suppresses a finding that base failed or
 * did not have (a new exception), `fixed` when base failed or suppressed a finding that head neither fails
 * nor suppresses.
 */
function delta(base: PolicyFinding[], head: PolicyFinding[]): Delta[] {
  const keys = (list: PolicyFinding[], suppressed: boolean) =>
    new Set(list.filter((f) => Boolean(f.suppressed) === suppressed).map(keyOf));
  const baseFailing = keys(base, false);
  const baseSuppressed = keys(base, true);
  const headAny = new Set(head.map(keyOf));
  const added = (finding: PolicyFinding): Delta => ({
    finding,
    status: "added",
    risk: isBlocking(finding) ? "high" : "low",
  });
  const suppressed = (finding: PolicyFinding): Delta => ({
    finding,
    status: "suppressed",
    risk: suppressionRisk(finding),
  });
  const fixed = (finding: PolicyFinding): Delta => ({ finding, status: "fixed", risk: "none" });
  return [
    ...head.filter((f) => !f.suppressed && !baseFailing.has(keyOf(f))).map(added),
    ...head.filter((f) => f.suppressed && !baseSuppressed.has(keyOf(f))).map(suppressed),
    ...base.filter((f) => !headAny.has(keyOf(f))).map(fixed),
  ];
}

function reasonText(finding: PolicyFinding, status: FindingChange["status"]): string {
  if (status === "suppressed")
    return `policy ${finding.ruleId} suppressed: ${finding.message}; reason: ${finding.reason ?? ""}`;
  return `policy ${finding.ruleId} ${status === "added" ? "fails" : "fixed"}: ${finding.message}`;
}

/**
 * Adds the findings that head fails and base did not (`added`), those head newly suppresses (`suppressed`,
 * with the suppression's reason) and those base had and head has not (`fixed`) to the stacks: on the changed
 * resource they concern (raising its risk to the finding's), else on the stack.
 */
export function applyFindings(
  stacks: StackReview[],
  base: PolicyFinding[],
  head: PolicyFinding[],
): StackReview[] {
  const result = stacks.map((stack) => ({
    ...stack,
    resources: [...stack.resources],
    findings: [...(stack.findings ?? [])],
  }));
  for (const { finding, status, risk } of delta(base, head)) {
    let stack = result.find((s) => s.stack === finding.stack);
    if (!stack) {
      stack = {
        stack: finding.stack,
        environment: finding.stack.split("-").slice(-2, -1)[0] ?? "",
        resources: [],
        findings: [],
      };
      result.push(stack);
    }
    const index = stack.resources.findIndex(
      (r) =>
        (finding.address && r.address === finding.address) ||
        (finding.constructPath && r.constructPath === finding.constructPath),
    );
    if (index >= 0) {
      const resource: ResourceReview = stack.resources[index];
      stack.resources[index] = {
        ...resource,
        risk: maxRisk(resource.risk, risk),
        reasons: [...resource.reasons, reasonText(finding, status)],
      };
    }
    stack.findings.push({
      status,
      ruleId: finding.ruleId,
      severity: finding.severity,
      message: finding.message,
      risk,
      ...(finding.address
        ? { address: finding.address }
        : finding.constructPath
          ? { address: finding.constructPath }
          : {}),
      ...(status === "suppressed" ? { reason: finding.reason } : {}),
    });
  }
  return result;
}
