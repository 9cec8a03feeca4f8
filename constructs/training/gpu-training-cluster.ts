import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { EksAccessPolicyAssociation } from "@cdktf/provider-aws/lib/eks-access-policy-association";
import { EksAddon } from "@cdktf/provider-aws/lib/eks-addon";
import { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";
import { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Token, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { eksClusterArn, partitionOf, type AwsLocation } from "../core/arn";
import { NAME_LIMITS, shorten } from "../core/naming";
import { networkOf, parseCidr } from "../network/subnet-layout";
import { GpuNodeGroup, type GpuNodeGroupOptions } from "./gpu-node-group";
import { NodeLaunchTemplate } from "./node-launch-template";
import { PodIdentityRole } from "./pod-identity-role";
import { recordPackageVersion } from "../core/package-info";

/** The control-plane log types EKS can send to CloudWatch; all are enabled. */
export const CONTROL_PLANE_LOG_TYPES = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
] as const;

/** Versions to pin the cluster's EKS managed add-ons to; an add-on left out is not pinned. */
export interface ClusterAddonVersions {
  /**
   * Version of the `vpc-cni` add-on, as EKS names it (`v1.19.5-eksbuild.1`).
   * @default - the version EKS picks for the cluster's Kubernetes version (not pinned)
   */
  readonly vpcCni?: string;
  /**
   * Version of the `coredns` add-on, as EKS names it (`v1.12.1-eksbuild.2`).
   * @default - the version EKS picks for the cluster's Kubernetes version (not pinned)
   */
  readonly coredns?: string;
  /**
   * Version of the `kube-proxy` add-on, as EKS names it (`v1.33.0-eksbuild.2`).
   * @default - the version EKS picks for the cluster's Kubernetes version (not pinned)
   */
  readonly kubeProxy?: string;
  /**
   * Version of the `eks-pod-identity-agent` add-on, as EKS names it (`v1.3.7-eksbuild.2`).
   * @default - the version EKS picks for the cluster's Kubernetes version (not pinned)
   */
  readonly podIdentityAgent?: string;
  /**
   * Version of the `aws-ebs-csi-driver` add-on, as EKS names it (`v1.44.0-eksbuild.1`).
   * @default - the version EKS picks for the cluster's Kubernetes version (not pinned)
   */
  readonly ebsCsiDriver?: string;
}

/**
 * CloudWatch Container Insights with enhanced observability: the `amazon-cloudwatch-observability` EKS
 * add-on (CloudWatch agent, its NVIDIA DCGM exporter on GPU nodes, and optionally Fluent Bit).
 */
export interface ContainerInsightsOptions {
  /**
   * Version of the add-on. Pod Identity needs v3.1.0 or later, and the `ContainerInsights` metrics (Enhanced
   * Container Insights, "Classic") come from versions before v6.2.0, whose default is OpenTelemetry metrics.
   * @default the version EKS picks for the Kubernetes version (not pinned)
   */
  readonly addonVersion?: string;
  /**
   * Ship every container's stdout and stderr with Fluent Bit to `/aws/containerinsights/<cluster>/application`
   * (and node logs to `.../dataplane` and `.../host`). Those log groups are created here first, with the
   * cluster's key and `logRetentionDays`, so the agent never creates them without either. Ingestion is
   * charged per GB.
   * @default false
   */
  readonly containerLogs?: boolean;
  /**
   * Days the `/aws/containerinsights/<cluster>/performance` log group keeps the agent's raw performance
   * events (the metrics themselves are kept by CloudWatch Metrics regardless).
   * @default 7
   */
  readonly performanceLogRetentionDays?: number;
}

/**
 * EKS access policies that grant Kubernetes permissions on the whole cluster, from most to least (the EKS
 * user guide's "Review access policy permissions" lists their rules):
 * - `AmazonEKSClusterAdminPolicy`: everything (like Kubernetes' `cluster-admin`);
 * - `AmazonEKSAdminPolicy`: most resources, RBAC within namespaces (like `admin`);
 * - `AmazonEKSEditPolicy`: create and change most namespaced resources (like `edit`);
 * - `AmazonEKSAdminViewPolicy`: read every resource, Secrets included;
 * - `AmazonEKSViewPolicy`: read most namespaced resources, not Secrets (like `view`).
 */
export type ClusterAccessPolicy =
  | "AmazonEKSClusterAdminPolicy"
  | "AmazonEKSAdminPolicy"
  | "AmazonEKSEditPolicy"
  | "AmazonEKSAdminViewPolicy"
  | "AmazonEKSViewPolicy";

/** The subnets a cluster uses; an `MlopsNetwork` is one. */
export interface ClusterNetwork {
  /** Private subnets in every zone, for the control plane's interfaces and the nodes. */
  readonly privateSubnetIds: readonly string[];
  /** The zones of the subnets, in the same order. */
  readonly availabilityZones: readonly string[];
  /** The private subnet of one zone (for single-zone node groups). */
  privateSubnetId(availabilityZone: string): string;
}

/** The CPU node group for cluster services. */
export interface SystemNodeGroupOptions {
  /** @default ["m6i.large"] */
  readonly instanceTypes?: readonly string[];
  /** @default 2 */
  readonly minSize?: number;
  /** @default 4 */
  readonly maxSize?: number;
  /** @default minSize */
  readonly desiredSize?: number;
  /** @default 50 */
  readonly diskSizeGiB?: number;
}

/** A GPU node group of the cluster, with the zone it is pinned to. */
export interface ClusterGpuNodeGroupOptions extends GpuNodeGroupOptions {
  /**
   * Keep the group in one zone. EFA groups default to the first zone; capacity reservations need theirs.
   * @default every zone of the network (the first one for EFA)
   */
  readonly availabilityZone?: string;
}

/** Properties of a {@link GpuTrainingCluster}. */
export interface GpuTrainingClusterProps {
  /** The cluster's name; deterministic, so the Kubernetes stack can find it by name. */
  readonly clusterName: string;
  /** Account and region, for ARNs (no data source asks AWS). */
  readonly location: AwsLocation;
  /** Kubernetes minor version, such as `1.33`. */
  readonly kubernetesVersion: string;
  /** Where the control plane and nodes go. */
  readonly network: ClusterNetwork;
  /**
   * KMS key that envelope-encrypts Kubernetes secrets and the control-plane log group. Its policy must
   * delegate to IAM (the cluster role gets its grants here) and allow CloudWatch Logs.
   */
  readonly encryptionKeyArn: string;
  /**
   * Days control-plane logs are kept.
   * @default 365
   */
  readonly logRetentionDays?: number;
  /**
   * CIDRs that may reach a public API endpoint. Empty keeps the endpoint private (reachable from the VPC
   * only); `0.0.0.0/0` is refused.
   * @default none (private endpoint)
   */
  readonly publicAccessCidrs?: readonly string[];
  /**
   * Networks that may reach the private API endpoint (HTTPS, port 443): for each, an ingress rule on the
   * cluster security group, which EKS puts on the endpoint's network interfaces and which otherwise only
   * accepts traffic from its own members (the control plane, managed nodes and their pods). List where
   * kubectl, Terraform and CI runners connect from: the VPC's CIDR, a VPN's, a peered network's. Each must be
   * a literal network address (`10.20.0.0/16`, not `10.20.0.7/16`) with a prefix of /8 or longer, listed
   * once; `0.0.0.0/0` is refused. Reaching the endpoint is not using it: every request still authenticates
   * with IAM and needs an access entry. The rules are on the security group that the managed nodes carry too,
   * so a pod listening on 443 can also be reached from these networks unless a NetworkPolicy selects it.
   * More with {@link GpuTrainingCluster.allowPrivateEndpointAccess}.
   * @default - none: only members of the cluster security group reach the private endpoint
   */
  readonly endpointPrivateAccessCidrs?: readonly string[];
  /**
   * IAM roles that get cluster-admin through access entries.
   * @default none
   */
  readonly adminRoleArns?: readonly string[];
  /**
   * Make whoever creates the cluster its admin. Changing it replaces the cluster; do not also list that
   * identity in adminRoleArns (EKS refuses a second access entry for it).
   * @default false
   */
  readonly bootstrapCreatorAdmin?: boolean;
  /**
   * Add-on versions, pinned so that upgrades happen on purpose.
   * @default the version EKS picks for the Kubernetes version (not pinned)
   */
  readonly addonVersions?: ClusterAddonVersions;
  /**
   * IMDSv2 hop limit of every node; 1 keeps pods away from the node's role.
   * @default 1
   */
  readonly imdsHopLimit?: number;
  /**
   * The CPU node group for cluster services (on-demand, spread over every zone).
   * @default 2-4 m6i.large
   */
  readonly systemNodeGroup?: SystemNodeGroupOptions;
  /**
   * GPU node groups keyed by name (`<cluster>-gpu-<name>`); more with {@link GpuTrainingCluster.addGpuNodeGroup}.
   * @default none
   */
  readonly gpuNodeGroups?: Readonly<Record<string, ClusterGpuNodeGroupOptions>>;
  /**
   * Let the VPC CNI enforce Kubernetes NetworkPolicies (its network policy agent). Pods that no policy
   * selects keep accepting all traffic.
   * @default true
   */
  readonly enforceNetworkPolicies?: boolean;
  /**
   * Install CloudWatch Container Insights (the `amazon-cloudwatch-observability` add-on with its own Pod
   * Identity role), which publishes the `ContainerInsights` metrics that {@link GpuClusterAlarms} watch.
   * @default - not installed
   */
  readonly containerInsights?: ContainerInsightsOptions;
  /**
   * Terraform `prevent_destroy` on the cluster, its node groups and its log groups.
   * @default false
   */
  readonly preventDestroy?: boolean;
}

/** The shortest prefix a network reaching the private API endpoint may have (so `0.0.0.0/0` is refused). */
const MIN_PRIVATE_ACCESS_PREFIX = 8;

/** The EKS add-on of Container Insights. */
export const CONTAINER_INSIGHTS_ADDON = "amazon-cloudwatch-observability";
/** Where the add-on runs its CloudWatch agent: the service account its Pod Identity role is bound to. */
export const CONTAINER_INSIGHTS_IDENTITY = {
  namespace: "amazon-cloudwatch",
  serviceAccount: "cloudwatch-agent",
};

/**
 * An EKS cluster for GPU training: authentication through access entries only (mode API), a private API
 * endpoint (reachable from the networks of `endpointPrivateAccessCidrs`; public only from listed CIDRs),
 * secrets encrypted with KMS, every control-plane log type in a log group with retention, EKS managed add-ons
 * (VPC CNI and EBS CSI driver with their own Pod Identity roles) at the versions pinned in `addonVersions`,
 * otherwise at the version EKS picks for the cluster's Kubernetes version, an on-demand system node group
 * across zones, and {@link GpuNodeGroup}s that scale to zero.
 * Workloads get AWS permissions through EKS Pod Identity with {@link grantServiceAccount}; people and CI get
 * Kubernetes permissions through access entries ({@link grantAccess}).
 *
 * @example
 * const cluster = new GpuTrainingCluster(this, "Cluster", {
 *   clusterName: "mlops-dev-eks", location, kubernetesVersion: "1.33", network, encryptionKeyArn: key.arn,
 *   gpuNodeGroups: { a10g: { instanceTypes: ["g5.xlarge"], capacityType: "SPOT", maxSize: 4 } },
 * });
 * cluster.grantServiceAccount("training", "training", trainingRole);
 * cluster.grantAccess("Auditors", "arn:aws:iam::111111111111:role/auditors", "AmazonEKSViewPolicy");
 */
export class GpuTrainingCluster extends Construct {
  /** The EKS cluster. */
  readonly cluster: EksCluster;
  /** The cluster's name (a plain string, known at synthesis). */
  readonly clusterName: string;
  /** The cluster's ARN, built from its name. */
  readonly clusterArn: string;
  /** The control-plane log group, `/aws/eks/<cluster>/cluster`. */
  readonly logGroup: CloudwatchLogGroup;
  /** The role the control plane uses. */
  readonly clusterRole: IamRole;
  /** The role every node uses: only what kubelet needs. */
  readonly nodeRole: IamRole;
  /** The CPU node group for cluster services. */
  readonly systemNodeGroup: EksNodeGroup;
  /** GPU node groups by name. */
  readonly gpuNodeGroups: Record<string, GpuNodeGroup> = {};
  /** The managed add-ons by name. */
  readonly addons: Record<string, EksAddon> = {};
  /** The role of the Container Insights agent (when Container Insights is installed). */
  readonly containerInsightsRole?: PodIdentityRole;
  /** Log groups of Container Insights by type (`performance`, and `application`, `dataplane`, `host` with container logs). */
  readonly containerInsightsLogGroups: Record<string, CloudwatchLogGroup> = {};
  /** The ingress rules that open the private API endpoint, by the CIDR each allows. */
  readonly privateEndpointAccessRules: Record<string, VpcSecurityGroupIngressRule> = {};

  private readonly props: GpuTrainingClusterProps;
  /** Principals with an access entry (EKS refuses a second one). */
  private readonly accessPrincipals = new Set<string>();
  /** Add-ons the nodes need before they can become ready. */
  private readonly nodePrerequisites: EksAddon[] = [];
  /** The node role's policies: nodes join only with them, and lose them only after their group is gone. */
  private readonly nodeRolePolicies: IamRolePolicyAttachment[];

  constructor(scope: Construct, id: string, props: GpuTrainingClusterProps) {
    super(scope, id);
    recordPackageVersion(this);
    this.props = props;
    const { clusterName, location } = props;
    const where = `GpuTrainingCluster ${this.node.path}`;
    const publicAccessCidrs = props.publicAccessCidrs ?? [];
    const openToAll = publicAccessCidrs.find((cidr) => cidr.endsWith("/0"));
    if (openToAll) {
      throw new Error(
        `${where}: publicAccessCidrs must not contain ${openToAll}; list the CIDRs that need the API`,
      );
    }
    this.clusterName = clusterName;
    this.clusterArn = eksClusterArn(location, clusterName);
    const partition = partitionOf(location.region);
    const managedPolicy = (name: string) => `arn:${partition}:iam::aws:policy/${name}`;

    this.clusterRole = new IamRole(this, "ClusterRole", {
      name: shorten(`${clusterName}-cluster`, NAME_LIMITS.iamRole.maxLength),
      description: `EKS control plane of ${clusterName}`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "eks.amazonaws.com" },
            Action: ["sts:AssumeRole", "sts:TagSession"],
            Condition: { StringEquals: { "aws:SourceAccount": location.accountId } },
          },
        ],
      }),
    });
    const clusterPolicy = new IamRolePolicyAttachment(this, "ClusterRoleEksClusterPolicy", {
      role: this.clusterRole.name,
      policyArn: managedPolicy("AmazonEKSClusterPolicy"),
    });
    const clusterKeyPolicy = new IamRolePolicy(this, "ClusterRoleSecretsKey", {
      role: this.clusterRole.id,
      name: "encrypt-secrets",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
            Resource: props.encryptionKeyArn,
          },
        ],
      }),
    });

    // Created before the cluster so that EKS writes into it (with retention and encryption) instead of
    // creating its own log group that keeps logs forever.
    this.logGroup = new CloudwatchLogGroup(this, "ControlPlaneLogGroup", {
      name: `/aws/eks/${clusterName}/cluster`,
      retentionInDays: props.logRetentionDays ?? 365,
      kmsKeyId: props.encryptionKeyArn,
      lifecycle: { preventDestroy: props.preventDestroy ?? false },
    });

    this.cluster = new EksCluster(this, "Resource", {
      name: clusterName,
      version: props.kubernetesVersion,
      roleArn: this.clusterRole.arn,
      vpcConfig: {
        subnetIds: [...props.network.privateSubnetIds],
        endpointPrivateAccess: true,
        endpointPublicAccess: publicAccessCidrs.length > 0,
        publicAccessCidrs: publicAccessCidrs.length > 0 ? [...publicAccessCidrs] : undefined,
      },
      accessConfig: {
        authenticationMode: "API",
        bootstrapClusterCreatorAdminPermissions: props.bootstrapCreatorAdmin ?? false,
      },
      // The networking add-ons are installed below as managed add-ons, pinned, instead of EKS's unmanaged copies.
      bootstrapSelfManagedAddons: false,
      encryptionConfig: { provider: { keyArn: props.encryptionKeyArn }, resources: ["secrets"] },
      enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
      dependsOn: [this.logGroup, clusterPolicy, clusterKeyPolicy],
      lifecycle: { preventDestroy: props.preventDestroy ?? false },
    });

    for (const cidr of props.endpointPrivateAccessCidrs ?? []) this.allowPrivateEndpointAccess(cidr);

    for (const [index, principalArn] of (props.adminRoleArns ?? []).entries()) {
      const roleName = principalArn.split("/").pop() ?? String(index);
      this.addAccessEntry(
        `AdminAccessEntry-${roleName}`,
        `AdminAccessPolicy-${roleName}`,
        principalArn,
        "AmazonEKSClusterAdminPolicy",
      );
    }

    this.nodeRole = new IamRole(this, "NodeRole", {
      name: shorten(`${clusterName}-node`, NAME_LIMITS.iamRole.maxLength),
      description: `Nodes of ${clusterName}: kubelet and image pulls only (pods use Pod Identity)`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      }),
    });
    // No AmazonEKS_CNI_Policy here: the VPC CNI gets its own role, so pods cannot borrow ENI permissions.
    this.nodeRolePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"].map(
      (policy) =>
        new IamRolePolicyAttachment(this, `NodeRole${policy}`, {
          role: this.nodeRole.name,
          policyArn: managedPolicy(policy),
        }),
    );

    const versions = props.addonVersions ?? {};
    const podIdentityAgent = this.addAddon("eks-pod-identity-agent", versions.podIdentityAgent);
    const vpcCniRole = new PodIdentityRole(this, "VpcCniRole", {
      roleName: shorten(`${clusterName}-vpc-cni`, NAME_LIMITS.iamRole.maxLength),
      accountId: location.accountId,
      clusterArn: this.clusterArn,
      description: `VPC CNI (aws-node) of ${clusterName}`,
      managedPolicyArns: [managedPolicy("AmazonEKS_CNI_Policy")],
    });
    const vpcCni = this.addAddon(
      "vpc-cni",
      versions.vpcCni,
      { role: vpcCniRole, serviceAccount: "aws-node" },
      [],
      (props.enforceNetworkPolicies ?? true) ? { enableNetworkPolicy: "true" } : undefined,
    );
    const kubeProxy = this.addAddon("kube-proxy", versions.kubeProxy);
    this.nodePrerequisites.push(podIdentityAgent, vpcCni, kubeProxy);

    const system = props.systemNodeGroup ?? {};
    const systemName = shorten(`${clusterName}-system`, NAME_LIMITS.eksNodeGroup.maxLength);
    const systemMin = system.minSize ?? 2;
    const systemMax = system.maxSize ?? 4;
    const systemDesired = system.desiredSize ?? systemMin;
    if (systemMin < 1 || systemMax < systemMin || systemDesired < systemMin || systemDesired > systemMax) {
      throw new Error(
        `${where}: systemNodeGroup needs 1 <= minSize (${systemMin}) <= desiredSize (${systemDesired}) <= maxSize (${systemMax})`,
      );
    }
    const systemTemplate = new NodeLaunchTemplate(this, "SystemLaunchTemplate", {
      name: systemName,
      volumeSizeGiB: system.diskSizeGiB ?? 50,
      imdsHopLimit: props.imdsHopLimit,
    });
    this.systemNodeGroup = new EksNodeGroup(this, "SystemNodeGroup", {
      clusterName: this.cluster.name,
      nodeGroupName: systemName,
      nodeRoleArn: this.nodeRole.arn,
      subnetIds: [...props.network.privateSubnetIds],
      amiType: "AL2023_x86_64_STANDARD",
      // The cluster's version by reference: an upgrade rolls the nodes after the control plane.
      version: this.cluster.version,
      instanceTypes: [...(system.instanceTypes ?? ["m6i.large"])],
      capacityType: "ON_DEMAND",
      scalingConfig: { minSize: systemMin, maxSize: systemMax, desiredSize: systemDesired },
      updateConfig: { maxUnavailablePercentage: 33 },
      launchTemplate: systemTemplate.reference,
      labels: { "mlops/node-role": "system" },
      tags: { Name: systemName },
      dependsOn: [...this.nodeRolePolicies, ...this.nodePrerequisites],
      lifecycle: {
        preventDestroy: props.preventDestroy ?? false,
        ignoreChanges: ["scaling_config[0].desired_size"],
      },
    });

    // CoreDNS and the EBS CSI controller are Deployments: they only become healthy once nodes exist.
    this.addAddon("coredns", versions.coredns, undefined, [this.systemNodeGroup]);
    const ebsCsiRole = new PodIdentityRole(this, "EbsCsiDriverRole", {
      roleName: shorten(`${clusterName}-ebs-csi`, NAME_LIMITS.iamRole.maxLength),
      accountId: location.accountId,
      clusterArn: this.clusterArn,
      description: `EBS CSI driver of ${clusterName}`,
      managedPolicyArns: [`arn:${partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy`],
    });
    this.addAddon(
      "aws-ebs-csi-driver",
      versions.ebsCsiDriver,
      { role: ebsCsiRole, serviceAccount: "ebs-csi-controller-sa" },
      [this.systemNodeGroup],
    );

    if (props.containerInsights)
      this.containerInsightsRole = this.addContainerInsights(props.containerInsights);

    for (const [name, options] of Object.entries(props.gpuNodeGroups ?? {}))
      this.addGpuNodeGroup(name, options);
  }

  /** True when Container Insights publishes this cluster's `ContainerInsights` metrics. */
  get hasContainerInsights(): boolean {
    return this.addons[CONTAINER_INSIGHTS_ADDON] !== undefined;
  }

  /**
   * The `amazon-cloudwatch-observability` add-on with a Pod Identity role holding `CloudWatchAgentServerPolicy`,
   * after the log groups its agent and Fluent Bit write to, so each gets the cluster's key and a retention.
   */
  private addContainerInsights(options: ContainerInsightsOptions): PodIdentityRole {
    const { clusterName, location } = this.props;
    const partition = partitionOf(location.region);
    const role = new PodIdentityRole(this, "ContainerInsightsRole", {
      roleName: shorten(`${clusterName}-cloudwatch-agent`, NAME_LIMITS.iamRole.maxLength),
      accountId: location.accountId,
      clusterArn: this.clusterArn,
      description: `CloudWatch agent and Fluent Bit of ${clusterName} (Container Insights)`,
      managedPolicyArns: [`arn:${partition}:iam::aws:policy/CloudWatchAgentServerPolicy`],
    });
    const containerLogs = options.containerLogs ?? false;
    const retention: Record<string, number> = {
      performance: options.performanceLogRetentionDays ?? 7,
      ...(containerLogs
        ? {
            application: this.props.logRetentionDays ?? 365,
            dataplane: this.props.logRetentionDays ?? 365,
            host: this.props.logRetentionDays ?? 365,
          }
        : {}),
    };
    for (const [type, days] of Object.entries(retention)) {
      this.containerInsightsLogGroups[type] = new CloudwatchLogGroup(
        this,
        `ContainerInsightsLogGroup-${type}`,
        {
          name: `/aws/containerinsights/${clusterName}/${type}`,
          retentionInDays: days,
          kmsKeyId: this.props.encryptionKeyArn,
          lifecycle: { preventDestroy: this.props.preventDestroy ?? false },
        },
      );
    }
    this.addAddon(
      CONTAINER_INSIGHTS_ADDON,
      options.addonVersion,
      { role, serviceAccount: CONTAINER_INSIGHTS_IDENTITY.serviceAccount },
      // Its controller is a Deployment, healthy only once nodes exist.
      [this.systemNodeGroup, ...Object.values(this.containerInsightsLogGroups)],
      {
        // Written out, not left to the add-on's defaults: Enhanced Container Insights (Classic) publishes the
        // `ContainerInsights` metrics that CloudWatch alarms watch, GPU metrics included; Application Signals,
        // which nothing here uses, stays off.
        agent: {
          config: {
            logs: {
              metrics_collected: {
                kubernetes: { enhanced_container_insights: true, accelerated_compute_metrics: true },
              },
            },
          },
        },
        containerLogs: { enabled: containerLogs },
      },
    );
    return role;
  }

  /** The API server endpoint. */
  get endpoint(): string {
    return this.cluster.endpoint;
  }

  /** The cluster's base64 certificate authority. */
  get certificateAuthorityData(): string {
    return this.cluster.certificateAuthority.get(0).data;
  }

  /** The security group EKS creates for the control plane and managed nodes. */
  get clusterSecurityGroupId(): string {
    return this.cluster.vpcConfig.clusterSecurityGroupId;
  }

  /**
   * Lets a network reach the private API endpoint (HTTPS, port 443): an ingress rule on the cluster security
   * group, with the construct id `PrivateEndpointAccess-<cidr>` (`10-20-0-0-16`), so that reordering the
   * CIDRs changes nothing. Requests still authenticate with IAM and need an access entry.
   *
   * @param cidr a literal IPv4 network address with a prefix of /8 or longer, such as `10.20.0.0/16`; each
   *   CIDR once
   * @param description the rule's description
   * @returns the ingress rule
   */
  allowPrivateEndpointAccess(
    cidr: string,
    description = `Kubernetes API of ${this.clusterName} (private endpoint) from ${cidr}`,
  ): VpcSecurityGroupIngressRule {
    const where = `GpuTrainingCluster ${this.node.path}: endpointPrivateAccessCidrs`;
    if (Token.isUnresolved(cidr)) {
      throw new Error(`${where} must be literal CIDRs (each names its rule's construct id), not tokens`);
    }
    let prefix: number;
    try {
      ({ prefix } = parseCidr(cidr));
    } catch {
      throw new Error(`${where}: "${cidr}" is not an IPv4 CIDR block such as 10.20.0.0/16`);
    }
    if (prefix < MIN_PRIVATE_ACCESS_PREFIX) {
      throw new Error(
        `${where}: ${cidr} is shorter than /${MIN_PRIVATE_ACCESS_PREFIX}; list the networks that need the API (the VPC, a VPN, a peered network)`,
      );
    }
    if (networkOf(cidr) !== cidr) {
      throw new Error(`${where}: ${cidr} has host bits set; write the network address of its /${prefix}`);
    }
    if (this.privateEndpointAccessRules[cidr]) throw new Error(`${where} lists ${cidr} twice`);
    const rule = new VpcSecurityGroupIngressRule(
      this,
      `PrivateEndpointAccess-${cidr.replace(/[./]/g, "-")}`,
      {
        securityGroupId: this.clusterSecurityGroupId,
        description,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: cidr,
      },
    );
    this.privateEndpointAccessRules[cidr] = rule;
    return rule;
  }

  /**
   * Adds a GPU node group named `<cluster>-gpu-<name>`, tainted, scaling from `minSize` (0 by default).
   * EFA groups and groups with a capacity reservation go into one zone's subnet.
   */
  addGpuNodeGroup(name: string, options: ClusterGpuNodeGroupOptions): GpuNodeGroup {
    if (this.gpuNodeGroups[name])
      throw new Error(`GpuTrainingCluster ${this.node.path} already has a GPU node group "${name}"`);
    const { network } = this.props;
    if (options.capacityReservationId && !options.availabilityZone) {
      throw new Error(
        `GpuTrainingCluster ${this.node.path}: GPU node group "${name}" has a capacity reservation; set availabilityZone to its zone`,
      );
    }
    const zone = options.availabilityZone ?? (options.efa ? network.availabilityZones[0] : undefined);
    const group = new GpuNodeGroup(this, `GpuNodeGroup-${name}`, {
      ...options,
      clusterName: this.clusterName,
      nodeGroupName: `${this.clusterName}-gpu-${name}`,
      // The cluster's version by reference: an upgrade rolls the nodes after the control plane.
      kubernetesVersion: this.cluster.version,
      nodeRoleArn: this.nodeRole.arn,
      subnetIds: zone ? [network.privateSubnetId(zone)] : [...network.privateSubnetIds],
      efaSecurityGroupIds: options.efa ? [this.clusterSecurityGroupId] : undefined,
      imdsHopLimit: this.props.imdsHopLimit,
      dependsOn: [this.cluster, ...this.nodeRolePolicies, ...this.nodePrerequisites],
      preventDestroy: this.props.preventDestroy,
    });
    this.gpuNodeGroups[name] = group;
    return group;
  }

  /**
   * Gives pods of `namespace` running as `serviceAccount` the AWS role `role` through EKS Pod Identity.
   * The role must trust `pods.eks.amazonaws.com` (a {@link PodIdentityRole} does).
   */
  grantServiceAccount(
    namespace: string,
    serviceAccount: string,
    role: { readonly roleArn: string },
  ): EksPodIdentityAssociation {
    return new EksPodIdentityAssociation(this, `PodIdentity-${namespace}-${serviceAccount}`, {
      clusterName: this.cluster.name,
      namespace,
      serviceAccount,
      roleArn: role.roleArn,
    });
  }

  /**
   * Gives an IAM role Kubernetes permissions on the whole cluster: an access entry with one EKS access
   * policy, cluster-wide. EKS holds one access entry per principal, so a role gets one grant; the roles of
   * `adminRoleArns` have theirs already.
   *
   * @param id names the grant's constructs (`<id>AccessEntry`, `<id>AccessPolicy`); unique in this cluster
   * @param principalArn the role's ARN; when it is a literal ARN (not a token), a second grant to the same
   *   role is refused at synth instead of by EKS at apply
   * @param policy what the role may do in the cluster
   * @param dependsOn what must exist first: EKS refuses an entry for a role that does not exist yet, so pass
   *   the role when it is created in the same deployment and `principalArn` is built from its name
   * @returns the policy association, which is what gives the access: depend on it to use the access
   */
  grantAccess(
    id: string,
    principalArn: string,
    policy: ClusterAccessPolicy,
    dependsOn: ITerraformDependable[] = [],
  ): EksAccessPolicyAssociation {
    return this.addAccessEntry(`${id}AccessEntry`, `${id}AccessPolicy`, principalArn, policy, dependsOn);
  }

  /** True when some GPU node group's AMI lacks the NVIDIA device plugin (AL2023), so the cluster must run it. */
  get needsDevicePlugin(): boolean {
    return Object.values(this.gpuNodeGroups).some((group) => !group.amiShipsDevicePlugin);
  }

  private addAccessEntry(
    entryId: string,
    policyId: string,
    principalArn: string,
    policy: ClusterAccessPolicy,
    dependsOn: ITerraformDependable[] = [],
  ): EksAccessPolicyAssociation {
    if (this.accessPrincipals.has(principalArn)) {
      throw new Error(
        `GpuTrainingCluster ${this.node.path}: ${principalArn} already has an access entry (EKS allows one per principal); grant it once`,
      );
    }
    this.accessPrincipals.add(principalArn);
    const entry = new EksAccessEntry(this, entryId, {
      clusterName: this.cluster.name,
      principalArn,
      type: "STANDARD",
      dependsOn: dependsOn.length > 0 ? dependsOn : undefined,
    });
    return new EksAccessPolicyAssociation(this, policyId, {
      clusterName: this.cluster.name,
      principalArn,
      policyArn: `arn:${partitionOf(this.props.location.region)}:eks::aws:cluster-access-policy/${policy}`,
      accessScope: { type: "cluster" },
      dependsOn: [entry],
    });
  }

  private addAddon(
    addonName: string,
    version: string | undefined,
    identity?: { role: PodIdentityRole; serviceAccount: string },
    dependsOn: ITerraformDependable[] = [],
    configuration?: Record<string, unknown>,
  ): EksAddon {
    const addon = new EksAddon(this, `Addon-${addonName}`, {
      clusterName: this.cluster.name,
      addonName,
      addonVersion: version,
      configurationValues: configuration ? JSON.stringify(configuration) : undefined,
      // Managed add-ons own their objects: local edits are overwritten, never silently kept.
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
      podIdentityAssociation: identity
        ? [{ roleArn: identity.role.roleArn, serviceAccount: identity.serviceAccount }]
        : undefined,
      dependsOn: dependsOn.length > 0 ? dependsOn : undefined,
    });
    this.addons[addonName] = addon;
    return addon;
  }
}
