import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { Construct } from "constructs";
import { arn, type AwsLocation } from "../core/arn";
import { GITHUB_OIDC_HOST } from "../core/iam";
import { recordPackageVersion } from "../core/package-info";
import { PolicySuppressions } from "../policy/policy-suppressions";

/** Properties of a {@link PermissionsBoundaryPolicy}. */
export interface PermissionsBoundaryPolicyProps {
  /** Account and region of the environment (the policy's ARN is built from its name, not read back). */
  readonly location: AwsLocation;
  /** Name of the managed policy, such as `mlops-prod-permissions-boundary`. */
  readonly name: string;
  /**
   * The name prefix of the roles, policies and instance profiles the confined roles may manage, such as
   * `mlops-prod-`: no confined role may create, change, pass to a service or assume a role outside it, or
   * change a customer-managed policy or instance profile outside it, whatever its own policies say.
   * @default - no limit by name: a confined role that may change its own policies can then reach any role's trust
   */
  readonly iamNamePrefix?: string;
  /**
   * Roles outside `iamNamePrefix` that the confined roles may assume, such as the role Terraform assumes.
   * Only with `iamNamePrefix` (refused without it).
   * @default - none
   */
  readonly assumableRoleArns?: readonly string[];
  /**
   * Terraform `lifecycle.prevent_destroy` on the policy: a role whose boundary is deleted can no longer be
   * changed by the roles the boundary confines.
   * @default true
   */
  readonly preventDestroy?: boolean;
}

/**
 * The IAM actions that create or change a role's permissions. The boundary lets its roles take them only on
 * roles that carry the same boundary (`iam:PermissionsBoundary`), so no role it confines can make or change a
 * role without it.
 */
export const BOUNDED_ROLE_ACTIONS = [
  "iam:AttachRolePolicy",
  "iam:CreateRole",
  "iam:DeleteRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:PutRolePolicy",
] as const;

/** What {@link permissionsBoundaryDocument} limits beyond its fixed statements. */
export interface PermissionsBoundaryOptions {
  /**
   * Keep the roles, customer-managed policies and instance profiles whose names do not start with this prefix
   * out of reach, assuming such roles included.
   * @default - no limit by name
   */
  readonly iamNamePrefix?: string;
  /**
   * Roles outside the prefix that confined roles may still assume, such as the role Terraform assumes
   * (`aws.assumeRoleArn`). Only with `iamNamePrefix` (refused without it).
   * @default - none
   */
  readonly assumableRoleArns?: readonly string[];
}

/** IAM actions that change or delete a managed policy. */
const POLICY_CHANGE_ACTIONS = [
  "iam:CreatePolicyVersion",
  "iam:DeletePolicy",
  "iam:DeletePolicyVersion",
  "iam:SetDefaultPolicyVersion",
] as const;

/** IAM actions on a role that IAM cannot limit by the role's boundary: limited by its name instead. */
export const NAMED_ROLE_ACTIONS = [
  "iam:DeleteRole",
  "iam:PassRole",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:UpdateRole",
  "iam:UpdateRoleDescription",
] as const;

/**
 * IAM that no confined role needs, the platform's included, and through which one could reach past the
 * boundary: users, groups and their credentials; identity federation (SAML); the account's IAM settings;
 * deleting service-linked roles. Patterns, matched as IAM matches actions.
 */
export const ACCOUNT_IAM_ACTIONS = [
  "iam:*AccessKey*",
  "iam:*AccountAlias*",
  "iam:*AccountPasswordPolicy*",
  "iam:*Group*",
  "iam:*LoginProfile*",
  "iam:*MFADevice*",
  "iam:*Organizations*",
  "iam:*SAMLProvider*",
  "iam:*ServiceSpecificCredential*",
  "iam:*SigningCertificate*",
  "iam:*SSHPublicKey*",
  "iam:*User*",
  "iam:*DelegationRequest*",
  "iam:*OutboundWebIdentityFederation*",
  "iam:DeleteServiceLinkedRole",
  "iam:SendDelegationToken",
  "iam:SetSecurityTokenServicePreferences",
  "iam:SetSTSRegionalEndpointStatus",
] as const;

/** STS actions by which a principal takes on another role's permissions. */
const ASSUME_ROLE_ACTIONS = ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"] as const;

/** IAM actions that change an OIDC identity provider: only GitHub's, which the CI roles trust, may change. */
const OIDC_PROVIDER_ACTIONS = [
  "iam:AddClientIDToOpenIDConnectProvider",
  "iam:CreateOpenIDConnectProvider",
  "iam:DeleteOpenIDConnectProvider",
  "iam:RemoveClientIDFromOpenIDConnectProvider",
  "iam:TagOpenIDConnectProvider",
  "iam:UntagOpenIDConnectProvider",
  "iam:UpdateOpenIDConnectProviderThumbprint",
] as const;

/** IAM actions that change an instance profile. */
const INSTANCE_PROFILE_ACTIONS = [
  "iam:AddRoleToInstanceProfile",
  "iam:CreateInstanceProfile",
  "iam:DeleteInstanceProfile",
  "iam:RemoveRoleFromInstanceProfile",
  "iam:TagInstanceProfile",
  "iam:UntagInstanceProfile",
] as const;

/**
 * The permissions-boundary policy document for the managed policy whose ARN is `boundaryArn`. It allows what
 * the role's own policies allow, except that a role it confines cannot escape it:
 * - create a role, or change a role's policies or boundary, unless that role carries this boundary;
 * - remove a role's boundary;
 * - change or delete this policy, or attach it to anything (a boundary is not meant to grant);
 * - anything on IAM users, groups or their credentials, SAML identity providers, the account's IAM settings,
 *   or deleting service-linked roles ({@link ACCOUNT_IAM_ACTIONS});
 * - change an OIDC identity provider other than GitHub Actions';
 * - act on the account or the organisation (`account:*`, `organizations:*`);
 * - with `iamNamePrefix`: create, change (policies, boundary, trust, tags), delete, pass to a service or assume
 *   a role outside the prefix (service-linked roles may be passed, `assumableRoleArns` assumed), or change a
 *   customer-managed policy or an instance profile outside it.
 */
export function permissionsBoundaryDocument(
  boundaryArn: string,
  options: PermissionsBoundaryOptions = {},
): string {
  // arn:<partition>:iam::<account>:
  const iamArn = boundaryArn.slice(0, boundaryArn.indexOf(":policy/") + 1);
  const prefix = options.iamNamePrefix;
  if (prefix === undefined && (options.assumableRoleArns ?? []).length > 0) {
    // Without a prefix no role is kept from being assumed, so the exceptions would silently mean nothing.
    throw new Error(
      "permissionsBoundaryDocument: assumableRoleArns are exceptions to iamNamePrefix, which is not given; " +
        "give iamNamePrefix too, or drop assumableRoleArns",
    );
  }
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowWhatTheRolesOwnPoliciesAllow",
        Effect: "Allow",
        Action: "*",
        Resource: "*",
      },
      {
        Sid: "CreateAndChangeRolesOnlyWithThisBoundary",
        Effect: "Deny",
        Action: [...BOUNDED_ROLE_ACTIONS],
        Resource: "*",
        Condition: { StringNotEquals: { "iam:PermissionsBoundary": boundaryArn } },
      },
      {
        Sid: "KeepEveryBoundary",
        Effect: "Deny",
        Action: "iam:DeleteRolePermissionsBoundary",
        Resource: "*",
      },
      {
        Sid: "ThisBoundaryCannotChange",
        Effect: "Deny",
        Action: [...POLICY_CHANGE_ACTIONS],
        Resource: boundaryArn,
      },
      {
        Sid: "ThisBoundaryIsNeverAGrant",
        Effect: "Deny",
        Action: ["iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy"],
        Resource: "*",
        Condition: { ArnEquals: { "iam:PolicyARN": boundaryArn } },
      },
      {
        Sid: "NoUsersGroupsFederationOrAccountSettings",
        Effect: "Deny",
        Action: [...ACCOUNT_IAM_ACTIONS],
        Resource: "*",
      },
      {
        Sid: "NoIdentityProvidersButGithubs",
        Effect: "Deny",
        Action: [...OIDC_PROVIDER_ACTIONS],
        NotResource: `${iamArn}oidc-provider/${GITHUB_OIDC_HOST}`,
      },
      {
        Sid: "NoAccountOrOrganizationChanges",
        Effect: "Deny",
        Action: ["account:*", "organizations:*"],
        Resource: "*",
      },
      ...(prefix === undefined
        ? []
        : [
            {
              Sid: "NoRolesOutsideThePrefix",
              Effect: "Deny",
              Action: [...BOUNDED_ROLE_ACTIONS, ...NAMED_ROLE_ACTIONS],
              NotResource: [`${iamArn}role/${prefix}*`, `${iamArn}role/aws-service-role/*`],
            },
            {
              Sid: "AssumeNoRolesOutsideThePrefix",
              Effect: "Deny",
              Action: [...ASSUME_ROLE_ACTIONS],
              NotResource: [`${iamArn}role/${prefix}*`, ...(options.assumableRoleArns ?? [])],
            },
            {
              Sid: "NoPoliciesOutsideThePrefix",
              Effect: "Deny",
              Action: [...POLICY_CHANGE_ACTIONS, "iam:CreatePolicy", "iam:TagPolicy", "iam:UntagPolicy"],
              NotResource: `${iamArn}policy/${prefix}*`,
            },
            {
              Sid: "NoInstanceProfilesOutsideThePrefix",
              Effect: "Deny",
              Action: [...INSTANCE_PROFILE_ACTIONS],
              NotResource: `${iamArn}instance-profile/${prefix}*`,
            },
          ]),
    ],
  });
}

/**
 * A managed IAM policy meant only as a permissions boundary ({@link permissionsBoundaryDocument}): put it on
 * every role of an environment with {@link PermissionsBoundary}, and a role that may manage IAM roles (such as
 * the CI deploy role) can only make roles that are confined as it is itself. Without it, a role that may
 * create roles and attach policies to them can make itself an administrator.
 *
 * Create it where the roles it confines cannot reach: the platform creates it in the bootstrap stack, which
 * only people apply.
 *
 * @example
 * const boundary = new PermissionsBoundaryPolicy(this, "PermissionsBoundary", {
 *   location: { accountId: "111111111111", region: "eu-west-1" },
 *   name: "mlops-prod-permissions-boundary",
 * });
 * boundary.arn; // arn:aws:iam::111111111111:policy/mlops-prod-permissions-boundary
 */
export class PermissionsBoundaryPolicy extends Construct {
  /** The managed policy. */
  readonly policy: IamPolicy;
  /** ARN of the policy, known at synth (built from its name), so other stacks can name it. */
  readonly arn: string;

  constructor(scope: Construct, id: string, props: PermissionsBoundaryPolicyProps) {
    super(scope, id);
    recordPackageVersion(this);
    this.arn = arn(props.location, "iam", `policy/${props.name}`, { global: true });
    this.policy = new IamPolicy(this, "Policy", {
      name: props.name,
      description: "Permissions boundary: roles it confines cannot create or change roles without it",
      policy: permissionsBoundaryDocument(this.arn, {
        iamNamePrefix: props.iamNamePrefix,
        assumableRoleArns: props.assumableRoleArns,
      }),
      lifecycle: { preventDestroy: props.preventDestroy ?? true },
    });
    // A boundary's Allow of every action on every resource grants nothing: it is the cap within which the
    // roles' own policies grant, and it denies being attached as a policy that grants.
    for (const rule of ["MLOPS-IAM-001", "MLOPS-IAM-002"]) {
      PolicySuppressions.add(
        this.policy,
        rule,
        "A permissions boundary grants nothing: it caps what the roles' own policies allow, and it denies being attached as a grant",
      );
    }
  }
}
