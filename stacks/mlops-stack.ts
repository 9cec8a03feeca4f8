import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { arn } from "../constructs/core/arn";
import { Naming } from "../constructs/core/naming";
import { recordPackageVersion } from "../constructs/core/package-info";
import { PolicyPack, type IValidationRenderSharing } from "../constructs/policy/policy-pack";
import { PermissionsBoundary } from "../constructs/security/permissions-boundary";
import type { EnvironmentConfig } from "../environments/schema";
import { foreignReferences } from "./foreign-references";
import { renderStack } from "./stack-render";

/** How stacks are synthesized, decided once by `main.ts`. */
export interface SynthOptions {
  /**
   * Offline mode: a local backend with a relative path, no `allowed_account_ids` (mock credentials cannot
   * tell the account) and a provider that does not ask AWS who it is. For plans without an AWS account.
   * @default false
   */
  readonly offline?: boolean;
  /**
   * What the policy pack does with failures at level error: `enforce` stops synthesis, `report` turns them
   * into warnings (for `npm run policy`, which lists every finding and sets its own exit code).
   * @default "enforce"
   */
  readonly policy?: "enforce" | "report";
}

/** Properties of an {@link MlopsStack}. */
export interface MlopsStackProps extends SynthOptions {
  readonly config: EnvironmentConfig;
  /** The stack's part of the platform: `data`, `platform`, `cluster`, `bootstrap`... */
  readonly part: string;
  /**
   * Keep this stack's state in a local file even online (the bootstrap stack, whose state bucket it
   * creates itself).
   * @default false
   */
  readonly localState?: boolean;
  /**
   * The region the stack's AWS provider works in (the bootstrap stack's is the state's region).
   * @default the environment's region (`aws.region`)
   */
  readonly region?: string;
}

/** The alias of the KMS key that encrypts an environment's Terraform state: `alias/<project>-<env>-tfstate`. */
export function stateKeyAlias(naming: Naming): string {
  return `alias/${naming.name("kmsAlias", "tfstate")}`;
}

/** The name of the permissions boundary the bootstrap stack creates: `<project>-<env>-permissions-boundary`. */
export function permissionsBoundaryName(naming: Naming): string {
  return naming.name("iamPolicy", "permissions-boundary");
}

/**
 * The ARN of the permissions boundary every IAM role of the environment carries: `aws.permissionsBoundaryArn`,
 * or the policy the bootstrap stack creates ({@link permissionsBoundaryName}).
 */
export function permissionsBoundaryArn(config: EnvironmentConfig, naming: Naming): string {
  return (
    config.aws.permissionsBoundaryArn ??
    arn(config.aws, "iam", `policy/${permissionsBoundaryName(naming)}`, { global: true })
  );
}

/**
 * The oldest Terraform every stack declares it works with (`terraform.required_version`): S3-native state
 * locking (`use_lockfile`) came in Terraform 1.10. A stack that uses a newer feature raises its own with
 * {@link MlopsStack.requireTerraform}.
 */
export const MINIMUM_TERRAFORM_VERSION = "1.10";

/** A Terraform release as `major.minor` or `major.minor.patch`. */
const TERRAFORM_VERSION = /^(\d+)\.(\d+)(?:\.(\d+))?$/;

/** The numeric parts of a Terraform release, or an error naming the stack and the form it takes. */
function versionParts(version: string, where: string): number[] {
  const match = TERRAFORM_VERSION.exec(version);
  if (!match) {
    throw new Error(`${where}: Terraform version ${JSON.stringify(version)} must look like 1.11 or 1.11.4`);
  }
  return match.slice(1).map((part) => Number(part ?? 0));
}

/** The stack name of an environment's part: `mlops-<env>-<part>`. */
export function stackName(config: EnvironmentConfig, part: string): string {
  return `${config.project}-${config.name}-${part}`;
}

/**
 * A stack of one environment: named `<project>-<env>-<part>`, with its own state (S3 backend with native
 * locking, or a local file offline) and an AWS provider pinned to the environment's account and region and
 * tagging every resource.
 */
export class MlopsStack extends TerraformStack implements IValidationRenderSharing {
  readonly config: EnvironmentConfig;
  readonly naming: Naming;
  readonly offline: boolean;
  /** The region of the stack's AWS provider. */
  readonly region: string;
  readonly awsProvider: AwsProvider;
  /** The policy pack that checks this stack on every synth. */
  readonly policy: PolicyPack;

  /** The Terraform release this stack needs at least, written as `required_version = ">= <it>"`. */
  private minimumTerraform = MINIMUM_TERRAFORM_VERSION;

  /** Set while cdktf runs the validations, which a synth does right before rendering the stack. */
  private validating = false;
  /** The JSON rendered while validating, until the synthesizer's render takes it. */
  private renderedForValidation?: Record<string, unknown>;

  constructor(scope: Construct, props: MlopsStackProps) {
    const name = stackName(props.config, props.part);
    super(scope, name);
    const { config } = props;
    this.config = config;
    this.offline = props.offline ?? false;
    this.region = props.region ?? config.aws.region;
    this.naming = new Naming({ project: config.project, environment: config.name });
    recordPackageVersion(this);

    if (this.offline || props.localState) {
      // Relative to cdktf.out/stacks/<stack>: the state file sits at the project root, outside cdktf.out,
      // and the path is the same on every machine.
      new LocalBackend(this, { path: `../../../terraform.${name}.tfstate` });
    } else {
      const backend = new S3Backend(this, {
        bucket: config.state.bucket,
        key: `${config.name}/${name}.tfstate`,
        region: config.state.region,
        encrypt: true,
        // Without a key, `encrypt` makes Terraform ask S3 for SSE-S3 on every write, overriding the bucket's
        // default: state and lock files would not be encrypted with the state key.
        kmsKeyId: arn(
          { accountId: config.aws.accountId, region: config.state.region },
          "kms",
          stateKeyAlias(this.naming),
        ),
        ...(config.aws.assumeRoleArn ? { assumeRole: { roleArn: config.aws.assumeRoleArn } } : {}),
      });
      // S3-native locking (Terraform >= 1.10); cdktf 0.21's backend config predates the option.
      backend.addOverride("use_lockfile", true);
    }

    this.addOverride("terraform.required_version", `>= ${this.minimumTerraform}`);

    this.awsProvider = new AwsProvider(this, "aws", {
      region: this.region,
      ...(this.offline
        ? { skipCredentialsValidation: true, skipRequestingAccountId: true, skipMetadataApiCheck: "true" }
        : { allowedAccountIds: [config.aws.accountId] }),
      ...(config.aws.assumeRoleArn && !this.offline
        ? { assumeRole: [{ roleArn: config.aws.assumeRoleArn, sessionName: name }] }
        : {}),
      defaultTags: [
        {
          tags: {
            Project: config.project,
            Environment: config.name,
            ManagedBy: "cdktf",
            Repository: config.tags.repository,
            Owner: config.tags.owner,
            CostCenter: config.tags.costCenter,
          },
        },
      ],
    });

    this.node.addValidation({
      validate: () =>
        foreignReferences(this.renderForValidation()).map(
          (address) =>
            `${address} is referenced here but is not in this stack: a reference to another stack's resource ` +
            "would need that stack's state to plan. Refer to it by name (Naming) and ARN (constructs/core/arn.ts).",
        ),
    });

    // Every role of the stack carries the environment's boundary, so that a role that may manage IAM roles
    // (the CI deploy role) cannot make one that escapes it. The bootstrap stack creates the boundary.
    PermissionsBoundary.of(this).apply(permissionsBoundaryArn(config, this.naming));

    this.policy = PolicyPack.attach(this, {
      environment: config.name,
      tier: config.tier,
      rules: config.policy.rules,
      mode: props.policy ?? "enforce",
    });
  }

  /**
   * Runs every validation (the policy pack's and the reference check among them). When they pass, their
   * render is kept for the render that a synth does next; when one fails, synthesis stops and it is dropped.
   */
  override runAllValidations(): void {
    this.renderedForValidation = undefined;
    this.validating = true;
    try {
      super.runAllValidations();
    } catch (error) {
      this.renderedForValidation = undefined;
      throw error;
    } finally {
      this.validating = false;
    }
  }

  /**
   * Renders the stack for a validation. During a synth's validations the render is done once, shared by the
   * policy pack and the reference check, and kept for the render after.
   */
  renderForValidation(): Record<string, unknown> {
    if (this.validating && this.renderedForValidation) return this.renderedForValidation;
    const rendered = renderStack(this);
    if (this.validating) this.renderedForValidation = rendered;
    return rendered;
  }

  /**
   * cdktf prepares every stack before a synth by resolving each of its elements once more, only to find
   * references to other stacks and turn them into remote-state lookups: 40 % of a synth's time. Stacks here
   * never refer to one another (they agree on names and ARNs), so the pass is skipped, and a reference that
   * leaves the stack fails validation instead of silently needing another stack's state.
   */
  override prepareStack(): void {
    this.ensureBackendExists();
  }

  /**
   * The stack's Terraform JSON, as cdktf renders it but in about half the time (`stacks/stack-render.ts`). A
   * synth renders right after the validations pass, with nothing in between that changes the stack, and the
   * policy pack's validation has just rendered it: that render is taken instead of rendering again (rendering
   * is most of a synth's time). Any other call renders afresh.
   */
  override toTerraform(): Record<string, unknown> {
    const rendered = this.renderedForValidation;
    this.renderedForValidation = undefined;
    return rendered ?? renderStack(this);
  }

  /**
   * Raises the Terraform release this stack declares it needs (`terraform.required_version`) to at least
   * `minimum` (`1.11` or `1.11.4`), for a part that uses a newer language feature, such as write-only
   * attributes (1.11). An older Terraform then refuses the stack at `init`, naming the version, instead of
   * failing on the feature. A lower `minimum` than the stack's leaves it as it is.
   */
  requireTerraform(minimum: string): void {
    const wanted = versionParts(minimum, this.node.id);
    const current = versionParts(this.minimumTerraform, this.node.id);
    const difference = wanted.map((part, index) => part - current[index]).find((delta) => delta !== 0) ?? 0;
    if (difference <= 0) return;
    this.minimumTerraform = minimum;
    this.addOverride("terraform.required_version", `>= ${minimum}`);
  }

  /** Where this stack's resources live (its provider's region), for building ARNs without asking AWS. */
  get location(): { accountId: string; region: string } {
    return { accountId: this.config.aws.accountId, region: this.region };
  }
}
