/**
 * The `data` section of an environment file: the versioned data buckets (keyed by purpose) and the
 * access-log bucket they log to.
 */
import { z } from "zod";
import { byTier, type Tier } from "../tier";
import { refuseConstructIdCollisions, removesNothing } from "./record-keys";

/** The buckets every environment has unless its file removes one (`features: null`). */
export const DEFAULT_BUCKETS = ["raw", "curated", "features", "model-artifacts"] as const;

const PURPOSE = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/;
const BUCKET_ARN = /^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

function bucketSchema(tier: Tier) {
  const t = byTier(tier);
  return z
    .strictObject({
      /** Days a replaced or deleted object version is kept before it expires. */
      noncurrentVersionExpirationDays: z
        .number()
        .int()
        .min(2)
        .default(t({ dev: 120, test: 180, prod: 365 })),
      /** Days after which a noncurrent version moves to Standard-IA (S3 requires at least 30). */
      noncurrentVersionInfrequentAccessDays: z
        .number()
        .int()
        .min(30, "must be at least 30 (an S3 rule)")
        .default(30),
      /** Days after which a noncurrent version moves to Glacier Flexible Retrieval. */
      noncurrentVersionGlacierDays: z.number().int().min(31).default(90),
      /** Days after which an unfinished multipart upload is aborted. */
      abortIncompleteMultipartUploadDays: z.number().int().min(1).default(7),
      /** Move current objects to S3 Intelligent-Tiering as soon as they are written. */
      intelligentTiering: z.boolean().default(false),
      /**
       * Object Lock for audit-grade datasets: new object versions are locked for `days` in `mode`. Can be added
       * to an existing bucket (versions already written stay unlocked); S3 never turns it off, so removing it
       * later only drops the default retention.
       */
      objectLock: z
        .strictObject({
          /**
           * GOVERNANCE: privileged users can lift it; COMPLIANCE: no one can, not even the account root, so
           * it is refused with `protection.forceDestroy` (the bucket could not be deleted until it ends).
           */
          mode: z.enum(["GOVERNANCE", "COMPLIANCE"]),
          /** Default retention of every new object version. */
          days: z.number().int().min(1),
        })
        .optional(),
      /**
       * Cross-region replication of every object written from then on to a bucket (and key) in another region;
       * objects already in the bucket need one S3 Batch Replication job.
       */
      replication: z
        .strictObject({
          destinationBucketArn: z
            .string()
            .regex(BUCKET_ARN, "must be an S3 bucket ARN such as arn:aws:s3:::mlops-prod-raw-dr"),
          destinationKeyArn: z
            .string()
            .regex(
              KMS_KEY_ARN,
              "must be a KMS key ARN such as arn:aws:kms:eu-central-1:333333333333:key/<id>",
            ),
          storageClass: z
            .enum([
              "STANDARD",
              "STANDARD_IA",
              "ONEZONE_IA",
              "INTELLIGENT_TIERING",
              "GLACIER_IR",
              "GLACIER",
              "DEEP_ARCHIVE",
            ])
            .default("STANDARD"),
        })
        .optional(),
    })
    .superRefine((bucket, ctx) => {
      if (bucket.noncurrentVersionGlacierDays <= bucket.noncurrentVersionInfrequentAccessDays) {
        ctx.addIssue({
          code: "custom",
          path: ["noncurrentVersionGlacierDays"],
          message: `must be greater than noncurrentVersionInfrequentAccessDays (${bucket.noncurrentVersionInfrequentAccessDays})`,
        });
      }
      if (bucket.noncurrentVersionExpirationDays <= bucket.noncurrentVersionGlacierDays) {
        ctx.addIssue({
          code: "custom",
          path: ["noncurrentVersionExpirationDays"],
          message: `must be greater than noncurrentVersionGlacierDays (${bucket.noncurrentVersionGlacierDays})`,
        });
      }
    });
}

/** The settings of one data bucket, with defaults filled in. */
export type DataBucketConfig = z.output<ReturnType<typeof bucketSchema>>;

/** What {@link checkDataAgainstEnvironment} reads from the other sections. */
interface DataDependencies {
  readonly protection: { readonly forceDestroy: boolean };
  readonly data?: {
    // Before the section's own merge (when it has problems of its own), a removed bucket is null.
    readonly buckets: Readonly<Record<string, { readonly objectLock?: { readonly mode: string } } | null>>;
  };
}

/**
 * Checks the data buckets against the rest of the environment: a bucket `protection.forceDestroy` is to
 * delete must not lock its objects in COMPLIANCE mode, which no one can lift.
 */
export function checkDataAgainstEnvironment(env: DataDependencies, ctx: z.RefinementCtx): void {
  if (!env.protection.forceDestroy) return;
  for (const [purpose, bucket] of Object.entries(env.data?.buckets ?? {})) {
    if (bucket?.objectLock?.mode !== "COMPLIANCE") continue;
    ctx.addIssue({
      code: "custom",
      path: ["data", "buckets", purpose, "objectLock", "mode"],
      message:
        "must not be COMPLIANCE with protection.forceDestroy: no one can shorten or remove a COMPLIANCE " +
        "retention, not even the account root, so the bucket could not be deleted until the retention of " +
        "its last locked version ends; use GOVERNANCE in dev, or turn forceDestroy off",
    });
  }
}

/** The `data` section with the defaults of `tier`. */
export function dataSection(tier: Tier) {
  const t = byTier(tier);
  const bucket = bucketSchema(tier);
  return z
    .strictObject({
      /**
       * Data buckets keyed by purpose (`raw`, `curated`, `features`, `model-artifacts` by default). An
       * entry overrides that bucket's settings; `{}` adds a bucket with defaults; `null` removes a default one.
       */
      buckets: z
        .record(
          z
            .string()
            .regex(PURPOSE, "must be 2-20 lowercase letters, digits or hyphens, starting with a letter"),
          bucket.nullable(),
          {
            error: (issue) =>
              issue.code === "invalid_key"
                ? "is not a valid bucket purpose: use 2-20 lowercase letters, digits or hyphens, starting with a letter"
                : undefined,
          },
        )
        .default({})
        .superRefine((declared, ctx) => removesNothing(declared, DEFAULT_BUCKETS, "bucket", ctx))
        .transform((declared) => {
          const merged: Record<string, DataBucketConfig> = {};
          for (const purpose of DEFAULT_BUCKETS) merged[purpose] = bucket.parse({});
          for (const [purpose, settings] of Object.entries(declared)) {
            if (settings === null) delete merged[purpose];
            else merged[purpose] = settings;
          }
          return merged;
        })
        // The data stack names each entry's constructs after it, in PascalCase.
        .superRefine((merged, ctx) => refuseConstructIdCollisions(Object.keys(merged), "buckets", ctx)),
      /** The access-log bucket that receives every data bucket's server access logs. */
      accessLogs: z
        .strictObject({
          /** Days an access log is kept. */
          retentionDays: z
            .number()
            .int()
            .min(1)
            .default(t({ dev: 90, test: 365, prod: 730 })),
        })
        .prefault({}),
    })
    .prefault({});
}
