/**
 * `npm run policy -- [environment...] [--format table|json] [--all] [--outdir DIR]`: synthesizes the
 * environments (offline, with the policy pack in report mode so every finding is listed instead of the first
 * stack's stopping synthesis) and prints each environment's findings: rule, resource, construct path and
 * result, with suppressions and their reasons.
 *
 * Exit codes: 0 when nothing blocks, 1 when a rule at level error fails, 2 for a bad environment file or usage.
 * With `--outdir DIR` and `--no-synth`, it reads an existing cdktf output instead of synthesizing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { policyReport } from "../constructs/policy/report";
import { formatPolicyTables, policyFindings } from "./lib/policy";
import { run } from "./lib/terraform";

const USAGE =
  "usage: npm run policy -- [environment...] [--format table|json] [--all] [--outdir DIR [--no-synth]]";

/** Synthesizes `environments` into `outdir`; the exit code to end with when it failed (its output printed). */
async function synthesize(environments: readonly string[], outdir: string): Promise<number | undefined> {
  const result = await run(process.execPath, ["--import", "tsx", "main.ts"], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      MLOPS_ENVIRONMENTS: environments.join(","),
      MLOPS_OFFLINE: "1",
      MLOPS_POLICY: "report",
      CDKTF_OUTDIR: outdir,
    },
  });
  if (result.code === 0) return undefined;
  process.stderr.write(result.stderr);
  return result.code === 2 ? 2 : 1;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        format: { type: "string", default: "table" },
        all: { type: "boolean", default: false },
        outdir: { type: "string" },
        "no-synth": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.format !== "table" && values.format !== "json") {
    process.stderr.write(`--format must be table or json\n${USAGE}\n`);
    process.exit(2);
  }
  const temporary = values.outdir ? undefined : mkdtempSync(join(tmpdir(), "mlops-policy-"));
  const outdir = values.outdir ?? temporary!;
  try {
    // Not process.exit: the temporary folder is removed on the way out.
    const failed = values["no-synth"] ? undefined : await synthesize(positionals, outdir);
    if (failed !== undefined) {
      process.exitCode = failed;
      return;
    }
    const { environments, blocking } = policyReport(
      policyFindings(outdir).filter((f) => positionals.length === 0 || positionals.includes(f.environment)),
    );
    if (values.format === "json") {
      process.stdout.write(`${JSON.stringify({ environments, blocking }, null, 2)}\n`);
    } else {
      process.stdout.write(formatPolicyTables(environments, { all: values.all }));
      process.stdout.write(
        blocking > 0
          ? `\n${blocking} blocking finding(s): fix them, or suppress a rule on its construct with a reason (docs/policy.md).\n`
          : "\nNo blocking findings.\n",
      );
    }
    process.exitCode = blocking > 0 ? 1 : 0;
  } finally {
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  }
}

void main();
