/**
 * Orders two strings by their UTF-16 code units: the order of `Array.prototype.sort()` without a comparator,
 * and the same on every machine. `localeCompare` follows the machine's locale (a Danish locale sorts `aa` after
 * `z`; most put `_` before letters), so anything it orders in synthesized output could differ between a
 * laptop and CI. Use this to sort by a key, e.g. `entries.sort(([a], [b]) => compareCodeUnits(a, b))`.
 */
export function compareCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
