import { configFor } from "../../helpers/config";

const ENDPOINT = {
  image: { repository: "inference", tag: "v2.0.0" },
  modelDataPrefix: "fraud/v3",
  instanceType: "ml.m5.large",
};
const SERVICE = { image: { repository: "inference", tag: "v2.0.0" }, modelDataPrefix: "fraud/v3" };

function withEndpoint(env: string, endpoint: Record<string, unknown>) {
  return configFor(env, { serving: { sagemakerEndpoints: { fraud: endpoint } } });
}

function withService(env: string, service: Record<string, unknown>) {
  return configFor(env, { serving: { kubernetesServices: { fraud: service } } });
}

describe("serving section: tier defaults", () => {
  test("dev endpoints start with one instance, capture everything, deploy all at once, without monitoring", () => {
    const endpoint = withEndpoint("dev", ENDPOINT).serving.sagemakerEndpoints.fraud;
    expect(endpoint).toMatchObject({
      minInstances: 1,
      dataCaptureSamplingPercentage: 100,
      deployment: { strategy: "all-at-once", terminationWaitSeconds: 60 },
      monitoring: { enabled: false },
      networkIsolation: true,
      modelArtifact: "model.tar.gz",
    });
  });

  test("test endpoints capture half the traffic", () => {
    expect(
      withEndpoint("test", ENDPOINT).serving.sagemakerEndpoints.fraud.dataCaptureSamplingPercentage,
    ).toBe(50);
  });

  test("prod endpoints keep 2 instances, deploy by canary with a 10-minute bake and are monitored", () => {
    const endpoint = withEndpoint("prod", ENDPOINT).serving.sagemakerEndpoints.fraud;
    expect(endpoint).toMatchObject({
      minInstances: 2,
      dataCaptureSamplingPercentage: 10,
      deployment: { strategy: "canary", terminationWaitSeconds: 600 },
      monitoring: { enabled: true, scheduleExpression: "cron(0 * ? * * *)" },
    });
  });

  test("dev services run one CPU replica without zone spread", () => {
    expect(withService("dev", SERVICE).serving.kubernetesServices.fraud).toMatchObject({
      minReplicas: 1,
      gpus: 0,
      spreadAcrossZones: false,
      probes: { liveness: "/health", readiness: "/ready", startupTimeoutSeconds: 600 },
    });
  });

  test("prod services run 2 replicas spread across zones", () => {
    expect(withService("prod", SERVICE).serving.kubernetesServices.fraud).toMatchObject({
      minReplicas: 2,
      spreadAcrossZones: true,
    });
  });

  test("captured data goes to the raw bucket by default", () => {
    expect(configFor("dev").serving.dataCaptureBucket).toBe("raw");
  });

  test("a model prefix is stored without surrounding slashes", () => {
    expect(
      withEndpoint("dev", { ...ENDPOINT, modelDataPrefix: "/fraud/v3/" }).serving.sagemakerEndpoints.fraud
        .modelDataPrefix,
    ).toBe("fraud/v3");
  });
});

describe("serving section: deployment steps and metrics ports", () => {
  test.each([10, 50])("a linear step of %i %% is accepted", (stepPercent) => {
    const endpoint = withEndpoint("prod", { ...ENDPOINT, deployment: { strategy: "linear", stepPercent } })
      .serving.sagemakerEndpoints.fraud;
    expect(endpoint.deployment).toMatchObject({ strategy: "linear", stepPercent });
  });

  test.each([9102, false])("a service's metrics port may be %s", (metricsPort) => {
    expect(withService("dev", { ...SERVICE, metricsPort }).serving.kubernetesServices.fraud.metricsPort).toBe(
      metricsPort,
    );
  });
});

describe("serving section: environment files", () => {
  test("dev declares a serverless endpoint and a GPU inference service", () => {
    const { serving } = configFor("dev");
    expect(serving.sagemakerEndpoints.churn.serverless).toEqual({ memoryMb: 2048, maxConcurrency: 5 });
    expect(serving.kubernetesServices["churn-gpu"].gpus).toBe(1);
  });

  test("prod declares an instance endpoint with at least 2 instances and autoscaling room", () => {
    const churn = configFor("prod").serving.sagemakerEndpoints.churn;
    expect(churn).toMatchObject({ instanceType: "ml.m5.large", minInstances: 2, maxInstances: 6 });
  });
});

describe("serving section rejects", () => {
  test.each([
    [
      "prod",
      "fewer than 2 instances in prod",
      { ...ENDPOINT, minInstances: 1 },
      /minInstances: must be at least 2 in prod/,
    ],
    [
      "prod",
      "serverless in prod",
      { ...ENDPOINT, instanceType: undefined, serverless: { memoryMb: 2048, maxConcurrency: 2 } },
      /serverless: is not allowed in prod/,
    ],
    [
      "dev",
      "the latest tag",
      { ...ENDPOINT, image: { repository: "inference", tag: "latest" } },
      /image.tag: must not be latest/,
    ],
    [
      "dev",
      "an unpinned image",
      { ...ENDPOINT, image: { repository: "inference" } },
      /image.tag: give exactly one of tag and digest/,
    ],
    [
      "dev",
      "both capacities",
      { ...ENDPOINT, serverless: { memoryMb: 1024, maxConcurrency: 1 } },
      /instanceType: give exactly one/,
    ],
    ["dev", "no capacity", { ...ENDPOINT, instanceType: undefined }, /instanceType: give exactly one/],
    [
      "dev",
      "max below min",
      { ...ENDPOINT, minInstances: 3, maxInstances: 2 },
      /maxInstances: must be at least minInstances \(3\)/,
    ],
    [
      "dev",
      "network access without a reason",
      { ...ENDPOINT, networkIsolation: false },
      /networkAccessReason: is required/,
    ],
    [
      "test",
      "a canary on one instance",
      { ...ENDPOINT, deployment: { strategy: "canary" } },
      /deployment.strategy: canary needs at least 2 instances/,
    ],
    [
      "dev",
      "a serverless memory off the 1 GB steps",
      { ...ENDPOINT, instanceType: undefined, serverless: { memoryMb: 1500, maxConcurrency: 1 } },
      /serverless.memoryMb/,
    ],
    [
      "dev",
      "a wildcard prefix",
      { ...ENDPOINT, modelDataPrefix: "fraud/*" },
      /modelDataPrefix: must be a folder/,
    ],
    ["dev", "an unknown setting", { ...ENDPOINT, instanceCount: 2 }, /instanceCount: is not a known setting/],
  ] as [string, string, Record<string, unknown>, RegExp][])("%s: %s", (env, _case, endpoint, message) => {
    expect(() => withEndpoint(env, endpoint)).toThrow(message);
  });

  test("an endpoint name with capitals", () => {
    expect(() => configFor("dev", { serving: { sagemakerEndpoints: { Fraud: ENDPOINT } } })).toThrow(
      /not a valid name/,
    );
  });

  test("prod services with one replica", () => {
    expect(() => withService("prod", { ...SERVICE, minReplicas: 1 })).toThrow(
      /minReplicas: must be at least 2 in prod/,
    );
  });

  test.each([
    ["a privileged metrics port", 80, /metricsPort: must be at least 1024/],
    ["true as metrics port", true, /metricsPort: must be a port number from 1024 to 65535, or false/],
    ["a metrics port as text", "9102", /metricsPort: must be a port number from 1024 to 65535, or false/],
  ])("services with %s", (_case, metricsPort, message) => {
    expect(() => withService("dev", { ...SERVICE, metricsPort })).toThrow(message);
  });

  test.each([
    ["test", 5],
    ["prod", 60],
  ])("%s: a linear step of %i %% (SageMaker takes 10-50 %%)", (env, stepPercent) => {
    expect(() =>
      withEndpoint(env, { ...ENDPOINT, minInstances: 2, deployment: { strategy: "linear", stepPercent } }),
    ).toThrow(/deployment.stepPercent: must be from 10 to 50 for linear/);
  });

  test("services with max replicas below min", () => {
    expect(() => withService("dev", { ...SERVICE, minReplicas: 2, maxReplicas: 1 })).toThrow(
      /maxReplicas: must be at least minReplicas/,
    );
  });
});

describe("serving section against the rest of the environment", () => {
  test("an image from a repository the registry does not declare", () => {
    expect(() => withEndpoint("dev", { ...ENDPOINT, image: { repository: "serving", tag: "v1" } })).toThrow(
      /serving.sagemakerEndpoints.fraud.image.repository: must be a repository of registry.repositories/,
    );
  });

  test("captures to a bucket the data section does not declare", () => {
    expect(() => configFor("test", { serving: { dataCaptureBucket: "captures" } })).toThrow(
      /serving.dataCaptureBucket: must be a bucket of data.buckets/,
    );
  });

  test("GPU services that the serving namespace's GPU quota could not roll", () => {
    // dev's churn-gpu (1 GPU, up to 2 replicas) takes 3 of dev's quota of 3 during a rollout at its maximum.
    const fraud = { ...SERVICE, gpus: 1, maxReplicas: 1 };
    expect(() => withService("dev", fraud)).toThrow(
      "cluster.namespaces.serving.gpuQuota: is 3, but the GPU services of serving.kubernetesServices " +
        "(churn-gpu, fraud) need up to 5 during a rollout at their maximum size",
    );
    expect(() =>
      configFor("dev", {
        serving: { kubernetesServices: { fraud } },
        cluster: { namespaces: { serving: { gpuQuota: 5 } } },
      }),
    ).not.toThrow();
    // CPU services take no GPU.
    expect(() => withService("dev", { ...SERVICE, maxReplicas: 10 })).not.toThrow();
  });

  test("removing the model-artifacts bucket, which models are served from", () => {
    // One problem, from the model registry's check (the bucket is its artifact store too), not two.
    expect(() => configFor("dev", { data: { buckets: { "model-artifacts": null } } })).toThrow(
      /^[^\n]*data\.buckets: must keep the model-artifacts bucket: it is the model registry's artifact store$/,
    );
  });
});
