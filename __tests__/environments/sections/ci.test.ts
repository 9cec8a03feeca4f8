import { configFor, synthEnvironment, resourcesOf } from "../../helpers/synth";

describe("the ci section", () => {
  test("defaults: plan on main and pull requests, deploy from the GitHub environment of the same name", () => {
    const config = configFor("prod");
    expect(config.ci.github).toMatchObject({
      repository: "ml-platform/mlops-platform",
      createOidcProvider: true,
      planBranches: ["main"],
      planPullRequests: true,
      clusterAccess: true,
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
    expect(names).toEqual(
      expect.arrayContaining([
        "mlops-test-github-plan",
        "mlops-test-github-pr-plan",
        "mlops-test-github-deploy",
      ]),
    );
  });

  test("are not created without a repository", () => {
    const config = configFor("dev");
    const { json } = synthEnvironment(
      { ...config, ci: { github: { ...config.ci.github, repository: undefined } } },
      { offline: true },
    );
    expect(resourcesOf(json.platform, "aws_iam_openid_connect_provider")).toEqual({});
  });

  describe("access to the cluster", () => {
    const principals = (config: ReturnType<typeof configFor>) =>
      Object.values(
        resourcesOf(synthEnvironment(config, { offline: true }).json.platform, "aws_eks_access_entry"),
      ).map((entry) => entry.principal_arn);

    test("is not given when clusterAccess is false", () => {
      const config = configFor("dev", { ci: { github: { clusterAccess: false } } });
      expect(principals(config)).toEqual([]);
      expect(secretsPolicies(config)).toEqual([]);
    });

    test("adds no second entry for a CI role already listed in cluster.adminRoleArns", () => {
      const deployRole = "arn:aws:iam::111111111111:role/mlops-dev-github-deploy";
      const config = configFor("dev", { cluster: { adminRoleArns: [deployRole] } });
      const entries = resourcesOf(
        synthEnvironment(config, { offline: true }).json.platform,
        "aws_eks_access_entry",
      );
      const keys = Object.keys(entries);
      expect(keys).toEqual([
        expect.stringMatching(/^Cluster_AdminAccessEntry-mlops-dev-github-deploy_/),
        expect.stringMatching(/^Cluster_GithubPlanAccessEntry_/),
      ]);
      expect(principals(config).sort()).toEqual([
        deployRole,
        "arn:aws:iam::111111111111:role/mlops-dev-github-plan",
      ]);
    });

    test("is given to the branches' roles, not to the pull requests' role", () => {
      const roles = resourcesOf(
        synthEnvironment(configFor("dev"), { offline: true }).json.platform,
        "aws_iam_role",
      );
      expect(Object.values(roles).map((role) => role.name)).toContain("mlops-dev-github-pr-plan");
      expect(principals(configFor("dev"))).not.toContain(
        "arn:aws:iam::111111111111:role/mlops-dev-github-pr-plan",
      );
    });

    const secretsPolicies = (config: ReturnType<typeof configFor>) =>
      Object.values(
        resourcesOf(synthEnvironment(config, { offline: true }).json.platform, "aws_iam_role_policy"),
      ).filter((policy) => policy.name === "terraform-secrets-read");

    test("comes with reading the cluster stack's Grafana admin secret, which its plans refresh", () => {
      const [policy] = secretsPolicies(configFor("dev"));
      expect(JSON.parse(policy.policy as string).Statement[0].Resource).toEqual([
        "arn:aws:secretsmanager:eu-west-1:111111111111:secret:mlops-dev/grafana-admin-??????",
      ]);
    });

    test("is not given when Terraform assumes aws.assumeRoleArn", () => {
      const assumed = "arn:aws:iam::111111111111:role/terraform-dev";
      const config = configFor("dev", { aws: { assumeRoleArn: assumed } });
      expect(principals(config)).toEqual([]);
      expect(secretsPolicies(config)).toEqual([]);
    });
  });
});
