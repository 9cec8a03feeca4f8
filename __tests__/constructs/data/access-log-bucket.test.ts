import { AccessLogBucket } from "../../../constructs/data/access-log-bucket";
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

const NAME = "mlops-dev-access-logs-111111111111";

describe("AccessLogBucket defaults", () => {
  let json: StackJson;
  beforeAll(() => {
    const stack = testStack();
    new AccessLogBucket(stack, "AccessLogs", { naming: NAMING, location: LOCATION });
    json = synthStack(stack);
  });

  test("is named <project>-<env>-access-logs-<account>", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket").bucket).toBe(NAME);
  });

  test("is versioned", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket_versioning").versioning_configuration).toEqual({
      status: "Enabled",
    });
  });

  test("is encrypted with SSE-S3, which server access logging supports as a target", () => {
    const [rule] = onlyResourceOf(json, "aws_s3_bucket_server_side_encryption_configuration").rule as Record<
      string,
      unknown
    >[];
    expect(rule.apply_server_side_encryption_by_default).toEqual({ sse_algorithm: "AES256" });
  });

  test("is private: all four public access blocks and no ACLs", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(onlyResourceOf(json, "aws_s3_bucket_ownership_controls").rule).toEqual({
      object_ownership: "BucketOwnerEnforced",
    });
  });

  test("lets only the S3 logging service write, for this account's environment buckets", () => {
    const allow = statement(
      policyOf(onlyResourceOf(json, "aws_s3_bucket_policy")),
      "AllowServerAccessLogDelivery",
    );
    expect(allow).toEqual({
      Sid: "AllowServerAccessLogDelivery",
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: `arn:aws:s3:::${NAME}/*`,
      Condition: {
        StringEquals: { "aws:SourceAccount": "111111111111" },
        ArnLike: { "aws:SourceArn": "arn:aws:s3:::mlops-dev-*" },
      },
    });
  });

  test("denies requests without TLS", () => {
    const deny = statement(policyOf(onlyResourceOf(json, "aws_s3_bucket_policy")), "DenyInsecureTransport");
    expect(deny.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
  });

  test("expires logs after the retention (365 days by default)", () => {
    const [rule] = onlyResourceOf(json, "aws_s3_bucket_lifecycle_configuration").rule as Record<
      string,
      unknown
    >[];
    expect(rule).toMatchObject({
      status: "Enabled",
      expiration: [{ days: 365 }],
      noncurrent_version_expiration: [{ noncurrent_days: 30 }],
      abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }],
    });
  });

  test("prevents destroy by default and does not log to itself", () => {
    expect(onlyResourceOf(json, "aws_s3_bucket").lifecycle).toEqual({ prevent_destroy: true });
    expect(json.resource?.aws_s3_bucket_logging).toBeUndefined();
  });
});

describe("AccessLogBucket options and errors", () => {
  test("takes the retention from props", () => {
    const stack = testStack();
    new AccessLogBucket(stack, "AccessLogs", { naming: NAMING, location: LOCATION, retentionDays: 90 });
    const [rule] = onlyResourceOf(synthStack(stack), "aws_s3_bucket_lifecycle_configuration").rule as Record<
      string,
      unknown
    >[];
    expect(rule.expiration).toEqual([{ days: 90 }]);
  });

  test("refuses a retention of 0 days", () => {
    expect(
      () => new AccessLogBucket(testStack(), "L", { naming: NAMING, location: LOCATION, retentionDays: 0 }),
    ).toThrow(/retentionDays is 0/);
  });

  test("refuses forceDestroy with preventDestroy", () => {
    expect(
      () => new AccessLogBucket(testStack(), "L", { naming: NAMING, location: LOCATION, forceDestroy: true }),
    ).toThrow(/forceDestroy contradicts preventDestroy/);
  });
});
