/** The jest run's own temporary directory (`helpers/global-setup.ts`), removed when the run ends. */
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { basename, dirname } from "node:path";
import { Testing } from "cdktf";

describe("a test run's temporary files", () => {
  const directory = process.env.MLOPS_TEST_TMPDIR ?? "";

  it("go into one directory made for the run", () => {
    expect(basename(directory)).toMatch(/^mlops-jest-/);
    expect(tmpdir()).toBe(directory);
  });

  it("include cdktf's test apps' output directories", () => {
    expect(dirname(Testing.app().outdir)).toBe(directory);
  });

  it("include those of the processes tests start", () => {
    const child = spawnSync(process.execPath, ["-p", "require('node:os').tmpdir()"], { encoding: "utf8" });
    expect(child.stdout.trim()).toBe(directory);
  });
});
