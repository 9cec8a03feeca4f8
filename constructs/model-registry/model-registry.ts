import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SagemakerMlflowTrackingServer } from "@cdktf/provider-aws/lib/sagemaker-mlflow-tracking-server";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { accountRootArn, arn, bucketArn, dnsSuffix, eksClusterArn, type AwsLocation } from "../core/arn";
import type { Naming } from "../core/naming";
import { recordPackageVersion } from "../core/package-info";
import { podIdentityTrustPolicy } from "../training/pod-identity-role";
import { engineVersionProblem } from "./engine-version";
import { keyDeletionWindow } from "../core/key-deletion-window";

/** Where MLflow keeps its metadata: our own server on EKS with RDS, or SageMaker's managed MLflow. */
export type ModelRegistryBackend = "self-hosted" | "sagemaker-managed";

/** The sizes of a SageMaker managed MLflow tracking server. */
export type ManagedTrackingServerSize = "Small" | "Medium" | "Large";

/** The PostgreSQL backend store of a self-hosted registry. */
export interface ModelRegistryDatabaseProps {
  /** VPC the database and its security group live in. */
  readonly vpcId: string;
  /** Private subnets (at least two, in different zones) for the DB subnet group. */
  readonly subnetIds: readonly string[];
  /** Security groups of the cluster's nodes and pods: the only sources allowed to reach port 5432. */
  readonly allowedSecurityGroupIds: readonly string[];
  /**
   * RDS instance class.
   * @default "db.t4g.medium"
   */
  readonly instanceClass?: string;
  /**
   * PostgreSQL major version, such as `16`. RDS applies minor versions automatically, so a minor version
   * (`16.4`) is refused: once RDS had moved the database on, every plan would try to downgrade it, which RDS
   * refuses. Changing the major version upgrades the database only with `allowMajorVersionUpgrade`.
   * @default "16"
   */
  readonly engineVersion?: string;
  /**
   * Let a change of `engineVersion` upgrade the database to the new major version. The upgrade, and every
   * other change to the instance, is then applied during the deploy (with downtime) instead of in the
   * maintenance window; turn it off again once the upgrade is done.
   * @default false
   */
  readonly allowMajorVersionUpgrade?: boolean;
  /**
   * Initial storage (GiB); storage autoscaling grows it up to `maxAllocatedStorageGiB`.
   * @default 20
   */
  readonly allocatedStorageGiB?: number;
  /**
   * Ceiling of storage autoscaling (GiB).
   * @default 100
   */
  readonly maxAllocatedStorageGiB?: number;
  /**
   * A standby in a second availability zone.
   * @default true
   */
  readonly multiAz?: boolean;
  /**
   * RDS refuses to delete the instance until this is turned off.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Days automated backups are kept (1-35).
   * @default 14
   */
  readonly backupRetentionDays?: number;
  /**
   * Delete without a final snapshot. Only for disposable environments.
   * @default false
   */
  readonly skipFinalSnapshot?: boolean;
  /**
   * Retention of the PostgreSQL and upgrade log groups.
   * @default 365
   */
  readonly logRetentionDays?: number;
}

/** The SageMaker managed MLflow tracking server. */
export interface ModelRegistryManagedServerProps {
  /**
   * Capacity of the tracking server.
   * @default "Small"
   */
  readonly size?: ManagedTrackingServerSize;
  /**
   * MLflow version of the server (one SageMaker offers, such as `2.16`).
   * @default - SageMaker's current default version
   */
  readonly mlflowVersion?: string;
  /**
   * Start of the weekly maintenance window, UTC, as `DDD:HH:MM`.
   * @default "SUN:03:00"
   */
  readonly weeklyMaintenanceWindowStart?: string;
}

/** The Kubernetes identity the self-hosted MLflow server runs as. */
export interface ModelRegistryServerIdentityProps {
  /**
   * Namespace of the MLflow server.
   * @default "mlflow"
   */
  readonly namespace?: string;
  /**
   * Service account of the MLflow server.
   * @default "mlflow"
   */
  readonly serviceAccountName?: string;
  /**
   * EKS cluster in which to associate the service account with the server role through EKS Pod Identity.
   * @default - no association is created here; associate `serverRole` with the service account yourself
   */
  readonly clusterName?: string;
  /**
   * The EKS cluster whose pods may get the server role (the `aws:SourceArn` condition of its trust policy),
   * so that another cluster of the account (dev and test may share one) cannot hand the role to its pods.
   * @default - the ARN of `clusterName` when it is given, otherwise any cluster of the account
   */
  readonly clusterArn?: string;
}

/** Properties of a {@link ModelRegistry}. */
export interface ModelRegistryProps {
  /** Names resources `<project>-<env>-mlflow...`. */
  readonly naming: Naming;
  /** Account and region, for ARNs built without asking AWS. */
  readonly location: AwsLocation;
  /**
   * Which MLflow backend to run.
   * @default "self-hosted"
   */
  readonly backend?: ModelRegistryBackend;
  /** Name of the versioned bucket that holds model artifacts. */
  readonly artifactBucketName: string;
  /**
   * Key prefix of MLflow's artifacts in that bucket (no leading or trailing slash).
   * @default "mlflow"
   */
  readonly artifactPrefix?: string;
  /**
   * Alias (`alias/...`) of the KMS key that encrypts the artifact bucket. Its ARN is random and lives in
   * another stack, so access is granted on the account's keys that carry this alias.
   */
  readonly artifactKeyAlias: string;
  /**
   * The PostgreSQL backend store. Required for the `self-hosted` backend, ignored otherwise.
   * @default - none; required with the `self-hosted` backend (the default)
   */
  readonly database?: ModelRegistryDatabaseProps;
  /**
   * The Kubernetes identity of the self-hosted server.
   * @default - namespace and service account `mlflow`, no Pod Identity association
   */
  readonly server?: ModelRegistryServerIdentityProps;
  /**
   * The managed tracking server. Used by the `sagemaker-managed` backend.
   * @default - a Small server, maintenance on Sundays at 03:00 UTC
   */
  readonly managedServer?: ModelRegistryManagedServerProps;
  /**
   * KMS key (ARN) for the database storage, its master password secret, MLflow's credential secrets and
   * log groups.
   * @default - the registry creates its own key with rotation on
   */
  readonly encryptionKeyArn?: string;
  /**
   * Days a scheduled deletion of the registry's own key waits (7-30).
   * @default 30
   */
  readonly keyDeletionWindowDays?: number;
  /**
   * Days a deleted credential secret can still be restored (7-30).
   * @default 30
   */
  readonly secretRecoveryWindowDays?: number;
  /**
   * Terraform `lifecycle.prevent_destroy` on the database, key, secrets, log groups and managed server.
   * @default true
   */
  readonly preventDestroy?: boolean;
}

/** The deterministic names a registry's parts get, so the cluster stack can refer to them by name. */
export interface ModelRegistryNames {
  /** RDS instance identifier of the backend store. */
  readonly databaseIdentifier: string;
  /** Secrets Manager secret that holds MLflow's admin credential (basic-auth). */
  readonly adminSecretName: string;
  /** Secrets Manager secret that holds the credential training and inference workloads log in with. */
  readonly workloadsSecretName: string;
  /** IAM role of the self-hosted MLflow server (EKS Pod Identity). */
  readonly serverRoleName: string;
  /** SageMaker managed tracking server. */
  readonly trackingServerName: string;
}

/** The names of the registry of `naming`'s environment; the same in every stack. */
export function modelRegistryNames(naming: Naming): ModelRegistryNames {
  return {
    databaseIdentifier: naming.name("rds", "mlflow"),
    adminSecretName: naming.name("secret", "mlflow", "admin"),
    workloadsSecretName: naming.name("secret", "mlflow", "workloads"),
    serverRoleName: naming.name("iamRole", "mlflow-server"),
    trackingServerName: naming.name("sagemaker", "mlflow"),
  };
}

/** The database name and master user of the backend store. */
export const MLFLOW_DATABASE_NAME = "mlflow";
const MASTER_USERNAME = "mlflow";
const POSTGRES_PORT = 5432;
const MAINTENANCE_WINDOW = /^(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):[0-5]\d$/;

interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * One MLflow model registry per environment.
 *
 * - `self-hosted`: the backend store is an encrypted, private RDS PostgreSQL instance reachable only from
 *   the cluster's security groups, with its master password managed by Secrets Manager and TLS forced; the
 *   MLflow server itself runs in the cluster stack (`MlflowServer`) under the Pod Identity role
 *   `serverRole`. Two credential secrets are created empty: Terraform never sees their values, which the
 *   server generates with Secrets Manager's `GetRandomPassword` on first start (see docs/model-registry.md).
 * - `sagemaker-managed`: a SageMaker MLflow tracking server with automatic model registration and an
 *   execution role scoped to the artifact prefix.
 *
 * Either way artifacts go to `s3://<artifactBucketName>/<artifactPrefix>` and `grantAccess(role)` lets a
 * training job or inference service use the registry. The stack gets the outputs `mlflow_tracking_uri` and
 * `mlflow_artifact_store_uri` (and `mlflow_tracking_server_url` when managed), so one registry per stack.
 *
 * @example
 * const registry = new ModelRegistry(this, "ModelRegistry", {
 *   naming, location, artifactBucketName: "mlops-dev-model-artifacts", artifactKeyAlias: "alias/mlops-dev-data",
 *   database: { vpcId, subnetIds, allowedSecurityGroupIds: [clusterSecurityGroupId] },
 * });
 * registry.grantAccess(trainingRole);
 */
export class ModelRegistry extends Construct {
  /** The backend in use. */
  readonly backend: ModelRegistryBackend;
  /** The registry's names (identical in every stack of the environment). */
  readonly names: ModelRegistryNames;
  /** `s3://<bucket>/<prefix>`, where MLflow stores artifacts. */
  readonly artifactStoreUri: string;
  /** The URI clients set as `MLFLOW_TRACKING_URI` (in-cluster URL, or the managed server's ARN). */
  readonly trackingUri: string;
  /** Key that encrypts the database, its secrets and logs (self-hosted only). */
  readonly encryptionKeyArn?: string;
  /** The backend store (self-hosted only). */
  readonly database?: DbInstance;
  /** Security group of the database (self-hosted only). */
  readonly databaseSecurityGroup?: SecurityGroup;
  /** Secret holding MLflow's admin credential (self-hosted only). */
  readonly adminSecret?: SecretsmanagerSecret;
  /** Secret holding the workloads' credential (self-hosted only). */
  readonly workloadsSecret?: SecretsmanagerSecret;
  /** Pod Identity role of the MLflow server (self-hosted only). */
  readonly serverRole?: IamRole;
  /** The managed tracking server (sagemaker-managed only). */
  readonly trackingServer?: SagemakerMlflowTrackingServer;
  /** Execution role of the managed tracking server (sagemaker-managed only). */
  readonly trackingServerRole?: IamRole;

  private readonly location: AwsLocation;
  private readonly artifactBucketName: string;
  private readonly artifactPrefix: string;
  private readonly artifactKeyAlias: string;
  private readonly grantedRoles = new Set<IamRole>();

  constructor(scope: Construct, id: string, props: ModelRegistryProps) {
    super(scope, id);
    recordPackageVersion(this);
    this.backend = props.backend ?? "self-hosted";
    this.names = modelRegistryNames(props.naming);
    this.location = props.location;
    this.artifactBucketName = props.artifactBucketName;
    this.artifactPrefix = validatePrefix(props.artifactPrefix ?? "mlflow", this.node.path);
    this.artifactKeyAlias = props.artifactKeyAlias;
    if (!this.artifactKeyAlias.startsWith("alias/")) {
      throw new Error(
        `${this.node.path}: artifactKeyAlias "${this.artifactKeyAlias}" must be a KMS alias name starting with "alias/"`,
      );
    }
    this.artifactStoreUri = `s3://${this.artifactBucketName}/${this.artifactPrefix}`;
    const preventDestroy = props.preventDestroy ?? true;

    if (this.backend === "self-hosted") {
      if (!props.database) {
        throw new Error(
          `${this.node.path}: the self-hosted backend needs \`database\` (VPC, private subnets and the cluster's security groups)`,
        );
      }
      const namespace = props.server?.namespace ?? "mlflow";
      const serviceAccountName = props.server?.serviceAccountName ?? "mlflow";
      this.trackingUri = `http://mlflow.${namespace}.svc.cluster.local:5000`;
      const key = props.encryptionKeyArn ?? this.createKey(props, preventDestroy).arn;
      this.encryptionKeyArn = key;
      const database = this.createDatabase(props.database, key, preventDestroy);
      this.database = database.instance;
      this.databaseSecurityGroup = database.securityGroup;
      const recoveryWindowInDays = checkRange(
        props.secretRecoveryWindowDays ?? 30,
        7,
        30,
        "secretRecoveryWindowDays",
        this.node.path,
      );
      this.adminSecret = new SecretsmanagerSecret(this, "AdminSecret", {
        name: this.names.adminSecretName,
        description:
          "MLflow basic-auth admin credential; generated by the MLflow server on first start, never by Terraform",
        kmsKeyId: key,
        recoveryWindowInDays,
        lifecycle: { preventDestroy },
      });
      this.workloadsSecret = new SecretsmanagerSecret(this, "WorkloadsSecret", {
        name: this.names.workloadsSecretName,
        description:
          "MLflow credential of training and inference workloads; generated by the MLflow server on first start",
        kmsKeyId: key,
        recoveryWindowInDays,
        lifecycle: { preventDestroy },
      });
      const clusterName = props.server?.clusterName;
      const clusterArn =
        props.server?.clusterArn ?? (clusterName ? eksClusterArn(this.location, clusterName) : undefined);
      this.serverRole = this.createServerRole(key, clusterName, clusterArn, namespace, serviceAccountName);
    } else {
      const managed = props.managedServer ?? {};
      const maintenance = managed.weeklyMaintenanceWindowStart ?? "SUN:03:00";
      if (!MAINTENANCE_WINDOW.test(maintenance)) {
        throw new Error(
          `${this.node.path}: weeklyMaintenanceWindowStart "${maintenance}" must be DDD:HH:MM in UTC, such as SUN:03:00`,
        );
      }
      this.trackingServerRole = new IamRole(this, "TrackingServerRole", {
        name: props.naming.name("iamRole", "mlflow-tracking"),
        description: "Execution role of the SageMaker managed MLflow tracking server",
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "sagemaker.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "aws:SourceAccount": this.location.accountId } },
            },
          ],
        }),
      });
      new IamRolePolicy(this, "TrackingServerPolicy", {
        name: "mlflow-tracking-server",
        role: this.trackingServerRole.name,
        policy: policyDocument([
          ...this.artifactStatements("ArtifactStore"),
          {
            // Automatic model registration copies registered models into the SageMaker Model Registry.
            Sid: "AutomaticModelRegistration",
            Effect: "Allow",
            Action: [
              "sagemaker:AddTags",
              "sagemaker:CreateModelPackage",
              "sagemaker:CreateModelPackageGroup",
              "sagemaker:DescribeModelPackage",
              "sagemaker:DescribeModelPackageGroup",
              "sagemaker:UpdateModelPackage",
            ],
            Resource: [
              arn(this.location, "sagemaker", "model-package-group/*"),
              arn(this.location, "sagemaker", "model-package/*"),
            ],
          },
        ]),
      });
      this.trackingServer = new SagemakerMlflowTrackingServer(this, "Resource", {
        trackingServerName: this.names.trackingServerName,
        artifactStoreUri: this.artifactStoreUri,
        roleArn: this.trackingServerRole.arn,
        trackingServerSize: managed.size ?? "Small",
        automaticModelRegistration: true,
        weeklyMaintenanceWindowStart: maintenance,
        ...(managed.mlflowVersion ? { mlflowVersion: managed.mlflowVersion } : {}),
        lifecycle: { preventDestroy },
      });
      // The SageMaker MLflow plugin takes the server's ARN as tracking URI.
      this.trackingUri = this.trackingServer.arn;
      new TerraformOutput(this, "tracking_server_url", {
        value: this.trackingServer.trackingServerUrl,
        description: "URL of the managed MLflow UI (open it through a presigned URL)",
      }).overrideLogicalId("mlflow_tracking_server_url");
    }

    new TerraformOutput(this, "tracking_uri", {
      value: this.trackingUri,
      description:
        this.backend === "self-hosted"
          ? "MLFLOW_TRACKING_URI inside the cluster (the internal load balancer's URL is an output of the cluster stack)"
          : "MLFLOW_TRACKING_URI for the SageMaker MLflow plugin (the tracking server's ARN)",
    }).overrideLogicalId("mlflow_tracking_uri");
    new TerraformOutput(this, "artifact_store_uri", {
      value: this.artifactStoreUri,
      description: "Where MLflow stores model artifacts",
    }).overrideLogicalId("mlflow_artifact_store_uri");
  }

  /**
   * Lets `role` (a training job or inference service) use the registry with least privilege.
   *
   * - self-hosted: read the workloads' MLflow credential (username and password for
   *   `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`). Artifacts go through the server
   *   (`mlflow-artifacts:/`), so the role gets no S3 access.
   * - sagemaker-managed: the `sagemaker-mlflow:*` actions on this tracking server, a presigned UI URL, and
   *   read/write on the artifact prefix (clients write artifacts to S3 directly).
   */
  grantAccess(role: IamRole): void {
    if (this.grantedRoles.has(role)) return;
    this.grantedRoles.add(role);
    // A role wrapped in a construct (its `Resource`) is named after the wrapper: `AccessTrainingRole`.
    const owner = role.node.id === "Resource" && role.node.scope ? role.node.scope.node.id : role.node.id;
    const id = this.node.tryFindChild(`Access${owner}`) ? `Access${role.node.addr}` : `Access${owner}`;
    const statements: PolicyStatement[] =
      this.backend === "self-hosted"
        ? [
            {
              Sid: "ReadMlflowWorkloadsCredential",
              Effect: "Allow",
              Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
              Resource: this.workloadsSecret!.arn,
            },
            {
              Sid: "DecryptMlflowWorkloadsCredential",
              Effect: "Allow",
              Action: "kms:Decrypt",
              Resource: this.encryptionKeyArn!,
              Condition: {
                StringEquals: {
                  "kms:ViaService": `secretsmanager.${this.location.region}.${dnsSuffix(this.location.region)}`,
                },
              },
            },
          ]
        : [
            {
              Sid: "UseTrackingServer",
              Effect: "Allow",
              Action: [
                "sagemaker-mlflow:*",
                "sagemaker:CreatePresignedMlflowTrackingServerUrl",
                "sagemaker:DescribeMlflowTrackingServer",
              ],
              Resource: this.trackingServer!.arn,
            },
            ...this.artifactStatements("Artifacts"),
          ];
    new IamRolePolicy(this, id, {
      name: `${this.names.trackingServerName}-registry-access`,
      role: role.name,
      policy: policyDocument(statements),
    });
  }

  private createKey(props: ModelRegistryProps, preventDestroy: boolean): KmsKey {
    const logsPrincipal = `logs.${this.location.region}.${dnsSuffix(this.location.region)}`;
    const key = new KmsKey(this, "Key", {
      description: `Encrypts the MLflow database, its credentials and logs of ${props.naming.prefix}`,
      enableKeyRotation: true,
      deletionWindowInDays: keyDeletionWindow(props.keyDeletionWindowDays ?? 30, this.node.path),
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            // RDS, Secrets Manager and the server role use the key through IAM policies of this account.
            Sid: "AccountAdministersAndDelegatesToIam",
            Effect: "Allow",
            Principal: { AWS: accountRootArn(this.location) },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Sid: "CloudWatchLogsEncryptsRdsLogs",
            Effect: "Allow",
            Principal: { Service: logsPrincipal },
            Action: [
              "kms:Encrypt*",
              "kms:Decrypt*",
              "kms:ReEncrypt*",
              "kms:GenerateDataKey*",
              "kms:Describe*",
            ],
            Resource: "*",
            Condition: {
              ArnLike: {
                "kms:EncryptionContext:aws:logs:arn": arn(
                  this.location,
                  "logs",
                  `log-group:/aws/rds/instance/${this.names.databaseIdentifier}/*`,
                ),
              },
            },
          },
        ],
      }),
      lifecycle: { preventDestroy },
    });
    new KmsAlias(this, "KeyAlias", {
      name: `alias/${props.naming.name("kmsAlias", "mlflow")}`,
      targetKeyId: key.keyId,
    });
    return key;
  }

  private createDatabase(
    props: ModelRegistryDatabaseProps,
    keyArn: string,
    preventDestroy: boolean,
  ): { instance: DbInstance; securityGroup: SecurityGroup } {
    const where = `${this.node.path}.database`;
    const identifier = this.names.databaseIdentifier;
    if (props.subnetIds.length < 2) {
      throw new Error(
        `${where}.subnetIds: must list at least 2 private subnets in different availability zones`,
      );
    }
    if (props.allowedSecurityGroupIds.length === 0) {
      throw new Error(`${where}.allowedSecurityGroupIds: must list the cluster's node or pod security group`);
    }
    const engineVersion = props.engineVersion ?? "16";
    const versionProblem = engineVersionProblem(engineVersion);
    if (versionProblem) throw new Error(`${where}.engineVersion: "${engineVersion}" ${versionProblem}`);
    const major = engineVersion;
    const allowMajorVersionUpgrade = props.allowMajorVersionUpgrade ?? false;
    const backupRetentionPeriod = checkRange(
      props.backupRetentionDays ?? 14,
      1,
      35,
      "database.backupRetentionDays",
      this.node.path,
    );
    const allocatedStorage = props.allocatedStorageGiB ?? 20;
    const maxAllocatedStorage = props.maxAllocatedStorageGiB ?? 100;
    if (allocatedStorage < 20 || maxAllocatedStorage < allocatedStorage) {
      throw new Error(
        `${where}: allocatedStorageGiB (${allocatedStorage}) must be at least 20 and at most maxAllocatedStorageGiB (${maxAllocatedStorage})`,
      );
    }

    const securityGroup = new SecurityGroup(this, "DatabaseSecurityGroup", {
      name: identifier,
      description: "MLflow backend store: PostgreSQL from the cluster only",
      vpcId: props.vpcId,
      // No egress rules: the database never opens connections.
      egress: [],
    });
    props.allowedSecurityGroupIds.forEach((source, index) => {
      new VpcSecurityGroupIngressRule(this, `DatabaseIngress${index}`, {
        securityGroupId: securityGroup.id,
        referencedSecurityGroupId: source,
        ipProtocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        description: "PostgreSQL from the EKS cluster",
      });
    });
    const subnetGroup = new DbSubnetGroup(this, "DatabaseSubnetGroup", {
      name: identifier,
      description: "Private subnets of the MLflow backend store",
      subnetIds: [...props.subnetIds],
    });
    const parameterGroup = new DbParameterGroup(this, "DatabaseParameterGroup", {
      name: `${identifier}-postgres${major}`,
      family: `postgres${major}`,
      description: "MLflow backend store: TLS only, slow queries and connections logged",
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        { name: "log_connections", value: "1" },
        { name: "log_min_duration_statement", value: "1000" },
      ],
      lifecycle: { createBeforeDestroy: true },
    });
    // Created before the instance so RDS logs get a retention and our key instead of a never-expiring group.
    const logGroups = ["postgresql", "upgrade"].map(
      (type) =>
        new CloudwatchLogGroup(this, `DatabaseLogs${type === "postgresql" ? "Postgresql" : "Upgrade"}`, {
          name: `/aws/rds/instance/${identifier}/${type}`,
          retentionInDays: props.logRetentionDays ?? 365,
          kmsKeyId: keyArn,
          lifecycle: { preventDestroy },
        }),
    );
    const skipFinalSnapshot = props.skipFinalSnapshot ?? false;
    const instance = new DbInstance(this, "Database", {
      identifier,
      engine: "postgres",
      engineVersion,
      engineLifecycleSupport: "open-source-rds-extended-support-disabled",
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade,
      // The upgrade happens in the apply that asks for it, not in a later maintenance window: the instance
      // moves to the new family's parameter group before the old one is deleted, and no plan in between
      // shows the upgrade as still to do (the provider reads back the version RDS runs).
      ...(allowMajorVersionUpgrade ? { applyImmediately: true } : {}),
      instanceClass: props.instanceClass ?? "db.t4g.medium",
      allocatedStorage,
      maxAllocatedStorage,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: keyArn,
      dbName: MLFLOW_DATABASE_NAME,
      username: MASTER_USERNAME,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: keyArn,
      port: POSTGRES_PORT,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [securityGroup.id],
      publiclyAccessible: false,
      parameterGroupName: parameterGroup.name,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      multiAz: props.multiAz ?? true,
      deletionProtection: props.deletionProtection ?? true,
      backupRetentionPeriod,
      backupWindow: "02:00-03:00",
      maintenanceWindow: "sun:03:30-sun:04:30",
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: false,
      skipFinalSnapshot,
      // Deterministic (no timestamp) so synth stays reproducible; a second destroy must pick a new name.
      ...(skipFinalSnapshot ? {} : { finalSnapshotIdentifier: `${identifier}-final` }),
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      dependsOn: logGroups,
      lifecycle: { preventDestroy },
    });
    return { instance, securityGroup };
  }

  private createServerRole(
    keyArn: string,
    clusterName: string | undefined,
    clusterArn: string | undefined,
    namespace: string,
    serviceAccountName: string,
  ): IamRole {
    const role = new IamRole(this, "ServerRole", {
      name: this.names.serverRoleName,
      description: `MLflow tracking server (${namespace}/${serviceAccountName}) through EKS Pod Identity`,
      assumeRolePolicy: podIdentityTrustPolicy(this.location.accountId, clusterArn),
    });
    const credentialSecrets = [this.adminSecret!.arn, this.workloadsSecret!.arn];
    new IamRolePolicy(this, "ServerPolicy", {
      name: "mlflow-server",
      role: role.name,
      policy: policyDocument([
        ...this.artifactStatements("ArtifactStore"),
        {
          Sid: "FindDatabase",
          Effect: "Allow",
          Action: "rds:DescribeDBInstances",
          Resource: arn(this.location, "rds", `db:${this.names.databaseIdentifier}`),
        },
        {
          Sid: "ReadDatabaseSecret",
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
          Resource: this.database!.masterUserSecret.get(0).secretArn,
        },
        {
          // The server writes each credential once, on its first start, when the secret has no value yet.
          Sid: "InitializeAndReadMlflowCredentials",
          Effect: "Allow",
          Action: [
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
            "secretsmanager:PutSecretValue",
          ],
          Resource: credentialSecrets,
        },
        {
          // GetRandomPassword acts on no resource, so it cannot be scoped further.
          Sid: "GeneratePasswords",
          Effect: "Allow",
          Action: "secretsmanager:GetRandomPassword",
          Resource: "*",
        },
        {
          Sid: "UseRegistryKeyThroughSecretsManager",
          Effect: "Allow",
          Action: ["kms:Decrypt", "kms:GenerateDataKey"],
          Resource: keyArn,
          Condition: {
            StringEquals: {
              "kms:ViaService": `secretsmanager.${this.location.region}.${dnsSuffix(this.location.region)}`,
            },
          },
        },
      ]),
    });
    if (clusterName) {
      new EksPodIdentityAssociation(this, "ServerPodIdentity", {
        clusterName,
        namespace,
        serviceAccount: serviceAccountName,
        roleArn: role.arn,
      });
    }
    return role;
  }

  /**
   * Locate the bucket, list the prefix, read and write its objects, and use the bucket's key through S3
   * only.
   */
  private artifactStatements(sidPrefix: string): PolicyStatement[] {
    const bucket = bucketArn(this.location.region, this.artifactBucketName);
    return [
      {
        Sid: `${sidPrefix}List`,
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucket,
        Condition: { StringLike: { "s3:prefix": [this.artifactPrefix, `${this.artifactPrefix}/*`] } },
      },
      {
        // GetBucketLocation requests carry no s3:prefix, so under the listing's condition it would never apply.
        Sid: `${sidPrefix}Locate`,
        Effect: "Allow",
        Action: "s3:GetBucketLocation",
        Resource: bucket,
      },
      {
        Sid: `${sidPrefix}Objects`,
        Effect: "Allow",
        Action: [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:AbortMultipartUpload",
        ],
        Resource: `${bucket}/${this.artifactPrefix}/*`,
      },
      {
        Sid: `${sidPrefix}Key`,
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: arn(this.location, "kms", "key/*"),
        Condition: {
          "ForAnyValue:StringEquals": { "kms:ResourceAliases": this.artifactKeyAlias },
          StringEquals: { "kms:ViaService": `s3.${this.location.region}.${dnsSuffix(this.location.region)}` },
        },
      },
    ];
  }
}

function policyDocument(statements: readonly PolicyStatement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

function checkRange(value: number, min: number, max: number, name: string, path: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${path}: ${name} (${value}) must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function validatePrefix(prefix: string, path: string): string {
  if (!/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/.test(prefix)) {
    throw new Error(
      `${path}: artifactPrefix "${prefix}" must be an S3 key prefix without leading or trailing slash`,
    );
  }
  return prefix;
}
