import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { accountRootArn, arn, bucketArn, partitionOf } from "../constructs/core/arn";
import { ContainerRegistry } from "../constructs/registry/container-registry";
import { DataBucketReference } from "../constructs/data/data-bucket-reference";
import { ModelRegistry } from "../constructs/model-registry/model-registry";
import { MlopsNetwork } from "../constructs/network/mlops-network";
import { GithubOidcRoles } from "../constructs/security/github-oidc-roles";
import { GpuTrainingCluster } from "../constructs/training/gpu-training-cluster";
import type { InferenceServiceIdentity } from "../constructs/serving/kubernetes-inference-service";
import { PodIdentityRole } from "../constructs/training/pod-identity-role";
import type { EnvironmentConfig } from "../environments/schema";
import { endpointPrivateAccessCidrsOf } from "../environments/sections/cluster";
import {
  CLUSTER_AUTOSCALER_IDENTITY,
  clusterNameOf,
  MLFLOW_IDENTITY,
  TRAINING_DATA_BUCKETS,
  TRAINING_IDENTITY,
} from "./cluster-contract";
import { VARIANT_NAME } from "../constructs/serving/sagemaker-endpoint";
import { MlopsStack, permissionsBoundaryArn, stateKeyAlias, type SynthOptions } from "./mlops-stack";
import { addInferenceServiceRoles, dataNames, SageMakerEndpoints } from "./serving";
import { addPlatformMonitoring, monitoringNames } from "./monitoring";

/**
 * `<project>-<env>-platform`: compute and operations on AWS (network, EKS and its GPU node groups, the
 * model registry's database, SageMaker endpoints, alarms, budgets, CI roles). It plans without any other
 * stack's state: what it needs from the data stack it takes by name from the environment's configuration.
 */
export class PlatformStack extends MlopsStack {
  /** Encrypts the platform's log groups and the cluster's Kubernetes secrets. */
  readonly platformKey: KmsKey;
  readonly network: MlopsNetwork;
  readonly cluster: GpuTrainingCluster;
  /** The cluster autoscaler's role (Pod Identity, kube-system/cluster-autoscaler). */
  readonly clusterAutoscalerRole: PodIdentityRole;
  /** The role of training jobs (Pod Identity, training/training): reads the data buckets. */
  readonly trainingRole: PodIdentityRole;
  /** The environment's MLflow model registry (database, credentials and server role, or managed server). */
  readonly modelRegistry: ModelRegistry;
  /** The SageMaker endpoints of `serving.sagemakerEndpoints`. */
  readonly sagemakerEndpoints: SageMakerEndpoints;
  /** The Pod Identity roles of `serving.kubernetesServices`, by service name. */
  readonly inferenceServiceRoles: Record<string, InferenceServiceIdentity>;
  /** The roles GitHub Actions plans and deploys with (when `ci.github.repository` is set). */
  readonly ciRoles?: GithubOidcRoles;

  constructor(scope: Construct, config: EnvironmentConfig, options: SynthOptions = {}) {
    super(scope, { ...options, config, part: "platform" });
    const location = this.location;
    const preventDestroy = config.protection.preventDestroy;
    const clusterName = clusterNameOf(this.naming);

    const github = config.ci.github;
    // With assumeRoleArn, Terraform (and the cluster token) use that role, not the CI roles.
    const ciPlansCluster = github.clusterAccess && !config.aws.assumeRoleArn;
    if (github.repository) {
      this.ciRoles = new GithubOidcRoles(this, "GithubCi", {
        location: this.location,
        repository: github.repository,
        planRoleName: this.naming.name("iamRole", "github-plan"),
        pullRequestPlanRoleName: this.naming.name("iamRole", "github-pr-plan"),
        deployRoleName: this.naming.name("iamRole", "github-deploy"),
        stateBucket: config.state.bucket,
        stateKeyPrefix: `${config.name}/`,
        stateKeyAlias: stateKeyAlias(this.naming),
        stateRegion: config.state.region,
        iamNamePrefix: `${this.naming.prefix}-`,
        planBranches: github.planBranches,
        // The cluster stack's Grafana admin secret: refreshing its (write-only) version reads the value.
        planReadableSecrets: ciPlansCluster ? [monitoringNames(this.naming).grafanaSecret] : [],
        planPullRequests: github.planPullRequests,
        deployEnvironments: github.deployEnvironments ?? [config.name],
        createOidcProvider: github.createOidcProvider,
        maxSessionSeconds: github.maxSessionSeconds,
        preventDestroy: config.protection.preventDestroy,
        permissionsBoundaryArn: permissionsBoundaryArn(config, this.naming),
      });
    }

    this.platformKey = new KmsKey(this, "PlatformKey", {
      description: `Encrypts the log groups and Kubernetes secrets of ${this.naming.prefix}`,
      enableKeyRotation: true,
      deletionWindowInDays: config.protection.keyDeletionWindowDays,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            // IAM policies of this account decide who may use the key (the EKS cluster role gets it there).
            Sid: "AccountAdministersAndDelegatesToIam",
            Effect: "Allow",
            Principal: { AWS: accountRootArn(location) },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Sid: "CloudWatchLogsEncryptsThisAccountsLogGroups",
            Effect: "Allow",
            Principal: { Service: `logs.${location.region}.amazonaws.com` },
            Action: [
              "kms:Encrypt*",
              "kms:Decrypt*",
              "kms:ReEncrypt*",
              "kms:GenerateDataKey*",
              "kms:Describe*",
            ],
            Resource: "*",
            Condition: {
              ArnLike: { "kms:EncryptionContext:aws:logs:arn": arn(location, "logs", "log-group:*") },
            },
          },
        ],
      }),
      lifecycle: { preventDestroy },
    });
    new KmsAlias(this, "PlatformKeyAlias", {
      name: `alias/${this.naming.name("kmsAlias", "platform")}`,
      targetKeyId: this.platformKey.keyId,
    });

    this.network = new MlopsNetwork(this, "Network", {
      name: this.naming.prefix,
      location,
      cidrBlock: config.network.vpcCidr,
      availabilityZones: config.aws.availabilityZones,
      natGateways: config.network.natGateways,
      logsKmsKeyArn: this.platformKey.arn,
      flowLogRetentionDays: config.network.flowLogs.retentionDays ?? config.logs.retentionDays,
      flowLogTrafficType: config.network.flowLogs.trafficType,
      interfaceEndpoints: config.network.interfaceEndpoints,
      clusterNames: [clusterName],
      preventDestroy,
    });

    const settings = config.cluster;
    this.cluster = new GpuTrainingCluster(this, "Cluster", {
      clusterName,
      location,
      kubernetesVersion: settings.kubernetesVersion,
      network: this.network,
      encryptionKeyArn: this.platformKey.arn,
      logRetentionDays: config.logs.retentionDays,
      publicAccessCidrs: settings.endpoint.publicAccessCidrs,
      // The environment's VPC unless the file lists the networks itself.
      endpointPrivateAccessCidrs: endpointPrivateAccessCidrsOf(config),
      adminRoleArns: settings.adminRoleArns,
      bootstrapCreatorAdmin: settings.creatorAdmin,
      addonVersions: settings.addons,
      imdsHopLimit: settings.imdsHopLimit,
      systemNodeGroup: settings.systemNodeGroup,
      gpuNodeGroups: settings.gpuNodeGroups,
      containerInsights: config.monitoring.containerInsights.enabled
        ? {
            addonVersion: config.monitoring.containerInsights.addonVersion,
            containerLogs: config.monitoring.containerInsights.containerLogs,
          }
        : undefined,
      preventDestroy,
    });
    if (this.ciRoles && ciPlansCluster) {
      this.grantCiClusterAccess(this.ciRoles, settings.adminRoleArns);
    }
    // The node role's managed policy pulls from any repository, but an image's first pull through the data
    // stack's pull-through cache rules also imports it into a repository ECR creates.
    const pullThroughCache = ContainerRegistry.pullThroughCacheStatements(
      location,
      config.registry.pullThroughCache,
    );
    if (pullThroughCache.length > 0) {
      new IamRolePolicy(this, "ClusterNodesPullThroughCache", {
        role: this.cluster.nodeRole.name,
        name: this.naming.name("iamPolicy", "ecr-pull-through-cache"),
        policy: JSON.stringify({ Version: "2012-10-17", Statement: pullThroughCache }),
      });
    }

    this.clusterAutoscalerRole = new PodIdentityRole(this, "ClusterAutoscalerRole", {
      roleName: this.naming.name("iamRole", CLUSTER_AUTOSCALER_IDENTITY.rolePurpose),
      accountId: location.accountId,
      clusterArn: this.cluster.clusterArn,
      description: `cluster-autoscaler of ${clusterName}: resizes only this cluster's node groups`,
    });
    this.clusterAutoscalerRole.addToPolicy({
      Sid: "DescribeScalingTargets",
      Action: [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
      ],
      Resource: "*",
    });
    this.clusterAutoscalerRole.addToPolicy({
      Sid: "ReadNodeGroupLabelsAndTaints",
      Action: "eks:DescribeNodegroup",
      Resource: arn(location, "eks", `nodegroup/${clusterName}/*`),
    });
    this.clusterAutoscalerRole.addToPolicy({
      Sid: "ResizeOnlyThisClustersGroups",
      Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
      Resource: "*",
      Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
    });
    this.cluster.grantServiceAccount(
      CLUSTER_AUTOSCALER_IDENTITY.namespace,
      CLUSTER_AUTOSCALER_IDENTITY.name,
      this.clusterAutoscalerRole,
    );

    this.trainingRole = new PodIdentityRole(this, "TrainingRole", {
      roleName: this.naming.name("iamRole", TRAINING_IDENTITY.rolePurpose),
      accountId: location.accountId,
      clusterArn: this.cluster.clusterArn,
      description: `Training jobs of ${clusterName}: read the data buckets`,
    });
    // The data stack names its buckets `<project>-<env>-<purpose>-<account>` and encrypts them with the key
    // aliased `alias/<project>-<env>-data`; both are known here without reading its state.
    const buckets = TRAINING_DATA_BUCKETS.map((purpose) =>
      bucketArn(location.region, this.naming.name("s3", purpose, location.accountId)),
    );
    this.trainingRole.addToPolicy({
      Sid: "ListDataBuckets",
      Action: ["s3:ListBucket", "s3:GetBucketLocation"],
      Resource: buckets,
    });
    this.trainingRole.addToPolicy({
      Sid: "ReadDataObjects",
      Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
      Resource: buckets.map((bucket) => `${bucket}/*`),
    });
    this.trainingRole.addToPolicy({
      Sid: "DecryptDataThroughS3",
      Action: "kms:Decrypt",
      Resource: `arn:${partitionOf(location.region)}:kms:${location.region}:${location.accountId}:key/*`,
      Condition: {
        "ForAnyValue:StringEquals": {
          "kms:ResourceAliases": `alias/${this.naming.name("kmsAlias", "data")}`,
        },
        StringEquals: { "kms:ViaService": `s3.${location.region}.amazonaws.com` },
      },
    });
    this.cluster.grantServiceAccount(TRAINING_IDENTITY.namespace, TRAINING_IDENTITY.name, this.trainingRole);

    const registrySettings = config.modelRegistry;
    // The artifact store is the data stack's model-artifacts bucket, known by name.
    const artifacts = DataBucketReference.fromPurpose({
      naming: this.naming,
      location,
      purpose: "model-artifacts",
    });
    this.modelRegistry = new ModelRegistry(this, "ModelRegistry", {
      naming: this.naming,
      location,
      backend: registrySettings.backend,
      artifactBucketName: artifacts.bucketName,
      artifactKeyAlias: artifacts.keyAliasName,
      artifactPrefix: registrySettings.artifactPrefix,
      database: {
        ...registrySettings.database,
        vpcId: this.network.vpcId,
        subnetIds: this.network.privateSubnetIds,
        // Managed node groups and their pods (VPC CNI) carry the cluster security group.
        allowedSecurityGroupIds: [this.cluster.clusterSecurityGroupId],
        logRetentionDays: config.logs.retentionDays,
      },
      server: {
        namespace: MLFLOW_IDENTITY.namespace,
        serviceAccountName: MLFLOW_IDENTITY.name,
        clusterArn: this.cluster.clusterArn,
      },
      managedServer: registrySettings.managed,
      // The stack's key already lets CloudWatch Logs encrypt; RDS and Secrets Manager use it through IAM.
      encryptionKeyArn: this.platformKey.arn,
      secretRecoveryWindowDays: config.protection.keyDeletionWindowDays,
      preventDestroy,
    });
    if (this.modelRegistry.serverRole) {
      this.cluster.grantServiceAccount(MLFLOW_IDENTITY.namespace, MLFLOW_IDENTITY.name, {
        roleArn: this.modelRegistry.serverRole.arn,
      });
    }
    // Training jobs log their runs and register models.
    this.modelRegistry.grantAccess(this.trainingRole.role);
    // Models are served from the private subnets, with volumes and logs encrypted by this stack's key; the
    // data stack's buckets, key and repositories are known by name.
    const names = dataNames(this.naming, location);
    this.sagemakerEndpoints = new SageMakerEndpoints(this, "SageMakerEndpoints", {
      config,
      naming: this.naming,
      location,
      names,
      vpcId: this.network.vpcId,
      privateSubnetIds: this.network.privateSubnetIds,
      encryptionKeyArn: this.platformKey.arn,
      logKmsKeyArn: this.platformKey.arn,
    });
    this.inferenceServiceRoles = addInferenceServiceRoles(new Construct(this, "InferenceServiceRoles"), {
      config,
      naming: this.naming,
      location,
      names,
      cluster: this.cluster,
    });

    addPlatformMonitoring(this, {
      cluster: this.cluster,
      endpoints: Object.entries(this.sagemakerEndpoints.endpoints).map(([name, endpoint]) => ({
        endpointName: endpoint.endpointName,
        variantName: VARIANT_NAME,
        // From the environment file, which the endpoints are built from: a serverless endpoint publishes no
        // InvocationModelErrors, so it gets no model-error alarm nor dashboard line.
        serverless: config.serving.sagemakerEndpoints[name].serverless !== undefined,
        rollbackAlarms: { serverErrors: endpoint.serverErrorsAlarm, latency: endpoint.latencyAlarm },
      })),
      // The self-hosted registry's database; the SageMaker-managed tracking server has none to watch.
      databases: this.modelRegistry.database ? [this.modelRegistry.names.databaseIdentifier] : [],
    });

    new TerraformOutput(this, "cluster_name", {
      value: clusterName,
      description: "EKS cluster of this environment",
    });
    new TerraformOutput(this, "vpc_id", {
      value: this.network.vpcId,
      description: "VPC of this environment",
    });
  }

  /**
   * Lets CI plan and apply the Kubernetes stacks: the deploy role becomes cluster admin, the branches' plan
   * role may read everything (Secrets included: the Helm provider reads its releases from them). The pull
   * requests' plan role gets nothing here. A role already in `cluster.adminRoleArns` is admin already (EKS
   * refuses a second entry).
   */
  private grantCiClusterAccess(ciRoles: GithubOidcRoles, adminRoleArns: readonly string[]): void {
    const grants = [
      {
        id: "GithubDeploy",
        role: ciRoles.deployRole,
        arn: ciRoles.deployRoleArn,
        policy: "AmazonEKSClusterAdminPolicy",
      },
      {
        id: "GithubPlan",
        role: ciRoles.planRole,
        arn: ciRoles.planRoleArn,
        policy: "AmazonEKSAdminViewPolicy",
      },
    ] as const;
    for (const { id, role, arn: roleArn, policy } of grants) {
      if (!adminRoleArns.includes(roleArn)) this.cluster.grantAccess(id, roleArn, policy, [role]);
    }
  }
}
