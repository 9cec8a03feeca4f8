/**
 * Test helpers: synthesized stacks as parsed JSON (and, re-exported, environment configurations with patches).
 */
import { Testing, type TerraformStack } from "cdktf";
import type { EnvironmentConfig } from "../../environments/schema";
import { buildApp, type EnvironmentStacks } from "../../stacks/app";

export { ROOT, configFor, rawEnvironment, type Patch } from "./config";

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
