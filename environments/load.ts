/**
 * Reads environment files, validates them against the schema of their tier, and reports every problem as
 * `file:line:col path: message`, so that a mistake is found in the editor, not in a stack trace.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
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
  const files = environmentFiles(dir);
  const configs: EnvironmentConfig[] = [];
  const problems: EnvironmentProblem[] = [];
  // A `.yml` file would otherwise be skipped without a word, and its environment never synthesized.
  for (const name of readdirSync(dir).filter((entry) => entry.endsWith(".yml") && !entry.startsWith("."))) {
    problems.push({
      file: displayPath(join(dir, name)),
      line: 1,
      column: 1,
      path: "",
      message: `is not read: environment files end in .yaml; rename it to ${name.replace(/\.yml$/, ".yaml")}`,
    });
  }
  for (const file of files) {
    const result = parseEnvironment(readFileSync(file, "utf8"), displayPath(file));
    if (result.ok) configs.push(result.config);
    else problems.push(...result.problems);
  }
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
  if (problems.length > 0) throw new EnvironmentConfigError(problems);
  return only.length === 0 ? configs : configs.filter((config) => only.includes(config.name));
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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, path: string, message: string): EnvironmentProblem => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col, path, message };
  };

  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => at(error.pos[0], "", `invalid YAML: ${firstLine(error.message)}`)),
    };
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return { ok: false, problems: [at(0, "", "must be a mapping of settings (name, tier, aws, tags...)")] };
  }

  const tier = (data as Record<string, unknown>).tier;
  if (!TIERS.includes(tier as Tier)) {
    const message =
      tier === undefined ? `is required (one of ${TIERS.join(", ")})` : `must be one of ${TIERS.join(", ")}`;
    return { ok: false, problems: [locate(doc, ["tier"], at, message)] };
  }

  const parsed = environmentSchema(tier as Tier).safeParse(data);
  const problems = parsed.success
    ? []
    : parsed.error.issues.flatMap((issue) => describeIssue(doc, issue, at));

  const expectedName = basename(file).replace(/\.yaml$/, "");
  const name = (data as Record<string, unknown>).name;
  if (typeof name === "string" && name !== expectedName) {
    problems.push(locate(doc, ["name"], at, `must equal the file name (${expectedName})`));
  }
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  return { ok: true, config: (parsed as { data: EnvironmentConfig }).data };
}

type At = (offset: number, path: string, message: string) => EnvironmentProblem;
type PathKey = PropertyKey;

function describeIssue(doc: Document, issue: core.$ZodIssue, at: At): EnvironmentProblem[] {
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
  return [locate(doc, issue.path, at, describeMessage(doc, issue), issue.code === "invalid_key")];
}

/** The start of zod's own messages; the schema's custom messages are already in the project's voice. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized)/;

/** Turns zod's messages into the project's voice: "must be ...", "is required". */
function describeMessage(doc: Document, issue: core.$ZodIssue): string {
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type": {
      const present = doc.hasIn(issue.path as PathKey[]);
      return present ? `must be ${article(issue.expected)}` : "is required";
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

/**
 * The problem at `path`: the value's position when it is in the file, the key's for unknown keys, and the
 * closest enclosing key the file does have when the value is missing.
 */
function locate(
  doc: Document,
  path: readonly PathKey[],
  at: At,
  message: string,
  atKey = false,
): EnvironmentProblem {
  const shown = formatPath(path);
  let node: Node | null = doc.contents;
  let offset = node?.range?.[0] ?? 0;
  // Where the last key found starts: a missing value is reported at the key that should hold it.
  let keyOffset = offset;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) return at(keyOffset, shown, message);
      const key = pair.key as Node;
      const last = i === path.length - 1;
      const value = pair.value as Node | null;
      keyOffset = key.range?.[0] ?? keyOffset;
      offset = (last && atKey) || !value?.range ? keyOffset : value.range[0];
      node = value;
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
      node = node.items[segment] as Node;
      offset = node.range?.[0] ?? offset;
      keyOffset = offset;
    } else {
      return at(keyOffset, shown, message);
    }
  }
  return at(offset, shown, message);
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

/** Without duplicates, by position, then by path in code-unit order (the same on every machine). */
function sortProblems(problems: EnvironmentProblem[]): EnvironmentProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((problem) => {
      const key = formatProblem(problem);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column || compareCodeUnits(a.path, b.path));
}

function firstLine(message: string): string {
  return message.split("\n")[0].trim();
}

/** Paths in messages are relative to the working directory, so they are clickable and machine-independent. */
function displayPath(file: string): string {
  const shown = relative(process.cwd(), file);
  return shown.startsWith("..") || shown === "" ? file : shown;
}
