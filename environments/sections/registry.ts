/**
 * The `registry` section of an environment file: the ECR repositories (keyed by name) and registry-wide
 * options (enhanced scanning, pull-through cache, replication), and who may push and pull.
 */
import { z } from "zod";
import { byTier, type Tier } from "../tier";
import { refuseConstructIdCollisions, removesNothing } from "./record-keys";

/** The repositories every environment has unless its file removes one (`mlflow: null`). */
export const DEFAULT_REPOSITORIES = ["training", "inference", "mlflow"] as const;

const REPOSITORY = /^[a-z][a-z0-9-]{0,40}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ROLE_NAME_PATTERN = /^[\w+=,.@*-]{1,64}$/;
/** A role ARN pattern (path included), for roles outside the platform's naming such as an SSO admin role. */
export const ROLE_ARN_PATTERN = /^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role\/[\w+=,.@*/-]{1,512}$/;

function repositorySchema(tier: Tier) {
  const t = byTier(tier);
  return z.strictObject({
    /** Days an untagged image is kept. */
    untaggedImageExpiryDays: z
      .number()
      .int()
      .min(1)
      .default(t({ dev: 3, test: 7, prod: 14 })),
    /** How many release images (tags starting with a release prefix) are kept, per prefix. */
    keepReleaseImages: z
      .number()
      .int()
      .min(1)
      .default(t({ dev: 10, test: 20, prod: 50 })),
    /** Tag prefixes that mark a release image. */
    releaseTagPrefixes: z
      .array(z.string().regex(/^[A-Za-z0-9._-]+$/, "must be a tag prefix of letters, digits, . _ or -"))
      .min(1)
      .default(["v"]),
  });
}

/** The settings of one repository, with defaults filled in. */
export type RepositoryConfig = z.output<ReturnType<typeof repositorySchema>>;

/** The `registry` section with the defaults of `tier`. */
export function registrySection(tier: Tier) {
  const t = byTier(tier);
  const repository = repositorySchema(tier);
  const rolePatterns = z
    .array(
      z
        .string()
        .regex(
          new RegExp(`${ROLE_NAME_PATTERN.source}|${ROLE_ARN_PATTERN.source}`),
          "must be an IAM role name pattern such as ci-* (letters, digits, +=,.@-_ and *), or a role ARN " +
            "pattern such as arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*",
        ),
    )
    .min(1);
  return z
    .strictObject({
      /**
       * Repositories keyed by name (`training`, `inference`, `mlflow` by default), named
       * `<project>-<env>-<name>`. `{}` adds one with defaults; `null` removes a default one.
       */
      repositories: z
        .record(
          z
            .string()
            .regex(REPOSITORY, "must be 2-42 lowercase letters, digits or hyphens, starting with a letter"),
          repository.nullable(),
          {
            error: (issue) =>
              issue.code === "invalid_key"
                ? "is not a valid repository name: use 2-42 lowercase letters, digits or hyphens, starting with a letter"
                : undefined,
          },
        )
        .default({})
        .superRefine((declared, ctx) => removesNothing(declared, DEFAULT_REPOSITORIES, "repository", ctx))
        .transform((declared) => {
          const merged: Record<string, RepositoryConfig> = {};
          for (const name of DEFAULT_REPOSITORIES) merged[name] = repository.parse({});
          for (const [name, settings] of Object.entries(declared)) {
            if (settings === null) delete merged[name];
            else merged[name] = settings;
          }
          return merged;
        })
        // The data stack names each entry's constructs after it, in PascalCase.
        .superRefine((merged, ctx) => refuseConstructIdCollisions(Object.keys(merged), "repositories", ctx)),
      /** Registry-wide enhanced scanning with Amazon Inspector (continuous; costs per image). */
      enhancedScanning: z.boolean().default(t({ dev: false, test: false, prod: true })),
      /**
       * Public registries ECR caches, for images pulled by their cache address
       * (`<account>.dkr.ecr.<region>.amazonaws.com/k8s/...`). The platform's own Helm releases still pull from
       * the public registries, through the NAT gateway.
       */
      pullThroughCache: z.array(z.enum(["ecr-public", "k8s", "quay"])).default(["ecr-public", "k8s", "quay"]),
      /** Other regions (same account) the repositories are replicated to. */
      replicationRegions: z
        .array(z.string().regex(REGION, "must be an AWS region such as eu-central-1"))
        .default([]),
      /**
       * Roles that may push images; everyone else is denied pushes. A name pattern is taken after the
       * `<project>-<env>-` prefix (`ci-*`); a role ARN pattern (`arn:aws:iam::<this account>:role/...`) names a
       * role outside the platform's naming, such as the SSO role of the people who push by hand. The GitHub
       * deploy role (`ci.github`) may push as well.
       */
      pushRoles: rolePatterns.default(["ci-*"]),
      /** Roles that may pull images: name patterns after the `<project>-<env>-` prefix, or role ARN patterns. */
      pullRoles: rolePatterns.default(["*"]),
    })
    .prefault({});
}

/**
 * Checks of the registry section against the rest of the environment: repositories replicate to other
 * regions than the environment's own. Called from the environment schema's own `superRefine`.
 */
export function checkRegistryAgainstEnvironment(
  env: { aws: { region: string }; registry: { replicationRegions: readonly string[] } },
  ctx: z.RefinementCtx,
): void {
  env.registry.replicationRegions.forEach((region, index) => {
    if (region === env.aws.region) {
      ctx.addIssue({
        code: "custom",
        path: ["registry", "replicationRegions", index],
        message:
          "is the environment's own region (aws.region); the repositories are already there, so list other regions only",
      });
    }
  });
}
