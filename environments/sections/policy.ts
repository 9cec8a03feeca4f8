/**
 * `policy:` in an environment file: the level of each rule of the policy pack (constructs/policy), where the
 * tier's default does not fit. Unknown rule ids are errors, and critical rules cannot be weakened outside dev:
 * a critical finding that is intended is suppressed on its construct, with a reason, never for a whole
 * environment.
 */
import { z } from "zod";
import { POLICY_LEVELS } from "../../constructs/policy/engine";
import { RULES } from "../../constructs/policy/rules";
import type { Tier } from "../tier";

export function policySection(tier: Tier) {
  return z
    .strictObject({
      /**
       * Level per rule id: `error` blocks synthesis, `warn` reports, `off` skips the rule.
       * @default {} (warn in dev, error in test and prod)
       */
      rules: z
        .record(z.string(), z.enum(POLICY_LEVELS, { error: `must be one of ${POLICY_LEVELS.join(", ")}` }))
        .default({}),
    })
    .superRefine((policy, ctx) => {
      for (const [id, level] of Object.entries(policy.rules)) {
        const rule = RULES.find((r) => r.id === id);
        if (!rule) {
          ctx.addIssue({
            code: "custom",
            path: ["rules", id],
            message: "is not a rule of the policy pack (see docs/policy.md)",
          });
        } else if (tier !== "dev" && rule.severity === "critical" && level !== "error") {
          ctx.addIssue({
            code: "custom",
            path: ["rules", id],
            message:
              `is critical and cannot be set to ${level} in a ${tier} environment; fix the resource, or suppress the rule ` +
              `on its construct with PolicySuppressions.add(construct, "${id}", "<reason>")`,
          });
        }
      }
    })
    .prefault({});
}
