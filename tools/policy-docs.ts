/**
 * `npm run policy:docs`: writes the table of rules (id, title, severity, tiers, resource types, fix) into
 * `docs/policy.md` between the `rules:start` and `rules:end` markers, from the rule list itself. A test fails
 * when the page is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { DOCS_FILE, withRulesTable } from "./lib/policy-docs";

async function main(): Promise<void> {
  const current = readFileSync(DOCS_FILE, "utf8");
  const updated = await withRulesTable(current);
  writeFileSync(DOCS_FILE, updated);
  process.stdout.write(updated === current ? `${DOCS_FILE} is up to date.\n` : `Updated the rule table in ${DOCS_FILE}.\n`);
}

void main();
