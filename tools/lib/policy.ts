/**
 * Policy findings of a synthesized `cdktf.out`, for `npm run policy` and for the pull-request review, which
 * compares the findings of two syntheses by their `key`. Reads JSON only: the engine and rules it imports
 * depend on neither cdktf nor the provider packages.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { evaluateStack, type PolicyFinding, type SynthesizedStackJson } from "../../constructs/policy/engine";
import { type EnvironmentPolicyReport, reportsByEnvironment } from "../../constructs/policy/report";
import { RULES } from "../../constructs/policy/rules";

export type { EnvironmentPolicyReport, PolicyReport, PolicySummary } from "../../constructs/policy/report";
export { summarize } from "../../constructs/policy/report";

/** Every finding of every stack in `outdir` (a cdktf output folder), in manifest order. */
export function policyFindings(outdir: string): PolicyFinding[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    stacks: Record<string, { name: string; synthesizedStackPath: string }>;
  };
  return Object.values(manifest.stacks).flatMap((entry) => {
    const json = JSON.parse(
      readFileSync(join(outdir, entry.synthesizedStackPath), "utf8"),
    ) as SynthesizedStackJson;
    return evaluateStack(json, RULES, { stack: entry.name });
  });
}

/** The findings of `outdir` grouped by environment, environments sorted by name. */
export function policyReports(outdir: string): EnvironmentPolicyReport[] {
  return reportsByEnvironment(policyFindings(outdir));
}

/**
 * A plain-text table per environment: failures and suppressions (and passes with `all`), each with its rule,
 * resource, construct path and result, then the problem and the fix (or the suppression's reason).
 */
export function formatPolicyTables(
  reports: readonly EnvironmentPolicyReport[],
  options: { all?: boolean } = {},
): string {
  const lines: string[] = [];
  for (const report of reports) {
    const { passed, failed, blocking, suppressed } = report.summary;
    lines.push(
      `Environment ${report.environment} (tier ${report.tier}): ${failed} failed (${blocking} blocking), ` +
        `${suppressed} suppressed, ${passed} passed`,
    );
    const shown = report.findings.filter((f) => options.all || f.result !== "pass");
    if (shown.length === 0) {
      lines.push("  no findings", "");
      continue;
    }
    const rows = shown.map((f) => [resultLabel(f), f.rule, f.address, f.path]);
    const header = ["RESULT", "RULE", "RESOURCE", "CONSTRUCT PATH"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const format = (row: string[]) =>
      `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")}`;
    lines.push(format(header));
    shown.forEach((finding, index) => {
      lines.push(format(rows[index]));
      if (finding.result === "fail") {
        lines.push(`      ${finding.title}: ${finding.problems.join("; ")}`, `      Fix: ${finding.fix}`);
      } else if (finding.result === "suppressed") {
        lines.push(`      ${finding.title}: suppressed because ${finding.reason}`);
      }
    });
    lines.push("");
  }
  return lines.join("\n");
}

function resultLabel(finding: PolicyFinding): string {
  if (finding.result === "fail") return finding.blocking ? "FAIL (blocking)" : `FAIL (${finding.level})`;
  return finding.result === "suppressed" ? "SUPPRESSED" : "pass";
}
