/**
 * Attribute-level comparison of two resource bodies. JSON strings (policies, container definitions...) are
 * compared as parsed JSON, and a block written as an object on one side and as a one-element list on the
 * other counts as the same block, so only meaningful differences are reported.
 */

/** A step into a value: an attribute name or a list index. */
export type Segment = string | number;

/** One difference, located by its segments. */
export interface RawChange {
  readonly segments: Segment[];
  readonly before: unknown;
  readonly after: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses a string that holds a JSON object or array; anything else is returned as it is. */
export function parseJsonString(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const text = value.trim();
  if (!(text.startsWith("{") && text.endsWith("}")) && !(text.startsWith("[") && text.endsWith("]")))
    return value;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return value;
  }
}

/** True when two values are structurally equal (key order does not matter). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => deepEqual(a[key], b[key]));
  }
  return false;
}

/**
 * The differences between `before` and `after`, leaf by leaf. A list of plain values that changed is
 * reported whole (easier to read than index by index); lists of blocks are compared element by element.
 */
export function diffValues(before: unknown, after: unknown, segments: Segment[] = []): RawChange[] {
  before = parseJsonString(before);
  after = parseJsonString(after);
  if (deepEqual(before, after)) return [];
  if (isObject(before) && Array.isArray(after) && after.length === 1 && isObject(after[0])) {
    return diffValues([before], after, segments);
  }
  if (Array.isArray(before) && before.length === 1 && isObject(before[0]) && isObject(after)) {
    return diffValues(before, [after], segments);
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffValues(before[key], after[key], [...segments, key]));
  }
  if (
    Array.isArray(before) &&
    Array.isArray(after) &&
    [...before, ...after].some((item) => isObject(item) || Array.isArray(item))
  ) {
    const length = Math.max(before.length, after.length);
    const changes: RawChange[] = [];
    for (let index = 0; index < length; index++)
      changes.push(...diffValues(before[index], after[index], [...segments, index]));
    return changes;
  }
  return [{ segments, before, after }];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `versioning_configuration[0].status`, `policy.Statement[0].Effect`, `tags["kubernetes.io/role"]`. */
export function formatPath(segments: readonly Segment[]): string {
  let path = "";
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += path ? `.${segment}` : segment;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** The attribute names of a path without list indexes (`vpc_config.subnet_ids`), for table look-ups. */
export function schemaPath(segments: readonly Segment[]): string {
  return segments.filter((segment): segment is string => typeof segment === "string").join(".");
}

/** The value at `segments` inside `value` (undefined when absent); a single block counts as a list of one. */
export function valueAt(value: unknown, segments: readonly Segment[]): unknown {
  let current: unknown = parseJsonString(value);
  for (const segment of segments) {
    if (typeof segment === "number") {
      if (isObject(current) && segment === 0) continue;
      current = Array.isArray(current) ? current[segment] : undefined;
    } else {
      if (Array.isArray(current) && current.length === 1) current = current[0];
      current = isObject(current) ? parseJsonString(current[segment]) : undefined;
    }
  }
  return current;
}
