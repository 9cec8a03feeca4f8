import { diffValues, formatPath, parseJsonString, valueAt } from "../../../tools/lib/review/diff";

describe("attribute diff", () => {
  test("equal values have no difference", () => {
    expect(diffValues({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toEqual([]);
  });

  test("JSON strings are compared as parsed JSON", () => {
    expect(diffValues('{"a":1,"b":2}', '{ "b": 2, "a": 1 }')).toEqual([]);
    expect(diffValues('{"a":1}', '{"a":2}')).toEqual([{ segments: ["a"], before: 1, after: 2 }]);
  });

  test("a block written as an object equals the same block as a one-element list", () => {
    expect(diffValues({ rule: { status: "Enabled" } }, { rule: [{ status: "Enabled" }] })).toEqual([]);
  });

  test("a changed list of plain values is reported whole", () => {
    expect(diffValues({ ids: ["a", "b"] }, { ids: ["a", "c"] })).toEqual([
      { segments: ["ids"], before: ["a", "b"], after: ["a", "c"] },
    ]);
  });

  test("lists of blocks are compared element by element", () => {
    expect(
      diffValues({ rule: [{ id: "x", days: 1 }] }, { rule: [{ id: "x", days: 2 }, { id: "y" }] }),
    ).toEqual([
      { segments: ["rule", 0, "days"], before: 1, after: 2 },
      { segments: ["rule", 1], before: undefined, after: { id: "y" } },
    ]);
  });

  test("an added or removed attribute has an undefined side", () => {
    expect(diffValues({}, { kms_key_id: "k" })).toEqual([
      { segments: ["kms_key_id"], before: undefined, after: "k" },
    ]);
  });

  test("paths read like Terraform's, with odd keys quoted", () => {
    expect(formatPath(["rule", 0, "status"])).toBe("rule[0].status");
    expect(formatPath(["tags", "kubernetes.io/role"])).toBe('tags["kubernetes.io/role"]');
  });

  test("strings that are not JSON documents stay strings", () => {
    expect(parseJsonString("${aws_s3_bucket.Raw.arn}")).toBe("${aws_s3_bucket.Raw.arn}");
    expect(parseJsonString("[not json")).toBe("[not json");
  });

  test("valueAt walks single blocks, lists and JSON strings", () => {
    expect(valueAt({ a: [{ b: '{"c":3}' }] }, ["a", "b", "c"])).toBe(3);
    expect(valueAt({ a: { b: 1 } }, ["a", 0, "b"])).toBe(1);
  });
});
