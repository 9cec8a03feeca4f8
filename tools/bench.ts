/**
 * `npm run bench`: measures, as whole processes over several runs, what users wait for: synthesis of all
 * environments and of one, the bare cost of loading cdktf (the baseline), Node's start with and without tsx, how
 * synthesis grows with endpoints and GPU node groups, `npm run review`, offline `terraform validate` / `plan` per
 * stack, and `npm test`.
 *
 * Writes `docs/benchmarks.md` (a table with targets, the machine's CPU count and Node version) and
 * `docs/benchmarks.json` beside it.
 *
 * Beside synthesis as cdktf runs it (`tsx main.ts`), it measures the same app compiled by `tsc` and run by plain
 * Node, so the table shows what the TypeScript loader costs at every start. Rows compared with each other are
 * measured in rounds (one run of each per round), so the VM's drift in speed does not favour one of them.
 *
 * Options: `--runs N` (default 5), `--skip-tests` (leave out the full `npm test`), `--skip-terraform`,
 * `--skip-review`, `--render-only` (rewrite the Markdown from the last JSON without measuring).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import {
  isAwsOnly,
  offlineTerraformEnv,
  offlineUnavailableReason,
  readSynthesizedStacks,
  run,
} from "./lib/terraform";
import {
  type Judged,
  JUDGED_NAMES,
  type Measurement,
  type Scaling,
  evaluateTargets,
  renderMarkdown,
  slope,
} from "./lib/benchmarks";

const ROOT = resolve(__dirname, "..");
const RSS_REPORTER = join(__dirname, "lib", "report-peak-rss.cjs");

/** Wall time and peak RSS (of the main Node process) of one run. */
function timeOnce(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = ROOT,
): { ms: number; rssMiB?: number } {
  const rssFile = join(mkdtempSync(join(tmpdir(), "mlops-rss-")), "rss");
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    cwd,
    env: { ...env, MLOPS_BENCH_RSS_FILE: rssFile },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  let rssMiB: number | undefined;
  try {
    rssMiB = Number(readFileSync(rssFile, "utf8")) / 1024;
  } catch {
    rssMiB = undefined;
  } finally {
    rmSync(dirname(rssFile), { recursive: true, force: true });
  }
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status}):\n${result.stderr || result.stdout}`,
    );
  }
  return { ms, rssMiB };
}

/** Median, min, max and the largest peak RSS of one command's samples; logged as it is summarised. */
function summarize(name: string, samples: readonly { ms: number; rssMiB?: number }[]): Measurement {
  const times = samples.map((sample) => sample.ms).sort((a, b) => a - b);
  const rss = samples.map((sample) => sample.rssMiB).filter((value): value is number => value !== undefined);
  const median =
    times.length % 2
      ? times[(times.length - 1) / 2]
      : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  const result: Measurement = {
    name,
    runs: samples.length,
    medianMs: Math.round(median),
    minMs: Math.round(times[0]),
    maxMs: Math.round(times[times.length - 1]),
    ...(rss.length > 0 ? { peakRssMiB: Math.round(Math.max(...rss)) } : {}),
    samplesMs: samples.map((sample) => Math.round(sample.ms)),
  };
  console.log(
    `${name}: median ${result.medianMs} ms (min ${result.minMs}, max ${result.maxMs})` +
      (result.peakRssMiB !== undefined ? `, peak RSS ${result.peakRssMiB} MiB` : ""),
  );
  return result;
}

function measure(name: string, runs: number, once: () => { ms: number; rssMiB?: number }): Measurement {
  return summarize(name, Array.from({ length: runs }, once));
}

/**
 * Measures commands that are compared with each other in rounds, one run of each per round, so that this
 * VM's drift in speed (up to a third over minutes) shifts them alike instead of favouring whichever ran
 * first. Returns the measurements in the order given.
 */
function measureInterleaved(
  runs: number,
  commands: readonly { name: string; once: () => { ms: number; rssMiB?: number } }[],
): Measurement[] {
  const samples = commands.map(() => [] as { ms: number; rssMiB?: number }[]);
  for (let round = 0; round < runs; round++) {
    commands.forEach((command, index) => samples[index].push(command.once()));
  }
  return commands.map((command, index) => summarize(command.name, samples[index]));
}

/** Synthesizes with `main.ts` as cdktf does (`tsx main.ts`), with the RSS reporter preloaded. */
function synthOnce(outdir: string, env: Record<string, string> = {}) {
  return () =>
    timeOnce(process.execPath, ["--require", RSS_REPORTER, "--import", "tsx", "main.ts"], {
      ...process.env,
      CDKTF_OUTDIR: outdir,
      MLOPS_OFFLINE: "",
      MLOPS_ENVIRONMENTS: "",
      ...env,
    });
}

/**
 * The app compiled by `tsc` (no type check: `npm test` does that) into `dir`, with the repository's
 * node_modules beside it, so plain Node can run `main.js`.
 */
function compileApp(dir: string): void {
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const args = ["-p", "tsconfig.json", "--noEmit", "false", "--incremental", "false", "--noCheck"];
  const result = spawnSync(process.execPath, [tsc, ...args, "--outDir", dir], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`tsc failed:\n${result.stdout}${result.stderr}`);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
}

/**
 * An environments folder whose `dev.yaml` has `count` copies of the first entry of the record at `path`
 * (for example `serving.sagemakerEndpoints`), or of `fallback` where the file declares none, named `b0`, `b1`...
 */
function scaledEnvironments(path: string[], count: number, fallback: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "mlops-bench-env-"));
  cpSync(join(ROOT, "environments"), dir, { recursive: true });
  const file = join(dir, "dev.yaml");
  const doc = parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  let record = doc as Record<string, unknown>;
  for (const key of path) record = (record[key] ?? {}) as Record<string, unknown>;
  const template = Object.values(record)[0] ?? fallback;
  const scaled = Object.fromEntries(Array.from({ length: count }, (_, index) => [`b${index}`, template]));
  let parent = doc as Record<string, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  parent[path[path.length - 1]] = scaled;
  // Each copy written out in full, as a person would write them: anchors and aliases would parse faster, and
  // past 100 of them the YAML parser refuses the file.
  writeFileSync(file, stringify(doc, { aliasDuplicateObjects: false }));
  return dir;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      "skip-tests": { type: "boolean", default: false },
      "skip-terraform": { type: "boolean", default: false },
      "skip-review": { type: "boolean", default: false },
      "render-only": { type: "boolean", default: false },
    },
  });
  if (values["render-only"]) {
    // Re-renders the Markdown from the last measurement, e.g. after the explanations in tools/lib/benchmarks.ts
    // changed. The targets are judged again, so that a change to how they are judged shows too.
    const last = JSON.parse(readFileSync(join(ROOT, "docs", "benchmarks.json"), "utf8"));
    const measurements = last.measurements as Measurement[];
    const named = (role: keyof typeof JUDGED_NAMES) =>
      measurements.find((m) => m.name === JUDGED_NAMES[role]);
    const judged = {
      baseline: named("baseline"),
      all: named("all"),
      precompiled: named("precompiled"),
      review: named("review"),
      tests: named("tests"),
      nodeStart: named("nodeStart"),
      tsxStart: named("tsxStart"),
      cdktfApp: named("cdktfApp"),
    };
    if (!judged.baseline || !judged.all || !judged.precompiled) {
      throw new Error("docs/benchmarks.json lacks the baseline or synth measurements; run the bench");
    }
    const targets = evaluateTargets(judged as Judged, last.scaling);
    writeFileSync(
      join(ROOT, "docs", "benchmarks.json"),
      `${JSON.stringify({ ...last, targets }, null, 2)}\n`,
    );
    writeFileSync(
      join(ROOT, "docs", "benchmarks.md"),
      renderMarkdown(last.machine, last.runs, measurements, last.scaling, last.terraform, targets),
    );
    console.log("wrote docs/benchmarks.md from docs/benchmarks.json");
    return;
  }
  const runs = Math.max(1, Number(values.runs));
  const work = mkdtempSync(join(tmpdir(), "mlops-bench-"));
  // Removed however the bench ends, a failed measurement included.
  process.on("exit", () => rmSync(work, { recursive: true, force: true }));
  const measurements: Measurement[] = [];
  const scaling: Scaling[] = [];

  // Warm tsx's transform cache and the file system cache, so the first measured run is not an outlier.
  synthOnce(join(work, "warm"))();

  const compiled = join(work, "compiled");
  compileApp(compiled);
  // The rows compared with each other (ratios to the baseline, the precompiled app and the review's ratio to
  // one synth) are measured in rounds. The review is launched as the synth is, `node --import tsx`, so the
  // ratio compares their work, not npm's or npx's start-up.
  const reviewRun = () =>
    timeOnce(
      process.execPath,
      ["--import", "tsx", "tools/review.ts", "--base", "HEAD~1", "--format", "json"],
      process.env,
    );
  // An empty TypeScript file, run with tsx from the repository (tsx reads tsconfig.json from there), shows
  // what tsx costs before any module of the app loads.
  const emptyTs = join(work, "empty.ts");
  writeFileSync(emptyTs, "export {};\n");
  const [appCommand, ...appArgs] = (
    JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8")) as { app: string }
  ).app.split(" ");
  const [nodeStart, tsxStart, baseline, all, one, precompiled, cdktfApp, review] = measureInterleaved(runs, [
    { name: JUDGED_NAMES.nodeStart, once: () => timeOnce(process.execPath, ["-e", "0"], process.env) },
    {
      name: JUDGED_NAMES.tsxStart,
      once: () => timeOnce(process.execPath, ["--import", "tsx", emptyTs], process.env),
    },
    {
      name: JUDGED_NAMES.baseline,
      once: () =>
        timeOnce(process.execPath, ["--require", RSS_REPORTER, "-e", "require('cdktf')"], process.env),
    },
    { name: JUDGED_NAMES.all, once: synthOnce(join(work, "all")) },
    {
      name: "synth: one environment (dev)",
      once: synthOnce(join(work, "dev"), { MLOPS_ENVIRONMENTS: "dev" }),
    },
    {
      name: JUDGED_NAMES.precompiled,
      once: () =>
        timeOnce(process.execPath, ["--require", RSS_REPORTER, join(compiled, "main.js")], {
          ...process.env,
          CDKTF_OUTDIR: join(work, "precompiled"),
          MLOPS_ENVIRONMENTS_DIR: join(ROOT, "environments"),
          MLOPS_OFFLINE: "",
          MLOPS_ENVIRONMENTS: "",
        }),
    },
    {
      // What `cdktf synth` runs: cdktf.json's app (npx finds tsx in node_modules/.bin, no registry).
      name: JUDGED_NAMES.cdktfApp,
      once: () =>
        timeOnce(appCommand, appArgs, {
          ...process.env,
          CDKTF_OUTDIR: join(work, "cdktf-app"),
          MLOPS_OFFLINE: "",
          MLOPS_ENVIRONMENTS: "",
        }),
    },
    ...(values["skip-review"] ? [] : [{ name: JUDGED_NAMES.review, once: reviewRun }]),
  ]);
  measurements.push(
    nodeStart,
    tsxStart,
    baseline,
    all,
    one,
    precompiled,
    cdktfApp,
    ...(review ? [review] : []),
  );

  for (const [kind, path, counts, fallback] of [
    // Counts beyond those asked for (200 and 400 endpoints; 50 to 400 node groups): an item costs a few
    // milliseconds, which only a wide range of counts tells apart from this VM's noise (a run varies by about
    // 200 ms; for the same noise, reaching 400 rather than 200 halves the slope's standard error). The counts
    // need not be deployable (EKS allows fewer node groups per cluster); the slope is what is measured.
    ["inference endpoints", ["serving", "sagemakerEndpoints"], [1, 10, 50, 100, 200, 400], undefined],
    [
      "GPU node groups",
      ["cluster", "gpuNodeGroups"],
      [1, 5, 20, 50, 100, 200, 400],
      { instanceTypes: ["g5.xlarge"] },
    ],
  ] as [string, string[], number[], unknown][]) {
    const dirs = counts.map((count) => scaledEnvironments(path, count, fallback));
    const measured = measureInterleaved(
      runs,
      counts.map((count, index) => ({
        name: `synth: dev with ${count} ${kind}`,
        once: synthOnce(join(work, `scale-${count}`), {
          MLOPS_ENVIRONMENTS: "dev",
          MLOPS_ENVIRONMENTS_DIR: dirs[index],
        }),
      })),
    );
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    measurements.push(...measured);
    const points = counts.map((count, index) => ({ count, ms: measured[index].medianMs }));
    const runsOf = counts.flatMap((count, index) =>
      (measured[index].samplesMs ?? []).map((ms) => ({ count, ms })),
    );
    const { perItemMs, errorMs } = slope(runsOf);
    scaling.push({ kind, points, perItemMs, perItemErrorMs: errorMs });
  }

  const terraform: { stack: string; initMs: number; validateMs: number; planMs: number }[] = [];
  if (!values["skip-terraform"]) {
    const reason = await offlineUnavailableReason();
    if (reason) {
      console.log(`terraform: skipped (${reason})`);
    } else {
      const outdir = join(work, "offline");
      timeOnce(process.execPath, ["--import", "tsx", "main.ts"], {
        ...process.env,
        CDKTF_OUTDIR: outdir,
        MLOPS_OFFLINE: "1",
      });
      const env = offlineTerraformEnv(join(work, "terraform"));
      const timed = async (args: string[], cwd: string) => {
        const started = Date.now();
        const result = await run("terraform", args, { cwd, env });
        if (result.code !== 0) throw new Error(`terraform ${args[0]} failed in ${cwd}:\n${result.stderr}`);
        return Date.now() - started;
      };
      for (const stack of readSynthesizedStacks(outdir).filter(isAwsOnly)) {
        const initMs = await timed(["init", "-input=false", "-no-color"], stack.dir);
        const validateMs = await timed(["validate", "-no-color"], stack.dir);
        const planMs = await timed(
          ["plan", "-refresh=false", "-input=false", "-lock=false", "-no-color"],
          stack.dir,
        );
        terraform.push({ stack: stack.name, initMs, validateMs, planMs });
        console.log(
          `terraform ${stack.name}: init ${initMs} ms, validate ${validateMs} ms, plan ${planMs} ms`,
        );
      }
    }
  }

  let tests: Measurement | undefined;
  if (!values["skip-tests"]) {
    tests = measure(JUDGED_NAMES.tests, 1, () => timeOnce("npm", ["test", "--silent"], process.env));
    measurements.push(tests);
  }

  const targets = evaluateTargets(
    { baseline, all, precompiled, review, tests, nodeStart, tsxStart, cdktfApp },
    scaling,
  );

  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version };
  mkdirSync(join(ROOT, "docs"), { recursive: true });
  writeFileSync(
    join(ROOT, "docs", "benchmarks.json"),
    `${JSON.stringify({ machine, runs, measurements, scaling, terraform, targets }, null, 2)}\n`,
  );
  writeFileSync(
    join(ROOT, "docs", "benchmarks.md"),
    renderMarkdown(machine, runs, measurements, scaling, terraform, targets),
  );
  console.log("wrote docs/benchmarks.md and docs/benchmarks.json");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
