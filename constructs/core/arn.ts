/**
 * ARNs built from configuration instead of data sources, so that plans need no call to AWS and stacks can
 * refer to each other's resources by name.
 */

/** The AWS partition of a region: `aws`, `aws-cn` or `aws-us-gov`. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** Where resources live: the account and region of one environment. */
export interface AwsLocation {
  readonly accountId: string;
  readonly region: string;
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>`; pass `region: ""` for global services. */
export function arn(
  location: AwsLocation,
  service: string,
  resource: string,
  options: { global?: boolean } = {},
): string {
  const region = options.global ? "" : location.region;
  return `arn:${partitionOf(location.region)}:${service}:${region}:${location.accountId}:${resource}`;
}

/** The ARN of an IAM role by name. */
export function roleArn(location: AwsLocation, roleName: string): string {
  return arn(location, "iam", `role/${roleName}`, { global: true });
}

/** The ARN of an EKS cluster by name. */
export function eksClusterArn(location: AwsLocation, clusterName: string): string {
  return arn(location, "eks", `cluster/${clusterName}`);
}

/** The ARN of the account's root principal, which stands for "IAM policies of this account decide". */
export function accountRootArn(location: AwsLocation): string {
  return arn(location, "iam", "root", { global: true });
}

/** The ARN of an S3 bucket (S3 ARNs carry neither account nor region). */
export function bucketArn(region: string, bucketName: string): string {
  return `arn:${partitionOf(region)}:s3:::${bucketName}`;
}

/** The DNS suffix of a region's service endpoints. */
export function dnsSuffix(region: string): string {
  return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}
