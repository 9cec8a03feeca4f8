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

  it("hands errors to the formatting that was there before", () => {
    restore();
    Error.prepareStackTrace = (error) => `formatted ${(error as Error).message}`;
    restore = skipTokenCreationTraces();
    expect(new Error("by the previous hook").stack).toBe("formatted by the previous hook");
  });

  it("puts the previous formatting back", () => {
    restore();
    const token = Lazy.anyValue({ produce: () => "value" }) as unknown as { creationStack: string[] };
    expect(token.creationStack.length).toBeGreaterThan(0);
  });
});
