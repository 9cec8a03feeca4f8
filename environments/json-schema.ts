import { z } from "zod";
import { environmentSchema } from "./schema";

/**
 * The JSON Schema of environment files, for editors. Defaults depend on the tier, so the schema carries
 * none (a default shown by an editor would be wrong for two tiers of three).
 */
export function environmentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(environmentSchema("dev"), { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return {
    ...stripDefaults(schema),
    $id: "environment.schema.json",
    title: "MLOps platform environment",
    description:
      "One environment (dev, test, prod...) of the MLOps platform. Defaults depend on the tier: see environments/schema.ts.",
  };
}

function stripDefaults<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripDefaults) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "default")
        .map(([key, inner]) => [key, stripDefaults(inner)]),
    ) as T;
  }
  return value;
}
