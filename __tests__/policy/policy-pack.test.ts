import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketLoggingA } from "@cdktf/provider-aws/lib/s3-bucket-logging";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { AnnotationMetadataEntryType, Testing, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import { evaluateStack, type SynthesizedStackJson } from "../../constructs/policy/engine";
import { PolicyPack } from "../../constructs/policy/policy-pack";
import { PolicySuppressions } from "../../constructs/policy/policy-suppressions";
import { RULES, ruleById } from "../../constructs/policy/rules";
import { MlopsStack } from "../../stacks/mlops-stack";
import { configFor, type Patch } from "../helpers/config";

interface TestBucketProps {
  readonly encrypted?: boolean;
  readonly publicRead?: boolean;
  readonly preventDestroy?: boolean;
}

/** A bucket with every setting the S3 rules ask for, unless a prop turns one off. */
class TestBucket extends Construct {
  readonly resource: S3Bucket;
  constructor(scope: Construct, id: string, props: TestBucketProps = {}) {
    super(scope, id);
    const name = `mlops-test-${id.toLowerCase()}`;
    this.resource = new S3Bucket(this, "Resource", {
      bucket: name,
      lifecycle: { preventDestroy: props.preventDestroy ?? true },
    });
    const bucket = this.resource.id;
    const arn = this.resource.arn;
    new S3BucketVersioningA(this, "Versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    if (props.encrypted ?? true) {
      new S3BucketServerSideEncryptionConfigurationA(this, "Encryption", {
        bucket,
        rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
      });
    }
    new S3BucketPublicAccessBlock(this, "PublicAccessBlock", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: !props.publicRead,
      ignorePublicAcls: true,
      restrictPublicBuckets: !props.publicRead,
    });
    new S3BucketOwnershipControls(this, "Ownership", {
      bucket,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    const statements: unknown[] = [
      {
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [arn, `${arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ];
    if (props.publicRead)
      statements.push({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `${arn}/*` });
    new S3BucketPolicy(this, "Policy", {
      bucket,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
    });
    new S3BucketLoggingA(this, "Logging", {
      bucket,
      targetBucket: "mlops-test-logs",
      targetPrefix: `${id}/`,
    });
    new S3BucketLifecycleConfiguration(this, "Lifecycle", {
      bucket,
      rule: [
        {
          id: "abort",
          status: "Enabled",
          filter: [{ prefix: "" }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
  }
}

function stackFor(environment: string, patch: Patch = {}): MlopsStack {
  return new MlopsStack(Testing.app(), {
    config: configFor(environment, patch),
    part: "guarded",
    offline: true,
  });
}

function synthError(stack: TerraformStack): string {
  try {
    Testing.synth(stack, true);
  } catch (error) {
    return (error as Error).message;
  }
  return "";
}

function warnings(stack: TerraformStack): string[] {
  return stack.node
    .findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === AnnotationMetadataEntryType.WARN)
    .map((m) => String(m.data));
}

describe("PolicyPack on a stack", () => {
  it("lets a stack whose resources pass every rule synthesize in prod", () => {
    const stack = stackFor("prod");
    new TestBucket(stack, "Datasets");
    expect(synthError(stack)).toBe("");
  });

  it("blocks synthesis in prod with the stack, rule, address, construct path and fix", () => {
    const stack = stackFor("prod");
    new TestBucket(stack, "Datasets", { encrypted: false });
    const message = synthError(stack);
    expect(message).toContain(
      "mlops-prod-guarded: MLOPS-S3-002 Bucket is encrypted by default with a KMS key",
    );
    expect(message).toMatch(
      /aws_s3_bucket\.Datasets_\w+ \(construct mlops-prod-guarded\/Datasets\/Resource\)/,
    );
    expect(message).toContain("Fix: Add an aws_s3_bucket_server_side_encryption_configuration");
  });

  it("blocks synthesis in test too", () => {
    const stack = stackFor("test");
    new TestBucket(stack, "Datasets", { encrypted: false });
    expect(synthError(stack)).toContain("MLOPS-S3-002");
  });

  it("only warns in dev, on the construct that owns the resource", () => {
    const stack = stackFor("dev");
    new TestBucket(stack, "Datasets", { encrypted: false });
    expect(synthError(stack)).toBe("");
    expect(warnings(stack).filter((w) => w.includes("MLOPS-S3-002"))).toHaveLength(1);
  });

  it("follows the level an environment file gives a rule", () => {
    const stack = stackFor("prod", { policy: { rules: { "MLOPS-S3-005": "warn" } } });
    const bucket = new TestBucket(stack, "Datasets");
    bucket.node.tryRemoveChild("Logging");
    expect(synthError(stack)).toBe("");
    expect(warnings(stack).some((w) => w.includes("MLOPS-S3-005"))).toBe(true);
  });

  it("can block in dev when the environment file raises a rule to error", () => {
    const stack = stackFor("dev", { policy: { rules: { "MLOPS-S3-002": "error" } } });
    new TestBucket(stack, "Datasets", { encrypted: false });
    expect(synthError(stack)).toContain("MLOPS-S3-002");
  });

  it("skips a rule set to off", () => {
    const stack = stackFor("prod", { policy: { rules: { "MLOPS-S3-005": "off" } } });
    new TestBucket(stack, "Datasets").node.tryRemoveChild("Logging");
    expect(stack.policy.findings().filter((f) => f.rule === "MLOPS-S3-005")).toEqual([]);
  });

  it("reports in report mode instead of blocking", () => {
    const stack = new MlopsStack(Testing.app(), {
      config: configFor("prod"),
      part: "guarded",
      offline: true,
      policy: "report",
    });
    new TestBucket(stack, "Datasets", { encrypted: false });
    expect(synthError(stack)).toBe("");
    expect(warnings(stack).some((w) => w.includes("MLOPS-S3-002"))).toBe(true);
  });

  it("writes the environment, tier and rule levels into the synthesized stack for tools", () => {
    const stack = stackFor("prod", { policy: { rules: { "MLOPS-S3-005": "warn" } } });
    const json = stack.toTerraform() as SynthesizedStackJson;
    expect(json["//"]?.policy).toEqual({
      environment: "prod",
      tier: "prod",
      rules: { "MLOPS-S3-005": "warn" },
    });
  });
});

describe("an MlopsStack's render during a synth", () => {
  afterEach(() => jest.restoreAllMocks());

  it("is done once: the synthesizer takes the JSON the policy pack rendered", () => {
    const stack = stackFor("prod");
    new TestBucket(stack, "Datasets");
    // Each render asks the stack's one AWS provider for its JSON once.
    const render = jest.spyOn(AwsProvider.prototype, "toTerraform");
    Testing.synth(stack, true);
    expect(render).toHaveBeenCalledTimes(1);
    stack.toTerraform();
    expect(render).toHaveBeenCalledTimes(2);
  });

  it("gives the synthesizer the same JSON as a render of its own", () => {
    const stack = stackFor("prod");
    new TestBucket(stack, "Datasets");
    const synthesized = JSON.parse(Testing.synth(stack, true));
    // Testing.synth leaves out cdktf's "//" metadata; so does the comparison.
    const fresh = JSON.parse(JSON.stringify(stack.toTerraform()), (key, value) =>
      key === "//" ? undefined : value,
    );
    expect(synthesized).toEqual(fresh);
  });

  it("is not reused after a validation fails: a fix made afterwards is rendered", () => {
    const stack = stackFor("prod");
    const bucket = new TestBucket(stack, "Datasets", { encrypted: false });
    expect(synthError(stack)).toContain("MLOPS-S3-002");
    bucket.node.tryRemoveChild("Policy");
    expect(JSON.stringify(stack.toTerraform())).not.toContain("aws_s3_bucket_policy");
  });

  it("is not kept when the pack runs outside a synth", () => {
    const stack = stackFor("prod");
    const bucket = new TestBucket(stack, "Datasets");
    expect(stack.node.validate()).toEqual([]);
    bucket.node.tryRemoveChild("Policy");
    expect(JSON.stringify(stack.toTerraform())).not.toContain("aws_s3_bucket_policy");
  });
});

describe("unsafe options refuse loudly in prod", () => {
  it.each([
    ["turning off encryption", { encrypted: false }, "MLOPS-S3-002"],
    ["making a bucket public", { publicRead: true }, "MLOPS-S3-009"],
    ["dropping prevent_destroy", { preventDestroy: false }, "MLOPS-DATA-001"],
  ] as const)("%s fails synthesis", (_what, props, rule) => {
    const stack = stackFor("prod");
    new TestBucket(stack, "Datasets", props);
    expect(synthError(stack)).toContain(rule);
  });

  it("making a bucket public also fails the public access block rule", () => {
    const stack = stackFor("prod");
    new TestBucket(stack, "Datasets", { publicRead: true });
    expect(synthError(stack)).toContain("MLOPS-S3-003");
  });

  it("disabling deletion protection on a database fails synthesis", () => {
    const stack = stackFor("prod");
    const db = new DbInstance(stack, "Registry", {
      engine: "postgres",
      engineVersion: "16.4",
      instanceClass: "db.t4g.medium",
      storageEncrypted: true,
      multiAz: true,
      backupRetentionPeriod: 14,
      manageMasterUserPassword: true,
      deletionProtection: false,
      lifecycle: { preventDestroy: true },
    });
    expect(synthError(stack)).toContain("MLOPS-RDS-003");
    PolicySuppressions.add(
      db,
      "MLOPS-RDS-003",
      "Migrating to a new instance this week; protection returns in the next release",
    );
    expect(synthError(stack)).toBe("");
  });

  it("goes through with a suppression that gives the reason", () => {
    const stack = stackFor("prod");
    const bucket = new TestBucket(stack, "Website", { publicRead: true });
    PolicySuppressions.add(
      bucket,
      "MLOPS-S3-009",
      "Public model cards are served to anyone from this bucket",
    );
    PolicySuppressions.add(
      bucket,
      "MLOPS-S3-003",
      "Public model cards are served to anyone from this bucket",
    );
    expect(synthError(stack)).toBe("");
  });
});

describe("PolicySuppressions", () => {
  function bareStack(): TerraformStack {
    const stack = new TerraformStack(Testing.app(), "bare");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    PolicyPack.attach(stack, { environment: "prod", tier: "prod", ruleSet: [ruleById("MLOPS-S3-008")!] });
    return stack;
  }

  it("suppresses the rule on the resources of the construct and its children", () => {
    const stack = bareStack();
    const group = new Construct(stack, "Group");
    new S3Bucket(group, "Scratch", { bucket: "scratch", forceDestroy: true });
    PolicySuppressions.add(group, "MLOPS-S3-008", "Scratch space that is emptied by every test run");
    expect(synthError(stack)).toBe("");
    const finding = evaluateStack(stack.toTerraform() as SynthesizedStackJson, RULES).find(
      (f) => f.rule === "MLOPS-S3-008",
    );
    expect(finding).toMatchObject({
      result: "suppressed",
      reason: "Scratch space that is emptied by every test run",
    });
  });

  it("writes the suppression next to the resource in the synthesized JSON", () => {
    const stack = bareStack();
    const bucket = new S3Bucket(stack, "Scratch", { bucket: "scratch", forceDestroy: true });
    PolicySuppressions.add(bucket, "MLOPS-S3-008", "Scratch space that is emptied by every test run");
    Testing.synth(stack);
    const json = stack.toTerraform() as { resource: Record<string, Record<string, { "//": unknown }>> };
    expect(json.resource.aws_s3_bucket.Scratch["//"]).toMatchObject({
      policy_suppressions: [
        { rule: "MLOPS-S3-008", reason: "Scratch space that is emptied by every test run" },
      ],
    });
  });

  it("does not suppress the resources of a sibling construct", () => {
    const stack = bareStack();
    const a = new Construct(stack, "A");
    const b = new Construct(stack, "B");
    new S3Bucket(a, "Scratch", { bucket: "a", forceDestroy: true });
    new S3Bucket(b, "Scratch", { bucket: "b", forceDestroy: true });
    PolicySuppressions.add(a, "MLOPS-S3-008", "Scratch space that is emptied by every test run");
    expect(synthError(stack)).toContain("bare/B/Scratch");
    expect(synthError(stack)).not.toContain("bare/A/Scratch");
  });

  it("refuses a reason shorter than 10 characters", () => {
    const stack = bareStack();
    const bucket = new S3Bucket(stack, "Scratch", { bucket: "scratch" });
    expect(() => PolicySuppressions.add(bucket, "MLOPS-S3-008", "legacy")).toThrow(/at least 10 characters/);
  });

  it("refuses a rule that does not exist", () => {
    const bucket = new S3Bucket(bareStack(), "Scratch", { bucket: "scratch" });
    expect(() => PolicySuppressions.add(bucket, "MLOPS-S3-999", "a long enough reason")).toThrow(
      /no such rule/,
    );
  });

  it("refuses to suppress a rule for a whole stack", () => {
    expect(() => PolicySuppressions.add(bareStack(), "MLOPS-S3-008", "a long enough reason")).toThrow(
      /never global/,
    );
  });
});
