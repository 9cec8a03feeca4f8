import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { type AwsLocation, bucketArn } from "../core/arn";
import {
  type PolicyStatement,
  attachInlinePolicy,
  grantId,
  policyDocument,
  type PolicyDocument,
} from "../core/iam";
import type { Naming } from "../core/naming";
import { EncryptionKey, viaServiceName } from "../security/encryption-key";

/** What a grant allows: reading objects, or reading, writing and deleting them. */
export type BucketAccess = "read" | "readWrite";

/** Properties of a {@link DataBucketReference}. */
export interface DataBucketReferenceProps {
  /** The bucket's name. */
  readonly bucketName: string;
  /** Account and region of the bucket and its key. */
  readonly location: AwsLocation;
  /** Alias of the KMS key that encrypts the bucket (`alias/mlops-dev-data`). */
  readonly keyAliasName: string;
  /**
   * The key's ARN, when the caller is in the key's stack. Grants then name the key itself instead of
   * "any key with this alias".
   * @default - the key is matched by its alias with `kms:ResourceAliases`
   */
  readonly keyArn?: string;
}

/** Properties of {@link DataBucketReference.fromPurpose}. */
export interface DataBucketByPurposeProps {
  readonly naming: Naming;
  readonly location: AwsLocation;
  /** The bucket's purpose (`raw`, `model-artifacts`...). */
  readonly purpose: string;
  /**
   * Purpose of the key that encrypts the bucket.
   * @default "data"
   */
  readonly keyPurpose?: string;
}

const OBJECT_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"];
// No s3:DeleteObjectVersion: on a versioned bucket, a workload can hide an object but never destroy history.
const OBJECT_WRITE_ACTIONS = [
  "s3:AbortMultipartUpload",
  "s3:DeleteObject",
  "s3:ListMultipartUploadParts",
  "s3:PutObject",
  "s3:PutObjectTagging",
];

/**
 * The default name of the data bucket of `purpose`: `<project>-<env>-<purpose>-<account>`. The account id
 * makes the name globally unique (S3 names are shared by every account) and lets other stacks compute it.
 */
export function dataBucketName(naming: Naming, location: AwsLocation, purpose: string): string {
  return naming.name("s3", purpose, location.accountId);
}

/**
 * A data bucket known by name, in any stack: its name and ARN, and grants that give a role least-privilege
 * access to the bucket (or a prefix of it) and to its KMS key, without a cross-stack reference.
 *
 * @example
 * // In the platform stack, where the training role lives:
 * const raw = DataBucketReference.fromPurpose({ naming, location, purpose: "raw" });
 * raw.grantRead(trainingRole, "datasets/imagenet");
 */
export class DataBucketReference {
  /** The data bucket of `purpose` as {@link VersionedDataBucket} names it, encrypted with the data key. */
  static fromPurpose(props: DataBucketByPurposeProps): DataBucketReference {
    return new DataBucketReference({
      bucketName: dataBucketName(props.naming, props.location, props.purpose),
      location: props.location,
      keyAliasName: EncryptionKey.aliasNameFor(props.naming, props.keyPurpose ?? "data"),
    });
  }

  readonly bucketName: string;
  /** `arn:aws:s3:::<bucket>`, a plain string usable in any stack. */
  readonly bucketArn: string;
  readonly keyAliasName: string;
  private readonly location: AwsLocation;
  private readonly keyArn?: string;

  constructor(props: DataBucketReferenceProps) {
    this.bucketName = props.bucketName;
    this.bucketArn = bucketArn(props.location.region, props.bucketName);
    this.keyAliasName = props.keyAliasName;
    this.location = props.location;
    this.keyArn = props.keyArn;
  }

  /** `s3://<bucket>/<prefix>`. */
  s3Url(prefix = ""): string {
    const normalized = normalizePrefix(prefix, this.bucketName);
    return normalized ? `s3://${this.bucketName}/${normalized}` : `s3://${this.bucketName}`;
  }

  /**
   * The least-privilege statements for `access` to the whole bucket or to `prefix` (a folder such as
   * `datasets/imagenet`): list only under the prefix, objects only under it, and the KMS actions S3 needs
   * on the bucket's key, only through S3.
   */
  policyStatements(access: BucketAccess, prefix = ""): PolicyStatement[] {
    const normalized = normalizePrefix(prefix, this.bucketName);
    const objects = normalized ? `${this.bucketArn}/${normalized}/*` : `${this.bucketArn}/*`;
    const statements: PolicyStatement[] = [
      {
        Sid: "ListObjects",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: this.bucketArn,
        // Only `<prefix>/`, never `<prefix>` alone, which would also list `<prefix>-other/...`.
        ...(normalized
          ? { Condition: { StringLike: { "s3:prefix": [`${normalized}/`, `${normalized}/*`] } } }
          : {}),
      },
      { Sid: "LocateBucket", Effect: "Allow", Action: "s3:GetBucketLocation", Resource: this.bucketArn },
      { Sid: "ReadObjects", Effect: "Allow", Action: OBJECT_READ_ACTIONS, Resource: objects },
    ];
    if (access === "readWrite") {
      statements.push({
        Sid: "WriteObjects",
        Effect: "Allow",
        Action: OBJECT_WRITE_ACTIONS,
        Resource: objects,
      });
    }
    // Reading needs Decrypt; writing also GenerateDataKey (and Decrypt again for multipart uploads).
    const keyActions = access === "read" ? ["kms:Decrypt"] : ["kms:Decrypt", "kms:GenerateDataKey"];
    statements.push(
      this.keyArn
        ? {
            Sid: "UseBucketKeyThroughS3",
            Effect: "Allow",
            Action: keyActions,
            Resource: this.keyArn,
            Condition: { StringEquals: { "kms:ViaService": viaServiceName("s3", this.location.region) } },
          }
        : EncryptionKey.usageStatementByAlias(this.location, this.keyAliasName, keyActions, {
            viaService: "s3",
            sid: "UseBucketKeyThroughS3",
          }),
    );
    return statements;
  }

  /** The statements of {@link policyStatements} as a policy document, for a role defined elsewhere. */
  policyDocument(access: BucketAccess, prefix = ""): PolicyDocument {
    return policyDocument(this.policyStatements(access, prefix));
  }

  /** Lets `role` list and read objects of the bucket, or only under `prefix`. */
  grantRead(role: IamRole, prefix = ""): IamRolePolicy {
    return this.grant(role, "read", prefix);
  }

  /** Lets `role` list, read, write and delete (hide behind a delete marker) objects, or only under `prefix`. */
  grantReadWrite(role: IamRole, prefix = ""): IamRolePolicy {
    return this.grant(role, "readWrite", prefix);
  }

  private grant(role: IamRole, access: BucketAccess, prefix: string): IamRolePolicy {
    const normalized = normalizePrefix(prefix, this.bucketName);
    const verb = access === "read" ? "S3Read" : "S3ReadWrite";
    return attachInlinePolicy(
      role,
      grantId(verb, this.bucketName, normalized),
      [this.bucketName, access === "read" ? "read" : "read-write", normalized].filter(Boolean).join("-"),
      this.policyStatements(access, normalized),
    );
  }
}

/** `datasets/imagenet` from `/datasets/imagenet/`; throws on wildcards and relative segments. */
export function normalizePrefix(prefix: string, bucketName: string): string {
  const normalized = prefix.replace(/^\/+|\/+$/g, "");
  if (/[*?]/.test(normalized) || normalized.split("/").some((part) => part === ".." || part === ".")) {
    throw new Error(
      `grant on bucket ${bucketName}: prefix "${prefix}" must be a plain folder such as datasets/imagenet, without wildcards or . and .. segments`,
    );
  }
  return normalized;
}
