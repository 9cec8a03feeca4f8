import { STATEFUL_RESOURCE_TYPES } from "../../../constructs/policy/stateful";
import { isStatefulType, weakenedProtection } from "../../../tools/lib/review/risk";

const policy = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const tlsOnly = {
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};

describe("weakened protection", () => {
  test("prevent_destroy removed", () => {
    expect(weakenedProtection("aws_s3_bucket", { lifecycle: { prevent_destroy: true } }, {})).toEqual([
      "lifecycle.prevent_destroy removed: Terraform may now destroy it",
    ]);
  });

  test("force_delete turned on for a registry", () => {
    expect(
      weakenedProtection("aws_ecr_repository", { force_delete: false }, { force_delete: true })[0],
    ).toMatch(/force_delete turned on/);
  });

  test("a removed encryption configuration", () => {
    expect(
      weakenedProtection("aws_s3_bucket_server_side_encryption_configuration", { bucket: "b" }, undefined),
    ).toEqual(["bucket encryption configuration removed"]);
  });

  test("encryption weakened from KMS to S3-managed keys", () => {
    const rule = (sse: string) => ({
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: sse } }],
    });
    expect(
      weakenedProtection(
        "aws_s3_bucket_server_side_encryption_configuration",
        rule("aws:kms"),
        rule("AES256"),
      ),
    ).toEqual(["bucket encryption weakened from KMS to S3-managed keys"]);
  });

  test("a removed public access block", () => {
    expect(
      weakenedProtection("aws_s3_bucket_public_access_block", { block_public_acls: true }, undefined)[0],
    ).toMatch(/public access block removed/);
  });

  test("a bucket policy that drops the TLS-only statement or opens to anyone", () => {
    const reasons = weakenedProtection(
      "aws_s3_bucket_policy",
      { policy: policy([tlsOnly]) },
      { policy: policy([{ Effect: "Allow", Principal: "*", Action: "s3:GetObject" }]) },
    );
    expect(reasons).toEqual([
      "bucket policy no longer denies requests without TLS",
      'bucket policy allows anyone (Principal "*")',
    ]);
  });

  test("a database made public, unencrypted and without final snapshot or backups", () => {
    const reasons = weakenedProtection(
      "aws_db_instance",
      {
        storage_encrypted: true,
        publicly_accessible: false,
        skip_final_snapshot: false,
        backup_retention_period: 7,
      },
      {
        storage_encrypted: false,
        publicly_accessible: true,
        skip_final_snapshot: true,
        backup_retention_period: 0,
      },
    );
    expect(reasons).toHaveLength(4);
  });

  test("an EKS cluster losing secrets encryption", () => {
    expect(
      weakenedProtection("aws_eks_cluster", { encryption_config: [{ resources: ["secrets"] }] }, {}),
    ).toEqual(["secrets encryption removed"]);
  });

  test("a log group losing its KMS key", () => {
    expect(weakenedProtection("aws_cloudwatch_log_group", { kms_key_id: "arn" }, {})).toEqual([
      "encryption removed (kms_key_id)",
    ]);
  });

  test("a security group rule opened to the internet", () => {
    expect(
      weakenedProtection(
        "aws_vpc_security_group_ingress_rule",
        { cidr_ipv4: "10.0.0.0/16" },
        { cidr_ipv4: "0.0.0.0/0" },
      )[0],
    ).toMatch(/0\.0\.0\.0\/0/);
  });

  test("tightening protection is not reported", () => {
    expect(
      weakenedProtection("aws_kms_key", { enable_key_rotation: false }, { enable_key_rotation: true }),
    ).toEqual([]);
    expect(weakenedProtection("aws_s3_bucket", { force_destroy: true }, { force_destroy: false })).toEqual(
      [],
    );
  });
});

describe("stateful types", () => {
  test("every type of the shared list (constructs/policy/stateful.ts) is stateful in the review", () => {
    expect(STATEFUL_RESOURCE_TYPES.filter((type) => !isStatefulType(type))).toEqual([]);
  });

  test("the review's own additions stay stateful; other types are not", () => {
    expect(isStatefulType("aws_iam_openid_connect_provider")).toBe(true);
    expect(isStatefulType("aws_secretsmanager_secret")).toBe(true);
    expect(isStatefulType("kubernetes_namespace_v1")).toBe(true);
    expect(isStatefulType("aws_sns_topic")).toBe(false);
  });
});
