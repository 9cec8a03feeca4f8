/**
 * What a model server may touch, as plain IAM statements: its model's artifacts (one prefix of the
 * model-artifacts bucket, decrypted through S3 only), its container image, and the pinned image reference
 * itself. Shared by {@link SageMakerEndpoint} and {@link KubernetesInferenceService} so both serve a model
 * with the same least privilege.
 */
import { arn, bucketArn, dnsSuffix, type AwsLocation } from "../core/arn";
import type { PolicyStatement } from "../core/iam";

/**
 * A KMS key another stack owns. Key ARNs are random, so a key from another stack is named by its alias:
 * the statement then covers the account's keys narrowed to that alias with `kms:ResourceAliases`.
 */
export type KeyReference =
  /** A key whose ARN this stack knows (a key it creates itself). */
  | { readonly keyArn: string }
  /** A key known by its alias, with or without the `alias/` prefix (`alias/mlops-dev-data`). */
  | { readonly aliasName: string };

/** `alias/<name>` whatever form the alias was given in. */
function qualifiedAlias(aliasName: string): string {
  return aliasName.startsWith("alias/") ? aliasName : `alias/${aliasName}`;
}

/**
 * The identifier a SageMaker API field accepts for `key`: the key ARN, or the alias ARN (data capture and
 * monitoring outputs accept either).
 */
export function keyIdentifier(location: AwsLocation, key: KeyReference): string {
  return "keyArn" in key ? key.keyArn : arn(location, "kms", qualifiedAlias(key.aliasName));
}

/** Narrowing of a {@link keyStatement}. */
export interface KeyStatementOptions {
  /**
   * Allow the calls only through this service (`s3`), so the key cannot decrypt data taken elsewhere.
   * @default - any caller
   */
  readonly viaService?: string;
  /**
   * Further conditions, merged operator by operator with the ones `viaService` and an alias reference add
   * (`StringEquals` `kms:ViaService`, `ForAnyValue:StringEquals` `kms:ResourceAliases`). A condition key that
   * those set too is refused rather than overwritten either way.
   * @default - none
   */
  readonly condition?: Record<string, Record<string, string | string[]>>;
}

/** A statement that allows `actions` on `key`. */
export function keyStatement(
  location: AwsLocation,
  sid: string,
  key: KeyReference,
  actions: string[],
  options: KeyStatementOptions = {},
): PolicyStatement {
  const { viaService } = options;
  const condition: Record<string, Record<string, string | string[]>> = Object.fromEntries(
    Object.entries(options.condition ?? {}).map(([operator, keys]) => [operator, { ...keys }]),
  );
  const add = (operator: string, conditionKey: string, value: string) => {
    const keys = (condition[operator] ??= {});
    if (conditionKey in keys) {
      throw new Error(
        `keyStatement ${sid}: condition ${operator} ${conditionKey} is set by the statement itself ` +
          `(${JSON.stringify(value)}); drop it from options.condition`,
      );
    }
    keys[conditionKey] = value;
  };
  if (viaService) {
    add("StringEquals", "kms:ViaService", `${viaService}.${location.region}.${dnsSuffix(location.region)}`);
  }
  if ("aliasName" in key) {
    add("ForAnyValue:StringEquals", "kms:ResourceAliases", qualifiedAlias(key.aliasName));
  }
  return {
    Sid: sid,
    Effect: "Allow",
    Action: actions,
    Resource: "keyArn" in key ? key.keyArn : arn(location, "kms", "key/*"),
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

/** Where a model's artifacts are: one prefix of the model-artifacts bucket and the key that encrypts it. */
export interface ModelArtifactsLocation {
  /** Name of the model-artifacts bucket (from the data stack, by name). */
  readonly bucketName: string;
  /** The model's prefix in the bucket, such as `churn/v12`; the server may read nothing else. */
  readonly prefix: string;
  /** The key the bucket encrypts objects with. */
  readonly key: KeyReference;
}

/** `churn/v12` from `/churn/v12/`: no leading or trailing slash, so statements are built one way. */
export function normalizeModelPrefix(prefix: string, where: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, "");
  if (trimmed === "" || trimmed.includes("*") || trimmed.includes("..")) {
    throw new Error(
      `${where}: model prefix "${prefix}" must name one folder of the model-artifacts bucket (such as "churn/v12"), without wildcards or "..".`,
    );
  }
  return trimmed;
}

/** Statements that let a model server read its own prefix and nothing else of the bucket. */
export function modelArtifactReadStatements(
  location: AwsLocation,
  artifacts: ModelArtifactsLocation,
): PolicyStatement[] {
  const bucket = bucketArn(location.region, artifacts.bucketName);
  return [
    {
      Sid: "ReadModelArtifacts",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion"],
      Resource: `${bucket}/${artifacts.prefix}/*`,
    },
    {
      Sid: "ListModelArtifacts",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: bucket,
      Condition: { StringLike: { "s3:prefix": [artifacts.prefix, `${artifacts.prefix}/*`] } },
    },
    keyStatement(location, "DecryptModelArtifacts", artifacts.key, ["kms:Decrypt"], { viaService: "s3" }),
  ];
}

/** A policy document of `statements`, as the JSON an IAM resource takes. */
export function policyJson(statements: PolicyStatement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Checks that an image is pinned to exactly one immutable version: a tag other than `latest`, or a digest.
 * Returns the suffix to append to the repository (`:v1.2.0` or `@sha256:...`).
 */
export function pinnedVersion(version: { tag?: string; digest?: string }, where: string): string {
  const { tag, digest } = version;
  if ((tag === undefined) === (digest === undefined)) {
    throw new Error(
      `${where}: give the image exactly one of tag (such as "v1.4.2") or digest ("sha256:..."), so what runs is pinned.`,
    );
  }
  if (digest !== undefined) {
    if (!DIGEST.test(digest))
      throw new Error(`${where}: digest "${digest}" must look like sha256:<64 hex characters>.`);
    return `@${digest}`;
  }
  if (tag!.toLowerCase() === "latest") {
    throw new Error(
      `${where}: tag "latest" moves; pin a release tag (such as "v1.4.2") or a digest instead.`,
    );
  }
  if (!TAG.test(tag!)) throw new Error(`${where}: tag "${tag}" is not a valid image tag.`);
  return `:${tag}`;
}

/**
 * Checks a full image reference (`registry/repo:tag` or `registry/repo@sha256:...`) is pinned: it has a
 * digest, or a tag that is not `latest`.
 */
export function checkPinnedImage(image: string, where: string): string {
  const at = image.indexOf("@");
  if (at >= 0) {
    pinnedVersion({ digest: image.slice(at + 1) }, where);
    return image;
  }
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  if (colon < 0) {
    throw new Error(
      `${where}: image "${image}" has no tag, so it means "latest"; pin a release tag or a digest.`,
    );
  }
  pinnedVersion({ tag: image.slice(colon + 1) }, where);
  return image;
}

/** The URL of a private ECR repository of `location`'s account and region. */
export function ecrRepositoryUrl(location: AwsLocation, repositoryName: string): string {
  return `${location.accountId}.dkr.ecr.${location.region}.${dnsSuffix(location.region)}/${repositoryName}`;
}

/** Statements that let a role pull from one ECR repository (the token call cannot be scoped). */
export function ecrPullStatements(location: AwsLocation, repositoryName: string): PolicyStatement[] {
  return [
    {
      Sid: "PullModelImage",
      Effect: "Allow",
      Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
      Resource: arn(location, "ecr", `repository/${repositoryName}`),
    },
    {
      // GetAuthorizationToken is account-wide by design; what can be pulled is decided by the statement above.
      Sid: "GetRegistryToken",
      Effect: "Allow",
      Action: "ecr:GetAuthorizationToken",
      Resource: "*",
    },
  ];
}
