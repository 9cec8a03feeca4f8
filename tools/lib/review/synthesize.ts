/**
 * Synthesizes the two sides of a review: a git ref in a temporary worktree (reusing the project's
 * installed `node_modules` through a symlink) and the working tree as it is, uncommitted changes included.
 * Both sides synthesize the same way (offline, every environment), since only configuration is compared.
 */
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../terraform";

async function git(args: string[], cwd: string): Promise<string> {
  const result = await run("git", args, { cwd });
  if (result.code !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** The default base: the merge base of HEAD with `origin/main`, else with `main`. */
export async function defaultBase(root: string): Promise<string> {
  for (const branch of ["origin/main", "main"]) {
    const result = await run("git", ["merge-base", "HEAD", branch], { cwd: root });
    if (result.code === 0 && result.stdout.trim()) return result.stdout.trim();
  }
  throw new Error("cannot find a merge base with origin/main or main: pass --base <ref>");
}

/** The commit a ref names, and a short form for display. */
export async function resolveRef(root: string, ref: string): Promise<{ commit: string; short: string }> {
  const commit = await git(["rev-parse", "--verify", `${ref}^{commit}`], root);
  return { commit, short: commit.slice(0, 10) };
}

/** Why a synthesis failed, with its output. */
export class SynthesisError extends Error {
  constructor(
    readonly side: string,
    readonly output: string,
    readonly exitCode: number,
  ) {
    super(`synthesis of ${side} failed (exit ${exitCode})`);
  }
}

/**
 * Runs the cdktf app of `treeDir` into `outdir`: every environment, offline mode, with the policy pack in
 * report mode, so that a change the pack would block is still compared and its findings shown as high risk
 * instead of stopping the review.
 */
export async function synthesizeTree(treeDir: string, outdir: string, side: string): Promise<void> {
  if (!existsSync(join(treeDir, "main.ts")))
    throw new SynthesisError(side, "main.ts not found: nothing to synthesize", 1);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MLOPS_OFFLINE: "1",
    MLOPS_POLICY: "report",
    CDKTF_OUTDIR: outdir,
  };
  delete env.MLOPS_ENVIRONMENTS;
  delete env.MLOPS_ENVIRONMENTS_DIR;
  const result = await run(process.execPath, ["--import", "tsx", "main.ts"], { cwd: treeDir, env });
  if (result.code !== 0)
    throw new SynthesisError(side, `${result.stderr}${result.stdout}`.trim(), result.code);
}

/**
 * Synthesizes several trees side by side and waits for all of them before reporting the first failure, so
 * that a checkout is never removed while a synthesis still runs in it (a tsx process whose folder disappears
 * can hang instead of exiting, and the review would wait for it).
 */
export async function synthesizeTrees(
  trees: readonly { treeDir: string; outdir: string; side: string }[],
): Promise<void> {
  const results = await Promise.allSettled(
    trees.map(({ treeDir, outdir, side }) => synthesizeTree(treeDir, outdir, side)),
  );
  const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed) throw failed.reason;
}

/** A temporary checkout of `commit`, removed by `dispose`. */
export interface Checkout {
  readonly dir: string;
  dispose(): Promise<void>;
}

/** Checks out `commit` in a temporary git worktree whose `node_modules` links to the project's. */
export async function checkout(root: string, commit: string, workDir: string): Promise<Checkout> {
  const dir = join(workDir, "base");
  await git(["worktree", "add", "--detach", "--force", dir, commit], root);
  const modules = join(root, "node_modules");
  if (existsSync(modules) && !existsSync(join(dir, "node_modules")))
    symlinkSync(realpathSync(modules), join(dir, "node_modules"), "dir");
  return {
    dir,
    async dispose() {
      await run("git", ["worktree", "remove", "--force", dir], { cwd: root });
      // `worktree remove` drops this checkout's entry only; a global `worktree prune` could touch others'.
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh temporary folder for one review. */
export function makeWorkDir(): string {
  return mkdtempSync(join(tmpdir(), "mlops-review-"));
}
