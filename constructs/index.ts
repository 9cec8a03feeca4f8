/** The public API of the package: constructs and the helpers they are used with. Re-exports only. */
export * from "./core/arn";
export * from "./core/iam";
export * from "./core/naming";
export * from "./data/access-log-bucket";
export * from "./data/bucket-policies";
export * from "./data/data-bucket-reference";
export * from "./data/versioned-data-bucket";
export * from "./model-registry/model-registry";
export * from "./network/mlops-network";
export * from "./network/subnet-layout";
export * from "./registry/container-registry";
export * from "./security/encryption-key";
export * from "./training/gpu-instance-types";
export * from "./training/gpu-node-group";
export * from "./training/gpu-training-cluster";
export * from "./training/node-launch-template";
export * from "./training/pod-identity-role";
