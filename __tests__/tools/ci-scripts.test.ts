import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../helpers/config";

describe("the CI scripts", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "mlops-ci-scripts-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("fail, and apply nothing, when the stacks of the output cannot be listed", () => {
    // A synth output that is missing (a lost artifact): listing its stacks fails, and so must the apply.
    const result = spawnSync("bash", [join(ROOT, ".ci", "apply-env.sh"), join(work, "missing")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(result.status).not.toBe(0);
    expect(result.stdout).not.toContain("::group::apply");
  });
});

describe("the pull-request workflow", () => {
  const workflow = parse(readFileSync(join(ROOT, ".github", "workflows", "pr.yml"), "utf8")) as {
    on: { pull_request: { types: string[] } };
    jobs: Record<
      string,
      { steps: { if?: string; env?: Record<string, string>; with?: { script?: string } }[] }
    >;
  };

  it("runs again when a label is added or removed, so the risk gate sees the labels of that moment", () => {
    expect(workflow.on.pull_request.types).toEqual(
      expect.arrayContaining(["opened", "synchronize", "reopened", "labeled", "unlabeled"]),
    );
  });

  it("takes an acceptance for the commits it was given for: a push withdraws it", () => {
    const steps = workflow.jobs["high-risk-gate"].steps;
    const gate = steps.find((step) => step.env?.ACCEPTED !== undefined)!;
    expect(gate.env!.ACCEPTED.replace(/\s+/g, " ")).toContain("github.event.action != 'synchronize' &&");
    const withdraw = steps.find((step) => step.with?.script?.includes("removeLabel"));
    expect(withdraw?.if).toContain("github.event.action == 'synchronize'");
    expect(withdraw?.with?.script).toContain('name: "infra-risk-accepted"');
  });
});

describe("the deploy workflows", () => {
  type Job = { "runs-on"?: string; uses?: string; with?: Record<string, string> };
  type Workflow = {
    on: { workflow_call?: { inputs: Record<string, { type: string; required?: boolean }> } };
    jobs: Record<string, Job>;
  };
  const read = (name: string) =>
    parse(readFileSync(join(ROOT, ".github", "workflows", name), "utf8")) as Workflow;
  const reusable = ["plan-environment.yml", "apply-environment.yml"];

  // Dev, test and prod are in accounts and VPCs of their own: no one runner reaches every cluster's private API.
  it.each(reusable)("%s runs every job on the runner its caller names for the environment", (name) => {
    const workflow = read(name);
    expect(workflow.on.workflow_call!.inputs.runner).toEqual({ type: "string", required: true });
    const jobs = Object.values(workflow.jobs);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(job["runs-on"]).toBe("${{ inputs.runner }}");
  });

  it("give each environment the runner of its own variable, then DEPLOY_RUNNER, then ubuntu-latest", () => {
    const called = Object.entries(read("deploy.yml").jobs).filter(([, job]) =>
      reusable.some((name) => job.uses === `./.github/workflows/${name}`),
    );
    // Each environment is planned and applied (so every job that runs the cluster stacks is checked below).
    expect(called.map(([, job]) => `${job.with!.environment} ${job.uses}`).sort()).toEqual(
      ["dev", "test", "prod"]
        .flatMap((environment) => reusable.map((name) => `${environment} ./.github/workflows/${name}`))
        .sort(),
    );
    for (const [id, job] of called) {
      const variable = `DEPLOY_RUNNER_${job.with!.environment.toUpperCase()}`;
      expect(`${id}: ${job.with!.runner}`).toBe(
        `${id}: \${{ vars.${variable} || vars.DEPLOY_RUNNER || 'ubuntu-latest' }}`,
      );
    }
  });
});
