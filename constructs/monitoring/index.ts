/** The AWS side of monitoring; the cluster side is exported from `../kubernetes`. Re-exports only. */
export * from "./alert-rules";
export * from "./alert-topic";
export * from "./conventions";
export * from "./cost-anomaly-alerts";
export * from "./database-alarms";
export * from "./endpoint-alarms";
export * from "./gpu-cluster-alarms";
export * from "./managed-prometheus";
export * from "./monthly-budget";
export * from "./platform-dashboard";
