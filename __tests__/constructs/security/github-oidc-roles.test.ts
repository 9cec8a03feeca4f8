import { TerraformStack, Testing } from "cdktf";
import type { PolicyDocument } from "../../../constructs/core/iam";
import { GithubOidcRoles, type GithubOidcRolesProps } from "../../../constructs/security/github-oidc-roles";
import { permissionsBoundaryDocument } from "../../../constructs/security/permissions-boundary-policy";
import { permits } from "../../helpers/constructs";

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
    const planRights = rightsOf(keyOf("mlops-dev-github-plan"));
    expect(pullRequestRights.attached).toEqual(planRights.attached);
    // The same rights, less the data that the no-data-reads policy denies (tested below).
    expect(pullRequestRights.inline.filter(([name]) => name !== "no-data-reads")).toEqual(planRights.inline);
  });

  describe("the pull requests' role reads no data", () => {
    // A stand-in for the data reads AWS's ReadOnlyAccess allows (it allows these and many more).
    const readOnly: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["logs:Get*", "logs:FilterLogEvents", "logs:StartQuery", "ecr:BatchGetImage", "s3:Get*"],
          Resource: "*",
        },
        { Effect: "Allow", Action: "ecr:GetDownloadUrlForLayer", Resource: "*" },
      ],
    };
    const policiesOf = (name: string) => [
      readOnly,
      ...Object.values(resources.aws_iam_role_policy)
        .filter((p) => p.role === `\${aws_iam_role.${keyOf(name)}.name}`)
        .map((p) => JSON.parse(p.policy as string) as PolicyDocument),
    ];
    const keyOf = (name: string) =>
      Object.entries(resources.aws_iam_role).find(([, r]) => r.name === name)![0];
    const logGroup = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/sagemaker/Endpoints/x:*";
    const image = "arn:aws:ecr:eu-west-1:111111111111:repository/mlops-dev-inference";

    test.each([
      ["logs:GetLogEvents", logGroup],
      ["logs:FilterLogEvents", logGroup],
      ["logs:StartQuery", logGroup],
      ["ecr:BatchGetImage", image],
      ["ecr:GetDownloadUrlForLayer", image],
      ["s3:GetObject", "arn:aws:s3:::mlops-dev-raw-111111111111/customers.csv"],
      ["s3:GetObject", "arn:aws:s3:::mlops-dev-tfstate-111111111111/prod/mlops-prod-platform.tfstate"],
    ])("%s on %s is denied", (action, resource) => {
      expect(permits(policiesOf("mlops-dev-github-plan-pr"), action, resource)).toBe(false);
      // The branches' plan role keeps ReadOnlyAccess whole.
      expect(permits(policiesOf("mlops-dev-github-plan"), action, resource)).toBe(true);
    });

    test("the environment's state stays readable", () => {
      expect(
        permits(
          policiesOf("mlops-dev-github-plan-pr"),
          "s3:GetObject",
          "arn:aws:s3:::mlops-dev-tfstate-111111111111/dev/mlops-dev-platform.tfstate",
        ),
      ).toBe(true);
    });

    test("secret values are denied", () => {
      const secret = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:mlops-dev/grafana-admin-AbCdEf";
      const withGrant: PolicyDocument = {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*" }],
      };
      expect(
        permits(
          [...policiesOf("mlops-dev-github-plan-pr"), withGrant],
          "secretsmanager:GetSecretValue",
          secret,
        ),
      ).toBe(false);
    });
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

  test("every role's sessions last an hour unless asked", () => {
    expect(roles(resources).map((r) => r.max_session_duration)).toEqual([3600, 3600, 3600]);
    expect(roles(synth({ maxSessionSeconds: 7200 })).map((r) => r.max_session_duration)).toEqual([
      7200, 7200, 7200,
    ]);
  });

  test("the state key is any key with the state key's alias, for reading and for writing state", () => {
    const aliased = { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/mlops-dev-tfstate" } };
    const read = inline(resources, "terraform-state-read").Statement.find((s) => s.Sid === "DecryptState")!;
    const write = inline(resources, "terraform-state-and-own-iam").Statement.find(
      (s) => s.Sid === "UseStateKey",
    )!;
    for (const statement of [read, write]) {
      expect(statement).toMatchObject({
        Resource: "arn:aws:kms:eu-west-1:111111111111:key/*",
        Condition: aliased,
      });
    }
  });

  test("the deploy role reads and writes this environment's state objects only", () => {
    const state = inline(resources, "terraform-state-and-own-iam").Statement.find(
      (s) => s.Sid === "ReadWriteStateAndLocks",
    )!;
    expect(state.Resource).toBe("arn:aws:s3:::mlops-dev-tfstate-111111111111/dev/*");
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

  describe("with a permissions boundary", () => {
    const boundaryArn = "arn:aws:iam::111111111111:policy/mlops-dev-permissions-boundary";
    const bounded = synth({ permissionsBoundaryArn: boundaryArn });
    const boundary = JSON.parse(permissionsBoundaryDocument(boundaryArn)) as PolicyDocument;
    const deployPolicy = JSON.parse(
      Object.values(bounded.aws_iam_role_policy).find((p) => p.name === "terraform-state-and-own-iam")!
        .policy as string,
    ) as PolicyDocument;
    /** What the deploy role may do: its IAM policy (PowerUserAccess allows no IAM) within its boundary. */
    const deployMay = (action: string, resource: string, context: Record<string, string> = {}) =>
      permits([deployPolicy], action, resource, context) && permits([boundary], action, resource, context);
    const ownRole = "arn:aws:iam::111111111111:role/mlops-dev-sagemaker-x";

    test("every CI role carries it", () => {
      expect(roles(bounded).map((r) => r.permissions_boundary)).toEqual([
        boundaryArn,
        boundaryArn,
        boundaryArn,
      ]);
      expect(roles(resources).map((r) => r.permissions_boundary)).toEqual([undefined, undefined, undefined]);
    });

    test.each(["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy"])(
      "the deploy role may %s only on a role of its prefix that carries the boundary",
      (action) => {
        expect(deployMay(action, ownRole, { "iam:PermissionsBoundary": boundaryArn })).toBe(true);
        expect(deployMay(action, ownRole)).toBe(false);
        // Its own policy requires the boundary too, whatever boundary document is given.
        expect(permits([deployPolicy], action, ownRole)).toBe(false);
        expect(
          deployMay(action, ownRole, {
            "iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess",
          }),
        ).toBe(false);
        expect(
          deployMay(action, "arn:aws:iam::111111111111:role/other-admin", {
            "iam:PermissionsBoundary": boundaryArn,
          }),
        ).toBe(false);
      },
    );

    test("the deploy role can neither lift a boundary nor change the boundary itself", () => {
      expect(deployMay("iam:DeleteRolePermissionsBoundary", ownRole)).toBe(false);
      expect(deployMay("iam:CreatePolicyVersion", boundaryArn)).toBe(false);
      expect(deployMay("iam:DeletePolicy", boundaryArn)).toBe(false);
    });

    test("without a boundary the deploy role's role changes are unconditioned, as before", () => {
      const unbounded = inline(resources, "terraform-state-and-own-iam");
      expect(unbounded.Statement.map((s) => s.Sid)).not.toContain("CreateAndChangeOwnRolesWithinTheBoundary");
      const manage = unbounded.Statement.find((s) => s.Sid === "ManageOwnRolesAndPolicies")!;
      expect(manage.Action).toEqual(expect.arrayContaining(["iam:CreateRole", "iam:AttachRolePolicy"]));
    });
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
