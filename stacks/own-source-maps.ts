/**
 * Source maps for this repository's TypeScript only, not for the packages it loads.
 *
 * `main.ts` imports this module first, for its effect: from then on, a module compiled from `node_modules` is
 * compiled with Node's source maps off. tsx turns source maps on so that a stack trace shows TypeScript lines,
 * and with them on Node reads the inline source map of every module it compiles, measures its lines and
 * decodes its map, needed or not. The provider packages and cdktf ship ~20 MB of JavaScript, each file with an
 * inline map: that was 15 % of a synth. A trace still shows our TypeScript files and lines; frames inside a
 * package show its JavaScript, as plain Node does.
 *
 * This is the one module here that does work when imported; nothing but `main.ts` imports it.
 */
import Module from "node:module";
import { sep } from "node:path";

const NODE_MODULES = `${sep}node_modules${sep}`;

interface CompilingModule {
  _compile(content: string, filename: string): unknown;
}

/**
 * Compiles modules from `node_modules` with source maps off. The process's setting is restored after each such
 * module (its own `require`s included), so modules outside `node_modules` keep whatever tsx or Node asked for.
 */
function compileOwnSourceMapsOnly(): void {
  const prototype = Module.prototype as unknown as CompilingModule;
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

compileOwnSourceMapsOnly();
