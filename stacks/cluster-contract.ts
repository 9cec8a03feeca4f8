/**
 * What the platform stack (AWS side of the cluster) and the cluster stack (Kubernetes side) agree on by
 * name, so that neither needs a cross-stack reference: the cluster's name, and the service accounts that
 * get AWS roles through EKS Pod Identity.
 */
import type { Naming } from "../constructs/core/naming";

/** The EKS cluster of an environment: `<project>-<env>-eks`. */
export function clusterNameOf(naming: Naming): string {
  return naming.name("eks", "eks");
}

/** A Kubernetes service account that gets an AWS role. */
export interface ServiceAccountIdentity {
  readonly namespace: string;
  readonly name: string;
  /** Purpose part of the IAM role's name (`<project>-<env>-<rolePurpose>`). */
  readonly rolePurpose: string;
}

/** The cluster autoscaler: resizes the node groups' Auto Scaling groups. */
export const CLUSTER_AUTOSCALER_IDENTITY: ServiceAccountIdentity = {
  namespace: "kube-system",
  name: "cluster-autoscaler",
  rolePurpose: "cluster-autoscaler",
};

/** Training jobs: read the data buckets. */
export const TRAINING_IDENTITY: ServiceAccountIdentity = {
  namespace: "training",
  name: "training",
  rolePurpose: "training-jobs",
};

/** The data buckets training jobs read (their purposes, as the data stack names them). */
export const TRAINING_DATA_BUCKETS = ["raw", "curated", "features"] as const;

/** The self-hosted MLflow server: reads its database and credential secrets, writes model artifacts. */
export const MLFLOW_IDENTITY: ServiceAccountIdentity = {
  namespace: "mlflow",
  name: "mlflow",
  rolePurpose: "mlflow-server",
};
