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
 *    `findings`, `results` or `environments[].findings` (entries whose `result` or `status` is `pass` or
 *    `suppressed` are ignored; a `blocking` flag decides the severity when present).
 * A side without a source has no findings, and a delta is only computed when both sides have a source,
 * so a base that predates the policy pack does not make every head finding look new.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../terraform";
import type { ResourceReview, StackReview } from "./types";
import { isBlocking, maxRisk } from "./types";

/** One policy finding on one resource. */
export interface PolicyFinding {
  readonly ruleId: string;
  /** `error` blocks (high risk when added); `warning` and `info` do not. */
  readonly severity: string;
  readonly stack: string;
  /** The Terraform address, when known. */
  readonly address?: string;
  /** The construct path, when known (used when there is no address). */
  readonly constructPath?: string;
  readonly message: string;
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
    if (result && ["pass", "passed", "ok", "suppressed"].includes(result)) continue;
    const ruleId = pick(raw, "ruleId", "rule", "id");
    if (!ruleId) continue;
    findings.push({
      ruleId,
      // A report that says whether a failure blocks is believed over its severity label.
      severity:
        typeof raw.blocking === "boolean"
          ? raw.blocking
            ? "error"
            : "warning"
          : (pick(raw, "severity", "level") ?? "warning"),
      stack: pick(raw, "stack", "stackName") ?? "",
      address: pick(raw, "address", "resource"),
      constructPath: pick(raw, "constructPath", "path"),
      message: pick(raw, "message", "title", "description") ?? ruleId,
    });
  }
  return findings;
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

/**
 * Adds the findings that head has and base has not (`added`) and those base has and head has not
 * (`fixed`) to the stacks: on the changed resource they concern (an added blocking finding makes it high
 * risk), else on the stack.
 */
export function applyFindings(
  stacks: StackReview[],
  base: PolicyFinding[],
  head: PolicyFinding[],
): StackReview[] {
  const baseKeys = new Set(base.map(keyOf));
  const headKeys = new Set(head.map(keyOf));
  const delta = [
    ...head.filter((f) => !baseKeys.has(keyOf(f))).map((f) => ({ finding: f, status: "added" as const })),
    ...base.filter((f) => !headKeys.has(keyOf(f))).map((f) => ({ finding: f, status: "fixed" as const })),
  ];
  const result = stacks.map((stack) => ({
    ...stack,
    resources: [...stack.resources],
    findings: [...(stack.findings ?? [])],
  }));
  for (const { finding, status } of delta) {
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
    const text = `policy ${finding.ruleId} ${status === "added" ? "fails" : "fixed"}: ${finding.message}`;
    if (index >= 0) {
      const resource: ResourceReview = stack.resources[index];
      const risk =
        status === "added" ? maxRisk(resource.risk, isBlocking(finding) ? "high" : "low") : resource.risk;
      stack.resources[index] = { ...resource, risk, reasons: [...resource.reasons, text] };
    }
    stack.findings.push({
      status,
      ruleId: finding.ruleId,
      severity: finding.severity,
      message: finding.message,
      ...(finding.address
        ? { address: finding.address }
        : finding.constructPath
          ? { address: finding.constructPath }
          : {}),
    });
  }
  return result;
}
