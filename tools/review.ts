/**
 * `npm run review -- [--base <ref>] [--format markdown|json] [--fail-on high|low]`: what a change does to
 * every stack of every environment, resource by resource, without cloud credentials.
 *
 * Synthesizes the base (default: the merge base with origin/main, else main) in a temporary git worktree
 * and the working tree as it is, then compares them (see `tools/lib/review/compare.ts`). It is a
 * configuration diff, not a plan: it cannot see drift or provider defaults. Exit codes: 0 done, 1 error
 * (synthesis failed included), 2 bad usage, 3 a change at or above `--fail-on` risk.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderDiagram, type Highlight } from "./lib/diagram";
import { compareSynth } from "./lib/review/compare";
import { applyFindings, collectFindings } from "./lib/review/findings";
import { COMMENT_MARKER, renderMarkdown } from "./lib/review/markdown";
import { readSynthOutput, type SynthOutput, type SynthResource } from "./lib/review/synth-output";
import {
  checkout,
  defaultBase,
  makeWorkDir,
  resolveRef,
  synthesizeTrees,
  SynthesisError,
  type Checkout,
} from "./lib/review/synthesize";
import {
  countAtLeast,
  sortStacks,
  summarize,
  type Review,
  type Risk,
  type StackReview,
} from "./lib/review/types";
import { run } from "./lib/terraform";

const USAGE = `usage: npm run review -- [--base <git-ref>] [--format markdown|json] [--fail-on high|low] [--output FILE]
                         [--max-length N] [--no-diagram] [--no-policy] [--base-dir DIR --head-dir DIR]

  --base       what to compare with (default: merge base with origin/main, else main)
  --format     markdown (a pull-request comment, default) or json
  --fail-on    exit 3 when a change has at least this risk (for a required status check)
  --output     write to FILE instead of stdout
  --base-dir, --head-dir   compare two existing cdktf output folders instead of synthesizing`;

interface Options {
  base?: string;
  format: "markdown" | "json";
  failOn?: Risk;
  output?: string;
  maxLength?: number;
  diagram: boolean;
  policy: boolean;
  baseDir?: string;
  headDir?: string;
}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      base: { type: "string" },
      format: { type: "string", default: "markdown" },
      "fail-on": { type: "string" },
      output: { type: "string" },
      "max-length": { type: "string" },
      "no-diagram": { type: "boolean", default: false },
      "no-policy": { type: "boolean", default: false },
      "base-dir": { type: "string" },
      "head-dir": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
}

/** Exits 2 (bad usage) with a one-line message. */
function usageError(message: string): never {
  console.error(`review: ${message.split("\n")[0]} (npm run review -- --help for usage)`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    // Unknown options and options without their value.
    usageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const problems: string[] = [];
  if (positionals.length) problems.push(`unexpected argument ${positionals[0]}`);
  if (!["markdown", "json"].includes(values.format!))
    problems.push(`--format must be markdown or json, not ${values.format}`);
  const failOn = values["fail-on"];
  if (failOn !== undefined && !["high", "low"].includes(failOn))
    problems.push(`--fail-on must be high or low, not ${failOn}`);
  const maxLength = values["max-length"] === undefined ? undefined : Number(values["max-length"]);
  if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 2000))
    problems.push("--max-length must be a whole number of at least 2000");
  if (Boolean(values["base-dir"]) !== Boolean(values["head-dir"]))
    problems.push("--base-dir and --head-dir go together");
  if (problems.length) {
    for (const problem of problems) console.error(`review: ${problem}`);
    console.error(USAGE);
    process.exit(2);
  }
  return {
    base: values.base,
    format: values.format as Options["format"],
    failOn: failOn as Risk | undefined,
    output: values.output,
    maxLength,
    diagram: !values["no-diagram"],
    policy: !values["no-policy"],
    baseDir: values["base-dir"],
    headDir: values["head-dir"],
  };
}

/** Mermaid diagrams of the environments that change, with the changed resources highlighted. */
function diagramsOf(stacks: StackReview[], base: SynthOutput, head: SynthOutput): Record<string, string> {
  const diagrams: Record<string, string> = {};
  for (const environment of new Set(stacks.map((stack) => stack.environment))) {
    const highlight = new Map<string, Highlight>();
    const removed: { stack: string; resource: SynthResource }[] = [];
    for (const stack of stacks.filter((s) => s.environment === environment)) {
      for (const resource of stack.resources) {
        // Red for anything high risk (a move without a moved block is a destroy and a create).
        highlight.set(
          `${stack.stack}|${resource.address}`,
          resource.risk === "high" ? "replace" : resource.action,
        );
        const old = base.get(stack.stack)?.resources.get(resource.address);
        if (resource.action === "delete" && old) removed.push({ stack: stack.stack, resource: old });
      }
    }
    diagrams[environment] = renderDiagram(head, environment, { highlight, removed, changedOnly: true });
  }
  return diagrams;
}

function emit(text: string, output?: string): void {
  if (output) writeFileSync(output, text.endsWith("\n") ? text : `${text}\n`);
  else process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

async function headLabel(root: string): Promise<string> {
  const head = await run("git", ["rev-parse", "--short=10", "HEAD"], { cwd: root });
  const status = await run("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root });
  const commit = head.code === 0 ? head.stdout.trim() : "working tree";
  return status.stdout.trim() ? `${commit} + uncommitted changes` : commit;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const root = process.cwd();
  const workDir = makeWorkDir();
  let base: Checkout | undefined;
  try {
    let baseOut: string;
    let headOut: string;
    let baseTree: string | undefined;
    let baseLabel: string;
    if (options.baseDir && options.headDir) {
      baseOut = resolve(options.baseDir);
      headOut = resolve(options.headDir);
      baseLabel = options.baseDir;
    } else {
      const ref = await resolveRef(root, options.base ?? (await defaultBase(root)));
      baseLabel = options.base ? `${options.base} (${ref.short})` : ref.short;
      base = await checkout(root, ref.commit, workDir);
      baseTree = base.dir;
      baseOut = join(workDir, "base.out");
      headOut = join(workDir, "head.out");
      process.stderr.write(`review: synthesizing ${baseLabel} and the working tree...\n`);
      await synthesizeTrees([
        { treeDir: base.dir, outdir: baseOut, side: `the base (${baseLabel})` },
        { treeDir: root, outdir: headOut, side: "the working tree" },
      ]);
    }
    const baseOutput = readSynthOutput(baseOut);
    const headOutput = readSynthOutput(headOut);
    let stacks = compareSynth(baseOutput, headOutput);

    const notes: string[] = [];
    if (options.policy) {
      const [baseFindings, headFindings] = await Promise.all([
        collectFindings({ treeDir: baseTree ?? root, outdir: baseOut }).catch((error: Error) => error),
        collectFindings({ treeDir: root, outdir: headOut }).catch((error: Error) => error),
      ]);
      if (baseFindings instanceof Error || headFindings instanceof Error) {
        notes.push(
          `Policy findings left out: ${String((baseFindings instanceof Error ? baseFindings : (headFindings as Error)).message)}`,
        );
      } else if (baseFindings && headFindings) {
        stacks = applyFindings(stacks, baseFindings.findings, headFindings.findings);
      } else if (headFindings) {
        notes.push(
          `Policy findings left out: the base has no policy report (${headFindings.source} exists only in the head).`,
        );
      }
    }
    stacks = sortStacks(stacks);
    const review: Review = {
      kind: "configuration-diff",
      base: baseLabel,
      head: options.headDir ?? (await headLabel(root)),
      stacks,
      summary: summarize(stacks),
      notes,
    };
    if (options.format === "json") emit(JSON.stringify(review, null, 2), options.output);
    else {
      const diagrams = options.diagram ? diagramsOf(stacks, baseOutput, headOutput) : undefined;
      emit(renderMarkdown(review, { maxLength: options.maxLength, diagrams }), options.output);
    }
    // Resources and policy findings alike: --fail-on low fails on everything --fail-on high fails on.
    const failing = options.failOn ? countAtLeast(stacks, options.failOn) : 0;
    if (failing > 0) {
      process.stderr.write(
        `review: ${failing} ${options.failOn === "high" ? "high-risk" : "low- or high-risk"} change(s); ` +
          `failing as --fail-on ${options.failOn} asks\n`,
      );
      process.exitCode = 3;
    }
  } catch (error) {
    if (error instanceof SynthesisError) {
      const message = `Synthesis of ${error.side} failed (exit ${error.exitCode}), so nothing was compared.`;
      if (options.format === "json")
        emit(JSON.stringify({ error: message, output: error.output }, null, 2), options.output);
      else
        emit(
          `${COMMENT_MARKER}\n## Infrastructure review\n\n❌ ${message}\n\n\`\`\`\n${error.output.slice(0, 20_000)}\n\`\`\`\n`,
          options.output,
        );
      console.error(`review: ${message}\n${error.output}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  } finally {
    await base?.dispose();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`review: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
