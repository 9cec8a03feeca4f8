/**
 * `npm run plan -- [env] [--offline]`: synthesizes one environment and runs `terraform plan` for its AWS
 * stacks in dependency order, then prints what each would add, change and destroy.
 *
 * With AWS credentials it is a real plan against the environment's state. Without (or with `--offline`),
 * it says so and plans offline: the AWS provider from the local filesystem mirror, mock credentials, local
 * state, no refresh. Stacks that use the Kubernetes or Helm providers need a running cluster and are listed
 * as skipped.
 */
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  checkStacksOffline,
  isAwsOnly,
  offlineTerraformEnv,
  offlineUnavailableReason,
  readSynthesizedStacks,
  run,
  countPlanActions,
  type CommandResult,
  type PlanCounts,
} from "./lib/terraform";

const USAGE = "usage: npm run plan -- [environment] [--offline] [--outdir DIR]";

function hasAwsCredentials(env: NodeJS.ProcessEnv): boolean {
  if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return true;
  if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return true;
  const awsDir = join(homedir(), ".aws");
  return existsSync(join(awsDir, "credentials")) || existsSync(join(awsDir, "config"));
}

function describeCounts(counts: PlanCounts): string {
  const replace = counts.replace > 0 ? ` (${counts.replace} replaced)` : "";
  return `${counts.add} to add, ${counts.change} to change, ${counts.destroy} to destroy${replace}`;
}

/** `+ aws_s3_bucket.Raw_Resource_1A2B3C` lines for each resource the plan touches. */
function describeChanges(planJson: string): string[] {
  const plan = JSON.parse(planJson) as {
    resource_changes?: { address: string; change: { actions: string[] } }[];
  };
  const symbol = (actions: string[]) =>
    actions.includes("create") && actions.includes("delete")
      ? "-/+"
      : actions.includes("create")
        ? "+"
        : actions.includes("delete")
          ? "-"
          : actions.includes("update")
            ? "~"
            : "";
  return (plan.resource_changes ?? [])
    .map((change) => ({ address: change.address, symbol: symbol(change.change.actions) }))
    .filter((change) => change.symbol)
    .map((change) => `    ${change.symbol.padEnd(3)} ${change.address}`);
}

async function synthesize(environment: string, offline: boolean, outdir: string): Promise<void> {
  const result = await run(process.execPath, ["--import", "tsx", "main.ts"], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      MLOPS_ENVIRONMENTS: environment,
      MLOPS_OFFLINE: offline ? "1" : "",
      CDKTF_OUTDIR: outdir,
    },
  });
  if (result.code !== 0) {
    process.stderr.write(result.stderr);
    process.exit(result.code);
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      offline: { type: "boolean", default: false },
      outdir: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help || positionals.length > 1) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const environment = positionals[0] ?? "dev";
  const offline = values.offline || !hasAwsCredentials(process.env);
  const outdir = resolve(values.outdir ?? "cdktf.out");

  if (offline) {
    const reason = await offlineUnavailableReason();
    if (reason) {
      console.error(`Cannot plan offline: ${reason}.`);
      process.exit(1);
    }
    console.log(
      `No AWS credentials${values.offline ? " used (--offline)" : " found"}: planning "${environment}" OFFLINE with mock ` +
        "credentials, local state and no refresh.\nThis shows what would be created from scratch; it cannot see " +
        "what already exists in AWS.\n",
    );
  } else {
    console.log(`Planning "${environment}" against its real state with your AWS credentials.\n`);
  }

  console.log(`Synthesizing ${environment}...`);
  await synthesize(environment, offline, outdir);
  const stacks = readSynthesizedStacks(outdir);
  const workDir = resolve("node_modules/.cache/mlops-terraform");
  mkdirSync(workDir, { recursive: true });
  const env = offline ? offlineTerraformEnv(workDir) : { ...process.env, TF_IN_AUTOMATION: "1" };

  // Offline checks are independent of each other, so they run two at a time; results print in order.
  const offlineChecks = offline
    ? checkStacksOffline(stacks.filter(isAwsOnly), env, (stack) => ({
        validate: stack.readsRemoteState,
        plan: !stack.readsRemoteState,
      })).then((checks) => new Map(checks.map((check) => [check.stack, check])))
    : undefined;

  const summary: { stack: string; result: string }[] = [];
  let failed = false;
  for (const stack of stacks) {
    if (!isAwsOnly(stack)) {
      const why = `uses the ${stack.providers.filter((p) => p !== "aws").join(" and ")} provider(s); plan it once the cluster exists`;
      console.log(`- ${stack.name}: skipped (${why})`);
      summary.push({ stack: stack.name, result: "skipped" });
      continue;
    }
    if (offline && stack.readsRemoteState) {
      console.log(
        `- ${stack.name}: validate only (reads another stack's state, which does not exist offline)`,
      );
    } else {
      console.log(`- ${stack.name}: planning...`);
    }
    let steps: (CommandResult | undefined)[];
    let planJson: string | undefined;
    if (offlineChecks) {
      const check = (await offlineChecks).get(stack.name)!;
      steps = [check.init, check.validate, check.plan];
      planJson = check.planJson;
    } else {
      const init = await run("terraform", ["init", "-input=false", "-no-color"], { cwd: stack.dir, env });
      const plan =
        init.code === 0
          ? await run("terraform", ["plan", "-input=false", "-no-color", "-out=plan.tfplan"], {
              cwd: stack.dir,
              env,
            })
          : undefined;
      steps = [init, plan];
      if (plan?.code === 0) {
        planJson = (await run("terraform", ["show", "-json", "plan.tfplan"], { cwd: stack.dir, env })).stdout;
      }
    }
    const failedStep = steps.find((step) => step && step.code !== 0);
    if (failedStep) {
      failed = true;
      console.error(failedStep.stderr || failedStep.stdout);
      summary.push({ stack: stack.name, result: "FAILED" });
      continue;
    }
    if (planJson) for (const line of describeChanges(planJson)) console.log(line);
    const result = planJson ? describeCounts(countPlanActions(planJson)) : "valid";
    console.log(`  ${stack.name}: ${result}`);
    summary.push({ stack: stack.name, result });
  }

  const width = Math.max(...summary.map((row) => row.stack.length), 5);
  console.log(`\nSummary (${offline ? "offline plan" : "plan"} of ${environment}):`);
  for (const row of summary) console.log(`  ${row.stack.padEnd(width)}  ${row.result}`);
  if (offline) {
    console.log(
      `\nManifest: ${join(outdir, "manifest.json")}; provider mirror CLI config: ${env.TF_CLI_CONFIG_FILE}`,
    );
  }
  if (failed) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
