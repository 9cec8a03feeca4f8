/**
 * The one schema every environment file is validated against.
 *
 * Defaults depend on the tier: `dev` is cheap and disposable, `test` is like prod but small, `prod` is
 * redundant and protected. `environmentSchema(tier)` builds the schema with that tier's defaults baked in,
 * so an environment file only holds what differs from its tier.
 *
 * Each domain keeps its part of the schema in `environments/sections/<domain>.ts` (a function of the tier,
 * like `environmentSchema`); this file composes them.
 */
import { z } from "zod";
import { checkClusterAgainstEnvironment, clusterSection } from "./sections/cluster";
import { networkSection } from "./sections/network";
import { ciSection } from "./sections/ci";
import { checkDataAgainstEnvironment, dataSection } from "./sections/data";
import { policySection } from "./sections/policy";
import { checkRegistryAgainstEnvironment, registrySection, ROLE_ARN_PATTERN } from "./sections/registry";
import { checkModelRegistryAgainstEnvironment, modelRegistrySection } from "./sections/model-registry";
import { checkServingAgainstEnvironment, servingSection } from "./sections/serving";
import { monitoringSection } from "./sections/monitoring";
import { TIERS, type Tier, byTier } from "./tier";

export { TIERS, type Tier } from "./tier";

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const ENVIRONMENT_NAME = /^[a-z][a-z0-9]{1,9}$/;
const PROJECT_NAME = /^[a-z][a-z0-9-]{1,14}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const POLICY_ARN = /^arn:aws(-cn|-us-gov)?:iam::(\d{12}):policy\/[\w+=,.@/-]{1,512}$/;
const BUCKET_ARN_NAME = /^arn:aws[a-z-]*:s3:::(.+)$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** An IPv4 CIDR block such as `10.20.0.0/16`, with octets and prefix length in range. */
export const cidrBlock = z
  .string()
  .regex(CIDR, "must be an IPv4 CIDR block such as 10.0.0.0/16")
  .refine((value) => {
    // zod runs this check after a failed pattern too: that one's message is enough.
    const match = CIDR.exec(value);
    if (!match) return true;
    const [, a, b, c, d, prefix] = match;
    return [a, b, c, d].every((octet) => Number(octet) <= 255) && Number(prefix) <= 32;
  }, "must be an IPv4 CIDR block with octets 0-255 and a prefix length 0-32");

const QUANTITY_PARTS = /^(\d+(?:\.\d+)?)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;
const DECIMAL_EXPONENT: Readonly<Record<string, number>> = { m: -3, k: 3, M: 6, G: 9, T: 12 };
const BINARY_EXPONENT: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40 };

/**
 * The value of a Kubernetes quantity (`500m` → 0.5, `2` → 2, `1.5Gi` → 1610612736), for comparing two of
 * them; `undefined` when `quantity` is not one (plain or decimal number, optionally with m, k, M, G, T, Ki,
 * Mi, Gi or Ti).
 */
export function quantityValue(quantity: string): number | undefined {
  const match = QUANTITY_PARTS.exec(quantity);
  if (!match) return undefined;
  const [, number, suffix = ""] = match;
  // Decimal suffixes shift the exponent, so that the string is parsed (and rounded) once: 1.1k is 1100 exactly.
  return Number(`${number}e${DECIMAL_EXPONENT[suffix] ?? 0}`) * 2 ** (BINARY_EXPONENT[suffix] ?? 0);
}

/**
 * Reports `request` (at `path`) when it is larger than `limit` (named `limitName` in the message): Kubernetes
 * refuses a container, or a LimitRange default, that requests more than its limit.
 */
export function checkRequestWithinLimit(
  request: string,
  limit: string,
  path: PropertyKey[],
  limitName: string,
  ctx: z.RefinementCtx,
): void {
  const requested = quantityValue(request);
  const limited = quantityValue(limit);
  if (requested !== undefined && limited !== undefined && requested > limited) {
    ctx.addIssue({
      code: "custom",
      path,
      message: `exceeds ${limitName} (${limit}), and Kubernetes refuses a request above its limit; lower this or raise ${limitName}`,
    });
  }
}

const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Name prefixes and suffixes S3 reserves (for punycode, its own tooling, access points and directory buckets). */
const S3_RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"] as const;
const S3_RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] as const;

/**
 * Why S3 would refuse `name` as a general purpose bucket name, or `undefined` when it accepts it: 3-63
 * lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, no two adjacent
 * dots, not formatted as an IP address, and none of S3's reserved prefixes and suffixes.
 */
export function s3BucketNameProblem(name: string): string | undefined {
  if (!S3_BUCKET_NAME.test(name)) {
    return "must be 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit";
  }
  if (name.includes("..")) return "must not contain two adjacent dots (S3 refuses them)";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    return "must not be formatted as an IP address (S3 refuses it); choose a name with letters";
  }
  const prefix = S3_RESERVED_PREFIXES.find((reserved) => name.startsWith(reserved));
  if (prefix) return `must not start with ${prefix}, a prefix S3 reserves; choose another name`;
  const suffix = S3_RESERVED_SUFFIXES.find((reserved) => name.endsWith(reserved));
  if (suffix) return `must not end with ${suffix}, a suffix S3 reserves; choose another name`;
  return undefined;
}

/** A CloudWatch Logs retention period. */
export const logRetentionDays = z
  .number()
  .int()
  .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
    message: `must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
  });

/** The schema of one environment file, with the defaults of `tier`. */
export function environmentSchema(tier: Tier) {
  const t = byTier(tier);
  return z
    .strictObject({
      /** Short environment name; must equal the file name (`staging.yaml` → `staging`). */
      name: z
        .string()
        .regex(ENVIRONMENT_NAME, "must be 2-10 lowercase letters or digits, starting with a letter"),
      /**
       * Which defaults apply: dev is cheap and disposable, test is like prod but small, prod is protected. An
       * environment named dev, test or prod has that tier; any other name may pick any tier.
       */
      tier: z.enum(TIERS),
      /** Prefix of every resource name. */
      project: z
        .string()
        .regex(PROJECT_NAME, "must be 3-16 lowercase letters, digits or hyphens, starting with a letter")
        .refine((project) => !S3_RESERVED_PREFIXES.some((prefix) => `${project}-`.startsWith(prefix)), {
          message: `must not make bucket names (<project>-<name>-...) start with a prefix S3 reserves (${S3_RESERVED_PREFIXES.join(", ")}); choose another project name`,
        })
        .default("mlops"),
      aws: z.strictObject({
        /** The only account this environment may touch (the provider's allowed_account_ids). */
        accountId: z
          .string({ error: 'must be a 12-digit AWS account id in quotes, such as "123456789012"' })
          .regex(/^\d{12}$/, 'must be a 12-digit AWS account id in quotes, such as "123456789012"'),
        region: z.string().regex(REGION, "must be an AWS region such as eu-west-1"),
        /** Explicit, so that no data source has to ask AWS at plan time. */
        availabilityZones: z
          .array(
            z
              .string()
              .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, "must be an availability zone such as eu-west-1a"),
          )
          .min(1)
          .max(6),
        /** Role the provider assumes (for example a deploy role in the target account). */
        assumeRoleArn: z.string().regex(ROLE_ARN, "must be an IAM role ARN").optional(),
        /**
         * An existing managed policy of this account that every IAM role of the environment carries as its
         * permissions boundary, in place of `<project>-<name>-permissions-boundary`, which the bootstrap stack
         * creates when this is unset.
         */
        permissionsBoundaryArn: z
          .string()
          .regex(POLICY_ARN, "must be the ARN of a managed IAM policy (arn:aws:iam::<account>:policy/<name>)")
          .optional(),
      }),
      /** Tags every resource carries through the provider's default_tags. */
      tags: z.strictObject({
        owner: z.string().min(1),
        costCenter: z.string().min(1),
        /** Where the infrastructure code lives, so a resource can be traced to its source. */
        repository: z.string().min(1).default("mlops-platform"),
      }),
      /** Remote state: an S3 bucket per environment (created by the bootstrap stack). */
      state: z
        .strictObject({
          /** @default `<project>-<name>-tfstate-<accountId>` */
          bucket: z
            .string()
            .regex(S3_BUCKET_NAME, "must be a valid S3 bucket name")
            .superRefine((name, ctx) => {
              // A name the pattern refuses is reported by it alone.
              const problem = S3_BUCKET_NAME.test(name) ? s3BucketNameProblem(name) : undefined;
              if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .optional(),
          /** @default the environment's region */
          region: z.string().regex(REGION, "must be an AWS region such as eu-west-1").optional(),
        })
        .prefault({}),
      /** Safety rails against losing data. */
      protection: z
        .strictObject({
          /** Terraform `lifecycle.prevent_destroy` on every stateful resource. May be false in dev only. */
          preventDestroy: z.boolean().default(t({ dev: false, test: true, prod: true })),
          /** Let `cdktf destroy` empty buckets and registries. Allowed in dev only. */
          forceDestroy: z.boolean().default(false),
          /** Days a scheduled KMS key deletion waits, during which it can be cancelled. Below 30 in dev only. */
          keyDeletionWindowDays: z
            .number()
            .int()
            .min(7)
            .max(30)
            .default(t({ dev: 7, test: 30, prod: 30 })),
        })
        .prefault({}),
      network: networkSection(tier),
      cluster: clusterSection(tier),
      ci: ciSection(tier),
      logs: z
        .strictObject({
          /** Retention of every CloudWatch log group. */
          retentionDays: logRetentionDays.default(t({ dev: 30, test: 90, prod: 365 })),
        })
        .prefault({}),
      data: dataSection(tier),
      registry: registrySection(tier),
      policy: policySection(tier),
      modelRegistry: modelRegistrySection(tier),
      serving: servingSection(tier),
      monitoring: monitoringSection(tier),
    })
    .superRefine((env, ctx) => {
      // Every bucket name starts with `<project>-<name>-`: together they may form a prefix S3 reserves
      // (`amzn-s3` and `demo` make `amzn-s3-demo-`) that neither forms alone.
      const bucketPrefix = `${env.project}-${env.name}-`;
      const reserved = S3_RESERVED_PREFIXES.find(
        (prefix) => bucketPrefix.startsWith(prefix) && !`${env.project}-`.startsWith(prefix),
      );
      if (reserved) {
        ctx.addIssue({
          code: "custom",
          path: ["name"],
          message: `makes bucket names start with ${bucketPrefix}, and S3 reserves the prefix ${reserved}; choose another name or project`,
        });
      }
      // A file named like a tier with another tier would be deployed under that tier's name with the other
      // tier's defaults: prod.yaml with `tier: dev` would get no prevent_destroy and spot GPUs.
      const namedTier = TIERS.find((tier) => tier === env.name);
      if (namedTier && namedTier !== env.tier) {
        ctx.addIssue({
          code: "custom",
          path: ["tier"],
          message: `must be ${namedTier} in the environment named ${namedTier}, or it would run under that name with ${env.tier}'s defaults and protections; to give an environment another tier, name it otherwise (such as staging)`,
        });
      }
      checkClusterAgainstEnvironment(env, ctx);
      checkDataAgainstEnvironment(env, ctx);
      checkModelRegistryAgainstEnvironment(env, ctx);
      checkServingAgainstEnvironment(env, ctx);
      checkRegistryAgainstEnvironment(env, ctx);
      for (const [purpose, bucket] of Object.entries(env.data?.buckets ?? {})) {
        // Before the data section's own merge (when it has problems of its own), a removed bucket is null.
        const destination = BUCKET_ARN_NAME.exec(bucket?.replication?.destinationBucketArn ?? "")?.[1];
        // A name outside the pattern is reported by the data section itself.
        const problem =
          destination && S3_BUCKET_NAME.test(destination) ? s3BucketNameProblem(destination) : undefined;
        if (problem) {
          ctx.addIssue({
            code: "custom",
            path: ["data", "buckets", purpose, "replication", "destinationBucketArn"],
            message: `names bucket ${destination}, which ${problem}`,
          });
        }
      }
      if (env.tier === "prod" && env.aws.availabilityZones.length < 2) {
        ctx.addIssue({
          code: "custom",
          path: ["aws", "availabilityZones"],
          message: "prod needs at least 2 availability zones",
        });
      }
      env.aws.availabilityZones.forEach((zone, index) => {
        if (!zone.startsWith(env.aws.region)) {
          ctx.addIssue({
            code: "custom",
            path: ["aws", "availabilityZones", index],
            message: `must be in the environment's region ${env.aws.region}`,
          });
        }
      });
      if (new Set(env.aws.availabilityZones).size !== env.aws.availabilityZones.length) {
        ctx.addIssue({
          code: "custom",
          path: ["aws", "availabilityZones"],
          message: "must not list a zone twice",
        });
      }
      // Roles named <project>-<env>-* are the platform's: the CI deploy role may change their trust and pass
      // them to services, so a role made elsewhere under that name could be taken over from CI.
      const platformPrefix = `role/${env.project}-${env.name}-`;
      const ciRoles = ["github-plan", "github-pr-plan", "github-deploy"].map((role) => platformPrefix + role);
      const takenOver = (roleArn: string) =>
        roleArn.split(":")[4] === env.aws.accountId &&
        roleArn.includes(`:${platformPrefix}`) &&
        !ciRoles.some((ci) => roleArn.endsWith(`:${ci}`));
      const platformNameMessage = `names a role under ${env.project}-${env.name}-, the names of the platform's own roles, which its CI deploy role may take over; name it otherwise`;
      if (env.aws.assumeRoleArn && takenOver(env.aws.assumeRoleArn)) {
        ctx.addIssue({ code: "custom", path: ["aws", "assumeRoleArn"], message: platformNameMessage });
      }
      env.cluster.adminRoleArns.forEach((roleArn, index) => {
        if (takenOver(roleArn)) {
          ctx.addIssue({
            code: "custom",
            path: ["cluster", "adminRoleArns", index],
            message: platformNameMessage,
          });
        }
      });
      const boundaryAccount = POLICY_ARN.exec(env.aws.permissionsBoundaryArn ?? "")?.[2];
      if (boundaryAccount !== undefined && boundaryAccount !== env.aws.accountId) {
        ctx.addIssue({
          code: "custom",
          path: ["aws", "permissionsBoundaryArn"],
          message: `names account ${boundaryAccount}; a role's boundary must be a policy of its own account ${env.aws.accountId}`,
        });
      }
      for (const key of ["pushRoles", "pullRoles"] as const) {
        env.registry[key].forEach((pattern, index) => {
          const account = ROLE_ARN_PATTERN.exec(pattern)?.[2];
          if (account !== undefined && account !== env.aws.accountId) {
            ctx.addIssue({
              code: "custom",
              path: ["registry", key, index],
              message: `names account ${account}; the repositories deny every other account than ${env.aws.accountId}`,
            });
          }
        });
      }
      if (env.protection.forceDestroy && env.tier !== "dev") {
        ctx.addIssue({
          code: "custom",
          path: ["protection", "forceDestroy"],
          message: `is allowed in dev only; a ${env.tier} environment must never force-destroy data`,
        });
      }
      if (env.protection.preventDestroy === false && env.tier !== "dev") {
        ctx.addIssue({
          code: "custom",
          path: ["protection", "preventDestroy"],
          message: `may be false in dev only; a ${env.tier} environment keeps prevent_destroy on every stateful resource`,
        });
      }
      // A window KMS refuses (below 7) is reported by the range alone. The rule behind this check is not
      // critical: a file that sets it to warn or off in `policy.rules` has decided, and is let through.
      const windowDays = env.protection.keyDeletionWindowDays;
      const windowRule = env.policy?.rules?.["MLOPS-KMS-002"];
      if (
        env.tier !== "dev" &&
        windowRule !== "warn" &&
        windowRule !== "off" &&
        Number.isInteger(windowDays) &&
        windowDays >= 7 &&
        windowDays < 30
      ) {
        ctx.addIssue({
          code: "custom",
          path: ["protection", "keyDeletionWindowDays"],
          message: `must be 30 in ${env.tier}, so that a key scheduled for deletion by mistake can be recovered for 30 days; a shorter window is for dev, or set policy.rules.MLOPS-KMS-002 to warn or off in this file to accept it`,
        });
      }
      if (env.protection.forceDestroy && env.protection.preventDestroy) {
        ctx.addIssue({
          code: "custom",
          path: ["protection", "forceDestroy"],
          message: "contradicts protection.preventDestroy (true); turn one of them off",
        });
      }
    })
    .transform((env) => ({
      ...env,
      state: {
        bucket: env.state.bucket ?? `${env.project}-${env.name}-tfstate-${env.aws.accountId}`,
        region: env.state.region ?? env.aws.region,
      },
    }));
}

/** An environment file as written (before defaults). */
export type EnvironmentInput = z.input<ReturnType<typeof environmentSchema>>;

/** A validated environment with every default filled in. */
export type EnvironmentConfig = z.output<ReturnType<typeof environmentSchema>>;
