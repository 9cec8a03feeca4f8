import fc from "fast-check";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import {
  App,
  DefaultTokenResolver,
  Fn,
  Lazy,
  StringConcat,
  TerraformOutput,
  TerraformStack,
  Testing,
  Token,
  Tokenization,
} from "cdktf";
import { Construct } from "constructs";
import { buildApp } from "../../stacks/app";
import { renderStack, resolveValue } from "../../stacks/stack-render";
import { configFor } from "../helpers/config";

/** What cdktf's own resolution makes of `value`: its result, or the message it throws. */
function byCdktf(scope: Construct, value: unknown): { value?: unknown; error?: string } {
  try {
    return {
      value: Tokenization.resolve(value, {
        scope,
        resolver: new DefaultTokenResolver(new StringConcat()),
        preparing: false,
      }),
    };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function byRender(scope: Construct, value: unknown): { value?: unknown; error?: string } {
  try {
    return { value: resolveValue(scope, value) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Same result, same key order, or the same error. */
function expectSameAsCdktf(scope: Construct, value: unknown): void {
  const expected = byCdktf(scope, value);
  const actual = byRender(scope, value);
  expect(actual).toStrictEqual(expected);
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
}

/** cdktf's own render of a stack, bypassing any override of `toTerraform`. */
function cdktfRender(stack: TerraformStack): string {
  return JSON.stringify(TerraformStack.prototype.toTerraform.call(stack));
}

describe("renderStack", () => {
  it.each([false, true])(
    "renders every stack of dev, test and prod as cdktf does (offline: %s)",
    (offline) => {
      const { stacks } = buildApp({
        environments: ["dev", "test", "prod"].map((name) => configFor(name)),
        offline,
        outdir: Testing.app().outdir,
      });
      let compared = 0;
      for (const environment of stacks.values()) {
        for (const stack of Object.values(environment) as TerraformStack[]) {
          // Aspects and validations first, as in a synth: they add to the stack.
          Testing.synth(stack);
          const expected = cdktfRender(stack);
          expect(JSON.stringify(renderStack(stack))).toBe(expected);
          expect(JSON.stringify(stack.toTerraform())).toBe(expected);
          compared++;
        }
      }
      expect(compared).toBe(12);
    },
  );

  function smallStack(): { stack: TerraformStack; bucket: S3Bucket } {
    const stack = new TerraformStack(Testing.app(), "small");
    const group = new Construct(stack, "Group");
    const bucket = new S3Bucket(group, "Bucket", { bucketPrefix: "raw-", tags: { Team: "ml" } });
    new SnsTopic(stack, "Topic", { name: Fn.join("-", ["alerts", bucket.bucket]) });
    new TerraformOutput(group, "BucketArn", { value: bucket.arn });
    new TerraformOutput(stack, "Count", { value: Token.asNumber(bucket.id) });
    bucket.addOverride("force_destroy", true);
    bucket.addOverride("tags.Team", undefined);
    stack.addOverride("locals.bucket", bucket.arn);
    stack.addOverride("terraform.required_version", ">= 1.11");
    // Values that resolve to nothing: cdktf drops them, inside a block and as a block of their own.
    stack.addOverride("locals.gone", Lazy.anyValue({ produce: () => undefined }));
    stack.addOverride("gone", Lazy.anyValue({ produce: () => undefined }));
    return { stack, bucket };
  }

  it("renders outputs, element and stack overrides (tokens and deletions among them) as cdktf does", () => {
    const { stack } = smallStack();
    const rendered = renderStack(stack);
    expect(JSON.stringify(rendered)).toBe(cdktfRender(stack));
    expect(rendered).not.toHaveProperty("gone");
    expect(rendered).not.toHaveProperty(["locals", "gone"]);
    // The cases above are really in it.
    expect(rendered).toMatchObject({
      "//": { outputs: { small: { Group: { BucketArn: expect.any(String) } } } },
      locals: { bucket: expect.stringMatching(/^\$\{aws_s3_bucket\.Group_Bucket_[0-9A-F]{8}\.arn\}$/) },
    });
  });

  it("fails with an explanation when cdktf keeps the stack's overrides elsewhere", () => {
    const { stack } = smallStack();
    delete (stack as unknown as { rawOverrides?: unknown }).rawOverrides;
    expect(() => renderStack(stack)).toThrow(/no longer keeps its overrides in `rawOverrides`/);
  });
});

describe("resolveValue", () => {
  const app = new App({ outdir: Testing.app().outdir });
  const stack = new TerraformStack(app, "tokens");
  const bucket = new S3Bucket(stack, "Bucket", { bucketPrefix: "raw-" });
  const stringToken = bucket.arn;
  const numberToken = Token.asNumber(bucket.id);
  const listToken = Token.asList(bucket.id);
  const mapToken = Token.asStringMap(bucket.tags);
  const numberListToken = Token.asNumberList(bucket.id);
  const deep = (levels: number): unknown => {
    let value: unknown = "bottom";
    for (let level = 0; level < levels; level++) value = { level: value };
    return value;
  };

  it.each<[string, unknown]>([
    ["a plain string", "raw-data"],
    ["a string token", stringToken],
    ["a string with a token inside", `arn=${stringToken};`],
    ["a number token", numberToken],
    ["a number token inside a string", `size ${numberToken}`],
    ["a string that looks like an encoded number", "run-e2e-1e5"],
    ["Terraform's own interpolation, escaped by cdktf when next to a token", `\${var.x}-${stringToken}`],
    ["a list token", listToken],
    ["a list token among strings", ["a", ...listToken]],
    ["a list token inside a string", `${listToken}`],
    ["a map token", mapToken],
    ["a number list token", numberListToken],
    ["a number list token inside an object", { ports: numberListToken }],
    ["a number list token among numbers", [1, ...numberListToken]],
    ["a plain object with a resolve method", { resolve: () => `plain-${stringToken}` }],
    ["a map token as a key", { [`${Token.asString(mapToken)}`]: "x" }],
    ["a lazy string", Lazy.stringValue({ produce: () => `lazy-${stringToken}` })],
    ["a lazy number", Lazy.numberValue({ produce: () => 3 })],
    ["a lazy list", Lazy.listValue({ produce: () => ["a", stringToken] })],
    ["a lazy value that gives undefined", { kept: 1, gone: Lazy.anyValue({ produce: () => undefined }) }],
    ["a function call", Fn.upper(stringToken)],
    ["undefined in objects and arrays", { a: undefined, b: [1, undefined, { c: undefined }], d: null }],
    ["an object without a prototype", Object.assign(Object.create(null) as object, { a: 1, b: [true] })],
    [
      "an instance of a class",
      new (class Settings {
        readonly retention = 7;
      })(),
    ],
    ["a date", new Date(0)],
    ["nested plain data", { a: { b: { c: [[1, 2], ["x"]], d: false } }, e: "" }],
    ["a function", () => "x"],
    ["a function deep inside", { a: { b: [1, () => "x"] } }],
    ["a construct", bucket],
    ["a construct deep inside", { a: [{ b: bucket }] }],
    ["data as deep as cdktf resolves", deep(200)],
    ["data one level deeper than cdktf resolves", deep(201)],
    ["data deeper than cdktf resolves", deep(250)],
    ["the string map token value", Token.STRING_MAP_TOKEN_VALUE],
    ["the number map token value", Token.NUMBER_MAP_TOKEN_VALUE],
  ])("gives what cdktf gives for %s", (_name, value) => {
    expectSameAsCdktf(stack, value);
  });

  it("copies plain data itself and hands cdktf only the smallest values that may hold a token", () => {
    const resolve = jest.spyOn(Tokenization, "resolve");
    try {
      const plain = { name: "raw", sizes: [1, 2.5], nested: { on: true, none: null, gone: undefined } };
      expect(resolveValue(stack, plain)).toStrictEqual({
        name: "raw",
        sizes: [1, 2.5],
        nested: { on: true, none: null },
      });
      expect(resolve).not.toHaveBeenCalled();
      resolveValue(stack, { ...plain, arn: stringToken, list: ["a", "b"] });
      expect(resolve).toHaveBeenCalledTimes(1);
      expect(resolve.mock.calls[0][0]).toBe(stringToken);
    } finally {
      resolve.mockRestore();
    }
  });

  it("gives what cdktf gives for any JSON-like value with tokens in it", () => {
    const leaf = fc.oneof(
      fc.constantFrom<unknown>(
        stringToken,
        numberToken,
        listToken,
        mapToken,
        numberListToken,
        `x-${stringToken}-y`,
        `n${numberToken}`,
        Lazy.stringValue({ produce: () => "lazy" }),
        Lazy.anyValue({ produce: () => ({ nested: [stringToken, undefined] }) }),
        "${literal}",
        "1e5",
        undefined,
        null,
      ),
      fc.string(),
      fc.double(),
      fc.integer(),
      fc.boolean(),
    );
    const key = fc.oneof(
      { weight: 9, arbitrary: fc.string() },
      { weight: 1, arbitrary: fc.constant(stringToken) },
    );
    const tree = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        leaf,
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(key, tie("node"), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        expectSameAsCdktf(stack, value);
      }),
      { numRuns: 300 },
    );
  });
});
