/**
 * Retention cuts: a change that keeps logs, object versions, images or backups for less time than before.
 * Unlike most updates it loses data on its own, without a destroy: once applied, AWS deletes what is now
 * older than the new limit, for good. An increase, or removing a limit, loses nothing and is not reported.
 *
 * The shapes are those of the synthesized JSON and of `terraform show -json` alike: nested blocks are lists
 * of blocks (`rule[].noncurrent_version_expiration[0].noncurrent_days`), and an unset number is absent,
 * `null` or 0. A value known only after apply (a `${...}` reference) is not compared.
 */
import { parseJsonString, valueAt } from "./diff";

type Body = Record<string, unknown>;

/** How long, or how many, something is kept; `Infinity` when nothing expires it. */
type Limit = number;

/**
 * A positive whole number from the configuration; `unset` for an absent, empty or 0 value (none of these
 * limits may be 0), undefined for a value that is not known (a reference, or an unset value whose default
 * AWS picks).
 */
function limit(value: unknown, unset: Limit | undefined): Limit | undefined {
  if (value === undefined || value === null || value === "" || value === 0 || value === "0") return unset;
  const number = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof number === "number" && Number.isInteger(number) && number > 0 ? number : undefined;
}

function blocks(value: unknown): Body[] {
  const parsed = parseJsonString(value);
  const list = Array.isArray(parsed) ? parsed : parsed ? [parsed] : [];
  return list.filter(
    (item): item is Body => typeof item === "object" && item !== null && !Array.isArray(item),
  );
}

/** One limit before and after, and what lowering it loses. */
interface Cut {
  readonly what: string;
  readonly before: Limit;
  readonly after: Limit;
  readonly loses: string;
}

function reasonOf(cut: Cut): string {
  const change =
    cut.before === Infinity
      ? `set to ${cut.after} (nothing expired before)`
      : `lowered from ${cut.before} to ${cut.after}`;
  return `${cut.what} ${change}: ${cut.loses}`;
}

/** The lower of two limits; unknown when either is. */
function lower(a: Limit | undefined, b: Limit | undefined): Limit | undefined {
  return a === undefined || b === undefined ? undefined : Math.min(a, b);
}

/** The cut, when both limits are known and `after` keeps less. */
function cut(
  what: string,
  before: Limit | undefined,
  after: Limit | undefined,
  loses: string,
): Cut | undefined {
  return before !== undefined && after !== undefined && after < before
    ? { what, before, after, loses }
    : undefined;
}

// S3 lifecycle rules ------------------------------------------------------------------------------------

/** A filter without its empty parts, so `filter { prefix = "" }`, `filter {}` and no filter compare equal. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalise).filter((item) => item !== undefined);
    return items.length === 0 ? undefined : items.length === 1 ? items[0] : items;
  }
  if (value && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((key) => [key, normalise((value as Body)[key])] as const)
      .filter(([, item]) => item !== undefined);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return value === null || value === "" ? undefined : value;
}

/** The objects a rule applies to, as a key; `""` for the whole bucket. */
function scopeOf(rule: Body): string {
  const scope = normalise({ filter: rule.filter, prefix: rule.prefix });
  return scope === undefined ? "" : JSON.stringify(scope);
}

/** A limit and the id of the rule that sets it. */
interface Kept {
  readonly limit: Limit | undefined;
  readonly rule?: string;
}

/** What S3 keeps under a rule, with what lowering each limit loses. */
const RULE_LIMITS = {
  expirationDays: {
    path: "expiration.days",
    loses:
      "keeps current objects for fewer days, older ones expire (deleted for good unless the bucket keeps versions)",
  },
  noncurrentDays: {
    path: "noncurrent_version_expiration.noncurrent_days",
    loses: "keeps noncurrent object versions for fewer days, older versions are deleted for good",
  },
  noncurrentVersions: {
    path: "noncurrent_version_expiration.newer_noncurrent_versions",
    loses: "keeps fewer noncurrent object versions, older versions are deleted for good",
  },
} as const;

type RuleLimits = Record<keyof typeof RULE_LIMITS, Kept>;
const RULE_LIMIT_NAMES = Object.keys(RULE_LIMITS) as (keyof typeof RULE_LIMITS)[];
const FOREVER: Kept = { limit: Infinity };
const NO_RULE: RuleLimits = {
  expirationDays: FOREVER,
  noncurrentDays: FOREVER,
  noncurrentVersions: FOREVER,
};

/** A rule's limits: days until current objects expire, days and count of noncurrent versions kept. */
function ruleLimits(rule: Body): RuleLimits {
  const id = typeof rule.id === "string" && rule.id !== "" ? rule.id : undefined;
  const noncurrent = blocks(rule.noncurrent_version_expiration)[0];
  return {
    expirationDays: { limit: limit(valueAt(rule, ["expiration", "days"]), Infinity), rule: id },
    noncurrentDays: noncurrent ? { limit: limit(noncurrent.noncurrent_days, Infinity), rule: id } : FOREVER,
    // Without newer_noncurrent_versions every noncurrent version past the days expires: none is kept by count.
    noncurrentVersions: noncurrent
      ? { limit: limit(noncurrent.newer_noncurrent_versions, 0), rule: id }
      : FOREVER,
  };
}

/** The shorter of two limits; unknown when either is. */
function shorter(a: Kept, b: Kept): Kept {
  if (a.limit === undefined || b.limit === undefined) return { limit: undefined };
  return b.limit < a.limit ? b : a;
}

function shorterEach(a: RuleLimits, b: RuleLimits): RuleLimits {
  return Object.fromEntries(RULE_LIMIT_NAMES.map((name) => [name, shorter(a[name], b[name])])) as RuleLimits;
}

/**
 * The enabled rules' limits by scope, the shortest where several rules share one; undefined when the rules
 * are not known (a reference).
 */
function rulesByScope(body: Body): Map<string, RuleLimits> | undefined {
  const rules = parseJsonString(body.rule);
  if (rules !== undefined && (typeof rules !== "object" || rules === null)) return undefined;
  const byScope = new Map<string, RuleLimits>();
  for (const rule of blocks(rules)) {
    if (rule.status !== "Enabled") continue;
    const scope = scopeOf(rule);
    const known = byScope.get(scope);
    byScope.set(scope, known ? shorterEach(known, ruleLimits(rule)) : ruleLimits(rule));
  }
  return byScope;
}

function lifecycleRuleCuts(before: Body, after: Body): Cut[] {
  const was = rulesByScope(before);
  const is = rulesByScope(after);
  if (!was || !is) return [];
  const cuts: (Cut | undefined)[] = [];
  for (const [scope, limits] of is) {
    // Objects of a narrower scope were under the whole-bucket rules too: they were kept the shorter time.
    const own = was.get(scope) ?? NO_RULE;
    const previous = scope === "" ? own : shorterEach(own, was.get("") ?? NO_RULE);
    for (const name of RULE_LIMIT_NAMES) {
      // A count only matters where noncurrent versions already expired; a new expiry is reported by its days.
      if (name === "noncurrentVersions" && previous.noncurrentDays.limit === Infinity) continue;
      const rule = limits[name].rule ?? previous[name].rule;
      cuts.push(
        cut(
          `${rule ? `lifecycle rule ${JSON.stringify(rule)}` : "a lifecycle rule"}: ${RULE_LIMITS[name].path}`,
          previous[name].limit,
          limits[name].limit,
          RULE_LIMITS[name].loses,
        ),
      );
    }
  }
  return cuts.filter((c): c is Cut => c !== undefined);
}

// ECR lifecycle policies -------------------------------------------------------------------------------

/** The images an expiring rule selects and how it counts them, as a key and as words. */
function imageSelection(rule: Body): { key: string; label: string; countType: string } | undefined {
  const action = rule.action as { type?: unknown } | undefined;
  if ((action?.type ?? "expire") !== "expire") return undefined;
  const selection = rule.selection as Body | undefined;
  if (!selection || typeof selection.countType !== "string") return undefined;
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String).sort() : []);
  const status = String(selection.tagStatus ?? "any");
  const tags = [
    ...list(selection.tagPrefixList).map((prefix) => `${prefix}*`),
    ...list(selection.tagPatternList),
  ];
  const images = status === "any" ? "all" : `${status}${tags.length ? ` ${tags.join(", ")}` : ""}`;
  return {
    key: JSON.stringify([status, tags, selection.countType, selection.countUnit ?? null]),
    label: `${images} images, ${selection.countType}`,
    countType: selection.countType,
  };
}

/** Each selection's count (images kept, or days since push), the lowest where rules repeat a selection. */
function imageLimits(policy: unknown): Map<string, { label: string; countType: string; count?: Limit }> {
  const document = parseJsonString(policy) as { rules?: unknown } | undefined;
  const limits = new Map<string, { label: string; countType: string; count?: Limit }>();
  for (const rule of blocks(document && typeof document === "object" ? document.rules : undefined)) {
    const selection = imageSelection(rule);
    if (!selection) continue;
    const count = limit((rule.selection as Body).countNumber, Infinity);
    const known = limits.get(selection.key);
    limits.set(selection.key, {
      label: selection.label,
      countType: selection.countType,
      count: known ? lower(known.count, count) : count,
    });
  }
  return limits;
}

function imageCuts(before: Body, after: Body): Cut[] {
  // A policy that is not a literal document (a reference) cannot be compared.
  const literal = (body: Body) => {
    const document = parseJsonString(body.policy);
    return typeof document === "object" && document !== null;
  };
  if (!literal(before) || !literal(after)) return [];
  const was = imageLimits(before.policy);
  const cuts: (Cut | undefined)[] = [];
  for (const [key, selection] of imageLimits(after.policy)) {
    cuts.push(
      cut(
        `lifecycle policy (${selection.label})`,
        was.get(key)?.count ?? (was.has(key) ? undefined : Infinity),
        selection.count,
        selection.countType === "sinceImagePushed"
          ? "keeps images for fewer days, older images are deleted for good"
          : "keeps fewer images, older images are deleted for good",
      ),
    );
  }
  return cuts.filter((c): c is Cut => c !== undefined);
}

// ------------------------------------------------------------------------------------------------------

/** Retention that `after` cuts compared with `before`, as reasons (empty when none). */
export function retentionCuts(type: string, before: Body, after: Body): string[] {
  const cuts: (Cut | undefined)[] = [];
  switch (type) {
    case "aws_cloudwatch_log_group":
      // 0 or unset: logs never expire.
      cuts.push(
        cut(
          "retention_in_days",
          limit(before.retention_in_days, Infinity),
          limit(after.retention_in_days, Infinity),
          "keeps logs for fewer days, older logs are deleted for good",
        ),
      );
      break;
    case "aws_s3_bucket_lifecycle_configuration":
      cuts.push(...lifecycleRuleCuts(before, after));
      break;
    case "aws_ecr_lifecycle_policy":
      cuts.push(...imageCuts(before, after));
      break;
    case "aws_db_instance":
    case "aws_rds_cluster":
      // Unset leaves the number of days to AWS; turning backups off (0) is reported by weakenedProtection.
      cuts.push(
        cut(
          "backup_retention_period",
          limit(before.backup_retention_period, undefined),
          limit(after.backup_retention_period, undefined),
          "keeps automated backups for fewer days, older backups are deleted for good",
        ),
      );
      break;
  }
  return cuts.filter((c): c is Cut => c !== undefined).map(reasonOf);
}
