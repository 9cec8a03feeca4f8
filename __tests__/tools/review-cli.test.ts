import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/config";

const FIXTURES = join(__dirname, "review", "fixtures");

function tool(script: string, args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join("tools", script), ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("npm run review on two synthesized folders", () => {
  let json: ReturnType<typeof tool>;
  beforeAll(() => {
    json = tool("review.ts", [
      "--base-dir",
      join(FIXTURES, "base"),
      "--head-dir",
      join(FIXTURES, "head"),
      "--format",
      "json",
      "--fail-on",
      "high",
    ]);
  });

  test("--fail-on high exits 3 when a change is high risk", () => {
    expect(json.code).toBe(3);
  });

  test("--format json has the documented shape", () => {
    const review = JSON.parse(json.stdout) as Record<string, unknown> & {
      stacks: { stack: string; environment: string; resources: Record<string, unknown>[] }[];
      summary: Record<string, number>;
    };
    expect(Object.keys(review.summary).sort()).toEqual([
      "create",
      "delete",
      "highRisk",
      "import",
      "move",
      "replace",
      "update",
    ]);
    expect(review.stacks.map((s) => s.stack)).toEqual(["mlops-dev-data", "mlops-dev-platform"]);
    for (const resource of review.stacks.flatMap((s) => s.resources)) {
      expect(resource).toEqual(
        expect.objectContaining({
          address: expect.any(String),
          type: expect.any(String),
          action: expect.stringMatching(/^(create|update|delete|replace|move|import)$/),
          risk: expect.stringMatching(/^(none|low|high)$/),
          reasons: expect.any(Array),
          changes: expect.any(Array),
        }),
      );
    }
  });

  test("Markdown is the default format, with a diagram of the changed resources", () => {
    const markdown = tool("review.ts", [
      "--base-dir",
      join(FIXTURES, "base"),
      "--head-dir",
      join(FIXTURES, "head"),
    ]);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toMatch(/^<!-- mlops-review -->/);
    expect(markdown.stdout).toContain("```mermaid");
  });

  test("comparing a folder with itself finds nothing and passes --fail-on high", () => {
    const same = tool("review.ts", [
      "--base-dir",
      join(FIXTURES, "head"),
      "--head-dir",
      join(FIXTURES, "head"),
      "--fail-on",
      "high",
      "--format",
      "json",
    ]);
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout).stacks).toEqual([]);
  });

  test("a bad option is a usage error (exit 2)", () => {
    const bad = tool("review.ts", ["--format", "yaml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format must be markdown or json/);
  });
});

describe("npm run plan-summary", () => {
  const plan = join(FIXTURES, "plans", "mlops-dev-data.json");

  test("renders the plan as a sticky comment named after the stack of the file", () => {
    const result = tool("plan-summary.ts", [plan]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^<!-- mlops-review -->\n## Terraform plan/);
    expect(result.stdout).toContain("`mlops-dev-data`");
    expect(result.stdout).not.toMatch(/hunter2/);
  });

  test("--fail-on high exits 3 for a plan that replaces a repository", () => {
    expect(tool("plan-summary.ts", [plan, "--fail-on", "high", "--format", "json"]).code).toBe(3);
  });

  test("without a file it is a usage error", () => {
    expect(tool("plan-summary.ts", []).code).toBe(2);
  });
});

describe("bad usage exits 2 with a one-line message, not a stack trace", () => {
  test.each([
    ["review.ts", ["--bogus"], /^review: Unknown option '--bogus'/],
    ["review.ts", ["--fail-on"], /^review: Option '--fail-on <value>' argument missing/],
    ["plan-summary.ts", ["--bogus"], /^plan-summary: Unknown option '--bogus'/],
    [
      "plan-summary.ts",
      ["plan.json", "--fail-on"],
      /^plan-summary: Option '--fail-on <value>' argument missing/,
    ],
    [
      "plan-summary.ts",
      ["plan.json", "--max-length", "abc"],
      /^plan-summary: --max-length must be a whole number of at least 2000/,
    ],
  ])("%s %j", (script, args, message) => {
    const result = tool(script, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("npm run review with policy reports on both sides", () => {
  let work: string;
  /** Two identical syntheses (no resource changes) whose policy reports hold `base` and `head`. */
  const sides = (name: string, base: object[], head: object[]) => {
    const dirs = { base: join(work, name, "base"), head: join(work, name, "head") };
    for (const [side, findings] of [
      ["base", base],
      ["head", head],
    ] as const) {
      cpSync(join(FIXTURES, "head"), dirs[side], { recursive: true });
      const report = { environments: [{ environment: "dev", tier: "dev", findings }], blocking: 0 };
      writeFileSync(join(dirs[side], "policy-report.json"), JSON.stringify(report));
    }
    return ["--base-dir", dirs.base, "--head-dir", dirs.head, "--no-diagram"];
  };
  const packFinding = (result: "fail" | "suppressed", level = "error") => ({
    rule: "MLOPS-KMS-001",
    title: "Key rotation is enabled",
    severity: "high",
    level,
    result,
    blocking: result === "fail" && level === "error",
    stack: "mlops-dev-data",
    address: "aws_kms_key.DataKey",
    path: "mlops-dev-data/DataKey/Resource",
    ...(result === "suppressed" ? { reason: "Rotation is handled by the key owner team" } : {}),
  });

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "review-cli-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("--fail-on low fails on a finding that --fail-on high fails on, with no resource change", () => {
    const args = sides("blocking", [], [packFinding("fail")]);
    expect(tool("review.ts", [...args, "--fail-on", "high"]).code).toBe(3);
    expect(tool("review.ts", [...args, "--fail-on", "low"]).code).toBe(3);
  });

  test("a non-blocking finding the change adds fails --fail-on low only", () => {
    const args = sides("warning", [], [packFinding("fail", "warn")]);
    expect(tool("review.ts", [...args, "--fail-on", "high"]).code).toBe(0);
    expect(tool("review.ts", [...args, "--fail-on", "low"]).code).toBe(3);
  });

  test("a finding that goes from failing to suppressed shows as suppressed with its reason, at low risk", () => {
    const args = sides("suppressed", [packFinding("fail")], [packFinding("suppressed")]);
    const json = tool("review.ts", [...args, "--format", "json", "--fail-on", "low"]);
    expect(json.code).toBe(3);
    const review = JSON.parse(json.stdout) as { stacks: { findings?: object[] }[] };
    expect(review.stacks.flatMap((s) => s.findings ?? [])).toEqual([
      expect.objectContaining({
        status: "suppressed",
        ruleId: "MLOPS-KMS-001",
        risk: "low",
        reason: "Rotation is handled by the key owner team",
      }),
    ]);
    const markdown = tool("review.ts", [...args, "--fail-on", "high"]);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toContain("newly suppressed");
    expect(markdown.stdout).toContain("Rotation is handled by the key owner team");
    expect(markdown.stdout).not.toContain("✅ fixed");
  });
});

describe("npm run plan-summary and the shared stateful types", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "plan-summary-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("--fail-on high exits 3 for a plan that deletes the Prometheus workspace", () => {
    const file = join(work, "mlops-prod-monitoring.json");
    const change = {
      address: "aws_prometheus_workspace.Metrics",
      mode: "managed",
      type: "aws_prometheus_workspace",
      action_reason: "delete_because_no_resource_config",
      change: { actions: ["delete"], before: { alias: "mlops-prod" }, after: null },
    };
    writeFileSync(file, JSON.stringify({ format_version: "1.2", resource_changes: [change] }));
    const result = tool("plan-summary.ts", [file, "--fail-on", "high", "--format", "json"]);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout).summary.highRisk).toBe(1);
  });
});

describe("npm run plan-summary on a file that is not a plan", () => {
  test("exits 1 with the reason, not with an all-clear", () => {
    const dir = mkdtempSync(join(tmpdir(), "not-a-plan-"));
    try {
      const file = join(dir, "plan.json");
      writeFileSync(file, "{}");
      const result = tool("plan-summary.ts", [file]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^plan-summary: .*not a Terraform plan in JSON/);
      expect(result.stdout).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm run diagram", () => {
  test("draws an environment from an existing cdktf output folder", () => {
    const result = tool("diagram.ts", ["dev", "--from", join(FIXTURES, "head")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^flowchart LR/);
  });

  test("an unknown environment is a usage error naming the known ones", () => {
    const result = tool("diagram.ts", ["staging", "--from", join(FIXTURES, "head")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/known: dev/);
  });

  test("removes the folder it synthesized into, also when it ends with an error", () => {
    const tmp = mkdtempSync(join(tmpdir(), "diagram-tmp-"));
    try {
      const result = spawnSync(
        process.execPath,
        ["--import", "tsx", join("tools", "diagram.ts"), "staging"],
        {
          cwd: ROOT,
          encoding: "utf8",
          env: { ...process.env, TMPDIR: tmp },
        },
      );
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/known: dev, prod, test/);
      expect(readdirSync(tmp).filter((name) => name.startsWith("mlops-diagram-"))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
