import { spawnSync } from "node:child_process";
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
});
