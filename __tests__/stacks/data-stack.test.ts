import type { DataStack } from "../../stacks/data-stack";
import { configFor, resourcesOf, synthEnvironment, type StackJson } from "../helpers/synth";

const STATEFUL = ["aws_kms_key", "aws_s3_bucket", "aws_ecr_repository"];

function stateful(json: StackJson): [string, Record<string, unknown>][] {
  return STATEFUL.flatMap((type) =>
    Object.entries(resourcesOf(json, type)).map(
      ([id, r]) => [`${type}.${id}`, r] as [string, Record<string, unknown>],
    ),
  );
}

describe("data stack of prod", () => {
  let json: StackJson;
  let stack: DataStack;
  beforeAll(() => {
    const synthesized = synthEnvironment(configFor("prod"));
    json = synthesized.json.data;
    stack = synthesized.stacks.data;
  });

  test("holds the data and registry keys, the access-log bucket, four data buckets and three repositories", () => {
    expect(Object.keys(resourcesOf(json, "aws_kms_key")).sort()).toEqual([
      expect.stringMatching(/^DataKey_/),
      expect.stringMatching(/^RegistryKey_/),
    ]);
    expect(Object.keys(resourcesOf(json, "aws_s3_bucket")).sort()).toEqual([
      expect.stringMatching(/^AccessLogs_/),
      expect.stringMatching(/^CuratedBucket_/),
      expect.stringMatching(/^FeaturesBucket_/),
      expect.stringMatching(/^ModelArtifactsBucket_/),
      expect.stringMatching(/^RawBucket_/),
    ]);
    expect(
      Object.values(resourcesOf(json, "aws_ecr_repository"))
        .map((r) => r.name)
        .sort(),
    ).toEqual(["mlops-prod-inference", "mlops-prod-mlflow", "mlops-prod-training"]);
  });

  test("prevents destroy of every key, bucket and repository", () => {
    for (const [address, resource] of stateful(json)) {
      expect([address, resource.lifecycle]).toEqual([address, { prevent_destroy: true }]);
    }
  });

  test("never force-destroys a bucket or force-deletes a repository", () => {
    for (const bucket of Object.values(resourcesOf(json, "aws_s3_bucket")))
      expect(bucket.force_destroy).toBe(false);
    for (const repository of Object.values(resourcesOf(json, "aws_ecr_repository")))
      expect(repository.force_delete).toBe(false);
  });

  test("waits 30 days before deleting a key", () => {
    for (const key of Object.values(resourcesOf(json, "aws_kms_key")))
      expect(key.deletion_window_in_days).toBe(30);
  });

  test("every data bucket is versioned, encrypted, blocked from the public, TLS-only, with a lifecycle", () => {
    const buckets = Object.keys(resourcesOf(json, "aws_s3_bucket"));
    for (const type of [
      "aws_s3_bucket_versioning",
      "aws_s3_bucket_server_side_encryption_configuration",
      "aws_s3_bucket_public_access_block",
      "aws_s3_bucket_ownership_controls",
      "aws_s3_bucket_policy",
      "aws_s3_bucket_lifecycle_configuration",
    ]) {
      expect([type, Object.keys(resourcesOf(json, type)).length]).toEqual([type, buckets.length]);
    }

    // Each bucket's own companions, found by the bucket they name, with the settings that protect it.
    const companionOf = (type: string, bucketId: string) => {
      const found = Object.values(resourcesOf(json, type)).filter(
        (r) => r.bucket === `\${aws_s3_bucket.${bucketId}.id}`,
      );
      expect([type, bucketId, found.length]).toEqual([type, bucketId, 1]);
      return found[0];
    };
    const dataKey = Object.keys(resourcesOf(json, "aws_kms_key")).find((id) => id.startsWith("DataKey_"));
    expect(dataKey).toBeDefined();
    for (const [id, bucket] of Object.entries(resourcesOf(json, "aws_s3_bucket"))) {
      const name = bucket.bucket as string;
      const arn = `arn:aws:s3:::${name}`;
      expect([name, companionOf("aws_s3_bucket_versioning", id).versioning_configuration]).toEqual([
        name,
        { status: "Enabled" },
      ]);
      // S3 delivers server access logs only to a bucket encrypted with SSE-S3 (not SSE-KMS); every other
      // bucket uses the data key, with a bucket key.
      const encryption = id.startsWith("AccessLogs_")
        ? [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }]
        : [
            {
              apply_server_side_encryption_by_default: {
                sse_algorithm: "aws:kms",
                kms_master_key_id: `\${aws_kms_key.${dataKey}.arn}`,
              },
              bucket_key_enabled: true,
            },
          ];
      expect([name, companionOf("aws_s3_bucket_server_side_encryption_configuration", id).rule]).toEqual([
        name,
        encryption,
      ]);
      expect([name, companionOf("aws_s3_bucket_public_access_block", id)]).toEqual([
        name,
        expect.objectContaining({
          block_public_acls: true,
          block_public_policy: true,
          ignore_public_acls: true,
          restrict_public_buckets: true,
        }),
      ]);
      expect([name, companionOf("aws_s3_bucket_ownership_controls", id).rule]).toEqual([
        name,
        { object_ownership: "BucketOwnerEnforced" },
      ]);
      // Every bucket at least aborts incomplete uploads (billed, and invisible) with an enabled rule.
      const lifecycle = companionOf("aws_s3_bucket_lifecycle_configuration", id).rule as Record<
        string,
        unknown
      >[];
      expect([name, lifecycle]).toEqual([
        name,
        expect.arrayContaining([
          expect.objectContaining({
            status: "Enabled",
            abort_incomplete_multipart_upload: [{ days_after_initiation: expect.any(Number) }],
          }),
        ]),
      ]);
      const policy = JSON.parse(companionOf("aws_s3_bucket_policy", id).policy as string) as {
        Statement: unknown[];
      };
      expect([name, policy.Statement]).toEqual([
        name,
        expect.arrayContaining([
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [arn, `${arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ]),
      ]);
    }
  });

  test("every data bucket logs to the environment's access-log bucket", () => {
    const targets = Object.values(resourcesOf(json, "aws_s3_bucket_logging")).map((l) => l.target_bucket);
    expect(targets).toEqual(Array(4).fill("mlops-prod-access-logs-333333333333"));
  });

  test("lets every role of the environment be named in the data key policy, and S3 use it", () => {
    const dataKey = Object.entries(resourcesOf(json, "aws_kms_key")).find(([id]) =>
      id.startsWith("DataKey"),
    )![1];
    const policy = dataKey.policy as string;
    expect(policy).toContain('"aws:PrincipalArn":["arn:aws:iam::333333333333:role/mlops-prod-*"]');
    expect(policy).toContain('"kms:ViaService":["s3.eu-west-1.amazonaws.com"]');
  });

  test("turns on registry enhanced scanning", () => {
    expect(Object.keys(resourcesOf(json, "aws_ecr_registry_scanning_configuration"))).toHaveLength(1);
  });

  test("lets prod CI roles push and prod roles pull", () => {
    const policy = Object.values(resourcesOf(json, "aws_ecr_repository_policy"))[0].policy as string;
    expect(policy).toContain(
      '"AllowPush","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"}',
    );
    expect(policy).toContain("arn:aws:iam::333333333333:role/mlops-prod-ci-*");
  });

  test("lets the GitHub deploy role push too, and takes role ARN patterns as written", () => {
    const sso = "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*";
    const config = configFor("prod", { registry: { pushRoles: ["ci-*", sso] } });
    const policy = JSON.parse(
      Object.values(resourcesOf(synthEnvironment(config).json.data, "aws_ecr_repository_policy"))[0]
        .policy as string,
    ) as { Statement: { Sid: string; Condition: Record<string, Record<string, string[]>> }[] };
    const pushers = [
      "arn:aws:iam::333333333333:role/mlops-prod-ci-*",
      "arn:aws:iam::333333333333:role/mlops-prod-github-deploy",
      sso,
    ].sort();
    const statement = (sid: string) => policy.Statement.find((candidate) => candidate.Sid === sid)!;
    expect(statement("AllowPush").Condition.ArnLike["aws:PrincipalArn"]).toEqual(pushers);
    expect(statement("DenyPushExceptAllowedPushers").Condition.ArnNotLike["aws:PrincipalArn"]).toEqual(
      pushers,
    );
  });

  test("outputs each bucket's name, ARN and DVC remote line, and each repository's URL", () => {
    expect(json.output?.model_artifacts_dvc_remote?.value).toBe(
      "dvc remote add -d prod-model-artifacts s3://mlops-prod-model-artifacts-333333333333/dvc",
    );
    expect(Object.keys(json.output ?? {})).toEqual(
      expect.arrayContaining([
        "raw_bucket_name",
        "raw_bucket_arn",
        "curated_dvc_remote",
        "mlflow_repository_url",
        "data_key_alias",
      ]),
    );
  });

  test("logs each bucket to the access-log bucket only once that bucket and its policy exist", () => {
    const logging = Object.values(resourcesOf(json, "aws_s3_bucket_logging"));
    expect(logging.length).toBeGreaterThanOrEqual(4);
    for (const configuration of logging) {
      expect(configuration.target_bucket).toBe("mlops-prod-access-logs-333333333333");
      expect(configuration.depends_on).toEqual([
        expect.stringMatching(/^aws_s3_bucket\.AccessLogs_[0-9A-F]+$/),
        expect.stringMatching(/^aws_s3_bucket_policy\.AccessLogs_Policy_/),
      ]);
    }
    const logPolicy = Object.entries(resourcesOf(json, "aws_s3_bucket_policy")).find(([id]) =>
      id.startsWith("AccessLogs_Policy"),
    )![1];
    expect(logPolicy.depends_on).toEqual([
      expect.stringMatching(/^aws_s3_bucket_public_access_block\.AccessLogs_PublicAccessBlock/),
    ]);
  });

  test("reads no other stack's state and asks AWS nothing at plan time", () => {
    expect(json.data).toBeUndefined();
    expect(JSON.stringify(json)).not.toContain("terraform_remote_state");
  });

  test("exposes typed, literal names for code that composes the stack", () => {
    expect(stack.buckets.raw.bucketName).toBe("mlops-prod-raw-333333333333");
    expect(stack.dataKey.aliasName).toBe("alias/mlops-prod-data");
    expect(stack.registry.repositoryUrl("training")).toBe(
      "333333333333.dkr.ecr.eu-west-1.amazonaws.com/mlops-prod-training",
    );
  });
});

describe("data stack of dev", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthEnvironment(configFor("dev")).json.data;
  });

  test("waits only 7 days before deleting a key", () => {
    for (const key of Object.values(resourcesOf(json, "aws_kms_key")))
      expect(key.deletion_window_in_days).toBe(7);
  });

  test("does not prevent destroy (dev is disposable)", () => {
    for (const [address, resource] of stateful(json)) {
      expect([address, resource.lifecycle]).toEqual([address, { prevent_destroy: false }]);
    }
  });

  test("still never force-destroys unless the environment file says so", () => {
    for (const bucket of Object.values(resourcesOf(json, "aws_s3_bucket")))
      expect(bucket.force_destroy).toBe(false);
    for (const repository of Object.values(resourcesOf(json, "aws_ecr_repository")))
      expect(repository.force_delete).toBe(false);
  });

  test("has no enhanced scanning", () => {
    expect(resourcesOf(json, "aws_ecr_registry_scanning_configuration")).toEqual({});
  });

  test("keeps access logs 90 days", () => {
    const logs = Object.entries(resourcesOf(json, "aws_s3_bucket_lifecycle_configuration")).find(([id]) =>
      id.startsWith("AccessLogs"),
    )![1];
    expect((logs.rule as Record<string, unknown>[])[0].expiration).toEqual([{ days: 90 }]);
  });
});

describe("data stack of dev, from an environment file that changes it", () => {
  let json: StackJson;
  beforeAll(() => {
    const config = configFor("dev", {
      protection: { forceDestroy: true },
      data: { buckets: { audit: { objectLock: { mode: "GOVERNANCE", days: 30 } }, features: null } },
      registry: { repositories: { "feature-server": {} }, replicationRegions: ["eu-central-1"] },
    });
    json = synthEnvironment(config).json.data;
  });

  test("force-destroys buckets and force-deletes repositories when dev asks", () => {
    for (const bucket of Object.values(resourcesOf(json, "aws_s3_bucket")))
      expect(bucket.force_destroy).toBe(true);
    for (const repository of Object.values(resourcesOf(json, "aws_ecr_repository")))
      expect(repository.force_delete).toBe(true);
  });

  test("adding a bucket is a YAML change; so is removing one", () => {
    const names = Object.values(resourcesOf(json, "aws_s3_bucket")).map((b) => b.bucket);
    expect(names).toContain("mlops-dev-audit-111111111111");
    expect(names).not.toContain("mlops-dev-features-111111111111");
    expect(Object.keys(resourcesOf(json, "aws_s3_bucket_object_lock_configuration"))).toEqual([
      expect.stringMatching(/^AuditBucket_ObjectLock_/),
    ]);
  });

  test("adding a repository and a replication region is a YAML change", () => {
    expect(Object.values(resourcesOf(json, "aws_ecr_repository")).map((r) => r.name)).toContain(
      "mlops-dev-feature-server",
    );
    expect(Object.keys(resourcesOf(json, "aws_ecr_replication_configuration"))).toHaveLength(1);
  });
});
