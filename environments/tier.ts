/** The tiers an environment can be; each brings its own defaults. */
export const TIERS = ["dev", "test", "prod"] as const;

/** dev: cheap and disposable; test: like prod but small; prod: redundant and protected. */
export type Tier = (typeof TIERS)[number];

/**
 * Picks a tier's value: `const t = byTier(tier); t({ dev: 1, test: 2, prod: 3 })`.
 * Used for schema defaults so each tier's choice stands side by side.
 */
export function byTier(tier: Tier) {
  return <T>(values: Record<Tier, T>): T => values[tier];
}
