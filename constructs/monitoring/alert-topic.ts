import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { accountRootArn, arn, type AwsLocation } from "../core/arn";
import { recordPackageVersion } from "../core/package-info";
import { keyDeletionWindow } from "../core/key-deletion-window";

/** How an alert reaches a person or a system. */
export type AlertSubscriptionProtocol = "email" | "email-json" | "https" | "sqs" | "lambda" | "sms";

/** One subscriber of an {@link AlertTopic}. */
export interface AlertSubscription {
  readonly protocol: AlertSubscriptionProtocol;
  /** Email address, HTTPS URL, SQS queue ARN, Lambda function ARN or phone number, as the protocol expects. */
  readonly endpoint: string;
}

/** Properties of an {@link AlertTopic}. */
export interface AlertTopicProps {
  /** Where the topic lives; its ARN is built from this and the name, so other stacks can publish to it. */
  readonly location: AwsLocation;
  /** Topic name, such as `mlops-dev-alerts` (1-256 letters, digits, hyphens or underscores). */
  readonly topicName: string;
  /**
   * Customer-managed KMS key that encrypts messages at rest: a key ARN, or an alias (`alias/mlops-dev-alerts`)
   * or alias ARN. Its key policy must let `cloudwatch.amazonaws.com`, `budgets.amazonaws.com` and
   * `costalerts.amazonaws.com` call `kms:GenerateDataKey*` and `kms:Decrypt`, or alarms cannot publish.
   * @default - the topic owns a key (with rotation) whose policy allows exactly those services
   */
  readonly kmsKey?: string;
  /**
   * Days a scheduled deletion of the owned key waits (7-30). Ignored with `kmsKey`.
   * @default 30
   */
  readonly keyDeletionWindowDays?: number;
  /**
   * Terraform `prevent_destroy` on the owned key: destroying it would make queued messages unreadable.
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * Who is told. Email and HTTPS subscribers must confirm the subscription AWS sends them.
   * @default - none (add them with {@link AlertTopic.addSubscription})
   */
  readonly subscriptions?: readonly AlertSubscription[];
}

/** AWS services that publish alerts of this platform; the topic and key policies let exactly these publish. */
export const ALERT_PUBLISHING_SERVICES = [
  "cloudwatch.amazonaws.com",
  "budgets.amazonaws.com",
  "costalerts.amazonaws.com",
] as const;

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * The environment's alert topic: an SNS topic encrypted with a customer-managed KMS key, whose topic and key
 * policies let CloudWatch alarms, AWS Budgets and Cost Anomaly Detection publish, and deny publishing without
 * TLS. Subscribers come from the environment file.
 *
 * Its ARN is deterministic ({@link AlertTopic.arnFor}), so Alertmanager in the cluster stack can publish to it
 * without a cross-stack reference.
 *
 * @example
 * const topic = new AlertTopic(this, "Alerts", {
 *   location: { accountId: "111111111111", region: "eu-west-1" },
 *   topicName: "mlops-dev-alerts",
 *   subscriptions: [{ protocol: "email", endpoint: "ml-platform@example.com" }],
 * });
 * topic.grantPublish(alertmanagerRole);
 */
export class AlertTopic extends Construct {
  /** The ARN of the topic `topicName` in `location`, for publishers in other stacks. */
  static arnFor(location: AwsLocation, topicName: string): string {
    return arn(location, "sns", topicName);
  }

  /** The topic. */
  readonly resource: SnsTopic;
  /** The key the topic owns; undefined when it uses the `kmsKey` it was given. */
  readonly key?: KmsKey;
  /** Topic ARN (deterministic, known at synth). */
  readonly topicArn: string;
  readonly topicName: string;
  /** What the topic's `kms_master_key_id` holds: the owned key's ARN or the key given. */
  readonly kmsKeyId: string;
  /** The topic policy. Services that check they may publish when a subscription is made (AWS Budgets, Cost
   * Anomaly Detection) must be created after it: pass it in their `dependsOn`. */
  readonly policy: SnsTopicPolicy;

  private readonly location: AwsLocation;
  private readonly kmsKeyGiven?: string;
  private subscriptionCount = 0;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    recordPackageVersion(this);
    if (!TOPIC_NAME.test(props.topicName)) {
      throw new Error(
        `AlertTopic ${this.node.path}: topicName "${props.topicName}" is not a valid SNS topic name; ` +
          "use 1-256 letters, digits, hyphens or underscores",
      );
    }
    this.location = props.location;
    this.topicName = props.topicName;
    this.topicArn = AlertTopic.arnFor(props.location, props.topicName);
    this.kmsKeyGiven = props.kmsKey;

    if (props.kmsKey) {
      this.kmsKeyId = props.kmsKey;
    } else {
      this.key = new KmsKey(this, "Key", {
        description: `Encrypts alerts published to SNS topic ${props.topicName}`,
        enableKeyRotation: true,
        deletionWindowInDays: keyDeletionWindow(
          props.keyDeletionWindowDays ?? 30,
          `AlertTopic ${this.node.path}`,
        ),
        policy: JSON.stringify(this.keyPolicy()),
        lifecycle: { preventDestroy: props.preventDestroy ?? true },
      });
      new KmsAlias(this, "KeyAlias", { name: `alias/${props.topicName}`, targetKeyId: this.key.keyId });
      this.kmsKeyId = this.key.arn;
    }

    this.resource = new SnsTopic(this, "Resource", {
      name: props.topicName,
      displayName: props.topicName.slice(0, 100),
      kmsMasterKeyId: this.kmsKeyId,
    });
    this.policy = new SnsTopicPolicy(this, "Policy", {
      arn: this.resource.arn,
      policy: JSON.stringify(this.topicPolicy()),
    });

    for (const subscription of props.subscriptions ?? []) this.addSubscription(subscription);
  }

  /** Subscribes `subscription.endpoint` to the topic. */
  addSubscription(subscription: AlertSubscription): SnsTopicSubscription {
    if (!subscription.endpoint) {
      throw new Error(
        `AlertTopic ${this.node.path}: a ${subscription.protocol} subscription needs an endpoint`,
      );
    }
    if (subscription.protocol === "https" && !subscription.endpoint.startsWith("https://")) {
      throw new Error(
        `AlertTopic ${this.node.path}: https subscription endpoint "${subscription.endpoint}" must start with https://`,
      );
    }
    this.subscriptionCount += 1;
    return new SnsTopicSubscription(this, `Subscription${this.subscriptionCount}`, {
      topicArn: this.resource.arn,
      protocol: subscription.protocol,
      endpoint: subscription.endpoint,
    });
  }

  /**
   * Lets `role` publish to the topic: `sns:Publish` on it, and the KMS permissions its encryption needs
   * (on the owned key, or on keys carrying the given alias).
   */
  grantPublish(role: IamRole): IamRolePolicy {
    // Scoped to the role, so granting several topics to one role, or one topic to several roles, never collides.
    return new IamRolePolicy(role, `PublishTo${this.node.id}`, {
      role: role.name,
      name: `publish-${this.topicName}`.slice(0, 128),
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: this.topicArn },
          {
            Sid: "EncryptAlerts",
            Effect: "Allow",
            Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
            ...this.keyScope(),
          },
        ],
      }),
    });
  }

  /** Which keys the topic's encryption permissions apply to. */
  private keyScope(): { Resource: string; Condition?: Record<string, unknown> } {
    if (this.key) return { Resource: this.key.arn };
    const given = this.kmsKeyGiven!;
    if (given.startsWith("arn:") && given.includes(":key/")) return { Resource: given };
    // A key known only by alias: its ARN is random, so grant on any key of the account that carries the alias.
    const alias = given.startsWith("arn:") ? given.slice(given.indexOf(":alias/") + 1) : given;
    return {
      Resource: arn(this.location, "kms", "key/*"),
      Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": alias } },
    };
  }

  private keyPolicy(): Record<string, unknown> {
    return {
      Version: "2012-10-17",
      Statement: [
        {
          // IAM policies of this account decide who else may use the key (grantPublish adds them).
          Sid: "AccountAdministersAndDelegatesToIam",
          Effect: "Allow",
          Principal: { AWS: accountRootArn(this.location) },
          Action: "kms:*",
          Resource: "*",
        },
        {
          // SNS asks KMS for a data key on the publishing service's behalf; without this an alarm fires into
          // nothing. No source condition: the call comes from SNS, and AWS documents this statement without one.
          Sid: "AlertingServicesEncryptMessages",
          Effect: "Allow",
          Principal: { Service: [...ALERT_PUBLISHING_SERVICES] },
          Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
          Resource: "*",
        },
      ],
    };
  }

  private topicPolicy(): Record<string, unknown> {
    return {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AccountManagesTopic",
          Effect: "Allow",
          Principal: { AWS: accountRootArn(this.location) },
          Action: [
            "sns:GetTopicAttributes",
            "sns:SetTopicAttributes",
            "sns:AddPermission",
            "sns:RemovePermission",
            "sns:DeleteTopic",
            "sns:Subscribe",
            "sns:ListSubscriptionsByTopic",
            "sns:Publish",
          ],
          Resource: this.topicArn,
        },
        {
          Sid: "AlertingServicesPublish",
          Effect: "Allow",
          Principal: { Service: [...ALERT_PUBLISHING_SERVICES] },
          Action: "sns:Publish",
          Resource: this.topicArn,
          Condition: { StringEquals: { "aws:SourceAccount": this.location.accountId } },
        },
        {
          Sid: "DenyPublishWithoutTls",
          Effect: "Deny",
          Principal: "*",
          Action: "sns:Publish",
          Resource: this.topicArn,
          // AWS services publish over their own channels; only callers outside AWS are held to TLS here.
          Condition: { Bool: { "aws:SecureTransport": "false", "aws:PrincipalIsAWSService": "false" } },
        },
      ],
    };
  }
}
