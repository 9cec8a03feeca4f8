/** The jest run's own temporary directory (`helpers/global-setup.ts`), removed when the run ends. */
import { spawnSync } from "node:child_process";
import { lstatSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Testing } from "cdktf";
import { tsxCacheName } from "./helpers/global-setup";

describe("a test run's temporary files", () => {
  const directory = process.env.MLOPS_TEST_TMPDIR ?? "";

  it("go into one directory made for the run", () => {
    expect(basename(directory)).toMatch(/^mlops-jest-/);
    expect(tmpdir()).toBe(directory);
  });

  it("include cdktf's test apps' output directories", () => {
    expect(dirname(Testing.app().outdir)).toBe(directory);
  });

  it("keep tsx's cache of compiled TypeScript in the system's temporary directory, through a link", () => {
    const cache = join(directory, tsxCacheName());
    expect(lstatSync(cache).isSymbolicLink()).toBe(true);
    expect(realpathSync(cache)).toBe(
      realpathSync(join(process.env.MLOPS_TEST_SYSTEM_TMPDIR ?? "", tsxCacheName())),
    );
  });

  it("include those of the processes tests start", () => {
    const child = spawnSync(process.execPath, ["-p", "require('node:os').tmpdir()"], { encoding: "utf8" });
    expect(child.stdout.trim()).toBe(directory);
  });
});
