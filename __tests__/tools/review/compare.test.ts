import { join } from "node:path";
import { compareSynth } from "../../../tools/lib/review/compare";
import { parseStack, readSynthOutput } from "../../../tools/lib/review/synth-output";
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
    expect(bucket.reasons.join(" ")).toMatch(/prevent_destroy is set/);
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
