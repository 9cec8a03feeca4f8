/**
 * `npm run stateful:update`: synthesizes every environment (offline) and rewrites
 * `environments/stateful-addresses.json`, the inventory of stateful resource addresses that
 * `__tests__/policy/stateful-addresses.test.ts` guards. Run it after adding a stateful resource, after moving
 * one with a moved block, or after removing one on purpose; it prints what changed, for the pull request.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { format, resolveConfig } from "prettier";
import { join } from "node:path";
import {
  compareInventory,
  describeDifferences,
  inventoryOf,
  INVENTORY_FILE,
  readStacks,
  type StatefulInventory,
} from "./lib/stateful";
import { run } from "./lib/terraform";

async function main(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), "mlops-stateful-"));
  try {
    const result = await run(process.execPath, ["--import", "tsx", "main.ts"], {
      cwd: process.cwd(),
      env: {
        ...process.env,
        MLOPS_ENVIRONMENTS: "",
        MLOPS_OFFLINE: "1",
        MLOPS_POLICY: "report",
        CDKTF_OUTDIR: outdir,
      },
    });
    if (result.code !== 0) {
      process.stderr.write(result.stderr);
      process.exit(result.code);
    }
    const stacks = readStacks(outdir);
    const previous: StatefulInventory = existsSync(INVENTORY_FILE)
      ? JSON.parse(readFileSync(INVENTORY_FILE, "utf8"))
      : {};
    const changes = describeDifferences(compareInventory(previous, stacks));
    const json = JSON.stringify(inventoryOf(stacks), null, 2);
    writeFileSync(
      INVENTORY_FILE,
      await format(json, { ...(await resolveConfig(INVENTORY_FILE)), filepath: INVENTORY_FILE }),
    );
    process.stdout.write(
      changes
        ? `Compared with the previous inventory:\n${changes}\n\nRecorded in ${INVENTORY_FILE}.\n`
        : `${INVENTORY_FILE} is up to date.\n`,
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

void main();
