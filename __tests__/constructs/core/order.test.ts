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
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(compareCodeUnits(a, b) === 0).toBe(a === b);
        expect(Math.sign(compareCodeUnits(a, b))).toBe(-Math.sign(compareCodeUnits(b, a)));
      }),
    );
  });

  it("orders where locales disagree by code unit: capitals first, `_` after capitals, `aa` before `z`", () => {
    expect(["b", "Z", "a"].sort(compareCodeUnits)).toEqual(["Z", "a", "b"]);
    expect(["MODEL_NAME", "MODELS"].sort(compareCodeUnits)).toEqual(["MODELS", "MODEL_NAME"]);
    expect(["z", "aa"].sort(compareCodeUnits)).toEqual(["aa", "z"]);
  });
});
