/** The public API of the package: constructs and the helpers they are used with. Re-exports only. */
export * from "./core/arn";
export * from "./core/naming";
export * from "./network/mlops-network";
export * from "./network/subnet-layout";
export * from "./training/gpu-instance-types";
export * from "./training/gpu-node-group";
export * from "./training/gpu-training-cluster";
export * from "./training/node-launch-template";
export * from "./training/pod-identity-role";
