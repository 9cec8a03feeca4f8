import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import {
  S3BucketLifecycleConfiguration,
  type S3BucketLifecycleConfigurationRule,
} from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketLoggingA } from "@cdktf/provider-aws/lib/s3-bucket-logging";
import { S3BucketObjectLockConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-object-lock-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketReplicationConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-replication-configuration";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Lazy, TerraformOutput, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { type AwsLocation, bucketArn as bucketArnOf } from "../core/arn";
import { type PolicyStatement, policyDocument, sameStack } from "../core/iam";
import type { Naming } from "../core/naming";
import { type EncryptionKey, viaServiceName } from "../security/encryption-key";
import { denyInsecureTransport } from "./bucket-policies";
import { DataBucketReference, dataBucketName } from "./data-bucket-reference";
import { recordPackageVersion } from "../core/package-info";

/** Object Lock retention mode: GOVERNANCE can be lifted by privileged users, COMPLIANCE by no one. */
export type ObjectLockMode = "GOVERNANCE" | "COMPLIANCE";

/** Object Lock: every new object version is locked for `days` in `mode`. */
export interface ObjectLockSettings {
  readonly mode: ObjectLockMode;
  /** Default retention of new object versions, in days. */
  readonly days: number;
}

/**
 * Replication of every object written from then on to another bucket: for disaster recovery one in another
 * region; a bucket in the same region (of another account, say) is accepted too, as S3 accepts it.
 */
export interface ReplicationSettings {
  /** ARN of the destination bucket (versioned), such as `arn:aws:s3:::mlops-prod-raw-dr`. */
  readonly destinationBucketArn: string;
  /** ARN of the KMS key that encrypts replicas, in the destination bucket's region. */
  readonly destinationKeyArn: string;
  /**
   * Storage class of replicas.
   * @default "STANDARD"
   */
  readonly storageClass?: string;
}

/** Properties of a {@link VersionedDataBucket}. */
export interface VersionedDataBucketProps {
  readonly naming: Naming;
  /** Account and region of the bucket, for ARNs built without asking AWS. */
  readonly location: AwsLocation;
  /** What the bucket holds (`raw`, `curated`, `features`, `model-artifacts`); becomes part of its name. */
  readonly purpose: string;
  /** Customer-managed key that encrypts every object (SSE-KMS with S3 Bucket Keys). */
  readonly encryptionKey: EncryptionKey;
  /** The environment's access-log bucket ({@link AccessLogBucket}), which receives this bucket's server access logs. */
  readonly accessLogBucketName: string;
  /**
   * What the bucket's logging configuration waits for when the access-log bucket is created alongside: the
   * log bucket and its policy (`[logs.bucket, logs.policy]`). S3 refuses to log to a bucket that does not
   * exist yet, and the name alone tells Terraform no order.
   * @default - none: the access-log bucket exists already, or lives in another stack
   */
  readonly accessLogDependsOn?: ITerraformDependable[];
  /**
   * The bucket's name.
   * @default `<project>-<env>-<purpose>-<account>` ({@link dataBucketName})
   */
  readonly bucketName?: string;
  /**
   * Days a replaced or deleted object version is kept before it expires.
   * @default 365
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Days after which a noncurrent version moves to Standard-IA (S3 requires at least 30).
   * @default 30
   */
  readonly noncurrentVersionInfrequentAccessDays?: number;
  /**
   * Days after which a noncurrent version moves to Glacier Flexible Retrieval.
   * @default 90
   */
  readonly noncurrentVersionGlacierDays?: number;
  /**
   * Days after which an unfinished multipart upload is aborted (whole bucket).
   * @default 7
   */
  readonly abortIncompleteMultipartUploadDays?: number;
  /**
   * Move current objects to S3 Intelligent-Tiering as soon as they are written.
   * @default false
   */
  readonly intelligentTiering?: boolean;
  /**
   * Object Lock for audit-grade datasets, with a default retention for new object versions. It can be turned
   * on for a bucket that exists already (versions written before stay unlocked), but S3 never turns it off:
   * dropping the setting later removes only the default retention.
   * @default - no Object Lock
   */
  readonly objectLock?: ObjectLockSettings;
  /**
   * Replicate every object to a bucket in another region.
   * @default - no replication
   */
  readonly replication?: ReplicationSettings;
  /**
   * Terraform `lifecycle.prevent_destroy` on the bucket.
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * Let `terraform destroy` delete the bucket with every object version in it. Only for disposable (dev)
   * environments; contradicts `preventDestroy`.
   * @default false
   */
  readonly forceDestroy?: boolean;
  /**
   * Name of the DVC remote in the output line `dvc remote add -d <name> s3://<bucket>/dvc`.
   * @default `<env>-<purpose>`
   */
  readonly dvcRemoteName?: string;
  /**
   * Add Terraform outputs (`<purpose>_bucket_name`, `<purpose>_bucket_arn`, `<purpose>_dvc_remote`).
   * @default true
   */
  readonly outputs?: boolean;
}

/**
 * A versioned, KMS-encrypted, private S3 bucket for datasets and model artifacts, safe without opt-in:
 * versioning; SSE-KMS with S3 Bucket Keys; ACLs disabled (BucketOwnerEnforced); all four public-access
 * blocks; a bucket policy that denies requests without TLS; a lifecycle that aborts stale multipart uploads
 * and moves noncurrent versions to Standard-IA, then Glacier, then expires them; server access logs to the
 * environment's log bucket; `prevent_destroy`. Options: Intelligent-Tiering, Object Lock, cross-region
 * replication.
 *
 * Grants ({@link grantRead}, {@link grantReadWrite}) work for roles in any stack: they use the bucket's
 * literal name and, outside this stack, the key's alias.
 *
 * @example
 * const raw = new VersionedDataBucket(this, "RawBucket", {
 *   naming, location, purpose: "raw", encryptionKey: dataKey, accessLogBucketName: logs.bucketName,
 * });
 * raw.grantRead(trainingRole, "datasets/imagenet");
 */
export class VersionedDataBucket extends Construct {
  readonly bucket: S3Bucket;
  /** The bucket's name, a plain string usable in any stack. */
  readonly bucketName: string;
  /** `arn:aws:s3:::<bucket>`, a plain string usable in any stack. */
  readonly bucketArn: string;
  readonly purpose: string;
  readonly encryptionKey: EncryptionKey;
  /** `dvc remote add -d <env>-<purpose> s3://<bucket>/dvc`. */
  readonly dvcRemoteCommand: string;
  /** The role S3 replicates with, when replication is on. */
  readonly replicationRole?: IamRole;

  private readonly location: AwsLocation;
  private readonly extraPolicyStatements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: VersionedDataBucketProps) {
    super(scope, id);
    recordPackageVersion(this);
    const { naming, location } = props;
    const settings = this.validate(props);
    this.location = location;
    this.purpose = props.purpose;
    this.encryptionKey = props.encryptionKey;
    this.bucketName = props.bucketName ?? dataBucketName(naming, location, props.purpose);
    this.bucketArn = bucketArnOf(location.region, this.bucketName);
    // S3 itself must be able to use the key for callers of this account (Bucket Keys, replication).
    props.encryptionKey.allowViaService("s3");

    this.bucket = new S3Bucket(this, "Resource", {
      bucket: this.bucketName,
      forceDestroy: settings.forceDestroy,
      // No object_lock_enabled here: it is ForceNew, so setting it on an existing bucket would replace the
      // bucket. The Object Lock configuration below turns Object Lock on, for new and existing buckets alike.
      lifecycle: { preventDestroy: settings.preventDestroy },
    });
    const bucket = this.bucket.id;
    const versioning = new S3BucketVersioningA(this, "Versioning", {
      bucket,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "Encryption", {
      bucket,
      rule: [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: "aws:kms",
            kmsMasterKeyId: props.encryptionKey.keyArn,
          },
          // One data key per bucket instead of one KMS call per object: cheaper and faster.
          bucketKeyEnabled: true,
        },
      ],
    });
    new S3BucketOwnershipControls(this, "Ownership", {
      bucket,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "PublicAccessBlock", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketPolicy(this, "Policy", {
      bucket,
      policy: Lazy.stringValue({
        produce: () =>
          JSON.stringify(
            policyDocument([denyInsecureTransport(this.bucketArn), ...this.extraPolicyStatements]),
          ),
      }),
      // S3 rejects a policy change while the public access block is being created.
      dependsOn: [publicAccessBlock],
    });
    new S3BucketLifecycleConfiguration(this, "Lifecycle", {
      bucket,
      rule: this.lifecycleRules(settings, props.intelligentTiering ?? false),
      dependsOn: [versioning],
    });
    new S3BucketLoggingA(this, "Logging", {
      bucket,
      targetBucket: props.accessLogBucketName,
      targetPrefix: `${this.bucketName}/`,
      // Date-partitioned keys, so Athena can prune by day.
      targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: "EventTime" } },
      ...(props.accessLogDependsOn?.length ? { dependsOn: props.accessLogDependsOn } : {}),
    });
    if (props.objectLock) {
      new S3BucketObjectLockConfigurationA(this, "ObjectLock", {
        bucket,
        // Turns Object Lock on (PutObjectLockConfiguration), which S3 allows only once versioning is enabled.
        objectLockEnabled: "Enabled",
        rule: { defaultRetention: { mode: props.objectLock.mode, days: props.objectLock.days } },
        dependsOn: [versioning],
      });
    }
    if (props.replication) {
      this.replicationRole = this.addReplication(
        naming,
        props.replication,
        versioning,
        props.objectLock !== undefined,
      );
    }

    this.dvcRemoteCommand = `dvc remote add -d ${props.dvcRemoteName ?? `${naming.environment}-${props.purpose}`} s3://${this.bucketName}/dvc`;
    if (props.outputs ?? true) {
      const prefix = props.purpose.replace(/[^A-Za-z0-9]+/g, "_");
      const outputs: [string, string, string][] = [
        ["BucketNameOutput", "bucket_name", this.bucketName],
        ["BucketArnOutput", "bucket_arn", this.bucketArn],
        ["DvcRemoteOutput", "dvc_remote", this.dvcRemoteCommand],
      ];
      for (const [outputId, suffix, value] of outputs) {
        const description =
          suffix === "dvc_remote"
            ? `Run in a DVC repository to version datasets in the ${props.purpose} bucket`
            : `${suffix === "bucket_name" ? "Name" : "ARN"} of the ${props.purpose} data bucket`;
        new TerraformOutput(this, outputId, { value, description }).overrideLogicalId(`${prefix}_${suffix}`);
      }
    }
  }

  /** This bucket as a {@link DataBucketReference}: plain names, grants that name the key by alias. */
  get reference(): DataBucketReference {
    return new DataBucketReference({
      bucketName: this.bucketName,
      location: this.location,
      keyAliasName: this.encryptionKey.aliasName,
    });
  }

  /** Adds a statement to the bucket policy (after the TLS-only deny). */
  addToResourcePolicy(statement: PolicyStatement): void {
    this.extraPolicyStatements.push(statement);
  }

  /**
   * Lets `role` list and read objects of the whole bucket, or only under `prefix` (such as
   * `datasets/imagenet`), and decrypt them. The inline policy is created in the role's stack.
   */
  grantRead(role: IamRole, prefix = ""): IamRolePolicy {
    return this.referenceFor(role).grantRead(role, prefix);
  }

  /** Like {@link grantRead}, and also write and delete objects (deletes only add delete markers). */
  grantReadWrite(role: IamRole, prefix = ""): IamRolePolicy {
    return this.referenceFor(role).grantReadWrite(role, prefix);
  }

  private referenceFor(role: IamRole): DataBucketReference {
    // In this stack the key's ARN is a usable token; elsewhere the key is matched by its alias.
    return new DataBucketReference({
      bucketName: this.bucketName,
      location: this.location,
      keyAliasName: this.encryptionKey.aliasName,
      ...(sameStack(this, role) ? { keyArn: this.encryptionKey.keyArn } : {}),
    });
  }

  private validate(props: VersionedDataBucketProps) {
    const where = this.node.path;
    const settings = {
      expirationDays: props.noncurrentVersionExpirationDays ?? 365,
      infrequentAccessDays: props.noncurrentVersionInfrequentAccessDays ?? 30,
      glacierDays: props.noncurrentVersionGlacierDays ?? 90,
      abortDays: props.abortIncompleteMultipartUploadDays ?? 7,
      preventDestroy: props.preventDestroy ?? true,
      forceDestroy: props.forceDestroy ?? false,
    };
    const days: [string, number][] = [
      ["noncurrentVersionExpirationDays", settings.expirationDays],
      ["noncurrentVersionInfrequentAccessDays", settings.infrequentAccessDays],
      ["noncurrentVersionGlacierDays", settings.glacierDays],
      ["abortIncompleteMultipartUploadDays", settings.abortDays],
    ];
    for (const [name, value] of days) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`${where}: ${name} is ${value}; it must be a whole number of days, at least 1`);
      }
    }
    if (settings.infrequentAccessDays < 30) {
      throw new Error(
        `${where}: noncurrentVersionInfrequentAccessDays is ${settings.infrequentAccessDays}; S3 moves versions to Standard-IA after 30 days at the earliest`,
      );
    }
    if (settings.glacierDays <= settings.infrequentAccessDays) {
      throw new Error(
        `${where}: noncurrentVersionGlacierDays (${settings.glacierDays}) must be greater than noncurrentVersionInfrequentAccessDays (${settings.infrequentAccessDays})`,
      );
    }
    if (settings.expirationDays <= settings.glacierDays) {
      throw new Error(
        `${where}: noncurrentVersionExpirationDays (${settings.expirationDays}) must be greater than noncurrentVersionGlacierDays (${settings.glacierDays})`,
      );
    }
    if (settings.preventDestroy && settings.forceDestroy) {
      throw new Error(`${where}: forceDestroy contradicts preventDestroy; turn one of them off`);
    }
    if (props.objectLock && (!Number.isInteger(props.objectLock.days) || props.objectLock.days < 1)) {
      throw new Error(
        `${where}: objectLock.days is ${props.objectLock.days}; it must be a whole number of days, at least 1`,
      );
    }
    if (props.replication) {
      if (
        !/^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(props.replication.destinationBucketArn)
      ) {
        throw new Error(
          `${where}: replication.destinationBucketArn "${props.replication.destinationBucketArn}" must be a bucket ARN such as arn:aws:s3:::mlops-prod-raw-dr`,
        );
      }
      if (!KMS_KEY_ARN.test(props.replication.destinationKeyArn)) {
        throw new Error(
          `${where}: replication.destinationKeyArn "${props.replication.destinationKeyArn}" must be a KMS key ARN such as arn:aws:kms:eu-central-1:111111111111:key/<id>`,
        );
      }
    }
    return settings;
  }

  private lifecycleRules(
    settings: ReturnType<VersionedDataBucket["validate"]>,
    intelligentTiering: boolean,
  ): S3BucketLifecycleConfigurationRule[] {
    const rules: S3BucketLifecycleConfigurationRule[] = [
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: [{ prefix: "" }],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: settings.abortDays }],
      },
      {
        id: "noncurrent-versions",
        status: "Enabled",
        filter: [{ prefix: "" }],
        noncurrentVersionTransition: [
          { noncurrentDays: settings.infrequentAccessDays, storageClass: "STANDARD_IA" },
          { noncurrentDays: settings.glacierDays, storageClass: "GLACIER" },
        ],
        noncurrentVersionExpiration: [{ noncurrentDays: settings.expirationDays }],
        // Once every version behind a delete marker has expired, the marker is clutter.
        expiration: [{ expiredObjectDeleteMarker: true }],
      },
    ];
    if (intelligentTiering) {
      rules.push({
        id: "intelligent-tiering",
        status: "Enabled",
        filter: [{ prefix: "" }],
        transition: [{ days: 0, storageClass: "INTELLIGENT_TIERING" }],
      });
    }
    return rules;
  }

  private addReplication(
    naming: Naming,
    replication: ReplicationSettings,
    versioning: S3BucketVersioningA,
    objectLock: boolean,
  ): IamRole {
    const destinationRegion = KMS_KEY_ARN.exec(replication.destinationKeyArn)![1];
    const role = new IamRole(this, "ReplicationRole", {
      name: naming.name("iamRole", this.purpose, "replication"),
      description: `S3 replicates ${this.bucketName} to ${replication.destinationBucketArn} with this role`,
      assumeRolePolicy: JSON.stringify(
        policyDocument([
          {
            Effect: "Allow",
            Principal: { Service: "s3.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": this.location.accountId } },
          },
        ]),
      ),
    });
    const objects = `${this.bucketArn}/*`;
    new IamRolePolicy(this, "ReplicationRolePolicy", {
      role: role.name,
      name: "replicate",
      policy: JSON.stringify(
        policyDocument([
          {
            Sid: "ReadReplicationConfiguration",
            Effect: "Allow",
            Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            Resource: this.bucketArn,
          },
          {
            Sid: "ReadSourceVersions",
            Effect: "Allow",
            Action: [
              "s3:GetObjectVersionForReplication",
              "s3:GetObjectVersionAcl",
              "s3:GetObjectVersionTagging",
              // Replicas of locked objects carry their retention and legal hold, which S3 reads as this role.
              ...(objectLock ? ["s3:GetObjectRetention", "s3:GetObjectLegalHold"] : []),
            ],
            Resource: objects,
          },
          {
            Sid: "WriteReplicas",
            Effect: "Allow",
            Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            Resource: `${replication.destinationBucketArn}/*`,
          },
          {
            Sid: "DecryptSource",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: this.encryptionKey.keyArn,
            Condition: {
              StringEquals: { "kms:ViaService": viaServiceName("s3", this.location.region) },
              StringLike: { "kms:EncryptionContext:aws:s3:arn": [this.bucketArn, objects] },
            },
          },
          {
            Sid: "EncryptReplicas",
            Effect: "Allow",
            Action: ["kms:Encrypt", "kms:GenerateDataKey"],
            Resource: replication.destinationKeyArn,
            Condition: {
              StringEquals: { "kms:ViaService": viaServiceName("s3", destinationRegion) },
              StringLike: {
                "kms:EncryptionContext:aws:s3:arn": [
                  replication.destinationBucketArn,
                  `${replication.destinationBucketArn}/*`,
                ],
              },
            },
          },
        ]),
      ),
    });
    new S3BucketReplicationConfigurationA(this, "Replication", {
      bucket: this.bucket.id,
      role: role.arn,
      rule: [
        {
          id: "replicate-everything",
          status: "Enabled",
          priority: 1,
          filter: {},
          // Deletes stay in the source: the replica is what you restore from after a mistake.
          deleteMarkerReplication: { status: "Disabled" },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
          destination: {
            bucket: replication.destinationBucketArn,
            storageClass: replication.storageClass ?? "STANDARD",
            encryptionConfiguration: { replicaKmsKeyId: replication.destinationKeyArn },
          },
        },
      ],
      // S3 refuses a replication configuration on a bucket without versioning.
      dependsOn: [versioning],
    });
    return role;
  }
}

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]+$/;
