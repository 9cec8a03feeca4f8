/** Serving: SageMaker endpoints and Kubernetes inference services, and the model-access helpers they share. */
export * from "./kubernetes-inference-service";
export * from "./model-access";
export * from "./sagemaker-endpoint";
