/**
 * cdktf records where each of its tokens and attribute references was created (thousands per synth) by
 * capturing a whole stack trace into a plain object and formatting it at once. Capturing and formatting
 * those traces, through source maps under tsx and jest, was a third of a synth's time, and they are read only
 * when a token fails to resolve.
 */

/**
 * Leaves the traces cdktf captures into plain objects empty, until the returned function is called. Such a
 * capture is skipped altogether (a trace as deep as a construct tree costs a few microseconds per token), and
 * one that runs anyway, for example through V8 directly, is formatted as empty. Errors keep their trace and
 * the format they had (the previous `Error.prepareStackTrace`, else V8's). Traces are formatted when first
 * read, so an error created meanwhile but read after the restore gets Node's usual format, with source maps.
 *
 * Code that installs its own `Error.prepareStackTrace` for a moment, to read call sites from a plain object,
 * gets its capture as before.
 */
export function skipTokenCreationTraces(): () => void {
  const previousPrepare = Error.prepareStackTrace;
  const previousCapture = Object.getOwnPropertyDescriptor(Error, "captureStackTrace");
  const capture = Error.captureStackTrace;
  const prepare = (target: object, frames: NodeJS.CallSite[]): string => {
    if (!(target instanceof Error)) return "";
    if (previousPrepare) return previousPrepare(target, frames) as string;
    return [`${target.name}: ${target.message}`, ...frames.map((frame) => `    at ${frame.toString()}`)].join(
      "\n",
    );
  };
  Error.prepareStackTrace = prepare;
  Error.captureStackTrace = function captureStackTrace(
    target: object,
    below?: Parameters<typeof capture>[1],
  ): void {
    // With this module's formatting in place, a plain object's trace would be formatted as "" anyway.
    if (!(target instanceof Error) && Error.prepareStackTrace === prepare) {
      (target as { stack?: string }).stack = "";
      return;
    }
    capture(target, below);
  };
  return () => {
    Error.prepareStackTrace = previousPrepare;
    if (previousCapture) Object.defineProperty(Error, "captureStackTrace", previousCapture);
  };
}
