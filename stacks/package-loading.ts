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
 * - **Modules the app never uses.** cdktf and zod load some modules eagerly that the app does not need (cdktf's
 *   zip library, semver, zod's 64 translations of its messages): those load on first use instead, about 7 % of a
 *   synth.
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

/** A module that a package requires when it loads, which the app loads on first use instead. */
interface DeferredModule {
  /** The requiring file, under `node_modules`. */
  readonly from: string;
  /** What it requires. */
  readonly request: string;
  /**
   * The module's `__esModule` flag, answered without loading it: the import helpers of transpiled ES modules
   * read it as soon as the module is required.
   */
  readonly esModule: boolean;
}

const DEFERRED_MODULES: readonly DeferredModule[] = [
  // cdktf zips an archive asset in a child process that runs this same file; the app's process never calls the
  // zip library, which loads ~40 modules.
  { from: "cdktf/lib/private/fs.js", request: "archiver", esModule: false },
  // semver compares the Terraform version, a validation cdktf adds only to an imported resource.
  { from: "cdktf/lib/validations/validate-binary-version.js", request: "semver", esModule: false },
  // `z.locales`, zod's translations of its error messages; the English ones are loaded on their own.
  { from: "zod/v4/core/index.cjs", request: "../locales/index.cjs", esModule: true },
  { from: "zod/v4/classic/external.cjs", request: "../locales/index.cjs", esModule: true },
];

/**
 * Stands in for a module until it is used: reading, listing or calling it loads the module and acts on it.
 * Modules are objects or functions; the stand-in is a function so that either can be called through it.
 */
function onFirstUse(load: () => unknown, esModule: boolean): unknown {
  let loaded: object | undefined;
  const module = (): object => (loaded ??= load() as object);
  return new Proxy(() => undefined, {
    get: (_target, key) => (key === "__esModule" && !loaded ? esModule : Reflect.get(module(), key)),
    has: (_target, key) => Reflect.has(module(), key),
    ownKeys: () => Reflect.ownKeys(module()),
    // Reported as configurable: a proxy may not report a property the stand-in lacks as fixed.
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(module(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    apply: (_target, self, args) => Reflect.apply(module() as (...args: unknown[]) => unknown, self, args),
  });
}

/** Loads the modules of {@link DEFERRED_MODULES} on first use. */
function deferUnusedModules(): void {
  const loader = Module as unknown as {
    _load(request: string, parent: { filename?: string } | undefined, isMain: boolean): unknown;
  };
  const load = loader._load;
  const deferred = DEFERRED_MODULES.map((entry) => ({
    ...entry,
    from: `${NODE_MODULES}${entry.from.split("/").join(sep)}`,
  }));
  loader._load = function loadOrDefer(request, parent, isMain): unknown {
    const filename = parent?.filename;
    const entry =
      filename &&
      deferred.find((candidate) => candidate.request === request && filename.endsWith(candidate.from));
    if (!entry) return load.call(this, request, parent, isMain);
    return onFirstUse(() => load.call(this, request, parent, isMain), entry.esModule);
  };
}

compileOwnSourceMapsOnly();
loadPackageCommonJsDirectly();
deferUnusedModules();
