import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { AlertTopic } from "../../../constructs/monitoring/alert-topic";
import { onlyResource, resourcesOf, type StackJson } from "../../helpers/synth";
import { LOCATION, policyOf, statement, synthBare } from "./bare-stack";

describe("AlertTopic with its own key", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthBare((stack) => {
      const topic = new AlertTopic(stack, "Alerts", {
        location: LOCATION,
        topicName: "mlops-dev-alerts",
        subscriptions: [
          { protocol: "email", endpoint: "oncall@example.com" },
          { protocol: "https", endpoint: "https://hooks.example.com/alerts" },
        ],
      });
      topic.grantPublish(new IamRole(stack, "Publisher", { name: "publisher", assumeRolePolicy: "{}" }));
    });
  });

  it("encrypts the topic with the key it owns", () => {
    expect(onlyResource(json, "aws_sns_topic")).toMatchObject({
      name: "mlops-dev-alerts",
      kms_master_key_id: expect.stringMatching(/^\$\{aws_kms_key\.Alerts_Key_\w+\.arn\}$/),
    });
  });

  it("rotates the key and protects it from destroy by default", () => {
    expect(onlyResource(json, "aws_kms_key")).toMatchObject({
      enable_key_rotation: true,
      deletion_window_in_days: 30,
      lifecycle: { prevent_destroy: true },
    });
    expect(onlyResource(json, "aws_kms_alias")).toMatchObject({ name: "alias/mlops-dev-alerts" });
  });

  it("lets CloudWatch, Budgets and Cost Anomaly Detection use the key", () => {
    expect(statement(onlyResource(json, "aws_kms_key"), "AlertingServicesEncryptMessages")).toMatchObject({
      Principal: {
        Service: ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"],
      },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
    });
  });

  it("lets the alerting services of this account publish and denies publishing without TLS", () => {
    const policy = onlyResource(json, "aws_sns_topic_policy");
    expect(statement(policy, "AlertingServicesPublish")).toMatchObject({
      Action: "sns:Publish",
      Resource: "arn:aws:sns:eu-west-1:111111111111:mlops-dev-alerts",
      Condition: { StringEquals: { "aws:SourceAccount": "111111111111" } },
    });
    expect(statement(policy, "DenyPublishWithoutTls")).toMatchObject({
      Effect: "Deny",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  it("subscribes every endpoint given", () => {
    const subscriptions = Object.values(resourcesOf(json, "aws_sns_topic_subscription"));
    expect(subscriptions.map((s) => [s.protocol, s.endpoint])).toEqual([
      ["email", "oncall@example.com"],
      ["https", "https://hooks.example.com/alerts"],
    ]);
  });

  it("grants publishing with the owned key's permissions", () => {
    const grant = onlyResource(json, "aws_iam_role_policy");
    expect(policyOf(grant).Statement).toEqual([
      {
        Sid: "PublishAlerts",
        Effect: "Allow",
        Action: "sns:Publish",
        Resource: "arn:aws:sns:eu-west-1:111111111111:mlops-dev-alerts",
      },
      {
        Sid: "EncryptAlerts",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: expect.stringMatching(/aws_kms_key\.Alerts_Key_\w+\.arn/),
      },
    ]);
  });
});

describe("AlertTopic with a key given by alias", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthBare((stack) => {
      const topic = new AlertTopic(stack, "Alerts", {
        location: LOCATION,
        topicName: "mlops-dev-alerts",
        kmsKey: "alias/mlops-dev-alerts",
      });
      topic.grantPublish(new IamRole(stack, "Publisher", { name: "publisher", assumeRolePolicy: "{}" }));
    });
  });

  it("uses the alias and creates no key", () => {
    expect(onlyResource(json, "aws_sns_topic").kms_master_key_id).toBe("alias/mlops-dev-alerts");
    expect(resourcesOf(json, "aws_kms_key")).toEqual({});
  });

  it("grants KMS use on keys carrying the alias only", () => {
    expect(statement(onlyResource(json, "aws_iam_role_policy"), "EncryptAlerts")).toMatchObject({
      Resource: "arn:aws:kms:eu-west-1:111111111111:key/*",
      Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/mlops-dev-alerts" } },
    });
  });
});

describe("AlertTopic errors", () => {
  const build = (props: Partial<ConstructorParameters<typeof AlertTopic>[2]>) => () =>
    synthBare(
      (stack) =>
        new AlertTopic(stack, "Alerts", { location: LOCATION, topicName: "mlops-dev-alerts", ...props }),
    );

  it("rejects a topic name SNS refuses", () => {
    expect(build({ topicName: "has space" })).toThrow(/topicName "has space" is not a valid SNS topic name/);
  });

  it("rejects an https subscription to a plain http URL", () => {
    expect(
      build({ subscriptions: [{ protocol: "https", endpoint: "http://insecure.example.com" }] }),
    ).toThrow(/must start with https:\/\//);
  });

  it("rejects a key deletion window outside 7-30 days", () => {
    expect(build({ keyDeletionWindowDays: 3 })).toThrow(
      /keyDeletionWindowDays is 3; KMS accepts a whole number of days from 7 to 30/,
    );
  });

  it("ignores the key deletion window when it is given a key", () => {
    const json = build({ kmsKey: "alias/mlops-dev-alerts", keyDeletionWindowDays: 3 })();
    expect(resourcesOf(json, "aws_kms_key")).toEqual({});
    expect(onlyResource(json, "aws_sns_topic").kms_master_key_id).toBe("alias/mlops-dev-alerts");
  });

  it("can leave the owned key destroyable", () => {
    const json = build({ preventDestroy: false })();
    expect(onlyResource(json, "aws_kms_key")).toMatchObject({ lifecycle: { prevent_destroy: false } });
  });
});

it("builds the topic ARN from the location and name", () => {
  expect(AlertTopic.arnFor({ accountId: "222222222222", region: "cn-north-1" }, "mlops-test-alerts")).toBe(
    "arn:aws-cn:sns:cn-north-1:222222222222:mlops-test-alerts",
  );
});
