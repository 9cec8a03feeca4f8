/**
 * Reads environment files, validates them against the schema of their tier, and reports every problem as
 * `file:line:col path: message`, so that a mistake is found in the editor, not in a stack trace.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";
import type { core } from "zod";
import { compareCodeUnits } from "../constructs/core/order";
import { environmentSchema, type EnvironmentConfig } from "./schema";
import { TIERS, type Tier } from "./tier";

/** One problem in one environment file. */
export interface EnvironmentProblem {
  /** The file as given to the loader (relative paths stay relative). */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path of the field, such as `aws.availabilityZones[1]`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

/** Thrown when one or more environment files are invalid; `problems` holds every one of them. */
export class EnvironmentConfigError extends Error {
  constructor(readonly problems: readonly EnvironmentProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "EnvironmentConfigError";
  }
}

/** `environments/prod.yaml:14:5 cluster.gpuNodeGroups.a100.maxSize: must be at least minSize (2)` */
export function formatProblem(problem: EnvironmentProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  return problem.path ? `${where} ${problem.path}: ${problem.message}` : `${where} ${problem.message}`;
}

/** The environment files of a folder: every `*.yaml` except hidden ones, sorted by name. */
export function environmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml") && !name.startsWith("."))
    .sort()
    .map((name) => join(dir, name));
}

/**
 * Loads every environment file of `dir` (default `environments`), validated and with tier defaults.
 * Throws one {@link EnvironmentConfigError} that lists the problems of all files.
 *
 * @param only names of the environments to return (all when empty); the others are still validated.
 */
export function loadEnvironments(dir = "environments", only: readonly string[] = []): EnvironmentConfig[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new EnvironmentConfigError([
      {
        file: displayPath(dir),
        line: 1,
        column: 1,
        path: "",
        message: "is not a folder: environment files are read from a folder (MLOPS_ENVIRONMENTS_DIR)",
      },
    ]);
  }
  const files = environmentFiles(dir);
  const configs: EnvironmentConfig[] = [];
  const problems: EnvironmentProblem[] = [];
  // A `.yml` or `.YAML` file would otherwise be skipped without a word, and its environment never synthesized.
  const misnamed = readdirSync(dir).filter(
    (entry) => /\.ya?ml$/i.test(entry) && !entry.endsWith(".yaml") && !entry.startsWith("."),
  );
  for (const name of misnamed) {
    problems.push({
      file: displayPath(join(dir, name)),
      line: 1,
      column: 1,
      path: "",
      message: `is not read: environment files end in .yaml; rename it to ${name.replace(/\.ya?ml$/i, ".yaml")}`,
    });
  }
  const loaded: LoadedFile[] = [];
  for (const file of files) {
    const { result, problemAt } = parseLocated(readFileSync(file, "utf8"), displayPath(file));
    if (result.ok) {
      configs.push(result.config);
      loaded.push({ file, config: result.config, problemAt });
    } else problems.push(...result.problems);
  }
  problems.push(...crossFileProblems(loaded, files));
  if (files.length === 0) {
    problems.push({ file: displayPath(dir), line: 1, column: 1, path: "", message: "holds no *.yaml file" });
  }
  const unknown = only.filter((name) => !configs.some((config) => config.name === name));
  if (problems.length === 0 && unknown.length > 0) {
    const known = configs.map((config) => config.name).join(", ");
    problems.push({
      file: displayPath(dir),
      line: 1,
      column: 1,
      path: "",
      message: `has no environment named ${unknown.join(", ")} (known: ${known})`,
    });
  }
  if (problems.length > 0) throw new EnvironmentConfigError(sortProblems(problems));
  return only.length === 0 ? configs : configs.filter((config) => only.includes(config.name));
}

/** A valid environment file, with a way to report a problem at one of its settings. */
interface LoadedFile {
  /** The file's path as found in the folder. */
  readonly file: string;
  readonly config: EnvironmentConfig;
  readonly problemAt: (path: readonly PathKey[], message: string) => EnvironmentProblem;
}

/** The name of the environment a file holds (`environments/prod.yaml` → `prod`). */
function environmentNameOf(file: string): string {
  return basename(file).replace(/\.yaml$/, "");
}

/**
 * What no single file shows: a GitHub deploy environment that is another environment's, and more than one
 * environment of an account creating the account's one GitHub OIDC provider.
 */
function crossFileProblems(loaded: readonly LoadedFile[], files: readonly string[]): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  for (const { file, config, problemAt } of loaded) {
    config.ci.github.deployEnvironments?.forEach((environment, index) => {
      // GitHub environment names are case-insensitive: DEV is the GitHub environment dev.
      const other = files.find(
        (candidate) =>
          candidate !== file && environmentNameOf(candidate).toLowerCase() === environment.toLowerCase(),
      );
      if (other === undefined) return;
      const otherName = environmentNameOf(other);
      problems.push(
        problemAt(
          ["ci", "github", "deployEnvironments", index],
          `names ${environment}, the GitHub environment that deploys ${displayPath(other)}: its jobs, under ` +
            `${otherName}'s protection rules, would get the deploy role of ${displayPath(file)}; list only ` +
            `GitHub environments that deploy ${config.name}`,
        ),
      );
    });
  }
  const creators = new Map<string, LoadedFile[]>();
  for (const entry of loaded) {
    const { github } = entry.config.ci;
    // Without a repository no CI identity, and no provider, is created.
    if (!github.repository || !github.createOidcProvider) continue;
    const account = entry.config.aws.accountId;
    creators.set(account, [...(creators.get(account) ?? []), entry]);
  }
  for (const [account, entries] of creators) {
    if (entries.length < 2) continue;
    const all = entries.map((entry) => displayPath(entry.file));
    for (const entry of entries) {
      const others = all.filter((shown) => shown !== displayPath(entry.file));
      problems.push(
        entry.problemAt(
          ["ci", "github", "createOidcProvider"],
          `creates the GitHub OIDC provider of account ${account}, and so does ${others.join(" and ")}: an ` +
            `account holds one provider per URL, so the second apply fails; set it false in all but one of ` +
            `${all.join(", ")}`,
        ),
      );
    }
  }
  return problems;
}

/** Loads one environment file. */
export function loadEnvironmentFile(file: string): EnvironmentConfig {
  const result = parseEnvironment(readFileSync(file, "utf8"), displayPath(file));
  if (!result.ok) throw new EnvironmentConfigError(result.problems);
  return result.config;
}

export type ParseResult =
  | { readonly ok: true; readonly config: EnvironmentConfig }
  | { readonly ok: false; readonly problems: EnvironmentProblem[] };

/**
 * Validates the text of one environment file. `file` names it in problems; its base name (without
 * `.yaml`) must equal the environment's `name`.
 */
export function parseEnvironment(text: string, file: string): ParseResult {
  return parseLocated(text, file).result;
}

/** {@link parseEnvironment}, and a way to report a problem at a setting of the file afterwards. */
function parseLocated(
  text: string,
  file: string,
): { result: ParseResult; problemAt: (path: readonly PathKey[], message: string) => EnvironmentProblem } {
  const lineCounter = new LineCounter();
  // Merge keys (`<<: *defaults`) let one entry start from another; keys written beside them win.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const at = (offset: number, path: string, message: string): EnvironmentProblem => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col, path, message };
  };
  const problemAt = (path: readonly PathKey[], message: string) => locate(doc, path, at, message);
  const failed = (problems: EnvironmentProblem[]) => ({
    result: { ok: false as const, problems },
    problemAt,
  });

  if (doc.errors.length > 0) {
    return failed(
      doc.errors.map((error) => at(error.pos[0], "", `invalid YAML: ${firstLine(error.message)}`)),
    );
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return failed([at(0, "", "must be a mapping of settings (name, tier, aws, tags...)")]);
  }

  const tier = (data as Record<string, unknown>).tier;
  if (!TIERS.includes(tier as Tier)) {
    const message =
      tier === undefined ? `is required (one of ${TIERS.join(", ")})` : `must be one of ${TIERS.join(", ")}`;
    return failed([locate(doc, ["tier"], at, message)]);
  }

  const parsed = environmentSchema(tier as Tier).safeParse(data);
  const problems = parsed.success
    ? []
    : parsed.error.issues.flatMap((issue) => describeIssue(doc, data, issue, at));

  const expectedName = environmentNameOf(file);
  const name = (data as Record<string, unknown>).name;
  if (typeof name === "string" && name !== expectedName) {
    problems.push(locate(doc, ["name"], at, `must equal the file name (${expectedName})`));
  }
  if (problems.length > 0) return failed(sortProblems(problems));
  return { result: { ok: true, config: (parsed as { data: EnvironmentConfig }).data }, problemAt };
}

type At = (offset: number, path: string, message: string) => EnvironmentProblem;
type PathKey = PropertyKey;

function describeIssue(doc: Document, data: unknown, issue: core.$ZodIssue, at: At): EnvironmentProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return locate(
        doc,
        path,
        at,
        "is not a known setting (check the spelling; unknown keys are errors)",
        true,
      );
    });
  }
  // A record key that is not valid is reported at the key, not at its value.
  return [locate(doc, issue.path, at, describeMessage(doc, data, issue), issue.code === "invalid_key")];
}

/** The start of zod's own messages; the schema's custom messages are already in the project's voice. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized)/;

/** Turns zod's messages into the project's voice: "must be ...", "is required". */
function describeMessage(doc: Document, data: unknown, issue: core.$ZodIssue): string {
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type": {
      const found = find(doc, issue.path);
      if (!found.complete) return "is required";
      const value = valueAt(data, issue.path);
      if (issue.expected === "string" && typeof value === "number") {
        // YAML reads 1.30 as 1.3: show the value as the file has it when the node says so.
        const node = resolved(doc, found.node);
        const written = isScalar(node) && node.source ? node.source : String(value);
        const reads = written === String(value) ? "as a number" : `as the number ${value}`;
        return `must be a string, and YAML reads ${written} ${reads}: put it in quotes ("${written}")`;
      }
      return `must be ${article(issue.expected)}`;
    }
    case "too_small": {
      const bound = Number(issue.minimum);
      const inclusive = issue.inclusive !== false;
      if (issue.origin === "array") return `must list at least ${bound} item${bound === 1 ? "" : "s"}`;
      if (issue.origin === "string")
        return bound <= 1 ? "must not be empty" : `must be at least ${bound} characters`;
      return inclusive ? `must be at least ${bound}` : `must be greater than ${bound}`;
    }
    case "too_big": {
      const bound = Number(issue.maximum);
      const inclusive = issue.inclusive !== false;
      if (issue.origin === "array") return `must list at most ${bound} items`;
      if (issue.origin === "string") return `must be at most ${bound} characters`;
      return inclusive ? `must be at most ${bound}` : `must be less than ${bound}`;
    }
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => String(value)).join(", ")}`;
    case "invalid_format":
      return `must be a valid ${issue.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}

function article(type: string): string {
  if (type === "int") return "a whole number";
  if (type === "array") return "a list";
  if (type === "object") return "a mapping";
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** The value at `path` of the parsed file. */
function valueAt(data: unknown, path: readonly PathKey[]): unknown {
  return path.reduce<unknown>(
    (value, key) =>
      value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    data,
  );
}

/** The node an alias (`*name`) stands for; any other node itself. */
function resolved(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** A `<<` key, which merges the mapping (or the list of mappings) it holds into its own mapping. */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === "symbol" && key.value.description === "<<";
}

/**
 * The pair of `map` that gives `key` its value: its own, else that of the first mapping it merges that has
 * one (the same precedence as the parser's).
 */
function pairOf(doc: Document, map: YAMLMap, key: string, seen = new Set<unknown>()): Pair | undefined {
  seen.add(map);
  const own = map.items.find(
    (item) => isScalar(item.key) && !isMergeKey(item.key) && String(item.key.value) === key,
  );
  if (own) return own;
  for (const item of map.items.filter((candidate) => isMergeKey(candidate.key))) {
    const value = resolved(doc, item.value);
    for (const source of isSeq(value) ? value.items : [value]) {
      const merged = resolved(doc, source);
      if (!isMap(merged) || seen.has(merged)) continue;
      const pair = pairOf(doc, merged, key, seen);
      if (pair) return pair;
    }
  }
  return undefined;
}

/** Where `path` leads in the file: how far it goes, and the node and the positions it reached. */
interface Found {
  /** Whether every segment of the path is in the file (its value may be empty). */
  readonly complete: boolean;
  readonly node: unknown;
  /** The start of the last value found (of its key with `atKey`, or when the value is empty). */
  readonly offset: number;
  /** The start of the last key found. */
  readonly keyOffset: number;
}

/** Follows `path` through the file, into the anchors that aliases and merge keys use. */
function find(doc: Document, path: readonly PathKey[], atKey = false): Found {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  // Where the last key found starts: a missing value is reported at the key that should hold it.
  let keyOffset = offset;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const container = resolved(doc, node);
    if (isMap(container)) {
      const pair = pairOf(doc, container, String(segment));
      if (!pair) return { complete: false, node: undefined, offset: keyOffset, keyOffset };
      const key = pair.key as Node;
      const last = i === path.length - 1;
      const value = pair.value as Node | null;
      keyOffset = key.range?.[0] ?? keyOffset;
      offset = (last && atKey) || !value?.range ? keyOffset : value.range[0];
      node = value;
    } else if (isSeq(container) && typeof segment === "number" && container.items[segment]) {
      node = container.items[segment];
      offset = (node as Node).range?.[0] ?? offset;
      keyOffset = offset;
    } else {
      return { complete: false, node: undefined, offset: keyOffset, keyOffset };
    }
  }
  return { complete: true, node, offset, keyOffset };
}

/**
 * The problem at `path`: the value's position when it is in the file, the key's for unknown keys, and the
 * closest enclosing key the file does have when the value is missing. A value a merge key (`<<: *anchor`)
 * brings is reported where the anchored mapping has it.
 */
function locate(
  doc: Document,
  path: readonly PathKey[],
  at: At,
  message: string,
  atKey = false,
): EnvironmentProblem {
  return at(find(doc, path, atKey).offset, formatPath(path), message);
}

function formatPath(path: readonly PathKey[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === "number") return `[${segment}]`;
      const key = String(segment);
      const plain = /^[A-Za-z_][\w-]*$/.test(key);
      if (!plain) return `[${JSON.stringify(key)}]`;
      return index === 0 ? key : `.${key}`;
    })
    .join("");
}

/** Without duplicates, by file and position, then by path in code-unit order (the same on every machine). */
function sortProblems(problems: EnvironmentProblem[]): EnvironmentProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((problem) => {
      const key = formatProblem(problem);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort(
      (a, b) =>
        compareCodeUnits(a.file, b.file) ||
        a.line - b.line ||
        a.column - b.column ||
        compareCodeUnits(a.path, b.path),
    );
}

function firstLine(message: string): string {
  return message.split("\n")[0].trim();
}

/** Paths in messages are relative to the working directory, so they are clickable and machine-independent. */
function displayPath(file: string): string {
  const shown = relative(process.cwd(), file);
  return shown.startsWith("..") || shown === "" ? file : shown;
}
