/**
 * `npm run plan-summary -- <plan.json>... [--format markdown|json] [--fail-on high|low]`: the review of
 * real plans. Each file is `terraform show -json <planfile>` output of one stack; the stack is named after
 * the file (`mlops-dev-data.json`) or, for a generic file name (`plan.json`), after its folder
 * (`cdktf.out/stacks/mlops-dev-data/plan.json`). Sensitive values are masked. Exit codes: 0 done, 1 an
 * unreadable or unsupported plan file, 2 bad usage, 3 a change at or above `--fail-on` risk.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { parseArgs } from "node:util";
import { renderMarkdown } from "./lib/review/markdown";
import { reviewPlans, type PlanJson } from "./lib/review/plan";
import { riskAtLeast, type Risk } from "./lib/review/types";

const USAGE =
  "usage: npm run plan-summary -- <plan.json>... [--format markdown|json] [--fail-on high|low] [--output FILE] [--title TEXT]";

/** The stack a plan file belongs to, from its name or its folder. */
export function stackOfFile(file: string): string {
  const name = basename(file)
    .replace(/(\.tfplan)?\.json$/, "")
    .replace(/\.plan$/, "");
  return ["plan", "tfplan", "show", "offline"].includes(name) ? basename(dirname(file)) : name;
}

function parseCommandLine() {
  return parseArgs({
    allowPositionals: true,
    options: {
      format: { type: "string", default: "markdown" },
      "fail-on": { type: "string" },
      output: { type: "string" },
      title: { type: "string" },
      "max-length": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
}

function main(): void {
  let parsed;
  try {
    parsed = parseCommandLine();
  } catch (error) {
    // Unknown options and options without their value: bad usage, not a crash.
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    console.error(`plan-summary: ${message} (npm run plan-summary -- --help for usage)`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const failOn = values["fail-on"] as Risk | undefined;
  const maxLength = values["max-length"] === undefined ? undefined : Number(values["max-length"]);
  if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 2000)) {
    // As review's: shorter leaves no room for the summary above the cut.
    console.error("plan-summary: --max-length must be a whole number of at least 2000");
    process.exit(2);
  }
  if (
    positionals.length === 0 ||
    !["markdown", "json"].includes(values.format!) ||
    (failOn && !["high", "low"].includes(failOn))
  ) {
    console.error(USAGE);
    process.exit(2);
  }
  const plans = positionals.map((file) => {
    let plan: PlanJson;
    try {
      plan = JSON.parse(readFileSync(file, "utf8")) as PlanJson;
    } catch (error) {
      console.error(`plan-summary: ${file}: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
    return { plan, label: { stack: stackOfFile(file) } };
  });
  let review: ReturnType<typeof reviewPlans>;
  try {
    review = reviewPlans(plans);
  } catch (error) {
    console.error(`plan-summary: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const text =
    values.format === "json"
      ? JSON.stringify(review, null, 2)
      : renderMarkdown(review, {
          title: values.title ?? "Terraform plan",
          maxLength,
        });
  if (values.output) writeFileSync(values.output, `${text}\n`);
  else process.stdout.write(`${text}\n`);
  if (failOn && review.stacks.some((s) => s.resources.some((r) => riskAtLeast(r.risk, failOn))))
    process.exitCode = 3;
}

main();
