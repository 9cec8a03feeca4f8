import { parse } from "yaml";
import { AlertTopic } from "../../../constructs/monitoring/alert-topic";
import { DcgmExporter } from "../../../constructs/monitoring/dcgm-exporter";
import {
  escapeInterpolation,
  KUBE_PROMETHEUS_STACK_CHART_VERSION,
  KubePrometheusStack,
  type KubePrometheusStackProps,
  type PrometheusResources,
} from "../../../constructs/monitoring/kube-prometheus-stack";
import { resourcesOf, type StackJson } from "../../helpers/synth";
import { LOCATION, synthBare } from "./bare-stack";

const TOPIC = AlertTopic.arnFor(LOCATION, "mlops-dev-alerts");
const BASE: KubePrometheusStackProps = {
  prometheus: { retentionDays: 15, volumeSizeGiB: 50, storageClassName: "gp3-encrypted" },
  alertmanager: { snsTopicArn: TOPIC, region: "eu-west-1" },
  grafana: { adminSecretName: "grafana-admin" },
  alertThresholds: { gpuIdleMinutes: 30, inferenceLatencyP95Ms: 400 },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Values = any;

function release(json: StackJson, name: string): Record<string, unknown> {
  const found = Object.values(resourcesOf(json, "helm_release")).find((r) => r.name === name);
  if (!found) throw new Error(`no release ${name}`);
  return found;
}

function valuesOf(json: StackJson, name: string): Values {
  return parse((release(json, name).values as string[])[0]) as Values;
}

describe("KubePrometheusStack", () => {
  let json: StackJson;
  let values: Values;
  beforeAll(() => {
    json = synthBare((stack) => {
      const monitoring = new KubePrometheusStack(stack, "Monitoring", BASE);
      new DcgmExporter(stack, "Dcgm", { dependsOn: [monitoring.release] });
    });
    values = valuesOf(json, "kube-prometheus-stack");
  });

  it("installs the pinned chart version into the monitoring namespace", () => {
    expect(release(json, "kube-prometheus-stack")).toMatchObject({
      repository: "https://prometheus-community.github.io/helm-charts",
      chart: "kube-prometheus-stack",
      version: KUBE_PROMETHEUS_STACK_CHART_VERSION,
      namespace: "monitoring",
      atomic: true,
    });
    expect(KUBE_PROMETHEUS_STACK_CHART_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("keeps metrics for the retention given on a persistent volume of the encrypted class", () => {
    expect(values.prometheus.prometheusSpec).toMatchObject({
      retention: "15d",
      retentionSize: "40GB",
      storageSpec: {
        volumeClaimTemplate: {
          spec: {
            storageClassName: "gp3-encrypted",
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: "50Gi" } },
          },
        },
      },
    });
  });

  it("requests CPU and memory for Prometheus, with a memory limit and no CPU limit, by default", () => {
    // The chart leaves prometheusSpec.resources empty: the namespace's LimitRange defaults would apply.
    expect(values.prometheus.prometheusSpec.resources).toEqual({
      requests: { cpu: "500m", memory: "1Gi" },
      limits: { memory: "2Gi" },
    });
  });

  it("routes every alert to the environment's SNS topic, signed with SigV4", () => {
    expect(values.alertmanager.enabled).toBe(true);
    expect(values.alertmanager.config.route.receiver).toBe("sns");
    expect(values.alertmanager.config.receivers).toContainEqual({
      name: "sns",
      sns_configs: [
        expect.objectContaining({ topic_arn: TOPIC, sigv4: { region: "eu-west-1" }, send_resolved: true }),
      ],
    });
  });

  it("names the service accounts that Pod Identity roles are bound to", () => {
    expect(values.prometheus.serviceAccount.name).toBe("prometheus");
    expect(values.alertmanager.serviceAccount.name).toBe("alertmanager");
  });

  it("gives Grafana its admin credential from the existing secret, never a default", () => {
    expect(values.grafana.admin).toEqual({
      existingSecret: "grafana-admin",
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    expect(values.grafana.adminPassword).toBeUndefined();
  });

  it("keeps Grafana inside the cluster by default", () => {
    expect(values.grafana.service).toEqual({ type: "ClusterIP" });
    expect(values.grafana.ingress).toEqual({ enabled: false });
    expect(values.grafana["grafana.ini"]["auth.anonymous"]).toEqual({ enabled: false });
  });

  it("loads dashboards from ConfigMaps labelled grafana_dashboard=1", () => {
    expect(values.grafana.sidecar.dashboards).toEqual({
      enabled: true,
      label: "grafana_dashboard",
      labelValue: "1",
    });
  });

  it("creates the platform's PrometheusRule with the thresholds given", () => {
    const groups = values.additionalPrometheusRulesMap["mlops-platform"].groups as {
      rules: { alert: string; expr: string; for: string }[];
    }[];
    const rules = groups.flatMap((group) => group.rules);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        "GpuNodeIdle",
        "GpuXidError",
        "GpuNodeNotReady",
        "InferenceLatencyHigh",
        "InferenceErrorRateHigh",
        "PodCrashLooping",
        "PrometheusStorageNearlyFull",
      ]),
    );
    expect(rules.find((r) => r.alert === "GpuNodeIdle")!.for).toBe("30m");
    expect(rules.find((r) => r.alert === "InferenceLatencyHigh")!.expr).toMatch(/> 0\.4$/);
  });

  it("scrapes MLflow and the inference services by the metrics label", () => {
    expect(values.prometheus.additionalServiceMonitors).toEqual([
      {
        name: "mlflow",
        namespaceSelector: { matchNames: ["mlflow"] },
        selector: { matchLabels: { "mlops.platform/metrics": "true" } },
        endpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
      },
      {
        name: "inference-services",
        namespaceSelector: { matchNames: ["serving"] },
        selector: { matchLabels: { "mlops.platform/metrics": "true" } },
        endpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
      },
    ]);
  });

  it("selects monitors and rules of every release, so workloads can bring their own", () => {
    expect(values.prometheus.prometheusSpec).toMatchObject({
      serviceMonitorSelectorNilUsesHelmValues: false,
      ruleSelectorNilUsesHelmValues: false,
    });
  });

  it("does not remote-write unless asked, nor add the de-duplication labels", () => {
    expect(values.prometheus.prometheusSpec.remoteWrite).toBeUndefined();
    expect(values.prometheus.prometheusSpec.replicaExternalLabelName).toBeUndefined();
    expect(values.prometheus.prometheusSpec.externalLabels).toBeUndefined();
  });

  it("scrapes no control-plane component EKS does not expose, so their rules are not created", () => {
    expect(values.kubeScheduler).toEqual({ enabled: false });
    expect(values.kubeControllerManager).toEqual({ enabled: false });
    expect(values.kubeEtcd).toEqual({ enabled: false });
    // kube-proxy runs on the nodes as an EKS add-on and can be scraped: the chart's default stays.
    expect(values.kubeProxy).toBeUndefined();
  });

  it("installs the DCGM exporter after the stack, whose CRDs its ServiceMonitor needs", () => {
    expect(release(json, "dcgm-exporter").depends_on).toEqual([
      expect.stringMatching(/^helm_release\.Monitoring_\w+$/),
    ]);
  });
});

describe("KubePrometheusStack options", () => {
  const url = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write";
  const remoteWriting = (remoteWrite: NonNullable<KubePrometheusStackProps["prometheus"]["remoteWrite"]>) =>
    valuesOf(
      synthBare((stack) => {
        new KubePrometheusStack(stack, "M", { ...BASE, prometheus: { ...BASE.prometheus, remoteWrite } });
      }),
      "kube-prometheus-stack",
    ).prometheus.prometheusSpec;

  it("remote-writes to the URL given with SigV4", () => {
    expect(remoteWriting({ url, region: "eu-west-1" }).remoteWrite).toEqual([
      expect.objectContaining({ url, sigv4: { region: "eu-west-1" } }),
    ]);
  });

  it("labels remote-written samples so Amazon Managed Prometheus stores one replica's", () => {
    expect(remoteWriting({ url, region: "eu-west-1", clusterLabel: "mlops-dev-eks" })).toMatchObject({
      replicaExternalLabelName: "__replica__",
      externalLabels: { cluster: "mlops-dev-eks" },
    });
  });

  it("labels the replicas with the release's namespace and name when no cluster label is given", () => {
    expect(remoteWriting({ url, region: "eu-west-1" })).toMatchObject({
      replicaExternalLabelName: "__replica__",
      externalLabels: { cluster: "monitoring/kube-prometheus-stack" },
    });
  });

  it("exposes Grafana on an internal NLB of EKS's built-in cloud controller only when asked", () => {
    const json = synthBare((stack) => {
      new KubePrometheusStack(stack, "M", {
        ...BASE,
        grafana: { adminSecretName: "g", exposure: "internal-load-balancer" },
      });
    });
    // Type "external" and "nlb-target-type" are served only by the AWS Load Balancer Controller.
    expect(valuesOf(json, "kube-prometheus-stack").grafana.service).toEqual({
      type: "LoadBalancer",
      annotations: {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
      },
    });
  });

  const build = (props: Partial<KubePrometheusStackProps>) => () =>
    synthBare((stack) => new KubePrometheusStack(stack, "M", { ...BASE, ...props }));
  const withResources = (resources: PrometheusResources) =>
    build({ prometheus: { ...BASE.prometheus, resources } });

  it("gives Prometheus the resources given, the others at their defaults", () => {
    const json = withResources({ requests: { memory: "4Gi" }, limits: { memory: "8Gi" } })();
    expect(valuesOf(json, "kube-prometheus-stack").prometheus.prometheusSpec.resources).toEqual({
      requests: { cpu: "500m", memory: "4Gi" },
      limits: { memory: "8Gi" },
    });
  });

  it("rejects a memory request above its limit, which Kubernetes refuses", () => {
    expect(withResources({ requests: { memory: "4Gi" } })).toThrow(
      /prometheus\.resources\.requests\.memory \(4Gi\) exceeds limits\.memory \(2Gi\)/,
    );
    expect(withResources({ requests: { memory: "2049Mi" }, limits: { memory: "2Gi" } })).toThrow(
      /exceeds limits\.memory/,
    );
    expect(withResources({ requests: { memory: "2048Mi" }, limits: { memory: "2Gi" } })).not.toThrow();
  });

  it("rejects a resource that is not a Kubernetes quantity", () => {
    expect(withResources({ requests: { cpu: "1 core" } })).toThrow(
      /prometheus\.resources\.requests\.cpu "1 core" must be a Kubernetes quantity/,
    );
    expect(withResources({ limits: { memory: "8GB" } })).toThrow(
      /prometheus\.resources\.limits\.memory "8GB" must be a Kubernetes quantity/,
    );
  });

  it("rejects a volume too small to hold metrics", () => {
    expect(build({ prometheus: { retentionDays: 1, volumeSizeGiB: 1 } })).toThrow(
      /volumeSizeGiB must be a whole number of GiB, at least 5/,
    );
  });

  it("rejects an alert target that is not an SNS topic ARN", () => {
    expect(build({ alertmanager: { snsTopicArn: "mlops-dev-alerts", region: "eu-west-1" } })).toThrow(
      /snsTopicArn "mlops-dev-alerts" is not an SNS topic ARN/,
    );
  });
});

describe("escapeInterpolation", () => {
  it("escapes Terraform interpolation and directives but keeps cdktf tokens", () => {
    expect(escapeInterpolation("${datasource} %{if} ${TfToken[TOKEN.1]}")).toBe(
      "$${datasource} %%{if} ${TfToken[TOKEN.1]}",
    );
  });
});
