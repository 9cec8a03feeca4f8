import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EnvironmentConfigError,
  formatProblem,
  loadEnvironments,
  parseEnvironment,
} from "../../environments/load";
import { ROOT } from "../helpers/config";

const BROKEN = join("__tests__", "environments", "fixtures", "broken");

function problemsOf(fixture: string): string[] {
  const file = join(BROKEN, `${fixture}.yaml`);
  const result = parseEnvironment(readFileSync(join(ROOT, file), "utf8"), file);
  if (result.ok) throw new Error(`${fixture} was accepted`);
  return result.problems.map(formatProblem);
}

describe("the committed environment files", () => {
  const configs = loadEnvironments(join(ROOT, "environments"));

  it("are dev, prod and test, in name order", () => {
    expect(configs.map((config) => config.name)).toEqual(["dev", "prod", "test"]);
  });

  it("each name the JSON Schema on the first line for editors", () => {
    for (const name of ["dev", "test", "prod"]) {
      const firstLine = readFileSync(join(ROOT, "environments", `${name}.yaml`), "utf8").split("\n")[0];
      expect(firstLine).toBe("# yaml-language-server: $schema=./environment.schema.json");
    }
  });

  it("fill tier defaults: dev is disposable, test and prod are protected", () => {
    const byName = Object.fromEntries(configs.map((config) => [config.name, config]));
    expect(byName.dev.protection).toMatchObject({ preventDestroy: false, keyDeletionWindowDays: 7 });
    expect(byName.test.protection).toMatchObject({ preventDestroy: true, keyDeletionWindowDays: 30 });
    expect(byName.prod.protection).toMatchObject({ preventDestroy: true, keyDeletionWindowDays: 30 });
    expect(byName.dev.network.natGateways).toBe("single");
    expect(byName.prod.network.natGateways).toBe("per-az");
    expect(byName.dev.logs.retentionDays).toBeLessThan(byName.prod.logs.retentionDays);
  });

  it("derive the state bucket from project, environment and account", () => {
    const dev = configs.find((config) => config.name === "dev")!;
    expect(dev.state).toEqual({ bucket: `mlops-dev-tfstate-${dev.aws.accountId}`, region: dev.aws.region });
  });
});

describe("a broken environment file", () => {
  const cases: [string, string[]][] = [
    [
      "typo",
      [
        `${BROKEN}/typo.yaml:10:3 tags.ownr: is not a known setting (check the spelling; unknown keys are errors)`,
      ],
    ],
    [
      "wrongtype",
      [
        `${BROKEN}/wrongtype.yaml:4:14 aws.accountId: must be a 12-digit AWS account id in quotes, such as "123456789012"`,
      ],
    ],
    ["missing", [`${BROKEN}/missing.yaml:3:1 aws.region: is required`]],
    ["badtier", [`${BROKEN}/badtier.yaml:2:7 tier: must be one of dev, test, prod`]],
    [
      "onezone",
      [`${BROKEN}/onezone.yaml:6:22 aws.availabilityZones: prod needs at least 2 availability zones`],
    ],
    [
      "zoneregion",
      [
        `${BROKEN}/zoneregion.yaml:8:7 aws.availabilityZones[1]: must be in the environment's region eu-west-1`,
      ],
    ],
    [
      "forcedprod",
      [
        `${BROKEN}/forcedprod.yaml:11:19 protection.preventDestroy: may be false in dev only; a prod environment keeps prevent_destroy on every stateful resource`,
        `${BROKEN}/forcedprod.yaml:12:17 protection.forceDestroy: is allowed in dev only; a prod environment must never force-destroy data`,
      ],
    ],
    [
      "range",
      [
        `${BROKEN}/range.yaml:11:26 protection.keyDeletionWindowDays: must be at least 7`,
        expect.stringMatching(
          new RegExp(`^${BROKEN}/range.yaml:13:18 logs.retentionDays: must be one of CloudWatch`),
        ),
        `${BROKEN}/range.yaml:15:12 network.vpcCidr: must be an IPv4 CIDR block with octets 0-255 and a prefix length 0-32`,
      ] as string[],
    ],
    ["badyaml", [`${BROKEN}/badyaml.yaml:5:1 invalid YAML: All mapping items must start at the same column`]],
    ["dupkey", [`${BROKEN}/dupkey.yaml:3:1 invalid YAML: Map keys must be unique`]],
    ["notmap", [`${BROKEN}/notmap.yaml:1:1 must be a mapping of settings (name, tier, aws, tags...)`]],
  ];

  it.each(cases)("%s is reported as file:line:col path: message", (fixture, expected) => {
    expect(problemsOf(fixture)).toEqual(expected);
  });

  it("must carry its file's name", () => {
    const text = readFileSync(join(ROOT, BROKEN, "typo.yaml"), "utf8").replace("  ownr: typo\n", "");
    const result = parseEnvironment(text, "environments/staging.yaml");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map(formatProblem)).toEqual([
      "environments/staging.yaml:1:7 name: must equal the file name (staging)",
    ]);
  });

  it("stops loading the whole folder with every problem of every file", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlops-envs-"));
    cpSync(join(ROOT, BROKEN, "typo.yaml"), join(dir, "typo.yaml"));
    cpSync(join(ROOT, BROKEN, "missing.yaml"), join(dir, "missing.yaml"));
    let caught: unknown;
    try {
      loadEnvironments(dir);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EnvironmentConfigError);
    expect((caught as EnvironmentConfigError).problems.map((problem) => problem.path)).toEqual([
      "aws.region",
      "tags.ownr",
    ]);
  });

  it("reports a record key that is not valid at the key, not at its value", () => {
    const text = readFileSync(join(ROOT, "environments", "dev.yaml"), "utf8");
    const line = text.split("\n").findIndex((row) => row === "    churn:") + 1;
    const result = parseEnvironment(text.replace("    churn:", "    Churn:"), "environments/dev.yaml");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        new RegExp(`^environments/dev\\.yaml:${line}:5 serving\\.sagemakerEndpoints\\.Churn: `),
      ),
    ]);
  });

  it("refuses a .yml file, which would otherwise be skipped without a word", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlops-envs-"));
    cpSync(join(ROOT, "environments"), dir, { recursive: true });
    writeFileSync(
      join(dir, "staging.yml"),
      readFileSync(join(dir, "test.yaml"), "utf8").replace("name: test", "name: staging"),
    );
    expect(() => loadEnvironments(dir)).toThrow(
      /staging\.yml:1:1 is not read: environment files end in \.yaml; rename it to staging\.yaml/,
    );
  });

  it("refuses a .YAML or .yml file of any case, not only .yml", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlops-envs-"));
    cpSync(join(ROOT, "environments"), dir, { recursive: true });
    writeFileSync(join(dir, "staging.YAML"), "name: staging\n");
    writeFileSync(join(dir, "qa.Yml"), "name: qa\n");
    const problems = (() => {
      try {
        loadEnvironments(dir);
        return [];
      } catch (error) {
        return (error as EnvironmentConfigError).problems.map(formatProblem);
      }
    })();
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/staging\.YAML:1:1 is not read: .*rename it to staging\.yaml$/),
        expect.stringMatching(/qa\.Yml:1:1 is not read: .*rename it to qa\.yaml$/),
      ]),
    );
  });

  it("refuses a folder that does not exist with one line, not a stack trace", () => {
    const missing = join(tmpdir(), "mlops-no-such-environments");
    expect(() => loadEnvironments(missing)).toThrow(
      new RegExp(`${missing}:1:1 is not a folder: environment files are read from a folder`),
    );
  });

  it("rejects an environment name that main was asked for but that no file defines", () => {
    expect(() => loadEnvironments(join(ROOT, "environments"), ["staging"])).toThrow(
      /has no environment named staging \(known: dev, prod, test\)/,
    );
  });
});

describe("a fourth environment", () => {
  it("needs nothing but its file", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlops-envs-"));
    cpSync(join(ROOT, "environments"), dir, { recursive: true });
    // As the README says: its name and its own account (the admin role's included).
    const staging = readFileSync(join(dir, "test.yaml"), "utf8")
      .replace("name: test", "name: staging")
      .replaceAll("222222222222", "444444444444");
    writeFileSync(join(dir, "staging.yaml"), staging);
    const names = loadEnvironments(dir).map((config) => config.name);
    expect(names).toEqual(["dev", "prod", "staging", "test"]);
  });
});
