/**
 * Test helpers: environment configurations with patches, and synthesized stacks as parsed JSON.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing, type TerraformStack } from "cdktf";
import { parse } from "yaml";
import { parseEnvironment } from "../../environments/load";
import type { EnvironmentConfig } from "../../environments/schema";
import { buildApp, type EnvironmentStacks } from "../../stacks/app";

export const ROOT = join(__dirname, "..", "..");

/** A deep-partial patch of an environment file, merged over the file before validation. */
export type Patch = { [key: string]: unknown };

function merge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (
    base &&
    patch &&
    typeof base === "object" &&
    typeof patch === "object" &&
    !Array.isArray(base) &&
    !Array.isArray(patch)
  ) {
    const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [key, value] of Object.entries(patch as Record<string, unknown>))
      result[key] = merge(result[key], value);
    return result;
  }
  return patch;
}

/** The YAML object of `environments/<name>.yaml`, with `patch` merged over it. */
export function rawEnvironment(name: string, patch: Patch = {}): Record<string, unknown> {
  const raw = parse(readFileSync(join(ROOT, "environments", `${name}.yaml`), "utf8")) as Record<
    string,
    unknown
  >;
  return merge(raw, patch) as Record<string, unknown>;
}

/**
 * The validated configuration of `environments/<name>.yaml` with `patch` merged over the file (so tier
 * defaults still apply to what the patch leaves out). Throws with the loader's messages when invalid.
 */
export function configFor(name: string, patch: Patch = {}): EnvironmentConfig {
  const result = parseEnvironment(JSON.stringify(rawEnvironment(name, patch)), `${name}.yaml`);
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
  return result.config;
}

/** A synthesized stack: the parsed `cdk.tf.json`. */
export interface StackJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, Record<string, unknown>>;
  readonly provider?: Record<string, Record<string, unknown>[]>;
  readonly terraform?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** Synthesizes one stack (aspects included) and parses it. */
export function synthStack(stack: TerraformStack): StackJson {
  return JSON.parse(Testing.synth(stack)) as StackJson;
}

/** Builds every stack of `config` and synthesizes each, keyed by part (`data`, `platform`...). */
export function synthEnvironment(
  config: EnvironmentConfig,
  options: { offline?: boolean } = {},
): { stacks: EnvironmentStacks; json: Record<string, StackJson> } {
  const { stacks } = buildApp({
    environments: [config],
    offline: options.offline,
    outdir: Testing.app().outdir,
  });
  const envStacks = stacks.get(config.name)!;
  const json: Record<string, StackJson> = {};
  for (const [part, stack] of Object.entries(envStacks)) json[part] = synthStack(stack as TerraformStack);
  return { stacks: envStacks, json };
}

/** The resources of `type` in a synthesized stack, keyed by logical id (empty when none). */
export function resourcesOf(json: StackJson, type: string): Record<string, Record<string, unknown>> {
  return json.resource?.[type] ?? {};
}

/** The one resource of `type`; fails when there are none or several. */
export function onlyResource(json: StackJson, type: string): Record<string, unknown> {
  const all = Object.values(resourcesOf(json, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}
