/**
 * A stack's Terraform JSON, rendered as cdktf's `TerraformStack.toTerraform` renders it, in about half the time.
 *
 * cdktf resolves tokens with one general walk over every value: for each key and each value it makes a
 * resolution context (closures, a copy of its options, a longer path) and tests each string with several regular
 * expressions. It walks each element's JSON that way and then the whole stack once more. That walk was about
 * half of a synth's work after loading, and it grows with every resource: about 3 ms of the 6 ms an added
 * inference endpoint cost in a warm process. Most values hold no token at all.
 *
 * {@link resolveValue} walks plain data itself and copies it. It hands a value to cdktf's public
 * `Tokenization.resolve` as soon as the value might hold a token, or might be something cdktf treats specially:
 * a string with a token marker in it (or one that could hold an encoded number), a number that encodes a token,
 * an array with such an element (a number list token's elements included), an object with such a key, an
 * object with a `resolve` method, and anything that is not a plain object, array or primitive (a token, a
 * `Lazy`, a construct, a date). cdktf resolves that value as it always would, so the output is the same, byte
 * for byte; when anything fails, cdktf resolves the whole value again and the error is its own. Tests compare
 * the output with cdktf's own render for every stack of every environment, and with `Tokenization.resolve` for
 * generated values. One difference remains, for values no stack has: data nested more than 200 levels deep
 * inside a token's value, which cdktf refuses as a circular reference, renders here.
 *
 * {@link renderStack} is `TerraformStack.toTerraform` with this resolution in place of cdktf's, and without its
 * last walk over the whole stack: only the metadata and the blocks that the stack's own overrides went into are
 * resolved again, the rest was resolved element by element. It uses two things cdktf does not export: its merge
 * of Terraform JSON (`cdktf/lib/util`), and the stack's overrides, a private field; if a cdktf release renames
 * the field, rendering fails with an error that says so.
 */
import {
  DefaultTokenResolver,
  StringConcat,
  TerraformElement,
  TerraformOutput,
  TerraformStack,
  Token,
  Tokenization,
} from "cdktf";
// cdktf's own merge of Terraform JSON (objects merge deeply, arrays concatenate, `undefined` deletes), which
// its index does not export.
import { deepMerge } from "cdktf/lib/util";
import type { IConstruct } from "constructs";

/** Every token cdktf encodes into a string (string, list and map tokens) has this in it. */
const TOKEN_MARKER = "TfToken[";
/** cdktf's pattern for a number token written into a string; a string that matches is left to cdktf. */
const ENCODED_NUMBER = /[-|\d|.+]+(e[-|\d|.|e|E|+]+)/;
/** As deep as cdktf resolves before it reports a circular reference. */
const MAX_DEPTH = 200;

const RESOLVER = new DefaultTokenResolver(new StringConcat());

/** What cdktf would make of `value`, resolved by cdktf itself. */
function resolveWithCdktf(scope: IConstruct, value: unknown): unknown {
  return Tokenization.resolve(value, { scope, resolver: RESOLVER, preparing: false });
}

/** Whether cdktf would do more with this string than keep it: resolve a token in it, or reject it. */
function stringNeedsCdktf(value: string): boolean {
  return (
    value.includes(TOKEN_MARKER) ||
    ENCODED_NUMBER.test(value) ||
    value === Token.STRING_MAP_TOKEN_VALUE ||
    value === Token.ANY_MAP_TOKEN_VALUE
  );
}

/** Whether cdktf would do more with this number than keep it. */
function numberNeedsCdktf(value: number): boolean {
  return value === Token.NUMBER_MAP_TOKEN_VALUE || Token.isUnresolved(value);
}

/**
 * Whether cdktf would do more with this array element than keep it: it may make the array a list token. A
 * number list token (`Token.asNumberList`) encodes its elements differently from a number token, and only a
 * one-element array asks cdktf's public API about that encoding.
 */
function elementNeedsCdktf(item: unknown): boolean {
  return (
    (typeof item === "string" && stringNeedsCdktf(item)) ||
    (typeof item === "number" && (numberNeedsCdktf(item) || Token.isUnresolved([item])))
  );
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function resolveAt(scope: IConstruct, value: unknown, depth: number): unknown {
  // cdktf checks the depth before anything else, leaves included.
  if (depth > MAX_DEPTH) throw new Error("deeper than cdktf resolves");
  if (value === undefined || value === null || typeof value === "boolean") return value;
  if (typeof value === "string") return stringNeedsCdktf(value) ? resolveWithCdktf(scope, value) : value;
  if (typeof value === "number") return numberNeedsCdktf(value) ? resolveWithCdktf(scope, value) : value;
  if (typeof value !== "object") return resolveWithCdktf(scope, value);
  if (Array.isArray(value)) {
    // A list token among the elements makes the whole array a list for cdktf: it resolves the array as one.
    if (value.some(elementNeedsCdktf)) return resolveWithCdktf(scope, value);
    const resolved: unknown[] = [];
    for (const item of value) {
      const result = resolveAt(scope, item, depth + 1);
      if (result !== undefined) resolved.push(result);
    }
    return resolved;
  }
  // A plain object with a `resolve` method is a token to cdktf too.
  if (!isPlainObject(value) || Tokenization.isResolvable(value)) return resolveWithCdktf(scope, value);
  const keys = Object.keys(value);
  if (keys.some(stringNeedsCdktf)) return resolveWithCdktf(scope, value);
  const resolved: Record<string, unknown> = {};
  for (const key of keys) {
    const result = resolveAt(scope, value[key], depth + 1);
    if (result !== undefined) resolved[key] = result;
  }
  return resolved;
}

/**
 * `value` with every token resolved in `scope` and every `undefined` dropped, as cdktf's resolution gives it
 * (`Tokenization.resolve` with cdktf's default resolver), without walking plain data the slow way.
 *
 * When anything fails (a function or a construct in the data, a token that cannot resolve, data deeper than
 * cdktf goes), cdktf resolves the whole value again, so that the failure is cdktf's own, with the path to the
 * value that failed.
 */
export function resolveValue(scope: IConstruct, value: unknown): unknown {
  try {
    return resolveAt(scope, value, 0);
  } catch {
    return resolveWithCdktf(scope, value);
  }
}

/** The stack's Terraform elements in cdktf's order (depth first, parents first), not those of nested stacks. */
function terraformElements(node: IConstruct, into: TerraformElement[] = []): TerraformElement[] {
  if (TerraformElement.isTerraformElement(node)) into.push(node);
  for (const child of node.node.children) {
    if (!TerraformStack.isStack(child)) terraformElements(child, into);
  }
  return into;
}

/** The overrides given to the stack itself (`stack.addOverride`), which cdktf keeps in a private field. */
function stackOverrides(stack: TerraformStack): Record<string, unknown> {
  const overrides = (stack as unknown as { rawOverrides?: unknown }).rawOverrides;
  if (typeof overrides !== "object" || overrides === null) {
    throw new Error(
      "cdktf's TerraformStack no longer keeps its overrides in `rawOverrides`; update stacks/stack-render.ts " +
        "to this cdktf release",
    );
  }
  return overrides as Record<string, unknown>;
}

/** `stack.toTerraform()` as cdktf's `TerraformStack` renders it: the same JSON, resolved by {@link resolveValue}. */
export function renderStack(stack: TerraformStack): Record<string, unknown> {
  const overrides = stackOverrides(stack);
  const metadata: Record<string, unknown> = {
    version: stack.node.tryGetContext("cdktfVersion"),
    stackName: stack.node.id,
    backend: "local", // the backend's metadata overwrites it
    cloud: undefined,
    ...(Object.keys(overrides).length > 0 ? { overrides: { stack: Object.keys(overrides) } } : {}),
  };
  const elements = terraformElements(stack);
  const metadatas = elements.map((element) => resolveValue(stack, element.toMetadata()));
  for (const meta of metadatas) deepMerge(metadata, meta as Record<string, unknown>);

  const outputs: Record<string, unknown> = {};
  for (const element of elements) {
    if (!TerraformOutput.isTerraformOutput(element)) continue;
    // `a/b/c` becomes { a: { b: { c: <the output's name> } } }.
    const nested = element.node.path
      .split("/")
      .reduceRight<unknown>((inner, part) => ({ [part]: inner }), element.friendlyUniqueId);
    deepMerge(outputs, nested as Record<string, unknown>);
  }

  const tf: Record<string, unknown> = { "//": { metadata, outputs } };
  const fragments = elements.map((element) => resolveValue(stack, element.toTerraform()));
  for (const fragment of fragments) deepMerge(tf, fragment as Record<string, unknown>);
  deepMerge(tf, overrides);
  // cdktf resolves the whole stack once more here. The fragments are resolved already and merging them adds
  // nothing to resolve, so only what may still hold a token or an undefined value is: the metadata, and the
  // blocks that the stack's own overrides went into.
  for (const key of ["//", ...Object.keys(overrides)]) {
    if (!(key in tf)) continue;
    const resolved = resolveValue(stack, tf[key]);
    if (resolved === undefined) delete tf[key];
    else tf[key] = resolved;
  }
  return tf;
}
