import { stringify } from "yaml";
import { parseEnvironment } from "../../../environments/load";
import { configFor, rawEnvironment, type Patch } from "../../helpers/config";

function problems(name: string, patch: Patch): string[] {
  const result = parseEnvironment(stringify(rawEnvironment(name, patch)), `environments/${name}.yaml`);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe("registry section defaults", () => {
  test("declares the training, inference and mlflow repositories", () => {
    expect(Object.keys(configFor("dev").registry.repositories).sort()).toEqual([
      "inference",
      "mlflow",
      "training",
    ]);
  });

  test.each([
    ["dev", 3, 10],
    ["test", 7, 20],
    ["prod", 14, 50],
  ])("%s expires untagged images after %i days and keeps %i releases", (env, days, keep) => {
    expect(configFor(env).registry.repositories.training).toEqual({
      untaggedImageExpiryDays: days,
      keepReleaseImages: keep,
      releaseTagPrefixes: ["v"],
    });
  });

  test.each([
    ["dev", false],
    ["test", false],
    ["prod", true],
  ])("%s enhanced scanning: %s", (env, enhanced) => {
    expect(configFor(env).registry.enhancedScanning).toBe(enhanced);
  });

  test("caches public ECR, registry.k8s.io and quay.io, and replicates nowhere", () => {
    const { registry } = configFor("prod");
    expect(registry.pullThroughCache).toEqual(["ecr-public", "k8s", "quay"]);
    expect(registry.replicationRegions).toEqual([]);
  });

  test("CI roles push, every environment role pulls", () => {
    const { registry } = configFor("dev");
    expect(registry.pushRoles).toEqual(["ci-*"]);
    expect(registry.pullRoles).toEqual(["*"]);
  });
});

describe("registry section overrides and errors", () => {
  test("an entry overrides one repository and keeps the others", () => {
    const { repositories } = configFor("dev", {
      registry: { repositories: { mlflow: { keepReleaseImages: 5 } } },
    }).registry;
    expect(repositories.mlflow.keepReleaseImages).toBe(5);
    expect(repositories.mlflow.untaggedImageExpiryDays).toBe(3);
    expect(Object.keys(repositories)).toHaveLength(3);
  });

  test("null removes a default repository; a new entry adds one", () => {
    // The environment files serve models from the inference repository; they move to the new one with it.
    const image = { repository: "feature-server", tag: "v1.0.0" };
    const { repositories } = configFor("dev", {
      registry: { repositories: { inference: null, "feature-server": {} } },
      serving: { sagemakerEndpoints: { churn: { image } }, kubernetesServices: { "churn-gpu": { image } } },
    }).registry;
    expect(Object.keys(repositories).sort()).toEqual(["feature-server", "mlflow", "training"]);
  });

  test("refuses a pull-through cache upstream that needs credentials", () => {
    expect(problems("dev", { registry: { pullThroughCache: ["docker-hub"] } })).toEqual([
      "registry.pullThroughCache[0]: must be one of ecr-public, k8s, quay",
    ]);
  });

  test("refuses a repository name ECR would not accept", () => {
    expect(problems("dev", { registry: { repositories: { "Training!": {} } } })).toEqual([
      'registry.repositories["Training!"]: is not a valid repository name: use 2-42 lowercase letters, digits or hyphens, starting with a letter',
    ]);
  });

  test("takes role ARN patterns of the environment's account for roles outside the platform's naming", () => {
    const sso = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*";
    expect(configFor("dev", { registry: { pushRoles: ["ci-*", sso] } }).registry.pushRoles).toEqual([
      "ci-*",
      sso,
    ]);
    expect(
      problems("dev", {
        registry: {
          pullRoles: ["nodes", "arn:aws:s3:::b"],
        },
      }),
    ).toEqual([
      "registry.pullRoles[1]: must be an IAM role name pattern such as ci-* (letters, digits, +=,.@-_ and *), " +
        "or a role ARN pattern such as arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*",
    ]);
    expect(problems("dev", { registry: { pushRoles: ["arn:aws:iam::222222222222:role/ci"] } })).toEqual([
      "registry.pushRoles[0]: names account 222222222222; the repositories deny every other account than 111111111111",
    ]);
  });

  test("refuses replicating to the environment's own region, which the registry construct would throw on", () => {
    expect(problems("dev", { registry: { replicationRegions: ["eu-central-1", "eu-west-1"] } })).toEqual([
      "registry.replicationRegions[1]: is the environment's own region (aws.region); the repositories are already there, so list other regions only",
    ]);
    expect(configFor("dev", { registry: { replicationRegions: ["eu-central-1"] } }).registry).toMatchObject({
      replicationRegions: ["eu-central-1"],
    });
  });

  test("refuses keeping no release images", () => {
    expect(problems("dev", { registry: { repositories: { training: { keepReleaseImages: 0 } } } })).toEqual([
      "registry.repositories.training.keepReleaseImages: must be at least 1",
    ]);
  });
});
