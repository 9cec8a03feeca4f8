import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { arn, type AwsLocation } from "../core/arn";
import { recordPackageVersion } from "../core/package-info";

/** Properties of a {@link PodIdentityRole}. */
export interface PodIdentityRoleProps {
  /** Where the cluster and the role live. */
  readonly location: AwsLocation;
  /** IAM role name (at most 64 characters), deterministic so the cluster stack can name it too. */
  readonly roleName: string;
  /** EKS cluster whose pods assume the role. Pass the cluster resource's name to order creation after it. */
  readonly clusterName: string;
  /** Kubernetes namespace of the service account. */
  readonly namespace: string;
  /** Kubernetes service account whose pods get the role. */
  readonly serviceAccount: string;
  /**
   * What the role is for, shown in IAM.
   * @default - "<namespace>/<serviceAccount> on <clusterName>"
   */
  readonly description?: string;
}

/**
 * An IAM role that exactly one Kubernetes service account assumes through EKS Pod Identity: the role trusts
 * `pods.eks.amazonaws.com` only for this account's cluster, and a Pod Identity association binds it to the
 * service account. Permissions are added with {@link PodIdentityRole.addPolicy}.
 *
 * @example
 * const role = new PodIdentityRole(this, "AlertmanagerRole", {
 *   location, roleName: "mlops-dev-alertmanager", clusterName: cluster.name,
 *   namespace: "monitoring", serviceAccount: "alertmanager",
 * });
 * alertTopic.grantPublish(role.resource);
 */
export class PodIdentityRole extends Construct {
  /** The role. */
  readonly resource: IamRole;
  /** The Pod Identity association. */
  readonly association: EksPodIdentityAssociation;
  readonly roleName: string;
  /** The role's ARN, built from its name (known at synth). */
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: PodIdentityRoleProps) {
    super(scope, id);
    recordPackageVersion(this);
    if (props.roleName.length > 64 || !/^[\w+=,.@-]+$/.test(props.roleName)) {
      throw new Error(
        `PodIdentityRole ${this.node.path}: roleName "${props.roleName}" must be 1-64 letters, digits or +=,.@_- ` +
          '(use Naming.name("iamRole", ...))',
      );
    }
    this.roleName = props.roleName;
    this.roleArn = arn(props.location, "iam", `role/${props.roleName}`, { global: true });
    this.resource = new IamRole(this, "Resource", {
      name: props.roleName,
      description: props.description ?? `${props.namespace}/${props.serviceAccount} on ${props.clusterName}`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "EksPodIdentity",
            Effect: "Allow",
            Principal: { Service: "pods.eks.amazonaws.com" },
            Action: ["sts:AssumeRole", "sts:TagSession"],
            // Only Pod Identity of this account's cluster may hand the role out.
            Condition: {
              StringEquals: { "aws:SourceAccount": props.location.accountId },
              ArnEquals: { "aws:SourceArn": arn(props.location, "eks", `cluster/${props.clusterName}`) },
            },
          },
        ],
      }),
    });
    this.association = new EksPodIdentityAssociation(this, "Association", {
      clusterName: props.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      roleArn: this.resource.arn,
    });
  }

  /** Adds an inline policy `name` with `statements` to the role. */
  addPolicy(name: string, statements: readonly Record<string, unknown>[]): IamRolePolicy {
    return new IamRolePolicy(this, `Policy${name.replace(/[^A-Za-z0-9]/g, "")}`, {
      role: this.resource.name,
      name,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
    });
  }
}
