/**
 * Which conditions narrow a wide principal (`"*"`, `{ AWS: "*" }`) in the rules that look for anonymous grants:
 * only positive operators that restrict a narrowing key to given values, never a negated operator, `Null`, an
 * `...IfExists` form or a `ForAllValues:` form.
 */
import { restrictsToValues } from "../../constructs/policy/documents";
import { evaluateStack } from "../../constructs/policy/engine";
import { ruleById } from "../../constructs/policy/rules";
import { stackJson, type Resources } from "./fixtures";

type Condition = Record<string, Record<string, string | string[]>>;

const policy = (statement: Record<string, unknown>) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [statement] });

/** Each rule with a stack holding one Allow statement to a wide principal under `condition`. */
const RULES: { rule: string; subject: string; stack: (condition: Condition) => Resources }[] = [
  {
    rule: "MLOPS-S3-009",
    subject: "aws_s3_bucket_policy.Data",
    stack: (condition) => ({
      "aws_s3_bucket_policy.Data": {
        bucket: "mlops-prod-data",
        policy: policy({
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::mlops-prod-data/*",
          Condition: condition,
        }),
      },
    }),
  },
  {
    rule: "MLOPS-IAM-004",
    subject: "aws_iam_role.Shared",
    stack: (condition) => ({
      "aws_iam_role.Shared": {
        name: "shared",
        assume_role_policy: policy({
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "sts:AssumeRole",
          Condition: condition,
        }),
      },
    }),
  },
  {
    rule: "MLOPS-ECR-005",
    subject: "aws_ecr_repository_policy.Training",
    stack: (condition) => ({
      "aws_ecr_repository_policy.Training": {
        repository: "mlops-prod-training",
        policy: policy({
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "ecr:BatchGetImage",
          Condition: condition,
        }),
      },
    }),
  },
  {
    rule: "MLOPS-KMS-003",
    subject: "aws_kms_key.Data",
    stack: (condition) => ({
      "aws_kms_key.Data": {
        enable_key_rotation: true,
        policy: policy({
          Effect: "Allow",
          Principal: "*",
          Action: "kms:Decrypt",
          Resource: "*",
          Condition: condition,
        }),
      },
    }),
  },
];

/** Conditions that leave the principal open to anyone (or anyone but a few). */
const BYPASSES: [string, Condition][] = [
  ["Null on aws:SourceArn", { Null: { "aws:SourceArn": "true" } }],
  ["StringNotEquals on aws:SourceVpce", { StringNotEquals: { "aws:SourceVpce": "vpce-1" } }],
  ["StringNotEquals on aws:SourceAccount", { StringNotEquals: { "aws:SourceAccount": "333333333333" } }],
  ["StringNotLike on aws:PrincipalArn", { StringNotLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/x" } }],
  ["ArnNotEquals on aws:SourceArn", { ArnNotEquals: { "aws:SourceArn": "arn:aws:s3:::logs" } }],
  ["ArnNotLike on aws:PrincipalArn", { ArnNotLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/x" } }],
  ["StringEqualsIfExists on aws:PrincipalOrgID", { StringEqualsIfExists: { "aws:PrincipalOrgID": "o-abc" } }],
  ["ArnLikeIfExists on aws:SourceArn", { ArnLikeIfExists: { "aws:SourceArn": "arn:aws:s3:::logs-*" } }],
  [
    "ForAnyValue:StringEqualsIfExists on aws:PrincipalOrgID",
    { "ForAnyValue:StringEqualsIfExists": { "aws:PrincipalOrgID": "o-abc" } },
  ],
  [
    "ForAllValues:StringEquals on aws:PrincipalOrgID (true when the key is absent)",
    { "ForAllValues:StringEquals": { "aws:PrincipalOrgID": "o-abc" } },
  ],
  ["StringLike on aws:PrincipalArn with a lone wildcard", { StringLike: { "aws:PrincipalArn": "*" } }],
  [
    "ArnLike on aws:SourceArn with a wildcard among the values",
    { ArnLike: { "aws:SourceArn": ["arn:aws:s3:::logs", "*"] } },
  ],
  // Any account can tag its own roles, or name a role so.
  ["StringEquals on a principal tag alone", { StringEquals: { "aws:PrincipalTag/team": "ml" } }],
  [
    "ArnLike on aws:PrincipalArn with a wildcard account",
    { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/deploy" } },
  ],
  ["StringLike on aws:PrincipalAccount with a wildcard", { StringLike: { "aws:PrincipalAccount": "1*" } }],
  [
    "ForAnyValue:StringLike on aws:PrincipalOrgPaths with a wildcard organisation",
    { "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": "o-*/*" } },
  ],
];

/** Conditions that restrict a narrowing key to given values. */
const NARROWING: [string, Condition][] = [
  ["StringEquals on aws:SourceAccount", { StringEquals: { "aws:SourceAccount": "333333333333" } }],
  [
    "StringEqualsIgnoreCase on aws:PrincipalOrgID",
    { StringEqualsIgnoreCase: { "aws:PrincipalOrgID": "o-abc" } },
  ],
  ["StringLike on aws:SourceVpce", { StringLike: { "aws:SourceVpce": "vpce-1*" } }],
  ["ArnEquals on aws:SourceArn", { ArnEquals: { "aws:SourceArn": "arn:aws:s3:::logs" } }],
  [
    "ArnLike on aws:PrincipalArn",
    { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::333333333333:role/mlops-prod-*" } },
  ],
  [
    "ForAnyValue:StringEquals on aws:PrincipalOrgID",
    { "ForAnyValue:StringEquals": { "aws:PrincipalOrgID": "o-abc" } },
  ],
  [
    "ForAnyValue:StringLike on aws:PrincipalOrgPaths (an organisational unit)",
    { "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*" } },
  ],
  ["StringEquals on aws:SourceOrgID", { StringEquals: { "aws:SourceOrgID": "o-a1b2c3d4e5" } }],
  [
    "a principal tag next to an organisation",
    { StringEquals: { "aws:PrincipalTag/team": "ml", "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
  ],
  [
    "a negated operator next to a positive one",
    {
      StringNotEquals: { "aws:SourceVpce": "vpce-1" },
      StringEquals: { "aws:SourceVpc": "vpc-1" },
    },
  ],
];

function resultOf(rule: string, subject: string, resources: Resources) {
  return evaluateStack(stackJson(resources), [ruleById(rule)!]).find((f) => f.address === subject)?.result;
}

describe.each(RULES)("$rule", ({ rule, subject, stack }) => {
  it.each(BYPASSES)("fails with %s", (_name, condition) => {
    expect(resultOf(rule, subject, stack(condition))).toBe("fail");
  });

  it.each(NARROWING)("passes with %s", (_name, condition) => {
    expect(resultOf(rule, subject, stack(condition))).toBe("pass");
  });
});

describe("MLOPS-KMS-003 and kms:CallerAccount", () => {
  const key = RULES.find((r) => r.rule === "MLOPS-KMS-003")!;

  it.each(["StringNotEquals", "StringEqualsIfExists", "ForAllValues:StringEquals"])(
    "fails with %s",
    (operator) => {
      const stack = key.stack({ [operator]: { "kms:CallerAccount": "333333333333" } });
      expect(resultOf(key.rule, key.subject, stack)).toBe("fail");
    },
  );

  it("fails with a wildcard in the account", () => {
    const stack = key.stack({ StringLike: { "kms:CallerAccount": "33333333333?" } });
    expect(resultOf(key.rule, key.subject, stack)).toBe("fail");
  });

  it.each(["StringEquals", "ForAnyValue:StringEquals"])("passes with %s", (operator) => {
    const stack = key.stack({ [operator]: { "kms:CallerAccount": "333333333333" } });
    expect(resultOf(key.rule, key.subject, stack)).toBe("pass");
  });
});

describe("principal narrowing in a policy document data source", () => {
  const trust = (test: string) => ({
    "data.aws_iam_policy_document.Trust": {
      statement: [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "AWS", identifiers: ["*"] }],
          condition: [{ test, variable: "aws:SourceAccount", values: ["333333333333"] }],
        },
      ],
    },
    "aws_iam_role.Shared": {
      name: "shared",
      assume_role_policy: "${data.aws_iam_policy_document.Trust.json}",
    },
  });

  it("counts a StringEquals condition block", () => {
    expect(resultOf("MLOPS-IAM-004", "aws_iam_role.Shared", trust("StringEquals"))).toBe("pass");
  });

  it("does not count a StringNotEquals condition block", () => {
    expect(resultOf("MLOPS-IAM-004", "aws_iam_role.Shared", trust("StringNotEquals"))).toBe("fail");
  });
});

describe("restrictsToValues", () => {
  it.each([
    "StringEquals",
    "StringLike",
    "ArnEquals",
    "ArnLike",
    "ForAnyValue:StringLike",
    "ForAnyValue:ArnLike",
  ])("accepts %s", (operator) => expect(restrictsToValues(operator)).toBe(true));

  it.each([
    "Null",
    "StringNotEquals",
    "StringNotLike",
    "ArnNotEquals",
    "ArnNotLike",
    "NotIpAddress",
    "StringEqualsIfExists",
    "StringLikeIfExists",
    "ArnEqualsIfExists",
    "ArnLikeIfExists",
    "ForAllValues:StringEquals",
    "ForAllValues:StringLike",
    "ForAnyValue:StringNotEquals",
    "Bool",
  ])("refuses %s", (operator) => expect(restrictsToValues(operator)).toBe(false));
});
