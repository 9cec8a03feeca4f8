import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  countPlanActions,
  offlineTerraformEnv,
  planStacksTogether,
  type SynthesizedStack,
} from "../../tools/lib/terraform";

describe("countPlanActions", () => {
  const plan = (...actions: string[][]) =>
    JSON.stringify({ resource_changes: actions.map((a) => ({ change: { actions: a } })) });

  it("counts creations, updates and deletions, and leaves out no-ops and reads", () => {
    expect(
      countPlanActions(plan(["create"], ["create"], ["update"], ["delete"], ["no-op"], ["read"])),
    ).toEqual({
      add: 2,
      change: 1,
      destroy: 1,
      replace: 0,
    });
  });

  it("counts a replacement, in either order, as one add and one destroy", () => {
    expect(countPlanActions(plan(["delete", "create"], ["create", "delete"]))).toEqual({
      add: 2,
      change: 0,
      destroy: 2,
      replace: 2,
    });
  });

  it("counts nothing in a plan without changes", () => {
    expect(countPlanActions("{}")).toEqual({ add: 0, change: 0, destroy: 0, replace: 0 });
  });
});

describe("planStacksTogether", () => {
  it("refuses two stacks of one name, which would be one module", async () => {
    const stack: SynthesizedStack = {
      name: "mlops-dev-data",
      dir: "/nonexistent",
      dependencies: [],
      providers: ["aws"],
      readsRemoteState: false,
    };
    await expect(planStacksTogether([stack, stack], "/nonexistent/plan", {})).rejects.toThrow(
      "two stacks are named mlops-dev-data",
    );
  });
});

describe("offlineTerraformEnv", () => {
  const saved = { ...process.env };
  let work: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "mlops-offline-env-"));
  });

  afterEach(() => {
    process.env = { ...saved };
    rmSync(work, { recursive: true, force: true });
  });

  it("leaves out the caller's Terraform settings but its logging, and keeps the rest of the environment", () => {
    Object.assign(process.env, {
      TF_PLUGIN_CACHE_DIR: "/shared/cache",
      TF_DATA_DIR: "/elsewhere",
      TF_CLI_ARGS_plan: "-parallelism=1",
      TF_WORKSPACE: "prod",
      TF_LOG: "DEBUG",
      TF_LOG_PATH: "/tmp/tf.log",
      MLOPS_UNRELATED: "kept",
    });
    const env = offlineTerraformEnv(work, join(work, "mirror"));
    expect(
      Object.keys(env)
        .filter((name) => name.startsWith("TF_"))
        .sort(),
    ).toEqual(["TF_CLI_CONFIG_FILE", "TF_INPUT", "TF_IN_AUTOMATION", "TF_LOG", "TF_LOG_PATH"]);
    expect(env.MLOPS_UNRELATED).toBe("kept");
    const config = readFileSync(env.TF_CLI_CONFIG_FILE!, "utf8");
    expect(config).toContain(`plugin_cache_dir = ${JSON.stringify(join(work, "plugin-cache"))}`);
    expect(config).toContain(`path    = ${JSON.stringify(join(work, "mirror"))}`);
  });
});
