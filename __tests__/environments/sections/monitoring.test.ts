import { parseEnvironment } from "../../../environments/load";
import { configFor, rawEnvironment, type Patch } from "../../helpers/config";

function problems(name: string, patch: Patch): string[] {
  const result = parseEnvironment(JSON.stringify(rawEnvironment(name, patch)), `${name}.yaml`);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe("monitoring section", () => {
  describe("alert subscribers", () => {
    /** The problems of an environment file whose monitoring section has no subscriber. */
    const withoutSubscribers = (name: string) => {
      const raw = rawEnvironment(name) as { monitoring?: { alerts?: { subscriptions?: unknown } } };
      delete raw.monitoring?.alerts?.subscriptions;
      const result = parseEnvironment(JSON.stringify(raw), `${name}.yaml`);
      return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
    };

    it.each(["test", "prod"])(
      "are required in %s, or nobody hears of an alarm, the budget or an anomaly",
      (env) => {
        expect(withoutSubscribers(env)).toEqual([
          `monitoring.alerts.subscriptions: must name at least one subscriber in ${env}: otherwise its alarms, budget and cost anomaly alerts reach no one`,
        ]);
      },
    );

    it("may be left out in dev (dev.yaml names one all the same)", () => {
      expect(withoutSubscribers("dev")).toEqual([]);
      expect(Object.keys(configFor("dev").monitoring.alerts.subscriptions)).toEqual(["team"]);
    });
  });

  it("defaults dev to a cheap, short-lived setup", () => {
    expect(configFor("dev").monitoring).toMatchObject({
      budget: { monthlyLimitUsd: 1000, forecastedPercent: 80, actualPercent: 100 },
      costAnomalies: { enabled: true, thresholdUsd: 50 },
      gpu: { idleMinutes: 30, idleUtilizationPercent: 5 },
      prometheus: { retentionDays: 7, volumeSizeGiB: 20, replicas: 1, managedRemoteWrite: false },
      grafana: { exposure: "cluster-ip", adminPasswordRevision: 1 },
    });
  });

  it("defaults prod to durable, redundant metrics", () => {
    expect(configFor("prod").monitoring).toMatchObject({
      budget: { monthlyLimitUsd: 10000 },
      prometheus: { retentionDays: 30, volumeSizeGiB: 200, replicas: 2, managedRemoteWrite: true },
      alertmanager: { replicas: 2 },
      database: { freeStorageGiB: 20 },
    });
  });

  it("installs Container Insights everywhere (dev's idle GPUs cost most), with container logs in prod only", () => {
    expect(configFor("dev").monitoring.containerInsights).toEqual({
      enabled: true,
      containerLogs: false,
      addonVersion: "v4.10.3-eksbuild.1",
    });
    expect(configFor("test").monitoring.containerInsights).toMatchObject({
      enabled: true,
      containerLogs: false,
    });
    expect(configFor("prod").monitoring.containerInsights).toMatchObject({
      enabled: true,
      containerLogs: true,
    });
  });

  it("rejects container logs without the Container Insights add-on", () => {
    expect(
      problems("prod", { monitoring: { containerInsights: { enabled: false, containerLogs: true } } }),
    ).toEqual([
      "monitoring.containerInsights.containerLogs: needs containerInsights.enabled: true (Fluent Bit comes with the Container Insights add-on)",
    ]);
  });

  it.each(["v3.0.0-eksbuild.1", "v6.2.0-eksbuild.1"])(
    "rejects add-on version %s (no Pod Identity, or no ContainerInsights metrics)",
    (addonVersion) => {
      expect(problems("test", { monitoring: { containerInsights: { addonVersion } } })).toEqual([
        expect.stringMatching(/^monitoring\.containerInsights\.addonVersion: must be v3\.1\.0 or later/),
      ]);
    },
  );

  it("rejects an add-on version that is not one", () => {
    expect(problems("test", { monitoring: { containerInsights: { addonVersion: "4.10" } } })).toEqual([
      "monitoring.containerInsights.addonVersion: must be an EKS add-on version such as v4.10.3-eksbuild.1",
    ]);
  });

  it("reads subscribers keyed by name", () => {
    expect(configFor("prod").monitoring.alerts.subscriptions).toEqual({
      oncall: { protocol: "email", endpoint: "ml-platform-oncall@example.com" },
    });
  });

  it("rejects an https subscriber without https://", () => {
    expect(
      problems("dev", {
        monitoring: {
          alerts: { subscriptions: { hook: { protocol: "https", endpoint: "http://x.example.com" } } },
        },
      }),
    ).toEqual(["monitoring.alerts.subscriptions.hook.endpoint: must start with https:// for protocol https"]);
  });

  it.each([
    ["sqs", "arn:aws:sqs:eu-west-1:111111111111:mlops-alerts"],
    ["lambda", "arn:aws:lambda:eu-west-1:111111111111:function:mlops-alerts"],
  ])("rejects a %s subscriber that is not an ARN, and takes one that is", (protocol, arn) => {
    const subscribe = (endpoint: string) =>
      problems("dev", { monitoring: { alerts: { subscriptions: { queue: { protocol, endpoint } } } } });
    expect(subscribe("mlops-alerts")).toEqual([
      `monitoring.alerts.subscriptions.queue.endpoint: must be an ARN for protocol ${protocol}`,
    ]);
    expect(subscribe(arn)).toEqual([]);
  });

  it("rejects idle minutes CloudWatch cannot evaluate", () => {
    expect(problems("dev", { monitoring: { gpu: { idleMinutes: 42 } } })).toEqual([
      "monitoring.gpu.idleMinutes: must be a multiple of 5 (CloudWatch evaluates 5-minute periods)",
    ]);
  });

  it("rejects a percentage of 100 or more", () => {
    expect(problems("dev", { monitoring: { prometheus: { storageFullPercent: 100 } } })).toEqual([
      "monitoring.prometheus.storageFullPercent: must be below 100 (a percentage)",
    ]);
  });

  it("rejects more budget emails than AWS Budgets allows", () => {
    const emails = Array.from({ length: 11 }, (_, i) => `p${i}@example.com`);
    expect(problems("dev", { monitoring: { budget: { emails } } })).toEqual([
      "monitoring.budget.emails: must list at most 10 addresses (an AWS Budgets limit)",
    ]);
  });

  it("rejects unknown settings", () => {
    expect(problems("dev", { monitoring: { budget: { limit: 5 } } })).toEqual([
      "monitoring.budget.limit: is not a known setting (check the spelling; unknown keys are errors)",
    ]);
  });
});
