/**
 * `npm run schema`: writes `environments/environment.schema.json`, the JSON Schema of environment files,
 * from the zod schema. Every environment file names it on its first line
 * (`# yaml-language-server: $schema=./environment.schema.json`), so editors complete and check fields.
 *
 * `npm run schema -- --check` fails when the committed file is out of date (CI runs it through a test).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { environmentJsonSchema } from "../environments/json-schema";

const target = "environments/environment.schema.json";
const text = `${JSON.stringify(environmentJsonSchema(), null, 2)}\n`;
if (process.argv.includes("--check")) {
  const current = readFileSync(target, "utf8");
  if (current !== text) {
    console.error(`${target} is out of date: run npm run schema`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
