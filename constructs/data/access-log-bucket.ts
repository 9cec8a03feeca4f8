import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { type AwsLocation, bucketArn } from "../core/arn";
import { policyDocument } from "../core/iam";
import type { Naming } from "../core/naming";
import { denyInsecureTransport } from "./bucket-policies";
import { recordPackageVersion } from "../core/package-info";

/** Properties of an {@link AccessLogBucket}. */
export interface AccessLogBucketProps {
  readonly naming: Naming;
  readonly location: AwsLocation;
  /**
   * The bucket's name.
   * @default `<project>-<env>-access-logs-<account>`
   */
  readonly bucketName?: string;
  /**
   * Days an access log is kept before it expires.
   * @default 365
   */
  readonly retentionDays?: number;
  /**
   * Days a replaced or deleted log version is kept.
   * @default 30
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Name pattern of the buckets that may log here (`aws:SourceArn`).
   * @default `<project>-<env>-*`, every bucket of the environment
   */
  readonly sourceBucketPattern?: string;
  /**
   * Terraform `lifecycle.prevent_destroy` on the bucket.
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * Let `terraform destroy` delete the bucket with its logs. Never in a protected environment.
   * @default false
   */
  readonly forceDestroy?: boolean;
}

/**
 * The one bucket per environment that receives the S3 server access logs of its data buckets: versioned,
 * encrypted, private, TLS-only, with a retention lifecycle, writable only by the S3 logging service on
 * behalf of this account's buckets.
 *
 * Encryption is SSE-S3 (AES256), not SSE-KMS: S3 server access logging documents SSE-S3 as the default
 * encryption a target bucket supports, needs no key policy for the logging service, and the logs hold
 * request metadata, not data. The bucket has no Object Lock and logs nowhere itself, as the logging
 * service requires of a target.
 *
 * @example
 * const logs = new AccessLogBucket(this, "AccessLogs", { naming, location, retentionDays: 365 });
 * new VersionedDataBucket(this, "RawBucket", {
 *   ..., accessLogBucketName: logs.bucketName, accessLogDependsOn: [logs.bucket, logs.policy],
 * });
 */
export class AccessLogBucket extends Construct {
  readonly bucket: S3Bucket;
  /** The bucket's name, a plain string. */
  readonly bucketName: string;
  /** `arn:aws:s3:::<bucket>`, a plain string. */
  readonly bucketArn: string;
  /** The bucket policy that lets S3 server access logging deliver. */
  readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: AccessLogBucketProps) {
    super(scope, id);
    recordPackageVersion(this);
    const retentionDays = props.retentionDays ?? 365;
    const noncurrentDays = props.noncurrentVersionExpirationDays ?? 30;
    for (const [name, value] of [
      ["retentionDays", retentionDays],
      ["noncurrentVersionExpirationDays", noncurrentDays],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(
          `${this.node.path}: ${name} is ${value}; it must be a whole number of days, at least 1`,
        );
      }
    }
    const preventDestroy = props.preventDestroy ?? true;
    const forceDestroy = props.forceDestroy ?? false;
    if (preventDestroy && forceDestroy) {
      throw new Error(`${this.node.path}: forceDestroy contradicts preventDestroy; turn one of them off`);
    }
    const { location, naming } = props;
    this.bucketName = props.bucketName ?? naming.name("s3", "access-logs", location.accountId);
    this.bucketArn = bucketArn(location.region, this.bucketName);
    const sourcePattern = props.sourceBucketPattern ?? `${naming.prefix}-*`;

    this.bucket = new S3Bucket(this, "Resource", {
      bucket: this.bucketName,
      forceDestroy,
      lifecycle: { preventDestroy },
    });
    const bucket = this.bucket.id;
    const versioning = new S3BucketVersioningA(this, "Versioning", {
      bucket,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "Encryption", {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
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
    this.policy = new S3BucketPolicy(this, "Policy", {
      bucket,
      // S3 rejects a policy change while the public access block is being created.
      dependsOn: [publicAccessBlock],
      policy: JSON.stringify(
        policyDocument([
          denyInsecureTransport(this.bucketArn),
          {
            // With BucketOwnerEnforced, ACL grants to the log delivery group no longer work: the bucket
            // policy is how the logging service is let in, and only for this account's buckets.
            Sid: "AllowServerAccessLogDelivery",
            Effect: "Allow",
            Principal: { Service: "logging.s3.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: `${this.bucketArn}/*`,
            Condition: {
              StringEquals: { "aws:SourceAccount": location.accountId },
              ArnLike: { "aws:SourceArn": bucketArn(location.region, sourcePattern) },
            },
          },
        ]),
      ),
    });
    new S3BucketLifecycleConfiguration(this, "Lifecycle", {
      bucket,
      // Noncurrent-version rules only make sense once versioning is on.
      dependsOn: [versioning],
      rule: [
        {
          id: "expire-logs",
          status: "Enabled",
          filter: [{ prefix: "" }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
          expiration: [{ days: retentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays }],
        },
      ],
    });
  }
}
