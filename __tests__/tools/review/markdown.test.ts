import {
  COMMENT_MARKER,
  GITHUB_COMMENT_LIMIT,
  formatValue,
  renderMarkdown,
} from "../../../tools/lib/review/markdown";
import {
  summarize,
  type ResourceReview,
  type Review,
  type StackReview,
} from "../../../tools/lib/review/types";

function review(stacks: StackReview[], kind: Review["kind"] = "configuration-diff"): Review {
  return { kind, base: "abc1234", head: "def5678", stacks, summary: summarize(stacks), notes: [] };
}

const move: ResourceReview = {
  address: "aws_s3_bucket.RawDataBucket",
  previousAddress: "aws_s3_bucket.RawBucket",
  type: "aws_s3_bucket",
  action: "move",
  risk: "high",
  reasons: ["needs a moved block"],
  changes: [],
};
const update: ResourceReview = {
  address: "aws_s3_bucket_versioning.Models",
  type: "aws_s3_bucket_versioning",
  action: "update",
  risk: "low",
  reasons: [],
  changes: [{ path: "versioning_configuration.status", before: "Enabled", after: "Suspended" }],
};

describe("renderMarkdown", () => {
  const small = review([
    { stack: "mlops-dev-data", environment: "dev", resources: [move, update] },
    { stack: "mlops-prod-data", environment: "prod", resources: [update] },
  ]);
  let text: string;
  beforeAll(() => {
    text = renderMarkdown(small);
  });

  test("starts with the marker that sticky-comment workflows look for", () => {
    expect(text.startsWith(`${COMMENT_MARKER}\n`)).toBe(true);
  });

  test("says it is a configuration diff, not a plan", () => {
    expect(text).toMatch(/Configuration diff, not a plan/);
    expect(text).toMatch(/cannot see drift/);
  });

  test("puts a summary table per environment before the high-risk items and the details", () => {
    const dev = text.indexOf("**dev**");
    const prod = text.indexOf("**prod**");
    const high = text.indexOf("#### High-risk items");
    const details = text.indexOf("<details><summary><b>dev</b>");
    expect(dev).toBeGreaterThan(0);
    expect(prod).toBeGreaterThan(dev);
    expect(high).toBeGreaterThan(prod);
    expect(details).toBeGreaterThan(high);
    expect(text).toMatch(/\| `mlops-dev-data` \| 0 \| 1 \| 0 \| 1 \| 0 \| 0 \| 🔴 1 \|/);
  });

  test("lists each high-risk item with its reasons", () => {
    expect(text).toMatch(
      /- \*\*move\*\* `aws_s3_bucket.RawBucket` → `aws_s3_bucket.RawDataBucket` in `mlops-dev-data` \(dev\): needs a moved block/,
    );
  });

  test("shows attribute changes in a diff block inside a collapsible section", () => {
    expect(text).toMatch(
      /```diff\n! aws_s3_bucket_versioning.Models\n-   versioning_configuration.status: "Enabled"\n\+   versioning_configuration.status: "Suspended"\n```/,
    );
  });

  test("a review without changes says so", () => {
    const empty = renderMarkdown(review([]));
    expect(empty).toMatch(/No resource changes in any stack/);
    expect(empty).toMatch(/No high-risk change/);
  });

  test("a plan review says it summarises terraform plan", () => {
    expect(renderMarkdown(review([], "plan"))).toMatch(/Summary of `terraform plan`/);
  });

  test("long values are shortened", () => {
    expect(formatValue("x".repeat(500)).length).toBe(160);
  });

  describe("a review larger than GitHub's comment limit", () => {
    const many = (environment: string, index: number): StackReview => ({
      stack: `mlops-${environment}-part${index}`,
      environment,
      resources: Array.from({ length: 150 }, (_, i) => ({
        address: `aws_s3_bucket_policy.Policy${i}`,
        type: "aws_s3_bucket_policy",
        action: i % 10 === 0 ? ("delete" as const) : ("update" as const),
        risk: i % 10 === 0 ? ("high" as const) : ("low" as const),
        reasons: i % 10 === 0 ? ["bucket policy no longer denies requests without TLS ".repeat(3)] : [],
        changes: [
          { path: `policy.Statement[${i}].Resource`, before: "a".repeat(150), after: "b".repeat(150) },
        ],
      })),
    });
    const big = review(["dev", "test", "prod"].flatMap((env) => [1, 2, 3, 4].map((i) => many(env, i))));
    let out: string;
    beforeAll(() => {
      out = renderMarkdown(big);
    });

    test("the input would be far larger than the limit", () => {
      expect(renderMarkdown(big, { maxLength: GITHUB_COMMENT_LIMIT }).length).toBeLessThanOrEqual(
        GITHUB_COMMENT_LIMIT,
      );
      expect(JSON.stringify(big).length).toBeGreaterThan(GITHUB_COMMENT_LIMIT * 2);
    });

    test("the comment stays under the limit", () => {
      expect(out.length).toBeLessThanOrEqual(65_000);
    });

    test("the summary of every stack survives", () => {
      for (const stack of big.stacks) expect(out).toContain(`| \`${stack.stack}\` |`);
    });

    test("it says what was left out and where the full output is", () => {
      expect(out).toMatch(/left out to fit/);
    });

    test("every collapsible section and code block it opens is closed", () => {
      expect(out.split("<details>").length).toBe(out.split("</details>").length);
      expect((out.match(/```/g) ?? []).length % 2).toBe(0);
    });
  });
});

describe("renderMarkdown of a plan with an unchanged stack", () => {
  test("lists the stack in the summary but opens no empty details section for it", () => {
    const text = renderMarkdown(
      review([{ stack: "mlops-dev-data", environment: "dev", resources: [] }], "plan"),
    );
    expect(text).toContain("| `mlops-dev-data` | 0 | 0 | 0 | 0 | 0 | 0 | 0 |");
    expect(text).not.toContain("<details>");
  });
});

describe("renderMarkdown of policy suppressions", () => {
  const suppression = (risk: "low" | "high") => ({
    status: "suppressed" as const,
    ruleId: "MLOPS-S3-009",
    severity: "error",
    message: "Bucket policies do not make a bucket public",
    risk,
    address: "aws_s3_bucket_policy.Site",
    reason: "The documentation site is public on purpose",
  });

  test("a new suppression shows as suppressed with its reason, not as fixed", () => {
    const text = renderMarkdown(
      review([
        { stack: "mlops-prod-web", environment: "prod", resources: [], findings: [suppression("low")] },
      ]),
    );
    expect(text).toContain(
      "- ⚠️ newly suppressed (low risk): **MLOPS-S3-009** (error) on `aws_s3_bucket_policy.Site` in `mlops-prod-web`: " +
        "Bucket policies do not make a bucket public; reason: The documentation site is public on purpose",
    );
    expect(text).not.toContain("✅ fixed");
    expect(text).toContain("### ✅ No high-risk change");
  });

  test("a high-risk suppression on an unchanged resource is a high-risk item and counts in the table", () => {
    const text = renderMarkdown(
      review([
        { stack: "mlops-prod-web", environment: "prod", resources: [], findings: [suppression("high")] },
      ]),
    );
    expect(text).toContain("### 🔴 1 high-risk change");
    expect(text).toMatch(/#### High-risk items\n\n- ⚠️ newly suppressed \(🔴 \*\*high\*\* risk\)/);
    expect(text).toContain("| `mlops-prod-web` | 0 | 0 | 0 | 0 | 0 | 0 | 🔴 1 |");
  });
});
