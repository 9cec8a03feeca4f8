import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Testing } from "cdktf";
import {
  VersionedDataBucket,
  type VersionedDataBucketProps,
} from "../../../constructs/data/versioned-data-bucket";
import { EncryptionKey } from "../../../constructs/security/encryption-key";
import type { TerraformStack } from "cdktf";
import {
  LOCATION,
  NAMING,
  type StackJson,
  onlyResourceOf,
  policyOf,
  statement,
  synthStack,
  testStack,
} from "../../helpers/constructs";

const BUCKET = "mlops-dev-raw-111111111111";
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;

function bucketIn(stack: TerraformStack, props: Partial<VersionedDataBucketProps> = {}): VersionedDataBucket {
  const key = new EncryptionKey(stack, "DataKey", { naming: NAMING, location: LOCATION, purpose: "data" });
  return new VersionedDataBucket(stack, "RawBucket", {
    naming: NAMING,
    location: LOCATION,
    purpose: "raw",
    encryptionKey: key,
    accessLogBucketName: "mlops-dev-access-logs-111111111111",
    ...props,
  });
}

function synthBucket(props: Partial<VersionedDataBucketProps> = {}): StackJson {
  const stack = testStack();
  bucketIn(stack, props);
  return synthStack(stack);
}

describe("VersionedDataBucket defaults", () => {
  let json: StackJson;
  let bucket: VersionedDataBucket;
  beforeAll(() => {
    const stack = testStack();
    bucket = bucketIn(stack);
    json = synthStack(stack);
  });

  test("names the bucket <project>-<env>-<purpose>-<account>", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket").bucket).toBe(BUCKET);
    expect(bucket.bucketName).toBe(BUCKET);
    expect(bucket.bucketArn).toBe(BUCKET_ARN);
  });

  test("enables versioning", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket_versioning").versioning_configuration).toEqual({
      status: "Enabled",
    });
  });

  test("encrypts with the data key (SSE-KMS) and S3 Bucket Keys", () => {
    const [rule] = onlyResourceOf(json, "aws_s3_bucket_server_side_encryption_configuration").rule as Record<
      string,
      unknown
    >[];
    expect(rule.apply_server_side_encryption_by_default).toEqual({
      sse_algorithm: "aws:kms",
      kms_master_key_id: expect.stringMatching(/^\$\{aws_kms_key\.DataKey_[0-9A-F]+\.arn\}$/),
    });
    expect(rule.bucket_key_enabled).toBe(true);
  });

  test("disables ACLs (BucketOwnerEnforced)", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket_ownership_controls").rule).toEqual({
      object_ownership: "BucketOwnerEnforced",
    });
  });

  test("turns on all four public access blocks", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  test("denies requests without TLS on the bucket and its objects", () => {
    expect(
      statement(policyOf(onlyResourceOf(json, "aws_s3_bucket_policy")), "DenyInsecureTransport"),
    ).toEqual({
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  test("aborts incomplete multipart uploads on the whole bucket", () => {
    const rules = onlyResourceOf(json, "aws_s3_bucket_lifecycle_configuration").rule as Record<
      string,
      unknown
    >[];
    const abort = rules.find((rule) => rule.abort_incomplete_multipart_upload);
    expect(abort).toMatchObject({
      status: "Enabled",
      filter: [{ prefix: "" }],
      abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
    });
  });

  test("moves noncurrent versions to Standard-IA, then Glacier, then expires them", () => {
    const rules = onlyResourceOf(json, "aws_s3_bucket_lifecycle_configuration").rule as Record<
      string,
      unknown
    >[];
    const noncurrent = rules.find((rule) => rule.id === "noncurrent-versions");
    expect(noncurrent).toMatchObject({
      status: "Enabled",
      noncurrent_version_transition: [
        { noncurrent_days: 30, storage_class: "STANDARD_IA" },
        { noncurrent_days: 90, storage_class: "GLACIER" },
      ],
      noncurrent_version_expiration: [{ noncurrent_days: 365 }],
    });
  });

  test("does not move current objects to Intelligent-Tiering unless asked", () => {
    const rules = onlyResourceOf(json, "aws_s3_bucket_lifecycle_configuration").rule as Record<
      string,
      unknown
    >[];
    expect(rules.map((rule) => rule.id)).not.toContain("intelligent-tiering");
  });

  test("sends server access logs to the log bucket under the bucket's own prefix", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket_logging")).toMatchObject({
      target_bucket: "mlops-dev-access-logs-111111111111",
      target_prefix: `${BUCKET}/`,
    });
  });

  test("prevents destroy and never force-destroys by default", () => {
    const resource = onlyResourceOf(json, "aws_s3_bucket");
    expect(resource.lifecycle).toEqual({ prevent_destroy: true });
    expect(resource.force_destroy).toBe(false);
  });

  test("has no Object Lock and no replication unless asked", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket").object_lock_enabled).toBeUndefined();
    expect(json.resource?.aws_s3_bucket_object_lock_configuration).toBeUndefined();
    expect(json.resource?.aws_s3_bucket_replication_configuration).toBeUndefined();
  });

  test("lets S3 use the data key for this account", () => {
    const keyPolicy = policyOf(onlyResourceOf(json, "aws_kms_key"));
    expect(statement(keyPolicy, "AllowUseThroughServices").Condition?.StringEquals).toMatchObject({
      "kms:ViaService": ["s3.eu-west-1.amazonaws.com"],
    });
  });

  test("outputs the bucket's name, ARN and DVC remote line", () => {
    expect(json.output).toMatchObject({
      raw_bucket_name: { value: BUCKET },
      raw_bucket_arn: { value: BUCKET_ARN },
      raw_dvc_remote: { value: `dvc remote add -d dev-raw s3://${BUCKET}/dvc` },
    });
  });
});

describe("VersionedDataBucket options", () => {
  describe("Object Lock", () => {
    let json: StackJson;
    beforeAll(() => {
      json = synthBucket({ objectLock: { mode: "COMPLIANCE", days: 365 } });
    });

    test("is turned on by the Object Lock configuration, with a default retention", () => {
      expect(onlyResourceOf(json, "aws_s3_bucket_object_lock_configuration")).toMatchObject({
        bucket: "${aws_s3_bucket.RawBucket_0C3EE094.id}",
        object_lock_enabled: "Enabled",
        rule: { default_retention: { mode: "COMPLIANCE", days: 365 } },
      });
    });

    // object_lock_enabled on the bucket is ForceNew: an existing bucket that gets Object Lock would be replaced.
    test("leaves the bucket itself alone, so an existing bucket is not replaced", () => {
      expect(onlyResourceOf(json, "aws_s3_bucket")).not.toHaveProperty("object_lock_enabled");
      expect(onlyResourceOf(json, "aws_s3_bucket")).not.toHaveProperty("object_lock_configuration");
    });

    test("waits for versioning, without which S3 refuses Object Lock", () => {
      expect(onlyResourceOf(json, "aws_s3_bucket_object_lock_configuration").depends_on).toEqual([
        "aws_s3_bucket_versioning.RawBucket_Versioning_D09A9EC8",
      ]);
    });

    // The addresses that buckets locked by earlier versions have in their state.
    test("keeps the Terraform addresses of the bucket and its Object Lock configuration", () => {
      expect(Object.keys(json.resource?.aws_s3_bucket ?? {})).toEqual(["RawBucket_0C3EE094"]);
      expect(Object.keys(json.resource?.aws_s3_bucket_object_lock_configuration ?? {})).toEqual([
        "RawBucket_ObjectLock_6813B487",
      ]);
    });
  });

  test("Intelligent-Tiering moves current objects as soon as they are written", () => {
    const rules = onlyResourceOf(
      synthBucket({ intelligentTiering: true }),
      "aws_s3_bucket_lifecycle_configuration",
    ).rule as Record<string, unknown>[];
    expect(rules.find((rule) => rule.id === "intelligent-tiering")).toMatchObject({
      transition: [{ days: 0, storage_class: "INTELLIGENT_TIERING" }],
    });
  });

  test("takes noncurrent version days from props", () => {
    const json = synthBucket({ noncurrentVersionExpirationDays: 120, noncurrentVersionGlacierDays: 60 });
    const rules = onlyResourceOf(json, "aws_s3_bucket_lifecycle_configuration").rule as Record<
      string,
      unknown
    >[];
    expect(rules.find((rule) => rule.id === "noncurrent-versions")).toMatchObject({
      noncurrent_version_transition: [{ noncurrent_days: 30 }, { noncurrent_days: 60 }],
      noncurrent_version_expiration: [{ noncurrent_days: 120 }],
    });
  });

  test("force_destroy and no prevent_destroy when a disposable environment asks", () => {
    const resource = onlyResourceOf(
      synthBucket({ preventDestroy: false, forceDestroy: true }),
      "aws_s3_bucket",
    );
    expect(resource.force_destroy).toBe(true);
    expect(resource.lifecycle).toEqual({ prevent_destroy: false });
  });

  test("outputs can be turned off", () => {
    expect(synthBucket({ outputs: false }).output).toBeUndefined();
  });

  test("addToResourcePolicy appends after the TLS-only deny", () => {
    const stack = testStack();
    const bucket = bucketIn(stack);
    bucket.addToResourcePolicy({
      Sid: "Extra",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:DeleteBucket",
      Resource: bucket.bucketArn,
    });
    const policy = policyOf(onlyResourceOf(synthStack(stack), "aws_s3_bucket_policy"));
    expect(policy.Statement.map((s) => s.Sid)).toEqual(["DenyInsecureTransport", "Extra"]);
  });
});

describe("VersionedDataBucket replication", () => {
  let json: StackJson;
  const destination = "arn:aws:s3:::mlops-prod-raw-dr";
  const destinationKey = "arn:aws:kms:eu-central-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  beforeAll(() => {
    json = synthBucket({
      replication: { destinationBucketArn: destination, destinationKeyArn: destinationKey },
    });
  });

  test("replicates every KMS-encrypted object to the destination, re-encrypted with its key", () => {
    const [rule] = onlyResourceOf(json, "aws_s3_bucket_replication_configuration").rule as Record<
      string,
      unknown
    >[];
    expect(rule).toMatchObject({
      status: "Enabled",
      filter: {},
      source_selection_criteria: { sse_kms_encrypted_objects: { status: "Enabled" } },
      destination: { bucket: destination, encryption_configuration: { replica_kms_key_id: destinationKey } },
    });
  });

  test("waits for versioning before configuring replication", () => {
    const replication = onlyResourceOf(json, "aws_s3_bucket_replication_configuration");
    expect(replication.depends_on).toEqual([expect.stringMatching(/^aws_s3_bucket_versioning\./)]);
  });

  test("replication role can be assumed only by S3 for this account", () => {
    const trust = policyOf(onlyResourceOf(json, "aws_iam_role"), "assume_role_policy");
    expect(trust.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: "s3.amazonaws.com" },
        Condition: { StringEquals: { "aws:SourceAccount": "111111111111" } },
      }),
    ]);
  });

  test("replication role reads only the source and writes only replicas", () => {
    const policy = policyOf(onlyResourceOf(json, "aws_iam_role_policy"));
    expect(statement(policy, "ReadSourceVersions").Resource).toBe(`${BUCKET_ARN}/*`);
    expect(statement(policy, "ReadSourceVersions").Action).not.toContain("s3:GetObjectRetention");
    expect(statement(policy, "WriteReplicas").Resource).toBe(`${destination}/*`);
    expect(statement(policy, "EncryptReplicas")).toMatchObject({
      Resource: destinationKey,
      Condition: { StringEquals: { "kms:ViaService": "s3.eu-central-1.amazonaws.com" } },
    });
  });
});

test("the replication role of a bucket with Object Lock reads its objects' retention and legal holds", () => {
  const json = synthBucket({
    objectLock: { mode: "COMPLIANCE", days: 30 },
    replication: {
      destinationBucketArn: "arn:aws:s3:::mlops-prod-raw-dr",
      destinationKeyArn: "arn:aws:kms:eu-central-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    },
  });
  expect(
    statement(policyOf(onlyResourceOf(json, "aws_iam_role_policy")), "ReadSourceVersions").Action,
  ).toEqual(expect.arrayContaining(["s3:GetObjectRetention", "s3:GetObjectLegalHold"]));
});

describe("VersionedDataBucket errors", () => {
  test.each([
    [{ preventDestroy: true, forceDestroy: true }, /forceDestroy contradicts preventDestroy/],
    [{ noncurrentVersionInfrequentAccessDays: 10 }, /Standard-IA after 30 days at the earliest/],
    [{ noncurrentVersionGlacierDays: 30 }, /noncurrentVersionGlacierDays \(30\) must be greater than/],
    [{ noncurrentVersionExpirationDays: 90 }, /noncurrentVersionExpirationDays \(90\) must be greater than/],
    [{ abortIncompleteMultipartUploadDays: 0 }, /abortIncompleteMultipartUploadDays is 0/],
    [{ objectLock: { mode: "GOVERNANCE" as const, days: 0 } }, /objectLock.days is 0/],
    [
      { replication: { destinationBucketArn: "mlops-prod-raw-dr", destinationKeyArn: "x" } },
      /destinationBucketArn "mlops-prod-raw-dr" must be a bucket ARN/,
    ],
    [
      { replication: { destinationBucketArn: "arn:aws:s3:::mlops-dr", destinationKeyArn: "alias/dr" } },
      /destinationKeyArn "alias\/dr" must be a KMS key ARN/,
    ],
  ])("refuses %j", (props, message) => {
    expect(() => bucketIn(testStack(), props as Partial<VersionedDataBucketProps>)).toThrow(message);
  });
});

describe("VersionedDataBucket grants", () => {
  test("grantRead in the same stack names the data key by ARN", () => {
    const stack = testStack();
    const bucket = bucketIn(stack);
    bucket.grantRead(
      new IamRole(stack, "Role", { name: "mlops-dev-training", assumeRolePolicy: "{}" }),
      "datasets",
    );
    const policy = policyOf(onlyResourceOf(synthStack(stack), "aws_iam_role_policy"));
    expect(statement(policy, "UseBucketKeyThroughS3").Resource).toMatch(
      /^\$\{aws_kms_key\.DataKey_[0-9A-F]+\.arn\}$/,
    );
  });

  test("grantReadWrite on a role in another stack makes no cross-stack reference", () => {
    const app = Testing.app();
    const dataStack = testStack("data", app);
    const platformStack = testStack("platform", app);
    const bucket = bucketIn(dataStack);
    const role = new IamRole(platformStack, "Role", { name: "mlops-dev-training", assumeRolePolicy: "{}" });
    bucket.grantReadWrite(role, "experiments");
    const platform = synthStack(platformStack);
    expect(JSON.stringify(platform)).not.toMatch(/terraform_remote_state|aws_kms_key|aws_s3_bucket\./);
    const policy = policyOf(onlyResourceOf(platform, "aws_iam_role_policy"));
    expect(statement(policy, "WriteObjects").Resource).toBe(`${BUCKET_ARN}/experiments/*`);
    expect(statement(policy, "UseBucketKeyThroughS3").Condition).toMatchObject({
      "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/mlops-dev-data" },
    });
  });
});
