/**
 * The cdktf app: loads every environment file, builds each environment's stacks and synthesizes them.
 *
 * Environment variables (read here only; constructs and stacks never read the environment):
 * - `MLOPS_OFFLINE=1`: local backends and a provider that needs no AWS account (see README, "Offline").
 * - `MLOPS_ENVIRONMENTS=dev,test`: synthesize only these environments (all are still validated).
 * - `MLOPS_ENVIRONMENTS_DIR`: where the environment files are (default `environments`).
 * - `MLOPS_POLICY=report`: policy failures become warnings instead of stopping synthesis (used by `npm run policy`).
 * - `MLOPS_TOKEN_TRACES=1`: record where each cdktf token was created, to debug a token that fails to resolve
 *   (off by default: it costs a third of a synth).
 * - `CDKTF_OUTDIR`: where to write (set by the cdktf CLI; default `cdktf.out`).
 */
import { EnvironmentConfigError, loadEnvironments } from "./environments/load";
import { buildApp } from "./stacks/app";

function main(): void {
  const previous = Error.prepareStackTrace;
  if (!["1", "true", "yes"].includes((process.env.MLOPS_TOKEN_TRACES ?? "").toLowerCase())) {
    Error.prepareStackTrace = withoutCreationTraces;
  }
  try {
    synthesize();
  } catch (error) {
    // Stack traces are formatted when first read: without the hook, this one gets Node's format, with
    // TypeScript line numbers through source maps.
    Error.prepareStackTrace = previous;
    throw error;
  }
}

/**
 * Stack-trace formatting for the length of a synth. cdktf records where each of its thousands of tokens and
 * attribute references was created, by capturing a whole stack trace into a plain object; formatting those
 * (through source maps, under tsx) was a third of a synth's time, and they are read only when a token fails
 * to resolve. They are left empty (`MLOPS_TOKEN_TRACES=1` keeps them, to find where a bad token came from);
 * errors keep V8's own format.
 */
function withoutCreationTraces(target: object, frames: NodeJS.CallSite[]): string {
  if (!(target instanceof Error)) return "";
  return [`${target.name}: ${target.message}`, ...frames.map((frame) => `    at ${frame.toString()}`)].join(
    "\n",
  );
}

function synthesize(): void {
  const only = (process.env.MLOPS_ENVIRONMENTS ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  let environments;
  try {
    environments = loadEnvironments(process.env.MLOPS_ENVIRONMENTS_DIR ?? "environments", only);
  } catch (error) {
    if (error instanceof EnvironmentConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const offline = ["1", "true", "yes"].includes((process.env.MLOPS_OFFLINE ?? "").toLowerCase());
  const policy = process.env.MLOPS_POLICY === "report" ? "report" : "enforce";
  const { app } = buildApp({ environments, offline, policy, outdir: process.env.CDKTF_OUTDIR });
  try {
    app.synth();
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
