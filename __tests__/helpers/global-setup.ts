/**
 * Jest global setup: every temporary file of a test run goes into one directory, which
 * `global-teardown.ts` removes when the run ends. cdktf's `Testing.app()` makes an output directory in the
 * system's temporary directory for each app and never removes it (about 150 per run), and tests and the
 * processes they start make their own; runs used to leave them all behind.
 *
 * `TMPDIR` (and `TMP`, `TEMP` on Windows) point at a fresh directory before jest starts its workers, which
 * inherit it, as do the processes tests spawn; `os.tmpdir()` reads it on every call.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TEST_TMPDIR_VARIABLE = "MLOPS_TEST_TMPDIR";

export default function setup(): void {
  const directory = mkdtempSync(join(tmpdir(), "mlops-jest-"));
  process.env[TEST_TMPDIR_VARIABLE] = directory;
  for (const variable of ["TMPDIR", "TMP", "TEMP"]) process.env[variable] = directory;
}
