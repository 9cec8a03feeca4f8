import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { App, TerraformResource } from "cdktf";
import { MlopsStack } from "../../stacks/mlops-stack";
import { foreignReferences } from "../../stacks/foreign-references";
import { configFor } from "../helpers/config";

describe("foreignReferences", () => {
  const json = {
    resource: { aws_s3_bucket: { Raw: {} }, aws_sns_topic: { Alerts: { name: "${aws_s3_bucket.Raw.id}" } } },
    data: { aws_iam_policy_document: { Trust: {} } },
    ephemeral: { aws_secretsmanager_random_password: { Grafana: {} } },
  };

  it("accepts references to the stack's resources, data sources and ephemeral resources", () => {
    expect(
      foreignReferences({
        ...json,
        output: {
          a: { value: "${aws_s3_bucket.Raw.arn}" },
          b: { value: "${data.aws_iam_policy_document.Trust.json}" },
          c: { value: "${ephemeral.aws_secretsmanager_random_password.Grafana.random_password}" },
        },
      }),
    ).toEqual([]);
  });

  it("names each reference to a resource the stack does not hold, once", () => {
    expect(
      foreignReferences({
        ...json,
        output: {
          a: { value: "${aws_s3_bucket.Elsewhere.arn}" },
          b: { value: "${upper(aws_s3_bucket.Elsewhere.id)}-${data.aws_vpc.Shared.id}" },
        },
      }),
    ).toEqual(["aws_s3_bucket.Elsewhere", "data.aws_vpc.Shared"]);
  });

  it("ignores literals, variables, locals and cdktf's metadata", () => {
    expect(
      foreignReferences({
        ...json,
        output: {
          a: { value: '${join("/", ["s3://bucket/churn/v1", "model.tar.gz"])}' },
          b: { value: "${var.region}-${local.name}" },
          "//": { note: "${aws_s3_bucket.Elsewhere.arn}" },
        },
      }),
    ).toEqual([]);
  });
});

describe("an MlopsStack in a synth", () => {
  afterEach(() => jest.restoreAllMocks());

  const twoStacks = () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), "mlops-refs-")) });
    const config = configFor("dev");
    const data = new MlopsStack(app, { config, part: "data", offline: true });
    const platform = new MlopsStack(app, { config, part: "platform", offline: true });
    return { app, data, platform };
  };

  it("renders each resource once: cdktf's cross-stack preparation pass is skipped", () => {
    const { app, data } = twoStacks();
    new SnsTopic(data, "Topic", { name: "mlops-dev-topic" });
    const render = jest.spyOn(TerraformResource.prototype, "toTerraform");
    app.synth();
    expect(render).toHaveBeenCalledTimes(1);
  });

  it("refuses a reference to another stack's resource instead of reading that stack's state", () => {
    const { app, data, platform } = twoStacks();
    const bucket = new S3Bucket(data, "Raw", { bucket: "mlops-dev-raw" });
    new SnsTopic(platform, "Topic", { name: "mlops-dev-topic", displayName: bucket.arn });
    expect(() => app.synth()).toThrow(
      /aws_s3_bucket\.Raw\w* is referenced here but is not in this stack: .*Refer to it by name/,
    );
  });
});
