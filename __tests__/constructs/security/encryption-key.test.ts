import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Testing } from "cdktf";
import { EncryptionKey, KEY_ADMIN_ACTIONS } from "../../../constructs/security/encryption-key";
import type { PolicyDocument } from "../../../constructs/core/iam";
import {
  LOCATION,
  NAMING,
  type StackJson,
  allows,
  onlyResourceOf,
  policyOf,
  statement,
  synthStack,
  testStack,
} from "../../helpers/constructs";

describe("EncryptionKey defaults", () => {
  let json: StackJson;
  let key: Record<string, unknown>;
  beforeAll(() => {
    const stack = testStack();
    new EncryptionKey(stack, "DataKey", { naming: NAMING, location: LOCATION, purpose: "data" });
    json = synthStack(stack);
    key = onlyResourceOf(json, "aws_kms_key");
  });

  test("rotates the key material", () => {
    expect(key.enable_key_rotation).toBe(true);
  });

  test("waits 30 days before deleting by default", () => {
    expect(key.deletion_window_in_days).toBe(30);
  });

  test("prevents destroy by default", () => {
    expect(key.lifecycle).toEqual({ prevent_destroy: true });
  });

  test("has an alias named from Naming", () => {
    expect(onlyResourceOf(json, "aws_kms_alias").name).toBe("alias/mlops-dev-data");
  });

  test("lets the account root administer the key", () => {
    const admin = statement(policyOf(key), "AccountAdministersKey");
    expect(admin.Principal).toEqual({ AWS: "arn:aws:iam::111111111111:root" });
    expect(admin.Resource).toBe("*");
    expect(admin.Condition).toBeUndefined();
    // Written out, not imported: a new administration action must be a deliberate change of this list.
    expect(admin.Action).toEqual([
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:Describe*",
      "kms:Disable*",
      "kms:Enable*",
      "kms:Get*",
      "kms:List*",
      "kms:Put*",
      "kms:Revoke*",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:Update*",
    ]);
    expect(KEY_ADMIN_ACTIONS).toEqual(admin.Action);
  });

  test("does not let the account root (or IAM alone) encrypt or decrypt", () => {
    const admin = statement(policyOf(key), "AccountAdministersKey");
    // IAM matches action names without regard to case, so the patterns and the actions are compared in
    // lower case; `allows` evaluates each pattern as an IAM glob (`*`, `?`).
    const lowerCased: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [{ ...admin, Action: [admin.Action].flat().map((action) => action.toLowerCase()) }],
    };
    const usage = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GenerateDataKeyPair",
      "kms:GenerateDataKeyPairWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:CreateGrant",
    ];
    const granted = usage.filter((action) =>
      allows(lowerCased, action.toLowerCase(), "arn:aws:kms:eu-west-1:111111111111:key/any"),
    );
    expect(granted).toEqual([]);
    // The check above can catch a pattern: the admin statement does match its own actions.
    expect(allows(lowerCased, "kms:getkeypolicy", "*")).toBe(true);
    // No statement of the key policy grants every action.
    const actions = policyOf(key).Statement.flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain("kms:*");
    expect(actions).not.toContain("*");
  });

  test("has no usage statement when nobody is allowed to use it", () => {
    expect(policyOf(key).Statement.map((s) => s.Sid)).toEqual(["AccountAdministersKey"]);
  });
});

describe("EncryptionKey usage statements", () => {
  let policy: ReturnType<typeof policyOf>;
  beforeAll(() => {
    const stack = testStack();
    new EncryptionKey(stack, "LogsKey", {
      naming: NAMING,
      location: LOCATION,
      purpose: "logs",
      deletionWindowDays: 7,
      servicePrincipals: ["logs.eu-west-1.amazonaws.com"],
      viaServices: ["s3"],
      principalArnPatterns: ["arn:aws:iam::111111111111:role/mlops-dev-training-*"],
    });
    policy = policyOf(onlyResourceOf(synthStack(stack), "aws_kms_key"));
  });

  test("limits service principals to this account with aws:SourceAccount", () => {
    const services = statement(policy, "AllowServicesForThisAccount");
    expect(services.Principal).toEqual({ Service: ["logs.eu-west-1.amazonaws.com"] });
    expect(services.Condition).toEqual({ StringEquals: { "aws:SourceAccount": "111111111111" } });
  });

  test("limits via-service use to the service in this region and this account", () => {
    expect(statement(policy, "AllowUseThroughServices").Condition).toEqual({
      StringEquals: { "kms:ViaService": ["s3.eu-west-1.amazonaws.com"], "kms:CallerAccount": "111111111111" },
    });
  });

  test("lets services keep grants only for AWS resources", () => {
    const grants = statement(policy, "AllowServiceGrantsForAwsResources");
    expect(grants.Action).toContain("kms:CreateGrant");
    expect(grants.Condition?.Bool).toEqual({ "kms:GrantIsForAWSResource": "true" });
  });

  test("names principals by ARN pattern with aws:PrincipalArn", () => {
    expect(statement(policy, "AllowNamedPrincipals").Condition).toEqual({
      ArnLike: { "aws:PrincipalArn": ["arn:aws:iam::111111111111:role/mlops-dev-training-*"] },
    });
  });
});

describe("EncryptionKey options and errors", () => {
  test("takes the deletion window from props (7 days in dev)", () => {
    const stack = testStack();
    new EncryptionKey(stack, "Key", {
      naming: NAMING,
      location: LOCATION,
      purpose: "data",
      deletionWindowDays: 7,
    });
    expect(onlyResourceOf(synthStack(stack), "aws_kms_key").deletion_window_in_days).toBe(7);
  });

  test("drops prevent_destroy when asked", () => {
    const stack = testStack();
    new EncryptionKey(stack, "Key", {
      naming: NAMING,
      location: LOCATION,
      purpose: "data",
      preventDestroy: false,
    });
    expect(onlyResourceOf(synthStack(stack), "aws_kms_key").lifecycle).toEqual({ prevent_destroy: false });
  });

  test.each([6, 31, 10.5])("refuses a deletion window of %s days", (days) => {
    const stack = testStack();
    expect(
      () =>
        new EncryptionKey(stack, "Key", {
          naming: NAMING,
          location: LOCATION,
          purpose: "data",
          deletionWindowDays: days,
        }),
    ).toThrow(/deletionWindowDays is .*7 to 30/);
  });

  test("refuses a service principal that is not one", () => {
    const stack = testStack();
    expect(
      () =>
        new EncryptionKey(stack, "Key", {
          naming: NAMING,
          location: LOCATION,
          purpose: "data",
          servicePrincipals: ["logs"],
        }),
    ).toThrow(/"logs" is not a service principal; use a name such as logs.eu-west-1.amazonaws.com/);
  });

  test("refuses a principal pattern that is not an IAM ARN", () => {
    const stack = testStack();
    expect(
      () =>
        new EncryptionKey(stack, "Key", {
          naming: NAMING,
          location: LOCATION,
          purpose: "data",
          principalArnPatterns: ["mlops-dev-*"],
        }),
    ).toThrow(/is not an IAM principal ARN pattern/);
  });

  test("gives other stacks a deterministic alias name and ARN", () => {
    expect(EncryptionKey.aliasNameFor(NAMING, "registry")).toBe("alias/mlops-dev-registry");
    expect(EncryptionKey.aliasArnFor(NAMING, LOCATION, "registry")).toBe(
      "arn:aws:kms:eu-west-1:111111111111:alias/mlops-dev-registry",
    );
  });
});

describe("EncryptionKey.grantEncryptDecrypt", () => {
  test("in the same stack: names the role in the key policy and the key's ARN in the role policy", () => {
    const stack = testStack();
    const key = new EncryptionKey(stack, "Key", { naming: NAMING, location: LOCATION, purpose: "data" });
    const role = new IamRole(stack, "Role", { name: "mlops-dev-training", assumeRolePolicy: "{}" });
    key.grantEncryptDecrypt(role);
    const json = synthStack(stack);
    const keyPolicy = policyOf(onlyResourceOf(json, "aws_kms_key"));
    expect(statement(keyPolicy, "AllowNamedPrincipals").Condition).toEqual({
      ArnLike: { "aws:PrincipalArn": ["${aws_iam_role.Role.arn}"] },
    });
    const rolePolicy = policyOf(onlyResourceOf(json, "aws_iam_role_policy"));
    expect(statement(rolePolicy, "UseKey").Resource).toMatch(/^\$\{aws_kms_key\.Key_[0-9A-F]+\.arn\}$/);
  });

  test("across stacks: uses the role's name and the key's alias, without a cross-stack reference", () => {
    const app = Testing.app();
    const dataStack = testStack("data", app);
    const platformStack = testStack("platform", app);
    const key = new EncryptionKey(dataStack, "Key", { naming: NAMING, location: LOCATION, purpose: "data" });
    const role = new IamRole(platformStack, "Role", { name: "mlops-dev-training", assumeRolePolicy: "{}" });
    key.grantEncryptDecrypt(role);
    const keyPolicy = policyOf(onlyResourceOf(synthStack(dataStack), "aws_kms_key"));
    expect(statement(keyPolicy, "AllowNamedPrincipals").Condition).toEqual({
      ArnLike: { "aws:PrincipalArn": ["arn:aws:iam::111111111111:role/mlops-dev-training"] },
    });
    const platform = synthStack(platformStack);
    expect(JSON.stringify(platform)).not.toContain("terraform_remote_state");
    const use = statement(policyOf(onlyResourceOf(platform, "aws_iam_role_policy")), "UseKey");
    expect(use.Resource).toBe("arn:aws:kms:eu-west-1:111111111111:key/*");
    expect(use.Condition).toEqual({
      "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/mlops-dev-data" },
    });
  });

  test("across stacks: refuses a role without a literal name", () => {
    const app = Testing.app();
    const key = new EncryptionKey(testStack("data", app), "Key", {
      naming: NAMING,
      location: LOCATION,
      purpose: "data",
    });
    const role = new IamRole(testStack("platform", app), "Role", { assumeRolePolicy: "{}" });
    expect(() => key.grantEncryptDecrypt(role)).toThrow(/has no literal name/);
  });
});
