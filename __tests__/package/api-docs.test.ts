/** The API reference (TypeDoc, from the doc comments) builds without a warning, as `npm run docs` does. */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/config";

it("builds the API reference without warnings", () => {
  const out = mkdtempSync(join(tmpdir(), "mlops-api-"));
  const result = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules", "typedoc", "bin", "typedoc"), "--out", out],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
  const output = `${result.stdout}${result.stderr}`;
  expect(output.split("\n").filter((line) => /warning|error/i.test(line))).toEqual([]);
  expect(result.status).toBe(0);
}, 180_000);
