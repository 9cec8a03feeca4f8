/**
 * The constructs that run inside the cluster, through the Kubernetes and Helm providers: import them from
 * `mlops-platform/kubernetes`. They are kept out of the main entry point because `@cdktf/provider-helm` and
 * `@cdktf/provider-kubernetes` are optional peers that AWS-only consumers do not install. Re-exports only.
 */
export * from "./model-registry/mlflow-server";
export * from "./monitoring/dcgm-exporter";
export * from "./monitoring/grafana-admin-credential";
export * from "./monitoring/grafana-dashboards";
export * from "./monitoring/kube-prometheus-stack";
export * from "./serving/kubernetes-inference-service";
