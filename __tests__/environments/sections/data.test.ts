import { stringify } from "yaml";
import { parseEnvironment } from "../../../environments/load";
import { configFor, rawEnvironment, type Patch } from "../../helpers/config";

/** The loader's problems for `environments/<name>.yaml` with `patch`, as `path: message` lines. */
function problems(name: string, patch: Patch): string[] {
  const result = parseEnvironment(stringify(rawEnvironment(name, patch)), `environments/${name}.yaml`);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe("data section defaults", () => {
  test("declares the raw, curated, features and model-artifacts buckets", () => {
    expect(Object.keys(configFor("dev").data.buckets).sort()).toEqual([
      "curated",
      "features",
      "model-artifacts",
      "raw",
    ]);
  });

  test.each([
    ["dev", 120],
    ["test", 180],
    ["prod", 365],
  ])("%s keeps noncurrent versions %i days", (env, days) => {
    expect(configFor(env).data.buckets.raw.noncurrentVersionExpirationDays).toBe(days);
  });

  test.each([
    ["dev", 90],
    ["prod", 730],
  ])("%s keeps access logs %i days", (env, days) => {
    expect(configFor(env).data.accessLogs.retentionDays).toBe(days);
  });

  test("moves noncurrent versions to Standard-IA at 30 days and Glacier at 90", () => {
    expect(configFor("prod").data.buckets.curated).toMatchObject({
      noncurrentVersionInfrequentAccessDays: 30,
      noncurrentVersionGlacierDays: 90,
      intelligentTiering: false,
    });
  });
});

describe("data section overrides", () => {
  test("an entry overrides one bucket and keeps the others", () => {
    const config = configFor("dev", { data: { buckets: { raw: { noncurrentVersionExpirationDays: 400 } } } });
    expect(config.data.buckets.raw.noncurrentVersionExpirationDays).toBe(400);
    expect(Object.keys(config.data.buckets)).toHaveLength(4);
  });

  test("a new entry adds a bucket with defaults", () => {
    const config = configFor("prod", {
      data: { buckets: { audit: { objectLock: { mode: "COMPLIANCE", days: 2555 } } } },
    });
    expect(config.data.buckets.audit).toMatchObject({
      noncurrentVersionExpirationDays: 365,
      objectLock: { mode: "COMPLIANCE", days: 2555 },
    });
  });

  test("null removes a default bucket", () => {
    expect(
      Object.keys(configFor("dev", { data: { buckets: { features: null } } }).data.buckets),
    ).not.toContain("features");
  });
});

describe("data section errors", () => {
  test("refuses an unknown bucket setting", () => {
    expect(problems("dev", { data: { buckets: { raw: { versioning: false } } } })).toEqual([
      "data.buckets.raw.versioning: is not a known setting (check the spelling; unknown keys are errors)",
    ]);
  });

  test("refuses a bucket purpose that cannot be part of a bucket name", () => {
    expect(problems("dev", { data: { buckets: { Raw_Data: {} } } })).toEqual([
      "data.buckets.Raw_Data: is not a valid bucket purpose: use 2-20 lowercase letters, digits or hyphens, starting with a letter",
    ]);
  });

  test("refuses Glacier before Standard-IA", () => {
    expect(problems("dev", { data: { buckets: { raw: { noncurrentVersionGlacierDays: 30 } } } })).toContain(
      "data.buckets.raw.noncurrentVersionGlacierDays: must be greater than noncurrentVersionInfrequentAccessDays (30)",
    );
  });

  test("refuses expiry before Glacier", () => {
    expect(
      problems("dev", { data: { buckets: { curated: { noncurrentVersionExpirationDays: 60 } } } }),
    ).toEqual([
      "data.buckets.curated.noncurrentVersionExpirationDays: must be greater than noncurrentVersionGlacierDays (90)",
    ]);
  });

  test("refuses Standard-IA before 30 days", () => {
    expect(
      problems("dev", { data: { buckets: { raw: { noncurrentVersionInfrequentAccessDays: 7 } } } }),
    ).toContain("data.buckets.raw.noncurrentVersionInfrequentAccessDays: must be at least 30 (an S3 rule)");
  });

  test("refuses a replication destination that is not a bucket ARN", () => {
    const patch = {
      data: {
        buckets: { raw: { replication: { destinationBucketArn: "dr-bucket", destinationKeyArn: "k" } } },
      },
    };
    expect(problems("prod", patch)).toEqual([
      "data.buckets.raw.replication.destinationBucketArn: must be an S3 bucket ARN such as arn:aws:s3:::mlops-prod-raw-dr",
      expect.stringContaining("data.buckets.raw.replication.destinationKeyArn: must be a KMS key ARN"),
    ]);
  });

  test("refuses an Object Lock mode other than GOVERNANCE or COMPLIANCE", () => {
    expect(
      problems("prod", { data: { buckets: { raw: { objectLock: { mode: "LEGAL", days: 1 } } } } }),
    ).toEqual(["data.buckets.raw.objectLock.mode: must be one of GOVERNANCE, COMPLIANCE"]);
  });
});
