/**
 * Jest global setup: every temporary file of a test run goes into one directory, which
 * `global-teardown.ts` removes when the run ends. cdktf's `Testing.app()` makes an output directory in the
 * system's temporary directory for each app and never removes it (about 150 per run), and tests and the
 * processes they start make their own; runs used to leave them all behind.
 *
 * `TMPDIR` (and `TMP`, `TEMP` on Windows) point at a fresh directory before jest starts its workers, which
 * inherit it, as do the processes tests spawn; `os.tmpdir()` reads it on every call. tsx keeps its cache of
 * compiled TypeScript in the temporary directory (`tsx-<effective uid>`): a link to the system's keeps it warm
 * across runs for the processes tests start with tsx.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

/** The run's temporary directory. */
export const TEST_TMPDIR_VARIABLE = "MLOPS_TEST_TMPDIR";
/** The system's temporary directory, as it was before the run. */
export const SYSTEM_TMPDIR_VARIABLE = "MLOPS_TEST_SYSTEM_TMPDIR";

/**
 * The name of tsx's cache directory, as tsx 4 names it: by the effective user id where the platform has one.
 * Not `os.userInfo()`, which throws for a user id without a passwd entry (`docker run -u 1000:1000`).
 */
export function tsxCacheName(): string {
  return `tsx-${process.geteuid?.() ?? userInfo().username}`;
}

export default function setup(): void {
  const system = tmpdir();
  const directory = mkdtempSync(join(system, "mlops-jest-"));
  const tsxCache = tsxCacheName();
  mkdirSync(join(system, tsxCache), { recursive: true });
  symlinkSync(join(system, tsxCache), join(directory, tsxCache), "junction");
  process.env[SYSTEM_TMPDIR_VARIABLE] = system;
  process.env[TEST_TMPDIR_VARIABLE] = directory;
  for (const variable of ["TMPDIR", "TMP", "TEMP"]) process.env[variable] = directory;
}
