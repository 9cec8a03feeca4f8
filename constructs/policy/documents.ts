/**
 * IAM-style policy documents (identity policies, trust policies, bucket, key and repository policies) as the
 * rules see them: a list of normalized statements, whatever the document was written as.
 */
import { blocks, strings, type PolicyResource, type RuleContext } from "./engine";

/** A principal of a statement: `{ type: "AWS", values: [...] }`; `"*"` is `{ type: "*", values: ["*"] }`. */
export interface Principal {
  readonly type: string;
  readonly values: readonly string[];
}

/** One statement, normalized: lists everywhere, conditions as operator → key → values. */
export interface Statement {
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  readonly principals: readonly Principal[];
  readonly conditions: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

/**
 * The statements of a policy document: a JSON string (what `JSON.stringify` in a construct gives, tokens
 * inside it included), an object, or a reference to a `data.aws_iam_policy_document` in the stack.
 * `"unknown"` when the document is computed by Terraform (`jsonencode(...)`, another resource's attribute).
 */
export function statementsOf(value: unknown, context: RuleContext): Statement[] | "unknown" | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (/^\$\{[^}]*\}$/.test(trimmed)) {
      const source = context.resolve(trimmed);
      return source && source.type === "aws_iam_policy_document" ? fromPolicyDocumentData(source) : "unknown";
    }
    try {
      return fromJson(JSON.parse(trimmed));
    } catch {
      return "unknown";
    }
  }
  if (typeof value === "object") return fromJson(value);
  return "unknown";
}

function fromJson(document: unknown): Statement[] | "unknown" {
  if (!document || typeof document !== "object") return "unknown";
  const raw = (document as { Statement?: unknown }).Statement;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list
    .filter((item): item is Record<string, unknown> => !!item && typeof item === "object")
    .map((item) => ({
      effect: item.Effect === "Deny" ? "Deny" : "Allow",
      actions: strings(item.Action),
      notActions: strings(item.NotAction),
      resources: strings(item.Resource),
      notResources: strings(item.NotResource),
      principals: principalsOf(item.Principal),
      conditions: conditionsOf(item.Condition),
    }));
}

function principalsOf(value: unknown): Principal[] {
  if (value === "*") return [{ type: "*", values: ["*"] }];
  if (!value || typeof value !== "object") return [];
  return Object.entries(value as Record<string, unknown>).map(([type, values]) => ({
    type,
    values: strings(values),
  }));
}

function conditionsOf(value: unknown): Statement["conditions"] {
  if (!value || typeof value !== "object") return {};
  const result: Record<string, Record<string, string[]>> = {};
  for (const [operator, keys] of Object.entries(value as Record<string, unknown>)) {
    if (!keys || typeof keys !== "object") continue;
    result[operator] = {};
    for (const [key, values] of Object.entries(keys as Record<string, unknown>)) {
      result[operator][key] = Array.isArray(values) ? values.map(String) : [String(values)];
    }
  }
  return result;
}

function fromPolicyDocumentData(source: PolicyResource): Statement[] {
  return blocks(source.values.statement).map((item) => {
    const conditions: Record<string, Record<string, string[]>> = {};
    for (const condition of blocks(item.condition)) {
      const operator = String(condition.test);
      conditions[operator] = {
        ...(conditions[operator] ?? {}),
        [String(condition.variable)]: strings(condition.values),
      };
    }
    return {
      effect: item.effect === "Deny" ? "Deny" : "Allow",
      actions: strings(item.actions),
      notActions: strings(item.not_actions),
      resources: strings(item.resources),
      notResources: strings(item.not_resources),
      principals: blocks(item.principals).map((p) => ({
        type: String(p.type),
        values: strings(p.identifiers),
      })),
      conditions,
    };
  });
}

/** True when the statement names anyone (`"*"` or `{ "AWS": "*" }`) as principal. */
export function hasAnyPrincipal(statement: Statement): boolean {
  return statement.principals.some((p) => p.values.includes("*") && (p.type === "*" || p.type === "AWS"));
}

/** The condition keys a statement tests, lower-cased (`aws:securetransport`, ...). */
export function conditionKeys(statement: Statement): string[] {
  return Object.values(statement.conditions).flatMap((keys) =>
    Object.keys(keys).map((key) => key.toLowerCase()),
  );
}

/** The values a statement's condition gives `key` (any operator), case-insensitive on the key. */
export function conditionValues(statement: Statement, key: string, operators?: readonly string[]): string[] {
  return Object.entries(statement.conditions)
    .filter(([operator]) => !operators || operators.includes(operator))
    .flatMap(([, keys]) => Object.entries(keys).filter(([name]) => name.toLowerCase() === key.toLowerCase()))
    .flatMap(([, values]) => values);
}

/** Condition keys that narrow who the principal is, so a wide principal is no longer open to anyone. */
export const PRINCIPAL_NARROWING_KEYS = [
  "aws:principalarn",
  "aws:principalorgid",
  "aws:principalorgpaths",
  "aws:principalaccount",
  "aws:sourcearn",
  "aws:sourceaccount",
  "aws:sourceorgid",
  "aws:sourceorgpaths",
  "aws:sourcevpc",
  "aws:sourcevpce",
  "aws:principalservicename",
] as const;

/**
 * True for a key of {@link PRINCIPAL_NARROWING_KEYS}. Not a principal tag (`aws:PrincipalTag/<tag>`): any account
 * can tag its own roles, so a tag narrows nothing next to a `"*"` principal.
 */
function isPrincipalNarrowingKey(key: string): boolean {
  return (PRINCIPAL_NARROWING_KEYS as readonly string[]).includes(key.toLowerCase());
}

/** Keys whose value is an account or organisation id: a wildcard in it matches other accounts. */
const ACCOUNT_KEYS = [
  "aws:principalaccount",
  "aws:sourceaccount",
  "aws:principalorgid",
  "aws:sourceorgid",
  "kms:calleraccount",
];
/** Keys whose value is an ARN: a wildcard in its account field matches other accounts. */
const ARN_KEYS = ["aws:principalarn", "aws:sourcearn"];
/** Keys whose value is an organisation path (`o-a1b2/r-ab12/ou-ab12-11111111/*`): it starts with the org id. */
const ORG_PATH_KEYS = ["aws:principalorgpaths", "aws:sourceorgpaths"];

const WILDCARD = /[*?]/;

/**
 * True when `value`, tested on `key` by a `...Like` operator (`like`) or an exact one, lets only given principals
 * through: never a value made of wildcards alone; for an account or organisation key, no wildcard at all; for an
 * ARN key, none in the account field; for an organisation path, none in the organisation id.
 */
function valueNarrows(key: string, value: string, like: boolean): boolean {
  if (!like) return true;
  if (/^[*?]*$/.test(value)) return false;
  const lower = key.toLowerCase();
  if (ACCOUNT_KEYS.includes(lower)) return !WILDCARD.test(value);
  if (ARN_KEYS.includes(lower)) {
    const account = value.split(":")[4];
    return account !== undefined && !WILDCARD.test(account);
  }
  if (ORG_PATH_KEYS.includes(lower)) return !WILDCARD.test(value.split("/")[0]);
  return true;
}

/** Operators that match a key only when it is present and equal to (or like) one of the listed values. */
const RESTRICTING_OPERATORS = [
  "stringequals",
  "stringequalsignorecase",
  "stringlike",
  "arnequals",
  "arnlike",
];

/**
 * True when a condition `operator` holds only for requests whose key is present and matches one of the values:
 * StringEquals, StringEqualsIgnoreCase, StringLike, ArnEquals, ArnLike, and their `ForAnyValue:` forms (false
 * when the key is absent). Never the negated operators (`StringNotEquals`, `ArnNotLike`...), `Null`, the
 * `...IfExists` forms (true when the key is absent) or the `ForAllValues:` forms (true when the key is absent or
 * empty).
 */
export function restrictsToValues(operator: string): boolean {
  let base = operator.toLowerCase();
  if (base.startsWith("forallvalues:")) return false;
  if (base.startsWith("foranyvalue:")) base = base.slice("foranyvalue:".length);
  return RESTRICTING_OPERATORS.includes(base);
}

/**
 * True when one of the statement's conditions restricts a key accepted by `isKey` to given values (see
 * {@link restrictsToValues}). Values are alternatives, so every one must narrow: a `...Like` value made only of
 * wildcards, or with a wildcard where an account is, lets any account through.
 */
export function restrictsKey(statement: Statement, isKey: (key: string) => boolean): boolean {
  return Object.entries(statement.conditions).some(([operator, keys]) => {
    if (!restrictsToValues(operator)) return false;
    const like = /like$/i.test(operator);
    return Object.entries(keys).some(
      ([key, values]) =>
        isKey(key) && values.length > 0 && values.every((value) => valueNarrows(key, value, like)),
    );
  });
}

/**
 * True when the statement's conditions narrow its principal: a key of {@link PRINCIPAL_NARROWING_KEYS} restricted
 * to given values by a positive operator (see {@link restrictsToValues} and {@link restrictsKey}).
 */
export function narrowsPrincipal(statement: Statement): boolean {
  return restrictsKey(statement, isPrincipalNarrowingKey);
}

/** Allow statements open to anyone: `"*"` principal and nothing in the conditions that narrows it. */
export function publicStatements(statements: readonly Statement[]): Statement[] {
  return statements.filter((s) => s.effect === "Allow" && hasAnyPrincipal(s) && !narrowsPrincipal(s));
}

/**
 * Findings of a resource policy (bucket, repository...) that grants to anonymous principals: one message
 * when some Allow statement is open to `"*"` with nothing narrowing it.
 */
export function anonymousGrantFindings(policy: unknown, context: RuleContext): string[] {
  const statements = statementsOf(policy, context);
  if (!Array.isArray(statements)) return [];
  const open = publicStatements(statements);
  return open.length === 0
    ? []
    : [`${open.length} Allow statement(s) have Principal "*" without a condition that narrows it`];
}

/** Matches an IAM action pattern (`s3:Get*`) against an action, case-insensitively as IAM does. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return regex.test(action);
}
