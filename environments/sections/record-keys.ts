import type { z } from "zod";

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
