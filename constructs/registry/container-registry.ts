import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrPullThroughCacheRule } from "@cdktf/provider-aws/lib/ecr-pull-through-cache-rule";
import { EcrRegistryScanningConfiguration } from "@cdktf/provider-aws/lib/ecr-registry-scanning-configuration";
import { EcrReplicationConfiguration } from "@cdktf/provider-aws/lib/ecr-replication-configuration";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { EcrRepositoryPolicy } from "@cdktf/provider-aws/lib/ecr-repository-policy";
import { Lazy, TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { type AwsLocation, arn, dnsSuffix } from "../core/arn";
import { type PolicyStatement, attachInlinePolicy, grantId, policyDocument, roleArnFor } from "../core/iam";
import { type Naming, pascalCase } from "../core/naming";
import type { EncryptionKey } from "../security/encryption-key";
import { recordPackageVersion } from "../core/package-info";

/** Lifecycle settings of one repository. */
export interface ContainerRepositorySettings {
  /**
   * Days after its push after which an untagged image (one no tag points to) expires. The count starts at the
   * push, not when the image loses its tag: an image older than this expires as soon as it loses its tag.
   * @default 7
   */
  readonly untaggedImageExpiryDays?: number;
  /**
   * How many release images (tags starting with one of `releaseTagPrefixes`) are kept, per prefix.
   * @default 30
   */
  readonly keepReleaseImages?: number;
  /**
   * Tag prefixes that mark a release image.
   * @default ["v"]
   */
  readonly releaseTagPrefixes?: string[];
}

/** Public registries that ECR can cache without credentials, and their upstream URLs. */
export const PULL_THROUGH_CACHE_UPSTREAMS = {
  "ecr-public": "public.ecr.aws",
  k8s: "registry.k8s.io",
  quay: "quay.io",
} as const;

/** A public registry ECR can cache without credentials. */
export type PullThroughCacheUpstream = keyof typeof PULL_THROUGH_CACHE_UPSTREAMS;

/** Properties of a {@link ContainerRegistry}. */
export interface ContainerRegistryProps {
  readonly naming: Naming;
  /** Account and region of the registry, for ARNs and URLs built without asking AWS. */
  readonly location: AwsLocation;
  /** Customer-managed key that encrypts every image. */
  readonly encryptionKey: EncryptionKey;
  /** The repositories, keyed by short name (`training`, `inference`, `mlflow`); named `<project>-<env>-<name>`. */
  readonly repositories: Record<string, ContainerRepositorySettings>;
  /**
   * IAM principal ARN patterns that may push (the CI role). Everyone else is denied pushes by the
   * repository policy, whatever their IAM policies say.
   * @default - none: pushes are decided by IAM policies alone
   */
  readonly pushPrincipalArnPatterns?: string[];
  /**
   * IAM principal ARN patterns that may pull (workload and node roles). They also need an IAM policy
   * (see {@link ContainerRegistry.pullStatements}).
   * @default - none
   */
  readonly pullPrincipalArnPatterns?: string[];
  /**
   * Registry-wide enhanced scanning (Amazon Inspector): continuous scanning of this environment's
   * repositories, scan on push of all others. Costs per image scanned.
   * @default false - basic scanning on push
   */
  readonly enhancedScanning?: boolean;
  /**
   * Pull-through cache rules for public registries, so clusters pull `<account>.dkr.ecr.<region>.amazonaws.com/<upstream>/...`
   * instead of the internet.
   * @default - none
   */
  readonly pullThroughCache?: PullThroughCacheUpstream[];
  /**
   * Regions this environment's repositories are replicated to (same account).
   * @default - none
   */
  readonly replicationRegions?: string[];
  /**
   * Let `terraform destroy` delete repositories that still hold images. Only for disposable (dev)
   * environments; contradicts `preventDestroy`.
   * @default false
   */
  readonly forceDelete?: boolean;
  /**
   * Terraform `lifecycle.prevent_destroy` on every repository.
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * Add a Terraform output `<name>_repository_url` per repository.
   * @default true
   */
  readonly outputs?: boolean;
}

const PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];
const PUSH_ACTIONS = [
  ...PULL_ACTIONS,
  "ecr:CompleteLayerUpload",
  "ecr:InitiateLayerUpload",
  "ecr:PutImage",
  "ecr:UploadLayerPart",
];
const REPOSITORY_NAME = /^[a-z][a-z0-9-]{0,40}[a-z0-9]$/;

/**
 * The environment's container registry: one ECR repository per entry of `repositories`, each with
 * IMMUTABLE tags, scan on push, KMS encryption with the registry key, a lifecycle policy (expire untagged
 * images, keep the last N release images) and a repository policy (the CI role pushes, workload roles
 * pull, other accounts are denied). Options: registry enhanced scanning, pull-through cache rules for
 * public registries, cross-region replication.
 *
 * @example
 * const registry = new ContainerRegistry(this, "Registry", {
 *   naming, location, encryptionKey: registryKey,
 *   repositories: { training: {}, inference: {}, mlflow: { keepReleaseImages: 10 } },
 *   pushPrincipalArnPatterns: ["arn:aws:iam::111111111111:role/mlops-dev-ci-*"],
 * });
 * registry.grantPull(inferenceRole);
 */
export class ContainerRegistry extends Construct {
  /** `<project>-<env>-<name>`: the name of repository `name`, the same in every stack. */
  static repositoryNameFor(naming: Naming, name: string): string {
    return naming.name("ecr", name);
  }

  /** The ARN of repository `name`, built from configuration. */
  static repositoryArnFor(naming: Naming, location: AwsLocation, name: string): string {
    return arn(location, "ecr", `repository/${ContainerRegistry.repositoryNameFor(naming, name)}`);
  }

  /** `<account>.dkr.ecr.<region>.amazonaws.com/<project>-<env>-<name>`, for image references. */
  static repositoryUrlFor(naming: Naming, location: AwsLocation, name: string): string {
    const host = `${location.accountId}.dkr.ecr.${location.region}.${dnsSuffix(location.region)}`;
    return `${host}/${ContainerRegistry.repositoryNameFor(naming, name)}`;
  }

  /**
   * IAM statements that let a role pull from `names` (all repositories of the environment when empty),
   * for a role defined in another stack: `ecr:GetAuthorizationToken` (account-wide by design) and the
   * pull actions on the repositories' ARNs.
   */
  static pullStatements(naming: Naming, location: AwsLocation, names: string[] = []): PolicyStatement[] {
    return accessStatements(naming, location, names, PULL_ACTIONS, "PullImages");
  }

  /**
   * What a principal needs, besides pulling, to pull an image through the pull-through cache rules of
   * `upstreams`: the first pull of an image imports it (`ecr:BatchImportUpstreamImage`) into a repository that
   * ECR creates under the rule's prefix (`ecr:CreateRepository`). Nodes pulling `<registry>/k8s/...` need both.
   */
  static pullThroughCacheStatements(
    location: AwsLocation,
    upstreams: readonly PullThroughCacheUpstream[],
  ): PolicyStatement[] {
    if (upstreams.length === 0) return [];
    return [
      {
        Sid: "ImportThroughPullThroughCache",
        Effect: "Allow",
        Action: ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
        Resource: [...new Set(upstreams)]
          .sort()
          .map((prefix) => arn(location, "ecr", `repository/${prefix}/*`)),
      },
    ];
  }

  /** Like {@link pullStatements}, and also push. */
  static pushStatements(naming: Naming, location: AwsLocation, names: string[] = []): PolicyStatement[] {
    return accessStatements(naming, location, names, PUSH_ACTIONS, "PushImages");
  }

  /** The repositories, keyed by short name. */
  readonly repositories: Record<string, EcrRepository> = {};
  private readonly naming: Naming;
  private readonly location: AwsLocation;
  private readonly pushPatterns = new Set<string>();
  private readonly pullPatterns = new Set<string>();

  constructor(scope: Construct, id: string, props: ContainerRegistryProps) {
    super(scope, id);
    recordPackageVersion(this);
    const where = this.node.path;
    const { naming, location } = props;
    this.naming = naming;
    this.location = location;
    const forceDelete = props.forceDelete ?? false;
    const preventDestroy = props.preventDestroy ?? true;
    if (forceDelete && preventDestroy) {
      throw new Error(`${where}: forceDelete contradicts preventDestroy; turn one of them off`);
    }
    const names = Object.keys(props.repositories).sort();
    if (names.length === 0) {
      throw new Error(`${where}: repositories is empty; declare at least one, such as { training: {} }`);
    }
    for (const pattern of props.pushPrincipalArnPatterns ?? []) this.allowPush(pattern);
    for (const pattern of props.pullPrincipalArnPatterns ?? []) this.allowPull(pattern);
    props.encryptionKey.allowViaService("ecr");

    for (const name of names) {
      if (!REPOSITORY_NAME.test(name)) {
        throw new Error(
          `${where}: repository name "${name}" must be 2-42 lowercase letters, digits or hyphens, starting with a letter`,
        );
      }
      const settings = props.repositories[name];
      const constructId = pascalCase(name);
      const repository = new EcrRepository(this, `${constructId}Repository`, {
        name: ContainerRegistry.repositoryNameFor(naming, name),
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: [{ encryptionType: "KMS", kmsKey: props.encryptionKey.keyArn }],
        forceDelete,
        lifecycle: { preventDestroy },
      });
      this.repositories[name] = repository;
      new EcrLifecyclePolicy(this, `${constructId}LifecyclePolicy`, {
        repository: repository.name,
        policy: JSON.stringify(lifecyclePolicy(settings, `${where}.repositories.${name}`)),
      });
      new EcrRepositoryPolicy(this, `${constructId}RepositoryPolicy`, {
        repository: repository.name,
        // Rendered at synth, so grants added after construction still reach the policy.
        policy: Lazy.stringValue({
          produce: () => JSON.stringify(policyDocument(this.repositoryPolicyStatements())),
        }),
      });
      if (props.outputs ?? true) {
        new TerraformOutput(this, `${constructId}RepositoryUrlOutput`, {
          value: ContainerRegistry.repositoryUrlFor(naming, location, name),
          description: `Image repository for ${name} images (tags are immutable)`,
        }).overrideLogicalId(`${name.replace(/-/g, "_")}_repository_url`);
      }
    }

    if (props.enhancedScanning) {
      new EcrRegistryScanningConfiguration(this, "ScanningConfiguration", {
        scanType: "ENHANCED",
        rule: [
          {
            scanFrequency: "CONTINUOUS_SCAN",
            repositoryFilter: [{ filter: `${naming.prefix}-*`, filterType: "WILDCARD" }],
          },
          { scanFrequency: "SCAN_ON_PUSH", repositoryFilter: [{ filter: "*", filterType: "WILDCARD" }] },
        ],
      });
    }

    for (const upstream of [...new Set(props.pullThroughCache ?? [])].sort()) {
      const url = PULL_THROUGH_CACHE_UPSTREAMS[upstream];
      if (!url) {
        throw new Error(
          `${where}: pullThroughCache "${upstream}" is not a registry ECR caches without credentials; use ${Object.keys(PULL_THROUGH_CACHE_UPSTREAMS).join(", ")}`,
        );
      }
      new EcrPullThroughCacheRule(this, `${pascalCase(upstream)}PullThroughCache`, {
        ecrRepositoryPrefix: upstream,
        upstreamRegistryUrl: url,
      });
    }

    const regions = [...new Set(props.replicationRegions ?? [])].sort();
    for (const region of regions) {
      if (region === location.region) {
        throw new Error(
          `${where}: replicationRegions lists ${region}, the registry's own region; list other regions only`,
        );
      }
    }
    if (regions.length > 0) {
      new EcrReplicationConfiguration(this, "Replication", {
        replicationConfiguration: {
          rule: [
            {
              destination: regions.map((region) => ({ region, registryId: location.accountId })),
              repositoryFilter: [{ filter: `${naming.prefix}-`, filterType: "PREFIX_MATCH" }],
            },
          ],
        },
      });
    }
  }

  /** The names of the repositories' short names, sorted. */
  get repositoryNames(): string[] {
    return Object.keys(this.repositories).sort();
  }

  /** `<account>.dkr.ecr.<region>.amazonaws.com/<project>-<env>-<name>`. */
  repositoryUrl(name: string): string {
    this.requireRepository(name);
    return ContainerRegistry.repositoryUrlFor(this.naming, this.location, name);
  }

  /** The ARN of repository `name`, a plain string usable in any stack. */
  repositoryArn(name: string): string {
    this.requireRepository(name);
    return ContainerRegistry.repositoryArnFor(this.naming, this.location, name);
  }

  /** Lets principals matching `pattern` push, in the repository policies. */
  allowPush(pattern: string): void {
    this.pushPatterns.add(checkPattern(pattern, this.node.path));
  }

  /** Lets principals matching `pattern` pull, in the repository policies. */
  allowPull(pattern: string): void {
    this.pullPatterns.add(checkPattern(pattern, this.node.path));
  }

  /**
   * Lets `role` pull from every repository (or only `names`): its ARN joins the repository policies and it
   * gets an inline policy in its own stack. A role in another stack must have a literal name.
   */
  grantPull(role: IamRole, names: string[] = []): IamRolePolicy {
    names.forEach((name) => this.requireRepository(name));
    this.allowPull(roleArnFor(this, role, this.location, `${this.node.path}.grantPull`));
    return attachInlinePolicy(
      role,
      grantId("EcrPull", this.naming.prefix, ...names),
      `${this.naming.prefix}-ecr-pull${names.length ? `-${names.join("-")}` : ""}`,
      ContainerRegistry.pullStatements(this.naming, this.location, names),
    );
  }

  /** Lets `role` push to (and pull from) every repository (or only `names`), like {@link grantPull}. */
  grantPush(role: IamRole, names: string[] = []): IamRolePolicy {
    names.forEach((name) => this.requireRepository(name));
    this.allowPush(roleArnFor(this, role, this.location, `${this.node.path}.grantPush`));
    return attachInlinePolicy(
      role,
      grantId("EcrPush", this.naming.prefix, ...names),
      `${this.naming.prefix}-ecr-push${names.length ? `-${names.join("-")}` : ""}`,
      ContainerRegistry.pushStatements(this.naming, this.location, names),
    );
  }

  private requireRepository(name: string): void {
    if (!this.repositories[name]) {
      throw new Error(
        `${this.node.path}: no repository named "${name}"; the registry has ${this.repositoryNames.join(", ")}`,
      );
    }
  }

  private repositoryPolicyStatements(): PolicyStatement[] {
    const statements: PolicyStatement[] = [
      {
        // Environments live in separate accounts; no other account reads or writes these images. AWS
        // services acting with their own principal (which has no account) are left to the statements below.
        Sid: "DenyOtherAccounts",
        Effect: "Deny",
        Principal: "*",
        Action: "ecr:*",
        Condition: {
          StringNotEquals: { "aws:PrincipalAccount": this.location.accountId },
          Bool: { "aws:PrincipalIsAWSService": "false" },
        },
      },
    ];
    const root = { AWS: arn(this.location, "iam", "root", { global: true }) };
    const pull = [...this.pullPatterns].sort();
    const push = [...this.pushPatterns].sort();
    if (pull.length > 0) {
      statements.push({
        Sid: "AllowPull",
        Effect: "Allow",
        Principal: root,
        Action: PULL_ACTIONS,
        Condition: { ArnLike: { "aws:PrincipalArn": pull } },
      });
    }
    if (push.length > 0) {
      statements.push(
        {
          Sid: "AllowPush",
          Effect: "Allow",
          Principal: root,
          Action: PUSH_ACTIONS,
          Condition: { ArnLike: { "aws:PrincipalArn": push } },
        },
        {
          // Immutable tags stop overwrites; this stops anyone but CI from publishing images at all.
          Sid: "DenyPushExceptAllowedPushers",
          Effect: "Deny",
          Principal: "*",
          Action: [
            "ecr:CompleteLayerUpload",
            "ecr:InitiateLayerUpload",
            "ecr:PutImage",
            "ecr:UploadLayerPart",
          ],
          Condition: { ArnNotLike: { "aws:PrincipalArn": push } },
        },
      );
    }
    return statements;
  }
}

function accessStatements(
  naming: Naming,
  location: AwsLocation,
  names: string[],
  actions: string[],
  sid: string,
): PolicyStatement[] {
  const repositories =
    names.length > 0
      ? names.map((name) => ContainerRegistry.repositoryArnFor(naming, location, name))
      : [arn(location, "ecr", `repository/${naming.prefix}-*`)];
  return [
    // GetAuthorizationToken has no resource: the token opens the registry, the repository actions below decide.
    { Sid: "GetRegistryToken", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    { Sid: sid, Effect: "Allow", Action: actions, Resource: repositories },
  ];
}

/** The ECR lifecycle policy: expire untagged images, then keep the last N images per release tag prefix. */
export function lifecyclePolicy(settings: ContainerRepositorySettings, where: string): { rules: unknown[] } {
  const untaggedDays = settings.untaggedImageExpiryDays ?? 7;
  const keep = settings.keepReleaseImages ?? 30;
  const prefixes = settings.releaseTagPrefixes ?? ["v"];
  if (!Number.isInteger(untaggedDays) || untaggedDays < 1) {
    throw new Error(
      `${where}: untaggedImageExpiryDays is ${untaggedDays}; it must be a whole number of days, at least 1`,
    );
  }
  if (!Number.isInteger(keep) || keep < 1) {
    throw new Error(`${where}: keepReleaseImages is ${keep}; it must be a whole number, at least 1`);
  }
  if (prefixes.length === 0 || prefixes.some((prefix) => !/^[A-Za-z0-9._-]+$/.test(prefix))) {
    throw new Error(
      `${where}: releaseTagPrefixes must list at least one tag prefix such as "v" (letters, digits, . _ -)`,
    );
  }
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images after ${untaggedDays} days`,
        selection: {
          tagStatus: "untagged",
          countType: "sinceImagePushed",
          countUnit: "days",
          countNumber: untaggedDays,
        },
        action: { type: "expire" },
      },
      // One rule per prefix: a rule with several prefixes only matches images carrying all of them.
      ...prefixes.map((prefix, index) => ({
        rulePriority: 2 + index,
        description: `Keep the last ${keep} release images tagged ${prefix}*`,
        selection: {
          tagStatus: "tagged",
          tagPrefixList: [prefix],
          countType: "imageCountMoreThan",
          countNumber: keep,
        },
        action: { type: "expire" },
      })),
    ],
  };
}

function checkPattern(pattern: string, where: string): string {
  if (!/^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):/.test(pattern) && !pattern.startsWith("${")) {
    throw new Error(
      `${where}: "${pattern}" is not an IAM principal ARN pattern; use one such as arn:aws:iam::111111111111:role/mlops-dev-ci-*`,
    );
  }
  return pattern;
}
