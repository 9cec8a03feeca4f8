import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { PrometheusWorkspace } from "@cdktf/provider-aws/lib/prometheus-workspace";
import { Construct } from "constructs";
import { accountRootArn, arn, dnsSuffix, type AwsLocation } from "../core/arn";
import { recordPackageVersion } from "../core/package-info";
import { keyDeletionWindow } from "../core/key-deletion-window";

/** Properties of a {@link ManagedPrometheus}. */
export interface ManagedPrometheusProps {
  readonly location: AwsLocation;
  /** Workspace alias, such as `mlops-prod-metrics`; the cluster stack finds the workspace by it. */
  readonly alias: string;
  /** Name of the KMS key alias (without `alias/`) for the workspace's own key. */
  readonly keyAliasName: string;
  /** Days the workspace's log group keeps rule and alerting errors (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
  /**
   * Days a scheduled deletion of the key waits (7-30).
   * @default 30
   */
  readonly keyDeletionWindowDays?: number;
  /**
   * Terraform `prevent_destroy` on the workspace, its key and its log group (they hold the metrics history).
   * @default true
   */
  readonly preventDestroy?: boolean;
}

/**
 * An Amazon Managed Service for Prometheus workspace for durable metrics: encrypted with its own KMS key,
 * logging to a log group with retention and the same key. {@link ManagedPrometheus.grantRemoteWrite} lets a
 * role (Prometheus' Pod Identity role) write samples to it and nothing else.
 *
 * @example
 * const amp = new ManagedPrometheus(this, "ManagedPrometheus", {
 *   location, alias: "mlops-prod-metrics", keyAliasName: "mlops-prod-metrics", logRetentionDays: 365,
 * });
 * amp.grantRemoteWrite(prometheusRole.role);
 */
export class ManagedPrometheus extends Construct {
  /** The workspace. */
  readonly resource: PrometheusWorkspace;
  readonly key: KmsKey;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: ManagedPrometheusProps) {
    super(scope, id);
    recordPackageVersion(this);
    const preventDestroy = props.preventDestroy ?? true;
    const logGroupName = `/aws/prometheus/${props.alias}`;

    this.key = new KmsKey(this, "Key", {
      description: `Encrypts the Amazon Managed Service for Prometheus workspace ${props.alias} and its logs`,
      enableKeyRotation: true,
      deletionWindowInDays: keyDeletionWindow(
        props.keyDeletionWindowDays ?? 30,
        `ManagedPrometheus ${this.node.path}`,
      ),
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AccountAdministersAndDelegatesToIam",
            Effect: "Allow",
            Principal: { AWS: accountRootArn(props.location) },
            Action: "kms:*",
            Resource: "*",
          },
          {
            // CloudWatch Logs encrypts with the key itself; the context pins it to this workspace's log group.
            Sid: "CloudWatchLogsEncryptsWorkspaceLogs",
            Effect: "Allow",
            Principal: { Service: `logs.${props.location.region}.${dnsSuffix(props.location.region)}` },
            Action: [
              "kms:Encrypt*",
              "kms:Decrypt*",
              "kms:ReEncrypt*",
              "kms:GenerateDataKey*",
              "kms:Describe*",
            ],
            Resource: "*",
            Condition: {
              ArnEquals: {
                "kms:EncryptionContext:aws:logs:arn": arn(
                  props.location,
                  "logs",
                  `log-group:${logGroupName}`,
                ),
              },
            },
          },
        ],
      }),
      lifecycle: { preventDestroy },
    });
    new KmsAlias(this, "KeyAlias", { name: `alias/${props.keyAliasName}`, targetKeyId: this.key.keyId });

    this.logGroup = new CloudwatchLogGroup(this, "LogGroup", {
      name: logGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: this.key.arn,
      lifecycle: { preventDestroy },
    });

    this.resource = new PrometheusWorkspace(this, "Resource", {
      alias: props.alias,
      kmsKeyArn: this.key.arn,
      loggingConfiguration: { logGroupArn: `${this.logGroup.arn}:*` },
      lifecycle: { preventDestroy },
    });
  }

  /** Lets `role` write samples to the workspace (`aps:RemoteWrite`), and nothing else. */
  grantRemoteWrite(role: IamRole): IamRolePolicy {
    // Scoped to the role, so one role may write to several workspaces without id collisions.
    return new IamRolePolicy(role, `RemoteWriteTo${this.node.id}`, {
      role: role.name,
      name: `remote-write-${this.node.id}`.slice(0, 128),
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "RemoteWrite", Effect: "Allow", Action: "aps:RemoteWrite", Resource: this.resource.arn },
        ],
      }),
    });
  }

  /** The remote-write URL of a workspace, for Prometheus' `remoteWrite` (the id comes from the workspace). */
  static remoteWriteUrl(region: string, workspaceId: string): string {
    return `https://aps-workspaces.${region}.${dnsSuffix(region)}/workspaces/${workspaceId}/api/v1/remote_write`;
  }
}
