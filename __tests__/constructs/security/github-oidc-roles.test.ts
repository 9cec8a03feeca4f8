import { TerraformStack, Testing } from "cdktf";
import { GithubOidcRoles, type GithubOidcRolesProps } from "../../../constructs/security/github-oidc-roles";

const PROPS: GithubOidcRolesProps = {
  location: { accountId: "111111111111", region: "eu-west-1" },
  repository: "ml-platform/mlops-platform",
  planRoleName: "mlops-dev-github-plan",
  deployRoleName: "mlops-dev-github-deploy",
  stateBucket: "mlops-dev-tfstate-111111111111",
  stateKeyPrefix: "dev/",
  stateKeyAlias: "alias/mlops-dev-tfstate",
  iamNamePrefix: "mlops-dev-",
  deployEnvironments: ["dev"],
};

type Resources = Record<string, Record<string, Record<string, unknown>>>;

function synth(props: Partial<GithubOidcRolesProps> = {}): Resources {
  const json = Testing.synthScope((scope) => {
    new GithubOidcRoles(scope, "GithubCi", { ...PROPS, ...props });
  });
  return (JSON.parse(json) as { resource: Resources }).resource;
}

const roles = (resources: Resources) => Object.values(resources.aws_iam_role);
const role = (resources: Resources, name: string) => roles(resources).find((r) => r.name === name)!;
const trust = (r: Record<string, unknown>) =>
  JSON.parse(r.assume_role_policy as string) as {
    Statement: {
      Principal: { Federated: string };
      Condition: { StringEquals: Record<string, string | string[]> };
    }[];
  };
const inline = (resources: Resources, name: string) =>
  JSON.parse(Object.values(resources.aws_iam_role_policy).find((p) => p.name === name)!.policy as string) as {
    Statement: { Sid: string; Action: string | string[]; Resource: string | string[] }[];
  };

describe("GithubOidcRoles", () => {
  let resources: Resources;
  beforeAll(() => {
    resources = synth();
  });

  test("creates the GitHub OIDC provider for the sts.amazonaws.com audience, without thumbprints", () => {
    const provider = Object.values(resources.aws_iam_openid_connect_provider)[0];
    expect(provider).toMatchObject({
      url: "https://token.actions.githubusercontent.com",
      client_id_list: ["sts.amazonaws.com"],
    });
    expect(provider.thumbprint_list).toBeUndefined();
  });

  test("protects the provider with prevent_destroy by default", () => {
    expect(Object.values(resources.aws_iam_openid_connect_provider)[0].lifecycle).toEqual({
      prevent_destroy: true,
    });
  });

  test("the plan role trusts the main branch of this repository only", () => {
    const condition = trust(role(resources, "mlops-dev-github-plan")).Statement[0].Condition.StringEquals;
    expect(condition["token.actions.githubusercontent.com:aud"]).toBe("sts.amazonaws.com");
    expect(condition["token.actions.githubusercontent.com:sub"]).toEqual([
      "repo:ml-platform/mlops-platform:ref:refs/heads/main",
    ]);
  });

  test("pull requests plan with a role of their own, with the plan role's AWS rights", () => {
    const pullRequestRole = role(resources, "mlops-dev-github-plan-pr");
    const condition = trust(pullRequestRole).Statement[0].Condition.StringEquals;
    expect(condition["token.actions.githubusercontent.com:aud"]).toBe("sts.amazonaws.com");
    expect(condition["token.actions.githubusercontent.com:sub"]).toEqual([
      "repo:ml-platform/mlops-platform:pull_request",
    ]);
    const rightsOf = (roleKey: string) => ({
      attached: Object.values(resources.aws_iam_role_policy_attachment)
        .filter((a) => a.role === `\${aws_iam_role.${roleKey}.name}`)
        .map((a) => a.policy_arn),
      inline: Object.values(resources.aws_iam_role_policy)
        .filter((p) => p.role === `\${aws_iam_role.${roleKey}.name}`)
        .map((p) => [p.name, JSON.parse(p.policy as string)]),
    });
    const keyOf = (name: string) =>
      Object.entries(resources.aws_iam_role).find(([, r]) => r.name === name)![0];
    const pullRequestRights = rightsOf(keyOf("mlops-dev-github-plan-pr"));
    expect(pullRequestRights.attached).toEqual(["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    expect(pullRequestRights).toEqual(rightsOf(keyOf("mlops-dev-github-plan")));
  });

  test("names the pull requests' role as asked", () => {
    const ci = new GithubOidcRoles(new TerraformStack(Testing.app(), "stack"), "Ci", {
      ...PROPS,
      pullRequestPlanRoleName: "mlops-dev-github-pr-plan",
    });
    expect(ci.pullRequestPlanRoleArn).toBe("arn:aws:iam::111111111111:role/mlops-dev-github-pr-plan");
    expect(
      role(synth({ pullRequestPlanRoleName: "mlops-dev-github-pr-plan" }), "mlops-dev-github-pr-plan"),
    ).toBeDefined();
  });

  test("keeps the default name of the pull requests' role within IAM's 64 characters", () => {
    const planRoleName = `${"a".repeat(60)}-plan`;
    const ci = new GithubOidcRoles(new TerraformStack(Testing.app(), "stack"), "Ci", {
      ...PROPS,
      planRoleName,
    });
    const name = ci.pullRequestPlanRoleArn!.split("/").pop()!;
    expect(name).toHaveLength(64);
    expect(name).not.toBe(planRoleName);
  });

  describe("secrets the plan role may read", () => {
    const secretArn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:mlops-dev/grafana-admin-??????";

    test("are read and decrypted through Secrets Manager by the branches' plan role only", () => {
      const withSecrets = synth({ planReadableSecrets: ["mlops-dev/grafana-admin"] });
      const policies = Object.values(withSecrets.aws_iam_role_policy).filter(
        (p) => p.name === "terraform-secrets-read",
      );
      expect(policies).toHaveLength(1);
      expect(policies[0].role).toMatch(/^\$\{aws_iam_role\.GithubCi_PlanRole_/);
      const statements = inline(withSecrets, "terraform-secrets-read").Statement as unknown as {
        Sid: string;
        Action: string | string[];
        Resource: string | string[];
        Condition?: unknown;
      }[];
      expect(statements).toEqual([
        {
          Sid: "ReadManagedSecrets",
          Effect: "Allow",
          Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
          Resource: [secretArn],
        },
        {
          Sid: "DecryptManagedSecrets",
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: "arn:aws:kms:eu-west-1:111111111111:key/*",
          Condition: {
            StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" },
            StringLike: { "kms:EncryptionContext:SecretARN": [secretArn] },
          },
        },
        {
          Sid: "GenerateRandomPasswords",
          Effect: "Allow",
          Action: "secretsmanager:GetRandomPassword",
          Resource: "*",
        },
      ]);
    });

    test("are none by default", () => {
      expect(Object.values(resources.aws_iam_role_policy).map((p) => p.name)).not.toContain(
        "terraform-secrets-read",
      );
    });
  });

  test("the deploy role trusts only jobs of the allowed GitHub environments", () => {
    const condition = trust(role(resources, "mlops-dev-github-deploy")).Statement[0].Condition.StringEquals;
    expect(condition["token.actions.githubusercontent.com:sub"]).toEqual([
      "repo:ml-platform/mlops-platform:environment:dev",
    ]);
  });

  test("every role trusts the provider by its deterministic ARN", () => {
    for (const r of roles(resources)) {
      expect(trust(r).Statement[0].Principal.Federated).toBe(
        "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
      );
    }
  });

  test("the plan role is read-only plus reading the environment's state", () => {
    const attachments = Object.values(resources.aws_iam_role_policy_attachment).map((a) => a.policy_arn);
    expect(attachments).toContain("arn:aws:iam::aws:policy/ReadOnlyAccess");
    const statements = inline(resources, "terraform-state-read").Statement;
    expect(statements.flatMap((s) => [s.Action].flat())).toEqual([
      "s3:ListBucket",
      "s3:GetObject",
      "kms:Decrypt",
    ]);
    expect(statements[1].Resource).toBe("arn:aws:s3:::mlops-dev-tfstate-111111111111/dev/*");
  });

  test("the deploy role manages IAM only under the environment's name prefix", () => {
    const manage = inline(resources, "terraform-state-and-own-iam").Statement.find(
      (s) => s.Sid === "ManageOwnRolesAndPolicies",
    )!;
    expect(manage.Resource).toEqual([
      "arn:aws:iam::111111111111:role/mlops-dev-*",
      "arn:aws:iam::111111111111:policy/mlops-dev-*",
      "arn:aws:iam::111111111111:instance-profile/mlops-dev-*",
    ]);
  });

  test("exposes the role ARNs at synth time", () => {
    const ci = new GithubOidcRoles(new TerraformStack(Testing.app(), "stack"), "Ci", PROPS);
    expect(ci.planRoleArn).toBe("arn:aws:iam::111111111111:role/mlops-dev-github-plan");
    expect(ci.deployRoleArn).toBe("arn:aws:iam::111111111111:role/mlops-dev-github-deploy");
  });

  test("leaves the provider to another environment when asked", () => {
    expect(synth({ createOidcProvider: false }).aws_iam_openid_connect_provider).toBeUndefined();
  });

  test("without pull requests, there is no pull requests' role", () => {
    const withoutPullRequests = synth({ planPullRequests: false });
    expect(
      roles(withoutPullRequests)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["mlops-dev-github-deploy", "mlops-dev-github-plan"]);
    const ci = new GithubOidcRoles(new TerraformStack(Testing.app(), "stack"), "Ci", {
      ...PROPS,
      planPullRequests: false,
    });
    expect(ci.pullRequestPlanRole).toBeUndefined();
    expect(ci.pullRequestPlanRoleArn).toBeUndefined();
  });

  test.each([
    ["repository", { repository: "ml-platform/*" }],
    ["branch", { planBranches: ["release/*"] }],
    ["environment", { deployEnvironments: ["prod*"] }],
  ])("refuses a wildcard in the %s", (_what, props) => {
    expect(() => synth(props)).toThrow(/contains a wildcard/);
  });

  test("refuses an empty list of deploy environments", () => {
    expect(() => synth({ deployEnvironments: [] })).toThrow(/deployEnvironments is empty/);
  });
});
