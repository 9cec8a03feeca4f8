/**
 * Monitoring, translated from the environment's `monitoring` section into constructs: the AWS side for the
 * platform stack, the Kubernetes side for the cluster stack. Both sides agree on names only (the alert
 * topic, the service accounts, the managed Prometheus alias), never through cross-stack references.
 */
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsPrometheusWorkspaces } from "@cdktf/provider-aws/lib/data-aws-prometheus-workspaces";
import { Fn, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { Naming } from "../constructs/core/naming";
import { AlertTopic } from "../constructs/monitoring/alert-topic";
import {
  ALERTMANAGER_SERVICE_ACCOUNT,
  PROMETHEUS_SERVICE_ACCOUNT,
} from "../constructs/monitoring/conventions";
import { CostAnomalyAlerts } from "../constructs/monitoring/cost-anomaly-alerts";
import { DatabaseAlarms } from "../constructs/monitoring/database-alarms";
import { DcgmExporter, type GpuNodeSelector } from "../constructs/monitoring/dcgm-exporter";
import { EndpointAlarms } from "../constructs/monitoring/endpoint-alarms";
import { GpuClusterAlarms } from "../constructs/monitoring/gpu-cluster-alarms";
import { GrafanaAdminCredential } from "../constructs/monitoring/grafana-admin-credential";
import { GrafanaDashboards, PLATFORM_DASHBOARDS } from "../constructs/monitoring/grafana-dashboards";
import { KubePrometheusStack } from "../constructs/monitoring/kube-prometheus-stack";
import { ManagedPrometheus } from "../constructs/monitoring/managed-prometheus";
import { MonthlyBudget } from "../constructs/monitoring/monthly-budget";
import { PlatformDashboard, type DashboardEndpoint } from "../constructs/monitoring/platform-dashboard";
import { CONTAINER_INSIGHTS_ADDON } from "../constructs/training/gpu-training-cluster";
import { PodIdentityRole } from "../constructs/training/pod-identity-role";
import { dnsSuffix } from "../constructs/core/arn";
import { clusterNameOf } from "./cluster-contract";
import type { MlopsStack } from "./mlops-stack";

/** Namespace of Prometheus, Alertmanager, Grafana and the DCGM exporter. */
export const MONITORING_NAMESPACE = "monitoring";

/** The names both sides of monitoring agree on. */
export function monitoringNames(naming: Naming) {
  return {
    alertTopic: naming.name("sns", "alerts"),
    budget: naming.name("budget", "monthly"),
    dashboard: naming.name("generic", "platform"),
    alertmanagerRole: naming.name("iamRole", "alertmanager"),
    prometheusRole: naming.name("iamRole", "prometheus"),
    managedPrometheus: naming.name("generic", "metrics"),
    grafanaSecret: `${naming.prefix}/grafana-admin`,
  };
}

/** `mlops-dev-churn` → `MlopsDevChurn`, for construct ids. */
function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/** The EKS cluster as monitoring needs it (a `GpuTrainingCluster` is one). */
export interface MonitoredCluster {
  readonly clusterName: string;
  readonly clusterArn: string;
  /** Container Insights publishes the cluster's `ContainerInsights` metrics (the GPU alarms need them). */
  readonly hasContainerInsights: boolean;
  /** The cluster's EKS add-ons by name; the GPU alarms come after the Container Insights one. */
  readonly addons?: Readonly<Record<string, ITerraformDependable>>;
  grantServiceAccount(namespace: string, serviceAccount: string, role: { readonly roleArn: string }): unknown;
}

/**
 * A SageMaker endpoint to alarm on. A serverless one (`serverless: true`, inherited from
 * {@link DashboardEndpoint}) gets no model-error alarm: serverless endpoints do not publish
 * `InvocationModelErrors`.
 */
export interface MonitoredEndpoint extends DashboardEndpoint {
  /**
   * The endpoint's own alarms on 5xx errors and latency (a `SageMakerEndpoint`'s rollback alarms): they are
   * made to notify the alert topic instead of being doubled by monitoring's own.
   * @default - monitoring creates its own latency and 5xx alarms
   */
  readonly rollbackAlarms?: {
    readonly serverErrors: CloudwatchMetricAlarm;
    readonly latency: CloudwatchMetricAlarm;
  };
}

/** What the platform stack watches; each is optional so monitoring lands before the workloads do. */
export interface PlatformMonitoringTargets {
  /** The EKS cluster: GPU alarms, and Pod Identity roles for Alertmanager and Prometheus. */
  readonly cluster?: MonitoredCluster;
  /** SageMaker endpoints, by name. */
  readonly endpoints?: readonly MonitoredEndpoint[];
  /** RDS instance identifiers (the model registry's database). */
  readonly databases?: readonly string[];
}

/** What {@link addPlatformMonitoring} created. */
export interface PlatformMonitoring {
  readonly scope: Construct;
  readonly alertTopic: AlertTopic;
  readonly budget: MonthlyBudget;
  readonly costAnomalies?: CostAnomalyAlerts;
  readonly dashboard: PlatformDashboard;
  readonly alarmNames: readonly string[];
  readonly managedPrometheus?: ManagedPrometheus;
}

/**
 * The AWS side of monitoring, under the construct `Monitoring` of the platform stack: the alert topic,
 * budget, cost anomaly detection, CloudWatch alarms and dashboard, and (with a cluster) the Pod Identity
 * roles of Alertmanager and Prometheus and the optional managed Prometheus workspace.
 */
export function addPlatformMonitoring(
  stack: MlopsStack,
  targets: PlatformMonitoringTargets = {},
): PlatformMonitoring {
  const { config, naming, location } = stack;
  const settings = config.monitoring;
  const names = monitoringNames(naming);
  const scope = new Construct(stack, "Monitoring");
  const preventDestroy = config.protection.preventDestroy;

  const alertTopic = new AlertTopic(scope, "Alerts", {
    location,
    topicName: names.alertTopic,
    kmsKey: settings.alerts.kmsKey,
    keyDeletionWindowDays: config.protection.keyDeletionWindowDays,
    preventDestroy,
    subscriptions: Object.keys(settings.alerts.subscriptions)
      .sort()
      .map((name) => settings.alerts.subscriptions[name]),
  });
  // The resource's ARN (not the name-built one) orders every publisher after the topic.
  const alertTopicArn = alertTopic.resource.arn;

  const budget = new MonthlyBudget(scope, "Budget", {
    budgetName: names.budget,
    limitUsd: settings.budget.monthlyLimitUsd,
    alertTopicArn,
    emails: settings.budget.emails,
    forecastedPercent: settings.budget.forecastedPercent,
    actualPercent: settings.budget.actualPercent,
    dependsOn: [alertTopic.policy],
  });
  const costAnomalies = settings.costAnomalies.enabled
    ? new CostAnomalyAlerts(scope, "CostAnomalies", {
        namePrefix: naming.prefix,
        thresholdUsd: settings.costAnomalies.thresholdUsd,
        alertTopicArn,
        emails: settings.costAnomalies.emails,
        existingMonitorArn: settings.costAnomalies.existingMonitorArn,
        dependsOn: [alertTopic.policy],
      })
    : undefined;

  const alarmNames: string[] = [];
  for (const endpoint of targets.endpoints ?? []) {
    const own = endpoint.rollbackAlarms;
    const alarms = new EndpointAlarms(scope, `Endpoint${pascal(endpoint.endpointName)}`, {
      endpointName: endpoint.endpointName,
      variantName: endpoint.variantName,
      alarmTopicArn: alertTopicArn,
      // One alarm per signal: the endpoint's rollback alarms notify too, with the endpoint's thresholds.
      ...(own
        ? { existingAlarms: { serverErrors: own.serverErrors, latency: own.latency } }
        : { modelLatencyP95Ms: settings.inference.latencyP95Ms }),
      // Serverless endpoints publish no InvocationModelErrors: their alarm would stay OK forever.
      ...(endpoint.serverless
        ? { serverless: true }
        : { modelErrorThreshold: settings.inference.endpointModelErrors }),
    });
    alarmNames.push(...alarms.alarmNames);
  }
  for (const db of targets.databases ?? []) {
    const alarms = new DatabaseAlarms(scope, `Database${pascal(db)}`, {
      dbInstanceIdentifier: db,
      alarmTopicArn: alertTopicArn,
      cpuUtilizationPercent: settings.database.cpuUtilizationPercent,
      freeStorageGiB: settings.database.freeStorageGiB,
      maxConnections: settings.database.maxConnections,
    });
    alarmNames.push(...alarms.alarmNames);
  }

  let managedPrometheus: ManagedPrometheus | undefined;
  const cluster = targets.cluster;
  if (cluster) {
    // Alarms on metrics nobody publishes would stay OK forever and look like coverage.
    if (cluster.hasContainerInsights) {
      const gpu = new GpuClusterAlarms(scope, "GpuCluster", {
        clusterName: cluster.clusterName,
        alarmTopicArn: alertTopicArn,
        gpuIdleUtilizationPercent: settings.gpu.idleUtilizationPercent,
        gpuIdleMinutes: settings.gpu.idleMinutes,
        failedNodeThreshold: settings.gpu.failedNodeThreshold,
        dependsOn: [cluster.addons?.[CONTAINER_INSIGHTS_ADDON]].filter(
          (addon): addon is ITerraformDependable => addon !== undefined,
        ),
      });
      alarmNames.push(...gpu.alarmNames);
    }

    const alertmanager = new PodIdentityRole(scope, "AlertmanagerRole", {
      roleName: names.alertmanagerRole,
      accountId: location.accountId,
      clusterArn: cluster.clusterArn,
      description: "Alertmanager publishes alerts to the environment's SNS topic",
    });
    alertTopic.grantPublish(alertmanager.role);
    cluster.grantServiceAccount(MONITORING_NAMESPACE, ALERTMANAGER_SERVICE_ACCOUNT, alertmanager);

    if (settings.prometheus.managedRemoteWrite) {
      managedPrometheus = new ManagedPrometheus(scope, "ManagedPrometheus", {
        location,
        alias: names.managedPrometheus,
        keyAliasName: names.managedPrometheus,
        logRetentionDays: config.logs.retentionDays,
        keyDeletionWindowDays: config.protection.keyDeletionWindowDays,
        preventDestroy,
      });
      const prometheus = new PodIdentityRole(scope, "PrometheusRole", {
        roleName: names.prometheusRole,
        accountId: location.accountId,
        clusterArn: cluster.clusterArn,
        description: "Prometheus remote-writes to the environment's managed Prometheus workspace",
      });
      managedPrometheus.grantRemoteWrite(prometheus.role);
      cluster.grantServiceAccount(MONITORING_NAMESPACE, PROMETHEUS_SERVICE_ACCOUNT, prometheus);
    }
  }

  const dashboard = new PlatformDashboard(scope, "Dashboard", {
    location,
    dashboardName: names.dashboard,
    endpoints: targets.endpoints,
    databases: targets.databases,
    // Its cluster widgets show Container Insights metrics; without the add-on they would stay empty.
    clusterName: cluster?.hasContainerInsights ? cluster.clusterName : undefined,
    alarmNames,
  });

  return { scope, alertTopic, budget, costAnomalies, dashboard, alarmNames, managedPrometheus };
}

/** What the cluster stack gives the Kubernetes side of monitoring. */
export interface ClusterMonitoringOptions {
  /** The encrypted StorageClass of Prometheus' volumes. @default - the cluster's default StorageClass */
  readonly storageClassName?: string;
  /** Label of GPU nodes. @default monitoring.gpu.nodeSelector, else `nvidia.com/gpu.present=true` */
  readonly gpuNodeSelector?: GpuNodeSelector;
  /** What must exist first (the monitoring namespace, the StorageClass). */
  readonly dependsOn?: ITerraformDependable[];
}

/** What {@link addClusterMonitoring} created. */
export interface ClusterMonitoring {
  readonly scope: Construct;
  readonly grafanaAdmin: GrafanaAdminCredential;
  readonly stack: KubePrometheusStack;
  readonly dcgmExporter: DcgmExporter;
  readonly dashboards: GrafanaDashboards;
}

/**
 * The Kubernetes side of monitoring, under the construct `Monitoring` of the cluster stack, in namespace
 * `monitoring`: Grafana's generated admin credential, kube-prometheus-stack (alerts to the platform stack's
 * SNS topic, by name), the DCGM exporter, and the dashboards (MLflow's only with the self-hosted registry).
 */
export function addClusterMonitoring(
  stack: MlopsStack,
  options: ClusterMonitoringOptions = {},
): ClusterMonitoring {
  const { config, naming, location } = stack;
  const settings = config.monitoring;
  const names = monitoringNames(naming);
  const scope = new Construct(stack, "Monitoring");
  const dependsOn = options.dependsOn ?? [];

  // The credential's password goes through write-only attributes and an ephemeral resource (Terraform 1.11).
  stack.requireTerraform("1.11");
  const grafanaAdmin = new GrafanaAdminCredential(scope, "GrafanaAdmin", {
    secretName: names.grafanaSecret,
    namespace: MONITORING_NAMESPACE,
    revision: settings.grafana.adminPasswordRevision,
    keyDeletionWindowDays: config.protection.keyDeletionWindowDays,
    preventDestroy: config.protection.preventDestroy,
    dependsOn,
  });

  let remoteWrite: { url: string; region: string; clusterLabel: string } | undefined;
  if (settings.prometheus.managedRemoteWrite) {
    // The workspace id is generated by AWS; the cluster stack (planned with credentials) looks it up by alias.
    const workspaces = new DataAwsPrometheusWorkspaces(scope, "ManagedPrometheusWorkspace", {
      aliasPrefix: names.managedPrometheus,
    });
    const region = location.region;
    remoteWrite = {
      url: `https://aps-workspaces.${region}.${dnsSuffix(region)}/workspaces/${Fn.element(workspaces.workspaceIds, 0)}/api/v1/remote_write`,
      region,
      // The `cluster` label Amazon Managed Prometheus de-duplicates the replicas on.
      clusterLabel: clusterNameOf(naming),
    };
  }

  const monitoring = new KubePrometheusStack(scope, "KubePrometheusStack", {
    namespace: MONITORING_NAMESPACE,
    prometheus: {
      retentionDays: settings.prometheus.retentionDays,
      volumeSizeGiB: settings.prometheus.volumeSizeGiB,
      storageClassName: options.storageClassName,
      replicas: settings.prometheus.replicas,
      resources: settings.prometheus.resources,
      remoteWrite,
    },
    alertmanager: {
      snsTopicArn: AlertTopic.arnFor(location, names.alertTopic),
      region: location.region,
      replicas: settings.alertmanager.replicas,
    },
    grafana: { adminSecretName: grafanaAdmin.kubernetesSecretName, exposure: settings.grafana.exposure },
    alertThresholds: {
      gpuIdleUtilizationPercent: settings.gpu.idleUtilizationPercent,
      gpuIdleMinutes: settings.gpu.idleMinutes,
      inferenceLatencyP95Ms: settings.inference.latencyP95Ms,
      inferenceErrorRatePercent: settings.inference.errorRatePercent,
      prometheusStorageFullPercent: settings.prometheus.storageFullPercent,
    },
    dependsOn: [...dependsOn, grafanaAdmin.kubernetesSecret],
  });

  const dcgmExporter = new DcgmExporter(scope, "DcgmExporter", {
    namespace: MONITORING_NAMESPACE,
    gpuNodeSelector: options.gpuNodeSelector ?? settings.gpu.nodeSelector,
    dependsOn: [monitoring.release],
  });

  // The MLflow dashboard reads the self-hosted server's metrics; with the SageMaker-managed tracking server
  // nothing runs in namespace mlflow and it would stay empty.
  const selfHostedMlflow = config.modelRegistry.backend === "self-hosted";
  const dashboards = new GrafanaDashboards(scope, "Dashboards", {
    namespace: MONITORING_NAMESPACE,
    dashboards: Object.fromEntries(
      Object.entries(PLATFORM_DASHBOARDS).filter(([name]) => selfHostedMlflow || name !== "mlflow"),
    ),
    dependsOn,
  });

  return { scope, grafanaAdmin, stack: monitoring, dcgmExporter, dashboards };
}
