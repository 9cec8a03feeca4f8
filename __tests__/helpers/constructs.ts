/**
 * Helpers for construct tests: a bare stack in a test app, its synthesized JSON, the policies in it, and
 * a small IAM evaluator to prove what a policy allows and what it does not.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { type App, TerraformStack, Testing } from "cdktf";
import { Naming } from "../../constructs/core/naming";
import type { PolicyDocument, PolicyStatement } from "../../constructs/core/iam";
import { type StackJson, synthStack } from "./synth";

export const LOCATION = { accountId: "111111111111", region: "eu-west-1" } as const;
export const NAMING = new Naming({ project: "mlops", environment: "dev" });

/** A stack with an AWS provider, in `app` (a fresh test app by default). */
export function testStack(id = "test", app: App = Testing.app()): TerraformStack {
  const stack = new TerraformStack(app, id);
  new AwsProvider(stack, "aws", { region: LOCATION.region });
  return stack;
}

export { synthStack, type StackJson };

/** The parsed `policy` (or another JSON attribute) of a synthesized resource. */
export function policyOf(resource: Record<string, unknown>, attribute = "policy"): PolicyDocument {
  return JSON.parse(resource[attribute] as string) as PolicyDocument;
}

/** The statement with `sid`; fails when there is none. */
export function statement(policy: PolicyDocument, sid: string): PolicyStatement {
  const found = policy.Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid} in ${JSON.stringify(policy)}`);
  return found;
}

const list = (value: string | string[] | boolean | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [String(value)];

function glob(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${regex}$`).test(value);
}

function conditionHolds(
  operator: string,
  key: string,
  expected: string[],
  context: Record<string, string>,
): boolean {
  const actual = context[key];
  // A negated operator holds when the key is missing; the others do not.
  if (operator === "StringNotEquals") return actual === undefined || !expected.includes(actual);
  if (actual === undefined) return false;
  switch (operator) {
    case "StringEquals":
    case "ForAnyValue:StringEquals":
    case "ArnEquals":
    case "Bool":
      return expected.includes(actual);
    case "StringLike":
    case "ArnLike":
      return expected.some((pattern) => glob(pattern, actual));
    default:
      throw new Error(`the test evaluator does not know condition operator ${operator}`);
  }
}

/**
 * Whether an identity policy allows `action` on `resource` with request `context` (condition keys). A
 * small subset of IAM's evaluation (Allow statements, Action/Resource wildcards, the operators our
 * constructs use), enough to prove a grant cannot reach outside its scope.
 */
export function allows(
  policy: PolicyDocument,
  action: string,
  resource: string,
  context: Record<string, string> = {},
): boolean {
  return policy.Statement.some(
    (s) =>
      s.Effect === "Allow" &&
      list(s.Action).some((pattern) => glob(pattern, action)) &&
      list(s.Resource).some((pattern) => glob(pattern, resource)) &&
      Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
        Object.entries(keys).every(([key, expected]) =>
          conditionHolds(operator, key, list(expected), context),
        ),
      ),
  );
}

/** Whether a statement applies to a request (Action, Resource or NotResource, and every condition). */
function applies(
  s: PolicyStatement & { NotResource?: string | string[] },
  action: string,
  resource: string,
  context: Record<string, string>,
): boolean {
  const resourceMatches = s.NotResource
    ? !list(s.NotResource).some((pattern) => glob(pattern, resource))
    : list(s.Resource).some((pattern) => glob(pattern, resource));
  return (
    list(s.Action).some((pattern) => glob(pattern, action)) &&
    resourceMatches &&
    Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
      Object.entries(keys).every(([key, expected]) => conditionHolds(operator, key, list(expected), context)),
    )
  );
}

/**
 * Whether the policies together let a request through, as IAM decides within one account: some Allow
 * statement applies and no Deny statement does. A permissions boundary is not one of a role's policies but a
 * second decision that must also permit: `permits(policies, ...) && permits([boundary], ...)`.
 */
export function permits(
  policies: readonly PolicyDocument[],
  action: string,
  resource: string,
  context: Record<string, string> = {},
): boolean {
  const statements = policies.flatMap((policy) => policy.Statement);
  const applying = statements.filter((s) => applies(s, action, resource, context));
  return applying.some((s) => s.Effect === "Allow") && !applying.some((s) => s.Effect === "Deny");
}

/** The one resource of `type` in a synthesized stack; fails when there are none or several. */
export function onlyResourceOf(json: StackJson, type: string): Record<string, unknown> {
  const all = Object.values(json.resource?.[type] ?? {});
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}
