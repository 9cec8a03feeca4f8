import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { accountRootArn, bucketArn } from "../constructs/core/arn";
import { PolicySuppressions } from "../constructs/policy/policy-suppressions";
import { PermissionsBoundaryPolicy } from "../constructs/security/permissions-boundary-policy";
import type { EnvironmentConfig } from "../environments/schema";
import { MlopsStack, permissionsBoundaryName, stateKeyAlias, type SynthOptions } from "./mlops-stack";

/**
 * `<project>-<env>-bootstrap`: the S3 bucket that holds the environment's Terraform state, and its key, in
 * the state's region (`state.region`, by default the environment's). Every other stack's backend encrypts its
 * state and lock files with that key. It also creates the permissions boundary every IAM role of the
 * environment carries (`<project>-<env>-permissions-boundary`, unless `aws.permissionsBoundaryArn` names
 * another): here, because CI never applies this stack, so the roles the boundary confines cannot change it.
 *
 * Its own state stays in a local file (`terraform.<stack>.tfstate` at the project root), because the bucket
 * it would live in is what this stack creates. The bucket can never be destroyed by Terraform
 * (`prevent_destroy` in every tier): losing it would orphan every other stack's resources.
 */
export class BootstrapStack extends MlopsStack {
  /** The state bucket. */
  readonly stateBucket: S3Bucket;
  /** The KMS key that encrypts state objects. */
  readonly stateKey: KmsKey;
  /** The environment's permissions boundary (unless `aws.permissionsBoundaryArn` names an existing one). */
  readonly permissionsBoundary?: PermissionsBoundaryPolicy;

  constructor(scope: Construct, config: EnvironmentConfig, options: SynthOptions = {}) {
    super(scope, { ...options, config, part: "bootstrap", localState: true, region: config.state.region });
    const bucketName = config.state.bucket;
    const stateBucketArn = bucketArn(config.state.region, bucketName);

    this.stateKey = new KmsKey(this, "StateKey", {
      description: `Encrypts the Terraform state of ${config.project}-${config.name}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            // IAM policies of this account decide who may use the key: the deploy and plan roles get it
            // through their own policies.
            Sid: "AccountAdministersAndDelegatesToIam",
            Effect: "Allow",
            Principal: { AWS: accountRootArn(this.location) },
            Action: "kms:*",
            Resource: "*",
          },
        ],
      }),
      lifecycle: { preventDestroy: true },
    });
    new KmsAlias(this, "StateKeyAlias", {
      name: stateKeyAlias(this.naming),
      targetKeyId: this.stateKey.keyId,
    });

    this.stateBucket = new S3Bucket(this, "StateBucket", {
      bucket: bucketName,
      forceDestroy: false,
      lifecycle: { preventDestroy: true },
    });
    PolicySuppressions.add(
      this.stateBucket,
      "MLOPS-S3-005",
      "Bootstrap creates the state bucket first, before the environment's log bucket exists, so it has nowhere to send access logs",
    );
    new S3BucketVersioningA(this, "StateBucketVersioning", {
      bucket: this.stateBucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "StateBucketEncryption", {
      bucket: this.stateBucket.id,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.stateKey.arn },
          bucketKeyEnabled: true,
        },
      ],
    });
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "StateBucketPublicAccessBlock", {
      bucket: this.stateBucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "StateBucketOwnership", {
      bucket: this.stateBucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketPolicy(this, "StateBucketPolicy", {
      bucket: this.stateBucket.id,
      // S3 rejects a policy change while the public access block is being created.
      dependsOn: [publicAccessBlock],
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [stateBucketArn, `${stateBucketArn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    });
    new S3BucketLifecycleConfiguration(this, "StateBucketLifecycle", {
      bucket: this.stateBucket.id,
      rule: [
        {
          id: "abort-incomplete-uploads-and-expire-old-state",
          status: "Enabled",
          filter: [{ prefix: "" }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
          noncurrentVersionExpiration: [{ noncurrentDays: 365, newerNoncurrentVersions: 50 }],
        },
      ],
    });

    new TerraformOutput(this, "state_bucket", {
      value: this.stateBucket.bucket,
      description: "Bucket that holds this environment's Terraform state",
    });

    if (!config.aws.permissionsBoundaryArn) {
      this.permissionsBoundary = new PermissionsBoundaryPolicy(this, "PermissionsBoundary", {
        location: config.aws,
        name: permissionsBoundaryName(this.naming),
        iamNamePrefix: `${this.naming.prefix}-`,
        // CI's roles and Terraform assume the environment's role, when it names one.
        assumableRoleArns: config.aws.assumeRoleArn ? [config.aws.assumeRoleArn] : [],
      });
    }
  }
}
