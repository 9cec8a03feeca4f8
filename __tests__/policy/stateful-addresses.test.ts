import { readFileSync } from "node:fs";
import { join } from "node:path";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { Testing } from "cdktf";
import type { SynthesizedStackJson } from "../../constructs/policy/engine";
import { loadEnvironments } from "../../environments/load";
import { allStacks, buildApp } from "../../stacks/app";
import { MlopsStack } from "../../stacks/mlops-stack";
import {
  compareInventory,
  describeDifferences,
  inventoryOf,
  INVENTORY_FILE,
  type StatefulInventory,
  type SynthesizedStack,
} from "../../tools/lib/stateful";
import { configFor, ROOT } from "../helpers/config";

describe("stateful address inventory", () => {
  it("matches every environment's synthesized stateful resources (else: moved block, or npm run stateful:update)", () => {
    const recorded = JSON.parse(readFileSync(join(ROOT, INVENTORY_FILE), "utf8")) as StatefulInventory;
    const environments = loadEnvironments(join(ROOT, "environments"));
    const { stacks } = buildApp({
      environments,
      offline: true,
      policy: "report",
      outdir: Testing.app().outdir,
    });
    const synthesized: SynthesizedStack[] = [...stacks.entries()].flatMap(([environment, envStacks]) =>
      allStacks(envStacks).map((stack) => ({
        environment,
        stack: stack.node.id,
        json: stack.toTerraform() as SynthesizedStackJson,
      })),
    );
    expect(describeDifferences(compareInventory(recorded, synthesized))).toBe("");
  });
});

describe("comparing the inventory with a synthesis", () => {
  function synthesizedWith(build: (stack: MlopsStack) => void): SynthesizedStack[] {
    const stack = new MlopsStack(Testing.app(), { config: configFor("prod"), part: "data", offline: true });
    build(stack);
    return [{ environment: "prod", stack: stack.node.id, json: stack.toTerraform() as SynthesizedStackJson }];
  }
  const before = inventoryOf(
    synthesizedWith((stack) => new S3Bucket(stack, "Datasets", { bucket: "datasets" })),
  );

  it("fails when a stateful construct is renamed without a moved block, and says how to fix it", () => {
    const renamed = synthesizedWith((stack) => new S3Bucket(stack, "TrainingData", { bucket: "datasets" }));
    const differences = compareInventory(before, renamed);
    expect(differences.disappeared).toEqual([
      { stack: "mlops-prod-data", address: "aws_s3_bucket.Datasets" },
    ]);
    const message = describeDifferences(differences);
    expect(message).toContain("Terraform would DESTROY them");
    expect(message).toContain('moveFromId("<old address above>")');
    expect(message).toContain("npm run stateful:update");
  });

  it("accepts a rename that carries a moved block, and asks to record the new address", () => {
    const moved = synthesizedWith((stack) =>
      new S3Bucket(stack, "TrainingData", { bucket: "datasets" }).moveFromId("aws_s3_bucket.Datasets"),
    );
    const differences = compareInventory(before, moved);
    expect(differences.disappeared).toEqual([]);
    expect(differences.unrecorded).toEqual([]);
    expect(differences.moved).toEqual([
      { stack: "mlops-prod-data", from: "aws_s3_bucket.Datasets", to: "aws_s3_bucket.TrainingData" },
    ]);
  });

  it("reports a new stateful resource as not recorded yet", () => {
    const added = synthesizedWith((stack) => {
      new S3Bucket(stack, "Datasets", { bucket: "datasets" });
      new S3Bucket(stack, "Features", { bucket: "features" });
    });
    expect(compareInventory(before, added).unrecorded).toEqual([
      { stack: "mlops-prod-data", address: "aws_s3_bucket.Features" },
    ]);
  });

  it("is silent when nothing changed", () => {
    const same = synthesizedWith((stack) => new S3Bucket(stack, "Datasets", { bucket: "datasets" }));
    expect(describeDifferences(compareInventory(before, same))).toBe("");
  });
});
