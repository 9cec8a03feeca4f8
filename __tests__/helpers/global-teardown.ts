/** Jest global teardown: removes the run's temporary directory (see `global-setup.ts`). */
import { rmSync } from "node:fs";
import { TEST_TMPDIR_VARIABLE } from "./global-setup";

export default function teardown(): void {
  const directory = process.env[TEST_TMPDIR_VARIABLE];
  if (directory) rmSync(directory, { recursive: true, force: true });
}
