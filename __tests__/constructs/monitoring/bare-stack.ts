/** A bare stack for one construct test: build into it, synthesize once, assert on the JSON. */
import { TerraformStack, Testing } from "cdktf";
import { synthStack, type StackJson } from "../../helpers/synth";

export const LOCATION = { accountId: "111111111111", region: "eu-west-1" } as const;

export function synthBare(build: (stack: TerraformStack) => void): StackJson {
  const stack = new TerraformStack(Testing.app(), "test");
  build(stack);
  return synthStack(stack);
}

/** Parses a JSON policy document held in a resource attribute. */
export function policyOf(
  resource: Record<string, unknown>,
  attribute = "policy",
): {
  Statement: Record<string, unknown>[];
} {
  return JSON.parse(resource[attribute] as string) as { Statement: Record<string, unknown>[] };
}

/** The statement with `sid`; fails when absent. */
export function statement(
  resource: Record<string, unknown>,
  sid: string,
  attribute = "policy",
): Record<string, unknown> {
  const found = policyOf(resource, attribute).Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
}
