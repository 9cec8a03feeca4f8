/** IAM: identity policies, managed-policy attachments and role trust policies. */
import {
  actionMatches,
  conditionValues,
  hasAnyPrincipal,
  narrowsPrincipal,
  statementsOf,
  type Statement,
} from "../documents";
import {
  blocks,
  references,
  strings,
  type PolicyResource,
  type PolicyRule,
  type RuleContext,
} from "../engine";

/** Resources that hold identity policies, and the attribute(s) that hold the document. */
const IDENTITY_POLICIES = [
  "aws_iam_policy",
  "aws_iam_role_policy",
  "aws_iam_user_policy",
  "aws_iam_group_policy",
  "aws_iam_role",
];

function identityStatements(resource: PolicyResource, context: RuleContext): Statement[] {
  const documents =
    resource.type === "aws_iam_role"
      ? blocks(resource.values.inline_policy).map((p) => p.policy)
      : [resource.values.policy];
  return documents.flatMap((document) => {
    const statements = statementsOf(document, context);
    return Array.isArray(statements) ? statements : [];
  });
}

/**
 * Actions that do not support resource-level permissions (IAM requires `"Resource": "*"` for them), so a
 * wildcard resource is not a finding. Patterns, matched as IAM matches actions.
 */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS = [
  "ecr:GetAuthorizationToken",
  "sts:GetCallerIdentity",
  "ec2:Describe*",
  "ec2:GetInstanceTypesFromInstanceRequirements",
  "autoscaling:Describe*",
  "elasticloadbalancing:Describe*",
  "eks:ListClusters",
  "eks:DescribeAddonVersions",
  "cloudwatch:PutMetricData",
  "cloudwatch:GetMetricData",
  "cloudwatch:GetMetricStatistics",
  "cloudwatch:ListMetrics",
  "cloudwatch:DescribeAlarms",
  "logs:DescribeLogGroups",
  "s3:ListAllMyBuckets",
  "kms:ListAliases",
  "kms:ListKeys",
  "secretsmanager:GetRandomPassword",
  "secretsmanager:ListSecrets",
  "iam:ListRoles",
  "iam:ListPolicies",
  "tag:GetResources",
  "aps:ListWorkspaces",
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
  "sagemaker:ListModels",
  "sagemaker:ListEndpoints",
  "sagemaker:ListModelPackageGroups",
  "pricing:*",
  "ce:*",
];

function needsResource(action: string): boolean {
  return !ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS.some(
    (allowed) => actionMatches(allowed, action) || allowed.toLowerCase() === action.toLowerCase(),
  );
}

const ADMIN_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/(AdministratorAccess|IAMFullAccess|PowerUserAccess)$/;

const ATTACHMENTS: Readonly<Record<string, string>> = {
  aws_iam_role_policy_attachment: "policy_arn",
  aws_iam_policy_attachment: "policy_arn",
  aws_iam_user_policy_attachment: "policy_arn",
  aws_iam_group_policy_attachment: "policy_arn",
  aws_iam_role: "managed_policy_arns",
  aws_iam_role_policy_attachments_exclusive: "policy_arns",
};

const ACCOUNT_PRINCIPAL = /^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:root)$/;
const GITHUB_OIDC = "token.actions.githubusercontent.com";
/** `repo:<owner>/<repo>:<anything>`, with owner and repository spelled out. */
const GITHUB_SUBJECT = /^repo:[^*?/:]+\/[^*?/:]+:.+$/;

/**
 * True when a Federated principal is GitHub's OIDC provider: its ARN spelled out
 * (`arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com`), or a reference such as
 * `${aws_iam_openid_connect_provider.Github.arn}` to a provider (resource or data source) of the stack whose
 * `url` (or, for a data source, `arn`) is GitHub's.
 */
function isGithubProvider(principal: string, context: RuleContext): boolean {
  if (principal.includes(GITHUB_OIDC)) return true;
  return references(principal).some(({ address }) => {
    const provider = context.resolve(`\${${address}}`);
    if (provider?.type !== "aws_iam_openid_connect_provider") return false;
    return [provider.values.url, provider.values.arn].some(
      (value) => typeof value === "string" && value.includes(GITHUB_OIDC),
    );
  });
}

function trustStatements(role: PolicyResource, context: RuleContext): Statement[] {
  const statements = statementsOf(role.values.assume_role_policy, context);
  return Array.isArray(statements) ? statements.filter((s) => s.effect === "Allow") : [];
}

export const IAM_RULES: readonly PolicyRule[] = [
  {
    id: "MLOPS-IAM-001",
    title: 'No policy allows every action ("*")',
    severity: "critical",
    resourceTypes: IDENTITY_POLICIES,
    fix: "List the actions the workload needs (use the constructs' grant methods, such as bucket.grantRead(role)).",
    check(resource, context) {
      return identityStatements(resource, context)
        .filter((s) => s.effect === "Allow")
        .flatMap((s) => {
          if (s.actions.some((a) => a === "*" || a === "*:*")) return ['an Allow statement has Action "*"'];
          if (s.notActions.length > 0)
            return ["an Allow statement uses NotAction, which allows every other action"];
          return [];
        });
    },
  },
  {
    id: "MLOPS-IAM-002",
    title: 'No "*" resource for actions that support resource-level permissions',
    severity: "high",
    resourceTypes: IDENTITY_POLICIES,
    fix: "Name the resources (ARNs built with constructs/core/arn.ts), or narrow the statement with a Condition such as kms:ResourceAliases or aws:ResourceTag.",
    check(resource, context) {
      return identityStatements(resource, context)
        .filter(
          (s) => s.effect === "Allow" && s.resources.includes("*") && Object.keys(s.conditions).length === 0,
        )
        .flatMap((s) => {
          const scoped = s.actions.filter(needsResource);
          return scoped.length === 0 ? [] : [`Resource "*" for ${scoped.join(", ")}`];
        });
    },
  },
  {
    id: "MLOPS-IAM-003",
    title: "No administrator managed policy is attached",
    severity: "critical",
    resourceTypes: Object.keys(ATTACHMENTS),
    fix: "Attach a policy scoped to the workload instead of AdministratorAccess, PowerUserAccess or IAMFullAccess.",
    check(resource) {
      const arns = strings(resource.values[ATTACHMENTS[resource.type]]);
      const admin = arns.filter((arn) => ADMIN_POLICY.test(arn));
      return admin.length === 0 ? [] : [`attaches ${admin.join(", ")}`];
    },
  },
  {
    id: "MLOPS-IAM-004",
    title: "Roles do not trust everyone or a whole account",
    severity: "critical",
    resourceTypes: ["aws_iam_role"],
    fix: "Trust the specific role or service that assumes this role (a role ARN, a Service principal, or the account root with an aws:PrincipalArn condition).",
    check(role, context) {
      return trustStatements(role, context).flatMap((s) => {
        if (narrowsPrincipal(s)) return [];
        if (hasAnyPrincipal(s)) return ['the trust policy allows Principal "*"'];
        const accounts = s.principals
          .filter((p) => p.type === "AWS")
          .flatMap((p) => p.values.filter((v) => ACCOUNT_PRINCIPAL.test(v)));
        return accounts.length === 0
          ? []
          : [`the trust policy allows every principal of account ${accounts.join(", ")}`];
      });
    },
  },
  {
    id: "MLOPS-IAM-005",
    title: "GitHub OIDC trust is limited to named repositories",
    severity: "critical",
    resourceTypes: ["aws_iam_role"],
    fix: `Add a StringEquals (or StringLike) condition on ${GITHUB_OIDC}:sub with values like repo:<owner>/<repo>:ref:refs/heads/main, and ${GITHUB_OIDC}:aud = sts.amazonaws.com.`,
    check(role, context) {
      const github = trustStatements(role, context).filter((s) =>
        s.principals.some(
          (p) => p.type === "Federated" && p.values.some((v) => isGithubProvider(v, context)),
        ),
      );
      if (github.length === 0) return "n/a";
      return github.flatMap((s) => {
        const subjects = conditionValues(s, `${GITHUB_OIDC}:sub`, [
          "StringEquals",
          "StringLike",
          "ForAnyValue:StringEquals",
          "ForAnyValue:StringLike",
        ]);
        if (subjects.length === 0)
          return [
            `the GitHub trust has no condition on ${GITHUB_OIDC}:sub, so any repository on GitHub can assume the role`,
          ];
        const loose = subjects.filter((subject) => !GITHUB_SUBJECT.test(subject));
        return loose.length === 0
          ? []
          : [`${GITHUB_OIDC}:sub allows ${loose.join(", ")}: name the owner and repository`];
      });
    },
  },
];
