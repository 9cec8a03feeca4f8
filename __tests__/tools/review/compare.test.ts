import { join } from "node:path";
import { compareSynth } from "../../../tools/lib/review/compare";
import { parseStack, readSynthOutput } from "../../../tools/lib/review/synth-output";
import { dataBucketLifecycle } from "./fixtures/data-bucket-lifecycle";
import {
  sortStacks,
  summarize,
  type ResourceReview,
  type StackReview,
} from "../../../tools/lib/review/types";

const FIXTURES = join(__dirname, "fixtures");

describe("compareSynth over the base and head fixtures", () => {
  let stacks: StackReview[];
  const find = (stack: string, address: string): ResourceReview => {
    const resource = stacks.find((s) => s.stack === stack)?.resources.find((r) => r.address === address);
    if (!resource) throw new Error(`${stack} ${address} not in the review`);
    return resource;
  };
  const data = (address: string) => find("mlops-dev-data", address);
  const platform = (address: string) => find("mlops-dev-platform", address);

  beforeAll(() => {
    stacks = sortStacks(
      compareSynth(readSynthOutput(join(FIXTURES, "base")), readSynthOutput(join(FIXTURES, "head"))),
    );
  });

  test("a renamed bucket construct is a move that needs a moved block, high risk", () => {
    const bucket = data("aws_s3_bucket.RawDataBucket");
    expect(bucket).toMatchObject({
      action: "move",
      risk: "high",
      previousAddress: "aws_s3_bucket.RawBucket",
    });
    expect(bucket.reasons[0]).toMatch(/needs a moved block/);
    expect(bucket.reasons).toContain(
      "destroyed despite prevent_destroy: the flag only guards a resource whose block is still in the " +
        "configuration, so Terraform plans the destroy and the apply carries it out. To keep it, add a moved " +
        "block from aws_s3_bucket.RawBucket (or keep the old construct id)",
    );
    expect(bucket.reasons.join(" ")).not.toMatch(/apply will fail/);
  });

  test("the renamed bucket's versioning moves with it, without a spurious change of its bucket reference", () => {
    const versioning = data("aws_s3_bucket_versioning.RawDataBucketVersioning");
    expect(versioning).toMatchObject({ action: "move", risk: "low", changes: [] });
  });

  test("a move with a moved block in the head is recognised and carries no risk", () => {
    const models = data("aws_s3_bucket.ModelArtifacts");
    expect(models).toMatchObject({ action: "move", risk: "none", previousAddress: "aws_s3_bucket.Models" });
    expect(models.reasons).toEqual(["moved block from aws_s3_bucket.Models"]);
  });

  test("a change of a replacement-forcing attribute of a stateful resource is a high-risk replace", () => {
    const images = data("aws_ecr_repository.Images");
    expect(images).toMatchObject({ action: "replace", risk: "high" });
    expect(images.changes).toEqual([
      { path: "name", before: "mlops-dev-images", after: "mlops-dev-container-images" },
    ]);
  });

  test("any change of a SageMaker endpoint configuration replaces it (low risk: it holds no data)", () => {
    expect(platform("aws_sagemaker_endpoint_configuration.Serving")).toMatchObject({
      action: "replace",
      risk: "low",
    });
  });

  test("versioning suspended is a high-risk update", () => {
    const versioning = data("aws_s3_bucket_versioning.ModelsVersioning");
    expect(versioning).toMatchObject({ action: "update", risk: "high" });
    expect(versioning.changes).toEqual([
      { path: "versioning_configuration.status", before: "Enabled", after: "Suspended" },
    ]);
  });

  test("public access allowed is a high-risk update", () => {
    expect(data("aws_s3_bucket_public_access_block.ModelsPublicAccessBlock").reasons).toEqual([
      "public access allowed: block_public_policy turned off",
    ]);
  });

  test("force_destroy turned on is high risk", () => {
    expect(data("aws_s3_bucket.Scratch")).toMatchObject({ action: "update", risk: "high" });
  });

  test("key rotation turned off is high risk", () => {
    expect(data("aws_kms_key.DataKey").reasons).toEqual(["key rotation turned off"]);
  });

  test("deletion protection turned off is high risk and other changed attributes are listed too", () => {
    const database = platform("aws_db_instance.Registry");
    expect(database).toMatchObject({
      action: "update",
      risk: "high",
      reasons: ["deletion_protection turned off"],
    });
    expect(database.changes.map((c) => c.path)).toEqual(["deletion_protection", "instance_class"]);
  });

  test("a policy document re-serialised with other key order and spacing is no change", () => {
    expect(
      stacks.flatMap((s) => s.resources).find((r) => r.address === "aws_s3_bucket_policy.ModelsPolicy"),
    ).toBeUndefined();
  });

  test("a policy change is reported at the path inside the parsed document", () => {
    const role = platform("aws_iam_role.Trainer");
    expect(role).toMatchObject({ action: "update", risk: "low" });
    expect(role.changes).toEqual([
      {
        path: "assume_role_policy.Statement[0].Action",
        before: "sts:AssumeRole",
        after: ["sts:AssumeRole", "sts:TagSession"],
      },
    ]);
  });

  test("deleting a stateful resource is high risk", () => {
    expect(data("aws_cloudwatch_log_group.AuditLogs")).toMatchObject({ action: "delete", risk: "high" });
  });

  test("deleting a resource that holds no data is low risk", () => {
    expect(data("aws_sns_topic.Alerts")).toMatchObject({ action: "delete", risk: "low", reasons: [] });
  });

  test("a created resource carries no risk", () => {
    expect(data("aws_sns_topic.Alarms")).toMatchObject({ action: "create", risk: "none" });
  });

  test("a resource adopted by an import block is an import", () => {
    expect(data("aws_ecr_repository.Legacy")).toMatchObject({ action: "import", risk: "none" });
  });

  test("a resource moved to another stack is a high-risk move that no moved block can fix", () => {
    const logs = data("aws_cloudwatch_log_group.ClusterLogs");
    expect(logs).toMatchObject({
      action: "move",
      risk: "high",
      previousAddress: "aws_cloudwatch_log_group.EksLogs",
    });
    expect(logs.reasons[0]).toMatch(/moved from stack mlops-dev-platform/);
    expect(platform.bind(null, "aws_cloudwatch_log_group.EksLogs")).toThrow(/not in the review/);
  });

  test("unchanged data sources are not reported", () => {
    expect(stacks.flatMap((s) => s.resources).some((r) => r.address.startsWith("data."))).toBe(false);
  });

  test("the environment comes from the provider's Environment tag", () => {
    expect(new Set(stacks.map((s) => s.environment))).toEqual(new Set(["dev"]));
  });

  test("the summary counts every action and the high-risk items", () => {
    expect(summarize(stacks)).toEqual({
      create: 1,
      update: 6,
      delete: 2,
      replace: 2,
      move: 4,
      import: 1,
      highRisk: 9,
    });
  });
});

describe("compareSynth and the shared list of stateful types", () => {
  const output = (resource: Record<string, Record<string, Record<string, unknown>>>) =>
    new Map([["mlops-prod-monitoring", parseStack("mlops-prod-monitoring", { resource })]]);

  test("deleting the Prometheus workspace is high risk", () => {
    const [stack] = compareSynth(
      output({
        aws_prometheus_workspace: { Metrics: { alias: "mlops-prod" } },
        aws_sns_topic: { Alerts: { name: "alerts" } },
      }),
      output({ aws_sns_topic: { Alerts: { name: "alerts" } } }),
    );
    expect(stack.resources).toMatchObject([
      {
        address: "aws_prometheus_workspace.Metrics",
        action: "delete",
        risk: "high",
        reasons: ["deleting this aws_prometheus_workspace: its stored metrics are deleted"],
      },
    ]);
  });

  test("the MLflow tracking server re-created under a new construct id (no moved block) is high risk", () => {
    const server = (id: string) => ({
      aws_sagemaker_mlflow_tracking_server: { [id]: { tracking_server_name: "mlops-prod" } },
    });
    const [stack] = compareSynth(output(server("Tracking")), output(server("TrackingServer")));
    expect(stack.resources).toMatchObject([{ action: "move", risk: "high" }]);
    expect(stack.resources[0].reasons).toContain(
      "destroying this aws_sagemaker_mlflow_tracking_server: its experiment and run metadata are lost",
    );
  });
});

describe("compareSynth and depends_on", () => {
  const output = (resource: Record<string, Record<string, Record<string, unknown>>>) =>
    new Map([["mlops-prod-monitoring", parseStack("mlops-prod-monitoring", { resource })]]);
  const topic = (extra: object) => ({ aws_sns_topic: { Alerts: { name: "alerts", ...extra } } });

  test("a change of depends_on alone is no change: it only orders operations", () => {
    expect(
      compareSynth(output(topic({})), output(topic({ depends_on: ["aws_kms_key.Key"] })))[0]?.resources ?? [],
    ).toEqual([]);
  });

  test("beside another change, depends_on is left out of what changed", () => {
    const [stack] = compareSynth(
      output(topic({ depends_on: ["aws_kms_key.Old"] })),
      output(topic({ depends_on: ["aws_kms_key.New"], display_name: "Alerts" })),
    );
    expect(stack.resources).toHaveLength(1);
    expect(stack.resources[0]).toMatchObject({ action: "update" });
    expect(JSON.stringify(stack.resources[0])).not.toContain("depends_on");
  });
});

describe("compareSynth and create_before_destroy", () => {
  test("a replacement says the new object comes first", () => {
    const output = (name: string) =>
      new Map([
        [
          "mlops-prod-platform",
          parseStack("mlops-prod-platform", {
            resource: {
              aws_sagemaker_model: {
                Model: { name, lifecycle: { create_before_destroy: true } },
              },
            },
          }),
        ],
      ]);
    const [stack] = compareSynth(output("churn-a"), output("churn-b"));
    expect(stack.resources[0]).toMatchObject({
      action: "replace",
      reasons: [
        "name cannot change in place: Terraform creates the new one, then destroys the old (create_before_destroy)",
      ],
    });
  });
});

describe("compareSynth and prevent_destroy", () => {
  const stack = (resource: Record<string, Record<string, Record<string, unknown>>>, json: object = {}) =>
    parseStack("mlops-prod-monitoring", { resource, ...json });
  const output = (...stacks: ReturnType<typeof stack>[]) => new Map(stacks.map((s) => [s.name, s]));
  const guarded = { lifecycle: { prevent_destroy: true } };
  const topic = (extra: object = {}) => ({
    aws_sns_topic: { Alerts: { name: "alerts", ...guarded, ...extra } },
  });
  // A resource that stays, so that the stack does too.
  const keep = { aws_sqs_queue: { Work: { name: "work" } } };

  test("deleting a resource block destroys it although it had prevent_destroy: high risk, and how to keep it", () => {
    const [review] = compareSynth(output(stack({ ...topic(), ...keep })), output(stack(keep)));
    expect(review.resources).toEqual([
      expect.objectContaining({
        address: "aws_sns_topic.Alerts",
        action: "delete",
        risk: "high",
        reasons: [
          "destroyed despite prevent_destroy: the flag only guards a resource whose block is still in the " +
            "configuration, so Terraform plans the destroy and the apply carries it out. To keep it, restore the " +
            "resource block, or forget it with a `removed` block with `lifecycle { destroy = false }` (the object " +
            "stays in AWS, no longer managed)",
        ],
      }),
    ]);
  });

  test("a rename without a moved block destroys it although it had prevent_destroy, even for a type without data", () => {
    const renamed = { aws_sns_topic: { AlertTopic: { name: "alerts", ...guarded } } };
    const [review] = compareSynth(output(stack(topic())), output(stack(renamed)));
    expect(review.resources).toMatchObject([
      { action: "move", risk: "high", previousAddress: "aws_sns_topic.Alerts" },
    ]);
    expect(review.resources[0].reasons[1]).toMatch(
      /^destroyed despite prevent_destroy: .* To keep it, add a moved block from aws_sns_topic\.Alerts/,
    );
  });

  test("a resource moved to another stack is destroyed in the old one despite prevent_destroy", () => {
    const platform = (resource: Parameters<typeof stack>[0]) =>
      parseStack("mlops-prod-platform", { resource: { ...keep, ...resource } });
    const stacks = compareSynth(
      output(stack({ ...topic(), ...keep }), platform({})),
      output(stack(keep), platform(topic())),
    );
    expect(stacks.map((s) => s.stack)).toEqual(["mlops-prod-platform"]);
    expect(stacks[0].resources).toMatchObject([
      { action: "move", risk: "high", previousAddress: "aws_sns_topic.Alerts" },
    ]);
    expect(stacks[0].resources[0].reasons[1]).toMatch(
      /^destroyed despite prevent_destroy: .* To keep it, forget it in stack mlops-prod-monitoring with a `removed` block/,
    );
  });

  test("a removed block with destroy = false forgets it: low risk, no destroy", () => {
    const [review] = compareSynth(
      output(stack({ ...topic(), ...keep })),
      output(stack(keep, { removed: [{ from: "aws_sns_topic.Alerts", lifecycle: { destroy: false } }] })),
    );
    expect(review.resources).toMatchObject([{ action: "delete", risk: "low" }]);
    expect(review.resources[0].reasons.join(" ")).not.toMatch(/prevent_destroy/);
  });

  test("a replacement of a resource that keeps prevent_destroy fails at apply", () => {
    const [review] = compareSynth(output(stack(topic())), output(stack(topic({ fifo_topic: true }))));
    expect(review.resources[0]).toMatchObject({ action: "replace" });
    expect(review.resources[0].reasons).toContain(
      "prevent_destroy is set: the apply will fail until it is lifted",
    );
  });

  test("a replacement that also lifts prevent_destroy goes through: high risk, no failure announced", () => {
    const lifted = { aws_sns_topic: { Alerts: { name: "alerts", fifo_topic: true } } };
    const [review] = compareSynth(output(stack(topic())), output(stack(lifted)));
    expect(review.resources[0]).toMatchObject({ action: "replace", risk: "high" });
    expect(review.resources[0].reasons).toContain(
      "lifecycle.prevent_destroy removed: Terraform may now destroy it",
    );
    expect(review.resources[0].reasons.join(" ")).not.toMatch(/apply will fail/);
  });
});

describe("compareSynth and replacement-forcing attributes", () => {
  const output = (resource: Record<string, Record<string, Record<string, unknown>>>) =>
    new Map([["mlops-prod-platform", parseStack("mlops-prod-platform", { resource })]]);
  const server = (mlflowVersion: string) => ({
    aws_sagemaker_mlflow_tracking_server: {
      ModelRegistry: {
        tracking_server_name: "mlops-prod-mlflow",
        role_arn: "${aws_iam_role.TrackingServerRole.arn}",
        artifact_store_uri: "s3://mlops-prod-model-artifacts-333333333333/mlflow",
        mlflow_version: mlflowVersion,
      },
    },
  });

  test("a new MLflow version replaces the tracking server: high risk, its run metadata is lost", () => {
    const [stack] = compareSynth(output(server("2.16")), output(server("3.0")));
    expect(stack.resources).toMatchObject([
      {
        address: "aws_sagemaker_mlflow_tracking_server.ModelRegistry",
        action: "replace",
        risk: "high",
        reasons: [
          "mlflow_version cannot change in place: Terraform destroys and re-creates it",
          "replacing this aws_sagemaker_mlflow_tracking_server: its experiment and run metadata are lost",
        ],
      },
    ]);
  });
});

describe("compareSynth and computed replacement-forcing attributes", () => {
  const output = (bucket: Record<string, unknown>) =>
    new Map([
      [
        "mlops-prod-data",
        parseStack("mlops-prod-data", {
          resource: { aws_s3_bucket: { RawBucket: { bucket: "mlops-prod-raw-333333333333", ...bucket } } },
        }),
      ],
    ]);

  test("taking object_lock_enabled out of a bucket's configuration keeps the bucket (the value is computed)", () => {
    const [stack] = compareSynth(output({ object_lock_enabled: true }), output({}));
    expect(stack.resources).toMatchObject([{ address: "aws_s3_bucket.RawBucket", action: "update" }]);
  });

  test("spelling out the Object Lock configuration's default object_lock_enabled changes nothing", () => {
    const lock = (extra: Record<string, unknown>) =>
      new Map([
        [
          "mlops-prod-data",
          parseStack("mlops-prod-data", {
            resource: {
              aws_s3_bucket_object_lock_configuration: {
                RawBucket_ObjectLock: {
                  bucket: "${aws_s3_bucket.RawBucket.id}",
                  rule: [{ default_retention: [{ days: 365, mode: "COMPLIANCE" }] }],
                  ...extra,
                },
              },
            },
          }),
        ],
      ]);
    const [upgrade] = compareSynth(lock({}), lock({ object_lock_enabled: "Enabled" }));
    expect(upgrade.resources).toMatchObject([{ action: "update", risk: "low" }]);
    const [other] = compareSynth(lock({}), lock({ object_lock_enabled: "Disabled" }));
    expect(other.resources).toMatchObject([{ action: "replace" }]);
  });

  test("setting or changing object_lock_enabled still replaces the bucket", () => {
    for (const [before, after] of [
      [{}, { object_lock_enabled: true }],
      [{ object_lock_enabled: false }, { object_lock_enabled: true }],
    ]) {
      const [stack] = compareSynth(output(before), output(after));
      expect(stack.resources).toMatchObject([
        { address: "aws_s3_bucket.RawBucket", action: "replace", risk: "high" },
      ]);
    }
  });
});

describe("compareSynth and retention cuts", () => {
  const output = (resource: Record<string, Record<string, Record<string, unknown>>>) =>
    new Map([["mlops-prod-data", parseStack("mlops-prod-data", { resource })]]);
  const lifecycle = (noncurrentDays: number) => ({
    aws_s3_bucket_lifecycle_configuration: {
      RawBucket_Lifecycle_4309669E: dataBucketLifecycle(noncurrentDays),
    },
  });

  test("expiring noncurrent object versions sooner is a high-risk update", () => {
    const [stack] = compareSynth(output(lifecycle(365)), output(lifecycle(100)));
    expect(stack.resources).toMatchObject([
      {
        action: "update",
        risk: "high",
        reasons: [
          'lifecycle rule "noncurrent-versions": noncurrent_version_expiration.noncurrent_days lowered from 365 ' +
            "to 100: keeps noncurrent object versions for fewer days, older versions are deleted for good",
        ],
        changes: [
          { path: "rule[1].noncurrent_version_expiration[0].noncurrent_days", before: 365, after: 100 },
        ],
      },
    ]);
  });

  test("keeping noncurrent versions longer stays a low-risk update", () => {
    const [stack] = compareSynth(output(lifecycle(100)), output(lifecycle(365)));
    expect(stack.resources).toMatchObject([{ action: "update", risk: "low", reasons: [] }]);
  });
});
