import { AutoscalingGroupTagA } from "@cdktf/provider-aws/lib/autoscaling-group-tag";
import { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { PlacementGroup } from "@cdktf/provider-aws/lib/placement-group";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { NAME_LIMITS, shorten } from "../core/naming";
import { acceleratorOf, EFA_NETWORK_CARDS, GPUS_PER_INSTANCE } from "./gpu-instance-types";
import {
  ACCELERATOR_LABEL,
  DEVICE_PLUGIN_LABEL,
  EFA_LABEL,
  GPU_PRESENT_LABEL,
  NODE_GROUP_LABEL,
} from "./gpu-node-labels";
import { NodeLaunchTemplate } from "./node-launch-template";
import { recordPackageVersion } from "../core/package-info";

/** The taint every GPU node carries, so that only pods that tolerate it (GPU pods) land there. */
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" } as const;

// Defined apart from this construct, so that the environment schema can use them without the AWS provider.
export { ACCELERATOR_LABEL, DEVICE_PLUGIN_LABEL, EFA_LABEL } from "./gpu-node-labels";

/** The extended resource of EFA interfaces, which the EFA device plugin advertises and training pods request. */
export const EFA_RESOURCE = "vpc.amazonaws.com/efa";

/** GPU AMI types; the retired `AL2_x86_64_GPU` is refused. */
export type GpuAmiType = "AL2023_x86_64_NVIDIA" | "BOTTLEROCKET_x86_64_NVIDIA";

/** How a GPU node group is built; the part of {@link GpuNodeGroupProps} an environment file decides. */
export interface GpuNodeGroupOptions {
  /** EC2 instance types, all with the same GPU count. */
  readonly instanceTypes: readonly string[];
  /**
   * AL2023 (the NVIDIA device plugin must be installed in the cluster) or Bottlerocket (ships it).
   * @default "AL2023_x86_64_NVIDIA"
   */
  readonly amiType?: GpuAmiType;
  /**
   * AMI release to pin, so nodes roll only when it changes.
   * @default the latest release when the group is created
   */
  readonly amiReleaseVersion?: string;
  /**
   * On-demand, spot (interruptible) or a purchased Capacity Block.
   * @default "ON_DEMAND"
   */
  readonly capacityType?: "ON_DEMAND" | "SPOT" | "CAPACITY_BLOCK";
  /**
   * 0 lets the group scale to zero when no pod needs a GPU.
   * @default 0
   */
  readonly minSize?: number;
  /** @default 1 */
  readonly maxSize?: number;
  /**
   * Nodes at creation; the autoscaler owns it afterwards (Terraform ignores later drift).
   * @default minSize
   */
  readonly desiredSize?: number;
  /**
   * Size of the encrypted gp3 volume images live on; CUDA images are large.
   * @default 200
   */
  readonly diskSizeGiB?: number;
  /**
   * Extra node labels.
   * @default none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * GPUs per node, for the autoscaler's node template.
   * @default looked up from the instance type
   */
  readonly gpusPerNode?: number;
  /**
   * EFA interfaces on every network card and a cluster placement group, for multi-node training
   * (p4d, p4de, p5, p5e, p5en). Needs a single subnet. Nodes are labelled {@link EFA_LABEL}; pods reach the
   * interfaces through the EFA device plugin, which the cluster must run (this repository's cluster stack
   * installs it for the EFA groups of the environment file).
   * @default false
   */
  readonly efa?: boolean;
  /**
   * Capacity reservation or Capacity Block to launch into (`cr-...`). Needs a single subnet in its zone.
   * @default none
   */
  readonly capacityReservationId?: string;
}

/** Properties of a {@link GpuNodeGroup}. */
export interface GpuNodeGroupProps extends GpuNodeGroupOptions {
  /** The cluster's name, as a plain string: it becomes part of the autoscaler's tag keys. */
  readonly clusterName: string;
  /** The node group's name (also its launch template's and placement group's). */
  readonly nodeGroupName: string;
  /**
   * The Kubernetes version of the nodes: give the cluster's (`cluster.version`), so that a cluster upgrade
   * rolls the nodes to it in the same apply, after the control plane. EKS refuses nodes newer than the
   * cluster, and an upgrade of the cluster waits for nodes at most one minor version behind it.
   * @default - the cluster's version when the group is created; later cluster upgrades leave the nodes behind
   */
  readonly kubernetesVersion?: string;
  /** Node IAM role. */
  readonly nodeRoleArn: string;
  /** Private subnets to launch into; exactly one for EFA and capacity reservations. */
  readonly subnetIds: readonly string[];
  /**
   * Security groups of the EFA interfaces (the cluster security group). Required with `efa`; unused
   * without it.
   * @default - none; give them when `efa` is set
   */
  readonly efaSecurityGroupIds?: readonly string[];
  /**
   * IMDSv2 hop limit.
   * @default 1
   */
  readonly imdsHopLimit?: number;
  /**
   * KMS key of the volumes.
   * @default the account's AWS managed EBS key
   */
  readonly volumeKmsKeyArn?: string;
  /**
   * Resources the node group waits for (the cluster's networking add-ons).
   * @default none
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Terraform `prevent_destroy`.
   * @default false
   */
  readonly preventDestroy?: boolean;
}

/**
 * An EKS managed node group of NVIDIA GPU nodes that can scale to zero: tainted `nvidia.com/gpu=true:NoSchedule`
 * so CPU pods never keep a GPU node alive, launched from a {@link NodeLaunchTemplate} (IMDSv2, encrypted gp3),
 * rolled 33 % at a time, and tagged with the cluster autoscaler's node template (GPUs, labels, taint) on its
 * Auto Scaling group, so the autoscaler can scale it up from zero nodes.
 *
 * @example
 * new GpuNodeGroup(this, "GpuA10g", {
 *   clusterName: "mlops-dev-eks", nodeGroupName: "mlops-dev-gpu-a10g", nodeRoleArn, subnetIds,
 *   instanceTypes: ["g5.xlarge"], capacityType: "SPOT", minSize: 0, maxSize: 4,
 * });
 */
export class GpuNodeGroup extends Construct {
  /** The node group. */
  readonly nodeGroup: EksNodeGroup;
  /** The node group's launch template. */
  readonly launchTemplate: NodeLaunchTemplate;
  /** The placement group of an EFA node group. */
  readonly placementGroup?: PlacementGroup;
  /** Labels every node of the group carries. */
  readonly labels: Readonly<Record<string, string>>;
  /** GPUs per node. */
  readonly gpusPerNode: number;
  /** True when the AMI ships the NVIDIA device plugin (Bottlerocket). */
  readonly amiShipsDevicePlugin: boolean;

  constructor(scope: Construct, id: string, props: GpuNodeGroupProps) {
    super(scope, id);
    recordPackageVersion(this);
    const where = `GpuNodeGroup ${this.node.path}`;
    const amiType = props.amiType ?? "AL2023_x86_64_NVIDIA";
    if ((amiType as string) === "AL2_x86_64_GPU") {
      throw new Error(
        `${where}: amiType AL2_x86_64_GPU is retired (Amazon Linux 2 reached end of support); use AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA`,
      );
    }
    if (!["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"].includes(amiType)) {
      throw new Error(
        `${where}: amiType must be AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA (got ${amiType})`,
      );
    }
    if (props.instanceTypes.length === 0)
      throw new Error(`${where}: instanceTypes must list at least one instance type`);
    const minSize = props.minSize ?? 0;
    const maxSize = props.maxSize ?? 1;
    const desiredSize = props.desiredSize ?? minSize;
    if (minSize < 0) throw new Error(`${where}: minSize must be at least 0 (got ${minSize})`);
    if (maxSize < Math.max(1, minSize))
      throw new Error(`${where}: maxSize must be at least minSize (${minSize}) and 1`);
    if (desiredSize < minSize || desiredSize > maxSize) {
      throw new Error(`${where}: desiredSize must be between minSize (${minSize}) and maxSize (${maxSize})`);
    }
    this.gpusPerNode = props.gpusPerNode ?? gpusOf(props.instanceTypes, where);
    const capacityType = props.capacityType ?? "ON_DEMAND";
    if (capacityType === "CAPACITY_BLOCK" && !props.capacityReservationId) {
      throw new Error(
        `${where}: capacityType CAPACITY_BLOCK needs capacityReservationId (the id of the purchased block)`,
      );
    }
    if (capacityType === "SPOT" && props.capacityReservationId) {
      throw new Error(`${where}: capacityReservationId cannot be used with SPOT capacity`);
    }
    const singleSubnet = props.efa || props.capacityReservationId;
    if (singleSubnet && props.subnetIds.length !== 1) {
      throw new Error(
        `${where}: EFA and capacity reservations need exactly one subnet (got ${props.subnetIds.length}); pin the group to one zone`,
      );
    }
    let efa: { networkCards: number; securityGroupIds: readonly string[] } | undefined;
    if (props.efa) {
      const cards = props.instanceTypes.map((type) => EFA_NETWORK_CARDS[type]);
      if (cards.some((count) => count === undefined) || new Set(cards).size !== 1) {
        throw new Error(
          `${where}: efa needs instance types with the same EFA network cards, from ${Object.keys(EFA_NETWORK_CARDS).join(", ")} (got ${props.instanceTypes.join(", ")})`,
        );
      }
      if (!props.efaSecurityGroupIds?.length) {
        throw new Error(
          `${where}: efa needs efaSecurityGroupIds (the cluster security group, which lets nodes reach each other)`,
        );
      }
      efa = { networkCards: cards[0], securityGroupIds: props.efaSecurityGroupIds };
      this.placementGroup = new PlacementGroup(this, "PlacementGroup", {
        name: props.nodeGroupName,
        // Nodes on the same network spine: the lowest latency between the GPUs of a distributed job.
        strategy: "cluster",
      });
    }

    this.amiShipsDevicePlugin = amiType === "BOTTLEROCKET_x86_64_NVIDIA";
    const ownLabels: Record<string, string> = {
      [GPU_PRESENT_LABEL]: "true",
      // The cluster autoscaler counts a node as a GPU node by this label until the device plugin advertises
      // its GPUs; without it, it may start another node for the same pending pod meanwhile.
      [ACCELERATOR_LABEL]: acceleratorOf(props.instanceTypes),
      [NODE_GROUP_LABEL]: props.nodeGroupName,
      [DEVICE_PLUGIN_LABEL]: this.amiShipsDevicePlugin ? "ami" : "daemonset",
      ...(efa ? { [EFA_LABEL]: "true" } : {}),
    };
    // The device plugins and the autoscaler select nodes by these: a label of the caller must not change them.
    // The accelerator label is the exception: the autoscaler only needs it present, so the caller may name the
    // GPU otherwise (as the autoscaler's documentation does, `nvidia-tesla-a100`).
    for (const [key, value] of Object.entries(props.labels ?? {})) {
      if (key === ACCELERATOR_LABEL) continue;
      const own = Object.hasOwn(ownLabels, key) ? ownLabels[key] : undefined;
      if ((own !== undefined || key === EFA_LABEL) && own !== value) {
        throw new Error(
          `${where}: labels must not set ${key}, which the group sets itself (${own === undefined ? "on EFA groups only" : `to ${own}`})`,
        );
      }
    }
    this.labels = { ...ownLabels, ...props.labels };

    this.launchTemplate = new NodeLaunchTemplate(this, "LaunchTemplate", {
      name: props.nodeGroupName,
      volumeSizeGiB: props.diskSizeGiB ?? 200,
      osFamily: this.amiShipsDevicePlugin ? "bottlerocket" : "al2023",
      volumeKmsKeyArn: props.volumeKmsKeyArn,
      imdsHopLimit: props.imdsHopLimit,
      efa,
      placementGroupName: this.placementGroup?.name,
      capacityReservationId: props.capacityReservationId,
      capacityBlock: capacityType === "CAPACITY_BLOCK",
    });

    const nodeTemplateTags = autoscalerNodeTemplateTags(this.gpusPerNode, this.labels, efa?.networkCards);
    this.nodeGroup = new EksNodeGroup(this, "Resource", {
      clusterName: props.clusterName,
      nodeGroupName: shorten(props.nodeGroupName, NAME_LIMITS.eksNodeGroup.maxLength),
      nodeRoleArn: props.nodeRoleArn,
      subnetIds: [...props.subnetIds],
      amiType,
      version: props.kubernetesVersion,
      releaseVersion: props.amiReleaseVersion,
      instanceTypes: [...props.instanceTypes],
      capacityType,
      scalingConfig: { minSize, maxSize, desiredSize },
      updateConfig: { maxUnavailablePercentage: 33 },
      launchTemplate: this.launchTemplate.reference,
      labels: this.labels,
      taint: [{ key: GPU_TAINT.key, value: GPU_TAINT.value, effect: "NO_SCHEDULE" }],
      tags: {
        Name: props.nodeGroupName,
        "k8s.io/cluster-autoscaler/enabled": "true",
        [`k8s.io/cluster-autoscaler/${props.clusterName}`]: "owned",
        ...nodeTemplateTags,
      },
      dependsOn: props.dependsOn,
      lifecycle: {
        preventDestroy: props.preventDestroy ?? false,
        // The cluster autoscaler owns the size between min and max.
        ignoreChanges: ["scaling_config[0].desired_size"],
      },
    });

    // EKS does not copy node group tags to its Auto Scaling group, where the autoscaler reads the node
    // template when the group has no node to look at.
    const autoScalingGroupName = this.nodeGroup.resources.get(0).autoscalingGroups.get(0).name;
    for (const [key, value] of Object.entries(nodeTemplateTags)) {
      new AutoscalingGroupTagA(this, `AutoscalerTag${tagId(key)}`, {
        autoscalingGroupName: autoScalingGroupName,
        tag: { key, value, propagateAtLaunch: false },
      });
    }
  }

  /** The node group's name. */
  get nodeGroupName(): string {
    return this.nodeGroup.nodeGroupName;
  }
}

/** The cluster autoscaler's node-template tags: what a node of the group would offer, for scale from zero. */
export function autoscalerNodeTemplateTags(
  gpusPerNode: number,
  labels: Readonly<Record<string, string>>,
  efaInterfaces?: number,
): Record<string, string> {
  const prefix = "k8s.io/cluster-autoscaler/node-template";
  return {
    [`${prefix}/resources/nvidia.com/gpu`]: String(gpusPerNode),
    ...(efaInterfaces ? { [`${prefix}/resources/${EFA_RESOURCE}`]: String(efaInterfaces) } : {}),
    ...Object.fromEntries(Object.entries(labels).map(([key, value]) => [`${prefix}/label/${key}`, value])),
    [`${prefix}/taint/${GPU_TAINT.key}`]: `${GPU_TAINT.value}:${GPU_TAINT.effect}`,
  };
}

function gpusOf(instanceTypes: readonly string[], where: string): number {
  const counts = instanceTypes.map((type) => GPUS_PER_INSTANCE[type]);
  const unknown = instanceTypes.filter((_, index) => counts[index] === undefined);
  if (unknown.length > 0) {
    throw new Error(`${where}: GPUs per node of ${unknown.join(", ")} are not known; set gpusPerNode`);
  }
  if (new Set(counts).size > 1) {
    throw new Error(
      `${where}: instance types ${instanceTypes.join(", ")} have different GPU counts (${counts.join(", ")}); the autoscaler needs one per group, so split them`,
    );
  }
  return counts[0];
}

/** `k8s.io/cluster-autoscaler/node-template/label/team` → `LabelTeam`, a stable construct id per tag. */
function tagId(key: string): string {
  return key
    .replace("k8s.io/cluster-autoscaler/node-template/", "")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}
