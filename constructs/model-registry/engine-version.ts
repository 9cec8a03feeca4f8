/**
 * What is wrong with a PostgreSQL `engineVersion` for RDS with automatic minor upgrades, or undefined when it
 * is a major version. It must be given as a major version only: the AWS provider keeps a configured `16`
 * while RDS runs 16.x, but reads a configured `16.4` back as the 16.x RDS moved to, and plans a downgrade
 * that RDS refuses.
 */
export function engineVersionProblem(engineVersion: string): string | undefined {
  if (/^\d+$/.test(engineVersion)) return undefined;
  const major = /^(\d+)\.\d+/.exec(engineVersion)?.[1];
  return major
    ? `must be a major version only; write "${major}". RDS upgrades minor versions automatically, and once it has, every plan would try to downgrade to ${engineVersion}, which RDS refuses`
    : "must be a PostgreSQL major version such as 16";
}
