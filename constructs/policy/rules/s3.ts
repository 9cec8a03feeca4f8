/**
 * S3 buckets. With AWS provider v4+ a bucket's settings live in separate resources that refer to it
 * (`aws_s3_bucket_versioning.bucket = "${aws_s3_bucket.Raw.id}"` or the literal bucket name), so each rule
 * looks for the resource that configures the bucket; the deprecated inline blocks count too.
 */
import {
  anonymousGrantFindings,
  statementsOf,
  hasAnyPrincipal,
  conditionValues,
  actionMatches,
} from "../documents";
import {
  block,
  blocks,
  flag,
  isSet,
  numberOf,
  type PolicyResource,
  type PolicyRule,
  type RuleContext,
} from "../engine";

const BUCKET = ["aws_s3_bucket"];

function configuring(bucket: PolicyResource, context: RuleContext, type: string): PolicyResource[] {
  return context.referencing(bucket, type, "bucket");
}

/**
 * Buckets that receive S3 server access logs: the target of another bucket's logging, or a bucket whose policy
 * lets the S3 logging service write. They cannot log to themselves and may only use SSE-S3.
 */
export function isLogTarget(bucket: PolicyResource, context: RuleContext): boolean {
  if (context.referencing(bucket, "aws_s3_bucket_logging", "target_bucket").length > 0) return true;
  if (context.resources("aws_s3_bucket").some((other) => other !== bucket && logsTo(other, bucket)))
    return true;
  return bucketPolicies(bucket, context).some((policy) => {
    const statements = statementsOf(policy, context);
    return (
      Array.isArray(statements) &&
      statements.some(
        (s) =>
          s.effect === "Allow" &&
          s.principals.some((p) => p.type === "Service" && p.values.includes("logging.s3.amazonaws.com")) &&
          s.actions.some((action) => actionMatches(action, "s3:PutObject")),
      )
    );
  });
}

function logsTo(other: PolicyResource, bucket: PolicyResource): boolean {
  const target = block(other.values.logging)?.target_bucket;
  if (typeof target !== "string") return false;
  return target.includes(`${bucket.address}.`) || target === bucket.values.bucket;
}

function bucketPolicies(bucket: PolicyResource, context: RuleContext): unknown[] {
  const separate = configuring(bucket, context, "aws_s3_bucket_policy").map((p) => p.values.policy);
  return bucket.values.policy !== undefined ? [...separate, bucket.values.policy] : separate;
}

export const S3_RULES: readonly PolicyRule[] = [
  {
    id: "MLOPS-S3-001",
    title: "Bucket versioning is enabled",
    severity: "high",
    resourceTypes: BUCKET,
    fix: "Add an aws_s3_bucket_versioning with status Enabled for the bucket (VersionedDataBucket does this by default).",
    check(bucket, context) {
      if (flag(block(bucket.values.versioning)?.enabled) === true) return [];
      if (block(bucket.values.object_lock_configuration)?.object_lock_enabled === "Enabled") return [];
      const versioning = configuring(bucket, context, "aws_s3_bucket_versioning");
      if (versioning.length === 0) return ["no aws_s3_bucket_versioning refers to the bucket"];
      const status = block(versioning[0].values.versioning_configuration)?.status;
      if (status === "Enabled" || flag(status) === "unknown") return [];
      return [`versioning status is ${JSON.stringify(status)}, not "Enabled"`];
    },
  },
  {
    id: "MLOPS-S3-002",
    title: "Bucket is encrypted by default with a KMS key",
    severity: "critical",
    resourceTypes: BUCKET,
    fix:
      "Add an aws_s3_bucket_server_side_encryption_configuration with sse_algorithm aws:kms and the environment's data key " +
      "(buckets that receive S3 server access logs use AES256, the only encryption log delivery supports).",
    check(bucket, context) {
      const separate = configuring(
        bucket,
        context,
        "aws_s3_bucket_server_side_encryption_configuration",
      ).flatMap((c) => blocks(c.values.rule));
      const inline = blocks(block(bucket.values.server_side_encryption_configuration)?.rule);
      const algorithms = [...separate, ...inline].map(
        (rule) => block(rule.apply_server_side_encryption_by_default)?.sse_algorithm,
      );
      if (algorithms.length === 0) return ["no default encryption configuration refers to the bucket"];
      const logTarget = isLogTarget(bucket, context);
      const accepted = logTarget ? ["AES256"] : ["aws:kms", "aws:kms:dsse"];
      if (algorithms.some((a) => typeof a === "string" && (accepted.includes(a) || flag(a) === "unknown")))
        return [];
      return logTarget
        ? [
            `the bucket receives server access logs, which S3 delivers only to AES256 (SSE-S3) buckets; it uses ${algorithms.join(", ")}`,
          ]
        : [`default encryption is ${algorithms.map((a) => JSON.stringify(a)).join(", ")}, not aws:kms`];
    },
  },
  {
    id: "MLOPS-S3-003",
    title: "All four public access block settings are on",
    severity: "critical",
    resourceTypes: BUCKET,
    fix: "Add an aws_s3_bucket_public_access_block for the bucket with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets true.",
    check(bucket, context) {
      const blocksOf = configuring(bucket, context, "aws_s3_bucket_public_access_block");
      if (blocksOf.length === 0) return ["no aws_s3_bucket_public_access_block refers to the bucket"];
      const settings = [
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
      ];
      const off = settings.filter((setting) => {
        const value = flag(blocksOf[0].values[setting]);
        return value !== true && value !== "unknown";
      });
      return off.length === 0 ? [] : [`${off.join(", ")} ${off.length === 1 ? "is" : "are"} not true`];
    },
  },
  {
    id: "MLOPS-S3-004",
    title: "Bucket policy denies requests without TLS",
    severity: "high",
    resourceTypes: BUCKET,
    fix:
      'Add a bucket policy statement: Effect Deny, Principal "*", Action s3:*, Resource the bucket ARN and ARN/*, ' +
      'Condition {"Bool": {"aws:SecureTransport": "false"}}.',
    check(bucket, context) {
      const policies = bucketPolicies(bucket, context);
      if (policies.length === 0) return ["no bucket policy refers to the bucket"];
      for (const policy of policies) {
        const statements = statementsOf(policy, context);
        if (statements === "unknown") return [];
        const denies = (statements ?? []).some(
          (s) =>
            s.effect === "Deny" &&
            hasAnyPrincipal(s) &&
            s.actions.some((a) => a === "*" || a.toLowerCase() === "s3:*") &&
            conditionValues(s, "aws:SecureTransport", ["Bool"]).includes("false") &&
            (s.resources.includes("*") ||
              (s.resources.some((r) => r.endsWith("/*")) && s.resources.some((r) => !r.endsWith("/*")))),
        );
        if (denies) return [];
      }
      return [
        "the bucket policy has no Deny of s3:* on the bucket and its objects when aws:SecureTransport is false",
      ];
    },
  },
  {
    id: "MLOPS-S3-005",
    title: "Server access logging is on",
    severity: "medium",
    resourceTypes: BUCKET,
    fix: "Add an aws_s3_bucket_logging that sends the bucket's access logs to the environment's log bucket.",
    check(bucket, context) {
      if (isLogTarget(bucket, context)) return "n/a";
      if (isSet(block(bucket.values.logging)?.target_bucket)) return [];
      const logging = configuring(bucket, context, "aws_s3_bucket_logging");
      if (logging.length === 0) return ["no aws_s3_bucket_logging refers to the bucket"];
      return isSet(logging[0].values.target_bucket) ? [] : ["its aws_s3_bucket_logging has no target_bucket"];
    },
  },
  {
    id: "MLOPS-S3-006",
    title: "Lifecycle aborts incomplete multipart uploads on the whole bucket",
    severity: "low",
    resourceTypes: BUCKET,
    fix:
      "Add a rule to the bucket's aws_s3_bucket_lifecycle_configuration with status Enabled, an empty filter and " +
      "abort_incomplete_multipart_upload { days_after_initiation = 7 }.",
    check(bucket, context) {
      const rules: Record<string, unknown>[] = [
        ...configuring(bucket, context, "aws_s3_bucket_lifecycle_configuration").flatMap((c) =>
          blocks(c.values.rule),
        ),
        ...blocks(bucket.values.lifecycle_rule).map((r) => ({
          ...r,
          status: flag(r.enabled) === false ? "Disabled" : "Enabled",
        })),
      ];
      if (rules.length === 0) return ["no lifecycle configuration refers to the bucket"];
      const aborts = rules.some((rule) => {
        const abort = block(rule.abort_incomplete_multipart_upload);
        const days = abort
          ? numberOf(abort.days_after_initiation)
          : numberOf(rule.abort_incomplete_multipart_upload_days);
        return rule.status === "Enabled" && days !== undefined && wholeBucket(rule);
      });
      return aborts ? [] : ["no enabled lifecycle rule aborts incomplete multipart uploads for every object"];
    },
  },
  {
    id: "MLOPS-S3-007",
    title: "ACLs are disabled (object ownership BucketOwnerEnforced)",
    severity: "high",
    resourceTypes: BUCKET,
    fix: "Add an aws_s3_bucket_ownership_controls with object_ownership BucketOwnerEnforced and grant access with policies, not ACLs.",
    check(bucket, context) {
      const problems: string[] = [];
      if (isSet(bucket.values.acl) && bucket.values.acl !== "private")
        problems.push(`the bucket sets acl ${JSON.stringify(bucket.values.acl)}`);
      if (isSet(bucket.values.grant)) problems.push("the bucket sets ACL grants");
      if (configuring(bucket, context, "aws_s3_bucket_acl").length > 0)
        problems.push("an aws_s3_bucket_acl refers to the bucket");
      const ownership = configuring(bucket, context, "aws_s3_bucket_ownership_controls").map(
        (c) => block(c.values.rule)?.object_ownership,
      );
      if (ownership.length === 0) problems.push("no aws_s3_bucket_ownership_controls refers to the bucket");
      else if (!ownership.some((o) => o === "BucketOwnerEnforced" || flag(o) === "unknown")) {
        problems.push(`object ownership is ${ownership.join(", ")}, not BucketOwnerEnforced`);
      }
      return problems;
    },
  },
  {
    id: "MLOPS-S3-008",
    title: "No force_destroy on buckets in test and prod",
    severity: "critical",
    resourceTypes: BUCKET,
    tiers: ["test", "prod"],
    fix: "Remove force_destroy (protection.forceDestroy is allowed in dev only); empty a bucket by hand before deleting it.",
    check(bucket) {
      return flag(bucket.values.force_destroy) === true
        ? ["force_destroy is true: destroying the stack would delete every object"]
        : [];
    },
  },
  {
    id: "MLOPS-S3-009",
    title: "Bucket policy grants nothing to anonymous principals",
    severity: "critical",
    resourceTypes: ["aws_s3_bucket_policy"],
    fix: 'Grant access to named roles (bucket.grantRead(role)) instead of Principal "*", or narrow it with aws:PrincipalOrgID or aws:SourceVpce.',
    check(policy, context) {
      return anonymousGrantFindings(policy.values.policy, context);
    },
  },
];

function wholeBucket(rule: Record<string, unknown>): boolean {
  if (isSet(rule.prefix)) return false;
  const filter = block(rule.filter);
  if (!filter) return true;
  if (isSet(filter.and) || isSet(filter.tag)) return false;
  if (isSet(filter.prefix)) return false;
  return !isSet(filter.object_size_greater_than) && !isSet(filter.object_size_less_than);
}
