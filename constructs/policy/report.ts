/**
 * Policy findings grouped by environment: what `npm run policy -- --format json` prints, and what a synth in
 * report mode writes to `policy-report.json` beside the stacks (the review reads it instead of evaluating the
 * rules again).
 */
import type { PolicyFinding } from "./engine";
import { compareCodeUnits } from "../core/order";

/** Counts of findings. */
export interface PolicySummary {
  readonly passed: number;
  readonly failed: number;
  /** Failures at level error: they block synthesis. */
  readonly blocking: number;
  readonly suppressed: number;
}

/** The findings of one environment. */
export interface EnvironmentPolicyReport {
  readonly environment: string;
  readonly tier: string;
  readonly stacks: readonly string[];
  readonly summary: PolicySummary;
  /** Every finding: pass, fail and suppressed. */
  readonly findings: readonly PolicyFinding[];
}

/** The report of a whole synthesis: every environment's findings and how many block. */
export interface PolicyReport {
  readonly environments: readonly EnvironmentPolicyReport[];
  readonly blocking: number;
}

/** The file a synth in report mode writes into its output folder. */
export const POLICY_REPORT_FILE = "policy-report.json";

/** Counts the findings by result. */
export function summarize(findings: readonly PolicyFinding[]): PolicySummary {
  return {
    passed: findings.filter((f) => f.result === "pass").length,
    failed: findings.filter((f) => f.result === "fail").length,
    blocking: findings.filter((f) => f.blocking).length,
    suppressed: findings.filter((f) => f.result === "suppressed").length,
  };
}

/** The findings grouped by environment, environments sorted by name, findings and stacks in the given order. */
export function reportsByEnvironment(findings: readonly PolicyFinding[]): EnvironmentPolicyReport[] {
  const byEnvironment = new Map<string, PolicyFinding[]>();
  for (const finding of findings) {
    const group = byEnvironment.get(finding.environment) ?? [];
    group.push(finding);
    byEnvironment.set(finding.environment, group);
  }
  return [...byEnvironment.entries()]
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([environment, group]) => ({
      environment,
      tier: group[0].tier,
      stacks: [...new Set(group.map((finding) => finding.stack))],
      summary: summarize(group),
      findings: group,
    }));
}

/** The whole report of `findings`. */
export function policyReport(findings: readonly PolicyFinding[]): PolicyReport {
  const environments = reportsByEnvironment(findings);
  return { environments, blocking: environments.reduce((sum, r) => sum + r.summary.blocking, 0) };
}
