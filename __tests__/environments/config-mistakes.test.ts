/**
 * Mistakes in environment files that were once accepted without a word, or reported in a way that did not
 * say what to change: each is now refused with the setting, its line and what is accepted instead.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import {
  EnvironmentConfigError,
  formatProblem,
  loadEnvironments,
  parseEnvironment,
} from "../../environments/load";
import { configFor, rawEnvironment, ROOT, type Patch } from "../helpers/config";

const MISTAKES = join("__tests__", "environments", "fixtures", "mistakes");

/** The loader's problems for `environments/<name>.yaml` with `patch`, as `path: message` lines. */
function problems(name: string, patch: Patch, file = `environments/${name}.yaml`): string[] {
  const result = parseEnvironment(stringify(rawEnvironment(name, patch)), file);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

/** The problems of the fixture file `mistakes/<fixture>.yaml`, as `file:line:col path: message` lines. */
function fixtureProblems(fixture: string): string[] {
  const file = join(MISTAKES, `${fixture}.yaml`);
  const result = parseEnvironment(readFileSync(join(ROOT, file), "utf8"), file);
  return result.ok ? [] : result.problems.map(formatProblem);
}

/** A copy of the fixture folder `mistakes/<folder>`, in a temporary folder, with `edits` applied. */
function folderCopy(folder: string, edits: Record<string, [string, string]> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "mlops-mistakes-"));
  cpSync(join(ROOT, MISTAKES, folder), dir, { recursive: true });
  for (const [file, [from, to]] of Object.entries(edits)) {
    const text = readFileSync(join(dir, file), "utf8");
    if (!text.includes(from)) throw new Error(`${folder}/${file} does not contain ${from}`);
    writeFileSync(join(dir, file), text.replace(from, to));
  }
  return dir;
}

/** The problems `loadEnvironments` reports for `dir` (as `file:line:col path: message` lines, file base names). */
function folderProblems(dir: string): string[] {
  try {
    loadEnvironments(dir);
  } catch (error) {
    if (!(error instanceof EnvironmentConfigError)) throw error;
    return error.problems.map((problem) => formatProblem(problem).split(`${dir}/`).join(""));
  }
  return [];
}

describe("an environment named like a tier", () => {
  test.each([
    ["prod", "dev"],
    ["test", "prod"],
    ["dev", "test"],
  ])(
    "%s with tier %s is refused: it would run under that name with the other tier's defaults",
    (name, tier) => {
      // The other tier's own rules may find more in the file; the tier is the mistake.
      expect(problems(name, { tier })).toContain(
        `tier: must be ${name} in the environment named ${name}, or it would run under that name with ${tier}'s defaults and protections; to give an environment another tier, name it otherwise (such as staging)`,
      );
    },
  );

  test.each(["dev", "test", "prod"])("%s keeps its tier, which staging may pick as well", (tier) => {
    expect(problems(tier, {})).toEqual([]);
    expect(problems(tier, { name: "staging" }, "environments/staging.yaml")).toEqual([]);
  });
});

describe("protection outside dev", () => {
  test.each(["test", "prod"])("refuses preventDestroy: false in %s", (name) => {
    expect(problems(name, { protection: { preventDestroy: false } })).toEqual([
      `protection.preventDestroy: may be false in dev only; a ${name} environment keeps prevent_destroy on every stateful resource`,
    ]);
  });

  test.each(["test", "prod"])("refuses a key deletion window below 30 days in %s", (name) => {
    expect(problems(name, { protection: { keyDeletionWindowDays: 29 } })).toEqual([
      `protection.keyDeletionWindowDays: must be 30 in ${name}, so that a key scheduled for deletion by mistake can be recovered for 30 days; a shorter window is for dev, or set policy.rules.MLOPS-KMS-002 to warn or off in this file to accept it`,
    ]);
  });

  test.each(["warn", "off"])(
    "lets a shorter window through where the file sets its rule, which is not critical, to %s",
    (level) => {
      const config = configFor("test", {
        protection: { keyDeletionWindowDays: 7 },
        policy: { rules: { "MLOPS-KMS-002": level } },
      });
      expect(config.protection.keyDeletionWindowDays).toBe(7);
    },
  );

  test("reports a window KMS refuses by its range alone", () => {
    expect(problems("prod", { protection: { keyDeletionWindowDays: 3 } })).toEqual([
      "protection.keyDeletionWindowDays: must be at least 7",
    ]);
  });

  test("reports both a forced and an unprotected prod", () => {
    expect(problems("prod", { protection: { preventDestroy: false, forceDestroy: true } })).toEqual([
      "protection.preventDestroy: may be false in dev only; a prod environment keeps prevent_destroy on every stateful resource",
      "protection.forceDestroy: is allowed in dev only; a prod environment must never force-destroy data",
    ]);
  });

  test("accepts the protected values in test and prod, and the disposable ones in dev", () => {
    for (const name of ["test", "prod"]) {
      expect(
        configFor(name, { protection: { preventDestroy: true, keyDeletionWindowDays: 30 } }).protection,
      ).toMatchObject({ preventDestroy: true, keyDeletionWindowDays: 30 });
    }
    expect(
      configFor("dev", { protection: { preventDestroy: false, keyDeletionWindowDays: 7 } }).protection,
    ).toMatchObject({ preventDestroy: false, keyDeletionWindowDays: 7 });
  });
});

describe("monitoring.budget thresholds", () => {
  test("refuse fractions: they are percents", () => {
    expect(
      problems("dev", { monitoring: { budget: { forecastedPercent: 0.8, actualPercent: 0.95 } } }),
    ).toEqual([
      "monitoring.budget.forecastedPercent: must be at least 1: it is a percentage of the monthly limit (80 for 80%, not 0.8)",
      "monitoring.budget.actualPercent: must be at least 1: it is a percentage of the monthly limit (80 for 80%, not 0.8)",
    ]);
  });

  test("accept percents, above 100 included", () => {
    const budget = { forecastedPercent: 80, actualPercent: 120 };
    expect(configFor("dev", { monitoring: { budget } }).monitoring.budget).toMatchObject(budget);
  });
});

describe("monitoring.alerts.subscriptions", () => {
  test("refuses a subscriber name outside the pattern, saying which names are accepted", () => {
    const subscriptions = { OnCall: { protocol: "email", endpoint: "oncall@example.com" } };
    expect(problems("dev", { monitoring: { alerts: { subscriptions } } })).toEqual([
      "monitoring.alerts.subscriptions.OnCall: is not a valid subscriber name: use 1-40 lowercase letters, digits or hyphens, starting with a letter",
    ]);
  });

  test("accepts a name with digits and hyphens", () => {
    const subscriptions = { "on-call-2": { protocol: "email", endpoint: "oncall@example.com" } };
    expect(
      Object.keys(
        configFor("dev", { monitoring: { alerts: { subscriptions } } }).monitoring.alerts.subscriptions,
      ),
    ).toContain("on-call-2");
  });
});

describe("an SMS subscriber", () => {
  test("refuses a number SNS would not take, saying the form", () => {
    for (const endpoint of ["oncall@example.com", "0044 20 7946 0000", "+0441234"]) {
      const subscriptions = { pager: { protocol: "sms", endpoint } };
      expect(problems("dev", { monitoring: { alerts: { subscriptions } } })).toEqual([
        "monitoring.alerts.subscriptions.pager.endpoint: must be a phone number in E.164 form, such as +14155550100, for protocol sms",
      ]);
    }
  });

  test("accepts an E.164 number", () => {
    const subscriptions = { pager: { protocol: "sms", endpoint: "+442079460000" } };
    expect(
      configFor("dev", { monitoring: { alerts: { subscriptions } } }).monitoring.alerts.subscriptions.pager,
    ).toMatchObject({ endpoint: "+442079460000" });
  });
});

describe("null on a bucket or repository that is not a default", () => {
  test("is refused: it removes nothing, and the misspelt default would stay", () => {
    expect(problems("dev", { data: { buckets: { feature: null } } })).toEqual([
      "data.buckets.feature: removes nothing: null removes a default bucket (raw, curated, features, model-artifacts), and feature is not one",
    ]);
    expect(problems("dev", { registry: { repositories: { mlfow: null } } })).toEqual([
      "registry.repositories.mlfow: removes nothing: null removes a default repository (training, inference, mlflow), and mlfow is not one",
    ]);
  });

  test("removes a default one", () => {
    const config = configFor("dev", {
      data: { buckets: { features: null } },
      registry: { repositories: { training: null } },
    });
    expect(Object.keys(config.data.buckets)).not.toContain("features");
    expect(Object.keys(config.registry.repositories)).not.toContain("training");
  });
});

describe("bucket and repository names that make one construct id", () => {
  test("are refused with a schema error, not a synth stack trace", () => {
    expect(problems("dev", { data: { buckets: { "raw-2": {}, raw2: {} } } })).toEqual([
      "data.buckets.raw2: makes the same construct id as raw-2 (Raw2: ids drop the hyphens and capitalise the letter after one), and two buckets cannot share one; rename one of them",
    ]);
    expect(problems("dev", { registry: { repositories: { "tool-2": {}, tool2: {} } } })).toEqual([
      "registry.repositories.tool2: makes the same construct id as tool-2 (Tool2: ids drop the hyphens and capitalise the letter after one), and two repositories cannot share one; rename one of them",
    ]);
  });

  test("names whose ids differ are accepted", () => {
    const config = configFor("dev", { data: { buckets: { "raw-2": {}, "raw-3": {} } } });
    expect(Object.keys(config.data.buckets)).toEqual(expect.arrayContaining(["raw-2", "raw-3"]));
  });
});

describe("a CIDR setting that holds no CIDR at all", () => {
  test.each([
    [{ cluster: { endpoint: { publicAccessCidrs: ["vpn"] } } }, "cluster.endpoint.publicAccessCidrs[0]"],
    [{ cluster: { endpoint: { privateAccessCidrs: ["vpn"] } } }, "cluster.endpoint.privateAccessCidrs[0]"],
    [{ network: { vpcCidr: "vpn" } }, "network.vpcCidr"],
  ])("is reported, not a crash of the checks that read its parts (%#)", (patch, path) => {
    expect(problems("dev", patch)).toEqual([`${path}: must be an IPv4 CIDR block such as 10.0.0.0/16`]);
  });
});

describe("modelRegistry.loadBalancer.sourceCidrs", () => {
  test("refuses a prefix or octet out of range, as every other CIDR setting does", () => {
    const sourceCidrs = ["10.0.0.0/33", "300.1.1.1/8"];
    expect(problems("dev", { modelRegistry: { loadBalancer: { sourceCidrs } } })).toEqual([
      "modelRegistry.loadBalancer.sourceCidrs[0]: must be an IPv4 CIDR block with octets 0-255 and a prefix length 0-32",
      "modelRegistry.loadBalancer.sourceCidrs[1]: must be an IPv4 CIDR block with octets 0-255 and a prefix length 0-32",
    ]);
  });

  test("accepts valid blocks", () => {
    const sourceCidrs = ["10.0.0.0/8", "192.168.10.0/24", "0.0.0.0/0"];
    expect(
      configFor("dev", { modelRegistry: { loadBalancer: { sourceCidrs } } }).modelRegistry.loadBalancer,
    ).toMatchObject({ sourceCidrs });
  });
});

describe("Object Lock with forceDestroy", () => {
  const locked = (mode: string) => ({
    protection: { forceDestroy: true },
    data: { buckets: { audit: { objectLock: { mode, days: 30 } } } },
  });

  test("COMPLIANCE is refused: no one could delete the bucket until the retention ends", () => {
    expect(problems("dev", locked("COMPLIANCE"))).toEqual([
      "data.buckets.audit.objectLock.mode: must not be COMPLIANCE with protection.forceDestroy: no one can shorten or remove a COMPLIANCE retention, not even the account root, so the bucket could not be deleted until the retention of its last locked version ends; use GOVERNANCE in dev, or turn forceDestroy off",
    ]);
  });

  test("GOVERNANCE is accepted, and so is COMPLIANCE without forceDestroy", () => {
    expect(configFor("dev", locked("GOVERNANCE")).data.buckets.audit.objectLock?.mode).toBe("GOVERNANCE");
    const compliance = { data: { buckets: { audit: { objectLock: { mode: "COMPLIANCE", days: 30 } } } } };
    expect(configFor("dev", compliance).data.buckets.audit.objectLock?.mode).toBe("COMPLIANCE");
  });
});

describe("a number where a string is expected", () => {
  test("is reported with the value as written and the advice to quote it", () => {
    const file = join(MISTAKES, "numbers.yaml");
    expect(fixtureProblems("numbers")).toEqual([
      `${file}:11:22 cluster.kubernetesVersion: must be a string, and YAML reads 1.30 as the number 1.3: put it in quotes ("1.30")`,
      `${file}:14:20 modelRegistry.database.engineVersion: must be a string, and YAML reads 16 as a number: put it in quotes ("16")`,
      `${file}:17:12 modelRegistry.server.image.tag: must be a string, and YAML reads 1.10 as the number 1.1: put it in quotes ("1.10")`,
    ]);
  });

  test("is accepted in quotes, and other wrong types keep their message", () => {
    const text = readFileSync(join(ROOT, MISTAKES, "numbers.yaml"), "utf8");
    const quoted = text
      .replace("kubernetesVersion: 1.30", 'kubernetesVersion: "1.33"')
      .replace("engineVersion: 16", 'engineVersion: "16"')
      .replace("tag: 1.10", 'tag: "1.10"');
    const result = parseEnvironment(quoted, "environments/numbers.yaml");
    expect(result.ok && result.config.modelRegistry.server.image.tag).toBe("1.10");
    const list = parseEnvironment(quoted.replace('tag: "1.10"', "tag: [a]"), "environments/numbers.yaml");
    expect(!list.ok && list.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "modelRegistry.server.image.tag: must be a string",
    ]);
  });
});

describe("YAML merge keys", () => {
  test("start an entry from an anchored one; keys written beside the merge win", () => {
    const file = join(MISTAKES, "merge.yaml");
    const result = parseEnvironment(readFileSync(join(ROOT, file), "utf8"), file);
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
    const { raw, curated, audit } = result.config.data.buckets;
    expect(raw).toMatchObject({ noncurrentVersionGlacierDays: 120, noncurrentVersionExpirationDays: 400 });
    expect(curated).toMatchObject({
      noncurrentVersionGlacierDays: 120,
      noncurrentVersionExpirationDays: 500,
    });
    expect(audit).toMatchObject({
      noncurrentVersionGlacierDays: 120,
      noncurrentVersionExpirationDays: 600,
      intelligentTiering: true,
    });
  });

  test("report what a merge brings at the anchored line, and what is written beside it at its own", () => {
    const file = join(MISTAKES, "mergetypo.yaml");
    expect(fixtureProblems("mergetypo")).toEqual([
      `${file}:13:7 data.buckets.curated.noncurrentVersionGlacierDayz: is not a known setting (check the spelling; unknown keys are errors)`,
      `${file}:13:7 data.buckets.raw.noncurrentVersionGlacierDayz: is not a known setting (check the spelling; unknown keys are errors)`,
      `${file}:14:46 data.buckets.curated.noncurrentVersionInfrequentAccessDays: must be at least 30 (an S3 rule)`,
      `${file}:14:46 data.buckets.raw.noncurrentVersionInfrequentAccessDays: must be at least 30 (an S3 rule)`,
      `${file}:17:40 data.buckets.curated.noncurrentVersionExpirationDays: must be greater than noncurrentVersionGlacierDays (90)`,
    ]);
  });
});

describe("ci.github.deployEnvironments across environment files", () => {
  test("refuses the name of another environment file loaded with it", () => {
    expect(folderProblems(folderCopy("deploy-other"))).toEqual([
      "prod.yaml:14:32 ci.github.deployEnvironments[1]: names dev, the GitHub environment that deploys dev.yaml: its jobs, under dev's protection rules, would get the deploy role of prod.yaml; list only GitHub environments that deploy prod",
    ]);
  });

  test("refuses it in another case too: GitHub environment names are case-insensitive", () => {
    const dir = folderCopy("deploy-other", { "prod.yaml": ["[prod, dev]", "[prod, DEV]"] });
    expect(folderProblems(dir)).toEqual([expect.stringMatching(/^prod\.yaml:14:32 .*names DEV, /)]);
  });

  test("accepts GitHub environments of its own", () => {
    const dir = folderCopy("deploy-other", { "prod.yaml": ["[prod, dev]", "[prod, prod-hotfix]"] });
    expect(folderProblems(dir)).toEqual([]);
  });
});

describe("the GitHub OIDC provider of an account shared by environment files", () => {
  test("is refused when more than one of them creates it", () => {
    const advice =
      "an account holds one provider per URL, so the second apply fails; set it false in all but one of dev.yaml, sandbox.yaml";
    expect(folderProblems(folderCopy("shared-oidc"))).toEqual([
      `dev.yaml:11:3 ci.github.createOidcProvider: creates the GitHub OIDC provider of account 111111111111, and so does sandbox.yaml: ${advice}`,
      `sandbox.yaml:14:3 ci.github.createOidcProvider: creates the GitHub OIDC provider of account 111111111111, and so does dev.yaml: ${advice}`,
    ]);
  });

  test("is accepted when one creates it, or when the other makes no CI identity", () => {
    const off = folderCopy("shared-oidc", {
      "sandbox.yaml": [
        "repository: ml-platform/mlops-platform",
        "repository: ml-platform/mlops-platform\n    createOidcProvider: false",
      ],
    });
    expect(folderProblems(off)).toEqual([]);
    const noCi = folderCopy("shared-oidc", {
      "sandbox.yaml": ["ci:\n  github:\n    repository: ml-platform/mlops-platform\n", ""],
    });
    expect(folderProblems(noCi)).toEqual([]);
  });

  test("is accepted in environments of different accounts", () => {
    const dir = folderCopy("shared-oidc", { "sandbox.yaml": ['"111111111111"', '"444444444444"'] });
    expect(folderProblems(dir)).toEqual([]);
  });
});
