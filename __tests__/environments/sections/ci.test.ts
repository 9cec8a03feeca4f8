import { configFor, synthEnvironment, resourcesOf } from "../../helpers/synth";

describe("the ci section", () => {
  test("defaults: plan on main and pull requests, deploy from the GitHub environment of the same name", () => {
    const config = configFor("prod");
    expect(config.ci.github).toMatchObject({
      repository: "ml-platform/mlops-platform",
      createOidcProvider: true,
      planBranches: ["main"],
      planPullRequests: true,
      maxSessionSeconds: 3600,
    });
    expect(config.ci.github.deployEnvironments).toBeUndefined();
  });

  test("a repository with a wildcard is refused", () => {
    expect(() => configFor("dev", { ci: { github: { repository: "ml-platform/*" } } })).toThrow(
      /ci.github.repository: must be a GitHub repository as owner\/name, without wildcards/,
    );
  });

  test("a branch with a wildcard is refused", () => {
    expect(() => configFor("dev", { ci: { github: { planBranches: ["feature/*"] } } })).toThrow(
      /ci.github.planBranches.0/,
    );
  });

  test("an unknown key is refused", () => {
    expect(() => configFor("dev", { ci: { github: { repo: "a/b" } } })).toThrow(/ci.github/);
  });

  test("a session longer than 12 hours is refused", () => {
    expect(() => configFor("dev", { ci: { github: { maxSessionSeconds: 50000 } } })).toThrow(
      /must be at most 43200/,
    );
  });
});

describe("CI roles in the platform stack", () => {
  test("are created with names from the naming helper when a repository is set", () => {
    const { json } = synthEnvironment(configFor("test"), { offline: true });
    const names = Object.values(resourcesOf(json.platform, "aws_iam_role")).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["mlops-test-github-plan", "mlops-test-github-deploy"]));
  });

  test("are not created without a repository", () => {
    const config = configFor("dev");
    const { json } = synthEnvironment(
      { ...config, ci: { github: { ...config.ci.github, repository: undefined } } },
      { offline: true },
    );
    expect(resourcesOf(json.platform, "aws_iam_openid_connect_provider")).toEqual({});
  });
});
