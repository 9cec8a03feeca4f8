/**
 * Packages load with less work than tsx gives them; tsx's work is kept for this repository's TypeScript.
 *
 * `main.ts` imports this module first, for its effect on the CommonJS loader. The app loads ~400 modules and
 * ~20 MB of JavaScript from `node_modules` (cdktf, the provider bindings, zod, yaml), and under tsx each of them
 * cost more than plain Node's load:
 *
 * - **Source maps.** tsx turns Node's source maps on so that a stack trace shows TypeScript lines. With them on,
 *   Node reads the inline source map of every module it compiles, measures its lines and decodes its map,
 *   needed or not: 15 % of a synth. A module from `node_modules` is now compiled with source maps off. A trace
 *   still shows our TypeScript files and lines; frames inside a package show its JavaScript, as plain Node does.
 * - **ESM lexing.** tsx's `.js` loader reads each file and lexes it for `import` and `export` syntax, so that it
 *   can transform an ES module that is `require`d. A file of a CommonJS package (a `.cjs` file, or a `.js` file
 *   whose nearest `package.json` has no `"type": "module"`) now goes straight to Node's compile, as plain Node
 *   loads it: about a tenth of a synth. tsx would have compiled such a file unchanged too, unless it found ESM
 *   syntax in it (Node then loads the file as an ES module instead) or a `.cjs` file calls `import()` (tsx adds
 *   its interop to the result); none of the packages the app loads does either. Files of ES module packages
 *   still go through tsx.
 * - **Modules the app does not use.** cdktf and zod require some modules when they load that the app does not
 *   use, or seldom: cdktf's zip library (~200 modules), semver, and zod's translations of its messages into 62
 *   languages. They load on first use instead: about 7 % of a synth.
 *
 * This is the one module here that does work when imported; nothing but `main.ts` imports it.
 */
import { readFileSync } from "node:fs";
import Module from "node:module";
import { dirname, join, sep } from "node:path";

const NODE_MODULES = `${sep}node_modules${sep}`;

/** Node's module format hint: `"commonjs"` turns off its detection of ES module syntax. */
type Format = "commonjs" | undefined;

interface LoadingModule {
  _compile(content: string, filename: string, format?: Format): unknown;
}

type ExtensionLoader = (this: unknown, module: LoadingModule, filename: string) => void;

/** The `type` of each folder's package scope, found once per folder. */
const scopeTypes = new Map<string, string | undefined>();

/**
 * The `type` field of the `package.json` nearest to `directory`, searched as Node searches it: upwards, and not
 * into or past a `node_modules` folder. `undefined` where no `package.json` gives one (CommonJS);
 * `"unreadable"` where the nearest one is not JSON, so that the file is left to the loader before this one.
 */
function packageScopeType(directory: string): string | undefined {
  if (scopeTypes.has(directory)) return scopeTypes.get(directory);
  let type: string | undefined;
  let text: string | undefined;
  if (!directory.endsWith(`${sep}node_modules`)) {
    try {
      text = readFileSync(join(directory, "package.json"), "utf8");
    } catch {
      const parent = dirname(directory);
      type = parent === directory ? undefined : packageScopeType(parent);
    }
  }
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text.replace(/^\uFEFF/, "")) as { type?: unknown };
      type = typeof parsed.type === "string" ? parsed.type : undefined;
    } catch {
      type = "unreadable";
    }
  }
  scopeTypes.set(directory, type);
  return type;
}

/**
 * How a package's CommonJS module is compiled, with the format hint Node's own loader gives it; `false` for any
 * other file (ours, an ES module package's, one with a query), which is left to the loader before this one.
 */
function packageCommonJsFormat(filename: string): { format: Format } | false {
  if (!filename.includes(NODE_MODULES) || filename.includes("?")) return false;
  if (filename.endsWith(".cjs")) return { format: "commonjs" };
  if (!filename.endsWith(".js")) return false;
  const type = packageScopeType(dirname(filename));
  if (type === "commonjs") return { format: "commonjs" };
  return type === undefined ? { format: undefined } : false;
}

/**
 * Compiles modules from `node_modules` with source maps off. The process's setting is restored after each such
 * module (its own `require`s included), so modules outside `node_modules` keep whatever tsx or Node asked for.
 */
function compileOwnSourceMapsOnly(): void {
  const prototype = Module.prototype as unknown as LoadingModule;
  const compile = prototype._compile;
  prototype._compile = function compileWithoutSourceMap(
    content: string,
    filename: string,
    ...rest: [Format?]
  ): unknown {
    if (!process.sourceMapsEnabled || !filename.includes(NODE_MODULES)) {
      return compile.call(this, content, filename, ...rest);
    }
    process.setSourceMapsEnabled(false);
    try {
      return compile.call(this, content, filename, ...rest);
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
    const commonJs = packageCommonJsFormat(filename);
    if (!commonJs) {
      load.call(this, module, filename);
      return;
    }
    module._compile(readFileSync(filename, "utf8"), filename, commonJs.format);
  };
}

/** A module that a package requires when it loads, which the app loads on first use instead. */
interface DeferredModule {
  /** The requiring file, under `node_modules`. */
  readonly from: string;
  /** What it requires. */
  readonly request: string;
  /** What the module is, so that `typeof` of its stand-in is what it would be. */
  readonly kind: "function" | "object";
  /**
   * The module's `__esModule` flag, answered without loading it: the import helpers of transpiled ES modules
   * read it as soon as the module is required.
   */
  readonly esModule: boolean;
}

const DEFERRED_MODULES: readonly DeferredModule[] = [
  // cdktf zips an archive asset in a child process that runs this same file as a script; the app's process
  // never calls the zip library.
  { from: "cdktf/lib/private/fs.js", request: "archiver", kind: "function", esModule: false },
  // semver compares Terraform's version in a validation that cdktf adds for import and moved blocks, Terraform
  // data resources and Terraform Cloud backends.
  {
    from: "cdktf/lib/validations/validate-binary-version.js",
    request: "semver",
    kind: "object",
    esModule: false,
  },
  // `z.locales`, zod's translations of its error messages; the English ones are loaded on their own.
  { from: "zod/v4/core/index.cjs", request: "../locales/index.cjs", kind: "object", esModule: true },
  { from: "zod/v4/classic/external.cjs", request: "../locales/index.cjs", kind: "object", esModule: true },
];

/**
 * Stands in for a module until it is used: reading, listing, assigning, deleting, calling or constructing it
 * loads the module and acts on it. A stand-in is neither frozen nor sealed, whatever the module is.
 */
function onFirstUse(load: () => unknown, { kind, esModule }: DeferredModule): unknown {
  let loaded: object | undefined;
  const module = (): object => (loaded ??= load() as object);
  // A bound function has no `prototype` of its own: a proxy may not hide a fixed property its target has.
  const standIn = kind === "function" ? function deferredModule() {}.bind(undefined) : {};
  return new Proxy(standIn, {
    get: (_target, key) => (key === "__esModule" && !loaded ? esModule : Reflect.get(module(), key)),
    has: (_target, key) => Reflect.has(module(), key),
    ownKeys: () => Reflect.ownKeys(module()),
    // Reported as configurable: a proxy may not report a property its target lacks as fixed.
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(module(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    set: (_target, key, value) => Reflect.set(module(), key, value),
    deleteProperty: (_target, key) => Reflect.deleteProperty(module(), key),
    apply: (_target, self, args) => Reflect.apply(module() as (...args: unknown[]) => unknown, self, args),
    construct: (_target, args) => Reflect.construct(module() as new (...args: unknown[]) => object, args),
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
    return onFirstUse(() => load.call(this, request, parent, isMain), entry);
  };
}

compileOwnSourceMapsOnly();
loadPackageCommonJsDirectly();
deferUnusedModules();
