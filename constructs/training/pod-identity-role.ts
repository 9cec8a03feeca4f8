import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Lazy } from "cdktf";
import { Construct } from "constructs";
import { recordPackageVersion } from "../core/package-info";

/** One statement of an IAM policy. */
export interface RolePolicyStatement {
  /**
   * The statement's identifier, unique within the policy.
   * @default - none; the statement has no `Sid`
   */
  readonly Sid?: string;
  /**
   * Whether the statement allows or denies the actions.
   * @default "Allow"
   */
  readonly Effect?: "Allow" | "Deny";
  /** The actions the statement covers, such as `s3:GetObject`. */
  readonly Action: string | string[];
  /** The ARNs of the resources the statement covers. */
  readonly Resource: string | string[];
  /**
   * Conditions under which the statement applies: operator, then condition key, then value(s).
   * @default - none; the statement applies without conditions
   */
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/** Properties of a {@link PodIdentityRole}. */
export interface PodIdentityRoleProps {
  /** The role's name; deterministic, so other stacks can refer to it by ARN. */
  readonly roleName: string;
  /** The account whose EKS clusters may hand the role to pods (the `aws:SourceAccount` condition). */
  readonly accountId: string;
  /**
   * Only pods of this cluster may get the role (the `aws:SourceArn` condition).
   * @default any cluster of the account
   */
  readonly clusterArn?: string;
  /**
   * What the role is for, shown in the IAM console.
   * @default none
   */
  readonly description?: string;
  /**
   * AWS managed policies to attach, by ARN.
   * @default none
   */
  readonly managedPolicyArns?: readonly string[];
}

/**
 * The trust policy of a role for EKS Pod Identity: pods of this account's clusters may assume it, and only
 * those of the cluster `clusterArn` when it is given (`aws:SourceArn`), so that another cluster of the account,
 * such as another environment's, cannot hand the role to its pods.
 */
export function podIdentityTrustPolicy(accountId: string, clusterArn?: string): string {
  const condition: Record<string, Record<string, string>> = {
    StringEquals: { "aws:SourceAccount": accountId },
  };
  if (clusterArn) condition.ArnEquals = { "aws:SourceArn": clusterArn };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: condition,
      },
    ],
  });
}

/**
 * An IAM role that Kubernetes pods get through EKS Pod Identity: trusted by `pods.eks.amazonaws.com` for
 * `sts:AssumeRole` and `sts:TagSession`, only from this account (and cluster, when given). Associate it with
 * a service account with `GpuTrainingCluster.grantServiceAccount`.
 *
 * @example
 * const role = new PodIdentityRole(this, "TrainingJobs", { roleName: "mlops-dev-training-jobs", accountId });
 * role.addToPolicy({ Action: "s3:GetObject", Resource: "arn:aws:s3:::mlops-dev-raw/*" });
 * cluster.grantServiceAccount("training", "training", role);
 */
export class PodIdentityRole extends Construct {
  /** The IAM role. */
  readonly role: IamRole;
  /** The role's ARN. */
  readonly roleArn: string;
  /** The role's name. */
  readonly roleName: string;

  private readonly statements: RolePolicyStatement[] = [];
  private policy?: IamRolePolicy;

  constructor(scope: Construct, id: string, props: PodIdentityRoleProps) {
    super(scope, id);
    recordPackageVersion(this);
    this.role = new IamRole(this, "Resource", {
      name: props.roleName,
      description: props.description,
      assumeRolePolicy: podIdentityTrustPolicy(props.accountId, props.clusterArn),
    });
    this.roleArn = this.role.arn;
    this.roleName = props.roleName;
    for (const policyArn of props.managedPolicyArns ?? []) this.addManagedPolicy(policyArn);
  }

  /** Attaches an AWS managed policy; the attachment's id is the policy's name. */
  addManagedPolicy(policyArn: string): void {
    const policyName = policyArn.split("/").pop() ?? policyArn;
    new IamRolePolicyAttachment(this, `Attach${policyName}`, { role: this.role.name, policyArn });
  }

  /** Adds a statement to the role's inline policy (created on first use). */
  addToPolicy(statement: RolePolicyStatement): void {
    this.statements.push({ Effect: "Allow", ...statement });
    if (!this.policy) {
      this.policy = new IamRolePolicy(this, "Policy", {
        role: this.role.id,
        name: "permissions",
        policy: Lazy.stringValue({
          produce: () => JSON.stringify({ Version: "2012-10-17", Statement: this.statements }),
        }),
      });
    }
  }
}
