import { applyFindings, parseFindings, type PolicyFinding } from "../../../tools/lib/review/findings";
import { summarize, type StackReview } from "../../../tools/lib/review/types";

const finding = (ruleId: string, address: string, severity = "error"): PolicyFinding => ({
  ruleId,
  severity,
  stack: "mlops-prod-data",
  address,
  message: `${ruleId} fails`,
});

describe("policy findings in the review", () => {
  const stacks: StackReview[] = [
    {
      stack: "mlops-prod-data",
      environment: "prod",
      resources: [
        {
          address: "aws_s3_bucket.Raw",
          type: "aws_s3_bucket",
          action: "update",
          risk: "low",
          reasons: [],
          changes: [],
        },
      ],
    },
  ];

  test("a blocking finding the change adds makes the changed resource high risk", () => {
    const [stack] = applyFindings(stacks, [], [finding("MLOPS-S3-001", "aws_s3_bucket.Raw")]);
    expect(stack.resources[0].risk).toBe("high");
    expect(stack.resources[0].reasons).toEqual(["policy MLOPS-S3-001 fails: MLOPS-S3-001 fails"]);
    expect(stack.findings).toEqual([
      {
        status: "added",
        ruleId: "MLOPS-S3-001",
        severity: "error",
        message: "MLOPS-S3-001 fails",
        address: "aws_s3_bucket.Raw",
      },
    ]);
  });

  test("a warning the change adds makes it low risk at most", () => {
    const [stack] = applyFindings(stacks, [], [finding("MLOPS-S3-005", "aws_s3_bucket.Raw", "warning")]);
    expect(stack.resources[0].risk).toBe("low");
  });

  test("a finding present on both sides is neither added nor fixed", () => {
    const same = finding("MLOPS-S3-001", "aws_s3_bucket.Raw");
    expect(applyFindings(stacks, [same], [same])[0].findings).toEqual([]);
  });

  test("a finding only the base has is fixed", () => {
    const [stack] = applyFindings(stacks, [finding("MLOPS-KMS-001", "aws_kms_key.Data")], []);
    expect(stack.findings).toMatchObject([{ status: "fixed", ruleId: "MLOPS-KMS-001" }]);
  });

  test("an added blocking finding on an unchanged resource counts as high risk in the summary", () => {
    const result = applyFindings(stacks, [], [finding("MLOPS-KMS-001", "aws_kms_key.Data")]);
    expect(summarize(result).highRisk).toBe(1);
  });

  test("reports in other shapes are understood and passing results ignored", () => {
    expect(
      parseFindings({
        results: [
          {
            rule: "MLOPS-S3-001",
            level: "error",
            stackName: "s",
            resource: "aws_s3_bucket.A",
            title: "versioning",
            result: "fail",
          },
          {
            rule: "MLOPS-S3-002",
            level: "error",
            stackName: "s",
            resource: "aws_s3_bucket.A",
            result: "pass",
          },
        ],
      }),
    ).toEqual([
      {
        ruleId: "MLOPS-S3-001",
        severity: "error",
        stack: "s",
        address: "aws_s3_bucket.A",
        message: "versioning",
      },
    ]);
  });

  test("the policy pack's report per environment is understood, its blocking flag deciding the severity", () => {
    const finding = (rule: string, blocking: boolean, result = "fail") => ({
      rule,
      severity: "high",
      blocking,
      stack: "mlops-prod-data",
      address: "aws_s3_bucket.A",
      path: "mlops-prod-data/A",
      title: rule,
      result,
    });
    const report = {
      environments: [
        {
          environment: "prod",
          findings: [
            finding("MLOPS-S3-001", true),
            finding("MLOPS-S3-002", false),
            finding("MLOPS-S3-003", false, "suppressed"),
          ],
        },
      ],
    };
    expect(parseFindings(report).map((f) => [f.ruleId, f.severity])).toEqual([
      ["MLOPS-S3-001", "error"],
      ["MLOPS-S3-002", "warning"],
    ]);
  });
});
