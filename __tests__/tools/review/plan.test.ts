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

  test("JSON that is not a plan is refused, not reviewed as a plan without changes", () => {
    for (const notAPlan of [{}, [1, 2], { values: { root_module: {} } }]) {
      expect(() => reviewPlan(notAPlan as PlanJson, { stack: "s" })).toThrow(
        /s: not a Terraform plan in JSON \(it has no format_version\)/,
      );
    }
  });

  test("the JSON of a state, which has a format_version too, is refused", () => {
    const state = { format_version: "1.0", terraform_version: "1.11.4", values: { root_module: {} } };
    expect(() => reviewPlan(state as PlanJson, { stack: "s" })).toThrow(
      /s: the JSON of a state, not of a plan; make one with terraform show -json <plan file>/,
    );
    const planJson = { format_version: "1.2", planned_values: { root_module: {} }, resource_changes: [] };
    expect(reviewPlan(planJson as PlanJson, { stack: "s" }).resources).toEqual([]);
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

describe("stateful types in plans", () => {
  test("deleting the Prometheus workspace is high risk", () => {
    const review = reviewPlanChange({
      address: "aws_prometheus_workspace.Metrics",
      type: "aws_prometheus_workspace",
      action_reason: "delete_because_no_resource_config",
      change: { actions: ["delete"], before: { alias: "mlops-prod" }, after: null },
    });
    expect(review).toMatchObject({ action: "delete", risk: "high" });
    expect(review!.reasons).toContain(
      "deleting this aws_prometheus_workspace: its stored metrics are deleted",
    );
  });

  test.each([
    "aws_sagemaker_mlflow_tracking_server",
    "aws_sagemaker_domain",
    "aws_ebs_volume",
    "kubernetes_persistent_volume_v1",
    "kubernetes_persistent_volume_claim",
  ])("replacing a %s is high risk", (type) => {
    const review = reviewPlanChange({
      address: `${type}.This`,
      type,
      change: {
        actions: ["delete", "create"],
        before: { name: "a" },
        after: { name: "b" },
        replace_paths: [["name"]],
      },
    });
    expect(review).toMatchObject({ action: "replace", risk: "high" });
  });
});

describe("resources a plan forgets (removed block with destroy = false)", () => {
  const forget = (type: string, before: object) =>
    reviewPlanChange({
      address: `${type}.Kept`,
      type,
      action_reason: "delete_because_no_resource_config",
      change: { actions: ["forget"], before, after: null },
    });

  test("a forgotten resource is listed as a delete that keeps the object in AWS", () => {
    expect(forget("aws_sns_topic", { name: "alerts" })).toEqual({
      address: "aws_sns_topic.Kept",
      type: "aws_sns_topic",
      action: "delete",
      risk: "low",
      reasons: ["removed block with destroy = false: Terraform forgets it, the object stays in AWS"],
      changes: [],
    });
  });

  test("a forgotten stateful resource keeps its data: low risk, and its protection is not reported as removed", () => {
    expect(forget("aws_s3_bucket", { bucket: "raw", force_destroy: false })).toMatchObject({ risk: "low" });
    expect(
      forget("aws_s3_bucket_public_access_block", { block_public_acls: true, block_public_policy: true }),
    ).toMatchObject({ action: "delete", risk: "low" });
  });

  test("a replacement that forgets the old object says so; for a stateful type the new one starts empty", () => {
    const review = reviewPlanChange({
      address: "aws_s3_bucket.Raw",
      type: "aws_s3_bucket",
      change: {
        actions: ["create", "forget"],
        before: { bucket: "raw-a" },
        after: { bucket: "raw-b" },
        replace_paths: [["bucket"]],
      },
    });
    expect(review).toMatchObject({ action: "replace", risk: "high" });
    expect(review!.reasons).toEqual([
      "bucket forces replacement",
      "destroy = false: Terraform forgets the existing object, which stays in AWS, and creates a new one",
      "the new aws_s3_bucket starts without the data of the old one",
    ]);
  });
});

describe("retention cuts in plans", () => {
  const group = (days: number) => ({
    name: "/aws/sagemaker/Endpoints/mlops-prod-churn",
    retention_in_days: days,
  });
  const update = (before: object, after: object) =>
    reviewPlanChange({
      address: "aws_cloudwatch_log_group.Logs",
      type: "aws_cloudwatch_log_group",
      change: { actions: ["update"], before, after },
    });

  test("an update that keeps logs for fewer days is high risk", () => {
    expect(update(group(365), group(90))).toMatchObject({
      action: "update",
      risk: "high",
      reasons: [
        "retention_in_days lowered from 365 to 90: keeps logs for fewer days, older logs are deleted for good",
      ],
    });
  });

  test("an update that keeps them longer stays low risk", () => {
    expect(update(group(90), group(365))).toMatchObject({ action: "update", risk: "low", reasons: [] });
  });
});
