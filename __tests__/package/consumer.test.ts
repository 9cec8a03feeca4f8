/**
 * The package from the outside: `npm pack`, installed (from the npm cache where it can) into the separate
 * example repo `examples/consumer`, which composes a bucket, a registry and a GPU cluster in its own stack;
 * that stack is synthesized and passes `terraform validate`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  checkStackOffline,
  offlineTerraformEnv,
  offlineUnavailableReasonSync,
} from "../../tools/lib/terraform";
import { ROOT } from "../helpers/config";

const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

/** What the copy of the checkout leaves out: installed packages, git, build and Terraform output. */
const NOT_PACKED =
  /^(\.git|dist|coverage|docs[/\\]api)([/\\]|$)|(^|[/\\])(node_modules|cdktf\.out|\.terraform)([/\\]|$)/;

const npm = (args: string[], cwd: string) =>
  execFileSync("npm", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" },
  });

describe("the packed package in a consumer repo", () => {
  const work = mkdtempSync(join(tmpdir(), "mlops-consumer-"));
  const consumer = join(work, "consumer");
  const { name, version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<
    string,
    string
  >;
  let tarball: string;
  let files: string[];
  let stack: Record<string, Record<string, Record<string, Record<string, unknown>>>>;
  let stackDir: string;

  beforeAll(() => {
    // The checkout as npm would pack it, copied so that the build does not touch the checkout's own dist/, and
    // the copy's dist/ holds no file of a source that is gone (as `npm run build` leaves it).
    const source = join(work, "package");
    cpSync(ROOT, source, { recursive: true, filter: (path) => !NOT_PACKED.test(relative(ROOT, path)) });
    symlinkSync(join(ROOT, "node_modules"), join(source, "node_modules"), "junction");
    // What `prepack` builds, without its type check: `npm test` has just type-checked the same sources.
    execFileSync(process.execPath, [TSC, "-p", "tsconfig.build.json", "--noCheck"], { cwd: source });
    const packed = JSON.parse(
      npm(["pack", "--json", "--ignore-scripts", "--pack-destination", work], source),
    ) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = join(work, packed[0].filename);
    files = packed[0].files.map((file) => file.path);
    cpSync(join(ROOT, "examples", "consumer"), consumer, {
      recursive: true,
      filter: (source) => !/node_modules|cdktf\.out/.test(source),
    });
    // --prefer-offline, not --offline: `npm ci` caches the tarballs its lockfile names but not the registry's
    // package documents, which an install without a lockfile resolves versions from, so a fresh machine's
    // cache cannot serve this install alone.
    npm(["install", "--prefer-offline", "--ignore-scripts", "--no-save", tarball], consumer);
    const synth = spawnSync(process.execPath, ["--import", "tsx", "main.ts"], {
      cwd: consumer,
      encoding: "utf8",
      env: { ...process.env, ACME_OFFLINE: "1" },
    });
    if (synth.status !== 0) throw new Error(`consumer synth failed:\n${synth.stderr}`);
    stackDir = join(consumer, "cdktf.out", "stacks", "vision-dev");
    stack = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));
  }, 300_000);

  it("ships compiled constructs, environments and declarations, and no sources, tests or stacks", () => {
    expect(files).toEqual(expect.arrayContaining(["dist/constructs/index.js", "dist/constructs/index.d.ts"]));
    expect(files).toEqual(
      expect.arrayContaining(["dist/environments/index.js", "dist/environments/index.d.ts"]),
    );
    expect(
      files.filter(
        (file) => /^(__tests__|stacks|tools|examples)\/|\.ts$/.test(file) && !file.endsWith(".d.ts"),
      ),
    ).toEqual([]);
  });

  it("installs next to the consumer's own cdktf and providers, not copies of its own", () => {
    const installed = readdirSync(join(consumer, "node_modules", name));
    expect(installed).not.toContain("node_modules");
  });

  it("composes a bucket, a registry and a GPU cluster in the consumer's stack", () => {
    const resource = stack.resource;
    expect(Object.values(resource.aws_s3_bucket).map((bucket) => bucket.bucket)).toContain(
      "vision-dev-images-444444444444",
    );
    expect(Object.values(resource.aws_ecr_repository).map((repository) => repository.name)).toContain(
      "vision-dev-trainer",
    );
    expect(Object.values(resource.aws_eks_cluster).map((cluster) => cluster.name)).toEqual([
      "vision-dev-eks",
    ]);
    const gpu = Object.values(resource.aws_eks_node_group).find(
      (group) => (group.taint as unknown[] | undefined)?.length,
    );
    expect(gpu).toMatchObject({ scaling_config: { min_size: 0 }, capacity_type: "SPOT" });
  });

  it("records the package version in the consumer's stack metadata", () => {
    expect(
      (stack as unknown as Record<string, { metadata: Record<string, unknown> }>)["//"].metadata
        .mlopsPlatform,
    ).toEqual({
      package: name,
      version,
    });
  });

  it("serves the environment schema from the environments entry point", () => {
    const script =
      "const e = require('mlops-platform/environments'); console.log(typeof e.environmentSchema, typeof e.parseEnvironment)";
    expect(execFileSync(process.execPath, ["-e", script], { cwd: consumer, encoding: "utf8" }).trim()).toBe(
      "function function",
    );
  });

  it("types every entry point under the consumer's own compiler settings (moduleResolution node)", () => {
    // TypeScript's classic node resolution ignores `exports`: the subpaths need `typesVersions`.
    writeFileSync(
      join(consumer, "entry-points.ts"),
      [
        'import type { GithubOidcRoles, VersionedDataBucket } from "mlops-platform";',
        'import type { KubePrometheusStackProps, MlflowServer } from "mlops-platform/kubernetes";',
        'import type { EnvironmentConfig } from "mlops-platform/environments";',
        "export type EntryPoints = [GithubOidcRoles, VersionedDataBucket, KubePrometheusStackProps, MlflowServer, EnvironmentConfig];",
        "",
      ].join("\n"),
    );
    const options = JSON.parse(readFileSync(join(consumer, "tsconfig.json"), "utf8")) as {
      compilerOptions: Record<string, string | boolean>;
    };
    const flags = Object.entries(options.compilerOptions).flatMap(([option, value]) =>
      value === true ? [`--${option}`] : value === false ? [] : [`--${option}`, String(value)],
    );
    const result = spawnSync(process.execPath, [TSC, ...flags, "entry-points.ts"], {
      cwd: consumer,
      encoding: "utf8",
    });
    expect(`${result.stdout}${result.stderr}`).toBe("");
    expect(result.status).toBe(0);
  });

  const reason = offlineUnavailableReasonSync();
  (reason ? it.skip : it)(
    reason ? `passes terraform validate (skipped: ${reason})` : "passes terraform validate",
    async () => {
      const check = await checkStackOffline(
        { name: "vision-dev", dir: stackDir, dependencies: [], providers: ["aws"], readsRemoteState: false },
        offlineTerraformEnv(work),
        { validate: true, plan: false },
      );
      expect([check.init.code, check.validate?.code, check.validate?.stderr]).toEqual([0, 0, ""]);
    },
    120_000,
  );
});
