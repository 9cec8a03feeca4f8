import { applyFindings, parseFindings, type PolicyFinding } from "../../../tools/lib/review/findings";
import { countAtLeast, summarize, type StackReview } from "../../../tools/lib/review/types";

const finding = (ruleId: string, address: string, severity = "error"): PolicyFinding => ({
  ruleId,
  severity,
  stack: "mlops-prod-data",
  address,
  message: `${ruleId} fails`,
});

/** A review of prod's data stack in which the raw bucket is updated (low risk, no reasons yet). */
function rawBucketUpdated(): StackReview[] {
  return [
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
}

describe("policy findings in the review", () => {
  const stacks = rawBucketUpdated();

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
        risk: "high",
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
    expect(parseFindings(report).map((f) => [f.ruleId, f.severity, f.suppressed ?? false])).toEqual([
      ["MLOPS-S3-001", "error", false],
      ["MLOPS-S3-002", "warning", false],
      ["MLOPS-S3-003", "high", true],
    ]);
  });
});

describe("suppressions in the review", () => {
  /** A finding as the policy pack reports it (`npm run policy -- --format json`, `policy-report.json`). */
  const packFinding = (result: "fail" | "suppressed", severity = "high", level = "error") => ({
    rule: "MLOPS-S3-005",
    title: "Access logging is enabled",
    severity,
    level,
    blocking: result === "fail" && level === "error",
    result,
    stack: "mlops-prod-data",
    address: "aws_s3_bucket.Raw",
    path: "mlops-prod-data/Raw/Resource",
    ...(result === "suppressed" ? { reason: "The bucket is created before the log bucket exists" } : {}),
  });
  const parse = (...findings: object[]) => parseFindings({ environments: [{ findings }] });
  const unchanged: StackReview[] = [{ stack: "mlops-prod-data", environment: "prod", resources: [] }];

  test("a suppressed finding keeps the suppression's reason and what it would do without it", () => {
    expect(parse(packFinding("suppressed"))).toEqual([
      {
        ruleId: "MLOPS-S3-005",
        severity: "error",
        ruleSeverity: "high",
        stack: "mlops-prod-data",
        address: "aws_s3_bucket.Raw",
        constructPath: "mlops-prod-data/Raw/Resource",
        message: "Access logging is enabled",
        suppressed: true,
        reason: "The bucket is created before the log bucket exists",
      },
    ]);
  });

  test("a finding that goes from failing to suppressed is a new suppression with its reason, not a fix", () => {
    const [stack] = applyFindings(unchanged, parse(packFinding("fail")), parse(packFinding("suppressed")));
    expect(stack.findings).toEqual([
      {
        status: "suppressed",
        ruleId: "MLOPS-S3-005",
        severity: "error",
        message: "Access logging is enabled",
        risk: "low",
        address: "aws_s3_bucket.Raw",
        reason: "The bucket is created before the log bucket exists",
      },
    ]);
    expect(countAtLeast([stack], "low")).toBe(1);
    expect(summarize([stack]).highRisk).toBe(0);
  });

  test("a new resource that arrives suppressed is a new suppression too", () => {
    const [stack] = applyFindings(unchanged, [], parse(packFinding("suppressed")));
    expect(stack.findings).toMatchObject([{ status: "suppressed", risk: "low" }]);
  });

  test("suppressing a critical rule where it would block is high risk, on the changed resource too", () => {
    const changed = rawBucketUpdated();
    const [stack] = applyFindings(
      changed,
      parse(packFinding("fail", "critical")),
      parse(packFinding("suppressed", "critical")),
    );
    expect(stack.findings).toMatchObject([{ status: "suppressed", risk: "high" }]);
    expect(stack.resources[0].risk).toBe("high");
    expect(stack.resources[0].reasons).toEqual([
      "policy MLOPS-S3-005 suppressed: Access logging is enabled; reason: The bucket is created before the log bucket exists",
    ]);
    expect(summarize([stack]).highRisk).toBe(1);
  });

  test("suppressing a critical rule where it only warns (dev) is low risk", () => {
    const [stack] = applyFindings(
      unchanged,
      parse(packFinding("fail", "critical", "warn")),
      parse(packFinding("suppressed", "critical", "warn")),
    );
    expect(stack.findings).toMatchObject([{ status: "suppressed", severity: "warning", risk: "low" }]);
  });

  test("a real fix is still fixed, and a suppression present on both sides is no change", () => {
    expect(applyFindings(unchanged, parse(packFinding("fail")), [])[0].findings).toMatchObject([
      { status: "fixed", risk: "none" },
    ]);
    const suppressed = parse(packFinding("suppressed"));
    expect(applyFindings(unchanged, suppressed, suppressed)[0].findings).toEqual([]);
  });

  test("removing a suppression while the rule still fails makes the finding newly fail", () => {
    const [stack] = applyFindings(unchanged, parse(packFinding("suppressed")), parse(packFinding("fail")));
    expect(stack.findings).toMatchObject([{ status: "added", risk: "high" }]);
  });
});
