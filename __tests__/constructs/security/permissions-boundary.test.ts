import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Testing } from "cdktf";
import { Construct } from "constructs";
import { PermissionsBoundary } from "../../../constructs/security/permissions-boundary";
import {
  BOUNDED_ROLE_ACTIONS,
  PermissionsBoundaryPolicy,
  permissionsBoundaryDocument,
} from "../../../constructs/security/permissions-boundary-policy";
import type { PolicyDocument } from "../../../constructs/core/iam";
import { LOCATION, permits as permitsAll, synthStack, testStack } from "../../helpers/constructs";

const BOUNDARY = "arn:aws:iam::111111111111:policy/mlops-dev-permissions-boundary";
const OTHER = "arn:aws:iam::111111111111:policy/someone-elses-boundary";

/** Whether the boundary lets a request through. */
const permits = (document: string, action: string, resource: string, context: Record<string, string> = {}) =>
  permitsAll([JSON.parse(document) as PolicyDocument], action, resource, context);

describe("permissionsBoundaryDocument", () => {
  const document = permissionsBoundaryDocument(BOUNDARY);
  const role = "arn:aws:iam::111111111111:role/mlops-dev-new";
  const withBoundary = { "iam:PermissionsBoundary": BOUNDARY };

  test("leaves what the roles' own policies allow to them (it caps, it does not grant less)", () => {
    expect(permits(document, "s3:GetObject", "arn:aws:s3:::mlops-dev-raw/x")).toBe(true);
    expect(permits(document, "sagemaker:CreateEndpoint", "*")).toBe(true);
    expect(permits(document, "iam:CreateRole", role, withBoundary)).toBe(true);
    expect(permits(document, "iam:AttachRolePolicy", role, withBoundary)).toBe(true);
  });

  test.each([...BOUNDED_ROLE_ACTIONS])("refuses %s on a role without this boundary", (action) => {
    expect(permits(document, action, role)).toBe(false);
    expect(permits(document, action, role, { "iam:PermissionsBoundary": OTHER })).toBe(false);
    expect(permits(document, action, role, withBoundary)).toBe(true);
  });

  test("refuses removing any role's boundary", () => {
    expect(permits(document, "iam:DeleteRolePermissionsBoundary", role, withBoundary)).toBe(false);
  });

  test("refuses changing or deleting itself, and nothing else of the kind", () => {
    for (const action of [
      "iam:CreatePolicyVersion",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:SetDefaultPolicyVersion",
    ]) {
      expect(permits(document, action, BOUNDARY)).toBe(false);
      expect(permits(document, action, "arn:aws:iam::111111111111:policy/mlops-dev-other")).toBe(true);
    }
  });

  test("refuses being attached as a grant, to a role of its own or to anything else", () => {
    for (const action of ["iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy"]) {
      expect(permits(document, action, role, { ...withBoundary, "iam:PolicyARN": BOUNDARY })).toBe(false);
    }
    expect(
      permits(document, "iam:AttachRolePolicy", role, {
        ...withBoundary,
        "iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess",
      }),
    ).toBe(true);
  });

  test("refuses identity federation, the account's IAM settings and deleting service-linked roles", () => {
    const saml = "arn:aws:iam::111111111111:saml-provider/corporate-idp";
    for (const action of ["iam:UpdateSAMLProvider", "iam:CreateSAMLProvider", "iam:DeleteSAMLProvider"]) {
      expect(permits(document, action, saml)).toBe(false);
    }
    for (const action of [
      "iam:UpdateAccountPasswordPolicy",
      "iam:CreateAccountAlias",
      "iam:SetSecurityTokenServicePreferences",
      "iam:DeleteServiceLinkedRole",
      "iam:CreateServiceSpecificCredential",
      "iam:UploadSSHPublicKey",
      "iam:EnableOrganizationsRootSessions",
      "iam:EnableOutboundWebIdentityFederation",
      "iam:SetSTSRegionalEndpointStatus",
      "iam:AcceptDelegationRequest",
      "iam:SendDelegationToken",
    ]) {
      expect(permits(document, action, "*")).toBe(false);
    }
  });

  test("lets only GitHub's OIDC provider change", () => {
    const github = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";
    const other = "arn:aws:iam::111111111111:oidc-provider/attacker.example.com";
    for (const action of ["iam:CreateOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider"]) {
      expect(permits(document, action, github)).toBe(true);
      expect(permits(document, action, other)).toBe(false);
    }
    expect(permits(document, "iam:GetOpenIDConnectProvider", other)).toBe(true);
  });

  test("leaves what the platform's roles and Terraform need of IAM", () => {
    const own = "arn:aws:iam::111111111111:role/mlops-dev-sagemaker";
    for (const action of ["iam:GetRole", "iam:ListRoles", "iam:ListRolePolicies", "iam:PassRole"]) {
      expect(permits(document, action, own)).toBe(true);
    }
    const linked = "arn:aws:iam::111111111111:role/aws-service-role/eks-nodegroup.amazonaws.com/X";
    expect(permits(document, "iam:CreateServiceLinkedRole", linked)).toBe(true);
  });

  test("refuses making IAM users and groups or giving them rights, keys or passwords", () => {
    const user = "arn:aws:iam::111111111111:user/mlops-dev-someone";
    for (const action of [
      "iam:CreateUser",
      "iam:CreateAccessKey",
      "iam:CreateLoginProfile",
      "iam:UpdateLoginProfile",
      "iam:PutUserPolicy",
      "iam:AttachUserPolicy",
      "iam:AddUserToGroup",
      "iam:CreateGroup",
      "iam:PutGroupPolicy",
    ]) {
      expect(permits(document, action, user)).toBe(false);
    }
  });
});

describe("permissionsBoundaryDocument with a name prefix", () => {
  const document = permissionsBoundaryDocument(BOUNDARY, { iamNamePrefix: "mlops-dev-" });
  const own = "arn:aws:iam::111111111111:role/mlops-dev-sagemaker";
  const foreign = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole";

  test.each(["iam:UpdateAssumeRolePolicy", "iam:PassRole", "iam:DeleteRole", "iam:UpdateRole"])(
    "refuses %s on a role outside the prefix, even to a role whose own policies allow it",
    (action) => {
      expect(permits(document, action, foreign)).toBe(false);
      expect(permits(document, action, "arn:aws:iam::111111111111:role/mlops-test-deploy")).toBe(false);
      expect(permits(document, action, own)).toBe(true);
    },
  );

  test("refuses creating a role, or changing its policies or boundary, outside the prefix, boundary or not", () => {
    const withBoundary = { "iam:PermissionsBoundary": BOUNDARY };
    for (const action of ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"]) {
      expect(permits(document, action, foreign, withBoundary)).toBe(false);
      expect(permits(document, action, own, withBoundary)).toBe(true);
    }
  });

  test("refuses assuming a role outside the prefix, but those it is told may be assumed", () => {
    const terraform = "arn:aws:iam::111111111111:role/platform-deploy";
    const told = permissionsBoundaryDocument(BOUNDARY, {
      iamNamePrefix: "mlops-dev-",
      assumableRoleArns: [terraform],
    });
    for (const action of ["sts:AssumeRole", "sts:TagSession"]) {
      expect(permits(told, action, foreign)).toBe(false);
      expect(permits(told, action, terraform)).toBe(true);
      expect(permits(told, action, own)).toBe(true);
      expect(permits(document, action, terraform)).toBe(false);
    }
  });

  test("refuses roles that may be assumed without a prefix, which they would be exceptions to", () => {
    expect(() =>
      permissionsBoundaryDocument(BOUNDARY, {
        assumableRoleArns: ["arn:aws:iam::111111111111:role/platform-deploy"],
      }),
    ).toThrow(/assumableRoleArns are exceptions to iamNamePrefix, which is not given/);
  });

  test("lets service-linked roles be passed", () => {
    const linked =
      "arn:aws:iam::111111111111:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS";
    expect(permits(document, "iam:PassRole", linked)).toBe(true);
  });

  test("refuses tagging or describing anew a role outside the prefix", () => {
    for (const action of ["iam:TagRole", "iam:UntagRole", "iam:UpdateRoleDescription"]) {
      expect(permits(document, action, foreign)).toBe(false);
      expect(permits(document, action, own)).toBe(true);
    }
  });

  test("refuses changing an instance profile outside the prefix", () => {
    const profile = (name: string) => `arn:aws:iam::111111111111:instance-profile/${name}`;
    for (const action of ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile"]) {
      expect(permits(document, action, profile("admin-instances"))).toBe(false);
      expect(permits(document, action, profile("mlops-dev-nodes"))).toBe(true);
    }
  });

  test("refuses changing a customer-managed policy outside the prefix", () => {
    for (const action of [
      "iam:CreatePolicy",
      "iam:TagPolicy",
      "iam:CreatePolicyVersion",
      "iam:SetDefaultPolicyVersion",
      "iam:DeletePolicy",
    ]) {
      expect(permits(document, action, "arn:aws:iam::111111111111:policy/humans-admin")).toBe(false);
      expect(permits(document, action, "arn:aws:iam::111111111111:policy/mlops-dev-feature-jobs")).toBe(true);
    }
  });

  test("without a prefix, roles outside any prefix stay within reach (the boundary alone cannot tell them)", () => {
    expect(permits(permissionsBoundaryDocument(BOUNDARY), "iam:UpdateAssumeRolePolicy", foreign)).toBe(true);
  });

  test("refuses acting on the account or the organisation, with or without a prefix", () => {
    for (const doc of [document, permissionsBoundaryDocument(BOUNDARY)]) {
      expect(permits(doc, "organizations:LeaveOrganization", "*")).toBe(false);
      expect(permits(doc, "account:PutAlternateContact", "*")).toBe(false);
    }
  });
});

describe("PermissionsBoundaryPolicy", () => {
  const stack = testStack();
  const boundary = new PermissionsBoundaryPolicy(stack, "PermissionsBoundary", {
    location: LOCATION,
    name: "mlops-dev-permissions-boundary",
  });
  const policy = Object.values(synthStack(stack).resource!.aws_iam_policy)[0];

  test("is a managed policy of that name, whose ARN is known at synth", () => {
    expect(boundary.arn).toBe(BOUNDARY);
    expect(policy.name).toBe("mlops-dev-permissions-boundary");
  });

  test("holds the boundary document of its own ARN", () => {
    expect(policy.policy).toBe(permissionsBoundaryDocument(BOUNDARY));
  });

  test("limits by name the roles and policies it is given a prefix for", () => {
    const other = testStack();
    new PermissionsBoundaryPolicy(other, "PermissionsBoundary", {
      location: LOCATION,
      name: "mlops-dev-permissions-boundary",
      iamNamePrefix: "mlops-dev-",
    });
    const document = Object.values(synthStack(other).resource!.aws_iam_policy)[0].policy as string;
    expect(document).toBe(permissionsBoundaryDocument(BOUNDARY, { iamNamePrefix: "mlops-dev-" }));
    expect(JSON.parse(document).Statement.map((s: { Sid: string }) => s.Sid)).toContain(
      "NoRolesOutsideThePrefix",
    );
  });

  test("cannot be destroyed by Terraform unless asked", () => {
    expect(policy.lifecycle).toEqual({ prevent_destroy: true });
    const other = testStack();
    new PermissionsBoundaryPolicy(other, "PermissionsBoundary", {
      location: LOCATION,
      name: "x",
      preventDestroy: false,
    });
    expect(Object.values(synthStack(other).resource!.aws_iam_policy)[0].lifecycle).toEqual({
      prevent_destroy: false,
    });
  });
});

describe("PermissionsBoundary", () => {
  const rolesOf = (stack: ReturnType<typeof testStack>) =>
    Object.fromEntries(
      Object.values(synthStack(stack).resource!.aws_iam_role).map((r) => [r.name, r.permissions_boundary]),
    );
  const role = (scope: Construct, name: string, permissionsBoundary?: string) =>
    new IamRole(scope, name, { name, assumeRolePolicy: "{}", permissionsBoundary });

  test("puts the boundary on every role under the scope, roles inside constructs included", () => {
    const stack = testStack();
    role(stack, "top");
    role(new Construct(new Construct(stack, "Outer"), "Inner"), "nested");
    PermissionsBoundary.of(stack).apply(BOUNDARY);
    expect(rolesOf(stack)).toEqual({ top: BOUNDARY, nested: BOUNDARY });
  });

  test("leaves a role with a boundary of its own, and roles outside the scope, as they are", () => {
    const stack = testStack();
    const confined = new Construct(stack, "Confined");
    role(confined, "inside");
    role(confined, "own", OTHER);
    role(stack, "outside");
    PermissionsBoundary.of(confined).apply(BOUNDARY);
    expect(rolesOf(stack)).toEqual({ inside: BOUNDARY, own: OTHER, outside: undefined });
    expect(PermissionsBoundary.of(confined).policyArn).toBe(BOUNDARY);
    expect(PermissionsBoundary.of(stack).policyArn).toBeUndefined();
  });

  test("applies the same boundary once, and refuses a second one", () => {
    const stack = testStack();
    PermissionsBoundary.of(stack).apply(BOUNDARY);
    PermissionsBoundary.of(stack).apply(BOUNDARY);
    expect(() => PermissionsBoundary.of(stack).apply(OTHER)).toThrow(
      /already has the boundary arn:aws:iam::111111111111:policy\/mlops-dev-permissions-boundary/,
    );
  });

  test.each([
    "mlops-dev-permissions-boundary",
    "arn:aws:iam::111111111111:role/mlops-dev-permissions-boundary",
    "arn:aws:s3:::bucket",
  ])("refuses %s, which is not a managed policy's ARN", (arn) => {
    expect(() => PermissionsBoundary.of(Testing.app()).apply(arn)).toThrow(
      /not the ARN of a managed IAM policy/,
    );
  });
});
