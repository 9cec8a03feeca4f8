import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DatabaseAlarms } from "../../../constructs/monitoring/database-alarms";
import { EndpointAlarms } from "../../../constructs/monitoring/endpoint-alarms";
import { GpuClusterAlarms } from "../../../constructs/monitoring/gpu-cluster-alarms";
import { VARIANT_NAME } from "../../../constructs/serving/sagemaker-endpoint";
import { resourcesOf, type StackJson } from "../../helpers/synth";
import { synthBare } from "./bare-stack";

const TOPIC = "arn:aws:sns:eu-west-1:111111111111:mlops-dev-alerts";

function alarm(json: StackJson, name: string): Record<string, unknown> {
  const found = Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm")).find(
    (a) => a.alarm_name === name,
  );
  if (!found) throw new Error(`no alarm ${name}`);
  return found;
}

describe("EndpointAlarms reusing the endpoint's rollback alarms", () => {
  const OTHER = "arn:aws:sns:eu-west-1:111111111111:deployments";
  let json: StackJson;
  let names: readonly string[];
  beforeAll(() => {
    json = synthBare((stack) => {
      const own = (id: string, name: string, metricName: string) =>
        new CloudwatchMetricAlarm(stack, id, {
          alarmName: name,
          namespace: "AWS/SageMaker",
          metricName,
          statistic: "Sum",
          period: 60,
          evaluationPeriods: 2,
          threshold: 5,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          alarmActions: [OTHER],
        });
      names = new EndpointAlarms(stack, "Churn", {
        endpointName: "mlops-dev-churn",
        alarmTopicArn: TOPIC,
        existingAlarms: {
          serverErrors: own("Errors", "mlops-dev-churn-5xx-errors", "Invocation5XXErrors"),
          latency: own("Latency", "mlops-dev-churn-model-latency", "ModelLatency"),
        },
      }).alarmNames;
    });
  });

  it("creates only the model-error alarm: one alarm per signal", () => {
    expect(
      Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm"))
        .map((a) => a.alarm_name)
        .sort(),
    ).toEqual([
      "mlops-dev-churn-5xx-errors",
      "mlops-dev-churn-invocation-model-errors",
      "mlops-dev-churn-model-latency",
    ]);
  });

  it("makes the reused alarms notify the topic on alarm and recovery, keeping their own actions", () => {
    for (const name of ["mlops-dev-churn-5xx-errors", "mlops-dev-churn-model-latency"]) {
      expect(alarm(json, name)).toMatchObject({ alarm_actions: [OTHER, TOPIC], ok_actions: [TOPIC] });
    }
  });

  it("names the reused alarms among its own, as plain names", () => {
    expect(names).toEqual([
      "mlops-dev-churn-model-latency",
      "mlops-dev-churn-5xx-errors",
      "mlops-dev-churn-invocation-model-errors",
    ]);
  });

  it("refuses a threshold for a signal whose alarm it reuses", () => {
    expect(() =>
      synthBare((stack) => {
        const errors = new CloudwatchMetricAlarm(stack, "Errors", {
          alarmName: "e",
          comparisonOperator: "GreaterThanThreshold",
          evaluationPeriods: 1,
        });
        new EndpointAlarms(stack, "Churn", {
          endpointName: "mlops-dev-churn",
          alarmTopicArn: TOPIC,
          serverErrorThreshold: 3,
          existingAlarms: { serverErrors: errors },
        });
      }),
    ).toThrow(
      /serverErrorThreshold cannot be given with existingAlarms\.serverErrors, which keeps its own threshold/,
    );
  });
});

describe("EndpointAlarms", () => {
  let json: StackJson;
  let names: readonly string[];
  beforeAll(() => {
    json = synthBare((stack) => {
      names = new EndpointAlarms(stack, "Churn", {
        endpointName: "mlops-dev-churn",
        alarmTopicArn: TOPIC,
        modelLatencyP95Ms: 250,
        serverErrorThreshold: 3,
      }).alarmNames;
    });
  });

  it("alarms on p95 ModelLatency of the variant SageMakerEndpoint creates, in microseconds", () => {
    expect(alarm(json, "mlops-dev-churn-model-latency-p95")).toMatchObject({
      namespace: "AWS/SageMaker",
      metric_name: "ModelLatency",
      extended_statistic: "p95",
      dimensions: { EndpointName: "mlops-dev-churn", VariantName: VARIANT_NAME },
      threshold: 250_000,
      comparison_operator: "GreaterThanThreshold",
    });
    expect(VARIANT_NAME).toBe("primary");
  });

  it("watches the variant it is given, for an endpoint made elsewhere", () => {
    const sdk = synthBare((stack) => {
      new EndpointAlarms(stack, "Sdk", {
        endpointName: "churn-sdk",
        variantName: "AllTraffic",
        alarmTopicArn: TOPIC,
      });
    });
    for (const name of ["latency-p95", "invocation-5xx-errors", "invocation-model-errors"]) {
      expect(alarm(sdk, `churn-sdk-${name === "latency-p95" ? "model-" : ""}${name}`).dimensions).toEqual({
        EndpointName: "churn-sdk",
        VariantName: "AllTraffic",
      });
    }
  });

  it("alarms on 5xx invocation errors at the threshold given", () => {
    expect(alarm(json, "mlops-dev-churn-invocation-5xx-errors")).toMatchObject({
      metric_name: "Invocation5XXErrors",
      statistic: "Sum",
      threshold: 3,
      comparison_operator: "GreaterThanOrEqualToThreshold",
    });
  });

  it("alarms on model errors at the default threshold", () => {
    expect(alarm(json, "mlops-dev-churn-invocation-model-errors")).toMatchObject({
      metric_name: "InvocationModelErrors",
      threshold: 5,
    });
  });

  it("notifies the topic on alarm and recovery, and treats no traffic as OK", () => {
    for (const name of names) {
      expect(alarm(json, name)).toMatchObject({
        alarm_actions: [TOPIC],
        ok_actions: [TOPIC],
        treat_missing_data: "notBreaching",
      });
    }
  });

  it("rejects a threshold that is not positive", () => {
    expect(() =>
      synthBare(
        (stack) =>
          new EndpointAlarms(stack, "Bad", { endpointName: "e", alarmTopicArn: TOPIC, modelLatencyP95Ms: 0 }),
      ),
    ).toThrow(/EndpointAlarms test\/Bad: modelLatencyP95Ms must be a positive number, got 0/);
  });
});

describe("EndpointAlarms of a serverless endpoint", () => {
  let json: StackJson;
  let alarms: EndpointAlarms;
  beforeAll(() => {
    json = synthBare((stack) => {
      alarms = new EndpointAlarms(stack, "Churn", {
        endpointName: "mlops-dev-churn",
        alarmTopicArn: TOPIC,
        serverless: true,
      });
    });
  });

  it("creates no model-error alarm: serverless endpoints publish no InvocationModelErrors", () => {
    const metrics = Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm")).map((a) => a.metric_name);
    expect(metrics.sort()).toEqual(["Invocation5XXErrors", "ModelLatency"]);
    expect(alarms.modelErrors).toBeUndefined();
  });

  it("names only the alarms it has", () => {
    expect(alarms.alarmNames).toEqual([
      "mlops-dev-churn-model-latency-p95",
      "mlops-dev-churn-invocation-5xx-errors",
    ]);
  });

  it("refuses a model-error threshold, which no alarm would use", () => {
    expect(() =>
      synthBare(
        (stack) =>
          new EndpointAlarms(stack, "Bad", {
            endpointName: "e",
            alarmTopicArn: TOPIC,
            serverless: true,
            modelErrorThreshold: 3,
          }),
      ),
    ).toThrow(/modelErrorThreshold cannot be given for a serverless endpoint/);
  });
});

describe("DatabaseAlarms", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthBare((stack) => {
      new DatabaseAlarms(stack, "Registry", {
        dbInstanceIdentifier: "mlops-dev-mlflow",
        alarmTopicArn: TOPIC,
        freeStorageGiB: 2,
        maxConnections: 40,
      });
    });
  });

  it("alarms on CPU above the default 80 %", () => {
    expect(alarm(json, "mlops-dev-mlflow-cpu-utilization")).toMatchObject({
      namespace: "AWS/RDS",
      metric_name: "CPUUtilization",
      dimensions: { DBInstanceIdentifier: "mlops-dev-mlflow" },
      threshold: 80,
      comparison_operator: "GreaterThanThreshold",
    });
  });

  it("alarms on free storage below the GiB given, in bytes, and on missing data", () => {
    expect(alarm(json, "mlops-dev-mlflow-free-storage")).toMatchObject({
      metric_name: "FreeStorageSpace",
      threshold: 2 * 1024 ** 3,
      comparison_operator: "LessThanThreshold",
      treat_missing_data: "breaching",
    });
  });

  it("alarms on connections above the count given", () => {
    expect(alarm(json, "mlops-dev-mlflow-connections")).toMatchObject({
      metric_name: "DatabaseConnections",
      threshold: 40,
      alarm_actions: [TOPIC],
    });
  });

  it("rejects a CPU percentage above 100", () => {
    expect(() =>
      synthBare(
        (stack) =>
          new DatabaseAlarms(stack, "Bad", {
            dbInstanceIdentifier: "d",
            alarmTopicArn: TOPIC,
            cpuUtilizationPercent: 120,
          }),
      ),
    ).toThrow(/cpuUtilizationPercent must be at most 100, got 120/);
  });
});

describe("GpuClusterAlarms", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthBare((stack) => {
      new GpuClusterAlarms(stack, "Gpu", {
        clusterName: "mlops-dev",
        alarmTopicArn: TOPIC,
        gpuIdleMinutes: 30,
      });
    });
  });

  it("alarms on failed nodes from Container Insights by cluster name", () => {
    expect(alarm(json, "mlops-dev-failed-nodes")).toMatchObject({
      namespace: "ContainerInsights",
      metric_name: "cluster_failed_node_count",
      dimensions: { ClusterName: "mlops-dev" },
      threshold: 1,
      comparison_operator: "GreaterThanOrEqualToThreshold",
      // The system nodes never scale to zero: no count means the agent is down, not that all is well.
      treat_missing_data: "breaching",
    });
  });

  it("alarms on GPUs idle for the minutes given (5-minute periods) and treats no GPU nodes as OK", () => {
    expect(alarm(json, "mlops-dev-gpus-idle")).toMatchObject({
      metric_name: "node_gpu_utilization",
      period: 300,
      evaluation_periods: 6,
      threshold: 5,
      comparison_operator: "LessThanThreshold",
      treat_missing_data: "notBreaching",
    });
  });

  it("rejects idle minutes CloudWatch cannot evaluate", () => {
    const build = (gpuIdleMinutes: number) => () =>
      synthBare(
        (stack) =>
          new GpuClusterAlarms(stack, "Bad", { clusterName: "c", alarmTopicArn: TOPIC, gpuIdleMinutes }),
      );
    expect(build(7)).toThrow(/gpuIdleMinutes must be a multiple of 5 up to 1440/);
    expect(build(1445)).toThrow(/gpuIdleMinutes must be a multiple of 5 up to 1440/);
  });
});
