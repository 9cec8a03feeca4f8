/**
 * Checks shared by the sections' records keyed by name (buckets, repositories, node groups, teams,
 * endpoints, services).
 */
import type { z } from "zod";
import { pascalCase } from "../../constructs/core/naming";

/**
 * Refuses `name: null` for a name that is not one of `defaults`: `null` removes a default entry, so on any
 * other name it removes nothing, and is most likely a misspelt default that would then stay.
 */
export function removesNothing(
  declared: Readonly<Record<string, unknown>>,
  defaults: readonly string[],
  what: string,
  ctx: z.RefinementCtx,
): void {
  for (const [name, settings] of Object.entries(declared)) {
    if (settings !== null || defaults.includes(name)) continue;
    ctx.addIssue({
      code: "custom",
      path: [name],
      message: `removes nothing: null removes a default ${what} (${defaults.join(", ")}), and ${name} is not one`,
    });
  }
}

/**
 * The names whose construct id (`churn--gpu` → `ChurnGpu`: the stacks derive ids of records' entries with
 * pascalCase) an earlier name of `names` has already, each with that earlier name and the id. Two entries
 * with one id end the synth in "There is already a Construct with name".
 */
export function constructIdCollisions(names: readonly string[]): [name: string, other: string, id: string][] {
  const firstById = new Map<string, string>();
  const collisions: [string, string, string][] = [];
  for (const name of names) {
    const id = pascalCase(name);
    const other = firstById.get(id);
    if (other === undefined) firstById.set(id, name);
    else collisions.push([name, other, id]);
  }
  return collisions;
}

/** Reports each entry of `names` (a record at `path`) whose construct id an earlier one has. */
export function refuseConstructIdCollisions(
  names: readonly string[],
  what: string,
  ctx: z.RefinementCtx,
  path: readonly PropertyKey[] = [],
): void {
  for (const [name, other, id] of constructIdCollisions(names)) {
    ctx.addIssue({
      code: "custom",
      path: [...path, name],
      message: `makes the same construct id as ${other} (${id}: ids drop the hyphens and capitalise the letter after one), and two ${what} cannot share one; rename one of them`,
    });
  }
}
