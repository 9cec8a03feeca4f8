import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Aspects, type IAspect } from "cdktf";
import type { IConstruct } from "constructs";

const IAM_POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;

/** Sets the boundary on every role that has none of its own. */
class BoundaryAspect implements IAspect {
  constructor(readonly policyArn: string) {}

  visit(node: IConstruct): void {
    if (node instanceof IamRole && node.permissionsBoundaryInput === undefined) {
      node.permissionsBoundary = this.policyArn;
    }
  }
}

/**
 * Puts a permissions boundary on every IAM role (`aws_iam_role`) under a construct, a stack or the whole app,
 * at synth, including roles that constructs create inside themselves. A role that sets its own
 * `permissionsBoundary` keeps it.
 *
 * @example
 * PermissionsBoundary.of(stack).apply("arn:aws:iam::111111111111:policy/mlops-prod-permissions-boundary");
 */
export class PermissionsBoundary {
  /** The boundaries of `scope`. */
  static of(scope: IConstruct): PermissionsBoundary {
    return new PermissionsBoundary(scope);
  }

  private constructor(private readonly scope: IConstruct) {}

  /**
   * Gives every role under the scope the managed policy `policyArn` as its permissions boundary.
   * @throws when `policyArn` is not the ARN of a managed IAM policy, or the scope already has another boundary
   */
  apply(policyArn: string): void {
    const where = this.scope.node.path || "the app";
    if (!IAM_POLICY_ARN.test(policyArn)) {
      throw new Error(
        `PermissionsBoundary.of(${where}).apply("${policyArn}"): not the ARN of a managed IAM policy (arn:aws:iam::<account>:policy/<name>)`,
      );
    }
    const aspects = Aspects.of(this.scope).all;
    const other = aspects.find((a) => a instanceof BoundaryAspect && a.policyArn !== policyArn);
    if (other) {
      throw new Error(
        `PermissionsBoundary.of(${where}).apply("${policyArn}"): the scope already has the boundary ${(other as BoundaryAspect).policyArn}; a role carries one`,
      );
    }
    if (!aspects.some((a) => a instanceof BoundaryAspect))
      Aspects.of(this.scope).add(new BoundaryAspect(policyArn));
  }

  /** The boundary applied to the scope itself (not one inherited from a parent), if any. */
  get policyArn(): string | undefined {
    const aspect = Aspects.of(this.scope).all.find((a) => a instanceof BoundaryAspect);
    return (aspect as BoundaryAspect | undefined)?.policyArn;
  }
}
