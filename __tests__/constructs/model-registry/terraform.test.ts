/**
 * The registry's AWS resources are real Terraform: a bare stack of each backend passes `terraform validate`
 * and an offline `terraform plan` against AWS provider 5.100.0 from the local mirror. Skipped, with the
 * reason, where Terraform or the mirror is missing.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Testing } from "cdktf";
import {
  AWS_PROVIDER_VERSION,
  checkStackOffline,
  findProviderMirror,
  offlineTerraformEnv,
  readSynthesizedStacks,
  type StackCheck,
} from "../../../tools/lib/terraform";
import { ROOT } from "../../helpers/synth";
import { registryProps, registryStack } from "./fixtures";

const CASES = {
  "self-hosted": registryProps({ server: { clusterName: "mlops-dev" } }),
  "sagemaker-managed": registryProps({ backend: "sagemaker-managed", database: undefined }),
};

/** Known before tests are collected, so unavailable checks are reported as skipped, not passed. */
function unavailableReason(): string | undefined {
  const version = spawnSync("terraform", ["version"], { encoding: "utf8" });
  if (version.status !== 0) return "terraform is not on PATH";
  if (!findProviderMirror()) return `no filesystem mirror of hashicorp/aws ${AWS_PROVIDER_VERSION}`;
  return undefined;
}

const reason = unavailableReason();
const describeOffline = reason ? describe.skip : describe;
const title = reason
  ? `ModelRegistry offline Terraform (skipped: ${reason})`
  : "ModelRegistry offline Terraform";

describeOffline(title, () => {
  const results: Record<string, StackCheck> = {};
  const dirs: string[] = [];

  beforeAll(async () => {
    const env = offlineTerraformEnv(resolve(ROOT, "node_modules/.cache/mlops-terraform"));
    for (const [name, props] of Object.entries(CASES)) {
      mkdirSync(join(ROOT, ".tmp"), { recursive: true });
      const outdir = mkdtempSync(join(ROOT, ".tmp", "registry-tf-"));
      dirs.push(outdir);
      const app = Testing.app({ outdir });
      registryStack(props, app);
      app.synth();
      const [stack] = readSynthesizedStacks(outdir);
      results[name] = await checkStackOffline(stack, env, { validate: true, plan: true });
    }
  }, 300_000);

  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  test.each(Object.keys(CASES))("%s validates and plans offline", (name) => {
    const result = results[name];
    expect({ init: result.init.code, stderr: result.init.stderr }).toEqual({ init: 0, stderr: "" });
    expect(result.validate?.stdout).toMatch(/The configuration is valid/);
    expect(result.plan?.stderr).toBe("");
    expect(result.counts?.add).toBeGreaterThan(0);
  });
});
