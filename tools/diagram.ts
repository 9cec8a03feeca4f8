/**
 * `npm run diagram -- <env> [--from DIR] [--output FILE]`: a Mermaid diagram of one environment's stacks
 * and main resources, from synthesized JSON (the tool synthesizes offline into a temporary folder unless
 * `--from` names an existing cdktf output folder).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderDiagram } from "./lib/diagram";
import { readSynthOutput } from "./lib/review/synth-output";
import { synthesizeTree, SynthesisError } from "./lib/review/synthesize";

const USAGE = "usage: npm run diagram -- <environment> [--from CDKTF_OUT_DIR] [--output FILE] [--markdown]";

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: "string" },
      output: { type: "string" },
      markdown: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const environment = positionals[0];
  const temp = values.from ? undefined : mkdtempSync(join(tmpdir(), "mlops-diagram-"));
  try {
    const outdir = values.from ? resolve(values.from) : join(temp!, "out");
    if (!values.from) await synthesizeTree(process.cwd(), outdir, "the working tree");
    const output = readSynthOutput(outdir);
    const known = [...new Set([...output.values()].map((stack) => stack.environment))].sort();
    if (!known.includes(environment)) {
      console.error(`diagram: no stacks of environment "${environment}" (known: ${known.join(", ")})`);
      // Not process.exit: the temporary folder is removed on the way out.
      process.exitCode = 2;
      return;
    }
    const mermaid = renderDiagram(output, environment);
    const text = values.markdown ? `\`\`\`mermaid\n${mermaid}\`\`\`\n` : mermaid;
    if (values.output) writeFileSync(values.output, text);
    else process.stdout.write(text);
  } catch (error) {
    if (error instanceof SynthesisError) {
      console.error(`diagram: ${error.message}\n${error.output}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`diagram: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
