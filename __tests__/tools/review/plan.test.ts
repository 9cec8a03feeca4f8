import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  KNOWN_AFTER_APPLY,
  SENSITIVE,
  reviewPlan,
  reviewPlanChange,
  reviewPlans,
  type PlanJson,
} from "../../../tools/lib/review/plan";
import type { StackReview } from "../../../tools/lib/review/types";

const plan = JSON.parse(
  readFileSync(join(__dirname, "fixtures", "plans", "mlops-dev-data.json"), "utf8"),
) as PlanJson;

describe("reviewPlan over a terraform show -json fixture", () => {
  let stack: StackReview;
  const find = (address: string) => stack.resources.find((r) => r.address === address);

  beforeAll(() => {
    stack = reviewPlan(plan, { stack: "mlops-dev-data" });
  });

  test("the environment comes from the Environment tag of the resources", () => {
    expect(stack.environment).toBe("dev");
  });

  test("a replacement names the paths that force it and is high risk for a stateful type", () => {
    const images = find("aws_ecr_repository.Images")!;
    expect(images).toMatchObject({ action: "replace", risk: "high" });
    expect(images.reasons[0]).toBe("name forces replacement");
  });

  test("attributes only known after a replacement are left out as noise", () => {
    expect(find("aws_ecr_repository.Images")!.changes.map((c) => c.path)).toEqual(["name"]);
  });

  test("sensitive values are masked on both sides", () => {
    const password = find("aws_db_instance.Registry")!.changes.find((c) => c.path === "password");
    expect(password).toEqual({ path: "password", before: SENSITIVE, after: SENSITIVE });
    expect(JSON.stringify(stack)).not.toMatch(/hunter2|correct-horse/);
  });

  test("a delete says why, from action_reason", () => {
    expect(find("aws_cloudwatch_log_group.Audit")).toMatchObject({ action: "delete", risk: "high" });
    expect(find("aws_cloudwatch_log_group.Audit")!.reasons[0]).toBe(
      "deleted: it is no longer in the configuration",
    );
  });

  test("previous_address makes a move", () => {
    expect(find("aws_s3_bucket.RawData")).toMatchObject({
      action: "move",
      risk: "none",
      previousAddress: "aws_s3_bucket.RawDataOld",
    });
  });

  test("importing makes an import", () => {
    expect(find("aws_ecr_repository.Legacy")).toMatchObject({
      action: "import",
      reasons: ["imported (mlops-dev-legacy)"],
    });
  });

  test("weakened protection in a real plan is high risk", () => {
    expect(find("aws_s3_bucket_versioning.Models")).toMatchObject({ action: "update", risk: "high" });
  });

  test("no-ops and data source reads are left out", () => {
    expect(find("aws_sns_topic.Alerts")).toBeUndefined();
    expect(find("data.aws_partition.Current")).toBeUndefined();
  });

  test("drift is listed apart from the changes", () => {
    expect(stack.drift).toHaveLength(1);
    expect(stack.drift![0]).toMatchObject({
      address: "aws_kms_key.DataKey",
      reasons: ["changed outside Terraform", "key rotation turned off"],
    });
  });

  test("an unknown value in an update is shown as known after apply", () => {
    const review = reviewPlanChange({
      address: "aws_eks_node_group.Gpu",
      type: "aws_eks_node_group",
      change: {
        actions: ["update"],
        before: { release_version: "1.31-1", scaling_config: [{ max_size: 2 }] },
        after: { scaling_config: [{ max_size: 4 }] },
        after_unknown: { release_version: true },
      },
    });
    expect(review!.changes).toEqual([
      { path: "release_version", before: "1.31-1", after: KNOWN_AFTER_APPLY },
      { path: "scaling_config[0].max_size", before: 2, after: 4 },
    ]);
  });

  test("a plan of an unknown major format version is refused", () => {
    expect(() => reviewPlan({ format_version: "2.0" }, { stack: "s" })).toThrow(
      /format_version 2.0 is not supported/,
    );
  });

  test("the review of several plans sums them up and notes an errored plan", () => {
    const review = reviewPlans([
      { plan, label: { stack: "mlops-dev-data" } },
      { plan: { format_version: "1.2", errored: true }, label: { stack: "mlops-dev-platform" } },
    ]);
    expect(review.kind).toBe("plan");
    expect(review.summary).toEqual({
      create: 1,
      update: 2,
      delete: 1,
      replace: 1,
      move: 1,
      import: 1,
      highRisk: 3,
    });
    expect(review.notes).toEqual(["The plan of mlops-dev-platform errored: it is incomplete."]);
  });
});
