import { TerraformStack, Testing } from "cdktf";
import { Naming } from "../../../constructs/core/naming";
import {
  hasInstanceStorage,
  SageMakerEndpoint,
  type SageMakerEndpointProps,
} from "../../../constructs/serving/sagemaker-endpoint";
import type { Suppression } from "../../../constructs/policy/engine";
import { PolicySuppressions } from "../../../constructs/policy/policy-suppressions";
import type { PolicyDocument } from "../../../constructs/core/iam";
import { allows } from "../../helpers/constructs";
import { onlyResource, resourcesOf, type StackJson } from "../../helpers/synth";

const naming = new Naming({ project: "mlops", environment: "dev" });
const location = { accountId: "111111111111", region: "eu-west-1" };
const KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/platform";

function props(overrides: Partial<SageMakerEndpointProps> = {}): SageMakerEndpointProps {
  return {
    name: "churn",
    naming,
    location,
    image: { repositoryName: "mlops-dev-inference", tag: "v1.4.2" },
    modelData: {
      bucketName: "mlops-dev-model-artifacts",
      prefix: "churn/v12",
      key: { aliasName: "mlops-dev-data" },
    },
    instances: { instanceType: "ml.m5.large", minInstanceCount: 2, maxInstanceCount: 4 },
    vpc: { subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-serving"] },
    encryptionKey: { keyArn: KEY_ARN },
    dataCapture: {
      bucketName: "mlops-dev-data-capture",
      samplingPercentage: 20,
      key: { aliasName: "mlops-dev-data" },
    },
    ...overrides,
  };
}

function synth(overrides: Partial<SageMakerEndpointProps> = {}): StackJson {
  const stack = new TerraformStack(Testing.app(), "test");
  new SageMakerEndpoint(stack, "Churn", props(overrides));
  return JSON.parse(Testing.synth(stack)) as StackJson;
}

type Statement = {
  Sid: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};

function statementsOf(json: StackJson, policyName: string): Statement[] {
  const policy = Object.values(resourcesOf(json, "aws_iam_role_policy")).find((p) => p.name === policyName)!;
  return (JSON.parse(policy.policy as string) as { Statement: Statement[] }).Statement;
}

function statement(statements: Statement[], sid: string): Statement {
  const found = statements.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
}

function build(overrides: Partial<SageMakerEndpointProps>): () => void {
  return () => synth(overrides);
}

/** The endpoint's blue/green update policy. */
function blueGreenPolicy(json: StackJson): Record<string, unknown> {
  const config = onlyResource(json, "aws_sagemaker_endpoint").deployment_config as Record<
    string,
    Record<string, unknown>
  >;
  return config.blue_green_update_policy;
}

describe("SageMakerEndpoint with instances (defaults)", () => {
  let json: StackJson;
  let model: Record<string, unknown>;
  let config: Record<string, unknown>;
  let endpoint: Record<string, unknown>;
  let statements: Statement[];
  beforeAll(() => {
    json = synth();
    model = onlyResource(json, "aws_sagemaker_model");
    config = onlyResource(json, "aws_sagemaker_endpoint_configuration");
    endpoint = onlyResource(json, "aws_sagemaker_endpoint");
    statements = statementsOf(json, "serve-model");
  });

  test("the model runs the pinned image of our ECR repository", () => {
    expect(model.primary_container).toMatchObject({
      image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-dev-inference:v1.4.2",
    });
  });

  test("the model data comes from the model's prefix of the model-artifacts bucket", () => {
    expect(model.primary_container).toMatchObject({
      model_data_url: "s3://mlops-dev-model-artifacts/churn/v12/model.tar.gz",
    });
  });

  test("the model runs in the private subnets with the security group", () => {
    expect(model.vpc_config).toEqual({
      subnets: ["subnet-a", "subnet-b"],
      security_group_ids: ["sg-serving"],
    });
  });

  test("network isolation is on by default", () => {
    expect(model.enable_network_isolation).toBe(true);
  });

  test("the model is created before the old one is destroyed, under a name that hashes its definition", () => {
    expect(model.lifecycle).toEqual({ create_before_destroy: true });
    expect(model.name).toMatch(/^mlops-dev-churn-\$\{substr\(sha1\(jsonencode\(/);
  });

  test("the execution role has a deterministic name and trusts SageMaker of this account only", () => {
    const role = onlyResource(json, "aws_iam_role");
    expect(role.name).toBe("mlops-dev-sagemaker-churn");
    expect(SageMakerEndpoint.executionRoleName(naming, "churn")).toBe("mlops-dev-sagemaker-churn");
    expect(JSON.parse(role.assume_role_policy as string).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "sagemaker.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": "111111111111" } },
      },
    ]);
    expect(model.execution_role_arn).toBe("arn:aws:iam::111111111111:role/mlops-dev-sagemaker-churn");
  });

  test("the execution role reads objects under the model's prefix only", () => {
    expect(statement(statements, "ReadModelArtifacts").Resource).toBe(
      "arn:aws:s3:::mlops-dev-model-artifacts/churn/v12/*",
    );
    expect(statement(statements, "ListModelArtifacts").Condition).toEqual({
      StringLike: { "s3:prefix": ["churn/v12", "churn/v12/*"] },
    });
    const objectResources = statements
      .flatMap((s) => [s.Resource].flat())
      .filter((resource) => resource.startsWith("arn:aws:s3:::mlops-dev-model-artifacts/"));
    expect(objectResources).toEqual(["arn:aws:s3:::mlops-dev-model-artifacts/churn/v12/*"]);
  });

  test("the execution role decrypts with the data key through S3 only", () => {
    expect(statement(statements, "DecryptModelArtifacts")).toEqual({
      Sid: "DecryptModelArtifacts",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: "arn:aws:kms:eu-west-1:111111111111:key/*",
      Condition: {
        StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
        "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/mlops-dev-data" },
      },
    });
  });

  test("the execution role pulls from its repository only; the token call is account-wide", () => {
    expect(statement(statements, "PullModelImage")).toMatchObject({
      Action: expect.arrayContaining(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]),
      Resource: "arn:aws:ecr:eu-west-1:111111111111:repository/mlops-dev-inference",
    });
    expect(statement(statements, "GetRegistryToken")).toMatchObject({
      Action: "ecr:GetAuthorizationToken",
      Resource: "*",
    });
  });

  test("the execution role writes to the endpoint's log group only", () => {
    expect(statement(statements, "WriteEndpointLogs").Resource).toEqual([
      "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/sagemaker/Endpoints/mlops-dev-churn",
      "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/sagemaker/Endpoints/mlops-dev-churn:*",
    ]);
  });

  test("the execution role creates network interfaces in the given subnets only", () => {
    expect(statement(statements, "CreateNetworkInterfacesInPrivateSubnets").Resource).toEqual([
      "arn:aws:ec2:eu-west-1:111111111111:network-interface/*",
      "arn:aws:ec2:eu-west-1:111111111111:subnet/subnet-a",
      "arn:aws:ec2:eu-west-1:111111111111:subnet/subnet-b",
      "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-serving",
    ]);
  });

  test("the log group is the endpoint's, with a retention", () => {
    expect(onlyResource(json, "aws_cloudwatch_log_group")).toMatchObject({
      name: "/aws/sagemaker/Endpoints/mlops-dev-churn",
      retention_in_days: 90,
    });
  });

  test("the endpoint configuration is named by prefix and created before the old one is destroyed", () => {
    expect(config.name_prefix).toBe("mlops-dev-churn-");
    expect(config.name).toBeUndefined();
    expect(config.lifecycle).toEqual({ create_before_destroy: true });
  });

  test("the endpoint configuration encrypts volumes with the platform key", () => {
    expect(config.kms_key_arn).toBe(KEY_ARN);
  });

  test("the one variant has a fixed name and starts with the minimum instance count", () => {
    expect(config.production_variants).toEqual([
      expect.objectContaining({
        variant_name: "primary",
        instance_type: "ml.m5.large",
        initial_instance_count: 2,
      }),
    ]);
  });

  test("requests and responses are captured, encrypted, to the data bucket", () => {
    expect(config.data_capture_config).toEqual({
      enable_capture: true,
      initial_sampling_percentage: 20,
      destination_s3_uri: "s3://mlops-dev-data-capture/data-capture/mlops-dev-churn",
      kms_key_id: "arn:aws:kms:eu-west-1:111111111111:alias/mlops-dev-data",
      capture_options: [{ capture_mode: "Input" }, { capture_mode: "Output" }],
      capture_content_type_header: {
        json_content_types: ["application/json"],
        csv_content_types: ["text/csv"],
      },
    });
    expect(statement(statements, "WriteDataCapture").Resource).toBe(
      "arn:aws:s3:::mlops-dev-data-capture/data-capture/mlops-dev-churn/*",
    );
  });

  test("the endpoint deploys blue/green all at once with a baking period", () => {
    expect(endpoint.name).toBe("mlops-dev-churn");
    expect((endpoint.deployment_config as Record<string, unknown>).blue_green_update_policy).toEqual({
      traffic_routing_configuration: { type: "ALL_AT_ONCE", wait_interval_in_seconds: 300 },
      termination_wait_in_seconds: 600,
    });
  });

  test("the endpoint rolls back on its 5XX and latency alarms", () => {
    const alarms = resourcesOf(json, "aws_cloudwatch_metric_alarm");
    const rollback = (
      endpoint.deployment_config as { auto_rollback_configuration: { alarms: { alarm_name: string }[] } }
    ).auto_rollback_configuration.alarms;
    expect(rollback.map((alarm) => alarm.alarm_name)).toEqual(
      Object.keys(alarms).map((id) => `\${aws_cloudwatch_metric_alarm.${id}.alarm_name}`),
    );
    expect(Object.values(alarms).map((alarm) => [alarm.metric_name, alarm.alarm_name])).toEqual([
      ["Invocation5XXErrors", "mlops-dev-churn-5xx-errors"],
      ["ModelLatency", "mlops-dev-churn-model-latency"],
    ]);
  });

  test("the latency alarm watches p99 in microseconds", () => {
    const latency = Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm")).find(
      (a) => a.metric_name === "ModelLatency",
    )!;
    expect(latency).toMatchObject({
      extended_statistic: "p99",
      threshold: 2_000_000,
      dimensions: { EndpointName: "mlops-dev-churn", VariantName: "primary" },
    });
  });

  test("autoscaling tracks invocations per instance between min and max", () => {
    expect(onlyResource(json, "aws_appautoscaling_target")).toMatchObject({
      service_namespace: "sagemaker",
      scalable_dimension: "sagemaker:variant:DesiredInstanceCount",
      resource_id: "endpoint/mlops-dev-churn/variant/primary",
      min_capacity: 2,
      max_capacity: 4,
    });
    expect(onlyResource(json, "aws_appautoscaling_policy")).toMatchObject({
      policy_type: "TargetTrackingScaling",
      target_tracking_scaling_policy_configuration: {
        target_value: 100,
        predefined_metric_specification: { predefined_metric_type: "SageMakerVariantInvocationsPerInstance" },
      },
    });
  });

  test("nothing is protected from destruction by default", () => {
    expect(endpoint.lifecycle).toBeUndefined();
  });

  test("no monitoring is created by default", () => {
    expect(resourcesOf(json, "aws_sagemaker_monitoring_schedule")).toEqual({});
  });
});

describe("SageMakerEndpoint update", () => {
  let v1: StackJson;
  let v2: StackJson;
  beforeAll(() => {
    v1 = synth();
    v2 = synth({ image: { repositoryName: "mlops-dev-inference", tag: "v1.5.0" } });
  });

  test("a new image gives the model a new name", () => {
    const name1 = onlyResource(v1, "aws_sagemaker_model").name as string;
    const name2 = onlyResource(v2, "aws_sagemaker_model").name as string;
    expect(name2).not.toEqual(name1);
    expect(name2).toContain("mlops-dev-inference:v1.5.0");
  });

  test("the configuration refers to the model, so it is replaced under a new prefixed name", () => {
    for (const json of [v1, v2]) {
      const config = onlyResource(json, "aws_sagemaker_endpoint_configuration");
      const modelId = Object.keys(resourcesOf(json, "aws_sagemaker_model"))[0];
      expect((config.production_variants as { model_name: string }[])[0].model_name).toBe(
        `\${aws_sagemaker_model.${modelId}.name}`,
      );
      expect(config).toMatchObject({
        name_prefix: "mlops-dev-churn-",
        lifecycle: { create_before_destroy: true },
      });
      expect(config.name).toBeUndefined();
    }
  });

  test("the endpoint follows the configuration's generated name and keeps its own", () => {
    const endpoint = onlyResource(v2, "aws_sagemaker_endpoint");
    const configId = Object.keys(resourcesOf(v2, "aws_sagemaker_endpoint_configuration"))[0];
    expect(endpoint.endpoint_config_name).toBe(`\${aws_sagemaker_endpoint_configuration.${configId}.name}`);
    expect(endpoint.name).toBe(onlyResource(v1, "aws_sagemaker_endpoint").name);
  });
});

describe("SageMakerEndpoint with the longest name", () => {
  // 63 characters less the 26 the provider appends to name_prefix (terraform validate refuses more).
  const MAX_NAME_PREFIX = 37;
  const prefixOf = (name: string) =>
    onlyResource(synth({ name }), "aws_sagemaker_endpoint_configuration").name_prefix as string;

  test("keeps the endpoint configuration's name_prefix within the provider's limit", () => {
    const prefix = prefixOf("a".repeat(32));
    expect(prefix.length).toBeLessThanOrEqual(MAX_NAME_PREFIX);
    expect(prefix).toMatch(/^mlops-dev-a+-[0-9a-f]{8}-$/);
  });

  test("shortens only a prefix that would be too long", () => {
    const fits = "b".repeat(MAX_NAME_PREFIX - "mlops-dev--".length);
    expect(prefixOf(fits)).toBe(`mlops-dev-${fits}-`);
    expect(prefixOf(`${fits}c`)).toHaveLength(MAX_NAME_PREFIX);
    expect(prefixOf(`${fits}c`)).not.toContain(`${fits}c`);
  });
});

describe("SageMakerEndpoint options", () => {
  test("preventDestroy protects the endpoint and its logs, never the replaceable model and configuration", () => {
    const json = synth({ preventDestroy: true });
    expect(onlyResource(json, "aws_sagemaker_endpoint").lifecycle).toEqual({ prevent_destroy: true });
    expect(onlyResource(json, "aws_cloudwatch_log_group").lifecycle).toEqual({ prevent_destroy: true });
    expect(onlyResource(json, "aws_sagemaker_endpoint_configuration").lifecycle).toEqual({
      create_before_destroy: true,
    });
    expect(onlyResource(json, "aws_sagemaker_model").lifecycle).toEqual({ create_before_destroy: true });
  });

  test("canary shifts a percentage of capacity first", () => {
    const json = synth({ deployment: { strategy: "canary", stepPercent: 20, waitIntervalSeconds: 600 } });
    const policy = blueGreenPolicy(json);
    expect(policy.traffic_routing_configuration).toEqual({
      type: "CANARY",
      wait_interval_in_seconds: 600,
      canary_size: { type: "CAPACITY_PERCENT", value: 20 },
    });
  });

  test("linear shifts in equal steps", () => {
    const json = synth({ deployment: { strategy: "linear" } });
    const policy = blueGreenPolicy(json);
    expect(policy.traffic_routing_configuration).toMatchObject({
      type: "LINEAR",
      linear_step_size: { type: "CAPACITY_PERCENT", value: 25 },
    });
  });

  test.each([10, 50])("linear accepts steps of %i %% (SageMaker's 10-50 %% of the instances)", (step) => {
    const json = synth({ deployment: { strategy: "linear", stepPercent: step } });
    const policy = blueGreenPolicy(json);
    expect(policy.traffic_routing_configuration).toMatchObject({
      linear_step_size: { type: "CAPACITY_PERCENT", value: step },
    });
  });

  test("network isolation can be turned off with a reason", () => {
    const json = synth({ networkIsolation: false, networkAccessReason: "calls the feature store" });
    expect(onlyResource(json, "aws_sagemaker_model").enable_network_isolation).toBe(false);
  });

  test("instance types with local NVMe storage get no volume key", () => {
    const json = synth({ instances: { instanceType: "ml.g5.xlarge", minInstanceCount: 1 } });
    expect(onlyResource(json, "aws_sagemaker_endpoint_configuration").kms_key_arn).toBeUndefined();
    expect(hasInstanceStorage("ml.g4dn.xlarge")).toBe(true);
    expect(hasInstanceStorage("ml.p4d.24xlarge")).toBe(true);
    expect(hasInstanceStorage("ml.m5.large")).toBe(false);
    expect(hasInstanceStorage("ml.inf2.xlarge")).toBe(false);
  });

  test("alarm actions notify the given topics", () => {
    const json = synth({ alarms: { alarmActions: ["arn:aws:sns:eu-west-1:111111111111:oncall"] } });
    for (const alarm of Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm"))) {
      expect(alarm.alarm_actions).toEqual(["arn:aws:sns:eu-west-1:111111111111:oncall"]);
    }
  });
});

describe("SageMakerEndpoint serverless", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synth({
      instances: undefined,
      vpc: undefined,
      dataCapture: undefined,
      serverless: { memorySizeInMb: 2048, maxConcurrency: 5 },
    });
  });

  test("the variant is serverless with its memory and concurrency", () => {
    expect(onlyResource(json, "aws_sagemaker_endpoint_configuration").production_variants).toEqual([
      expect.objectContaining({
        variant_name: "primary",
        serverless_config: { memory_size_in_mb: 2048, max_concurrency: 5 },
      }),
    ]);
  });

  test("the model has neither VPC nor network isolation, which serverless does not support", () => {
    const model = onlyResource(json, "aws_sagemaker_model");
    expect(model.vpc_config).toBeUndefined();
    expect(model.enable_network_isolation).toBe(false);
  });

  test("there is no instance autoscaling", () => {
    expect(resourcesOf(json, "aws_appautoscaling_target")).toEqual({});
  });

  test("it still deploys blue/green and rolls back on the alarms", () => {
    const deployment = onlyResource(json, "aws_sagemaker_endpoint").deployment_config as Record<
      string,
      Record<string, unknown>
    >;
    expect(deployment.blue_green_update_policy.traffic_routing_configuration).toMatchObject({
      type: "ALL_AT_ONCE",
    });
    expect((deployment.auto_rollback_configuration.alarms as unknown[]).length).toBe(2);
  });
});

describe("SageMakerEndpoint monitoring", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synth({ monitoring: {} });
  });

  test("a data-quality job reads the captured data of the endpoint and writes encrypted results to the data bucket", () => {
    const job = onlyResource(json, "aws_sagemaker_data_quality_job_definition");
    expect(job.data_quality_job_output_config).toEqual({
      kms_key_id: "arn:aws:kms:eu-west-1:111111111111:alias/mlops-dev-data",
      monitoring_outputs: {
        s3_output: {
          s3_uri: "s3://mlops-dev-data-capture/monitoring/mlops-dev-churn/data-quality",
          local_path: "/opt/ml/processing/output",
          s3_upload_mode: "EndOfJob",
        },
      },
    });
  });

  test("the job's volumes and traffic are encrypted and it runs isolated in the VPC", () => {
    const job = onlyResource(json, "aws_sagemaker_data_quality_job_definition");
    expect(
      (job.job_resources as { cluster_config: Record<string, unknown> }).cluster_config.volume_kms_key_id,
    ).toBe(KEY_ARN);
    expect(job.network_config).toEqual({
      enable_inter_container_traffic_encryption: true,
      enable_network_isolation: true,
      vpc_config: { subnets: ["subnet-a", "subnet-b"], security_group_ids: ["sg-serving"] },
    });
  });

  test("the job definition is replaced next to the old one, under a name that hashes all of its definition", () => {
    const job = onlyResource(json, "aws_sagemaker_data_quality_job_definition");
    expect(job.lifecycle).toEqual({ create_before_destroy: true });
    const name = job.name as string;
    expect(name).toMatch(/^mlops-dev-churn-data-quality-\$\{substr\(sha1\(jsonencode\(/);
    // Every argument of the definition is in the hash, so no change of one can replace it under the same name.
    const hashed = Object.keys(job).filter((key) => !["name", "lifecycle", "depends_on"].includes(key));
    expect(hashed).toEqual(expect.arrayContaining(["role_arn", "data_quality_job_input", "job_resources"]));
    for (const key of hashed) {
      expect(name).toContain(key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()));
    }
  });

  test("a changed job definition gets a new name, and the schedule keeps its own and moves to it", () => {
    const larger = synth({ monitoring: { instanceType: "ml.m5.2xlarge" } });
    const job = (stack: StackJson) => onlyResource(stack, "aws_sagemaker_data_quality_job_definition");
    expect(job(larger).name).not.toEqual(job(json).name);
    expect(job(larger).name).toContain("ml.m5.2xlarge");
    const [definitionId] = Object.keys(resourcesOf(json, "aws_sagemaker_data_quality_job_definition"));
    expect(onlyResource(json, "aws_sagemaker_monitoring_schedule")).toMatchObject({
      name: "mlops-dev-churn-data-quality",
      monitoring_schedule_config: {
        monitoring_job_definition_name: `\${aws_sagemaker_data_quality_job_definition.${definitionId}.name}`,
      },
    });
  });

  test("the schedule runs hourly", () => {
    expect(onlyResource(json, "aws_sagemaker_monitoring_schedule")).toMatchObject({
      monitoring_schedule_config: {
        monitoring_type: "DataQuality",
        schedule_config: { schedule_expression: "cron(0 * ? * * *)" },
      },
    });
  });

  test("the monitoring role writes only under the endpoint's monitoring prefix", () => {
    const monitor = statementsOf(json, "monitor-data-quality");
    expect(statement(monitor, "WriteMonitoringResults").Resource).toBe(
      "arn:aws:s3:::mlops-dev-data-capture/monitoring/mlops-dev-churn/*",
    );
  });

  const BUCKET = "arn:aws:s3:::mlops-dev-data-capture";
  const monitoringPolicy = (): PolicyDocument => ({
    Version: "2012-10-17",
    Statement: statementsOf(json, "monitor-data-quality") as unknown as PolicyDocument["Statement"],
  });

  test("the monitoring role reads only this endpoint's captured data and baselines", () => {
    const policy = monitoringPolicy();
    expect(allows(policy, "s3:GetObject", `${BUCKET}/data-capture/mlops-dev-churn/AllTraffic/1.jsonl`)).toBe(
      true,
    );
    expect(allows(policy, "s3:GetObject", `${BUCKET}/baselines/mlops-dev-churn/statistics.json`)).toBe(true);
    for (const object of [
      `${BUCKET}/data-capture/mlops-dev-fraud/AllTraffic/1.jsonl`,
      `${BUCKET}/data-capture/mlops-dev-churn-v2/AllTraffic/1.jsonl`,
      `${BUCKET}/baselines/mlops-dev-fraud/statistics.json`,
      `${BUCKET}/monitoring/mlops-dev-fraud/data-quality/report.json`,
      `${BUCKET}/other/mlops-dev-churn/1.jsonl`,
    ]) {
      expect([object, allows(policy, "s3:GetObject", object)]).toEqual([object, false]);
    }
    expect(statement(statementsOf(json, "monitor-data-quality"), "ReadDataCapture").Resource).toEqual([
      `${BUCKET}/data-capture/mlops-dev-churn/*`,
      `${BUCKET}/baselines/mlops-dev-churn/*`,
    ]);
  });

  test("the monitoring role lists the bucket only under this endpoint's prefixes", () => {
    const policy = monitoringPolicy();
    for (const prefix of [
      "data-capture/mlops-dev-churn/AllTraffic/",
      "baselines/mlops-dev-churn/",
      "monitoring/mlops-dev-churn/data-quality/",
    ]) {
      expect([prefix, allows(policy, "s3:ListBucket", BUCKET, { "s3:prefix": prefix })]).toEqual([
        prefix,
        true,
      ]);
    }
    // A listing without a prefix (the whole bucket) or under another endpoint's prefix is refused.
    expect(allows(policy, "s3:ListBucket", BUCKET)).toBe(false);
    for (const prefix of [
      "",
      "data-capture/",
      "data-capture/mlops-dev-fraud/",
      "monitoring/mlops-dev-fraud/",
    ]) {
      expect([prefix, allows(policy, "s3:ListBucket", BUCKET, { "s3:prefix": prefix })]).toEqual([
        prefix,
        false,
      ]);
    }
    expect(statement(statementsOf(json, "monitor-data-quality"), "ListDataCapture").Condition).toEqual({
      StringLike: {
        "s3:prefix": [
          "data-capture/mlops-dev-churn/*",
          "baselines/mlops-dev-churn/*",
          "monitoring/mlops-dev-churn/*",
        ],
      },
    });
  });

  test("the monitoring role creates grants on the volume key only for AWS resources", () => {
    const policy = monitoringPolicy();
    expect(allows(policy, "kms:CreateGrant", KEY_ARN, { "kms:GrantIsForAWSResource": "true" })).toBe(true);
    expect(allows(policy, "kms:CreateGrant", KEY_ARN)).toBe(false);
    expect(allows(policy, "kms:CreateGrant", KEY_ARN, { "kms:GrantIsForAWSResource": "false" })).toBe(false);
    const grants = statementsOf(json, "monitor-data-quality").filter((s) =>
      [s.Action].flat().some((action) => /^kms:(CreateGrant|\*)$|^\*$/.test(action)),
    );
    expect(grants).toEqual([
      {
        Sid: "GrantJobVolumes",
        Effect: "Allow",
        Action: ["kms:CreateGrant"],
        Resource: KEY_ARN,
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
    ]);
  });
});

describe("SageMakerEndpoint rejects", () => {
  test.each([
    ["the latest tag", { image: { repositoryName: "r", tag: "latest" } }, /tag "latest" moves/],
    ["an image without tag or digest", { image: { repositoryName: "r" } }, /exactly one of tag/],
    [
      "an image with both tag and digest",
      { image: { repositoryName: "r", tag: "v1", digest: "sha256:" + "a".repeat(64) } },
      /exactly one of tag/,
    ],
    ["a malformed digest", { image: { repositoryName: "r", digest: "sha256:abc" } }, /64 hex/],
    [
      "both instances and serverless",
      { serverless: { memorySizeInMb: 1024, maxConcurrency: 1 } },
      /exactly one of instances/,
    ],
    ["an instance endpoint without a VPC", { vpc: undefined }, /private subnets/],
    ["network isolation off without a reason", { networkIsolation: false }, /networkAccessReason/],
    [
      "network isolation off with a too short reason",
      { networkIsolation: false, networkAccessReason: "needs it" },
      /10 characters/,
    ],
    [
      "max below min",
      { instances: { instanceType: "ml.m5.large", minInstanceCount: 3, maxInstanceCount: 2 } },
      /at least minInstanceCount \(3\)/,
    ],
    [
      "canary on one instance",
      { instances: { instanceType: "ml.m5.large" }, deployment: { strategy: "canary" } },
      /at least 2 instances/,
    ],
    [
      "a canary above half the fleet",
      { deployment: { strategy: "canary", stepPercent: 60 } },
      /from 1 to 50/,
    ],
    [
      "a linear step below 10 %",
      { deployment: { strategy: "linear", stepPercent: 5 } },
      /stepPercent \(5\) must be a whole number from 10 to 50 for linear/,
    ],
    [
      "a linear step above half the fleet",
      { deployment: { strategy: "linear", stepPercent: 60 } },
      /stepPercent \(60\) must be a whole number from 10 to 50 for linear/,
    ],
    ["monitoring without capture", { dataCapture: undefined, monitoring: {} }, /set dataCapture/],
    [
      "a sampling percentage above 100",
      { dataCapture: { bucketName: "b", samplingPercentage: 101, key: { aliasName: "k" } } },
      /0 to 100/,
    ],
    [
      "a prefix with a wildcard",
      { modelData: { bucketName: "b", prefix: "churn/*", key: { aliasName: "k" } } },
      /without wildcards/,
    ],
    ["a name with capitals", { name: "Churn" }, /lower-case/],
  ] as [string, Partial<SageMakerEndpointProps>, RegExp][])("%s", (_case, overrides, message) => {
    expect(build(overrides)).toThrow(message);
  });

  test.each([
    ["a VPC", { vpc: { subnetIds: ["s"], securityGroupIds: ["g"] } }, /cannot run in a VPC/],
    [
      "data capture",
      { dataCapture: { bucketName: "b", samplingPercentage: 5, key: { aliasName: "k" } } },
      /do not support data capture/,
    ],
    ["canary deployments", { deployment: { strategy: "canary" } }, /serverless endpoints deploy all at once/],
    [
      "a memory size off the 1 GB steps",
      { serverless: { memorySizeInMb: 1500, maxConcurrency: 1 } },
      /1024, 2048/,
    ],
  ] as [string, Partial<SageMakerEndpointProps>, RegExp][])(
    "serverless with %s",
    (_case, overrides, message) => {
      expect(
        build({
          instances: undefined,
          vpc: undefined,
          dataCapture: undefined,
          serverless: { memorySizeInMb: 1024, maxConcurrency: 2 },
          ...overrides,
        }),
      ).toThrow(message);
    },
  );
});

describe("SageMakerEndpoint policy suppressions", () => {
  function suppressions(overrides: Partial<SageMakerEndpointProps>): Suppression[] {
    const stack = new TerraformStack(Testing.app(), "test");
    return PolicySuppressions.of(new SageMakerEndpoint(stack, "Churn", props(overrides)).model);
  }

  test("an isolated model in the VPC suppresses nothing", () => {
    expect(suppressions({})).toEqual([]);
  });

  test("a model that needs the network suppresses the isolation rule with its reason", () => {
    expect(suppressions({ networkIsolation: false, networkAccessReason: "calls the feature store" })).toEqual(
      [{ rule: "MLOPS-SM-002", reason: "calls the feature store" }],
    );
  });

  test("a serverless model suppresses the isolation and VPC rules, which AWS cannot meet", () => {
    const serverless = { instances: undefined, vpc: undefined, dataCapture: undefined };
    expect(
      suppressions({ ...serverless, serverless: { memorySizeInMb: 1024, maxConcurrency: 1 } }).map(
        (s) => s.rule,
      ),
    ).toEqual(["MLOPS-SM-002", "MLOPS-SM-003"]);
  });
});
