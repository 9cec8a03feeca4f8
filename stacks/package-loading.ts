/**
 * Packages load as plain Node loads them; tsx's extra work is kept for this repository's TypeScript.
 *
 * `main.ts` imports this module first, for its effect on the CommonJS loader. The app loads ~700 modules and
 * ~20 MB of JavaScript from `node_modules` (cdktf, the provider bindings, zod, yaml), and under tsx each of them
 * cost more than plain Node's load:
 *
 * - **Source maps.** tsx turns Node's source maps on so that a stack trace shows TypeScript lines. With them on,
 *   Node reads the inline source map of every module it compiles, measures its lines and decodes its map,
 *   needed or not: 15 % of a synth. A module from `node_modules` is now compiled with source maps off. A trace
 *   still shows our TypeScript files and lines; frames inside a package show its JavaScript, as plain Node does.
 * - **ESM lexing.** tsx's `.js` loader reads each file and lexes it for `import` and `export` syntax, so that it
 *   can transform an ES module that is `require`d. A file of a CommonJS package (a `.cjs` file, or a `.js` file
 *   whose nearest `package.json` has no `"type": "module"`) is compiled unchanged after that lexing, so it now
 *   goes straight to Node's compile: about a tenth of a synth. Files of ES module packages still go through tsx.
 *
 * This is the one module here that does work when imported; nothing but `main.ts` imports it.
 */
import { readFileSync } from "node:fs";
import Module from "node:module";
import { dirname, join, sep } from "node:path";

const NODE_MODULES = `${sep}node_modules${sep}`;

interface LoadingModule {
  _compile(content: string, filename: string): unknown;
}

type ExtensionLoader = (this: unknown, module: LoadingModule, filename: string) => void;

/** The `type` of each folder's package scope, found once per folder. */
const scopeTypes = new Map<string, string | undefined>();

/**
 * The `type` field of the `package.json` nearest to `directory`, searched as Node searches it: upwards, and not
 * past a `node_modules` folder. `undefined` where no `package.json` gives one (CommonJS); `"unreadable"` where the
 * nearest one is not valid JSON, so the caller leaves the file to tsx and Node reports the problem.
 */
function packageScopeType(directory: string): string | undefined {
  if (scopeTypes.has(directory)) return scopeTypes.get(directory);
  let type: string | undefined;
  let text: string | undefined;
  try {
    text = readFileSync(join(directory, "package.json"), "utf8");
  } catch {
    const parent = dirname(directory);
    const atBoundary = parent === directory || directory.endsWith(`${sep}node_modules`);
    type = atBoundary ? undefined : packageScopeType(parent);
  }
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text) as { type?: unknown };
      type = typeof parsed.type === "string" ? parsed.type : undefined;
    } catch {
      type = "unreadable";
    }
  }
  scopeTypes.set(directory, type);
  return type;
}

/** Whether `filename` is a CommonJS module of a package: compiled unchanged by tsx, so left to Node alone. */
function isPackageCommonJs(filename: string): boolean {
  if (!filename.includes(NODE_MODULES) || filename.includes("?")) return false;
  if (filename.endsWith(".cjs")) return true;
  if (!filename.endsWith(".js")) return false;
  const type = packageScopeType(dirname(filename));
  return type === undefined || type === "commonjs";
}

/**
 * Compiles modules from `node_modules` with source maps off. The process's setting is restored after each such
 * module (its own `require`s included), so modules outside `node_modules` keep whatever tsx or Node asked for.
 */
function compileOwnSourceMapsOnly(): void {
  const prototype = Module.prototype as unknown as LoadingModule;
  const compile = prototype._compile;
  prototype._compile = function compileWithoutSourceMap(content: string, filename: string): unknown {
    if (!process.sourceMapsEnabled || !filename.includes(NODE_MODULES)) {
      return compile.call(this, content, filename);
    }
    process.setSourceMapsEnabled(false);
    try {
      return compile.call(this, content, filename);
    } finally {
      process.setSourceMapsEnabled(true);
    }
  };
}

/**
 * Reads and compiles a package's CommonJS module as Node's own `.js` loader does, without the loader before
 * it (tsx's, under tsx) reading and lexing it first. Every other file goes to that loader.
 */
function loadPackageCommonJsDirectly(): void {
  const extensions = (Module as unknown as { _extensions: Record<string, ExtensionLoader> })._extensions;
  const load = extensions[".js"];
  extensions[".js"] = function loadJavaScript(module: LoadingModule, filename: string): void {
    if (!isPackageCommonJs(filename)) {
      load.call(this, module, filename);
      return;
    }
    module._compile(readFileSync(filename, "utf8"), filename);
  };
}

compileOwnSourceMapsOnly();
loadPackageCommonJsDirectly();
