/**
 * `mlops-platform/kubernetes`: the constructs that need the optional peer `@cdktf/provider-kubernetes`, kept
 * out of the main entry point so that AWS-only consumers do not have to install it. Re-exports only.
 */
export * from "./serving/kubernetes-inference-service";
