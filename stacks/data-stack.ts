import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { roleArn } from "../constructs/core/arn";
import { pascalCase } from "../constructs/core/naming";
import { AccessLogBucket } from "../constructs/data/access-log-bucket";
import { VersionedDataBucket } from "../constructs/data/versioned-data-bucket";
import { ContainerRegistry } from "../constructs/registry/container-registry";
import { EncryptionKey } from "../constructs/security/encryption-key";
import { compareCodeUnits } from "../constructs/core/order";
import type { EnvironmentConfig } from "../environments/schema";
import { MlopsStack, type SynthOptions } from "./mlops-stack";

/**
 * `<project>-<env>-data`: the environment's stateful resources (encryption keys, data buckets, container
 * registries), kept apart from compute so that a compute change can never plan their destruction.
 * Other stacks refer to them by their deterministic names, never through cross-stack references:
 * `DataBucketReference.fromPurpose(...)`, `ContainerRegistry.repositoryUrlFor(...)`,
 * `EncryptionKey.aliasNameFor(...)`.
 */
export class DataStack extends MlopsStack {
  /** Encrypts every data bucket (`alias/<project>-<env>-data`). */
  readonly dataKey: EncryptionKey;
  /** Encrypts every image (`alias/<project>-<env>-registry`). */
  readonly registryKey: EncryptionKey;
  /** Receives the server access logs of every data bucket. */
  readonly accessLogBucket: AccessLogBucket;
  /** The data buckets, keyed by purpose. */
  readonly buckets: Readonly<Record<string, VersionedDataBucket>>;
  /** The ECR repositories and registry-wide settings. */
  readonly registry: ContainerRegistry;

  constructor(scope: Construct, config: EnvironmentConfig, options: SynthOptions = {}) {
    super(scope, { ...options, config, part: "data" });
    const naming = this.naming;
    const location = this.location;
    const { preventDestroy, forceDestroy, keyDeletionWindowDays } = config.protection;
    // Roles of this environment, wherever they are created (platform stack, CI): the trust boundary of
    // the keys. Each role still needs its own IAM grant.
    const environmentRoles = roleArn(location, `${naming.prefix}-*`);
    const keyProps = { naming, location, deletionWindowDays: keyDeletionWindowDays, preventDestroy };

    this.dataKey = new EncryptionKey(this, "DataKey", {
      ...keyProps,
      purpose: "data",
      viaServices: ["s3"],
      principalArnPatterns: [environmentRoles],
    });
    this.registryKey = new EncryptionKey(this, "RegistryKey", {
      ...keyProps,
      purpose: "registry",
      viaServices: ["ecr"],
    });

    this.accessLogBucket = new AccessLogBucket(this, "AccessLogs", {
      naming,
      location,
      retentionDays: config.data.accessLogs.retentionDays,
      preventDestroy,
      forceDestroy,
    });

    const buckets: Record<string, VersionedDataBucket> = {};
    for (const [purpose, bucket] of Object.entries(config.data.buckets).sort(([a], [b]) =>
      compareCodeUnits(a, b),
    )) {
      buckets[purpose] = new VersionedDataBucket(this, `${pascalCase(purpose)}Bucket`, {
        naming,
        location,
        purpose,
        encryptionKey: this.dataKey,
        accessLogBucketName: this.accessLogBucket.bucketName,
        accessLogDependsOn: [this.accessLogBucket.bucket, this.accessLogBucket.policy],
        noncurrentVersionExpirationDays: bucket.noncurrentVersionExpirationDays,
        noncurrentVersionInfrequentAccessDays: bucket.noncurrentVersionInfrequentAccessDays,
        noncurrentVersionGlacierDays: bucket.noncurrentVersionGlacierDays,
        abortIncompleteMultipartUploadDays: bucket.abortIncompleteMultipartUploadDays,
        intelligentTiering: bucket.intelligentTiering,
        objectLock: bucket.objectLock,
        replication: bucket.replication,
        preventDestroy,
        forceDestroy,
      });
    }
    this.buckets = buckets;

    const { registry } = config;
    // A role ARN pattern as written; a name pattern after the environment's prefix.
    const rolePattern = (role: string) =>
      role.startsWith("arn:") ? role : roleArn(location, `${naming.prefix}-${role}`);
    this.registry = new ContainerRegistry(this, "Registry", {
      naming,
      location,
      encryptionKey: this.registryKey,
      repositories: registry.repositories,
      pushPrincipalArnPatterns: [
        ...registry.pushRoles.map(rolePattern),
        // The deploy role may push: its PowerUserAccess could rewrite the repository policy anyway.
        ...(config.ci.github.repository ? [roleArn(location, naming.name("iamRole", "github-deploy"))] : []),
      ],
      pullPrincipalArnPatterns: registry.pullRoles.map(rolePattern),
      enhancedScanning: registry.enhancedScanning,
      pullThroughCache: registry.pullThroughCache,
      replicationRegions: registry.replicationRegions,
      forceDelete: forceDestroy,
      preventDestroy,
    });

    new TerraformOutput(this, "data_key_alias", {
      value: this.dataKey.aliasName,
      description: "Alias of the KMS key that encrypts the data buckets",
    });
    new TerraformOutput(this, "registry_key_alias", {
      value: this.registryKey.aliasName,
      description: "Alias of the KMS key that encrypts the container images",
    });
    new TerraformOutput(this, "access_log_bucket_name", {
      value: this.accessLogBucket.bucketName,
      description: "Bucket that receives the data buckets' server access logs",
    });
  }
}
