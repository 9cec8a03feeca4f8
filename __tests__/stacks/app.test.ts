import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PolicyReport } from "../../constructs/policy/report";
import { App } from "cdktf";
import { buildApp, writePolicyReport } from "../../stacks/app";
import { MINIMUM_TERRAFORM_VERSION, MlopsStack } from "../../stacks/mlops-stack";
import { renderStack } from "../../stacks/stack-render";
import { policyFindings } from "../../tools/lib/policy";
import { configFor, resourcesOf, ROOT, synthEnvironment, type StackJson } from "../helpers/synth";

describe("the stacks of an environment", () => {
  const dev = synthEnvironment(configFor("dev"));
  const prod = synthEnvironment(configFor("prod"));
  const offline = synthEnvironment(configFor("prod"), { offline: true });
  const awsProvider = (json: StackJson) => json.provider!.aws[0];

  it("are named <project>-<env>-<part> so one environment deploys with a glob", () => {
    expect(Object.values(dev.stacks).map((stack) => stack.node.id)).toEqual(
      expect.arrayContaining(["mlops-dev-bootstrap", "mlops-dev-data", "mlops-dev-platform"]),
    );
    for (const stack of Object.values(dev.stacks)) expect(stack.node.id).toMatch(/^mlops-dev-/);
  });

  it("pin the AWS provider to the environment's account and region", () => {
    for (const json of Object.values(prod.json)) {
      expect(awsProvider(json)).toMatchObject({ region: "eu-west-1", allowed_account_ids: ["333333333333"] });
    }
  });

  it("assume the environment's role when it names one", () => {
    expect(awsProvider(prod.json.data).assume_role).toEqual([
      { role_arn: "arn:aws:iam::333333333333:role/platform-deploy", session_name: "mlops-prod-data" },
    ]);
    expect(awsProvider(dev.json.data).assume_role).toBeUndefined();
  });

  it("tag every resource through default_tags", () => {
    expect(awsProvider(dev.json.platform).default_tags).toEqual([
      {
        tags: {
          Project: "mlops",
          Environment: "dev",
          ManagedBy: "cdktf",
          Repository: "mlops-platform",
          Owner: "ml-platform",
          CostCenter: "ml-research",
        },
      },
    ]);
  });

  it("keep state in the environment's bucket, one key per stack, encrypted and locked", () => {
    expect(prod.json.platform.terraform!.backend).toEqual({
      s3: {
        bucket: "mlops-prod-tfstate-333333333333",
        key: "prod/mlops-prod-platform.tfstate",
        region: "eu-west-1",
        encrypt: true,
        // Encrypted with the state key: `encrypt` alone would ask S3 for SSE-S3 on every write.
        kms_key_id: "arn:aws:kms:eu-west-1:333333333333:alias/mlops-prod-tfstate",
        use_lockfile: true,
        assume_role: { role_arn: "arn:aws:iam::333333333333:role/platform-deploy" },
      },
    });
  });

  describe("with the state in another region than the environment (state.region)", () => {
    const split = synthEnvironment(configFor("dev", { state: { region: "eu-central-1" } }));

    it("create the state bucket and its key there", () => {
      expect(awsProvider(split.json.bootstrap).region).toBe("eu-central-1");
      expect(awsProvider(split.json.data).region).toBe("eu-west-1");
    });

    it("encrypt state with the key of that region, which the CI roles may use", () => {
      const keyAlias = "arn:aws:kms:eu-central-1:111111111111:alias/mlops-dev-tfstate";
      expect(split.json.data.terraform!.backend).toMatchObject({
        s3: { region: "eu-central-1", kms_key_id: keyAlias },
      });
      const statePolicies = Object.values(resourcesOf(split.json.platform, "aws_iam_role_policy")).filter(
        (policy) => String(policy.name).startsWith("terraform-state"),
      );
      expect(statePolicies.length).toBeGreaterThanOrEqual(3);
      for (const policy of statePolicies) {
        const keyStatements = (
          JSON.parse(policy.policy as string) as {
            Statement: { Action: string | string[]; Resource: string }[];
          }
        ).Statement.filter((statement) =>
          [statement.Action].flat().some((action) => action.startsWith("kms:")),
        );
        expect(keyStatements.map((statement) => statement.Resource)).toEqual([
          "arn:aws:kms:eu-central-1:111111111111:key/*",
        ]);
      }
    });
  });

  it("declare the Terraform they need: 1.10 for S3-native locking, 1.11 where write-only attributes are", () => {
    const required = Object.fromEntries(
      Object.entries(prod.json).map(([part, json]) => [part, json.terraform!.required_version]),
    );
    expect(required).toEqual({
      bootstrap: ">= 1.10",
      data: ">= 1.10",
      platform: ">= 1.10",
      // The Grafana admin password: an ephemeral resource and write-only attributes.
      cluster: ">= 1.11",
    });
  });

  it("keep the bootstrap stack's own state in a local file at the project root", () => {
    expect(prod.json.bootstrap.terraform!.backend).toEqual({
      local: { path: "../../../terraform.mlops-prod-bootstrap.tfstate" },
    });
  });

  it("deploy in order: bootstrap, data, platform", () => {
    const dependencies = (stack: { dependencies: { node: { id: string } }[] }) =>
      stack.dependencies.map((dependency) => dependency.node.id);
    expect(dependencies(dev.stacks.data)).toEqual(["mlops-dev-bootstrap"]);
    expect(dependencies(dev.stacks.platform)).toContain("mlops-dev-data");
  });

  describe("offline", () => {
    it("use a local backend with a relative path", () => {
      expect(offline.json.data.terraform!.backend).toEqual({
        local: { path: "../../../terraform.mlops-prod-data.tfstate" },
      });
    });

    it("leave allowed_account_ids out and do not ask AWS who they are", () => {
      const provider = awsProvider(offline.json.data);
      expect(provider.allowed_account_ids).toBeUndefined();
      expect(provider.assume_role).toBeUndefined();
      expect(provider).toMatchObject({ skip_credentials_validation: true, skip_requesting_account_id: true });
    });
  });
});

describe("MlopsStack.requireTerraform", () => {
  const requiredVersion = (stack: MlopsStack) =>
    (renderStack(stack).terraform as Record<string, unknown>).required_version;
  const newStack = () => new MlopsStack(new App(), { config: configFor("dev"), part: "test" });

  it(`starts every stack at ${MINIMUM_TERRAFORM_VERSION} and raises it to the highest version asked for`, () => {
    const stack = newStack();
    expect(requiredVersion(stack)).toBe(`>= ${MINIMUM_TERRAFORM_VERSION}`);
    stack.requireTerraform("1.11");
    stack.requireTerraform("1.9");
    stack.requireTerraform("1.10.5");
    expect(requiredVersion(stack)).toBe(">= 1.11");
    stack.requireTerraform("1.11.2");
    stack.requireTerraform("1.11");
    expect(requiredVersion(stack)).toBe(">= 1.11.2");
    stack.requireTerraform("2.0");
    expect(requiredVersion(stack)).toBe(">= 2.0");
  });

  it("refuses a version that is not major.minor or major.minor.patch", () => {
    const stack = newStack();
    for (const version of ["1", "v1.11", ">= 1.11", "1.11.x", ""]) {
      expect(() => stack.requireTerraform(version)).toThrow(
        `mlops-dev-test: Terraform version ${JSON.stringify(version)} must look like 1.11 or 1.11.4`,
      );
    }
  });
});

describe("the bootstrap stack", () => {
  const { json } = synthEnvironment(configFor("dev"));
  const bootstrap = json.bootstrap;
  const only = (type: string) => Object.values(resourcesOf(bootstrap, type));

  it("creates the state bucket named in the environment, never force-destroyed and never destroyed", () => {
    expect(only("aws_s3_bucket")).toEqual([
      expect.objectContaining({
        bucket: "mlops-dev-tfstate-111111111111",
        force_destroy: false,
        lifecycle: { prevent_destroy: true },
      }),
    ]);
  });

  it("versions, encrypts with a rotated KMS key and blocks public access", () => {
    expect(only("aws_s3_bucket_versioning")[0]).toMatchObject({
      versioning_configuration: { status: "Enabled" },
    });
    expect(only("aws_s3_bucket_server_side_encryption_configuration")[0]).toMatchObject({
      rule: [
        { apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms" }, bucket_key_enabled: true },
      ],
    });
    // With the state key itself: without kms_master_key_id, S3 would use the AWS managed aws/s3 key.
    const stateKeyId = Object.keys(resourcesOf(bootstrap, "aws_kms_key")).find((id) =>
      id.startsWith("StateKey"),
    );
    expect(stateKeyId).toMatch(/^StateKey(_\w+)?$/);
    expect(only("aws_s3_bucket_server_side_encryption_configuration")).toEqual([
      expect.objectContaining({
        bucket: "${aws_s3_bucket.StateBucket.id}",
        rule: [
          {
            apply_server_side_encryption_by_default: {
              sse_algorithm: "aws:kms",
              kms_master_key_id: `\${aws_kms_key.${stateKeyId}.arn}`,
            },
            bucket_key_enabled: true,
          },
        ],
      }),
    ]);
    expect(only("aws_kms_key")[0]).toMatchObject({
      enable_key_rotation: true,
      lifecycle: { prevent_destroy: true },
    });
    expect(only("aws_s3_bucket_public_access_block")[0]).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it("denies every request without TLS, once the public access block is in place", () => {
    const [bucketPolicy] = only("aws_s3_bucket_policy");
    const policy = JSON.parse(bucketPolicy.policy as string);
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    );
    // On the bucket and on every object in it: a Deny on the bucket alone would leave object reads open.
    expect(policy.Statement).toContainEqual({
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [
        "arn:aws:s3:::mlops-dev-tfstate-111111111111",
        "arn:aws:s3:::mlops-dev-tfstate-111111111111/*",
      ],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    expect(bucketPolicy.depends_on).toEqual([
      expect.stringMatching(/^aws_s3_bucket_public_access_block\.StateBucketPublicAccessBlock/),
    ]);
  });
});

describe("release traceability", () => {
  it("records the package name and version in every stack's metadata", () => {
    const { name, version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<
      string,
      string
    >;
    const outdir = mkdtempSync(join(tmpdir(), "mlops-meta-"));
    buildApp({ environments: [configFor("test")], outdir }).app.synth();
    const stacks = readdirSync(join(outdir, "stacks"));
    expect(stacks.length).toBeGreaterThan(0);
    for (const stack of stacks) {
      const json = JSON.parse(readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
      expect(json["//"].metadata.mlopsPlatform).toEqual({ package: name, version });
    }
  });
});

describe("the policy report of a synth in report mode", () => {
  const outdir = mkdtempSync(join(tmpdir(), "mlops-policy-report-"));
  // Keys that can be deleted within a week fail a rule that blocks in test: the report has a blocking finding.
  // The schema refuses such a window outside dev, so the configuration is changed after it.
  const base = configFor("test");
  const test = { ...base, protection: { ...base.protection, keyDeletionWindowDays: 7 } };
  const { app, stacks } = buildApp({ environments: [test], outdir, policy: "report" });

  it("cannot be written before a synth", () => {
    expect(() => writePolicyReport(outdir, stacks)).toThrow(/mlops-test-\w+: the policy pack has not run/);
  });

  it("holds what npm run policy finds in the output, in its JSON shape", () => {
    app.synth();
    writePolicyReport(outdir, stacks);
    const report = JSON.parse(readFileSync(join(outdir, "policy-report.json"), "utf8")) as PolicyReport;
    const sorted = (keys: string[]) => [...keys].sort();
    const reported = report.environments.flatMap((environment) =>
      environment.findings.map((f) => `${f.key}|${f.result}|${f.blocking}`),
    );
    const evaluated = policyFindings(outdir).map((f) => `${f.key}|${f.result}|${f.blocking}`);
    expect(reported.length).toBeGreaterThan(0);
    expect(sorted(reported)).toEqual(sorted(evaluated));
    expect(report.environments.map((environment) => environment.environment)).toEqual(["test"]);
    expect(report.blocking).toBe(report.environments[0].summary.blocking);
    expect(report.blocking).toBeGreaterThan(0);
  });
});
