/**
 * `stacks/package-loading.ts` acts on Node's module loader, which jest replaces, so it is checked in Node
 * processes run as `main.ts` is: under tsx.
 */
import { spawnSync } from "node:child_process";
import { ROOT } from "../helpers/config";

const LOAD_PACKAGE_LOADING = 'require("./stacks/package-loading.ts");';

/** Runs `script` with `node --import tsx` in the repository and returns what it wrote to stdout, as JSON. */
function runUnderTsx<T>(script: string): T {
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as T;
}

/** Which of a package module and one of ours Node holds a source map for, after loading both under tsx. */
function sourceMapsAfterLoading(first: string): { package: boolean; own: boolean; enabled: boolean } {
  return runUnderTsx(`${first}
require("cdktf");
require("./environments/load.ts");
const { findSourceMap } = require("node:module");
process.stdout.write(JSON.stringify({
  package: Boolean(findSourceMap(require.resolve("cdktf"))),
  own: Boolean(findSourceMap(require.resolve("./environments/load.ts"))),
  enabled: process.sourceMapsEnabled,
}));`);
}

interface Loaded {
  /** The packages whose files tsx's `.js` loader was given (yaml's browser build apart from yaml). */
  viaTsx: string[];
  /** Whether each package's exports came out whole. */
  works: { cdktf: boolean; zod: boolean; esmPackage: boolean };
}

/**
 * Loads a CommonJS package (cdktf, `.js` files), one with `.cjs` files (zod) and an ES module package (yaml's
 * browser build, `"type": "module"`) under tsx, recording which package files reach tsx's `.js` loader.
 */
function packagesLoaded(first: string): Loaded {
  return runUnderTsx(`const Module = require("node:module");
const tsxLoader = Module._extensions[".js"];
const viaTsx = new Set();
Module._extensions[".js"] = function (module, filename) {
  const folder = /node_modules[\\\\/]([^\\\\/]+)[\\\\/](browser[\\\\/])?/.exec(filename);
  if (folder) viaTsx.add(folder[2] ? folder[1] + "/browser" : folder[1]);
  return tsxLoader.call(this, module, filename);
};
${first}
const cdktf = require("cdktf");
const { z } = require("zod");
const esm = require(require("node:path").resolve("node_modules/yaml/browser/dist/index.js"));
process.stdout.write(JSON.stringify({
  viaTsx: [...viaTsx].sort(),
  works: {
    cdktf: typeof cdktf.TerraformStack === "function",
    zod: z.string().safeParse("a").success,
    esmPackage: esm.parse("a: 1").a === 1,
  },
}));`);
}

interface Deferred {
  /**
   * Deferred modules in Node's module cache once cdktf and zod are loaded, then after using `z.locales`, after
   * cdktf's version check and after zipping an asset.
   */
  loaded: { atStart: string[]; afterLocales: string[]; afterVersionCheck: string[]; afterZip: string[] };
  /** What `z.locales` gives when used: its type, how many translations, and a German message. */
  locales: { type: string; count: number; german: string };
  /** What cdktf's binary version check, which uses semver, says of a Node.js version constraint it fails. */
  versionCheck: string[];
  /** The first bytes of the zip that cdktf wrote for an archive asset. */
  zipSignature: string;
}

/**
 * Loads cdktf and zod, then uses what they load eagerly: `z.locales`, cdktf's version check and, synthesizing a
 * stack with an archive asset, its zip library. Under tsx.
 */
function deferredModules(first: string): Deferred {
  return runUnderTsx(`${first}
const fs = require("node:fs"), os = require("node:os"), path = require("node:path");
const { App, AssetType, TerraformAsset, TerraformStack } = require("cdktf");
const { z } = require("zod");
const deferred = () => [...new Set(Object.keys(require.cache)
  .map((file) => /node_modules.(archiver|semver).|zod.v4.locales.index/.exec(file))
  .filter(Boolean)
  .map((match) => match[1] ?? "zod locales"))].sort();
const atStart = deferred();
const type = typeof z.locales;
const count = Object.keys(z.locales).length;
const german = z.string().safeParse(1, { error: z.locales.de().localeError }).error.issues[0].message;
const afterLocales = deferred();
const { ValidateBinaryVersion } = require("cdktf/lib/validations/validate-binary-version");
const versionCheck = new ValidateBinaryVersion("node", ">=99", "node --version").validate();
const afterVersionCheck = deferred();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "package-loading-"));
try {
  fs.mkdirSync(path.join(dir, "src"));
  fs.writeFileSync(path.join(dir, "src", "model.txt"), "weights");
  const app = new App({ outdir: path.join(dir, "out") });
  new TerraformAsset(new TerraformStack(app, "assets"), "model", { path: path.join(dir, "src"), type: AssetType.ARCHIVE });
  app.synth();
  const zip = fs.readdirSync(dir, { recursive: true }).find((file) => String(file).endsWith(".zip"));
  process.stdout.write(JSON.stringify({
    loaded: { atStart, afterLocales, afterVersionCheck, afterZip: deferred() },
    locales: { type, count, german },
    versionCheck,
    zipSignature: zip ? fs.readFileSync(path.join(dir, String(zip))).subarray(0, 2).toString("latin1") : "",
  }));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}`);
}

describe("package loading", () => {
  it("reads source maps for our code only once the module is loaded, and source maps stay on", () => {
    expect(sourceMapsAfterLoading(LOAD_PACKAGE_LOADING)).toEqual({
      package: false,
      own: true,
      enabled: true,
    });
  });

  it("leaves tsx's source maps alone without it: every inline map is read", () => {
    expect(sourceMapsAfterLoading("")).toEqual({ package: true, own: true, enabled: true });
  });

  it("compiles CommonJS packages directly and still gives ES module packages to tsx", () => {
    expect(packagesLoaded(LOAD_PACKAGE_LOADING)).toEqual({
      viaTsx: ["yaml/browser"],
      works: { cdktf: true, zod: true, esmPackage: true },
    });
  });

  it("leaves every package file to tsx without it", () => {
    expect(packagesLoaded("")).toEqual({
      viaTsx: ["cdktf", "constructs", "yaml/browser", "zod"],
      works: { cdktf: true, zod: true, esmPackage: true },
    });
  });

  it("loads cdktf's zip library and semver and zod's translations on first use, and they still work", () => {
    const result = deferredModules(LOAD_PACKAGE_LOADING);
    expect(result.loaded).toEqual({
      atStart: [],
      afterLocales: ["zod locales"],
      afterVersionCheck: ["semver", "zod locales"],
      // cdktf zips in a child process: the app's process never loads the zip library.
      afterZip: ["semver", "zod locales"],
    });
    expect(result.locales.type).toBe("object");
    expect(result.locales.count).toBeGreaterThan(60);
    expect(result.locales.german).toMatch(/^Ungültige Eingabe/);
    expect(result.versionCheck).toEqual([
      `node version ${process.versions.node} is lower than the required version >=99 for this construct. `,
    ]);
    expect(result.zipSignature).toBe("PK");
  });

  it("leaves them loaded with their packages without it", () => {
    expect(deferredModules("").loaded.atStart).toEqual(["archiver", "semver", "zod locales"]);
  });
});
