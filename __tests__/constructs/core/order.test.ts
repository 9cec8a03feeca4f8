import fc from "fast-check";
import { compareCodeUnits } from "../../../constructs/core/order";

describe("compareCodeUnits", () => {
  it("sorts as Array.prototype.sort() does without a comparator", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" })), (strings) => {
        expect([...strings].sort(compareCodeUnits)).toEqual([...strings].sort());
      }),
      { numRuns: 300 },
    );
  });

  it("is zero only for equal strings, and antisymmetric", () => {
    // Equal pairs are drawn on purpose: two independent strings are rarely equal.
    const pairs = fc.oneof(
      fc.tuple(fc.string(), fc.string()),
      fc.string().map((a) => [a, a] as const),
    );
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        expect(compareCodeUnits(a, b) === 0).toBe(a === b);
        // A sum, not `toBe(-sign)`: -Math.sign(0) is -0, which `toBe` tells apart from 0.
        expect(Math.sign(compareCodeUnits(a, b)) + Math.sign(compareCodeUnits(b, a))).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("orders where locales disagree by code unit: capitals first, `_` after capitals, `aa` before `z`", () => {
    expect(["b", "Z", "a"].sort(compareCodeUnits)).toEqual(["Z", "a", "b"]);
    expect(["MODEL_NAME", "MODELS"].sort(compareCodeUnits)).toEqual(["MODELS", "MODEL_NAME"]);
    expect(["z", "aa"].sort(compareCodeUnits)).toEqual(["aa", "z"]);
  });
});
