/**
 * An environment switched to the SageMaker-managed registry plans the managed tracking server offline
 * (dev, test and prod as committed are planned by offline.test.ts). Skipped, with the reason in its name,
 * where Terraform or the provider mirror is missing.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../stacks/app";
import {
  checkStackOffline,
  findProviderMirror,
  offlineTerraformEnv,
  readSynthesizedStacks,
  type StackCheck,
} from "../../tools/lib/terraform";
import { configFor } from "../helpers/synth";

function unavailableReason(): string | undefined {
  try {
    execFileSync("terraform", ["version"], { encoding: "utf8" });
  } catch {
    return "terraform is not on PATH";
  }
  return findProviderMirror() ? undefined : "no filesystem mirror of hashicorp/aws 5.100.0";
}

const reason = unavailableReason();
const describeOffline = reason ? describe.skip : describe;
const title = reason
  ? `dev switched to sagemaker-managed, offline plan (skipped: ${reason})`
  : "dev switched to sagemaker-managed, offline plan";

describeOffline(title, () => {
  const work = mkdtempSync(join(tmpdir(), "mlops-registry-"));
  let check: StackCheck;

  beforeAll(
    async () => {
      const outdir = join(work, "cdktf.out");
      const config = configFor("dev", { modelRegistry: { backend: "sagemaker-managed" } });
      buildApp({ environments: [config], offline: true, outdir }).app.synth();
      const platform = readSynthesizedStacks(outdir).find((stack) => stack.name === "mlops-dev-platform")!;
      check = await checkStackOffline(platform, offlineTerraformEnv(work), { validate: false, plan: true });
    },
    10 * 60 * 1000,
  );

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const created = (type: string) => {
    const plan = JSON.parse(check.planJson ?? "{}") as {
      resource_changes?: { type: string; change: { actions: string[] } }[];
    };
    return (plan.resource_changes ?? []).filter(
      (change) => change.type === type && change.change.actions.includes("create"),
    );
  };

  it("plans", () => {
    expect(check.plan?.code === 0 ? "planned" : `${check.init.stderr}${check.plan?.stderr ?? ""}`).toBe(
      "planned",
    );
  });

  it("creates the managed tracking server", () => {
    expect(created("aws_sagemaker_mlflow_tracking_server")).toHaveLength(1);
  });

  it("creates no database", () => {
    expect(created("aws_db_instance")).toHaveLength(0);
  });
});
