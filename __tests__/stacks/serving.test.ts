import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { TerraformStack, Testing } from "cdktf";
import { parse } from "yaml";
import { Naming } from "../../constructs/core/naming";
import {
  METRICS_LABEL,
  METRICS_LABEL_VALUE,
  METRICS_PORT_NAME,
} from "../../constructs/monitoring/conventions";
import type { EnvironmentConfig } from "../../environments/schema";
import {
  addInferenceServiceRoles,
  addInferenceServices,
  dataNames,
  pascalCase,
  SageMakerEndpoints,
} from "../../stacks/serving";
import { configFor, onlyResource, resourcesOf, synthEnvironment, type StackJson } from "../helpers/synth";

function synthServing(config: EnvironmentConfig): { platform: StackJson; cluster: StackJson } {
  const app = Testing.app();
  const naming = new Naming({ project: config.project, environment: config.name });
  const location = { accountId: config.aws.accountId, region: config.aws.region };
  const names = dataNames(naming, location);
  const platform = new TerraformStack(app, "platform");
  new SageMakerEndpoints(platform, "SageMaker", {
    config,
    naming,
    location,
    names,
    vpcId: "vpc-1",
    privateSubnetIds: ["subnet-a", "subnet-b"],
    encryptionKeyArn: "arn:aws:kms:eu-west-1:333333333333:key/platform",
  });
  const cluster = {
    clusterArn: `arn:aws:eks:${location.region}:${location.accountId}:cluster/${naming.prefix}-eks`,
    grantServiceAccount: (namespace: string, serviceAccount: string, role: { roleArn: string }) =>
      new EksPodIdentityAssociation(platform, `PodIdentity-${namespace}-${serviceAccount}`, {
        clusterName: `${naming.prefix}-eks`,
        namespace,
        serviceAccount,
        roleArn: role.roleArn,
      }),
  };
  addInferenceServiceRoles(platform, { config, naming, location, names, cluster });
  const clusterStack = new TerraformStack(app, "cluster");
  addInferenceServices(clusterStack, {
    config,
    location,
    names,
    namespace: "serving",
    priorityClassName: "serving",
  });
  return {
    platform: JSON.parse(Testing.synth(platform)) as StackJson,
    cluster: JSON.parse(Testing.synth(clusterStack)) as StackJson,
  };
}

describe("serving wiring for dev", () => {
  let platform: StackJson;
  let cluster: StackJson;
  beforeAll(() => ({ platform, cluster } = synthServing(configFor("dev"))));

  test("the dev endpoint is serverless, without a security group", () => {
    const config = onlyResource(platform, "aws_sagemaker_endpoint_configuration");
    expect((config.production_variants as Record<string, unknown>[])[0].serverless_config).toEqual({
      memory_size_in_mb: 2048,
      max_concurrency: 5,
    });
    expect(resourcesOf(platform, "aws_security_group")).toEqual({});
  });

  test("the model comes from the environment's ECR repository and model-artifacts bucket", () => {
    expect(onlyResource(platform, "aws_sagemaker_model").primary_container).toMatchObject({
      image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-dev-inference:v1.0.0",
      model_data_url: "s3://mlops-dev-model-artifacts-111111111111/churn/v1/model.tar.gz",
    });
  });

  test("the inference service runs the pinned image with one GPU in the serving namespace", () => {
    const deployment = onlyResource(cluster, "kubernetes_deployment_v1") as {
      metadata: Record<string, unknown>;
      spec: { template: { spec: { container: Record<string, unknown>[]; priority_class_name: string } } };
    };
    expect(deployment.metadata).toMatchObject({ name: "churn-gpu", namespace: "serving" });
    const container = deployment.spec.template.spec.container[0];
    expect(container.image).toBe("111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-dev-inference:v1.0.0");
    expect((container.resources as Record<string, Record<string, string>>).limits["nvidia.com/gpu"]).toBe(
      "1",
    );
    expect(deployment.spec.template.spec.priority_class_name).toBe("serving");
  });

  test("the inference service's role reads its model prefix and is bound to its service account", () => {
    const roleId = Object.entries(resourcesOf(platform, "aws_iam_role")).find(
      ([, r]) => r.name === "mlops-dev-serving-churn-gpu",
    )![0];
    const policy = Object.values(resourcesOf(platform, "aws_iam_role_policy")).find(
      (p) => p.role === `\${aws_iam_role.${roleId}.name}`,
    )!;
    const statements = (
      JSON.parse(policy.policy as string) as {
        Statement: { Action: string | string[]; Resource: string; Condition?: unknown }[];
      }
    ).Statement;
    const bucket = "arn:aws:s3:::mlops-dev-model-artifacts-111111111111";
    const s3 = statements.filter((st) => [st.Action].flat().some((action) => action.startsWith("s3:")));
    // Objects of the model's prefix only; the bucket itself only to list that prefix.
    expect(s3).toEqual([
      expect.objectContaining({
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: `${bucket}/churn/v1/*`,
      }),
      expect.objectContaining({
        Action: "s3:ListBucket",
        Resource: bucket,
        Condition: { StringLike: { "s3:prefix": ["churn/v1", "churn/v1/*"] } },
      }),
    ]);
    expect(onlyResource(platform, "aws_eks_pod_identity_association")).toMatchObject({
      cluster_name: "mlops-dev-eks",
      namespace: "serving",
      service_account: "churn-gpu",
    });
  });

  test("the inference service's role is trusted by pods of the cluster it is bound in only", () => {
    const role = Object.values(resourcesOf(platform, "aws_iam_role")).find(
      (r) => r.name === "mlops-dev-serving-churn-gpu",
    )!;
    expect(JSON.parse(role.assume_role_policy as string).Statement[0].Condition).toEqual({
      StringEquals: { "aws:SourceAccount": "111111111111" },
      ArnEquals: { "aws:SourceArn": "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev-eks" },
    });
  });
});

describe("serving wiring for prod", () => {
  let platform: StackJson;
  let cluster: StackJson;
  beforeAll(() => ({ platform, cluster } = synthServing(configFor("prod"))));

  test("the endpoint runs at least 2 instances in the private subnets and autoscales to 6", () => {
    const config = onlyResource(platform, "aws_sagemaker_endpoint_configuration");
    expect((config.production_variants as Record<string, unknown>[])[0]).toMatchObject({
      instance_type: "ml.m5.large",
      initial_instance_count: 2,
    });
    expect(onlyResource(platform, "aws_appautoscaling_target")).toMatchObject({
      min_capacity: 2,
      max_capacity: 6,
    });
    expect(onlyResource(platform, "aws_sagemaker_model").vpc_config).toMatchObject({
      subnets: ["subnet-a", "subnet-b"],
    });
  });

  test("the endpoint deploys by canary and rolls back on its alarms", () => {
    const deployment = onlyResource(platform, "aws_sagemaker_endpoint").deployment_config as Record<
      string,
      Record<string, unknown>
    >;
    expect(deployment.blue_green_update_policy).toMatchObject({
      traffic_routing_configuration: { type: "CANARY", canary_size: { type: "CAPACITY_PERCENT", value: 10 } },
      termination_wait_in_seconds: 600,
    });
    expect((deployment.auto_rollback_configuration.alarms as unknown[]).length).toBe(2);
  });

  test("the endpoint and its logs are protected from destruction", () => {
    expect(onlyResource(platform, "aws_sagemaker_endpoint").lifecycle).toEqual({ prevent_destroy: true });
    expect(onlyResource(platform, "aws_cloudwatch_log_group")).toMatchObject({
      retention_in_days: 365,
      lifecycle: { prevent_destroy: true },
    });
  });

  test("captures 10 % of traffic to the raw bucket and monitors it", () => {
    expect(onlyResource(platform, "aws_sagemaker_endpoint_configuration").data_capture_config).toMatchObject({
      initial_sampling_percentage: 10,
      destination_s3_uri: "s3://mlops-prod-raw-333333333333/data-capture/mlops-prod-churn",
    });
    expect(Object.keys(resourcesOf(platform, "aws_sagemaker_monitoring_schedule"))).toHaveLength(1);
  });

  test("the security group allows no inbound traffic and HTTPS out only, to any address (NAT included)", () => {
    expect(onlyResource(platform, "aws_security_group").ingress).toBeUndefined();
    const egress = onlyResource(platform, "aws_vpc_security_group_egress_rule");
    expect(egress).toMatchObject({
      from_port: 443,
      to_port: 443,
      ip_protocol: "tcp",
      cidr_ipv4: "0.0.0.0/0",
    });
    expect(egress.description).toMatch(/through the NAT gateway/);
  });

  test("the inference service keeps 2 replicas spread across zones", () => {
    expect(onlyResource(cluster, "kubernetes_horizontal_pod_autoscaler_v2").spec).toMatchObject({
      min_replicas: 2,
      max_replicas: 4,
    });
    const spec = (
      onlyResource(cluster, "kubernetes_deployment_v1") as {
        spec: { template: { spec: Record<string, unknown> } };
      }
    ).spec.template.spec;
    expect(spec.topology_spread_constraint).toContainEqual(
      expect.objectContaining({ topology_key: "topology.kubernetes.io/zone" }),
    );
  });
});

test("construct IDs are the environment file's names in PascalCase", () => {
  expect(pascalCase("churn-gpu")).toBe("ChurnGpu");
  expect(pascalCase("fraud")).toBe("Fraud");
});

describe("serving in the environment's stacks", () => {
  let dev: ReturnType<typeof synthEnvironment>["json"];
  let prod: ReturnType<typeof synthEnvironment>["json"];
  beforeAll(() => {
    dev = synthEnvironment(configFor("dev"), { offline: true }).json;
    prod = synthEnvironment(configFor("prod"), { offline: true }).json;
  });

  test("each environment's inference service role is trusted by pods of that environment's cluster only", () => {
    for (const [stacks, account, env] of [
      [dev, "111111111111", "dev"],
      [prod, "333333333333", "prod"],
    ] as const) {
      const role = Object.values(resourcesOf(stacks.platform, "aws_iam_role")).find(
        (r) => r.name === `mlops-${env}-serving-churn-gpu`,
      )!;
      expect(JSON.parse(role.assume_role_policy as string).Statement).toEqual([
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: {
            StringEquals: { "aws:SourceAccount": account },
            ArnEquals: { "aws:SourceArn": `arn:aws:eks:eu-west-1:${account}:cluster/mlops-${env}-eks` },
          },
        },
      ]);
    }
  });

  test("dev's platform stack serves one serverless endpoint", () => {
    const configs = Object.values(resourcesOf(dev.platform, "aws_sagemaker_endpoint_configuration"));
    expect(configs).toHaveLength(1);
    expect((configs[0].production_variants as Record<string, unknown>[])[0].serverless_config).toBeDefined();
  });

  test("prod's endpoint runs in the network's private subnets, encrypted with the platform key", () => {
    const model = onlyResource(prod.platform, "aws_sagemaker_model") as { vpc_config: { subnets: string[] } };
    const privateSubnets = Object.keys(resourcesOf(prod.platform, "aws_subnet")).filter((id) =>
      id.includes("Private"),
    );
    expect(model.vpc_config.subnets).toEqual(privateSubnets.map((id) => `\${aws_subnet.${id}.id}`));
    // The platform key is the one behind alias/<project>-<env>-platform (the stack has other keys too).
    const alias = Object.values(resourcesOf(prod.platform, "aws_kms_alias")).find(
      (a) => a.name === "alias/mlops-prod-platform",
    )!;
    const keyId = /^\$\{aws_kms_key\.(\w+)\.key_id\}$/.exec(alias.target_key_id as string)![1];
    expect(Object.keys(resourcesOf(prod.platform, "aws_kms_key")).length).toBeGreaterThan(1);
    expect(onlyResource(prod.platform, "aws_sagemaker_endpoint_configuration").kms_key_arn).toBe(
      `\${aws_kms_key.${keyId}.arn}`,
    );
  });

  test("prod's endpoint scales from 2 instances and rolls back on its own 5XX and latency alarms", () => {
    expect(onlyResource(prod.platform, "aws_appautoscaling_target")).toMatchObject({ min_capacity: 2 });
    const endpoint = onlyResource(prod.platform, "aws_sagemaker_endpoint") as {
      name: string;
      deployment_config: { auto_rollback_configuration: { alarms: { alarm_name: string }[] } };
    };
    const alarms = resourcesOf(prod.platform, "aws_cloudwatch_metric_alarm");
    const rollback = endpoint.deployment_config.auto_rollback_configuration.alarms.map(({ alarm_name }) => {
      const id = /^\$\{aws_cloudwatch_metric_alarm\.(\w+)\.alarm_name\}$/.exec(alarm_name)![1];
      return alarms[id] as { alarm_name: string; metric_name: string; dimensions: { EndpointName: string } };
    });
    expect(rollback.map((alarm) => [alarm.alarm_name, alarm.metric_name])).toEqual([
      ["mlops-prod-churn-5xx-errors", "Invocation5XXErrors"],
      ["mlops-prod-churn-model-latency", "ModelLatency"],
    ]);
    for (const alarm of rollback) expect(alarm.dimensions.EndpointName).toBe(endpoint.name);
  });

  test("the cluster stack runs the inference service in the serving namespace with the serving priority", () => {
    const deployment = onlyResource(prod.cluster, "kubernetes_deployment_v1") as {
      metadata: { namespace: string };
      spec: { template: { spec: { priority_class_name: string } } };
    };
    const namespaceId = Object.entries(resourcesOf(prod.cluster, "kubernetes_namespace_v1")).find(
      ([, ns]) => (ns.metadata as { name: string }).name === "serving",
    )![0];
    expect(deployment.metadata.namespace).toBe(`\${kubernetes_namespace_v1.${namespaceId}.metadata[0].name}`);
    expect(deployment.spec.template.spec.priority_class_name).toMatch(
      /^\$\{kubernetes_priority_class_v1\..*\.metadata\[0\]\.name\}$/,
    );
  });

  test("the inference-services ServiceMonitor selects the inference service's Service and port", () => {
    const release = Object.values(resourcesOf(prod.cluster, "helm_release")).find(
      (r) => r.name === "kube-prometheus-stack",
    )!;
    const monitor = (
      parse((release.values as string[])[0]) as {
        prometheus: {
          additionalServiceMonitors: {
            name: string;
            namespaceSelector: { matchNames: string[] };
            selector: { matchLabels: Record<string, string> };
            endpoints: { port: string }[];
          }[];
        };
      }
    ).prometheus.additionalServiceMonitors.find((m) => m.name === "inference-services")!;
    const namespaces = Object.fromEntries(
      Object.entries(resourcesOf(prod.cluster, "kubernetes_namespace_v1")).map(([id, ns]) => [
        id,
        (ns.metadata as { name: string }).name,
      ]),
    );
    const selected = Object.values(resourcesOf(prod.cluster, "kubernetes_service_v1")).filter((service) => {
      const metadata = service.metadata as { namespace: string; labels?: Record<string, string> };
      const namespace = namespaces[/kubernetes_namespace_v1\.(\w+)\./.exec(metadata.namespace)?.[1] ?? ""];
      return (
        monitor.namespaceSelector.matchNames.includes(namespace) &&
        Object.entries(monitor.selector.matchLabels).every(([k, v]) => metadata.labels?.[k] === v)
      );
    });
    expect(selected.map((service) => (service.metadata as { name: string }).name)).toEqual(["churn-gpu"]);
    const ports = (selected[0].spec as { port: { name: string }[] }).port.map((port) => port.name);
    expect(ports).toContain(monitor.endpoints[0].port);
  });

  test("the service's role in the platform stack is bound to the service account the cluster stack creates", () => {
    const association = Object.values(resourcesOf(prod.platform, "aws_eks_pod_identity_association")).find(
      (a) => a.namespace === "serving",
    );
    expect(association).toMatchObject({ service_account: "churn-gpu" });
    const accounts = Object.values(resourcesOf(prod.cluster, "kubernetes_service_account_v1")).map(
      (a) => a.metadata as { name: string; namespace: string },
    );
    expect(accounts).toContainEqual(expect.objectContaining({ name: "churn-gpu" }));
  });
});

describe("serving wiring of metricsPort", () => {
  type Service = {
    metadata: { labels: Record<string, string> };
    spec: { port: { name: string; port: number; target_port: string }[] };
  };
  const withMetricsPort = (metricsPort: unknown) => {
    const { cluster } = synthServing(
      configFor("dev", { serving: { kubernetesServices: { "churn-gpu": { metricsPort } } } }),
    );
    const deployment = onlyResource(cluster, "kubernetes_deployment_v1") as {
      spec: { template: { spec: { container: { port: { name: string; container_port: number }[] }[] } } };
    };
    return {
      service: onlyResource(cluster, "kubernetes_service_v1") as Service,
      containerPorts: deployment.spec.template.spec.container[0].port,
    };
  };

  test("by default the Service carries the metrics label and a metrics port onto the serving port", () => {
    const { cluster } = synthServing(configFor("dev"));
    const service = onlyResource(cluster, "kubernetes_service_v1") as Service;
    expect(service.metadata.labels[METRICS_LABEL]).toBe(METRICS_LABEL_VALUE);
    expect(service.spec.port.find((p) => p.name === METRICS_PORT_NAME)).toMatchObject({
      port: 8080,
      target_port: "http",
    });
  });

  test("a separate metrics port reaches the container as a port named metrics", () => {
    const { service, containerPorts } = withMetricsPort(9102);
    expect(service.spec.port.find((p) => p.name === METRICS_PORT_NAME)).toMatchObject({
      port: 9102,
      target_port: METRICS_PORT_NAME,
    });
    expect(containerPorts).toContainEqual(
      expect.objectContaining({ name: METRICS_PORT_NAME, container_port: 9102 }),
    );
  });

  test("false leaves the service unscraped", () => {
    const { service } = withMetricsPort(false);
    expect(service.metadata.labels).not.toHaveProperty(METRICS_LABEL);
    expect(service.spec.port.map((p) => p.name)).toEqual(["http"]);
  });
});
