import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { ManagedPrometheus } from "../../../constructs/monitoring/managed-prometheus";
import { onlyResource, type StackJson } from "../../helpers/synth";
import { LOCATION, policyOf, statement, synthBare } from "./bare-stack";

describe("ManagedPrometheus", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthBare((stack) => {
      new ManagedPrometheus(stack, "Amp", {
        location: LOCATION,
        alias: "mlops-prod-metrics",
        keyAliasName: "mlops-prod-metrics",
        logRetentionDays: 365,
      }).grantRemoteWrite(new IamRole(stack, "Prometheus", { name: "prometheus", assumeRolePolicy: "{}" }));
    });
  });

  it("encrypts the workspace with its own rotated key and logs to its log group", () => {
    expect(onlyResource(json, "aws_prometheus_workspace")).toMatchObject({
      alias: "mlops-prod-metrics",
      kms_key_arn: expect.stringMatching(/aws_kms_key\.Amp_Key_\w+\.arn/),
      logging_configuration: {
        log_group_arn: expect.stringMatching(/aws_cloudwatch_log_group\.Amp_LogGroup_\w+\.arn\}:\*$/),
      },
      lifecycle: { prevent_destroy: true },
    });
    expect(onlyResource(json, "aws_kms_key")).toMatchObject({ enable_key_rotation: true });
  });

  it("keeps the workspace's logs for the retention given, encrypted with the key", () => {
    expect(onlyResource(json, "aws_cloudwatch_log_group")).toMatchObject({
      name: "/aws/prometheus/mlops-prod-metrics",
      retention_in_days: 365,
      kms_key_id: expect.stringMatching(/aws_kms_key\.Amp_Key_\w+\.arn/),
    });
  });

  it("lets CloudWatch Logs use the key only for the workspace's log group", () => {
    expect(statement(onlyResource(json, "aws_kms_key"), "CloudWatchLogsEncryptsWorkspaceLogs")).toMatchObject(
      {
        Principal: { Service: "logs.eu-west-1.amazonaws.com" },
        Condition: {
          ArnEquals: {
            "kms:EncryptionContext:aws:logs:arn":
              "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/prometheus/mlops-prod-metrics",
          },
        },
      },
    );
  });

  it("lets the role given remote-write to the workspace and nothing else", () => {
    expect(policyOf(onlyResource(json, "aws_iam_role_policy")).Statement).toEqual([
      {
        Sid: "RemoteWrite",
        Effect: "Allow",
        Action: "aps:RemoteWrite",
        Resource: expect.stringMatching(/aws_prometheus_workspace\.Amp_\w+\.arn/),
      },
    ]);
  });

  it("builds the remote-write URL of a workspace", () => {
    expect(ManagedPrometheus.remoteWriteUrl("eu-west-1", "ws-123")).toBe(
      "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-123/api/v1/remote_write",
    );
  });

  it("rejects a key deletion window KMS would refuse at apply", () => {
    for (const days of [6, 31, 7.5]) {
      expect(() =>
        synthBare((stack) => {
          new ManagedPrometheus(stack, "Amp", {
            location: LOCATION,
            alias: "mlops-prod-metrics",
            keyAliasName: "mlops-prod-metrics",
            logRetentionDays: 365,
            keyDeletionWindowDays: days,
          });
        }),
      ).toThrow(`keyDeletionWindowDays is ${days}; KMS accepts a whole number of days from 7 to 30`);
    }
  });
});
