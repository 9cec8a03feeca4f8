/**
 * Property-based tests of the environment files: random valid files synthesize and pass the policy pack;
 * random invalid ones are rejected with a field path and line:column, never a crash or a stack trace.
 * numRuns stays small because each valid run synthesizes a whole environment.
 */
import fc from "fast-check";
import { Testing } from "cdktf";
import { stringify } from "yaml";
import type { PolicyLevel } from "../../constructs/policy/engine";
import { RULES } from "../../constructs/policy/rules";
import { parseEnvironment, type EnvironmentProblem } from "../../environments/load";
import { LOG_RETENTION_DAYS } from "../../environments/schema";
import { TIERS, type Tier } from "../../environments/tier";
import { allStacks, buildApp } from "../../stacks/app";

const FILE = "environments/fuzz.yaml";
const REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-2"] as const;

const word = (min: number, max: number) =>
  fc
    .stringMatching(new RegExp(`^[a-z][a-z0-9]{${min - 1},${max - 1}}$`))
    .filter((s) => s.length >= min && s.length <= max);

/** The policy levels a tier accepts for a rule: critical rules stay at error outside dev. */
function policyRules(tier: Tier): fc.Arbitrary<[string, PolicyLevel][]> {
  return fc
    .uniqueArray(fc.constantFrom(...RULES), { maxLength: 4, selector: (rule) => rule.id })
    .chain((rules) => {
      const levels = (critical: boolean): PolicyLevel[] =>
        tier !== "dev" && critical ? ["error"] : ["error", "warn", "off"];
      const entries = rules.map((rule) =>
        fc.tuple(fc.constant(rule.id), fc.constantFrom(...levels(rule.severity === "critical"))),
      );
      return fc.tuple(...entries) as fc.Arbitrary<[string, PolicyLevel][]>;
    });
}

/** A valid, safe environment file (as a plain object) over the knobs of the schema. */
const validEnvironment = fc.constantFrom(...TIERS).chain((tier) =>
  fc
    .record({
      project: fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{1,10}[a-z0-9]$/), { nil: undefined }),
      accountId: fc.stringMatching(/^\d{12}$/),
      region: fc.constantFrom(...REGIONS),
      zones: fc.subarray(["a", "b", "c"], { minLength: tier === "prod" ? 2 : 1 }),
      assumeRole: fc.boolean(),
      owner: word(2, 12),
      costCenter: word(2, 12),
      preventDestroy: tier === "dev" ? fc.boolean() : fc.constant(true),
      keyDeletionWindowDays: tier === "dev" ? fc.integer({ min: 7, max: 30 }) : fc.constant(30),
      vpcSecondOctet: fc.integer({ min: 0, max: 255 }),
      natGateways: fc.option(fc.constantFrom("single", "per-az"), { nil: undefined }),
      retentionDays: fc.option(fc.constantFrom(...LOG_RETENTION_DAYS), { nil: undefined }),
      rules: policyRules(tier),
    })
    .map((k) => ({
      name: "fuzz",
      tier,
      ...(k.project ? { project: k.project } : {}),
      aws: {
        accountId: k.accountId,
        region: k.region,
        availabilityZones: k.zones.map((z) => `${k.region}${z}`),
        ...(k.assumeRole ? { assumeRoleArn: `arn:aws:iam::${k.accountId}:role/deploy` } : {}),
      },
      tags: { owner: k.owner, costCenter: k.costCenter },
      protection: { preventDestroy: k.preventDestroy, keyDeletionWindowDays: k.keyDeletionWindowDays },
      network: {
        vpcCidr: `10.${k.vpcSecondOctet}.0.0/16`,
        ...(k.natGateways ? { natGateways: k.natGateways } : {}),
      },
      ...(k.retentionDays ? { logs: { retentionDays: k.retentionDays } } : {}),
      // Test and prod need someone to tell.
      monitoring: {
        alerts: { subscriptions: { oncall: { protocol: "email", endpoint: "oncall@example.com" } } },
      },
      ...(k.rules.length > 0 ? { policy: { rules: Object.fromEntries(k.rules) } } : {}),
      // A self-hosted registry's database needs two zones.
      ...(k.zones.length < 2 ? { modelRegistry: { backend: "sagemaker-managed" } } : {}),
    })),
);

type Path = (string | number)[];

/** Every path in `value` that leads to a scalar or array (the knobs a mutation can break). */
function leafPaths(value: unknown, path: Path = []): Path[] {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...path, key]));
  }
  return [path];
}

function objectPaths(value: unknown, path: Path = []): Path[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [];
  return [path, ...Object.entries(value).flatMap(([key, child]) => objectPaths(child, [...path, key]))];
}

function setAt(root: Record<string, unknown>, path: Path, value: unknown): Record<string, unknown> {
  const copy = structuredClone(root);
  let node = copy as Record<string | number, unknown>;
  path.slice(0, -1).forEach((key) => (node = node[key] as Record<string | number, unknown>));
  node[path[path.length - 1]] = value;
  return copy;
}

function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}

/** A value of a different type than `current`. */
function wrongType(current: unknown) {
  const options: fc.Arbitrary<unknown>[] = [];
  if (typeof current !== "number") options.push(fc.integer());
  if (typeof current !== "boolean") options.push(fc.boolean());
  if (typeof current !== "string") options.push(fc.string({ minLength: 1, maxLength: 8 }));
  if (!Array.isArray(current)) options.push(fc.constant(["x"]));
  options.push(fc.constant({ nested: 1 }));
  return fc.oneof(...options);
}

/** `[file as YAML, the path whose problem must be reported]`. */
const invalidEnvironment = validEnvironment.chain((env) => {
  const leaves = leafPaths(env).filter(
    (p) => p[0] !== "name" && !(p[0] === "aws" && p[1] === "assumeRoleArn"),
  );
  const wrongTypeMutation = fc
    .constantFrom(...leaves)
    .chain((path) => wrongType(getAt(env, path)).map((value) => [setAt(env, path, value), path] as const));
  const unknownKey = fc
    .tuple(fc.constantFrom(...objectPaths(env)), fc.stringMatching(/^[a-z][a-zA-Z]{2,10}$/))
    .filter(
      ([path, key]) =>
        !Object.keys(getAt(env, path) as object).includes(key) &&
        !(
          path.length === 0 && ["project", "state", "protection", "network", "logs", "policy"].includes(key)
        ) &&
        !(path.join(".") === "policy.rules"),
    )
    .map(
      ([path, key]) =>
        [path.length === 0 ? { ...env, [key]: 1 } : setAt(env, [...path, key], 1), [...path, key]] as const,
    );
  const outOfRange = fc.oneof(
    fc
      .oneof(fc.integer({ min: -100, max: 6 }), fc.integer({ min: 31, max: 10000 }))
      .map(
        (days) =>
          [
            setAt(env, ["protection", "keyDeletionWindowDays"], days),
            ["protection", "keyDeletionWindowDays"],
          ] as const,
      ),
    fc
      .integer({ min: 0, max: 5000 })
      .filter((d) => !(LOG_RETENTION_DAYS as readonly number[]).includes(d))
      .map((days) => [{ ...env, logs: { retentionDays: days } }, ["logs", "retentionDays"]] as const),
  );
  const badEnum = fc.oneof(
    word(3, 8)
      .filter((w) => !["single"].includes(w))
      .map((value) => [setAt(env, ["network", "natGateways"], value), ["network", "natGateways"]] as const),
    fc
      .constantFrom("block", "ignore", "fatal")
      .map(
        (level) =>
          [
            { ...env, policy: { rules: { "MLOPS-S3-005": level } } },
            ["policy", "rules", "MLOPS-S3-005"],
          ] as const,
      ),
    fc.constantFrom("staging", "production", "DEV").map((tier) => [{ ...env, tier }, ["tier"]] as const),
  );
  return fc
    .oneof(wrongTypeMutation, unknownKey, outOfRange, badEnum)
    .map(([file, path]) => [stringify(file), path] as const);
});

function formatted(path: readonly (string | number)[]): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? key : `.${key}`)).join("");
}

describe("environment files, fuzzed", () => {
  it("random valid files synthesize and pass the policy pack", () => {
    fc.assert(
      fc.property(validEnvironment, (env) => {
        const result = parseEnvironment(stringify(env), FILE);
        if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
        const { stacks } = buildApp({
          environments: [result.config],
          offline: true,
          outdir: Testing.app().outdir,
        });
        for (const stack of allStacks(stacks.get("fuzz")!)) {
          Testing.synth(stack, true);
          expect(stack.policy.findings().filter((f) => f.result === "fail")).toEqual([]);
        }
      }),
      { numRuns: 10 },
    );
  });

  it("random invalid files are rejected at the broken field with line:column, never with a crash", () => {
    fc.assert(
      fc.property(invalidEnvironment, ([text, path]) => {
        const result = parseEnvironment(text, FILE);
        expect(result.ok).toBe(false);
        const problems = (result as { problems: EnvironmentProblem[] }).problems;
        for (const problem of problems) {
          expect(problem.line).toBeGreaterThanOrEqual(1);
          expect(problem.column).toBeGreaterThanOrEqual(1);
          expect(problem.message).not.toMatch(/\n\s+at |Error:|undefined/);
        }
        const expected = formatted(path);
        expect(
          problems.some(
            (p) =>
              p.path === expected ||
              p.path.startsWith(`${expected}.`) ||
              p.path.startsWith(`${expected}[`) ||
              expected.startsWith(`${p.path}.`),
          ),
        ).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});
