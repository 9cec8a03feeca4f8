/**
 * The policy engine: evaluates rules over a synthesized stack (`cdk.tf.json`), with no dependency on cdktf or
 * the provider packages. The same code runs inside synthesis (as a stack validation) and in `tools/` on
 * `cdktf.out`, so what blocks a synth is exactly what `npm run policy` and the pull-request review report.
 */
import type { Tier } from "../../environments/tier";

/** How bad a violation is, independent of the environment. */
export type Severity = "critical" | "high" | "medium" | "low";

/** What a failing rule does in one environment: block synthesis, warn, or nothing. */
export type PolicyLevel = "error" | "warn" | "off";

/** The levels an environment file may set per rule. */
export const POLICY_LEVELS = ["error", "warn", "off"] as const;

/** A suppression of one rule on a resource, with the reason a reviewer reads. */
export interface Suppression {
  readonly rule: string;
  readonly reason: string;
}

/** Reasons shorter than this say nothing a reviewer can judge ("ok", "legacy"). */
export const MIN_SUPPRESSION_REASON_LENGTH = 10;

/** One resource (or data source) of a synthesized stack, as the rules see it. */
export interface PolicyResource {
  /** Terraform type, such as `aws_s3_bucket`. */
  readonly type: string;
  /** Logical id (the Terraform name), such as `Raw_Resource_1A2B3C4D`. */
  readonly name: string;
  /** `aws_s3_bucket.Raw_Resource_1A2B3C4D` (`data.` prefixed for data sources). */
  readonly address: string;
  readonly mode: "managed" | "data";
  /** Construct path from cdktf's `//` metadata, or the address when the JSON has none. */
  readonly path: string;
  /** Attribute values as plain JSON, without cdktf's `//` metadata. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Suppressions stamped on the resource by `PolicySuppressions`. */
  readonly suppressions: readonly Suppression[];
}

/** What a rule knows besides the resource it checks. */
export interface RuleContext {
  readonly stack: string;
  readonly environment: string;
  readonly tier: Tier;
  /** Every managed resource of `type` in the stack (data sources: `data.<type>`). */
  resources(type: string): readonly PolicyResource[];
  /**
   * Resources of `type` whose `attributes` point at `target`: through an interpolation
   * (`${aws_s3_bucket.Raw.id}`, `.bucket`, `.arn`...) or by the target's literal name (a bucket's `bucket`).
   */
  referencing(target: PolicyResource, type: string, attributes: string | readonly string[]): PolicyResource[];
  /** The resource an interpolation such as `${aws_launch_template.Gpu.id}` points at, when it is in the stack. */
  resolve(value: unknown): PolicyResource | undefined;
}

/** Marker a rule returns when it does not apply to a resource (for example a key that is not symmetric). */
export const NOT_APPLICABLE = "n/a" as const;

/** A rule's verdict: the problems found (empty when it passes) or {@link NOT_APPLICABLE}. */
export type RuleOutcome = readonly string[] | typeof NOT_APPLICABLE;

/** One rule of the policy pack: a small pure function over one resource and its stack. */
export interface PolicyRule {
  /** Stable id, `MLOPS-<SERVICE>-<NNN>`; used in suppressions, environment files and reports. */
  readonly id: string;
  /** What must hold, as a short sentence. */
  readonly title: string;
  readonly severity: Severity;
  /** Terraform types the rule checks (`data.<type>` for data sources). */
  readonly resourceTypes: readonly string[];
  /**
   * Tiers the rule applies to (reliability rules such as Multi-AZ apply to prod only).
   * @default every tier
   */
  readonly tiers?: readonly Tier[];
  /** How to fix a violation, in the construct's terms. */
  readonly fix: string;
  check(resource: PolicyResource, context: RuleContext): RuleOutcome;
}

/** The result of one rule on one resource. */
export interface PolicyFinding {
  readonly stack: string;
  readonly environment: string;
  readonly tier: Tier;
  readonly rule: string;
  readonly title: string;
  readonly severity: Severity;
  readonly type: string;
  readonly address: string;
  readonly path: string;
  readonly result: "pass" | "fail" | "suppressed";
  /** The level the environment gives this rule. */
  readonly level: PolicyLevel;
  /** A failure at level `error`: it blocks synthesis. */
  readonly blocking: boolean;
  /** What is wrong (empty when the rule passes). */
  readonly problems: readonly string[];
  readonly fix: string;
  /** The suppression's reason, when suppressed. */
  readonly reason?: string;
  /** Identifies the finding across two syntheses (for base/head comparisons): `stack|rule|address`. */
  readonly key: string;
}

/** The policy settings a stack carries in its synthesized JSON (`//.policy`). */
export interface StackPolicySettings {
  readonly environment: string;
  readonly tier: Tier;
  /**
   * Per-rule levels from the environment file, keyed by rule id; rules not listed use the tier's default.
   * @default - every rule at its tier's default: `warn` in dev, `error` in test and prod
   */
  readonly rules?: Readonly<Record<string, PolicyLevel>>;
}

/** A parsed `cdk.tf.json`. */
export interface SynthesizedStackJson {
  readonly "//"?: {
    readonly metadata?: { readonly stackName?: string };
    readonly policy?: StackPolicySettings;
  };
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly moved?: readonly { readonly from: string; readonly to: string }[];
  readonly [key: string]: unknown;
}

/** The level of `rule` in a tier: blocking in test and prod, a warning in dev, unless the environment says otherwise. */
export function levelFor(
  rule: Pick<PolicyRule, "id">,
  tier: Tier,
  overrides: Readonly<Record<string, PolicyLevel>> = {},
): PolicyLevel {
  return overrides[rule.id] ?? (tier === "dev" ? "warn" : "error");
}

/** The resources and data sources of a synthesized stack. */
export function stackResources(json: SynthesizedStackJson): PolicyResource[] {
  const all: PolicyResource[] = [];
  const add = (mode: "managed" | "data", blocks: SynthesizedStackJson["resource"]) => {
    for (const [type, byName] of Object.entries(blocks ?? {})) {
      for (const [name, body] of Object.entries(byName)) {
        const { "//": meta, ...values } = body as Record<string, unknown> & { "//"?: ResourceMeta };
        const address = mode === "data" ? `data.${type}.${name}` : `${type}.${name}`;
        all.push({
          type,
          name,
          address,
          mode,
          path: meta?.metadata?.path ?? address,
          values,
          suppressions: Array.isArray(meta?.policy_suppressions) ? meta.policy_suppressions : [],
        });
      }
    }
  };
  add("managed", json.resource);
  add("data", json.data);
  return all;
}

interface ResourceMeta {
  readonly metadata?: { readonly path?: string };
  readonly policy_suppressions?: Suppression[];
}

/** Options of {@link evaluateStack}; each defaults to what the stack's JSON says. */
export interface EvaluateOptions {
  /**
   * The stack's name, as the findings and the rules see it.
   * @default - the stack JSON's `//.metadata.stackName`, or `"stack"` when it has none
   */
  readonly stack?: string;
  /**
   * The environment, tier and rule levels to judge the stack by.
   * @default - the stack JSON's `//.policy`, or environment `"unknown"` at tier prod when it has none
   */
  readonly settings?: StackPolicySettings;
}

/**
 * Runs every rule over every resource of a synthesized stack. Rules at level `off` and rules that do not apply
 * to the tier are skipped; everything else gives one finding per (rule, resource): pass, fail or suppressed.
 *
 * The environment and tier come from the stack's `//.policy` (written by the policy pack at synthesis); a
 * stack without it is judged as prod, the strictest tier.
 */
export function evaluateStack(
  json: SynthesizedStackJson,
  rules: readonly PolicyRule[],
  options: EvaluateOptions = {},
): PolicyFinding[] {
  const stack = options.stack ?? json["//"]?.metadata?.stackName ?? "stack";
  const settings = options.settings ?? json["//"]?.policy ?? { environment: "unknown", tier: "prod" as Tier };
  const context = createContext(stack, settings, stackResources(json));
  const findings: PolicyFinding[] = [];
  for (const rule of rules) {
    const level = levelFor(rule, settings.tier, settings.rules);
    if (level === "off") continue;
    if (rule.tiers && !rule.tiers.includes(settings.tier)) continue;
    for (const type of rule.resourceTypes) {
      for (const resource of context.resources(type)) {
        const outcome = rule.check(resource, context);
        if (outcome === NOT_APPLICABLE) continue;
        const suppression = resource.suppressions.find((s) => s.rule === rule.id);
        const honoured = suppression && suppression.reason.trim().length >= MIN_SUPPRESSION_REASON_LENGTH;
        const problems = [...outcome];
        let result: PolicyFinding["result"] = problems.length === 0 ? "pass" : "fail";
        if (result === "fail" && honoured) result = "suppressed";
        if (result === "fail" && suppression && !honoured) {
          problems.push(
            `its suppression is ignored: the reason must be at least ${MIN_SUPPRESSION_REASON_LENGTH} characters`,
          );
        }
        findings.push({
          stack,
          environment: settings.environment,
          tier: settings.tier,
          rule: rule.id,
          title: rule.title,
          severity: rule.severity,
          type: resource.type,
          address: resource.address,
          path: resource.path,
          result,
          level,
          blocking: result === "fail" && level === "error",
          problems,
          fix: rule.fix,
          ...(result === "suppressed" ? { reason: suppression!.reason } : {}),
          key: `${stack}|${rule.id}|${resource.address}`,
        });
      }
    }
  }
  return findings;
}

/**
 * The message of a failing finding, naming the stack, the construct path, the rule and the fix:
 * `mlops-prod-data: MLOPS-S3-001 Bucket versioning is enabled — aws_s3_bucket.Raw (mlops-prod-data/Raw/Resource): ...`
 */
export function formatFinding(finding: PolicyFinding): string {
  const what = finding.problems.length > 0 ? finding.problems.join("; ") : finding.result;
  return (
    `${finding.stack}: ${finding.rule} ${finding.title} [${finding.severity}] failed on ${finding.address} ` +
    `(construct ${finding.path}): ${what}. Fix: ${finding.fix} If it is intended, suppress it on the construct with ` +
    `PolicySuppressions.add(construct, "${finding.rule}", "<reason of ${MIN_SUPPRESSION_REASON_LENGTH}+ characters>").`
  );
}

function createContext(
  stack: string,
  settings: StackPolicySettings,
  all: readonly PolicyResource[],
): RuleContext {
  const byType = new Map<string, PolicyResource[]>();
  const byAddress = new Map<string, PolicyResource>();
  for (const resource of all) {
    const key = resource.mode === "data" ? `data.${resource.type}` : resource.type;
    byType.set(key, [...(byType.get(key) ?? []), resource]);
    byAddress.set(resource.address, resource);
  }
  const resources = (type: string) => byType.get(type) ?? [];
  return {
    stack,
    environment: settings.environment,
    tier: settings.tier,
    resources,
    referencing(target, type, attributes) {
      const names = literalNames(target);
      const list = typeof attributes === "string" ? [attributes] : attributes;
      return resources(type).filter((candidate) =>
        list.some((attribute) => {
          const value = candidate.values[attribute];
          if (value === undefined) return false;
          if (references(value).some((ref) => ref.address === target.address)) return true;
          return typeof value === "string" && names.includes(value);
        }),
      );
    },
    resolve(value) {
      for (const ref of references(value)) {
        const found = byAddress.get(ref.address);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** Attributes that hold a resource's name, by which other resources may refer to it without interpolation. */
const NAME_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_s3_bucket: ["bucket"],
  aws_ecr_repository: ["name"],
  aws_db_parameter_group: ["name"],
  aws_rds_cluster_parameter_group: ["name"],
  aws_launch_template: ["name"],
  aws_iam_role: ["name"],
  aws_sns_topic: ["name"],
  aws_cloudwatch_log_group: ["name"],
  aws_sagemaker_endpoint_configuration: ["name"],
  aws_sagemaker_model: ["name"],
  aws_eks_cluster: ["name"],
};

function literalNames(resource: PolicyResource): string[] {
  return (NAME_ATTRIBUTES[resource.type] ?? [])
    .map((attribute) => resource.values[attribute])
    .filter((value): value is string => typeof value === "string" && value !== "" && !isToken(value));
}

/** A Terraform reference found in an interpolation. */
export interface Reference {
  /** `aws_s3_bucket.Raw` or `data.aws_iam_policy_document.Trust`. */
  readonly address: string;
  /** The attribute read, such as `id` or `arn` (empty when the whole object is referenced). */
  readonly attribute: string;
}

const REFERENCE = /(?<![\w.])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*)(?:\.([A-Za-z_]\w*))?/g;

/** Every resource reference inside the `${...}` interpolations of a value (searched recursively). */
export function references(value: unknown): Reference[] {
  const found: Reference[] = [];
  const visit = (item: unknown) => {
    if (typeof item === "string") {
      for (const expression of interpolations(item)) {
        for (const match of expression.matchAll(REFERENCE)) {
          const [, address, attribute = ""] = match;
          if (/^(var|local|module|each|count|path|terraform|self)\./.test(address)) continue;
          found.push({ address, attribute });
        }
      }
    } else if (Array.isArray(item)) item.forEach(visit);
    else if (item && typeof item === "object") Object.values(item).forEach(visit);
  };
  visit(value);
  return found;
}

/** The expressions of the `${...}` interpolations in `text` (nested braces included). */
export function interpolations(text: string): string[] {
  const result: string[] = [];
  let start = text.indexOf("${");
  while (start >= 0) {
    let depth = 0;
    let end = start + 2;
    for (; end < text.length; end++) {
      if (text[end] === "{") depth++;
      else if (text[end] === "}") {
        if (depth === 0) break;
        depth--;
      }
    }
    result.push(text.slice(start + 2, end));
    start = text.indexOf("${", end);
  }
  return result;
}

/** True for a string that Terraform computes (it holds an interpolation): its value is set but unknown here. */
export function isToken(value: unknown): boolean {
  return typeof value === "string" && value.includes("${");
}

/** A value is set when it is present and not empty; an interpolation counts as set. */
export function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

/**
 * A boolean attribute: `true`/`false` (also as strings, which overrides may produce), `"unknown"` when
 * Terraform computes it, `undefined` when absent.
 */
export function flag(value: unknown): boolean | "unknown" | undefined {
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  if (isToken(value)) return "unknown";
  return undefined;
}

/** A number attribute (numbers may arrive as strings); `"unknown"` when computed, `undefined` when absent. */
export function numberOf(value: unknown): number | "unknown" | undefined {
  if (typeof value === "number") return value;
  if (isToken(value)) return "unknown";
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
}

/** The objects of a nested block, which cdktf writes as an object or as a list of objects. */
export function blocks(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value))
    return value.filter(
      (item): item is Record<string, unknown> => !!item && typeof item === "object" && !Array.isArray(item),
    );
  if (value && typeof value === "object") return [value as Record<string, unknown>];
  return [];
}

/** The first (usually only) object of a nested block. */
export function block(value: unknown): Record<string, unknown> | undefined {
  return blocks(value)[0];
}

/** A string list attribute; a single string counts as a one-element list. */
export function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  return [];
}
