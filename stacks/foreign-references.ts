/**
 * References that leave a stack. Stacks here agree on names and ARNs (`constructs/core/naming.ts`,
 * `constructs/core/arn.ts`) and never refer to another stack's resources: such a reference would need that
 * stack's state to plan. `MlopsStack` skips cdktf's preparation pass, which would have turned one into a
 * remote-state lookup, and refuses one instead, with this check.
 */
import { interpolations } from "../constructs/policy/engine";

/** A resource, data source or ephemeral resource address at the start of a reference. */
const ADDRESS = /(?<![\w.])((?:data\.|ephemeral\.)?[a-z][a-z0-9]*_[a-z0-9_]*\.[A-Za-z_][\w-]*)/g;

/** The blocks that declare addresses, and the prefix their addresses take. */
const DECLARING: Readonly<Record<string, string>> = { resource: "", data: "data.", ephemeral: "ephemeral." };

/**
 * The addresses that interpolations in a rendered stack refer to but that the stack does not declare
 * (sorted, each once): references to another stack's resources.
 */
export function foreignReferences(json: Readonly<Record<string, unknown>>): string[] {
  const declared = new Set<string>();
  for (const [block, prefix] of Object.entries(DECLARING)) {
    const byType = (json[block] ?? {}) as Record<string, Record<string, unknown>>;
    for (const [type, byName] of Object.entries(byType)) {
      for (const name of Object.keys(byName)) declared.add(`${prefix}${type}.${name}`);
    }
  }
  const foreign = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      for (const expression of interpolations(value)) {
        for (const [, address] of expression.matchAll(ADDRESS)) {
          if (!declared.has(address)) foreign.add(address);
        }
      }
    } else if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) if (key !== "//") visit(item);
    }
  };
  for (const [block, value] of Object.entries(json))
    if (block !== "terraform" && block !== "//") visit(value);
  return [...foreign].sort();
}
