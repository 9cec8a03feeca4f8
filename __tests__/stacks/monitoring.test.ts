import { Testing } from "cdktf";
import { parse } from "yaml";
import { MlopsStack } from "../../stacks/mlops-stack";
import { addClusterMonitoring, addPlatformMonitoring } from "../../stacks/monitoring";
import {
  configFor,
  onlyResource,
  resourcesOf,
  synthEnvironment,
  synthStack,
  type StackJson,
} from "../helpers/synth";

function alarm(json: StackJson, name: string): Record<string, unknown> {
  const found = Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm")).find(
    (a) => a.alarm_name === name,
  );
  if (!found) throw new Error(`no alarm ${name}`);
  return found;
}

/** Names of the Grafana dashboard ConfigMaps of a stack, sorted. */
function dashboardNames(json: StackJson): string[] {
  return Object.values(resourcesOf(json, "kubernetes_config_map_v1"))
    .map((c) => (c.metadata as { name: string }).name)
    .filter((name) => name.startsWith("grafana-dashboard-"))
    .sort();
}

const CONTAINER_INSIGHTS_OFF = { monitoring: { containerInsights: { enabled: false } } };

// Every tier installs Container Insights by default; the last row turns it off to check what depends on it.
describe.each([
  ["dev", "", {}, 1000, 50, true, false],
  ["test", "", {}, 2000, 100, true, false],
  ["prod", "", {}, 10000, 250, true, true],
  ["dev", " without Container Insights", CONTAINER_INSIGHTS_OFF, 1000, 50, false, false],
])("the %s platform stack%s", (env, _, patch, limit, anomalyThreshold, containerInsights, containerLogs) => {
  let platform: StackJson;
  beforeAll(() => {
    platform = synthEnvironment(configFor(env, patch)).json.platform;
  });

  it("has the environment's encrypted alert topic", () => {
    expect(onlyResource(platform, "aws_sns_topic")).toMatchObject({
      name: `mlops-${env}-alerts`,
      kms_master_key_id: expect.stringContaining("aws_kms_key"),
    });
  });

  it("has a monthly budget with the tier's limit, told at 80 % forecast and 100 % actual", () => {
    const budget = onlyResource(platform, "aws_budgets_budget");
    expect(budget).toMatchObject({
      name: `mlops-${env}-monthly`,
      limit_amount: limit.toFixed(2),
      time_unit: "MONTHLY",
    });
    expect(
      (budget.notification as Record<string, unknown>[]).map((n) => [n.notification_type, n.threshold]),
    ).toEqual([
      ["FORECASTED", 80],
      ["ACTUAL", 100],
    ]);
  });

  it("detects cost anomalies above the tier's threshold", () => {
    expect(onlyResource(platform, "aws_ce_anomaly_subscription")).toMatchObject({
      threshold_expression: { dimension: { values: [anomalyThreshold.toFixed(2)] } },
    });
  });

  it("has the environment's CloudWatch dashboard", () => {
    expect(onlyResource(platform, "aws_cloudwatch_dashboard").dashboard_name).toBe(`mlops-${env}-platform`);
  });

  const addon = () =>
    Object.values(resourcesOf(platform, "aws_eks_addon")).find(
      (a) => a.addon_name === "amazon-cloudwatch-observability",
    );
  const gpuAlarms = () =>
    Object.values(resourcesOf(platform, "aws_cloudwatch_metric_alarm"))
      .map((a) => a.alarm_name)
      .filter((name) =>
        [`mlops-${env}-eks-gpus-idle`, `mlops-${env}-eks-failed-nodes`].includes(name as string),
      );

  it(`${containerInsights ? "installs" : "leaves out"} Container Insights and its agent's role`, () => {
    expect(addon() !== undefined).toBe(containerInsights);
    const roles = Object.values(resourcesOf(platform, "aws_iam_role")).map((r) => r.name);
    expect(roles.includes(`mlops-${env}-eks-cloudwatch-agent`)).toBe(containerInsights);
  });

  it(`${containerInsights ? "creates" : "leaves out"} the GPU node-group alarms with it`, () => {
    expect(gpuAlarms().sort()).toEqual(
      containerInsights ? [`mlops-${env}-eks-failed-nodes`, `mlops-${env}-eks-gpus-idle`] : [],
    );
    // The other alarms do not depend on it.
    expect(Object.keys(resourcesOf(platform, "aws_cloudwatch_metric_alarm")).length).toBeGreaterThan(0);
  });

  if (containerInsights) {
    it("creates the GPU node-group alarms after the add-on, so no data before its agent runs pages no one", () => {
      const [addon] = Object.entries(resourcesOf(platform, "aws_eks_addon")).find(
        ([, resource]) => resource.addon_name === "amazon-cloudwatch-observability",
      )!;
      const alarms = Object.values(resourcesOf(platform, "aws_cloudwatch_metric_alarm")).filter((alarm) =>
        /-(failed-nodes|gpus-idle)$/.test(alarm.alarm_name as string),
      );
      expect(alarms.map((alarm) => alarm.depends_on)).toEqual([
        [`aws_eks_addon.${addon}`],
        [`aws_eks_addon.${addon}`],
      ]);
    });
  }

  it(`${containerInsights ? "shows" : "leaves out"} the cluster's Container Insights widgets`, () => {
    const body = onlyResource(platform, "aws_cloudwatch_dashboard").dashboard_body as string;
    expect(body.includes("ContainerInsights")).toBe(containerInsights);
  });

  it(`${containerLogs ? "ships" : "does not ship"} container logs, with only the log groups needed`, () => {
    const groups = Object.values(resourcesOf(platform, "aws_cloudwatch_log_group"))
      .map((g) => g.name as string)
      .filter((name) => name.startsWith("/aws/containerinsights/"));
    if (!containerInsights) return expect(groups).toEqual([]);
    expect(JSON.parse(addon()!.configuration_values as string).containerLogs).toEqual({
      enabled: containerLogs,
    });
    const types = containerLogs ? ["application", "dataplane", "host", "performance"] : ["performance"];
    expect(groups.sort()).toEqual(types.map((type) => `/aws/containerinsights/mlops-${env}-eks/${type}`));
  });
});

it("subscribes the prod file's on-call address", () => {
  const platform = synthEnvironment(configFor("prod")).json.platform;
  expect(onlyResource(platform, "aws_sns_topic_subscription")).toMatchObject({
    protocol: "email",
    endpoint: "ml-platform-oncall@example.com",
  });
});

describe("platform monitoring with workloads to watch", () => {
  let json: StackJson;
  const grants: [string, string, string][] = [];
  beforeAll(() => {
    const config = configFor("prod", {
      monitoring: {
        inference: { latencyP95Ms: 300 },
        database: { maxConnections: 150 },
        gpu: { idleMinutes: 45 },
      },
    });
    const stack = new MlopsStack(Testing.app(), { config, part: "platform" });
    addPlatformMonitoring(stack, {
      cluster: {
        clusterName: "mlops-prod-eks",
        clusterArn: "arn:aws:eks:eu-west-1:333333333333:cluster/mlops-prod-eks",
        hasContainerInsights: true,
        grantServiceAccount: (namespace, serviceAccount, role) =>
          grants.push([namespace, serviceAccount, role.roleArn]),
      },
      endpoints: [
        { endpointName: "mlops-prod-churn" },
        { endpointName: "mlops-prod-lite", serverless: true },
      ],
      databases: ["mlops-prod-mlflow"],
    });
    json = synthStack(stack);
  });

  it("alarms on model errors of an instance endpoint, not of a serverless one, which publishes none", () => {
    expect(alarm(json, "mlops-prod-churn-invocation-model-errors").threshold).toBe(5);
    const names = Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm")).map((a) => a.alarm_name);
    expect(names.filter((name) => String(name).startsWith("mlops-prod-lite-")).sort()).toEqual([
      "mlops-prod-lite-invocation-5xx-errors",
      "mlops-prod-lite-model-latency-p95",
    ]);
  });

  it("alarms on each endpoint with the environment's latency threshold", () => {
    expect(alarm(json, "mlops-prod-churn-model-latency-p95").threshold).toBe(300_000);
    expect(alarm(json, "mlops-prod-churn-invocation-5xx-errors").threshold).toBe(5);
  });

  it("alarms on the registry database with the environment's thresholds", () => {
    expect(alarm(json, "mlops-prod-mlflow-connections").threshold).toBe(150);
    expect(alarm(json, "mlops-prod-mlflow-free-storage").threshold).toBe(20 * 1024 ** 3);
  });

  it("alarms on idle GPUs of the cluster after the environment's idle minutes", () => {
    expect(alarm(json, "mlops-prod-eks-gpus-idle").evaluation_periods).toBe(9);
  });

  it("shows every alarm on the dashboard", () => {
    const body = JSON.parse(onlyResource(json, "aws_cloudwatch_dashboard").dashboard_body as string) as {
      widgets: { type: string; properties: { alarms?: string[] } }[];
    };
    // Three for each endpoint but the serverless one's two, three for the database, two for the GPUs.
    expect(body.widgets[0].properties.alarms).toHaveLength(10);
  });

  it("gives Alertmanager and Prometheus their roles through Pod Identity", () => {
    expect(grants.map(([namespace, serviceAccount]) => [namespace, serviceAccount])).toEqual([
      ["monitoring", "alertmanager"],
      ["monitoring", "prometheus"],
    ]);
  });

  it("lets only pods of the cluster, in its account, assume Alertmanager's and Prometheus' roles", () => {
    const trustOf = (name: string) => {
      const role = Object.values(resourcesOf(json, "aws_iam_role")).find((r) => r.name === name);
      if (!role) throw new Error(`no role ${name}`);
      return JSON.parse(role.assume_role_policy as string).Statement;
    };
    const trust = [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: { "aws:SourceAccount": "333333333333" },
          ArnEquals: { "aws:SourceArn": "arn:aws:eks:eu-west-1:333333333333:cluster/mlops-prod-eks" },
        },
      },
    ];
    expect(trustOf("mlops-prod-alertmanager")).toEqual(trust);
    expect(trustOf("mlops-prod-prometheus")).toEqual(trust);
  });

  it("lets Alertmanager's role publish to the topic", () => {
    const policies = Object.values(resourcesOf(json, "aws_iam_role_policy"));
    expect(policies.map((p) => p.name)).toEqual(expect.arrayContaining(["publish-mlops-prod-alerts"]));
  });

  it("creates the managed Prometheus workspace in prod", () => {
    expect(onlyResource(json, "aws_prometheus_workspace").alias).toBe("mlops-prod-metrics");
  });
});

describe("cluster monitoring", () => {
  let json: StackJson;
  let text: string;
  beforeAll(() => {
    const stack = new MlopsStack(Testing.app(), { config: configFor("prod"), part: "cluster" });
    addClusterMonitoring(stack, { storageClassName: "gp3-encrypted" });
    text = Testing.synth(stack);
    json = synthStack(stack);
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const values = (name: string): any =>
    parse(
      (Object.values(resourcesOf(json, "helm_release")).find((r) => r.name === name)!.values as string[])[0],
    );

  it("installs kube-prometheus-stack and the DCGM exporter", () => {
    expect(
      Object.values(resourcesOf(json, "helm_release"))
        .map((r) => [r.name, r.version])
        .sort(),
    ).toEqual([
      ["dcgm-exporter", expect.stringMatching(/^\d+\.\d+\.\d+$/)],
      ["kube-prometheus-stack", expect.stringMatching(/^\d+\.\d+\.\d+$/)],
    ]);
  });

  it("sizes Prometheus for the tier", () => {
    expect(values("kube-prometheus-stack").prometheus.prometheusSpec).toMatchObject({
      retention: "30d",
      replicas: 2,
      storageSpec: {
        volumeClaimTemplate: {
          spec: { storageClassName: "gp3-encrypted", resources: { requests: { storage: "200Gi" } } },
        },
      },
      resources: { requests: { cpu: "1", memory: "4Gi" }, limits: { memory: "8Gi" } },
    });
  });

  it("routes alerts to the platform stack's topic by name", () => {
    const receivers = values("kube-prometheus-stack").alertmanager.config.receivers as {
      sns_configs?: { topic_arn: string }[];
    }[];
    expect(receivers.find((r) => r.sns_configs)!.sns_configs![0].topic_arn).toBe(
      "arn:aws:sns:eu-west-1:333333333333:mlops-prod-alerts",
    );
  });

  it("labels the replicas with the EKS cluster's name, so the managed workspace stores one's samples", () => {
    expect(values("kube-prometheus-stack").prometheus.prometheusSpec).toMatchObject({
      replicaExternalLabelName: "__replica__",
      externalLabels: { cluster: "mlops-prod-eks" },
    });
  });

  it("remote-writes to the managed workspace found by alias in prod", () => {
    expect(onlyResource({ resource: json.data } as StackJson, "aws_prometheus_workspaces")).toEqual({
      alias_prefix: "mlops-prod-metrics",
    });
    expect(values("kube-prometheus-stack").prometheus.prometheusSpec.remoteWrite[0].url).toMatch(
      /^https:\/\/aps-workspaces\.eu-west-1\.amazonaws\.com\/workspaces\/\$\{element\(data\.aws_prometheus_workspaces\.\w+\.workspace_ids, 0\)\}\/api\/v1\/remote_write$/,
    );
  });

  it("provisions the dashboards, without MLflow's: prod's registry is SageMaker-managed", () => {
    expect(configFor("prod").modelRegistry.backend).toBe("sagemaker-managed");
    expect(dashboardNames(json)).toEqual([
      "grafana-dashboard-gpu",
      "grafana-dashboard-inference",
      "grafana-dashboard-training-quota",
    ]);
  });

  it("puts no secret value into the synthesized stack", () => {
    expect(text).not.toMatch(/"(secret_string|admin-password|adminPassword)"\s*:\s*"(?!\$\{)/);
    expect(onlyResource(json, "aws_secretsmanager_secret_version").secret_string).toBeUndefined();
  });
});

it("creates the budget and the anomaly subscription after the topic policy that lets them publish", () => {
  const platform = synthEnvironment(configFor("dev")).json.platform;
  const policy = expect.stringMatching(/^aws_sns_topic_policy\.Monitoring_Alerts_Policy_\w+$/);
  expect(onlyResource(platform, "aws_budgets_budget").depends_on).toEqual([policy]);
  expect(onlyResource(platform, "aws_ce_anomaly_subscription").depends_on).toEqual([policy]);
});

describe("Container Insights in the test environment", () => {
  let platform: StackJson;
  beforeAll(() => {
    platform = synthEnvironment(configFor("test", { monitoring: { gpu: { idleMinutes: 30 } } })).json
      .platform;
  });

  const addon = () =>
    Object.values(resourcesOf(platform, "aws_eks_addon")).find(
      (a) => a.addon_name === "amazon-cloudwatch-observability",
    )!;

  it("installs the pinned add-on with Classic Container Insights and GPU metrics", () => {
    expect(addon()).toMatchObject({ cluster_name: expect.stringContaining("aws_eks_cluster") });
    expect(addon().addon_version).toBe("v4.10.3-eksbuild.1");
    expect(JSON.parse(addon().configuration_values as string).agent.config.logs.metrics_collected).toEqual({
      kubernetes: { enhanced_container_insights: true, accelerated_compute_metrics: true },
    });
  });

  it("associates the agent's service account with a role holding CloudWatchAgentServerPolicy", () => {
    const [association] = addon().pod_identity_association as { role_arn: string; service_account: string }[];
    expect(association.service_account).toBe("cloudwatch-agent");
    const roleId = /aws_iam_role\.(\w+)\.arn/.exec(association.role_arn)![1];
    const role = resourcesOf(platform, "aws_iam_role")[roleId];
    expect(role.name).toBe("mlops-test-eks-cloudwatch-agent");
    expect(JSON.parse(role.assume_role_policy as string).Statement[0].Principal).toEqual({
      Service: "pods.eks.amazonaws.com",
    });
    const attachments = Object.values(resourcesOf(platform, "aws_iam_role_policy_attachment")).filter((a) =>
      String(a.role).includes(roleId),
    );
    expect(attachments.map((a) => a.policy_arn)).toEqual([
      "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    ]);
  });

  it("creates the performance log group first, encrypted, with a retention, protected in test", () => {
    const [id, group] = Object.entries(resourcesOf(platform, "aws_cloudwatch_log_group")).find(
      ([, g]) => g.name === "/aws/containerinsights/mlops-test-eks/performance",
    )!;
    expect(group).toMatchObject({
      retention_in_days: 7,
      kms_key_id: expect.stringContaining("aws_kms_key.PlatformKey"),
      lifecycle: { prevent_destroy: true },
    });
    expect(addon().depends_on).toEqual(expect.arrayContaining([`aws_cloudwatch_log_group.${id}`]));
  });

  it("alarms on the environment's EKS cluster from the add-on's metrics", () => {
    expect(alarm(platform, "mlops-test-eks-gpus-idle")).toMatchObject({
      namespace: "ContainerInsights",
      dimensions: { ClusterName: "mlops-test-eks" },
      evaluation_periods: 6,
    });
    expect(alarm(platform, "mlops-test-eks-failed-nodes").metric_name).toBe("cluster_failed_node_count");
  });

  it("shows the cluster's Container Insights widgets on the dashboard", () => {
    const body = onlyResource(platform, "aws_cloudwatch_dashboard").dashboard_body as string;
    expect(body).toContain("node_gpu_utilization");
  });
});

describe("monitoring wired into the dev environment", () => {
  let platform: StackJson;
  let cluster: StackJson;
  beforeAll(() => {
    const { json } = synthEnvironment(configFor("dev"));
    platform = json.platform;
    cluster = json.cluster;
  });

  it("lets the SageMaker endpoint's rollback alarms notify the topic instead of doubling them", () => {
    const topic = expect.stringMatching(/^\$\{aws_sns_topic\.Monitoring_Alerts_\w+\.arn\}$/);
    for (const name of ["mlops-dev-churn-5xx-errors", "mlops-dev-churn-model-latency"]) {
      expect(alarm(platform, name)).toMatchObject({ alarm_actions: [topic], ok_actions: [topic] });
    }
    const names = Object.values(resourcesOf(platform, "aws_cloudwatch_metric_alarm")).map(
      (a) => a.alarm_name,
    );
    // churn is serverless in dev: it publishes no InvocationModelErrors, so it gets no model-error alarm.
    expect(names.filter((name) => String(name).startsWith("mlops-dev-churn-")).sort()).toEqual([
      "mlops-dev-churn-5xx-errors",
      "mlops-dev-churn-model-latency",
    ]);
  });

  it("shows no model-error line for the serverless endpoint on the dashboard", () => {
    expect(configFor("dev").serving.sagemakerEndpoints.churn.serverless).toBeDefined();
    const body = onlyResource(platform, "aws_cloudwatch_dashboard").dashboard_body as string;
    expect(body).toContain("Invocation5XXErrors");
    expect(body).not.toContain("InvocationModelErrors");
  });

  it("rolls the endpoint back on the alarms that notify", () => {
    const endpoint = onlyResource(platform, "aws_sagemaker_endpoint") as {
      deployment_config: { auto_rollback_configuration: { alarms: { alarm_name: string }[] } };
    };
    const rollback = endpoint.deployment_config.auto_rollback_configuration.alarms.map((a) => a.alarm_name);
    const byName = Object.entries(resourcesOf(platform, "aws_cloudwatch_metric_alarm"));
    const referenced = rollback.map((ref) => byName.find(([id]) => ref.includes(`.${id}.`))![1]);
    expect(referenced.map((a) => a.alarm_name)).toEqual([
      "mlops-dev-churn-5xx-errors",
      "mlops-dev-churn-model-latency",
    ]);
    for (const a of referenced) expect(a.alarm_actions).toHaveLength(1);
  });

  it("shows the endpoint's alarms on the dashboard", () => {
    const body = JSON.parse(onlyResource(platform, "aws_cloudwatch_dashboard").dashboard_body as string) as {
      widgets: { properties: { alarms?: string[] } }[];
    };
    expect(body.widgets[0].properties.alarms).toEqual(
      expect.arrayContaining([
        "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:mlops-dev-churn-5xx-errors",
        "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:mlops-dev-churn-model-latency",
      ]),
    );
  });

  it("alarms on the self-hosted registry's database with the tier's thresholds", () => {
    expect(alarm(platform, "mlops-dev-mlflow-free-storage")).toMatchObject({
      dimensions: { DBInstanceIdentifier: "mlops-dev-mlflow" },
      threshold: 2 * 1024 ** 3,
    });
    expect(alarm(platform, "mlops-dev-mlflow-connections").threshold).toBe(50);
    expect(alarm(platform, "mlops-dev-mlflow-cpu-utilization").threshold).toBe(80);
  });

  it("binds Alertmanager's role to its service account in the cluster", () => {
    const associations = Object.values(resourcesOf(platform, "aws_eks_pod_identity_association"));
    expect(associations).toContainEqual(
      expect.objectContaining({ namespace: "monitoring", service_account: "alertmanager" }),
    );
  });

  it("runs Prometheus, Grafana and the DCGM exporter in the monitoring namespace, after it exists", () => {
    const releases = Object.values(resourcesOf(cluster, "helm_release")).filter((r) =>
      ["kube-prometheus-stack", "dcgm-exporter"].includes(r.name as string),
    );
    expect(releases.map((r) => r.namespace)).toEqual(["monitoring", "monitoring"]);
    const stack = releases.find((r) => r.name === "kube-prometheus-stack")!;
    expect(stack.depends_on).toEqual(
      expect.arrayContaining([expect.stringMatching(/^kubernetes_namespace_v1\.MonitoringNamespace/)]),
    );
  });

  it("scrapes the MLflow server: the mlflow ServiceMonitor selects its metrics Service and port", () => {
    const release = Object.values(resourcesOf(cluster, "helm_release")).find(
      (r) => r.name === "kube-prometheus-stack",
    )!;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const monitors = (parse((release.values as string[])[0]) as any).prometheus.additionalServiceMonitors;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const monitor = monitors.find((m: any) => m.name === "mlflow");
    const namespaces = Object.fromEntries(
      Object.entries(resourcesOf(cluster, "kubernetes_namespace_v1")).map(([id, ns]) => [
        id,
        (ns.metadata as { name: string }).name,
      ]),
    );
    const namespaceOf = (reference: string) =>
      namespaces[/kubernetes_namespace_v1\.(\w+)\./.exec(reference)![1]];
    const selected = Object.values(resourcesOf(cluster, "kubernetes_service_v1")).filter((service) => {
      const metadata = service.metadata as { namespace: string; labels?: Record<string, string> };
      return (
        monitor.namespaceSelector.matchNames.includes(namespaceOf(metadata.namespace)) &&
        Object.entries(monitor.selector.matchLabels).every(([k, v]) => metadata.labels?.[k] === v)
      );
    });
    expect(selected.map((service) => (service.metadata as { name: string }).name)).toEqual([
      "mlflow-metrics",
    ]);
    const ports = (selected[0].spec as { port: { name: string }[] }).port.map((port) => port.name);
    expect(ports).toContain(monitor.endpoints[0].port);
  });

  it("lets only Prometheus' namespace reach MLflow's metrics port", () => {
    const policy = Object.values(resourcesOf(cluster, "kubernetes_network_policy_v1")).find(
      (p) => (p.metadata as { name: string }).name === "mlflow",
    )!;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const metrics = (policy.spec as any).ingress.find((rule: any) => rule.ports[0].port === "metrics");
    expect(metrics.from).toEqual([
      { namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "monitoring" } } },
    ]);
  });

  it("provisions the MLflow dashboard with the self-hosted registry", () => {
    expect(configFor("dev").modelRegistry.backend).toBe("self-hosted");
    expect(dashboardNames(cluster)).toContain("grafana-dashboard-mlflow");
  });

  it("keeps Prometheus on the cluster's encrypted gp3 class", () => {
    const stack = Object.values(resourcesOf(cluster, "helm_release")).find(
      (r) => r.name === "kube-prometheus-stack",
    )!;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const values = parse((stack.values as string[])[0]) as any;
    expect(values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName).toMatch(
      /kubernetes_storage_class_v1\.Gp3StorageClass\w*\.metadata\[0\]\.name/,
    );
  });
});

describe.each([
  ["dev", "500m", "1Gi", "2Gi"],
  ["test", "1", "2Gi", "4Gi"],
  ["prod", "1", "4Gi", "8Gi"],
])("Prometheus' resources in %s", (env, cpu, memory, limit) => {
  // The monitoring namespace's LimitRange would otherwise give it 512Mi and a 2Gi limit.
  it("are the tier's: requests, a memory limit and no CPU limit", () => {
    const stack = new MlopsStack(Testing.app(), { config: configFor(env), part: "cluster" });
    const { values } = addClusterMonitoring(stack).stack;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect((values as any).prometheus.prometheusSpec.resources).toEqual({
      requests: { cpu, memory },
      limits: { memory: limit },
    });
  });
});

describe("monitoring.prometheus.resources in the environment file", () => {
  it("are given to Prometheus", () => {
    const resources = { requests: { cpu: "2", memory: "6Gi" }, limits: { memory: "12Gi" } };
    const config = configFor("prod", { monitoring: { prometheus: { resources } } });
    expect(config.monitoring.prometheus.resources).toEqual(resources);
  });

  it("refuse a memory request above the limit, which Kubernetes refuses", () => {
    expect(() =>
      configFor("prod", { monitoring: { prometheus: { resources: { requests: { memory: "10Gi" } } } } }),
    ).toThrow(
      "monitoring.prometheus.resources.requests.memory: exceeds prometheus.resources.limits.memory (8Gi), and Kubernetes refuses a request above its limit",
    );
    expect(() =>
      configFor("dev", { monitoring: { prometheus: { resources: { limits: { memory: "512Mi" } } } } }),
    ).toThrow(/monitoring\.prometheus\.resources\.requests\.memory: exceeds/);
  });

  it("refuse a value that is not a Kubernetes quantity, and a CPU limit", () => {
    expect(() =>
      configFor("dev", { monitoring: { prometheus: { resources: { requests: { cpu: "one" } } } } }),
    ).toThrow(/monitoring\.prometheus\.resources\.requests\.cpu: must be a Kubernetes quantity/);
    expect(() =>
      configFor("dev", { monitoring: { prometheus: { resources: { limits: { cpu: "2" } } } } }),
    ).toThrow(/monitoring\.prometheus\.resources\.limits/);
  });
});

it("provisions the MLflow dashboard in prod when its registry is self-hosted", () => {
  const stack = new MlopsStack(Testing.app(), {
    config: configFor("prod", { modelRegistry: { backend: "self-hosted" } }),
    part: "cluster",
  });
  addClusterMonitoring(stack);
  expect(dashboardNames(synthStack(stack))).toContain("grafana-dashboard-mlflow");
});
