import { Lazy } from "cdktf";
import { skipTokenCreationTraces } from "../../stacks/token-traces";

describe("skipTokenCreationTraces", () => {
  const installed = Error.prepareStackTrace;
  let restore: () => void;

  beforeEach(() => {
    // Start from Node's own formatting, not the hook the jest setup installs.
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
    restore = skipTokenCreationTraces();
  });

  afterEach(() => {
    restore();
    Error.prepareStackTrace = installed;
  });

  it("leaves the creation trace of a cdktf token empty", () => {
    const token = Lazy.anyValue({ produce: () => "value" }) as unknown as { creationStack: string[] };
    expect(token.creationStack).toEqual([]);
  });

  it("keeps the message and frames of an error's trace", () => {
    const stack = new Error("kept").stack ?? "";
    expect(stack).toMatch(/^Error: kept\n {4}at /);
    expect(stack).toContain("token-traces.test.ts");
  });

  it("leaves a plain object's trace empty, as cdktf's captures are", () => {
    const target: { stack?: string } = {};
    Error.captureStackTrace(target);
    expect(target.stack).toBe("");
  });

  it("still captures an error's trace, as custom error classes do", () => {
    class CustomError extends Error {
      constructor() {
        super("custom");
        Error.captureStackTrace(this, CustomError);
      }
    }
    expect(new CustomError().stack).toMatch(/^Error: custom\n {4}at .*token-traces\.test\.ts/);
  });

  it("captures a plain object's trace for code that formats it itself, as call-site readers do", () => {
    const ours = Error.prepareStackTrace;
    Error.prepareStackTrace = (_target, frames) => frames;
    let frames: unknown;
    try {
      const target: { stack?: unknown } = {};
      Error.captureStackTrace(target);
      frames = target.stack; // formatted when first read
    } finally {
      Error.prepareStackTrace = ours;
    }
    expect(Array.isArray(frames) && frames.length > 0).toBe(true);
  });

  it("hands errors to the formatting that was there before", () => {
    restore();
    Error.prepareStackTrace = (error) => `formatted ${(error as Error).message}`;
    restore = skipTokenCreationTraces();
    expect(new Error("by the previous hook").stack).toBe("formatted by the previous hook");
  });

  it("puts the previous formatting and capture back", () => {
    const capture = Error.captureStackTrace;
    restore();
    expect(Error.captureStackTrace).not.toBe(capture);
    const token = Lazy.anyValue({ produce: () => "value" }) as unknown as { creationStack: string[] };
    expect(token.creationStack.length).toBeGreaterThan(0);
  });
});
