/**
 * The `monitoring` section of an environment file: who is told about alerts and costs, the thresholds of
 * the alarms and alert rules, and how Prometheus and Grafana run in the cluster.
 */
import { z } from "zod";
import { checkRequestWithinLimit } from "../schema";
import { byTier, type Tier } from "../tier";

const EMAIL = z
  .string()
  .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "must be an email address such as oncall@example.com");
const SUBSCRIPTION_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const KMS_KEY =
  /^(alias\/[A-Za-z0-9/_-]{1,250}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+)$/;

const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;
const quantity = z.string().regex(QUANTITY, "must be a Kubernetes quantity such as 500m, 2 or 4Gi");

const ADDON_VERSION = /^v(\d+)\.(\d+)\.\d+-eksbuild\.\d+$/;
const ADDON_VERSION_RANGE =
  "must be v3.1.0 or later (EKS Pod Identity) and before v6.2.0 (later versions publish OpenTelemetry " +
  "metrics instead of the ContainerInsights namespace the GPU alarms watch)";

const percentage = (fallback: number) =>
  z.number().gt(0, "must be above 0").lt(100, "must be below 100 (a percentage)").default(fallback);
const positive = (fallback: number) => z.number().gt(0, "must be above 0").default(fallback);
/** A budget threshold: a percentage of the monthly limit, so that 0.8 (a fraction) is not taken as 0.8%. */
const budgetPercent = (fallback: number) =>
  z
    .number()
    .min(1, "must be at least 1: it is a percentage of the monthly limit (80 for 80%, not 0.8)")
    .max(1000, "must be at most 1000 (a percentage of the monthly limit)")
    .default(fallback);

/** One subscriber of the alert topic. */
const subscription = z.strictObject({
  protocol: z.enum(["email", "email-json", "https", "sqs", "lambda", "sms"]),
  /** Email address, HTTPS URL, SQS queue ARN, Lambda function ARN or phone number. */
  endpoint: z.string().min(1),
});

/** The schema of the `monitoring` section, with the defaults of `tier`. */
export function monitoringSection(tier: Tier) {
  const t = byTier(tier);
  return z
    .strictObject({
      /** The environment's SNS alert topic: CloudWatch alarms, budgets, cost anomalies and Alertmanager. */
      alerts: z
        .strictObject({
          /** Who is told, keyed by a name of your choice (`oncall`, `slack`...); at least one in test and prod. */
          subscriptions: z
            .record(
              z.string().regex(SUBSCRIPTION_NAME, "must be 1-40 lowercase letters, digits or hyphens"),
              subscription,
              {
                error: (issue) =>
                  issue.code === "invalid_key"
                    ? "is not a valid subscriber name: use 1-40 lowercase letters, digits or hyphens, starting with a letter"
                    : undefined,
              },
            )
            .default({}),
          /**
           * KMS key of the topic (alias or ARN); its policy must let CloudWatch, Budgets and Cost Anomaly
           * Detection use it. Default: the topic owns a key with that policy.
           */
          kmsKey: z.string().regex(KMS_KEY, "must be a KMS alias (alias/...) or key or alias ARN").optional(),
        })
        .prefault({}),
      /** AWS Budgets: a monthly cost budget for the environment's account. */
      budget: z
        .strictObject({
          /** Monthly limit in US dollars. */
          monthlyLimitUsd: positive(t({ dev: 1000, test: 2000, prod: 10000 })),
          /** People are told when the month's forecast reaches this percentage of the limit (80, not 0.8). */
          forecastedPercent: budgetPercent(80),
          /** People are told when the month's actual cost reaches this percentage of the limit (100, not 1). */
          actualPercent: budgetPercent(100),
          /** Told as well as the alert topic (at most 10). */
          emails: z.array(EMAIL).max(10, "must list at most 10 addresses (an AWS Budgets limit)").default([]),
        })
        .prefault({}),
      /** AWS Cost Anomaly Detection over the account's services. */
      costAnomalies: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Tell people about an anomaly whose total cost impact reaches this many US dollars. */
          thresholdUsd: positive(t({ dev: 50, test: 100, prod: 250 })),
          /** Sent a daily summary as well (the topic is told immediately). */
          emails: z.array(EMAIL).max(10, "must list at most 10 addresses").default([]),
          /**
           * An existing AWS-services monitor of the account (AWS allows one); default: create one.
           */
          existingMonitorArn: z
            .string()
            .regex(
              /^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor\/[\w-]+$/,
              "must be a Cost Explorer anomaly monitor ARN",
            )
            .optional(),
        })
        .prefault({}),
      /** GPUs: idle GPUs cost money, failing ones lose work. */
      gpu: z
        .strictObject({
          /** A GPU is idle below this utilisation (percent). */
          idleUtilizationPercent: percentage(5),
          /** Report GPUs idle this long (minutes, a multiple of 5 up to 1440). */
          idleMinutes: z
            .number()
            .int()
            .min(5)
            .max(1440, "must be at most 1440 (CloudWatch evaluates at most one day)")
            .multipleOf(5, "must be a multiple of 5 (CloudWatch evaluates 5-minute periods)")
            .default(t({ dev: 30, test: 60, prod: 60 })),
          /** Report a cluster with at least this many failed nodes. */
          failedNodeThreshold: z.number().int().min(1).default(1),
          /** Node label that marks GPU nodes, for the DCGM exporter's node affinity. */
          nodeSelector: z
            .strictObject({ key: z.string().min(1), values: z.array(z.string().min(1)).min(1) })
            .optional(),
        })
        .prefault({}),
      /**
       * CloudWatch Container Insights on the EKS cluster (the `amazon-cloudwatch-observability` add-on): the
       * metrics the CloudWatch GPU node-group alarms watch. Without it those alarms are not created; GPU
       * alerting then comes from Prometheus in the cluster only.
       */
      containerInsights: z
        .strictObject({
          /** Install the add-on and create the GPU node-group alarms (charged per observation). */
          enabled: z.boolean().default(true),
          /** Also ship every container's logs to CloudWatch Logs (charged per GB ingested). */
          containerLogs: z.boolean().default(t({ dev: false, test: false, prod: true })),
          /** Pinned add-on version: v3.1.0 or later (Pod Identity), before v6.2.0 (ContainerInsights metrics). */
          addonVersion: z
            .string()
            .regex(ADDON_VERSION, "must be an EKS add-on version such as v4.10.3-eksbuild.1")
            .refine((version) => {
              const match = ADDON_VERSION.exec(version);
              // A malformed version is reported by the pattern above.
              if (!match) return true;
              const [major, minor] = [Number(match[1]), Number(match[2])];
              return (major > 3 || (major === 3 && minor >= 1)) && (major < 6 || (major === 6 && minor < 2));
            }, ADDON_VERSION_RANGE)
            .default("v4.10.3-eksbuild.1"),
        })
        .prefault({}),
      /**
       * Kubernetes inference services (Prometheus) and SageMaker endpoints (CloudWatch). An endpoint's 5xx and
       * latency alarms are its rollback alarms, set per endpoint in `serving.sagemakerEndpoints.<name>.alarms`.
       */
      inference: z
        .strictObject({
          /** p95 latency above which a Kubernetes inference service is reported (milliseconds). */
          latencyP95Ms: positive(1000),
          /** Share of a Kubernetes service's requests failing with 5xx above which it is reported. */
          errorRatePercent: percentage(5),
          /** Model errors of a SageMaker endpoint in 5 minutes that are reported. */
          endpointModelErrors: z.number().int().min(1).default(5),
        })
        .prefault({}),
      /** The model registry's database (CloudWatch). */
      database: z
        .strictObject({
          cpuUtilizationPercent: percentage(80),
          /** Report free storage below this many GiB. */
          freeStorageGiB: positive(t({ dev: 2, test: 5, prod: 20 })),
          /** Report more open connections than this (keep it below the instance class's max_connections). */
          maxConnections: z
            .number()
            .int()
            .min(1)
            .default(t({ dev: 50, test: 80, prod: 400 })),
        })
        .prefault({}),
      /** Prometheus in the cluster. */
      prometheus: z
        .strictObject({
          /** Days of metrics kept in the cluster. */
          retentionDays: z
            .number()
            .int()
            .min(1)
            .default(t({ dev: 7, test: 15, prod: 30 })),
          /** Size of each replica's encrypted volume (GiB). */
          volumeSizeGiB: z
            .number()
            .int()
            .min(5)
            .default(t({ dev: 20, test: 50, prod: 200 })),
          replicas: z
            .number()
            .int()
            .min(1)
            .max(3)
            .default(t({ dev: 1, test: 1, prod: 2 })),
          /**
           * CPU and memory of each replica; without them Prometheus would get the `monitoring` namespace's
           * container defaults (cluster.namespaces.monitoring.containerDefaults), sized for small workloads.
           * Memory grows with the active series: raise it when Prometheus is OOM-killed. No CPU limit.
           */
          resources: z
            .strictObject({
              requests: z
                .strictObject({
                  cpu: quantity.default(t({ dev: "500m", test: "1", prod: "1" })),
                  memory: quantity.default(t({ dev: "1Gi", test: "2Gi", prod: "4Gi" })),
                })
                .prefault({}),
              limits: z
                .strictObject({
                  /** Above this a replica is OOM-killed; at least requests.memory. */
                  memory: quantity.default(t({ dev: "2Gi", test: "4Gi", prod: "8Gi" })),
                })
                .prefault({}),
            })
            .prefault({}),
          /** Report a Prometheus volume fuller than this (percent). */
          storageFullPercent: percentage(85),
          /** Also remote-write to an Amazon Managed Service for Prometheus workspace (durable metrics). */
          managedRemoteWrite: z.boolean().default(t({ dev: false, test: false, prod: true })),
        })
        .prefault({}),
      alertmanager: z
        .strictObject({
          replicas: z
            .number()
            .int()
            .min(1)
            .max(3)
            .default(t({ dev: 1, test: 1, prod: 2 })),
        })
        .prefault({}),
      grafana: z
        .strictObject({
          /** Only inside the cluster (`kubectl port-forward`), or an internal load balancer in the VPC. */
          exposure: z.enum(["cluster-ip", "internal-load-balancer"]).default("cluster-ip"),
          /** Bump to generate a new admin password on the next apply. */
          adminPasswordRevision: z.number().int().min(1).default(1),
        })
        .prefault({}),
    })
    .prefault({})
    .superRefine((monitoring, ctx) => {
      const { resources } = monitoring.prometheus;
      checkRequestWithinLimit(
        resources.requests.memory,
        resources.limits.memory,
        ["prometheus", "resources", "requests", "memory"],
        "prometheus.resources.limits.memory",
        ctx,
      );
      if (monitoring.containerInsights.containerLogs && !monitoring.containerInsights.enabled) {
        ctx.addIssue({
          code: "custom",
          path: ["containerInsights", "containerLogs"],
          message:
            "needs containerInsights.enabled: true (Fluent Bit comes with the Container Insights add-on)",
        });
      }
      if (tier !== "dev" && Object.keys(monitoring.alerts.subscriptions).length === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["alerts", "subscriptions"],
          message: `must name at least one subscriber in ${tier}: otherwise its alarms, budget and cost anomaly alerts reach no one`,
        });
      }
      for (const [name, entry] of Object.entries(monitoring.alerts.subscriptions)) {
        const path = ["alerts", "subscriptions", name, "endpoint"];
        if (entry.protocol === "https" && !entry.endpoint.startsWith("https://")) {
          ctx.addIssue({ code: "custom", path, message: "must start with https:// for protocol https" });
        }
        if (entry.protocol.startsWith("email") && !EMAIL.safeParse(entry.endpoint).success) {
          ctx.addIssue({ code: "custom", path, message: "must be an email address for protocol email" });
        }
        if ((entry.protocol === "sqs" || entry.protocol === "lambda") && !entry.endpoint.startsWith("arn:")) {
          ctx.addIssue({ code: "custom", path, message: `must be an ARN for protocol ${entry.protocol}` });
        }
        // SNS takes SMS numbers in E.164: a plus sign, the country code and up to 15 digits in all.
        if (entry.protocol === "sms" && !/^\+[1-9]\d{1,14}$/.test(entry.endpoint)) {
          ctx.addIssue({
            code: "custom",
            path,
            message: "must be a phone number in E.164 form, such as +14155550100, for protocol sms",
          });
        }
      }
    });
}

/** The validated `monitoring` section. */
export type MonitoringConfig = z.output<ReturnType<typeof monitoringSection>>;
