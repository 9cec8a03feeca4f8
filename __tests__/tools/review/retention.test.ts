import { retentionCuts } from "../../../tools/lib/review/retention";
import { dataBucketLifecycle } from "./fixtures/data-bucket-lifecycle";
import { weakenedProtection } from "../../../tools/lib/review/risk";

describe("log group retention", () => {
  const group = (days?: unknown) => ({ name: "/aws/eks/mlops-prod-eks/cluster", retention_in_days: days });

  test("fewer days is a cut that deletes older logs", () => {
    expect(retentionCuts("aws_cloudwatch_log_group", group(365), group(90))).toEqual([
      "retention_in_days lowered from 365 to 90: keeps logs for fewer days, older logs are deleted for good",
    ]);
  });

  test("a limit on logs that never expired is a cut", () => {
    expect(retentionCuts("aws_cloudwatch_log_group", group(), group(30))).toEqual([
      "retention_in_days set to 30 (nothing expired before): keeps logs for fewer days, older logs are deleted for good",
    ]);
  });

  test.each([
    ["more days", 90, 365],
    ["never expire (0)", 90, 0],
    ["never expire (unset)", 90, undefined],
    ["unchanged", 90, 90],
    ["a reference known only at apply", 90, "${var.retention}"],
  ])("%s is not a cut", (_, before, after) => {
    expect(retentionCuts("aws_cloudwatch_log_group", group(before), group(after))).toEqual([]);
  });

  test("weakenedProtection reports it, so the change is high risk", () => {
    expect(weakenedProtection("aws_cloudwatch_log_group", group(365), group(90))).toEqual([
      "retention_in_days lowered from 365 to 90: keeps logs for fewer days, older logs are deleted for good",
    ]);
  });
});

describe("S3 lifecycle rules", () => {
  const TYPE = "aws_s3_bucket_lifecycle_configuration";
  // The bootstrap stack's state bucket: noncurrent versions expire after 365 days, beyond the 50 newest.
  const stateBucket = (noncurrent: object) => ({
    bucket: "${aws_s3_bucket.StateBucket.id}",
    rule: [
      {
        filter: [{ prefix: "" }],
        id: "abort-incomplete-uploads-and-expire-old-state",
        noncurrent_version_expiration: [noncurrent],
        status: "Enabled",
      },
    ],
  });
  // The access-log bucket: current objects expire after 730 days.
  const accessLogs = (days: number) => ({
    bucket: "${aws_s3_bucket.AccessLogs.id}",
    rule: [
      {
        expiration: [{ days }],
        filter: [{ prefix: "" }],
        id: "expire-logs",
        noncurrent_version_expiration: [{ noncurrent_days: 30 }],
        status: "Enabled",
      },
    ],
  });

  test("noncurrent versions expiring sooner (365 → 100) is a cut", () => {
    expect(retentionCuts(TYPE, dataBucketLifecycle(365), dataBucketLifecycle(100))).toEqual([
      'lifecycle rule "noncurrent-versions": noncurrent_version_expiration.noncurrent_days lowered from 365 to 100: ' +
        "keeps noncurrent object versions for fewer days, older versions are deleted for good",
    ]);
  });

  test("noncurrent versions kept longer is not a cut", () => {
    expect(retentionCuts(TYPE, dataBucketLifecycle(100), dataBucketLifecycle(365))).toEqual([]);
  });

  test("fewer noncurrent versions kept by count is a cut, and so is dropping the count", () => {
    expect(
      retentionCuts(
        TYPE,
        stateBucket({ newer_noncurrent_versions: 50, noncurrent_days: 365 }),
        stateBucket({ newer_noncurrent_versions: 10, noncurrent_days: 365 }),
      ),
    ).toEqual([
      'lifecycle rule "abort-incomplete-uploads-and-expire-old-state": ' +
        "noncurrent_version_expiration.newer_noncurrent_versions lowered from 50 to 10: keeps fewer noncurrent " +
        "object versions, older versions are deleted for good",
    ]);
    expect(
      retentionCuts(
        TYPE,
        stateBucket({ newer_noncurrent_versions: 50, noncurrent_days: 365 }),
        stateBucket({ noncurrent_days: 365 }),
      )[0],
    ).toMatch(/newer_noncurrent_versions lowered from 50 to 0/);
  });

  test("current objects expiring sooner is a cut", () => {
    expect(retentionCuts(TYPE, accessLogs(730), accessLogs(365))).toEqual([
      'lifecycle rule "expire-logs": expiration.days lowered from 730 to 365: keeps current objects for fewer ' +
        "days, older ones expire (deleted for good unless the bucket keeps versions)",
    ]);
  });

  test("expiring noncurrent versions where none expired is a cut, reported once by its days", () => {
    const none = { ...dataBucketLifecycle(365), rule: [dataBucketLifecycle(365).rule[0]] };
    expect(retentionCuts(TYPE, none, dataBucketLifecycle(100))).toEqual([
      'lifecycle rule "noncurrent-versions": noncurrent_version_expiration.noncurrent_days set to 100 (nothing ' +
        "expired before): keeps noncurrent object versions for fewer days, older versions are deleted for good",
    ]);
  });

  test("a new rule that expires part of the bucket sooner than the whole-bucket rule is a cut", () => {
    const tmp = {
      expiration: [{ days: 7 }],
      filter: [{ prefix: "tmp/" }],
      id: "expire-tmp",
      status: "Enabled",
    };
    const before = accessLogs(730);
    const after = { ...before, rule: [...before.rule, tmp] };
    expect(retentionCuts(TYPE, before, after)).toEqual([
      'lifecycle rule "expire-tmp": expiration.days lowered from 730 to 7: keeps current objects for fewer days, ' +
        "older ones expire (deleted for good unless the bucket keeps versions)",
    ]);
  });

  test("narrowing a rule to a prefix with the same limits is not a cut", () => {
    const narrowed = dataBucketLifecycle(365, { filter: [{ prefix: "datasets/" }] });
    expect(retentionCuts(TYPE, dataBucketLifecycle(365), narrowed)).toEqual([]);
  });

  test("renaming a rule, or writing its filter another way, is not a cut", () => {
    const renamed = dataBucketLifecycle(365, { id: "expire-noncurrent-versions", filter: { prefix: "" } });
    expect(retentionCuts(TYPE, dataBucketLifecycle(365), renamed)).toEqual([]);
    expect(
      retentionCuts(TYPE, dataBucketLifecycle(365), dataBucketLifecycle(365, { filter: undefined })),
    ).toEqual([]);
  });

  test("disabling a rule keeps more and is not a cut; enabling a shorter one is", () => {
    const disabled = dataBucketLifecycle(100, { status: "Disabled" });
    expect(retentionCuts(TYPE, dataBucketLifecycle(365), disabled)).toEqual([]);
    expect(retentionCuts(TYPE, disabled, dataBucketLifecycle(100))).toEqual([
      expect.stringMatching(/noncurrent_days set to 100 \(nothing expired before\)/),
    ]);
  });

  test("rules known only at apply are not compared", () => {
    expect(
      retentionCuts(TYPE, dataBucketLifecycle(365), { ...dataBucketLifecycle(100), rule: "${var.rules}" }),
    ).toEqual([]);
  });

  test("the shape of terraform show -json (AWS provider 5.100) is read too", () => {
    const planned = (noncurrentDays: number) => ({
      bucket: "b",
      expected_bucket_owner: "",
      rule: [
        {
          abort_incomplete_multipart_upload: [],
          expiration: [{ date: null, days: 0, expired_object_delete_marker: true }],
          filter: [
            { and: [], object_size_greater_than: null, object_size_less_than: null, prefix: "", tag: [] },
          ],
          id: "noncurrent-versions",
          noncurrent_version_expiration: [
            { newer_noncurrent_versions: null, noncurrent_days: noncurrentDays },
          ],
          noncurrent_version_transition: [],
          prefix: "",
          status: "Enabled",
          transition: [],
        },
      ],
    });
    expect(retentionCuts(TYPE, planned(365), planned(100))).toEqual([
      expect.stringMatching(
        /^lifecycle rule "noncurrent-versions": .*noncurrent_days lowered from 365 to 100/,
      ),
    ]);
    expect(retentionCuts(TYPE, planned(100), planned(365))).toEqual([]);
  });
});

describe("ECR lifecycle policies", () => {
  const TYPE = "aws_ecr_lifecycle_policy";
  // The registry's policy: untagged images expire 14 days after push, the last 50 v* images are kept.
  const policy = (untaggedDays: number, releases: number, description = "Keep the last release images") => ({
    repository: "${aws_ecr_repository.Registry_InferenceRepository.name}",
    policy: JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: `Expire untagged images after ${untaggedDays} days`,
          selection: {
            tagStatus: "untagged",
            countType: "sinceImagePushed",
            countUnit: "days",
            countNumber: untaggedDays,
          },
          action: { type: "expire" },
        },
        {
          rulePriority: 2,
          description,
          selection: {
            tagStatus: "tagged",
            tagPrefixList: ["v"],
            countType: "imageCountMoreThan",
            countNumber: releases,
          },
          action: { type: "expire" },
        },
      ],
    }),
  });

  test("expiring untagged images sooner is a cut", () => {
    expect(retentionCuts(TYPE, policy(14, 50), policy(7, 50))).toEqual([
      "lifecycle policy (untagged images, sinceImagePushed) lowered from 14 to 7: keeps images for fewer days, " +
        "older images are deleted for good",
    ]);
  });

  test("keeping fewer release images is a cut", () => {
    expect(retentionCuts(TYPE, policy(14, 50), policy(14, 10))).toEqual([
      "lifecycle policy (tagged v* images, imageCountMoreThan) lowered from 50 to 10: keeps fewer images, older " +
        "images are deleted for good",
    ]);
  });

  test("keeping more, or only rewording a rule, is not a cut", () => {
    expect(retentionCuts(TYPE, policy(7, 10), policy(14, 50))).toEqual([]);
    expect(retentionCuts(TYPE, policy(14, 50), policy(14, 50, "Keep 50 releases"))).toEqual([]);
  });

  test("a new rule that expires images no rule expired before is a cut", () => {
    const withAny = JSON.parse(policy(14, 50).policy) as { rules: object[] };
    withAny.rules.push({
      rulePriority: 3,
      selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 500 },
      action: { type: "expire" },
    });
    expect(
      retentionCuts(TYPE, policy(14, 50), { ...policy(14, 50), policy: JSON.stringify(withAny) }),
    ).toEqual([
      "lifecycle policy (all images, imageCountMoreThan) set to 500 (nothing expired before): keeps fewer " +
        "images, older images are deleted for good",
    ]);
  });

  test("a policy known only at apply is not compared", () => {
    expect(retentionCuts(TYPE, policy(14, 50), { ...policy(14, 50), policy: "${local.policy}" })).toEqual([]);
  });
});

describe("database backups", () => {
  test("fewer days of automated backups is a cut", () => {
    expect(
      retentionCuts("aws_db_instance", { backup_retention_period: 7 }, { backup_retention_period: 1 }),
    ).toEqual([
      "backup_retention_period lowered from 7 to 1: keeps automated backups for fewer days, older backups are " +
        "deleted for good",
    ]);
  });

  test("backups turned off are reported once, by weakenedProtection", () => {
    expect(
      weakenedProtection("aws_db_instance", { backup_retention_period: 7 }, { backup_retention_period: 0 }),
    ).toEqual(["automated backups turned off"]);
  });

  test("an unset period, whose default AWS picks, is not compared", () => {
    expect(retentionCuts("aws_rds_cluster", {}, { backup_retention_period: 1 })).toEqual([]);
    expect(retentionCuts("aws_rds_cluster", { backup_retention_period: 7 }, {})).toEqual([]);
  });
});
