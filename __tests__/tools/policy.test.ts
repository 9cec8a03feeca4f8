import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../tools/lib/terraform";
import { formatPolicyTables, policyFindings, policyReports } from "../../tools/lib/policy";
import { GOOD_BUCKET, patched, stackJson, without, type Resources } from "../policy/fixtures";
import { ROOT } from "../helpers/config";

/** Writes a cdktf output folder holding `stacks` (name → resources, tier). */
function writeOutdir(
  stacks: Record<string, { resources: Resources; tier: "dev" | "test" | "prod" }>,
): string {
  const outdir = mkdtempSync(join(tmpdir(), "policy-tool-"));
  const manifest: Record<string, unknown> = {};
  for (const [name, { resources, tier }] of Object.entries(stacks)) {
    mkdirSync(join(outdir, "stacks", name), { recursive: true });
    const json = stackJson(resources, tier) as Record<string, unknown>;
    json["//"] = { metadata: { stackName: name }, policy: { environment: tier, tier } };
    writeFileSync(join(outdir, "stacks", name, "cdk.tf.json"), JSON.stringify(json));
    manifest[name] = {
      name,
      synthesizedStackPath: `stacks/${name}/cdk.tf.json`,
      workingDirectory: `stacks/${name}`,
    };
  }
  writeFileSync(join(outdir, "manifest.json"), JSON.stringify({ stacks: manifest }));
  return outdir;
}

const withSuppression = (resources: Resources, address: string, rule: string, reason: string): Resources =>
  patched(resources, address, {
    "//": { metadata: { path: `fixture/${address.split(".")[1]}` }, policy_suppressions: [{ rule, reason }] },
  });

describe("policy findings of a synthesized cdktf.out", () => {
  let outdir: string;
  beforeAll(() => {
    outdir = writeOutdir({
      "mlops-prod-data": {
        tier: "prod",
        resources: withSuppression(
          patched(without(GOOD_BUCKET, "aws_s3_bucket_logging.DataLogging"), "aws_s3_bucket.Data", {
            force_destroy: true,
          }),
          "aws_s3_bucket.Data",
          "MLOPS-S3-005",
          "Logged by the organisation trail instead",
        ),
      },
      "mlops-dev-data": {
        tier: "dev",
        resources: patched(GOOD_BUCKET, "aws_s3_bucket.Data", { force_destroy: true, lifecycle: undefined }),
      },
    });
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it("gives each finding a key that identifies it across syntheses", () => {
    expect(
      policyFindings(outdir).find((f) => f.rule === "MLOPS-S3-008" && f.stack === "mlops-prod-data")?.key,
    ).toBe("mlops-prod-data|MLOPS-S3-008|aws_s3_bucket.Data");
  });

  it("groups findings by environment and counts blocking failures", () => {
    const reports = policyReports(outdir);
    expect(reports.map((r) => [r.environment, r.summary.blocking, r.summary.suppressed])).toEqual([
      ["dev", 0, 0],
      ["prod", 1, 1],
    ]);
  });

  it("prints the rule, resource, construct path and result, with the fix and the suppression's reason", () => {
    const table = formatPolicyTables(policyReports(outdir));
    expect(table).toContain("Environment prod (tier prod): 1 failed (1 blocking), 1 suppressed");
    expect(table).toMatch(/FAIL \(blocking\)\s+MLOPS-S3-008\s+aws_s3_bucket\.Data\s+fixture\/Data/);
    expect(table).toContain("Fix: Remove force_destroy");
    expect(table).toMatch(/SUPPRESSED\s+MLOPS-S3-005/);
    expect(table).toContain("suppressed because Logged by the organisation trail instead");
  });

  it("hides passing checks unless asked for all", () => {
    const reports = policyReports(outdir);
    expect(formatPolicyTables(reports)).not.toMatch(/^\s+pass\s/m);
    expect(formatPolicyTables(reports, { all: true })).toMatch(/^\s+pass\s+MLOPS-S3-001/m);
  });

  it("npm run policy exits 1 on a blocking failure and prints JSON with --format json", async () => {
    const result = await run(
      process.execPath,
      ["--import", "tsx", "tools/policy.ts", "--outdir", outdir, "--no-synth", "--format", "json"],
      {
        cwd: ROOT,
      },
    );
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as { blocking: number; environments: { environment: string }[] };
    expect(json.blocking).toBe(1);
    expect(json.environments.map((e) => e.environment)).toEqual(["dev", "prod"]);
  });

  it("npm run policy exits 0 for an environment with nothing blocking", async () => {
    const result = await run(
      process.execPath,
      ["--import", "tsx", "tools/policy.ts", "dev", "--outdir", outdir, "--no-synth"],
      {
        cwd: ROOT,
      },
    );
    expect(result.stdout).toContain("No blocking findings.");
    expect(result.code).toBe(0);
  });
});

describe("npm run policy when synthesis fails", () => {
  it("exits with synthesis's code and leaves no temporary folder behind", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "policy-tmp-"));
    try {
      const result = await run(process.execPath, ["--import", "tsx", "tools/policy.ts", "staging"], {
        cwd: ROOT,
        env: { ...process.env, TMPDIR: tmp },
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/staging/);
      expect(readdirSync(tmp).filter((name) => name.startsWith("mlops-policy-"))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("docs/policy.md", () => {
  it("lists every rule as npm run policy:docs generates it", async () => {
    const result = await run(process.execPath, ["--import", "tsx", "tools/policy-docs.ts", "--check"], {
      cwd: ROOT,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});
