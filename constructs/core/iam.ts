/**
 * IAM policy documents as plain data, and the helpers that let a construct grant a role in another stack
 * without a cross-stack reference.
 */
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { TerraformStack, Token } from "cdktf";
import type { IConstruct } from "constructs";
import { type AwsLocation, roleArn } from "./arn";
import { shorten } from "./naming";

/** The issuer of GitHub Actions' OIDC tokens. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/** One statement of an IAM policy (identity or resource policy). */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | { readonly AWS?: string | string[]; readonly Service?: string | string[] };
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

/** A policy document of `statements`. */
export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** Whether two constructs are in the same stack (so that a token of one can be used by the other). */
export function sameStack(a: IConstruct, b: IConstruct): boolean {
  return TerraformStack.of(a) === TerraformStack.of(b);
}

/**
 * The ARN of `role` as a plain string when its name is a plain string (so it can appear in another stack's
 * policies), otherwise undefined.
 */
export function literalRoleArn(role: IamRole, location: AwsLocation): string | undefined {
  const name = role.nameInput;
  if (name === undefined || Token.isUnresolved(name)) return undefined;
  return roleArn(location, name);
}

/**
 * The ARN of `role` for a policy that lives in `scope`'s stack: the role's `arn` attribute when both are in
 * the same stack, the ARN built from the role's name otherwise. Throws when neither works, because a
 * cross-stack reference would make the stacks impossible to plan separately.
 */
export function roleArnFor(scope: IConstruct, role: IamRole, location: AwsLocation, what: string): string {
  if (sameStack(scope, role)) return role.arn;
  const arn = literalRoleArn(role, location);
  if (arn === undefined) {
    throw new Error(
      `${what}: role ${role.node.path} is in another stack and has no literal name, so its ARN cannot be known ` +
        "without a cross-stack reference. Give the role a fixed name (from Naming) or name it by ARN pattern instead.",
    );
  }
  return arn;
}

/**
 * Attaches `statements` to `role` as an inline policy created in the role's own stack, so the grant never
 * references the granting stack. The policy name is derived from `name` within IAM's limit.
 */
export function attachInlinePolicy(
  role: IamRole,
  id: string,
  name: string,
  statements: PolicyStatement[],
): IamRolePolicy {
  const existing = role.node.tryFindChild(id);
  if (existing) {
    throw new Error(
      `${role.node.path}: already has a grant with id ${id}; each grant of a resource to a role must be unique`,
    );
  }
  return new IamRolePolicy(role, id, {
    role: role.name,
    name: shorten(name.replace(/[^\w+=,.@-]+/g, "-"), 128),
    policy: JSON.stringify(policyDocument(statements)),
  });
}

/** `GrantRead-datasets-imagenet`: a construct id for a grant, stable and readable. */
export function grantId(verb: string, ...parts: string[]): string {
  const suffix = parts
    .filter(Boolean)
    .join("-")
    .replace(/[^A-Za-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-|-$/g, "");
  return suffix ? `${verb}-${suffix}` : verb;
}
