/**
 * End to end: `npm run review` between two commits of a temporary copy of this repository, where the
 * second commit renames the construct of the state bucket and turns off the rotation of the state key (a
 * policy violation). Synthesizes twice, so it takes a few seconds.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "../helpers/config";

const BUCKET_CONSTRUCT = /new S3Bucket\(this, "StateBucket"/;
const KEY_ROTATION = /enableKeyRotation: true/;

/**
 * Runs a command. In the copy (`isolated`), git reads neither the machine's global nor its system
 * configuration, so commit signing, hooks paths or templates set there cannot break the test; the copy
 * belongs to the user running it, so no `safe.directory` entry is needed. The repository itself is read
 * with the machine's configuration, which may hold the `safe.directory` entry its checkout needs.
 */
function sh(command: string, args: string[], cwd: string, isolated = true) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      ...(isolated ? { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } : {}),
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("npm run review between two commits of a copy of the repository", () => {
  let copy: string;
  let result: ReturnType<typeof sh>;

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), "mlops-review-e2e-"));
    // The working tree as the review sees it: new files not yet added included, deleted ones left out.
    const files = sh("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT, false)
      .stdout.split("\0")
      .filter((file) => file && existsSync(join(ROOT, file)));
    for (const file of files) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(ROOT, file), join(copy, file));
    }
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir");
    sh("git", ["init", "-q", "-b", "main"], copy);
    sh("git", ["add", "-A"], copy);
    sh("git", ["commit", "-qm", "base"], copy);
    const stackFile = join(copy, "stacks", "bootstrap-stack.ts");
    const source = readFileSync(stackFile, "utf8");
    if (!BUCKET_CONSTRUCT.test(source))
      throw new Error('stacks/bootstrap-stack.ts no longer creates S3Bucket "StateBucket": update this test');
    if (!KEY_ROTATION.test(source))
      throw new Error("stacks/bootstrap-stack.ts no longer sets enableKeyRotation: true: update this test");
    writeFileSync(
      stackFile,
      source
        .replace(BUCKET_CONSTRUCT, 'new S3Bucket(this, "TerraformStateBucket"')
        .replace(KEY_ROTATION, "enableKeyRotation: false"),
    );
    sh("git", ["commit", "-qam", "rename the state bucket construct, stop rotating the state key"], copy);
    result = sh(
      process.execPath,
      ["--import", "tsx", "tools/review.ts", "--base", "HEAD~1", "--format", "json", "--fail-on", "high"],
      copy,
    );
  }, 180_000);

  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  test("exits 3 because the change is high risk", () => {
    expect(result.stderr).toMatch(/high-risk change/);
    expect(result.code).toBe(3);
  });

  test("reports the renamed bucket as a move that needs a moved block, high risk, in every environment", () => {
    const review = JSON.parse(result.stdout) as {
      stacks: {
        stack: string;
        resources: { address: string; action: string; risk: string; reasons: string[] }[];
      }[];
    };
    const bootstrap = review.stacks.filter((s) => s.stack.endsWith("-bootstrap"));
    expect(bootstrap.map((s) => s.stack).sort()).toEqual([
      "mlops-dev-bootstrap",
      "mlops-prod-bootstrap",
      "mlops-test-bootstrap",
    ]);
    for (const stack of bootstrap) {
      const bucket = stack.resources.find((r) => r.address === "aws_s3_bucket.TerraformStateBucket");
      expect(bucket).toMatchObject({ action: "move", risk: "high" });
      expect(bucket!.reasons[0]).toMatch(/needs a moved block/);
    }
  });

  test("reports the key that stops rotating with the policy rule it now fails, high risk where the rule blocks", () => {
    const review = JSON.parse(result.stdout) as {
      stacks: {
        stack: string;
        resources: { address: string; risk: string; reasons: string[] }[];
        findings: { status: string; ruleId: string }[];
      }[];
    };
    const keyOf = (name: string) =>
      review.stacks
        .find((s) => s.stack === name)!
        .resources.find((r) => r.address.startsWith("aws_kms_key.StateKey"));
    for (const name of ["mlops-dev-bootstrap", "mlops-test-bootstrap", "mlops-prod-bootstrap"]) {
      expect(keyOf(name)?.reasons).toEqual(
        expect.arrayContaining([expect.stringMatching(/^policy MLOPS-KMS-001 fails: /)]),
      );
      expect(review.stacks.find((s) => s.stack === name)!.findings).toEqual(
        expect.arrayContaining([expect.objectContaining({ status: "added", ruleId: "MLOPS-KMS-001" })]),
      );
    }
    expect(keyOf("mlops-prod-bootstrap")?.risk).toBe("high");
    expect(keyOf("mlops-test-bootstrap")?.risk).toBe("high");
  });

  test("leaves no temporary worktree behind", () => {
    expect(sh("git", ["worktree", "list"], copy).stdout.trim().split("\n")).toHaveLength(1);
  });
});
