import { countPlanActions, planStacksTogether, type SynthesizedStack } from "../../tools/lib/terraform";

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
