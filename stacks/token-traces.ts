/**
 * cdktf records where each of its tokens and attribute references was created (thousands per synth) by
 * capturing a whole stack trace into a plain object and formatting it at once. Formatting those traces,
 * through source maps under tsx and jest, was a third of a synth's time, and they are read only when a token
 * fails to resolve.
 */

/**
 * Formats the traces cdktf captures into plain objects as empty, until the returned function is called;
 * errors keep the format they had (the previous `Error.prepareStackTrace`, else V8's). Traces are formatted
 * when first read, so an error created meanwhile but read after the restore gets Node's usual format, with
 * source maps.
 */
export function skipTokenCreationTraces(): () => void {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (target: object, frames: NodeJS.CallSite[]): string => {
    if (!(target instanceof Error)) return "";
    if (previous) return previous(target, frames) as string;
    return [`${target.name}: ${target.message}`, ...frames.map((frame) => `    at ${frame.toString()}`)].join(
      "\n",
    );
  };
  return () => {
    Error.prepareStackTrace = previous;
  };
}
