/**
 * `npm run policy:docs`: writes the table of rules (id, title, severity, tiers, fix) into `docs/policy.md`,
 * between the `rules:start` and `rules:end` markers, from the rule list itself. A test fails when it is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { rulesTable, withRulesTable } from "./lib/policy-docs";

const FILE = "docs/policy.md";
const current = readFileSync(FILE, "utf8");
const updated = withRulesTable(current, rulesTable());
writeFileSync(FILE, updated);
process.stdout.write(
  updated === current ? `${FILE} is up to date.\n` : `Updated the rule table in ${FILE}.\n`,
);
