import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SynthesisError, synthesizeTrees } from "../../../tools/lib/review/synthesize";
import { ROOT } from "../../helpers/config";

describe("synthesizeTrees", () => {
  let work: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "mlops-synthesize-"));
  });

  afterEach(() => {
    rmSync(work, { recursive: true, force: true });
  });

  /** A tree whose `main.ts` waits a moment, then writes `done` into its output folder. */
  function slowTree(): string {
    const tree = join(work, "slow");
    mkdirSync(tree);
    symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"), "dir");
    writeFileSync(
      join(tree, "main.ts"),
      [
        'import { mkdirSync, writeFileSync } from "node:fs";',
        'import { join } from "node:path";',
        "setTimeout(() => {",
        '  const outdir = process.env.CDKTF_OUTDIR ?? "cdktf.out";',
        "  mkdirSync(outdir, { recursive: true });",
        '  writeFileSync(join(outdir, "done"), "");',
        "}, 500);",
        "",
      ].join("\n"),
    );
    return tree;
  }

  it("waits for every side before reporting the one that failed", async () => {
    const broken = join(work, "broken");
    mkdirSync(broken);
    const slowOut = join(work, "slow.out");
    const failure = synthesizeTrees([
      { treeDir: broken, outdir: join(work, "broken.out"), side: "the base" },
      { treeDir: slowTree(), outdir: slowOut, side: "the working tree" },
    ]);
    await expect(failure).rejects.toThrow(SynthesisError);
    await expect(failure).rejects.toMatchObject({ side: "the base" });
    // The slow side had finished when the failure was reported: a checkout removed now runs nothing.
    expect(existsSync(join(slowOut, "done"))).toBe(true);
  }, 30_000);

  it("resolves when every side succeeds", async () => {
    const slowOut = join(work, "slow.out");
    await synthesizeTrees([{ treeDir: slowTree(), outdir: slowOut, side: "the working tree" }]);
    expect(existsSync(join(slowOut, "done"))).toBe(true);
  }, 30_000);
});
