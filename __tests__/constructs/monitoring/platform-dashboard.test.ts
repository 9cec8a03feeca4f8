import {
  PlatformDashboard,
  type PlatformDashboardProps,
} from "../../../constructs/monitoring/platform-dashboard";
import { onlyResource } from "../../helpers/synth";
import { LOCATION, synthBare } from "./bare-stack";

interface Widget {
  type: string;
  width: number;
  properties: { title: string; metrics?: unknown[][]; alarms?: string[]; markdown?: string };
}

function bodyOf(props: Omit<PlatformDashboardProps, "location">): { widgets: Widget[] } {
  const json = synthBare(
    (stack) => new PlatformDashboard(stack, "Dashboard", { location: LOCATION, ...props }),
  );
  return JSON.parse(onlyResource(json, "aws_cloudwatch_dashboard").dashboard_body as string) as {
    widgets: Widget[];
  };
}

describe("PlatformDashboard", () => {
  const props = {
    dashboardName: "mlops-dev-platform",
    endpoints: [{ endpointName: "mlops-dev-churn" }],
    databases: ["mlops-dev-mlflow"],
    clusterName: "mlops-dev",
    alarmNames: ["b-alarm", "a-alarm"],
  };
  let body: { widgets: Widget[] };
  beforeAll(() => {
    body = bodyOf(props);
  });

  it("shows the alarms first, by ARN, in name order", () => {
    expect(body.widgets[0]).toMatchObject({
      type: "alarm",
      properties: {
        alarms: [
          "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:a-alarm",
          "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:b-alarm",
        ],
      },
    });
  });

  it("shows p50, p95 and p99 model latency of each endpoint", () => {
    const latency = body.widgets.find((w) => w.properties.title === "mlops-dev-churn: model latency (µs)")!;
    expect(
      latency.properties.metrics!.map((line) => (line[line.length - 1] as { stat: string }).stat),
    ).toEqual(["p50", "p95", "p99"]);
    expect(latency.properties.metrics![0].slice(0, 6)).toEqual([
      "AWS/SageMaker",
      "ModelLatency",
      "EndpointName",
      "mlops-dev-churn",
      "VariantName",
      "primary",
    ]);
  });

  it("shows the variant it is given, for an endpoint made elsewhere", () => {
    const sdk = bodyOf({ ...props, endpoints: [{ endpointName: "churn-sdk", variantName: "AllTraffic" }] });
    const latency = sdk.widgets.find((w) => w.properties.title === "churn-sdk: model latency (µs)")!;
    expect(latency.properties.metrics![0].slice(2, 6)).toEqual([
      "EndpointName",
      "churn-sdk",
      "VariantName",
      "AllTraffic",
    ]);
  });

  it("shows 4xx, 5xx and model errors of an instance endpoint", () => {
    const errors = body.widgets.find((w) => w.properties.title === "mlops-dev-churn: errors")!;
    expect(errors.properties.metrics!.map((line) => line[1])).toEqual([
      "Invocation4XXErrors",
      "Invocation5XXErrors",
      "InvocationModelErrors",
    ]);
  });

  it("leaves model errors out for a serverless endpoint, which does not publish them", () => {
    const serverless = bodyOf({
      ...props,
      endpoints: [{ endpointName: "mlops-dev-churn", serverless: true }],
    });
    const errors = serverless.widgets.find((w) => w.properties.title === "mlops-dev-churn: errors")!;
    expect(errors.properties.metrics!.map((line) => line[1])).toEqual([
      "Invocation4XXErrors",
      "Invocation5XXErrors",
    ]);
  });

  it("shows the database's CPU, free storage and connections", () => {
    const titles = body.widgets.map((w) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        "mlops-dev-mlflow: CPU (%)",
        "mlops-dev-mlflow: free storage (bytes)",
        "mlops-dev-mlflow: connections",
      ]),
    );
  });

  it("shows the cluster's nodes and GPU utilisation", () => {
    const gpu = body.widgets.find((w) => w.properties.title === "mlops-dev: GPU utilisation (%)")!;
    expect(gpu.properties.metrics![0].slice(0, 4)).toEqual([
      "ContainerInsights",
      "node_gpu_utilization",
      "ClusterName",
      "mlops-dev",
    ]);
  });

  it("keeps every widget within the 24-column grid", () => {
    for (const widget of body.widgets) expect(widget.width).toBeLessThanOrEqual(24);
  });

  it("gives the same body for the same configuration", () => {
    expect(bodyOf(props)).toEqual(body);
  });

  it("says so when there is nothing to show yet", () => {
    expect(bodyOf({ dashboardName: "empty" }).widgets).toEqual([
      expect.objectContaining({
        type: "text",
        properties: expect.objectContaining({ markdown: expect.stringContaining("No endpoints") }),
      }),
    ]);
  });

  it("rejects a name CloudWatch refuses", () => {
    expect(() => bodyOf({ dashboardName: "has space" })).toThrow(
      /dashboardName "has space" may hold only letters/,
    );
  });
});
