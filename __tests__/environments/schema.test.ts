import { stringify } from "yaml";
import { parseEnvironment } from "../../environments/load";
import { quantityValue, s3BucketNameProblem } from "../../environments/schema";
import { configFor, rawEnvironment, type Patch } from "../helpers/config";

/** The loader's problems for `environments/<name>.yaml` with `patch`, as `path: message` lines. */
function problems(name: string, patch: Patch): string[] {
  const result = parseEnvironment(stringify(rawEnvironment(name, patch)), `environments/${name}.yaml`);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe("quantityValue", () => {
  test.each([
    ["500m", 0.5],
    ["0.5", 0.5],
    ["2", 2],
    ["1.1k", 1100],
    ["3M", 3e6],
    ["1G", 1e9],
    ["2T", 2e12],
    ["1Ki", 1024],
    ["512Mi", 512 * 1024 ** 2],
    ["1.5Gi", 1.5 * 1024 ** 3],
    ["1Ti", 1024 ** 4],
  ])("%s is %d", (quantity, value) => {
    expect(quantityValue(quantity)).toBe(value);
  });

  test("is undefined for what is not a quantity", () => {
    for (const text of ["", "1.", "Gi", "1GiB", "-1", "1e3"]) expect(quantityValue(text)).toBeUndefined();
  });
});

describe("state.bucket", () => {
  test.each([
    ["192.168.1.1", "must not be formatted as an IP address (S3 refuses it); choose a name with letters"],
    ["my..state", "must not contain two adjacent dots (S3 refuses them)"],
    ["xn--state", "must not start with xn--, a prefix S3 reserves; choose another name"],
    ["sthree-state", "must not start with sthree-, a prefix S3 reserves; choose another name"],
    ["state-s3alias", "must not end with -s3alias, a suffix S3 reserves; choose another name"],
    ["state--ol-s3", "must not end with --ol-s3, a suffix S3 reserves; choose another name"],
  ])("refuses %s, which S3 refuses", (bucket, message) => {
    expect(problems("dev", { state: { bucket } })).toEqual([`state.bucket: ${message}`]);
  });

  test("reports a name outside the pattern once", () => {
    expect(problems("dev", { state: { bucket: "State" } })).toEqual([
      "state.bucket: must be a valid S3 bucket name",
    ]);
  });

  test("takes a name with dots and hyphens", () => {
    expect(configFor("dev", { state: { bucket: "acme.mlops-dev.state" } }).state.bucket).toBe(
      "acme.mlops-dev.state",
    );
  });
});

describe("bucket names elsewhere", () => {
  test("a project that would give every bucket a reserved prefix is refused", () => {
    for (const project of ["xn--ml", "sthree", "amzn-s3-demo"]) {
      expect(problems("dev", { project })).toEqual([
        "project: must not make bucket names (<project>-<name>-...) start with a prefix S3 reserves (xn--, sthree-, amzn-s3-demo-); choose another project name",
      ]);
    }
    expect(configFor("dev", { project: "sthreeml" }).state.bucket).toBe("sthreeml-dev-tfstate-111111111111");
  });

  test("a project and a name that together give every bucket a reserved prefix are refused", () => {
    const text = stringify(rawEnvironment("dev", { project: "amzn-s3", name: "demo" }));
    const result = parseEnvironment(text, "environments/demo.yaml");
    expect(!result.ok && result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "name: makes bucket names start with amzn-s3-demo-, and S3 reserves the prefix amzn-s3-demo-; choose another name or project",
    ]);
    expect(
      parseEnvironment(stringify(rawEnvironment("dev", { project: "amzn-s3" })), "environments/dev.yaml").ok,
    ).toBe(true);
  });

  test("a replication destination S3 would refuse is refused", () => {
    const replication = {
      destinationBucketArn: "arn:aws:s3:::mlops..dr",
      destinationKeyArn: "arn:aws:kms:eu-central-1:111111111111:key/abc",
    };
    expect(problems("dev", { data: { buckets: { raw: { replication } } } })).toEqual([
      "data.buckets.raw.replication.destinationBucketArn: names bucket mlops..dr, which must not contain two adjacent dots (S3 refuses them)",
    ]);
  });

  test("s3BucketNameProblem accepts names S3 accepts", () => {
    for (const name of ["abc", "mlops-prod-raw-dr", "a.b-c.1", "xn-abc", "s3alias"]) {
      expect(s3BucketNameProblem(name)).toBeUndefined();
    }
  });
});

describe("protection", () => {
  test("forceDestroy with preventDestroy is refused as a contradiction", () => {
    expect(problems("dev", { protection: { preventDestroy: true, forceDestroy: true } })).toEqual([
      "protection.forceDestroy: contradicts protection.preventDestroy (true); turn one of them off",
    ]);
  });

  test("forceDestroy alone is accepted in dev", () => {
    expect(problems("dev", { protection: { preventDestroy: false, forceDestroy: true } })).toEqual([]);
  });
});
