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
