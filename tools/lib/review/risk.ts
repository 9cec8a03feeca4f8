/**
 * What makes a change risky: destroying a resource that holds data or serves traffic, weakening the
 * settings that protect such resources, and cutting how long data is kept.
 */
import { isStateful } from "../../../constructs/policy/stateful";
import { parseJsonString, valueAt } from "./diff";
import { retentionCuts } from "./retention";

/**
 * Types the review also treats as stateful, beyond the shared list of the policy pack (`STATEFUL_RESOURCE_TYPES`
 * in `constructs/policy/stateful.ts`): destroying them does not lose stored data, but cuts access that cannot be
 * recreated as it was (a secret's value and its ARN suffix, CI's way into the account, a namespace's workloads).
 */
export const REVIEW_ONLY_STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws_secretsmanager_secret",
  "aws_iam_openid_connect_provider",
  "kubernetes_namespace",
  "kubernetes_namespace_v1",
]);

/**
 * True for a resource type whose destruction loses data, capacity or availability: the shared list of
 * `constructs/policy/stateful.ts` (also used by the protection rule and the stateful address inventory) and
 * {@link REVIEW_ONLY_STATEFUL_TYPES}.
 */
export function isStatefulType(type: string): boolean {
  return isStateful(type) || REVIEW_ONLY_STATEFUL_TYPES.has(type);
}

/** Why destroying a resource of `type` hurts, for the reason text. */
export function whatIsLost(type: string): string {
  if (type === "aws_kms_key") return "data encrypted with the key becomes unreadable once it is deleted";
  if (type === "aws_eks_cluster") return "every workload on the cluster goes down";
  if (type === "aws_eks_node_group") return "its nodes and the pods on them are terminated";
  if (type === "aws_sagemaker_endpoint") return "the endpoint stops serving";
  if (type === "aws_cloudwatch_log_group") return "its logs are deleted";
  if (type === "aws_prometheus_workspace") return "its stored metrics are deleted";
  if (type === "aws_sagemaker_mlflow_tracking_server") return "its experiment and run metadata are lost";
  if (type === "aws_iam_openid_connect_provider") return "CI loses its way into the account";
  return "the data it holds is lost";
}

type Body = Record<string, unknown> | undefined;

const truthy = (value: unknown) => value === true || value === "true";

/** True when a value sits at `path` and is not empty. */
function present(body: Body, path: string): boolean {
  const value = valueAt(body, path.split("."));
  return (
    value !== undefined && value !== null && value !== "" && !(Array.isArray(value) && value.length === 0)
  );
}

function get(body: Body, path: string): unknown {
  return valueAt(body, path.split("."));
}

function statements(policy: unknown): Record<string, unknown>[] {
  const document = parseJsonString(policy);
  if (!document || typeof document !== "object") return [];
  const list = (document as { Statement?: unknown }).Statement;
  const array = Array.isArray(list) ? list : list ? [list] : [];
  return array.filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null);
}

function isPublicAllow(statement: Record<string, unknown>): boolean {
  if (statement.Effect !== "Allow") return false;
  const principal = statement.Principal;
  const aws =
    typeof principal === "object" && principal !== null ? (principal as { AWS?: unknown }).AWS : undefined;
  const values = [principal, aws].flat();
  return values.includes("*") && !statement.Condition;
}

function isTlsOnly(statement: Record<string, unknown>): boolean {
  return (
    statement.Effect === "Deny" && JSON.stringify(statement.Condition ?? {}).includes("aws:SecureTransport")
  );
}

function opensToInternet(body: Body): boolean {
  const cidrs = [
    get(body, "cidr_ipv4"),
    get(body, "cidr_ipv6"),
    get(body, "cidr_blocks"),
    get(body, "ipv6_cidr_blocks"),
  ].flat();
  const ingressBlocks = [get(body, "ingress")].flat().filter(Boolean) as Record<string, unknown>[];
  const ingressCidrs = ingressBlocks.flatMap((rule) => [rule.cidr_blocks, rule.ipv6_cidr_blocks].flat());
  const isIngress = get(body, "type") !== "egress";
  return (
    (isIngress && cidrs.some((cidr) => cidr === "0.0.0.0/0" || cidr === "::/0")) ||
    ingressCidrs.some((cidr) => cidr === "0.0.0.0/0" || cidr === "::/0")
  );
}

/**
 * Protection that `after` removes compared with `before`, as reasons (empty when none), retention cuts
 * included (`retention.ts`). `before` is undefined for a created resource and `after` for a deleted one.
 */
export function weakenedProtection(type: string, before: Body, after: Body): string[] {
  const reasons: string[] = [];
  const exists = { before: before !== undefined, after: after !== undefined };
  const both = exists.before && exists.after;

  // Any type: the lifecycle and deletion guards.
  if (
    both &&
    truthy(get(before, "lifecycle.prevent_destroy")) &&
    !truthy(get(after, "lifecycle.prevent_destroy"))
  ) {
    reasons.push("lifecycle.prevent_destroy removed: Terraform may now destroy it");
  }
  for (const flag of ["force_destroy", "force_delete"]) {
    if (exists.after && truthy(get(after, flag)) && !truthy(get(before, flag))) {
      reasons.push(`${flag} turned on: destroying it also deletes everything in it`);
    }
  }
  for (const flag of ["deletion_protection", "deletion_protection_enabled"]) {
    if (both && truthy(get(before, flag)) && !truthy(get(after, flag))) reasons.push(`${flag} turned off`);
  }

  switch (type) {
    case "aws_s3_bucket_versioning": {
      const was = get(before, "versioning_configuration.status");
      const is = get(after, "versioning_configuration.status");
      if (was === "Enabled" && exists.after && is !== "Enabled")
        reasons.push(`bucket versioning turned off (${String(is)})`);
      if (was === "Enabled" && !exists.after) reasons.push("bucket versioning configuration removed");
      break;
    }
    case "aws_s3_bucket_server_side_encryption_configuration": {
      if (exists.before && !exists.after) reasons.push("bucket encryption configuration removed");
      const was = get(before, "rule.apply_server_side_encryption_by_default.sse_algorithm");
      const is = get(after, "rule.apply_server_side_encryption_by_default.sse_algorithm");
      if (both && typeof was === "string" && was.startsWith("aws:kms") && is === "AES256") {
        reasons.push("bucket encryption weakened from KMS to S3-managed keys");
      }
      break;
    }
    case "aws_s3_bucket_public_access_block":
    case "aws_s3_account_public_access_block": {
      const flags = [
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
      ];
      if (exists.before && !exists.after)
        reasons.push("public access block removed: the bucket may be made public");
      else if (both) {
        const opened = flags.filter((flag) => truthy(get(before, flag)) && !truthy(get(after, flag)));
        if (opened.length) reasons.push(`public access allowed: ${opened.join(", ")} turned off`);
      }
      break;
    }
    case "aws_s3_bucket_policy": {
      const was = statements(get(before, "policy"));
      const is = statements(get(after, "policy"));
      if (was.some(isTlsOnly) && !is.some(isTlsOnly))
        reasons.push("bucket policy no longer denies requests without TLS");
      if (!was.some(isPublicAllow) && is.some(isPublicAllow))
        reasons.push('bucket policy allows anyone (Principal "*")');
      break;
    }
    case "aws_s3_bucket_acl": {
      const acl = get(after, "acl");
      if (typeof acl === "string" && acl.startsWith("public") && get(before, "acl") !== acl) {
        reasons.push(`public access allowed: canned ACL ${acl}`);
      }
      break;
    }
    case "aws_kms_key":
      if (both && truthy(get(before, "enable_key_rotation")) && !truthy(get(after, "enable_key_rotation"))) {
        reasons.push("key rotation turned off");
      }
      break;
    case "aws_ecr_repository":
      if (
        both &&
        get(before, "image_tag_mutability") === "IMMUTABLE" &&
        get(after, "image_tag_mutability") !== "IMMUTABLE"
      ) {
        reasons.push("image tags made mutable: a pushed tag can be overwritten");
      }
      if (
        both &&
        present(before, "encryption_configuration.kms_key") &&
        !present(after, "encryption_configuration.kms_key")
      ) {
        reasons.push("repository encryption key removed");
      }
      break;
    case "aws_db_instance":
    case "aws_rds_cluster":
      if (both && truthy(get(before, "storage_encrypted")) && !truthy(get(after, "storage_encrypted"))) {
        reasons.push("storage encryption removed");
      }
      if (
        exists.after &&
        truthy(get(after, "publicly_accessible")) &&
        !truthy(get(before, "publicly_accessible"))
      ) {
        reasons.push("public access allowed: publicly_accessible turned on");
      }
      if (both && !truthy(get(before, "skip_final_snapshot")) && truthy(get(after, "skip_final_snapshot"))) {
        reasons.push("skip_final_snapshot turned on: deleting it keeps no snapshot");
      }
      if (
        both &&
        Number(get(before, "backup_retention_period") ?? 0) > 0 &&
        Number(get(after, "backup_retention_period") ?? 0) === 0
      ) {
        reasons.push("automated backups turned off");
      }
      break;
    case "aws_eks_cluster":
      if (both && present(before, "encryption_config") && !present(after, "encryption_config")) {
        reasons.push("secrets encryption removed");
      }
      if (
        both &&
        !truthy(get(before, "vpc_config.endpoint_public_access")) &&
        truthy(get(after, "vpc_config.endpoint_public_access"))
      ) {
        reasons.push("public access allowed: the API endpoint is now public");
      }
      break;
    case "aws_cloudwatch_log_group":
    case "aws_sns_topic":
    case "aws_sagemaker_endpoint_configuration": {
      const key =
        { aws_cloudwatch_log_group: "kms_key_id", aws_sns_topic: "kms_master_key_id" }[type as string] ??
        "kms_key_arn";
      if (both && present(before, key) && !present(after, key)) reasons.push(`encryption removed (${key})`);
      break;
    }
    case "aws_security_group":
    case "aws_security_group_rule":
    case "aws_vpc_security_group_ingress_rule":
      if (exists.after && opensToInternet(after) && !opensToInternet(before)) {
        reasons.push("public access allowed: ingress from 0.0.0.0/0 or ::/0");
      }
      break;
  }
  if (before && after) reasons.push(...retentionCuts(type, before, after));
  return reasons;
}
