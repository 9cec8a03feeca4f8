/**
 * Stateful resources: the Terraform types whose destruction loses data or something that cannot be recreated
 * as it was (keys, databases, registries, clusters). Shared by the protection rule, the address inventory
 * (`npm run stateful:update`) and the pull-request review.
 */
import { stackResources, type SynthesizedStackJson } from "./engine";

export const STATEFUL_RESOURCE_TYPES = [
  "aws_s3_bucket",
  "aws_kms_key",
  "aws_ecr_repository",
  "aws_db_instance",
  "aws_rds_cluster",
  "aws_eks_cluster",
  "aws_eks_node_group",
  "aws_cloudwatch_log_group",
  "aws_sagemaker_endpoint",
  "aws_sagemaker_model_package_group",
  "aws_sagemaker_mlflow_tracking_server",
  "aws_sagemaker_domain",
  "aws_efs_file_system",
  "aws_fsx_lustre_file_system",
  "aws_dynamodb_table",
  "aws_prometheus_workspace",
  "aws_ebs_volume",
  "kubernetes_persistent_volume_claim",
  "kubernetes_persistent_volume_claim_v1",
  "kubernetes_persistent_volume",
  "kubernetes_persistent_volume_v1",
] as const;

/** True for a Terraform type in {@link STATEFUL_RESOURCE_TYPES}. */
export function isStateful(type: string): boolean {
  return (STATEFUL_RESOURCE_TYPES as readonly string[]).includes(type);
}

/** The addresses of a synthesized stack's stateful resources, sorted. */
export function statefulAddresses(json: SynthesizedStackJson): string[] {
  return stackResources(json)
    .filter((resource) => resource.mode === "managed" && isStateful(resource.type))
    .map((resource) => resource.address)
    .sort();
}

/** The stack's `moved` blocks as a map from old address to new address. */
export function movedAddresses(json: SynthesizedStackJson): Map<string, string> {
  return new Map((json.moved ?? []).map((move) => [move.from, move.to]));
}
