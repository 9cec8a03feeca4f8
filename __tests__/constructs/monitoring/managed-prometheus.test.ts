import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { ManagedPrometheus } from "../../../constructs/monitoring/managed-prometheus";
import { PodIdentityRole } from "../../../constructs/monitoring/pod-identity-role";
import { onlyResource, resourcesOf, type StackJson } from "../../helpers/synth";
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
});

describe("PodIdentityRole", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthBare((stack) => {
      new PodIdentityRole(stack, "Alertmanager", {
        location: LOCATION,
        roleName: "mlops-dev-alertmanager",
        clusterName: "mlops-dev",
        namespace: "monitoring",
        serviceAccount: "alertmanager",
      }).addPolicy("publish", [
        { Effect: "Allow", Action: "sns:Publish", Resource: "arn:aws:sns:eu-west-1:111111111111:t" },
      ]);
    });
  });

  it("is trusted by EKS Pod Identity of this account's cluster only", () => {
    expect(policyOf(onlyResource(json, "aws_iam_role"), "assume_role_policy").Statement).toEqual([
      {
        Sid: "EksPodIdentity",
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: { "aws:SourceAccount": "111111111111" },
          ArnEquals: { "aws:SourceArn": "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev" },
        },
      },
    ]);
  });

  it("binds the role to the service account and adds the policies given", () => {
    expect(onlyResource(json, "aws_eks_pod_identity_association")).toMatchObject({
      namespace: "monitoring",
      service_account: "alertmanager",
    });
    expect(Object.values(resourcesOf(json, "aws_iam_role_policy")).map((p) => p.name)).toEqual(["publish"]);
  });

  it("rejects a role name IAM refuses", () => {
    expect(() =>
      synthBare(
        (stack) =>
          new PodIdentityRole(stack, "R", {
            location: LOCATION,
            roleName: "x".repeat(65),
            clusterName: "c",
            namespace: "n",
            serviceAccount: "s",
          }),
      ),
    ).toThrow(/must be 1-64 letters/);
  });
});
