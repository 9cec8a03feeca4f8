/**
 * `npm run policy:docs [-- --check]`: writes the table of rules (id, title, severity, tiers, resource types, fix)
 * into `docs/policy.md` between the `rules:start` and `rules:end` markers, from the rule list itself. With
 * `--check` it writes nothing and exits 1 when the page is stale (the test suite runs it that way).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { DOCS_FILE, withRulesTable } from "./lib/policy-docs";

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const current = readFileSync(DOCS_FILE, "utf8");
  const updated = await withRulesTable(current);
  if (updated === current) {
    process.stdout.write(`${DOCS_FILE} is up to date.\n`);
  } else if (check) {
    process.stderr.write(`${DOCS_FILE} does not list the current rules; run npm run policy:docs.\n`);
    process.exitCode = 1;
  } else {
    writeFileSync(DOCS_FILE, updated);
    process.stdout.write(`Updated the rule table in ${DOCS_FILE}.\n`);
  }
}

void main();
