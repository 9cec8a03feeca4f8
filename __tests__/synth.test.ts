/**
 * The app as users run it: `main.ts` in its own process, as `cdktf synth` runs it.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join, relative } from "node:path";
import { environmentJsonSchema } from "../environments/json-schema";
import { ROOT } from "./helpers/config";

function synth(outdir: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "main.ts")], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CDKTF_OUTDIR: outdir, MLOPS_OFFLINE: "", MLOPS_ENVIRONMENTS: "", ...env },
  });
}

/** The text of the app's own sources: main.ts and everything under constructs/, stacks/ and environments/. */
function appSources(): { file: string; text: string }[] {
  return ["main.ts", "constructs", "stacks", "environments"]
    .flatMap((entry) =>
      statSync(join(ROOT, entry)).isDirectory()
        ? readdirSync(join(ROOT, entry), { recursive: true, encoding: "utf8" }).map((file) =>
            join(entry, file),
          )
        : [entry],
    )
    .filter((file) => statSync(join(ROOT, file)).isFile())
    .map((file) => ({ file, text: readFileSync(join(ROOT, file), "utf8") }));
}

/**
 * The name of the user running the tests, where finding it in the output would mean a leak: `undefined` for
 * a user id without a passwd entry (`docker run -u 1000:1000`), and for a name the sources write as a string
 * themselves ("root", "admin", "mlflow"). Those users rely on the check that no source reads the user.
 */
function machineUser(sources: { text: string }[]): string | undefined {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    return undefined;
  }
  return sources.some(({ text }) => text.includes(`"${name}"`)) ? undefined : name;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => statSync(join(dir, file)).isFile())
    .sort();
}

describe("synthesis", () => {
  const work = mkdtempSync(join(tmpdir(), "mlops-synth-"));
  const first = join(work, "first");
  const second = join(work, "second");
  let results: ReturnType<typeof synth>[];

  beforeAll(() => {
    results = [synth(first), synth(second)];
  }, 120_000);

  it("succeeds", () => {
    expect(results.map((result) => [result.status, result.stderr])).toEqual([
      [0, ""],
      [0, ""],
    ]);
  });

  it("is byte-identical when run twice", () => {
    const files = filesOf(first);
    expect(files.length).toBeGreaterThan(0);
    expect(filesOf(second)).toEqual(files);
    for (const file of files) {
      expect({ file, text: readFileSync(join(second, file), "utf8") }).toEqual({
        file,
        text: readFileSync(join(first, file), "utf8"),
      });
    }
  });

  it("holds no absolute path, user name or timestamp", () => {
    // Paths only as prefixes or whole strings: a checkout at "/data" is no reason to refuse "/dataplane", and
    // a container path such as a "/tmp" mount is no absolute path of this machine.
    const forbidden = [
      `${ROOT}/`,
      JSON.stringify(ROOT),
      work,
      `${tmpdir()}/`,
      `${process.env.MLOPS_TEST_SYSTEM_TMPDIR ?? tmpdir()}/`,
      `${homedir()}/`,
    ].filter((path) => path.length > 3);
    const user = machineUser(appSources());
    for (const file of filesOf(first)) {
      const text = readFileSync(join(first, file), "utf8");
      for (const path of forbidden)
        expect({ file, hasPath: text.includes(path) }).toEqual({ file, hasPath: false });
      if (user) {
        const hasUser = new RegExp(`["/]${escapeRegExp(user)}["/]`).test(text);
        expect({ file, hasUser }).toEqual({ file, hasUser: false });
      }
      expect({ file, timestamp: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.exec(text)?.[0] }).toEqual({
        file,
        timestamp: undefined,
      });
    }
  });

  it("comes from sources that read neither the user, the host nor the clock", () => {
    const machineReads =
      /\b(userInfo|hostname|homedir|networkInterfaces)\s*\(|process\.env\.(USER|USERNAME|LOGNAME|HOME|HOSTNAME)\b|\bDate\.now\s*\(|\bnew Date\s*\(\s*\)|Math\.random\s*\(/;
    const reads = appSources()
      .filter(({ file }) => file.endsWith(".ts"))
      .flatMap(({ file, text }) => {
        const match = machineReads.exec(text);
        return match ? [`${file}: ${match[0]}`] : [];
      });
    expect(reads).toEqual([]);
  });

  it("carries exactly the policy suppressions docs/policy.md lists", () => {
    const markdown = readFileSync(join(ROOT, "docs", "policy.md"), "utf8");
    const table = markdown.slice(markdown.indexOf("Suppressions in the repository today"));
    const documented = table
      .slice(table.indexOf("\n|"), table.indexOf("\n\n", table.indexOf("\n|")))
      .trim()
      .split("\n")
      .slice(2)
      .flatMap((row) => {
        const [stack, address, rules, reason] = row
          .slice(1, -1)
          .split(" | ")
          .map((cell) => cell.trim().replace(/^`|`$/g, ""));
        const stacks = stack.includes("<env>")
          ? ["dev", "test", "prod"].map((env) => stack.replace("<env>", env))
          : [stack];
        return stacks.flatMap((name) =>
          rules.split(", ").map((rule) => `${name} ${address} ${rule}: ${reason}`),
        );
      });
    const synthesized = readdirSync(join(first, "stacks")).flatMap((stack) => {
      const json = JSON.parse(readFileSync(join(first, "stacks", stack, "cdk.tf.json"), "utf8")) as {
        resource?: Record<
          string,
          Record<string, { "//"?: { policy_suppressions?: { rule: string; reason: string }[] } }>
        >;
      };
      return Object.entries(json.resource ?? {}).flatMap(([type, resources]) =>
        Object.entries(resources).flatMap(([name, resource]) =>
          (resource["//"]?.policy_suppressions ?? []).map(
            ({ rule, reason }) => `${stack} ${type}.${name} ${rule}: ${reason}`,
          ),
        ),
      );
    });
    expect(synthesized.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual([...synthesized].sort());
  });

  it("writes depends_on as bare references, which is all Terraform accepts there", () => {
    const entries = readdirSync(join(first, "stacks")).flatMap((stack) => {
      const json = JSON.parse(readFileSync(join(first, "stacks", stack, "cdk.tf.json"), "utf8")) as Record<
        string,
        Record<string, Record<string, { depends_on?: string[] }>> | undefined
      >;
      return ["resource", "data"].flatMap((kind) =>
        Object.values(json[kind] ?? {}).flatMap((blocks) =>
          Object.values(blocks).flatMap((block) => block.depends_on ?? []),
        ),
      );
    });
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.filter((entry) => !/^(data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+$/.test(entry))).toEqual([]);
  });

  it("writes only the environments asked for with MLOPS_ENVIRONMENTS", () => {
    const outdir = join(work, "dev-only");
    expect(synth(outdir, { MLOPS_ENVIRONMENTS: "dev" }).status).toBe(0);
    expect(readdirSync(join(outdir, "stacks")).every((stack) => stack.startsWith("mlops-dev-"))).toBe(true);
  });
});

describe("a broken environment file", () => {
  it("stops synthesis before anything is written, with exit code 2 and one line per problem", () => {
    const work = mkdtempSync(join(tmpdir(), "mlops-broken-"));
    const environments = join(work, "environments");
    cpSync(join(ROOT, "environments"), environments, { recursive: true });
    const prod = readFileSync(join(environments, "prod.yaml"), "utf8");
    writeFileSync(
      join(environments, "prod.yaml"),
      prod.replace("tier: prod", "tier: prod\nprotection:\n  forceDestroy: true"),
    );
    const outdir = join(work, "cdktf.out");
    const result = synth(outdir, { MLOPS_ENVIRONMENTS_DIR: relative(ROOT, environments) });
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(/prod\.yaml:6:17 protection\.forceDestroy: is allowed in dev only/),
      expect.stringMatching(
        /prod\.yaml:6:17 protection\.forceDestroy: contradicts protection\.preventDestroy/,
      ),
    ]);
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(existsSync(outdir)).toBe(false);
  });
});

describe("a setting of the environment that synthesis does not know", () => {
  it.each([
    [{ MLOPS_OFFLINE: "on" }, 'MLOPS_OFFLINE is "on"; use 1, true or yes, or 0, false or no'],
    [{ MLOPS_POLICY: "reprot" }, 'MLOPS_POLICY is "reprot"; use enforce (the default) or report'],
  ])("stops it with exit code 2 instead of meaning the default (%j)", (env, message) => {
    const work = mkdtempSync(join(tmpdir(), "mlops-setting-"));
    const outdir = join(work, "cdktf.out");
    const result = synth(outdir, { MLOPS_ENVIRONMENTS: "dev", ...env });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(message);
    expect(existsSync(outdir)).toBe(false);
  });
});

describe("an error that escapes synthesis", () => {
  it("is reported with its TypeScript file and line, not the transpiled ones", () => {
    // A folder named like an environment file: reading it fails with EISDIR, which nothing handles.
    const work = mkdtempSync(join(tmpdir(), "mlops-escape-"));
    mkdirSync(join(work, "environments", "broken.yaml"), { recursive: true });
    const result = synth(join(work, "cdktf.out"), { MLOPS_ENVIRONMENTS_DIR: join(work, "environments") });
    const source = readFileSync(join(ROOT, "environments", "load.ts"), "utf8").split("\n");
    const line = source.findIndex((text) => text.includes("parseLocated(readFileSync(file")) + 1;
    expect(line).toBeGreaterThan(0);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("EISDIR");
    expect(result.stderr).toContain(`at loadEnvironments (${join(ROOT, "environments", "load.ts")}:${line}:`);
  });
});

describe("the JSON Schema for editors", () => {
  it("is committed and up to date (run npm run schema after changing the zod schema)", () => {
    const committed = readFileSync(join(ROOT, "environments", "environment.schema.json"), "utf8");
    expect(committed).toBe(`${JSON.stringify(environmentJsonSchema(), null, 2)}\n`);
  });
});
