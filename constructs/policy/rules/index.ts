/** Every rule of the policy pack, in the order reports list them. */
import type { PolicyRule } from "../engine";
import { EKS_RULES, RDS_RULES, SAGEMAKER_RULES } from "./compute";
import { ECR_RULES, KMS_RULES } from "./ecr-kms";
import { IAM_RULES } from "./iam";
import { KUBERNETES_RULES } from "./kubernetes";
import { OPERATIONS_RULES } from "./operations";
import { S3_RULES } from "./s3";

export const RULES: readonly PolicyRule[] = [
  ...S3_RULES,
  ...ECR_RULES,
  ...KMS_RULES,
  ...EKS_RULES,
  ...RDS_RULES,
  ...SAGEMAKER_RULES,
  ...IAM_RULES,
  ...OPERATIONS_RULES,
  ...KUBERNETES_RULES,
];

/** A rule by id, or undefined. */
export function ruleById(id: string): PolicyRule | undefined {
  return RULES.find((rule) => rule.id === id);
}
