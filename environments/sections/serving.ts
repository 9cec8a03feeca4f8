/**
 * The `serving` section of an environment file: the models this environment serves, as SageMaker endpoints
 * (platform stack) and Kubernetes inference services (cluster stack), each keyed by name. Adding an
 * endpoint is adding a key; promoting a model version is changing its image tag and model prefix.
 */
import { z } from "zod";
import { byTier, type Tier } from "../tier";
import { gpusPerNodeOf } from "./cluster";
import { refuseConstructIdCollisions } from "./record-keys";

const NAME = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;
const NAME_MESSAGE =
  "is not a valid name: use 1-32 lowercase letters, digits or hyphens, starting with a letter";
const REPOSITORY = /^[a-z][a-z0-9-]{0,40}[a-z0-9]$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const PREFIX = /^[A-Za-z0-9!_.'()-]+(\/[A-Za-z0-9!_.'()-]+)*$/;
const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;
const PATH = /^\/[A-Za-z0-9._~/-]*$/;

/** An image of one of the environment's ECR repositories, pinned to a release tag or a digest. */
const imageSchema = z
  .strictObject({
    /** Repository name as declared under `registry.repositories` (`inference`). */
    repository: z
      .string()
      .regex(REPOSITORY, "must be a repository name of the registry section, such as inference"),
    /** Release tag; never `latest`. */
    tag: z
      .string()
      .regex(TAG, "must be an image tag such as v1.4.2")
      .refine(
        (tag) => tag.toLowerCase() !== "latest",
        "must not be latest (it moves); pin a release tag or a digest",
      )
      .optional(),
    /** Image digest, `sha256:<64 hex>`. */
    digest: z.string().regex(DIGEST, "must be sha256: followed by 64 lowercase hex characters").optional(),
  })
  .superRefine((image, ctx) => {
    if ((image.tag === undefined) === (image.digest === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["tag"],
        message: "give exactly one of tag and digest, so what runs is pinned",
      });
    }
  });

/** The model's folder in the model-artifacts bucket, such as `churn/v12`. */
const modelDataPrefix = z
  .string()
  .transform((prefix) => prefix.replace(/^\/+|\/+$/g, ""))
  .pipe(
    z
      .string()
      .regex(PREFIX, "must be a folder of the model-artifacts bucket such as churn/v12 (no wildcards)"),
  );

function sagemakerEndpointSchema(tier: Tier) {
  const t = byTier(tier);
  return z
    .strictObject({
      /** Serving image. */
      image: imageSchema,
      /** The model version's folder in the model-artifacts bucket; the endpoint can read nothing else. */
      modelDataPrefix,
      /** The archive under the prefix that SageMaker unpacks. */
      modelArtifact: z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/, "must be a file name such as model.tar.gz")
        .default("model.tar.gz"),
      /** Instance type of a real-time endpoint (`ml.m5.large`). Give this or `serverless`. */
      instanceType: z
        .string()
        .regex(/^ml\.[a-z0-9-]+\.[a-z0-9]+$/, "must be a SageMaker instance type such as ml.m5.large")
        .optional(),
      /** Serverless capacity (dev only: no VPC, no data capture). Give this or `instanceType`. */
      serverless: z
        .strictObject({
          memoryMb: z.number().int().min(1024).max(6144).multipleOf(1024),
          maxConcurrency: z.number().int().min(1).max(200),
        })
        .optional(),
      /** Instances the autoscaler keeps at least. */
      minInstances: z
        .number()
        .int()
        .min(1)
        .default(t({ dev: 1, test: 1, prod: 2 })),
      /** Instances the autoscaler may add up to (default: twice minInstances). */
      maxInstances: z.number().int().min(1).optional(),
      /** Instances a new endpoint configuration starts with (default: minInstances). */
      initialInstances: z.number().int().min(1).optional(),
      /** Invocations per instance per minute the autoscaler aims for. */
      targetInvocationsPerInstance: z.number().positive().default(100),
      /** Percentage of requests and responses captured to the data bucket. */
      dataCaptureSamplingPercentage: z
        .number()
        .int()
        .min(0)
        .max(100)
        .default(t({ dev: 100, test: 50, prod: 10 })),
      /** How an update replaces the running model (blue/green, rolled back on the endpoint's alarms). */
      deployment: z
        .strictObject({
          strategy: z
            .enum(["all-at-once", "canary", "linear"])
            .default(t({ dev: "all-at-once", test: "all-at-once", prod: "canary" })),
          /** Capacity percentage of the canary (1-50) or of each linear step (10-50). */
          stepPercent: z.number().int().min(1).max(99).optional(),
          /** Seconds between traffic steps. */
          waitIntervalSeconds: z
            .number()
            .int()
            .min(0)
            .max(3600)
            .default(t({ dev: 60, test: 300, prod: 300 })),
          /** Seconds the old fleet stays after all traffic moved (final baking period). */
          terminationWaitSeconds: z
            .number()
            .int()
            .min(0)
            .max(3600)
            .default(t({ dev: 60, test: 300, prod: 600 })),
        })
        .prefault({}),
      /** Alarm thresholds that roll a deployment back. */
      alarms: z
        .strictObject({
          max5xxErrorsPerMinute: z.number().int().min(1).default(5),
          maxModelLatencyMs: z.number().int().min(1).default(2000),
        })
        .prefault({}),
      /** No network access for the container (on unless the model must call something at run time). */
      networkIsolation: z.boolean().default(true),
      /** Why the model needs the network; required when networkIsolation is false. */
      networkAccessReason: z
        .string()
        .min(10, "must say in a sentence why the model needs the network")
        .optional(),
      /** Data-quality monitoring of the captured data. */
      monitoring: z
        .strictObject({
          enabled: z.boolean().default(t({ dev: false, test: false, prod: true })),
          scheduleExpression: z.string().min(1).default("cron(0 * ? * * *)"),
          instanceType: z
            .string()
            .regex(/^ml\.[a-z0-9-]+\.[a-z0-9]+$/, "must be a SageMaker instance type such as ml.m5.xlarge")
            .default("ml.m5.xlarge"),
        })
        .prefault({}),
      /** Environment variables of the serving container. */
      environment: z.record(z.string(), z.string()).default({}),
    })
    .superRefine((endpoint, ctx) => {
      const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });
      if (Boolean(endpoint.instanceType) === Boolean(endpoint.serverless)) {
        issue(["instanceType"], "give exactly one of instanceType (real-time instances) and serverless");
      }
      const max = endpoint.maxInstances ?? endpoint.minInstances * 2;
      const initial = endpoint.initialInstances ?? endpoint.minInstances;
      if (endpoint.maxInstances !== undefined && endpoint.maxInstances < endpoint.minInstances) {
        issue(["maxInstances"], `must be at least minInstances (${endpoint.minInstances})`);
      }
      if (initial < endpoint.minInstances || initial > max) {
        issue(
          ["initialInstances"],
          `must be between minInstances (${endpoint.minInstances}) and maxInstances (${max})`,
        );
      }
      if (tier === "prod" && endpoint.instanceType && endpoint.minInstances < 2) {
        issue(
          ["minInstances"],
          "must be at least 2 in prod, so one instance can fail or be replaced without downtime",
        );
      }
      if (tier === "prod" && endpoint.serverless) {
        issue(
          ["serverless"],
          "is not allowed in prod: serverless endpoints run outside the VPC and cannot capture data",
        );
      }
      if (!endpoint.networkIsolation && !endpoint.networkAccessReason) {
        issue(
          ["networkAccessReason"],
          "is required when networkIsolation is false: say why the model needs the network",
        );
      }
      if (endpoint.serverless && endpoint.monitoring.enabled) {
        issue(
          ["monitoring", "enabled"],
          "must be false for a serverless endpoint (serverless endpoints cannot capture data)",
        );
      }
      if (endpoint.monitoring.enabled && endpoint.dataCaptureSamplingPercentage === 0) {
        issue(
          ["dataCaptureSamplingPercentage"],
          "must be above 0 when monitoring is enabled (monitoring reads captured data)",
        );
      }
      const { strategy, stepPercent } = endpoint.deployment;
      if (strategy !== "all-at-once") {
        if (endpoint.serverless) {
          issue(
            ["deployment", "strategy"],
            `must be all-at-once for a serverless endpoint (${strategy} steps are sized in instances)`,
          );
        } else if (initial < 2) {
          issue(
            ["deployment", "strategy"],
            `${strategy} needs at least 2 instances (initialInstances is ${initial})`,
          );
        }
        if (strategy === "canary" && stepPercent !== undefined && stepPercent > 50) {
          issue(["deployment", "stepPercent"], "must be at most 50 for a canary");
        }
        if (strategy === "linear" && stepPercent !== undefined && (stepPercent < 10 || stepPercent > 50)) {
          issue(
            ["deployment", "stepPercent"],
            "must be from 10 to 50 for linear (SageMaker takes linear steps of 10-50 % of the instances)",
          );
        }
      }
    });
}

function kubernetesServiceSchema(tier: Tier) {
  const t = byTier(tier);
  const quantity = z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as "2", "500m" or "8Gi"');
  const path = z.string().regex(PATH, "must be an HTTP path such as /health");
  return z
    .strictObject({
      /** Model server image. */
      image: imageSchema,
      /** The model version's folder in the model-artifacts bucket; the service's role can read nothing else. */
      modelDataPrefix,
      /** Whole GPUs per replica (requests = limits); 0 for CPU serving. */
      gpus: z.number().int().min(0).max(8).default(0),
      minReplicas: z
        .number()
        .int()
        .min(1)
        .default(t({ dev: 1, test: 1, prod: 2 })),
      /** Replicas the autoscaler may add up to (default: twice minReplicas). */
      maxReplicas: z.number().int().min(1).optional(),
      /** CPU request and limit. */
      cpu: quantity.default("1"),
      /** Memory request and limit. */
      memory: quantity.default("4Gi"),
      /** Port the model server listens on. */
      port: z.number().int().min(1024).max(65535).default(8080),
      /**
       * Port the model server serves Prometheus metrics on at /metrics (default: `port`), or false for a server
       * without metrics. The Service gets the label `mlops.platform/metrics: "true"` and a port `metrics`.
       */
      metricsPort: z
        .union([z.number().int().min(1024).max(65535), z.literal(false)], {
          error: "must be a port number from 1024 to 65535, or false for a server without metrics",
        })
        .optional(),
      /** Average CPU utilisation (% of the request) the autoscaler aims for. */
      targetCpuUtilization: z.number().int().min(10).max(100).default(70),
      probes: z
        .strictObject({
          liveness: path.default("/health"),
          readiness: path.default("/ready"),
          /** Defaults to the liveness path. */
          startup: path.optional(),
          /** Longest time a model may take to load, in seconds. */
          startupTimeoutSeconds: z.number().int().min(10).max(3600).default(600),
        })
        .prefault({}),
      /** Model cache size (emptyDir at /models). */
      modelCacheSize: quantity.default("20Gi"),
      /** Spread replicas across zones (required). */
      spreadAcrossZones: z.boolean().default(t({ dev: false, test: false, prod: true })),
      /** An internal load balancer (AWS Load Balancer Controller Ingress); omit for in-cluster access only. */
      ingress: z
        .strictObject({
          host: z
            .string()
            .regex(/^[a-z0-9.-]+$/, "must be a host name")
            .optional(),
          className: z.string().min(1).default("alb"),
        })
        .optional(),
      /** Arguments of the model server. */
      args: z.array(z.string()).optional(),
      /** Environment variables of the model server. */
      environment: z.record(z.string(), z.string()).default({}),
    })
    .superRefine((service, ctx) => {
      if (service.maxReplicas !== undefined && service.maxReplicas < service.minReplicas) {
        ctx.addIssue({
          code: "custom",
          path: ["maxReplicas"],
          message: `must be at least minReplicas (${service.minReplicas})`,
        });
      }
      if (tier === "prod" && service.minReplicas < 2) {
        ctx.addIssue({
          code: "custom",
          path: ["minReplicas"],
          message: "must be at least 2 in prod, so a node can be drained without downtime",
        });
      }
    });
}

/** One SageMaker endpoint's settings, with defaults filled in. */
export type SageMakerEndpointConfig = z.output<ReturnType<typeof sagemakerEndpointSchema>>;

/** One Kubernetes inference service's settings, with defaults filled in. */
export type KubernetesServiceConfig = z.output<ReturnType<typeof kubernetesServiceSchema>>;

/** The `serving` section with the defaults of `tier`. */
export function servingSection(tier: Tier) {
  const key = z.string().regex(NAME, NAME_MESSAGE);
  return z
    .strictObject({
      /** Data bucket (by purpose, from the data section) that receives captured requests and responses. */
      dataCaptureBucket: z
        .string()
        .regex(REPOSITORY, "must be a bucket purpose of the data section, such as raw")
        .default("raw"),
      /** SageMaker endpoints keyed by name (the endpoint is `<project>-<env>-<name>`). */
      sagemakerEndpoints: z
        .record(key, sagemakerEndpointSchema(tier), {
          error: (issue) => (issue.code === "invalid_key" ? NAME_MESSAGE : undefined),
        })
        .default({}),
      /** Kubernetes inference services keyed by name (in the `serving` namespace of the cluster). */
      kubernetesServices: z
        .record(key, kubernetesServiceSchema(tier), {
          error: (issue) => (issue.code === "invalid_key" ? NAME_MESSAGE : undefined),
        })
        .default({}),
    })
    .prefault({})
    .superRefine((serving, ctx) => {
      const records = [
        ["sagemakerEndpoints", "endpoints"],
        ["kubernetesServices", "services"],
      ] as const;
      for (const [kind, what] of records) {
        refuseConstructIdCollisions(Object.keys(serving[kind]), what, ctx, [kind]);
      }
    });
}

/** The `serving` section, with defaults filled in. */
export type ServingConfig = z.output<ReturnType<typeof servingSection>>;

/**
 * Checks the `serving` section against the rest of the environment: every image comes from a repository the
 * registry section declares, the capture bucket is a data bucket of the data section (a typo would otherwise
 * surface only when SageMaker fails to pull or write), the GPU services fit the serving namespace's quota,
 * and each replica's GPUs fit on a node of a GPU node group.
 */
export function checkServingAgainstEnvironment(
  env: {
    serving: ServingConfig;
    data: { buckets: Record<string, unknown> };
    registry: { repositories: Record<string, unknown> };
    cluster: {
      namespaces: { serving: { gpuQuota: number } };
      gpuNodeGroups: Record<string, { instanceTypes: readonly string[]; gpusPerNode?: number }>;
    };
  },
  ctx: z.RefinementCtx,
): void {
  // While a section is invalid its defaults are not filled in (the registry's default repositories, the data
  // section's default buckets), so comparing now would report problems that are not there.
  if (ctx.issues.length > 0) return;
  const repositories = Object.keys(env.registry.repositories);
  const buckets = Object.keys(env.data.buckets);
  const workloads = [
    ["sagemakerEndpoints", env.serving.sagemakerEndpoints],
    ["kubernetesServices", env.serving.kubernetesServices],
  ] as const;
  for (const [kind, declared] of workloads) {
    for (const [name, workload] of Object.entries(declared)) {
      if (!repositories.includes(workload.image.repository)) {
        ctx.addIssue({
          code: "custom",
          path: ["serving", kind, name, "image", "repository"],
          message: `must be a repository of registry.repositories (${repositories.join(", ")})`,
        });
      }
    }
  }
  // A pod's GPUs are all on one node: a service asking for more GPUs than any GPU node group's nodes have
  // would stay Pending, and the autoscaler (which knows each group's GPUs per node) would add no node for it.
  const groups = Object.entries(env.cluster.gpuNodeGroups).map(
    ([name, group]) => [name, gpusPerNodeOf(group)] as const,
  );
  const largest = Math.max(0, ...groups.map(([, gpus]) => gpus));
  for (const [name, service] of Object.entries(env.serving.kubernetesServices)) {
    if (service.gpus <= largest) continue;
    ctx.addIssue({
      code: "custom",
      path: ["serving", "kubernetesServices", name, "gpus"],
      message:
        groups.length === 0
          ? `is ${service.gpus}, but cluster.gpuNodeGroups has no GPU node group, so no node could run the service's pods; add a GPU node group or set gpus to 0 (CPU serving)`
          : `is ${service.gpus}, but no group of cluster.gpuNodeGroups has nodes with that many GPUs (GPUs per node: ${groups.map(([group, gpus]) => `${group} ${gpus}`).join(", ")}), and a pod's GPUs must all be on one node; lower gpus or add a group of instances with ${service.gpus} GPUs or more`,
    });
  }
  // The model-artifacts bucket, which models are served from, is checked by the model registry's check: it is
  // the registry's artifact store, whether or not anything is served.
  // A rolling update starts a service's new pod before it stops an old one (maxSurge 1, maxUnavailable 0), and
  // Terraform updates several services at once: at their maximum size, every GPU service may need one
  // replica's GPUs more than its maximum. A quota below that refuses the new pods and the rollout never ends.
  const gpuServices = Object.entries(env.serving.kubernetesServices).filter(
    ([, service]) => service.gpus > 0,
  );
  const rolloutGpus = gpuServices.reduce(
    (sum, [, service]) => sum + service.gpus * ((service.maxReplicas ?? service.minReplicas * 2) + 1),
    0,
  );
  const quota = env.cluster.namespaces.serving.gpuQuota;
  if (rolloutGpus > quota) {
    ctx.addIssue({
      code: "custom",
      path: ["cluster", "namespaces", "serving", "gpuQuota"],
      message:
        `is ${quota}, but the GPU services of serving.kubernetesServices (${gpuServices.map(([name]) => name).join(", ")}) ` +
        `need up to ${rolloutGpus} during a rollout at their maximum size (gpus × (maxReplicas + 1) each: a ` +
        "rolling update starts a new pod before it stops an old one); raise the quota or lower maxReplicas",
    });
  }
  const capturing = Object.values(env.serving.sagemakerEndpoints).some((endpoint) => endpoint.instanceType);
  if (capturing && !buckets.includes(env.serving.dataCaptureBucket)) {
    ctx.addIssue({
      code: "custom",
      path: ["serving", "dataCaptureBucket"],
      message: `must be a bucket of data.buckets (${buckets.join(", ")})`,
    });
  }
}

/** The data bucket (purpose) models are served from. */
export const MODEL_ARTIFACTS_PURPOSE = "model-artifacts";
