/**
 * `stacks/own-source-maps.ts` acts on Node's module loader, which jest replaces, so it is checked in a Node
 * process run as `main.ts` is: under tsx.
 */
import { spawnSync } from "node:child_process";
import { ROOT } from "../helpers/config";

/** Which of a package module and one of ours Node holds a source map for, after loading both under tsx. */
function sourceMapsAfterLoading(first: string): { package: boolean; own: boolean; enabled: boolean } {
  const script = `${first}
require("cdktf");
require("./environments/load.ts");
const { findSourceMap } = require("node:module");
process.stdout.write(JSON.stringify({
  package: Boolean(findSourceMap(require.resolve("cdktf"))),
  own: Boolean(findSourceMap(require.resolve("./environments/load.ts"))),
  enabled: process.sourceMapsEnabled,
}));`;
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as { package: boolean; own: boolean; enabled: boolean };
}

describe("own source maps", () => {
  it("are the only ones Node reads once the module is loaded, and source maps stay on", () => {
    expect(sourceMapsAfterLoading('require("./stacks/own-source-maps.ts");')).toEqual({
      package: false,
      own: true,
      enabled: true,
    });
  });

  it("leave tsx's behaviour alone without it: every inline map is read", () => {
    expect(sourceMapsAfterLoading("")).toEqual({ package: true, own: true, enabled: true });
  });
});
