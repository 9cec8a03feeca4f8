/** Container registries (ECR) and encryption keys (KMS). */
import { anonymousGrantFindings, publicStatements, restrictsKey, statementsOf } from "../documents";
import {
  block,
  blocks,
  flag,
  isToken,
  numberOf,
  type PolicyResource,
  type PolicyRule,
  type RuleContext,
} from "../engine";

const REPOSITORY = ["aws_ecr_repository"];

/** True when an ECR repository-filter wildcard (`*`, `ml-*`) matches a repository name. */
function filterMatches(filter: string, name: string): boolean {
  const pattern = new RegExp(`^${filter.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return pattern.test(name);
}

function registryScansOnPush(repository: PolicyResource, context: RuleContext): boolean {
  const name = repository.values.name;
  return context.resources("aws_ecr_registry_scanning_configuration").some((config) =>
    blocks(config.values.rule).some(
      (rule) =>
        ["SCAN_ON_PUSH", "CONTINUOUS_SCAN"].includes(String(rule.scan_frequency)) &&
        blocks(rule.repository_filter).some((f) => {
          const filter = String(f.filter ?? "");
          return (
            filter === "*" || (typeof name === "string" && !isToken(name) && filterMatches(filter, name))
          );
        }),
    ),
  );
}

export const ECR_RULES: readonly PolicyRule[] = [
  {
    id: "MLOPS-ECR-001",
    title: "Image tags are immutable",
    severity: "high",
    resourceTypes: REPOSITORY,
    fix: 'Set image_tag_mutability = "IMMUTABLE" so a tag always means the same image; publish a new tag for every build.',
    check(repository) {
      const mutability = repository.values.image_tag_mutability;
      if (
        mutability === "IMMUTABLE" ||
        mutability === "IMMUTABLE_WITH_EXCLUSION" ||
        flag(mutability) === "unknown"
      )
        return [];
      return [
        `image_tag_mutability is ${mutability === undefined ? "not set (the default is MUTABLE)" : JSON.stringify(mutability)}`,
      ];
    },
  },
  {
    id: "MLOPS-ECR-002",
    title: "Images are scanned on push",
    severity: "high",
    resourceTypes: REPOSITORY,
    fix: "Set image_scanning_configuration { scan_on_push = true }, or scan every repository with an aws_ecr_registry_scanning_configuration.",
    check(repository, context) {
      const scan = flag(block(repository.values.image_scanning_configuration)?.scan_on_push);
      if (scan === true || scan === "unknown" || registryScansOnPush(repository, context)) return [];
      return ["neither the repository nor the registry scanning configuration scans images on push"];
    },
  },
  {
    id: "MLOPS-ECR-003",
    title: "Repository is encrypted with KMS",
    severity: "high",
    resourceTypes: REPOSITORY,
    fix: 'Set encryption_configuration { encryption_type = "KMS", kms_key = <the registry key ARN> } (it can only be set when the repository is created).',
    check(repository) {
      const type = block(repository.values.encryption_configuration)?.encryption_type;
      if (type === "KMS" || flag(type) === "unknown") return [];
      return [
        `encryption_type is ${type === undefined ? "not set (the default is AES256)" : JSON.stringify(type)}`,
      ];
    },
  },
  {
    id: "MLOPS-ECR-004",
    title: "Repository has a lifecycle policy",
    severity: "medium",
    resourceTypes: REPOSITORY,
    fix: "Add an aws_ecr_lifecycle_policy for the repository that expires untagged images and keeps a bounded number of tagged ones.",
    check(repository, context) {
      const policies = context.referencing(repository, "aws_ecr_lifecycle_policy", "repository");
      if (policies.length === 0) return ["no aws_ecr_lifecycle_policy refers to the repository"];
      const text = policies[0].values.policy;
      if (typeof text !== "string" || isToken(text)) return [];
      try {
        const rules = (JSON.parse(text) as { rules?: unknown[] }).rules;
        return Array.isArray(rules) && rules.length > 0 ? [] : ["its lifecycle policy has no rules"];
      } catch {
        return ["its lifecycle policy is not valid JSON"];
      }
    },
  },
  {
    id: "MLOPS-ECR-005",
    title: "Repository policy grants nothing to anonymous principals",
    severity: "critical",
    resourceTypes: ["aws_ecr_repository_policy"],
    fix: 'Grant pull or push to named roles or accounts instead of Principal "*", or narrow it with aws:PrincipalOrgID.',
    check(policy, context) {
      return anonymousGrantFindings(policy.values.policy, context);
    },
  },
  {
    id: "MLOPS-ECR-006",
    title: "No force_delete on repositories in test and prod",
    severity: "critical",
    resourceTypes: REPOSITORY,
    tiers: ["test", "prod"],
    fix: "Remove force_delete (protection.forceDestroy is allowed in dev only).",
    check(repository) {
      return flag(repository.values.force_delete) === true
        ? ["force_delete is true: destroying the stack would delete every image"]
        : [];
    },
  },
];

const SYMMETRIC = ["SYMMETRIC_DEFAULT"];

export const KMS_RULES: readonly PolicyRule[] = [
  {
    id: "MLOPS-KMS-001",
    title: "Key rotation is enabled",
    severity: "high",
    resourceTypes: ["aws_kms_key"],
    fix: "Set enable_key_rotation = true (EncryptionKey does this by default).",
    check(key) {
      const spec = key.values.customer_master_key_spec;
      if (spec !== undefined && !isToken(spec) && !SYMMETRIC.includes(String(spec))) return "n/a";
      if (key.values.key_usage !== undefined && key.values.key_usage !== "ENCRYPT_DECRYPT") return "n/a";
      const rotation = flag(key.values.enable_key_rotation);
      return rotation === true || rotation === "unknown" ? [] : ["enable_key_rotation is not true"];
    },
  },
  {
    id: "MLOPS-KMS-002",
    title: "Key deletion waits 30 days in test and prod",
    severity: "high",
    resourceTypes: ["aws_kms_key"],
    tiers: ["test", "prod"],
    fix: "Set deletion_window_in_days = 30 (protection.keyDeletionWindowDays) so a scheduled deletion can be cancelled for a month.",
    check(key) {
      const days = numberOf(key.values.deletion_window_in_days);
      // Absent means the AWS default, 30 days.
      if (days === "unknown" || days === undefined) return [];
      return days >= 30 ? [] : [`deletion_window_in_days is ${days}`];
    },
  },
  {
    id: "MLOPS-KMS-003",
    title: "Key policy grants nothing to anonymous principals",
    severity: "critical",
    resourceTypes: ["aws_kms_key", "aws_kms_key_policy"],
    fix: 'Name the account root, services or roles as principals instead of "*", or narrow "*" with kms:CallerAccount or aws:PrincipalOrgID.',
    check(key, context) {
      const statements = statementsOf(key.values.policy, context);
      if (!Array.isArray(statements)) return [];
      const open = publicStatements(statements).filter(
        (s) => !restrictsKey(s, (k) => k.toLowerCase() === "kms:calleraccount"),
      );
      return open.length === 0
        ? []
        : [`${open.length} Allow statement(s) have Principal "*" without a condition that narrows it`];
    },
  },
];
