import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Lazy } from "cdktf";
import { Construct } from "constructs";
import { type AwsLocation, accountRootArn, arn, dnsSuffix } from "../core/arn";
import {
  type PolicyStatement,
  attachInlinePolicy,
  grantId,
  policyDocument,
  roleArnFor,
  sameStack,
} from "../core/iam";
import type { Naming } from "../core/naming";
import { recordPackageVersion } from "../core/package-info";
import { keyDeletionWindow } from "../core/key-deletion-window";

/** Properties of an {@link EncryptionKey}. */
export interface EncryptionKeyProps {
  /** Names the key's alias: `alias/<project>-<env>-<purpose>`. */
  readonly naming: Naming;
  /** Account and region of the key, for the ARNs in its policy (no data source asks AWS). */
  readonly location: AwsLocation;
  /** What the key encrypts (`data`, `registry`, `logs`...); becomes part of the alias. */
  readonly purpose: string;
  /**
   * Shown in the KMS console.
   * @default "Encrypts <purpose> of <project>-<env>"
   */
  readonly description?: string;
  /**
   * Days a scheduled deletion waits, during which it can be cancelled (7-30).
   * @default 30
   */
  readonly deletionWindowDays?: number;
  /**
   * Service principals (such as `logs.eu-west-1.amazonaws.com`) that may use the key on this account's
   * behalf; each is limited to this account with `aws:SourceAccount`.
   * @default - none
   */
  readonly servicePrincipals?: string[];
  /**
   * Services (such as `s3`, `ecr`) through which principals of this account may use the key
   * (`kms:ViaService` in this region, `kms:CallerAccount` this account). The principal still needs an IAM
   * policy that allows the KMS action.
   * @default - none
   */
  readonly viaServices?: string[];
  /**
   * IAM principal ARN patterns (`arn:aws:iam::111111111111:role/mlops-dev-*`) that may use the key
   * directly, matched with `aws:PrincipalArn`, so roles that do not exist yet (or live in other stacks)
   * can be named. The principal still needs an IAM policy that allows the KMS action.
   * @default - none
   */
  readonly principalArnPatterns?: string[];
  /**
   * Terraform `lifecycle.prevent_destroy` on the key.
   * @default true
   */
  readonly preventDestroy?: boolean;
}

/** Key administration: manage, rotate, schedule deletion. Never encrypt or decrypt. */
export const KEY_ADMIN_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:CreateAlias",
  "kms:DeleteAlias",
  "kms:Describe*",
  "kms:Disable*",
  "kms:Enable*",
  "kms:Get*",
  "kms:List*",
  "kms:Put*",
  "kms:Revoke*",
  "kms:RotateKeyOnDemand",
  "kms:ScheduleKeyDeletion",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:Update*",
];

/** Using the key for data: what services and workloads need. */
export const KEY_USAGE_ACTIONS = [
  "kms:Decrypt",
  "kms:DescribeKey",
  "kms:Encrypt",
  "kms:GenerateDataKey*",
  "kms:ReEncrypt*",
];

/** Grants that AWS services (ECR, EBS, RDS...) create on the key for the resources they manage. */
const SERVICE_GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"];

const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/;
const SERVICE_NAME = /^[a-z0-9-]+$/;

/**
 * A customer-managed KMS key for one purpose of one environment, with rotation on, an alias from
 * {@link Naming}, and a key policy in which the account may administer the key but only the listed
 * services, via-services and principal patterns may use it.
 *
 * Other stacks refer to the key by its alias ({@link EncryptionKey.aliasNameFor}), never by a cross-stack
 * reference: {@link EncryptionKey.usageStatementByAlias} gives them an IAM statement on
 * `arn:...:key/*` narrowed by `kms:ResourceAliases`.
 *
 * @example
 * const key = new EncryptionKey(this, "DataKey", {
 *   naming, location, purpose: "data", deletionWindowDays: 30, viaServices: ["s3"],
 * });
 * key.grantEncryptDecrypt(trainingRole);
 */
export class EncryptionKey extends Construct {
  /** `alias/<project>-<env>-<purpose>`, the same in every stack. */
  static aliasNameFor(naming: Naming, purpose: string): string {
    return `alias/${naming.name("kmsAlias", purpose)}`;
  }

  /** The ARN of the alias of the key of `purpose`. */
  static aliasArnFor(naming: Naming, location: AwsLocation, purpose: string): string {
    return arn(location, "kms", EncryptionKey.aliasNameFor(naming, purpose));
  }

  /**
   * An IAM statement that allows `actions` on the key whose alias is `aliasName`, for a role in a stack
   * that cannot know the key's ARN: any key of the account and region, narrowed by `kms:ResourceAliases`.
   * `viaService` (such as `s3`) further limits use to requests made through that service.
   */
  static usageStatementByAlias(
    location: AwsLocation,
    aliasName: string,
    actions: string[],
    options: { viaService?: string; sid?: string } = {},
  ): PolicyStatement {
    return {
      ...(options.sid ? { Sid: options.sid } : {}),
      Effect: "Allow",
      Action: actions,
      Resource: arn(location, "kms", "key/*"),
      Condition: {
        "ForAnyValue:StringEquals": { "kms:ResourceAliases": aliasName },
        ...(options.viaService
          ? { StringEquals: { "kms:ViaService": viaServiceName(options.viaService, location.region) } }
          : {}),
      },
    };
  }

  /** The key. */
  readonly key: KmsKey;
  /** The key's alias. */
  readonly alias: KmsAlias;
  /** `alias/<project>-<env>-<purpose>`. */
  readonly aliasName: string;
  /** What the key encrypts. */
  readonly purpose: string;

  private readonly location: AwsLocation;
  private readonly servicePrincipals = new Set<string>();
  private readonly viaServices = new Set<string>();
  private readonly principalArnPatterns = new Set<string>();

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    recordPackageVersion(this);
    const deletionWindowDays = keyDeletionWindow(
      props.deletionWindowDays ?? 30,
      this.node.path,
      "deletionWindowDays",
    );
    this.location = props.location;
    this.purpose = props.purpose;
    this.aliasName = EncryptionKey.aliasNameFor(props.naming, props.purpose);
    for (const service of props.servicePrincipals ?? []) this.allowServicePrincipal(service);
    for (const service of props.viaServices ?? []) this.allowViaService(service);
    for (const pattern of props.principalArnPatterns ?? []) this.allowPrincipalArnPattern(pattern);

    this.key = new KmsKey(this, "Resource", {
      description: props.description ?? `Encrypts ${props.purpose} of ${props.naming.prefix}`,
      enableKeyRotation: true,
      deletionWindowInDays: deletionWindowDays,
      // Rendered at synth, so grants added after construction still reach the policy.
      policy: Lazy.stringValue({ produce: () => JSON.stringify(policyDocument(this.policyStatements())) }),
      lifecycle: { preventDestroy: props.preventDestroy ?? true },
    });
    this.alias = new KmsAlias(this, "Alias", { name: this.aliasName, targetKeyId: this.key.keyId });
  }

  /** The key's ARN (a token: use it only in this stack). */
  get keyArn(): string {
    return this.key.arn;
  }

  /** The key's id (a token: use it only in this stack). */
  get keyId(): string {
    return this.key.keyId;
  }

  /** The alias's ARN, built from configuration (usable in any stack). */
  get aliasArn(): string {
    return arn(this.location, "kms", this.aliasName);
  }

  /** Lets `servicePrincipal` (such as `logs.eu-west-1.amazonaws.com`) use the key for this account. */
  allowServicePrincipal(servicePrincipal: string): void {
    if (!SERVICE_PRINCIPAL.test(servicePrincipal)) {
      throw new Error(
        `${this.node.path}: "${servicePrincipal}" is not a service principal; use a name such as logs.eu-west-1.amazonaws.com`,
      );
    }
    this.servicePrincipals.add(servicePrincipal);
  }

  /** Lets principals of this account use the key through `service` (such as `s3`) in this region. */
  allowViaService(service: string): void {
    if (!SERVICE_NAME.test(service)) {
      throw new Error(
        `${this.node.path}: "${service}" is not a service name; use the endpoint prefix, such as s3 or ecr`,
      );
    }
    this.viaServices.add(service);
  }

  /** Lets principals whose ARN matches `pattern` (wildcards allowed) use the key. */
  allowPrincipalArnPattern(pattern: string): void {
    if (!/^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):/.test(pattern) && !pattern.startsWith("${")) {
      throw new Error(
        `${this.node.path}: "${pattern}" is not an IAM principal ARN pattern; use one such as arn:aws:iam::111111111111:role/mlops-dev-*`,
      );
    }
    this.principalArnPatterns.add(pattern);
  }

  /**
   * Lets `role` encrypt and decrypt with the key: its ARN joins the key policy, and the role gets an inline
   * policy allowing the usage actions. A role in another stack must have a literal name; its policy then
   * refers to the key by alias, so no cross-stack reference is made.
   */
  grantEncryptDecrypt(role: IamRole): void {
    this.allowPrincipalArnPattern(roleArnFor(this, role, this.location, this.node.path));
    const statement: PolicyStatement = sameStack(this, role)
      ? { Sid: "UseKey", Effect: "Allow", Action: KEY_USAGE_ACTIONS, Resource: this.key.arn }
      : EncryptionKey.usageStatementByAlias(this.location, this.aliasName, KEY_USAGE_ACTIONS, {
          sid: "UseKey",
        });
    attachInlinePolicy(role, grantId("KmsEncryptDecrypt", this.purpose), `${this.aliasName.slice(6)}-use`, [
      statement,
    ]);
  }

  /** The key policy's statements, in a stable order. */
  private policyStatements(): PolicyStatement[] {
    const root = accountRootArn(this.location);
    const statements: PolicyStatement[] = [
      {
        // Administration only: who may use the key is decided by the statements below, never by IAM alone.
        Sid: "AccountAdministersKey",
        Effect: "Allow",
        Principal: { AWS: root },
        Action: KEY_ADMIN_ACTIONS,
        Resource: "*",
      },
    ];
    const services = [...this.servicePrincipals].sort();
    if (services.length > 0) {
      statements.push({
        Sid: "AllowServicesForThisAccount",
        Effect: "Allow",
        Principal: { Service: services },
        Action: KEY_USAGE_ACTIONS,
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": this.location.accountId } },
      });
    }
    const via = [...this.viaServices].sort().map((service) => viaServiceName(service, this.location.region));
    if (via.length > 0) {
      const condition = {
        StringEquals: { "kms:ViaService": via, "kms:CallerAccount": this.location.accountId },
      };
      statements.push(
        {
          Sid: "AllowUseThroughServices",
          Effect: "Allow",
          Principal: { AWS: root },
          Action: KEY_USAGE_ACTIONS,
          Resource: "*",
          Condition: condition,
        },
        {
          // ECR, EBS and RDS keep a grant on the key for as long as the resource they encrypt exists.
          Sid: "AllowServiceGrantsForAwsResources",
          Effect: "Allow",
          Principal: { AWS: root },
          Action: SERVICE_GRANT_ACTIONS,
          Resource: "*",
          Condition: { ...condition, Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
      );
    }
    const patterns = [...this.principalArnPatterns].sort();
    if (patterns.length > 0) {
      statements.push({
        Sid: "AllowNamedPrincipals",
        Effect: "Allow",
        Principal: { AWS: root },
        Action: KEY_USAGE_ACTIONS,
        Resource: "*",
        Condition: { ArnLike: { "aws:PrincipalArn": patterns } },
      });
    }
    return statements;
  }
}

/** `s3.eu-west-1.amazonaws.com`: the value of `kms:ViaService` for `service` in `region`. */
export function viaServiceName(service: string, region: string): string {
  return `${service}.${region}.${dnsSuffix(region)}`;
}
