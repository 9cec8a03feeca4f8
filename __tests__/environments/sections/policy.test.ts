import { parseEnvironment } from "../../../environments/load";
import { configFor, rawEnvironment, type Patch } from "../../helpers/config";
import { stringify } from "yaml";

function problems(name: string, patch: Patch): string[] {
  const result = parseEnvironment(stringify(rawEnvironment(name, patch)), `environments/${name}.yaml`);
  return result.ok ? [] : result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
}

describe("policy section of an environment file", () => {
  it("defaults to no per-rule levels", () => {
    expect(configFor("prod").policy.rules).toEqual({});
  });

  it("accepts a level for a rule", () => {
    expect(configFor("prod", { policy: { rules: { "MLOPS-S3-005": "warn" } } }).policy.rules).toEqual({
      "MLOPS-S3-005": "warn",
    });
  });

  it("rejects an unknown rule id at its line and column", () => {
    expect(problems("prod", { policy: { rules: { "MLOPS-S3-999": "warn" } } })).toEqual([
      expect.stringMatching(/^\d+:\d+ policy\.rules\.MLOPS-S3-999: is not a rule of the policy pack/),
    ]);
  });

  it("rejects a level that is not error, warn or off", () => {
    expect(problems("dev", { policy: { rules: { "MLOPS-S3-005": "ignore" } } })).toEqual([
      expect.stringMatching(/policy\.rules\.MLOPS-S3-005: must be one of error, warn, off$/),
    ]);
  });

  it.each(["test", "prod"])("refuses to weaken a critical rule in %s and points to suppressions", (env) => {
    expect(problems(env, { policy: { rules: { "MLOPS-S3-002": "off" } } })).toEqual([
      expect.stringMatching(
        /policy\.rules\.MLOPS-S3-002: is critical and cannot be set to off .*PolicySuppressions\.add/,
      ),
    ]);
  });

  it("lets dev weaken a critical rule", () => {
    expect(
      configFor("dev", { policy: { rules: { "MLOPS-S3-002": "off" } } }).policy.rules["MLOPS-S3-002"],
    ).toBe("off");
  });

  it("rejects unknown keys in the section", () => {
    expect(problems("dev", { policy: { rule: {} } })).toEqual([
      expect.stringMatching(/policy\.rule: is not a known setting/),
    ]);
  });
});
