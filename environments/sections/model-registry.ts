/**
 * `modelRegistry:` in an environment file: which MLflow backend the environment runs and how big and how
 * protected it is. dev is a single small database that can be thrown away; test keeps backups and final
 * snapshots; prod runs SageMaker's managed MLflow unless its file asks for self-hosted, and a self-hosted
 * prod registry gets Multi-AZ, two server pods and two weeks of backups.
 */
import { z } from "zod";
import { checkRequestWithinLimit, cidrBlock } from "../schema";
import { byTier, type Tier } from "../tier";
import { engineVersionProblem } from "../../constructs/model-registry/engine-version";

const HTTPS_URL = /^https:\/\/[^\s]+$/;
const ACM_CERTIFICATE = /^arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const KUBERNETES_QUANTITY = /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** The image tag the environment runs when its file names none (built from images/mlflow). */
export const DEFAULT_MLFLOW_IMAGE_TAG = "3.1.1-2";

const quantity = z
  .string()
  .regex(KUBERNETES_QUANTITY, "must be a Kubernetes quantity such as 500m, 2 or 1Gi");

/** The schema of `modelRegistry:` with the defaults of `tier`. */
export function modelRegistrySection(tier: Tier) {
  const t = byTier(tier);
  return z
    .strictObject({
      /** `self-hosted` (MLflow on EKS, RDS PostgreSQL) or `sagemaker-managed` (SageMaker MLflow). */
      backend: z
        .enum(["self-hosted", "sagemaker-managed"])
        .default(t({ dev: "self-hosted", test: "self-hosted", prod: "sagemaker-managed" })),
      /** Key prefix of MLflow's artifacts in the model-artifacts bucket. */
      artifactPrefix: z
        .string()
        .regex(
          /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
          "must be an S3 key prefix without leading or trailing slash",
        )
        .default("mlflow"),
      /** The self-hosted backend store (RDS PostgreSQL). */
      database: z
        .strictObject({
          instanceClass: z
            .string()
            .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class such as db.t4g.micro")
            .default(t({ dev: "db.t4g.micro", test: "db.t4g.small", prod: "db.m7g.large" })),
          /**
           * PostgreSQL major version. RDS applies minor versions automatically, so a minor version is refused:
           * once RDS had moved on from it, every plan would try to downgrade, which RDS refuses.
           */
          engineVersion: z
            .string()
            .regex(/^\d+$/, { error: (issue) => engineVersionProblem(String(issue.input)) })
            .default("16"),
          /**
           * Let a change of engineVersion upgrade the database to the new major version, applied during the
           * deploy (with downtime) together with every other change to the instance; turn it off afterwards.
           */
          allowMajorVersionUpgrade: z.boolean().default(false),
          allocatedStorageGiB: z.number().int().min(20).max(65536).default(20),
          maxAllocatedStorageGiB: z
            .number()
            .int()
            .min(20)
            .max(65536)
            .default(t({ dev: 50, test: 100, prod: 500 })),
          multiAz: z.boolean().default(t({ dev: false, test: false, prod: true })),
          backupRetentionDays: z
            .number()
            .int()
            .min(1)
            .max(35)
            .default(t({ dev: 1, test: 7, prod: 14 })),
          deletionProtection: z.boolean().default(t({ dev: false, test: true, prod: true })),
          /** Delete without a final snapshot; dev only. */
          skipFinalSnapshot: z.boolean().default(t({ dev: true, test: false, prod: false })),
        })
        .prefault({}),
      /** The self-hosted MLflow server in the cluster. */
      server: z
        .strictObject({
          /** The image in the environment's `mlflow` ECR repository: a release tag or a digest, never latest. */
          image: z
            .strictObject({
              tag: z
                .string()
                .regex(IMAGE_TAG, "must be an image tag such as 3.1.1-2")
                .refine(
                  (tag) => tag.toLowerCase() !== "latest",
                  "must not be latest; give a release tag or a digest",
                )
                .optional(),
              digest: z
                .string()
                .regex(DIGEST, "must be sha256: followed by 64 lowercase hex digits")
                .optional(),
            })
            .default({ tag: DEFAULT_MLFLOW_IMAGE_TAG }),
          replicas: z
            .number()
            .int()
            .min(1)
            .max(10)
            .default(t({ dev: 1, test: 2, prod: 2 })),
          workers: z.number().int().min(1).max(16).default(2),
          cpuRequest: quantity.default("500m"),
          memoryRequest: quantity.default("1Gi"),
          cpuLimit: quantity.default("2"),
          memoryLimit: quantity.default("2Gi"),
        })
        .prefault({}),
      /** The internal load balancer in front of the self-hosted server. */
      loadBalancer: z
        .strictObject({
          /** ACM certificate for HTTPS; required with an identity provider. */
          certificateArn: z.string().regex(ACM_CERTIFICATE, "must be an ACM certificate ARN").optional(),
          /** Client ranges allowed to reach the load balancer (default: whatever routes to the VPC). */
          sourceCidrs: z.array(cidrBlock).min(1).optional(),
          /** OIDC at the load balancer (an internal ALB) for browser users. */
          identityProvider: z
            .strictObject({
              issuer: z.string().regex(HTTPS_URL, "must be an https:// URL"),
              authorizationEndpoint: z.string().regex(HTTPS_URL, "must be an https:// URL"),
              tokenEndpoint: z.string().regex(HTTPS_URL, "must be an https:// URL"),
              userInfoEndpoint: z.string().regex(HTTPS_URL, "must be an https:// URL"),
              /** Kubernetes secret in the mlflow namespace with `clientID` and `clientSecret`. */
              clientSecretName: z
                .string()
                .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "must be a Kubernetes secret name"),
              scope: z.string().min(1).default("openid email"),
            })
            .optional(),
        })
        .prefault({}),
      /** The SageMaker managed tracking server. */
      managed: z
        .strictObject({
          size: z
            .enum(["Small", "Medium", "Large"])
            .default(t({ dev: "Small", test: "Small", prod: "Medium" })),
          /** A version SageMaker offers (default: SageMaker's current default). */
          mlflowVersion: z
            .string()
            .regex(/^\d+\.\d+(\.\d+)?$/, "must be an MLflow version such as 2.16")
            .optional(),
          /** UTC, `DDD:HH:MM`. */
          weeklyMaintenanceWindowStart: z
            .string()
            .regex(
              /^(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):[0-5]\d$/,
              "must be DDD:HH:MM in UTC, such as SUN:03:00",
            )
            .default("SUN:03:00"),
        })
        .prefault({}),
    })
    .superRefine((registry, ctx) => {
      const { server } = registry;
      checkRequestWithinLimit(
        server.cpuRequest,
        server.cpuLimit,
        ["server", "cpuRequest"],
        "server.cpuLimit",
        ctx,
      );
      checkRequestWithinLimit(
        server.memoryRequest,
        server.memoryLimit,
        ["server", "memoryRequest"],
        "server.memoryLimit",
        ctx,
      );
      const image = registry.server.image;
      if ((image.tag === undefined) === (image.digest === undefined)) {
        ctx.addIssue({
          code: "custom",
          path: ["server", "image"],
          message: "must give exactly one of tag and digest",
        });
      }
      if (registry.database.maxAllocatedStorageGiB < registry.database.allocatedStorageGiB) {
        ctx.addIssue({
          code: "custom",
          path: ["database", "maxAllocatedStorageGiB"],
          message: `must be at least database.allocatedStorageGiB (${registry.database.allocatedStorageGiB})`,
        });
      }
      if (registry.loadBalancer.identityProvider && !registry.loadBalancer.certificateArn) {
        ctx.addIssue({
          code: "custom",
          path: ["loadBalancer", "certificateArn"],
          message:
            "is required with loadBalancer.identityProvider (the load balancer authenticates on HTTPS only)",
        });
      }
      if (tier !== "dev" && registry.database.skipFinalSnapshot) {
        ctx.addIssue({
          code: "custom",
          path: ["database", "skipFinalSnapshot"],
          message: `is allowed in dev only; a ${tier} database keeps a final snapshot`,
        });
      }
      if (tier === "prod") {
        if (registry.server.replicas < 2) {
          ctx.addIssue({
            code: "custom",
            path: ["server", "replicas"],
            message: "must be at least 2 in prod",
          });
        }
        if (registry.database.backupRetentionDays < 14) {
          ctx.addIssue({
            code: "custom",
            path: ["database", "backupRetentionDays"],
            message: "must be at least 14 in prod",
          });
        }
        if (!registry.database.multiAz) {
          ctx.addIssue({ code: "custom", path: ["database", "multiAz"], message: "must be true in prod" });
        }
        if (!registry.database.deletionProtection) {
          ctx.addIssue({
            code: "custom",
            path: ["database", "deletionProtection"],
            message: "must be true in prod",
          });
        }
      }
    })
    .prefault({});
}

/** What {@link checkModelRegistryAgainstEnvironment} reads from the other sections. */
interface RegistryDependencies {
  readonly aws: { readonly availabilityZones: readonly string[] };
  readonly modelRegistry: { readonly backend: "self-hosted" | "sagemaker-managed" };
  readonly data?: { readonly buckets: Readonly<Record<string, unknown>> };
  readonly registry?: { readonly repositories: Readonly<Record<string, unknown>> };
}

/**
 * Checks the registry against the rest of the environment: its artifact store is the `model-artifacts`
 * data bucket; a self-hosted registry runs the image of the `mlflow` repository and its database needs two
 * availability zones.
 */
export function checkModelRegistryAgainstEnvironment(env: RegistryDependencies, ctx: z.RefinementCtx): void {
  // A section with problems of its own may not have its defaults merged yet: judge only clean sections.
  const clean = (section: string) => !ctx.issues.some((issue) => issue.path?.[0] === section);
  // Reported once the file is otherwise valid, so a file with a typo is not also told about its zones.
  const otherwiseValid = ctx.issues.length === 0;
  if (env.modelRegistry.backend === "self-hosted" && otherwiseValid && env.aws.availabilityZones.length < 2) {
    ctx.addIssue({
      code: "custom",
      path: ["modelRegistry", "backend"],
      message:
        "self-hosted needs at least 2 availability zones (an RDS subnet group spans two): add a zone to aws.availabilityZones or use sagemaker-managed",
    });
  }
  if (env.data && clean("data") && !("model-artifacts" in env.data.buckets)) {
    ctx.addIssue({
      code: "custom",
      path: ["data", "buckets"],
      message: "must keep the model-artifacts bucket: it is the model registry's artifact store",
    });
  }
  if (
    env.modelRegistry.backend === "self-hosted" &&
    env.registry &&
    clean("registry") &&
    !("mlflow" in env.registry.repositories)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["registry", "repositories"],
      message:
        "must keep the mlflow repository while modelRegistry.backend is self-hosted (it holds the server's image)",
    });
  }
}
