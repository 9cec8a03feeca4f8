/**
 * `tsx tools/stacks.ts <cdktf-out-dir> [--aws-only] [--exclude-part bootstrap]`: the synthesized stacks in
 * dependency order, one name per line, for CI scripts that plan and apply stack by stack.
 */
import { parseArgs } from "node:util";
import { isAwsOnly, readSynthesizedStacks } from "./lib/terraform";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "aws-only": { type: "boolean", default: false },
    "exclude-part": { type: "string", multiple: true },
  },
});
if (positionals.length !== 1) {
  console.error("usage: tsx tools/stacks.ts <cdktf-out-dir> [--aws-only] [--exclude-part PART]...");
  process.exit(2);
}
const excluded = values["exclude-part"] ?? [];
for (const stack of readSynthesizedStacks(positionals[0])) {
  if (values["aws-only"] && !isAwsOnly(stack)) continue;
  if (excluded.some((part) => stack.name.endsWith(`-${part}`))) continue;
  console.log(stack.name);
}
