import { stringify } from "yaml";
import { parseEnvironment } from "../../environments/load";
import { configFor, rawEnvironment, resourcesOf, synthEnvironment, type StackJson } from "../helpers/synth";

/** Every role of every stack, as `<stack part>/<logical id>` to its permissions boundary. */
function boundariesOf(json: Record<string, StackJson>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(json).flatMap(([part, stack]) =>
      Object.entries(resourcesOf(stack, "aws_iam_role")).map(([id, role]) => [
        `${part}/${id}`,
        role.permissions_boundary,
      ]),
    ),
  );
}

describe("the environment's permissions boundary", () => {
  const testEnv = synthEnvironment(configFor("test"));
  const boundaryArn = "arn:aws:iam::222222222222:policy/mlops-test-permissions-boundary";

  it("is created by the bootstrap stack, which CI never applies, and kept from destruction", () => {
    const policies = Object.values(resourcesOf(testEnv.json.bootstrap, "aws_iam_policy"));
    expect(policies).toHaveLength(1);
    expect(policies[0]).toMatchObject({
      name: "mlops-test-permissions-boundary",
      lifecycle: { prevent_destroy: true },
    });
    const deny = JSON.parse(policies[0].policy as string) as {
      Statement: { Sid: string; Condition?: unknown }[];
    };
    expect(
      deny.Statement.find((s) => s.Sid === "CreateAndChangeRolesOnlyWithThisBoundary")!.Condition,
    ).toEqual({
      StringNotEquals: { "iam:PermissionsBoundary": boundaryArn },
    });
    // Roles outside the environment's prefix are out of reach by name.
    expect(deny.Statement.find((s) => s.Sid === "NoRolesOutsideThePrefix")).toMatchObject({
      NotResource: [
        "arn:aws:iam::222222222222:role/mlops-test-*",
        "arn:aws:iam::222222222222:role/aws-service-role/*",
      ],
    });
  });

  it("is carried by every role of every stack", () => {
    const boundaries = boundariesOf(testEnv.json);
    // The platform stack alone makes more than a dozen roles: cluster, nodes, add-ons, endpoints, CI.
    expect(Object.keys(boundaries).length).toBeGreaterThan(12);
    expect(new Set(Object.values(boundaries))).toEqual(new Set([boundaryArn]));
  });

  it("is required by the CI deploy role for every role it creates or changes", () => {
    const policy = Object.values(resourcesOf(testEnv.json.platform, "aws_iam_role_policy")).find(
      (p) => p.name === "terraform-state-and-own-iam",
    )!;
    const statements = (JSON.parse(policy.policy as string) as { Statement: Record<string, unknown>[] })
      .Statement;
    expect(statements.find((s) => s.Sid === "CreateAndChangeOwnRolesWithinTheBoundary")).toMatchObject({
      Resource: "arn:aws:iam::222222222222:role/mlops-test-*",
      Condition: { StringEquals: { "iam:PermissionsBoundary": boundaryArn } },
    });
  });

  it("may be assumed outside the environment's names only for the role Terraform assumes", () => {
    const prod = synthEnvironment(configFor("prod"));
    const policy = Object.values(resourcesOf(prod.json.bootstrap, "aws_iam_policy"))[0];
    const statements = (JSON.parse(policy.policy as string) as { Statement: Record<string, unknown>[] })
      .Statement;
    expect(statements.find((s) => s.Sid === "AssumeNoRolesOutsideThePrefix")).toMatchObject({
      NotResource: [
        "arn:aws:iam::333333333333:role/mlops-prod-*",
        "arn:aws:iam::333333333333:role/platform-deploy",
      ],
    });
  });

  describe("roles the environment names but does not make", () => {
    const problemsOf = (patch: Record<string, unknown>) => {
      const result = parseEnvironment(stringify(rawEnvironment("test", patch)), "environments/test.yaml");
      return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
    };
    const message =
      "names a role under mlops-test-, the names of the platform's own roles, which its CI deploy role may take over; name it otherwise";

    it("may not have the names of the platform's roles, which the CI deploy role may take over", () => {
      expect(
        problemsOf({ aws: { assumeRoleArn: "arn:aws:iam::222222222222:role/mlops-test-deploy" } }),
      ).toEqual([`aws.assumeRoleArn: ${message}`]);
      expect(
        problemsOf({ cluster: { adminRoleArns: ["arn:aws:iam::222222222222:role/mlops-test-admins"] } }),
      ).toEqual([`cluster.adminRoleArns[0]: ${message}`]);
    });

    it("may be the platform's CI roles, or roles of other names or accounts", () => {
      for (const role of [
        "arn:aws:iam::222222222222:role/mlops-test-github-deploy",
        "arn:aws:iam::222222222222:role/platform-admin",
        "arn:aws:iam::999999999999:role/mlops-test-admins",
      ]) {
        expect(problemsOf({ cluster: { adminRoleArns: [role] } })).toEqual([]);
      }
    });
  });

  describe("named in aws.permissionsBoundaryArn", () => {
    const own = "arn:aws:iam::111111111111:policy/org/platform-boundary";
    const dev = synthEnvironment(configFor("dev", { aws: { permissionsBoundaryArn: own } }));

    it("is used in place of the bootstrap stack's, which creates none", () => {
      expect(resourcesOf(dev.json.bootstrap, "aws_iam_policy")).toEqual({});
      const boundaries = boundariesOf(dev.json);
      expect(Object.keys(boundaries).length).toBeGreaterThan(12);
      expect(new Set(Object.values(boundaries))).toEqual(new Set([own]));
    });

    const problems = (permissionsBoundaryArn: string) => {
      const text = stringify(rawEnvironment("dev", { aws: { permissionsBoundaryArn } }));
      const result = parseEnvironment(text, "environments/dev.yaml");
      return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
    };

    it("must be a managed policy of the environment's account", () => {
      expect(problems("arn:aws:iam::999999999999:policy/boundary")).toEqual([
        "aws.permissionsBoundaryArn: names account 999999999999; a role's boundary must be a policy of its own account 111111111111",
      ]);
      expect(problems("arn:aws:iam::111111111111:role/boundary")).toEqual([
        "aws.permissionsBoundaryArn: must be the ARN of a managed IAM policy (arn:aws:iam::<account>:policy/<name>)",
      ]);
      expect(problems("arn:aws:iam::aws:policy/PowerUserAccess")).toHaveLength(1);
    });
  });
});
