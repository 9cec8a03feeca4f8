/**
 * `days` as the deletion window of a KMS key (`deletion_window_in_days`): how long a key scheduled for
 * deletion can still be recovered. KMS accepts whole numbers from 7 to 30; anything else would only fail at
 * apply, so it is refused at synthesis, naming `where` and the prop `name`.
 */
export function keyDeletionWindow(days: number, where: string, name = "keyDeletionWindowDays"): number {
  if (!Number.isInteger(days) || days < 7 || days > 30) {
    throw new Error(`${where}: ${name} is ${days}; KMS accepts a whole number of days from 7 to 30`);
  }
  return days;
}
