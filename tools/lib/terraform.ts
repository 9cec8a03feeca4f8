/**
 * Running Terraform on synthesized stacks, online or offline.
 *
 * Offline means: the hashicorp/aws provider comes from a filesystem mirror on disk (never the network),
 * credentials are mocks, and plans skip refresh. That is enough for `terraform validate` and for
 * `terraform plan -refresh=false` of every stack that needs no other stack's state.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative, resolve } from "node:path";
import { compareCodeUnits } from "../../constructs/core/order";

/** The AWS provider version that `@cdktf/provider-aws` 20.1.0 was generated from. */
export const AWS_PROVIDER_VERSION = "5.100.0";

const PROVIDER_PATH = `registry.terraform.io/hashicorp/aws/${AWS_PROVIDER_VERSION}`;

/** The platform directory Terraform uses for provider binaries (`linux_amd64`, `darwin_arm64`...). */
function platformDir(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const arch = { x64: "amd64", arm64: "arm64", ia32: "386" }[process.arch as string] ?? process.arch;
  return `${os}_${arch}`;
}

/**
 * The filesystem mirror (unpacked, or packed as `terraform providers mirror` writes it) that holds
 * hashicorp/aws 5.100.0 for this platform: `$MLOPS_TF_PROVIDER_MIRROR`, else the usual places (`/opt/tf-plugins`, the user's and the system's Terraform plugin folders).
 */
export function findProviderMirror(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    env.MLOPS_TF_PROVIDER_MIRROR,
    "/opt/tf-plugins",
    join(homedir(), ".terraform.d", "plugins"),
    join(homedir(), ".local", "share", "terraform", "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
  ].filter((dir): dir is string => Boolean(dir));
  return candidates.find((dir) => {
    const unpacked = join(dir, PROVIDER_PATH, platformDir());
    const packed = join(
      dir,
      "registry.terraform.io/hashicorp/aws",
      `terraform-provider-aws_${AWS_PROVIDER_VERSION}_${platformDir()}.zip`,
    );
    return existsSync(unpacked) || existsSync(packed);
  });
}

/** Terraform's version (`1.11.4`), or undefined when it is not on PATH. */
export async function terraformVersion(): Promise<string | undefined> {
  try {
    const result = await run("terraform", ["version", "-json"], { cwd: process.cwd() });
    if (result.code !== 0) return undefined;
    return (JSON.parse(result.stdout) as { terraform_version: string }).terraform_version;
  } catch {
    return undefined;
  }
}

/** Why offline Terraform cannot run here, or undefined when it can. */
export async function offlineUnavailableReason(): Promise<string | undefined> {
  return unavailableBecause(await terraformVersion());
}

/**
 * {@link offlineUnavailableReason}, answered synchronously: tests decide at load time whether their
 * Terraform checks run or are reported as skipped with the reason.
 */
export function offlineUnavailableReasonSync(): string | undefined {
  let version: string | undefined;
  try {
    const output = execFileSync("terraform", ["version", "-json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    version = (JSON.parse(output) as { terraform_version: string }).terraform_version;
  } catch {
    version = undefined;
  }
  return unavailableBecause(version);
}

function unavailableBecause(version: string | undefined): string | undefined {
  if (!version) return "terraform is not on PATH";
  const [major, minor] = version.split(".").map(Number);
  if (major < 1 || (major === 1 && minor < 10)) return `terraform ${version} is older than 1.10`;
  if (!findProviderMirror()) {
    return `no filesystem mirror of hashicorp/aws ${AWS_PROVIDER_VERSION} for ${platformDir()} (set MLOPS_TF_PROVIDER_MIRROR)`;
  }
  return undefined;
}

/**
 * Writes a Terraform CLI configuration that installs hashicorp/aws from the mirror only, with a shared
 * plugin cache, and returns the environment that offline commands run with (mock credentials included).
 * Terraform variables inherited from the caller's environment are left out, except the logging ones
 * (`TF_LOG*`): a `TF_PLUGIN_CACHE_DIR` would override this cache (one that concurrent runs would share,
 * which Terraform does not support), and `TF_DATA_DIR`, `TF_WORKSPACE` or `TF_CLI_ARGS*` would change what
 * the commands do.
 */
export function offlineTerraformEnv(workDir: string, mirror = findProviderMirror()): NodeJS.ProcessEnv {
  if (!mirror) throw new Error(`no filesystem mirror of hashicorp/aws ${AWS_PROVIDER_VERSION} found`);
  const cacheDir = resolve(workDir, "plugin-cache");
  mkdirSync(cacheDir, { recursive: true });
  const configFile = resolve(workDir, "offline.tfrc");
  writeFileSync(
    configFile,
    [
      "provider_installation {",
      "  filesystem_mirror {",
      `    path    = ${JSON.stringify(resolve(mirror))}`,
      '    include = ["registry.terraform.io/hashicorp/aws"]',
      "  }",
      "}",
      `plugin_cache_dir = ${JSON.stringify(cacheDir)}`,
      "plugin_cache_may_break_dependency_lock_file = true",
      "",
    ].join("\n"),
  );
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("TF_") || name.startsWith("TF_LOG")),
  );
  return {
    ...inherited,
    TF_CLI_CONFIG_FILE: configFile,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    CHECKPOINT_DISABLE: "1",
    AWS_ACCESS_KEY_ID: "AKIAMOCKMOCKMOCKMOCK",
    AWS_SECRET_ACCESS_KEY: "mock-secret-access-key-for-offline-plans",
    AWS_SESSION_TOKEN: "",
    AWS_PROFILE: "",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/** The result of one command. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command and collects its output; never throws for a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

/** What a plan would do. */
export interface PlanCounts {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  readonly replace: number;
}

/** Counts the actions of `terraform show -json <plan>` output (a replacement counts as add and destroy). */
export function countPlanActions(planJson: string): PlanCounts {
  const plan = JSON.parse(planJson) as { resource_changes?: { change: { actions: string[] } }[] };
  return countChanges(
    (plan.resource_changes ?? []).map(({ change: { actions } }) => ({
      // `show -json` lists a replacement as both actions; `plan -json` calls it `replace`.
      action: actions.includes("create") && actions.includes("delete") ? "replace" : actions[0],
    })),
  );
}

/** A synthesized stack as the cdktf manifest describes it. */
export interface SynthesizedStack {
  readonly name: string;
  /** Absolute path of the stack's working directory. */
  readonly dir: string;
  readonly dependencies: readonly string[];
  /** Provider names the stack configures (`aws`, `kubernetes`, `helm`...). */
  readonly providers: readonly string[];
  /** True when the stack reads another stack's state (terraform_remote_state). */
  readonly readsRemoteState: boolean;
}

/** The stacks of a cdktf output folder, in dependency order. */
export function readSynthesizedStacks(outdir: string): SynthesizedStack[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    stacks: Record<
      string,
      { name: string; dependencies: string[]; workingDirectory: string; synthesizedStackPath: string }
    >;
  };
  const stacks = Object.values(manifest.stacks).map((entry) => {
    const json = JSON.parse(readFileSync(join(outdir, entry.synthesizedStackPath), "utf8")) as {
      provider?: Record<string, unknown>;
      data?: Record<string, unknown>;
    };
    return {
      name: entry.name,
      dir: resolve(outdir, entry.workingDirectory),
      dependencies: entry.dependencies,
      providers: Object.keys(json.provider ?? {}).sort(),
      readsRemoteState: Object.keys(json.data ?? {}).some((type) => type === "terraform_remote_state"),
    };
  });
  return dependencyOrder(stacks);
}

function dependencyOrder(stacks: SynthesizedStack[]): SynthesizedStack[] {
  const byName = new Map(stacks.map((stack) => [stack.name, stack]));
  const ordered: SynthesizedStack[] = [];
  const seen = new Set<string>();
  const visit = (stack: SynthesizedStack) => {
    if (seen.has(stack.name)) return;
    seen.add(stack.name);
    for (const dependency of stack.dependencies) {
      const upstream = byName.get(dependency);
      if (upstream) visit(upstream);
    }
    ordered.push(stack);
  };
  [...stacks].sort((a, b) => compareCodeUnits(a.name, b.name)).forEach(visit);
  return ordered;
}

/** True for stacks that use the AWS provider only, the ones offline Terraform can check. */
export function isAwsOnly(stack: SynthesizedStack): boolean {
  return stack.providers.length > 0 && stack.providers.every((provider) => provider === "aws");
}

/** Runs `items` through `worker`, at most `limit` at a time, keeping the input order in the result. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  worker: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await worker(items[index]);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The outcome of checking one stack offline. */
export interface StackCheck {
  readonly stack: string;
  readonly init: CommandResult;
  readonly validate?: CommandResult;
  readonly plan?: CommandResult;
  readonly counts?: PlanCounts;
  /** `terraform show -json` of the plan. */
  readonly planJson?: string;
}

/** What {@link checkStackOffline} runs after `init`. */
export interface CheckSteps {
  /** `terraform validate` (a plan validates too, so a caller that plans may leave it out). */
  readonly validate: boolean;
  /** `terraform plan -refresh=false`. */
  readonly plan: boolean;
  /**
   * `terraform show -json` of the plan, for counts and the resources it touches (another provider start).
   * @default true
   */
  readonly show?: boolean;
}

/**
 * `terraform init` from the mirror, then `validate` and/or `plan -refresh=false` with mock credentials, in
 * the stack's own folder.
 */
export async function checkStackOffline(
  stack: SynthesizedStack,
  env: NodeJS.ProcessEnv,
  steps: CheckSteps,
): Promise<StackCheck> {
  const tf = (args: string[]) => run("terraform", args, { cwd: stack.dir, env });
  const init = await tf(["init", "-input=false", "-no-color", "-backend=true"]);
  if (init.code !== 0) return { stack: stack.name, init };
  const validate = steps.validate ? await tf(["validate", "-no-color"]) : undefined;
  const plan = steps.plan;
  if ((validate && validate.code !== 0) || !plan) return { stack: stack.name, init, validate };
  const planResult = await tf([
    "plan",
    "-refresh=false",
    "-input=false",
    "-lock=false",
    "-no-color",
    "-out=offline.tfplan",
  ]);
  if (planResult.code !== 0 || steps.show === false)
    return { stack: stack.name, init, validate, plan: planResult };
  const show = await tf(["show", "-json", "offline.tfplan"]);
  return {
    stack: stack.name,
    init,
    validate,
    plan: planResult,
    counts: countPlanActions(show.stdout),
    planJson: show.stdout,
  };
}

/**
 * Checks `stacks` offline, `limit` at a time. The first runs alone: it fills the shared plugin cache, which
 * concurrent first `init`s would otherwise race to create.
 */
export async function checkStacksOffline(
  stacks: readonly SynthesizedStack[],
  env: NodeJS.ProcessEnv,
  stepsFor: (stack: SynthesizedStack) => CheckSteps,
  limit = 2,
): Promise<StackCheck[]> {
  if (stacks.length === 0) return [];
  const [first, ...rest] = stacks;
  const head = await checkStackOffline(first, env, stepsFor(first));
  const tail = await mapLimit(rest, limit, (stack) => checkStackOffline(stack, env, stepsFor(stack)));
  return [head, ...tail];
}

/** A resource change of a plan: address (inside its stack), type and what Terraform would do. */
export interface PlannedChange {
  readonly address: string;
  readonly type: string;
  /** `create`, `update`, `delete`, `replace`, `read`... as `terraform plan -json` reports it. */
  readonly action: string;
}

/** One stack's part of a {@link CombinedPlan}. */
export interface StackPlan {
  readonly stack: string;
  /** True when Terraform planned the whole configuration: an error in any stack stops every plan. */
  readonly planned: boolean;
  /** The errors Terraform reported in this stack's files or resources. */
  readonly errors: readonly string[];
  readonly changes: readonly PlannedChange[];
  readonly counts: PlanCounts;
}

/** Several stacks validated and planned offline as modules of one configuration. */
export interface CombinedPlan {
  readonly init: CommandResult;
  readonly plan?: CommandResult;
  /** Every error, with the stack it was found in where Terraform says. */
  readonly errors: readonly string[];
  readonly stacks: ReadonlyMap<string, StackPlan>;
}

interface PlanLogLine {
  readonly type?: string;
  readonly diagnostic?: {
    readonly severity: string;
    readonly summary: string;
    readonly detail?: string;
    readonly address?: string;
    readonly range?: { readonly filename: string; readonly start: { readonly line: number } };
  };
  readonly change?: {
    readonly resource: {
      readonly module?: string;
      readonly resource: string;
      readonly resource_type: string;
    };
    readonly action: string;
  };
}

/**
 * Validates and plans `stacks` (AWS-only, offline: see {@link offlineTerraformEnv}) with ONE `terraform
 * init` and ONE `terraform plan -refresh=false`, as modules of a configuration written to `workDir`: the AWS
 * provider's schema is loaded once instead of twice per stack, which makes this several times faster than
 * {@link checkStackOffline} on each. A plan validates first, so no separate `validate` is needed.
 *
 * Each stack keeps its own provider configuration; its backend is ignored (Terraform warns, and the warning
 * is dropped here). Stack names become module names, so they must be unique. Errors are assigned to the
 * stacks whose files or resources they point at.
 */
export async function planStacksTogether(
  stacks: readonly SynthesizedStack[],
  workDir: string,
  env: NodeJS.ProcessEnv,
): Promise<CombinedPlan> {
  const names = stacks.map((stack) => stack.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw new Error(`planStacksTogether: two stacks are named ${duplicate}; rename one`);
  mkdirSync(workDir, { recursive: true });
  const source = (dir: string) => {
    const path = relative(workDir, dir).split("\\").join("/");
    return path.startsWith(".") ? path : `./${path}`;
  };
  writeFileSync(
    join(workDir, "main.tf.json"),
    `${JSON.stringify({ module: Object.fromEntries(stacks.map((s) => [s.name, { source: source(s.dir) }])) }, null, 2)}\n`,
  );
  const tf = (args: string[]) => run("terraform", args, { cwd: workDir, env });
  const empty = (planned: boolean) =>
    new Map(
      stacks.map((stack) => [
        stack.name,
        { stack: stack.name, planned, errors: [], changes: [], counts: countChanges([]) } as StackPlan,
      ]),
    );
  const init = await tf(["init", "-input=false", "-no-color"]);
  if (init.code !== 0) return { init, errors: [init.stderr.trim()], stacks: empty(false) };
  const plan = await tf(["plan", "-refresh=false", "-input=false", "-lock=false", "-no-color", "-json"]);

  const stackOf = new Map(stacks.map((stack) => [resolve(stack.dir), stack.name] as const));
  const errors = new Map<string, string[]>(names.map((name) => [name, []]));
  const changes = new Map<string, PlannedChange[]>(names.map((name) => [name, []]));
  const allErrors: string[] = [];
  for (const line of plan.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as PlanLogLine;
    if (entry.type === "planned_change" && entry.change) {
      const { module, resource, resource_type: type } = entry.change.resource;
      const name = module?.replace(/^module\./, "").split(".")[0];
      changes.get(name ?? "")?.push({ address: resource, type, action: entry.change.action });
    } else if (entry.type === "diagnostic" && entry.diagnostic?.severity === "error") {
      const { summary, detail, address, range } = entry.diagnostic;
      const file = range ? resolve(workDir, range.filename) : undefined;
      const owner =
        [...stackOf].find(([dir]) => file?.startsWith(`${dir}/`))?.[1] ??
        names.find((name) => address?.startsWith(`module.${name}.`));
      const where = range ? `${range.filename}:${range.start.line}: ` : address ? `${address}: ` : "";
      const message = `${where}${summary}${detail ? `: ${detail}` : ""}`;
      allErrors.push(owner ? `${owner}: ${message}` : message);
      if (owner) errors.get(owner)!.push(message);
    }
  }
  if (plan.code !== 0 && allErrors.length === 0)
    allErrors.push(plan.stderr.trim() || "terraform plan failed");
  const planned = plan.code === 0;
  return {
    init,
    plan,
    errors: allErrors,
    stacks: new Map(
      names.map((name) => [
        name,
        {
          stack: name,
          planned,
          errors: errors.get(name)!,
          changes: changes.get(name)!,
          counts: countChanges(changes.get(name)!),
        },
      ]),
    ),
  };
}

/** Counts planned actions (a replacement counts as add and destroy). */
function countChanges(changes: readonly Pick<PlannedChange, "action">[]): PlanCounts {
  const count = (action: string) => changes.filter((change) => change.action === action).length;
  const replace = count("replace");
  return {
    add: count("create") + replace,
    change: count("update"),
    destroy: count("delete") + replace,
    replace,
  };
}
