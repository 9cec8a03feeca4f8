/**
 * Test helpers: environment configurations with patches. Kept apart from the synth helpers, which load every
 * stack and provider module: a test of configuration alone loads in a fraction of the time.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { parseEnvironment } from "../../environments/load";
import type { EnvironmentConfig } from "../../environments/schema";

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
