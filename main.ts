/**
 * The cdktf app: loads every environment file, builds each environment's stacks and synthesizes them.
 *
 * Environment variables (read here only; constructs and stacks never read the environment):
 * - `MLOPS_OFFLINE=1`: local backends and a provider that needs no AWS account (see README, "Offline").
 * - `MLOPS_ENVIRONMENTS=dev,test`: synthesize only these environments (all are still validated).
 * - `MLOPS_ENVIRONMENTS_DIR`: where the environment files are (default `environments`).
 * - `MLOPS_POLICY=report`: policy failures become warnings instead of stopping synthesis, and every finding is
 *   written to `policy-report.json` beside the stacks (used by `npm run policy` and `npm run review`).
 * - `MLOPS_TOKEN_TRACES=1`: record where each cdktf token was created, to debug a token that fails to resolve
 *   (off by default: it costs a third of a synth).
 * - `CDKTF_OUTDIR`: where to write (set by the cdktf CLI; default `cdktf.out`).
 *
 * Packages load with less work than tsx gives them (`stacks/package-loading.ts`): no source maps or ESM lexing for
 * package files, and modules the app does not use loaded on first use. Stack traces show this repository's
 * TypeScript lines, and frames inside packages show their JavaScript.
 */
// First, before any package loads (see the module).
import "./stacks/package-loading";
import { z } from "zod";
import { EnvironmentConfigError, loadEnvironments } from "./environments/load";
import { buildApp, writePolicyReport } from "./stacks/app";
import { skipTokenCreationTraces } from "./stacks/token-traces";

function main(): void {
  // The app parses each environment file once, with schemas built per tier after this call. By default zod
  // compiles a parser for every object schema on its first parse, which costs more than it saves for one parse
  // each (about 60 ms of a synth).
  z.config({ jitless: true });
  const keepTraces = switchVariable("MLOPS_TOKEN_TRACES");
  const restoreTraces = keepTraces ? () => undefined : skipTokenCreationTraces();
  try {
    synthesize();
  } catch (error) {
    // Formatted when first read: after the restore, with TypeScript line numbers through source maps.
    restoreTraces();
    throw error;
  }
}

/**
 * The value of a switch variable: `false` unset or empty, `true` for 1/true/yes, `false` for 0/false/no. Any
 * other value stops synthesis (exit 2), so that a typo never silently means the opposite.
 */
function switchVariable(name: string): boolean {
  const value = (process.env[name] ?? "").trim().toLowerCase();
  if (["1", "true", "yes"].includes(value)) return true;
  if (["", "0", "false", "no"].includes(value)) return false;
  return usageError(`${name} is ${JSON.stringify(process.env[name])}; use 1, true or yes, or 0, false or no`);
}

function usageError(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function synthesize(): void {
  const only = (process.env.MLOPS_ENVIRONMENTS ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  let environments;
  try {
    // An empty value (a CI variable that is not set) means the default, as an unset one does.
    environments = loadEnvironments(process.env.MLOPS_ENVIRONMENTS_DIR || "environments", only);
  } catch (error) {
    if (error instanceof EnvironmentConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const offline = switchVariable("MLOPS_OFFLINE");
  const policyMode = process.env.MLOPS_POLICY || "enforce";
  if (policyMode !== "enforce" && policyMode !== "report") {
    usageError(`MLOPS_POLICY is ${JSON.stringify(policyMode)}; use enforce (the default) or report`);
  }
  const policy: "enforce" | "report" = policyMode;
  const { app, stacks } = buildApp({ environments, offline, policy, outdir: process.env.CDKTF_OUTDIR });
  try {
    app.synth();
    if (policy === "report") writePolicyReport(app.outdir, stacks);
  } catch (error) {
    // Validation failures (the policy pack's among them) name the stack, construct, rule and fix: a stack
    // trace would only bury them. Anything else is a bug and keeps its trace.
    if (!(error instanceof Error) || !error.message.startsWith("Validation failed")) throw error;
    const hint = "Fix them, or suppress a rule on its construct with a reason (see docs/policy.md).";
    process.stderr.write(
      `${error.message.replace(/\n\nIf you wish to ignore these validations[\s\S]*$/, "")}\n\n${hint}\n`,
    );
    process.exit(1);
  }
}

main();
