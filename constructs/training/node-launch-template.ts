import {
  LaunchTemplate,
  type LaunchTemplateBlockDeviceMappings,
} from "@cdktf/provider-aws/lib/launch-template";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { NAME_LIMITS, shorten } from "../core/naming";
import { recordPackageVersion } from "../core/package-info";

/** Properties of a {@link NodeLaunchTemplate}. */
export interface NodeLaunchTemplateProps {
  /** The launch template's name, and the `Name` tag of its instances and volumes. */
  readonly name: string;
  /** Size of the volume images and containers live on (the root volume; Bottlerocket's data volume). */
  readonly volumeSizeGiB: number;
  /**
   * Bottlerocket keeps images on a second volume (`/dev/xvdb`); AL2023 on its root volume.
   * @default "al2023"
   */
  readonly osFamily?: "al2023" | "bottlerocket";
  /**
   * KMS key that encrypts the volumes. A customer managed key must let the Auto Scaling service-linked
   * role use it, or nodes fail to launch.
   * @default the account's AWS managed EBS key
   */
  readonly volumeKmsKeyArn?: string;
  /**
   * IMDSv2 hop limit: 1 keeps pods (which get credentials through Pod Identity) away from the node's role.
   * @default 1
   */
  readonly imdsHopLimit?: number;
  /**
   * EFA interfaces, one per network card (card 0 also carries IP traffic), in these security groups.
   * @default no EFA
   */
  readonly efa?: { readonly networkCards: number; readonly securityGroupIds: readonly string[] };
  /**
   * Placement group to launch into (a cluster placement group for EFA).
   * @default none
   */
  readonly placementGroupName?: string;
  /**
   * Capacity reservation (On-Demand Capacity Reservation or Capacity Block) to launch into.
   * @default none
   */
  readonly capacityReservationId?: string;
  /**
   * The reservation is a Capacity Block (market type `capacity-block`).
   * @default false
   */
  readonly capacityBlock?: boolean;
}

/**
 * The launch template of an EKS managed node group: IMDSv2 required with an explicit hop limit, encrypted
 * gp3 volumes, named instances, and optionally EFA interfaces, a placement group and a capacity
 * reservation. It sets no AMI and no instance type: the node group picks those.
 *
 * @example
 * const template = new NodeLaunchTemplate(this, "LaunchTemplate", { name: "mlops-dev-gpu-g5", volumeSizeGiB: 200 });
 * new EksNodeGroup(this, "Resource", { launchTemplate: template.reference, ... });
 */
export class NodeLaunchTemplate extends Construct {
  /** The launch template. */
  readonly launchTemplate: LaunchTemplate;

  constructor(scope: Construct, id: string, props: NodeLaunchTemplateProps) {
    super(scope, id);
    recordPackageVersion(this);
    if (props.capacityBlock && !props.capacityReservationId) {
      throw new Error(
        `NodeLaunchTemplate ${this.node.path}: capacityBlock needs the block's capacityReservationId`,
      );
    }
    const hopLimit = props.imdsHopLimit ?? 1;
    if (!Number.isInteger(hopLimit) || hopLimit < 1 || hopLimit > 64) {
      throw new Error(
        `NodeLaunchTemplate ${this.node.path}: imdsHopLimit must be a whole number from 1 to 64 (got ${hopLimit})`,
      );
    }
    const volume = (deviceName: string, sizeGiB: number): LaunchTemplateBlockDeviceMappings => ({
      deviceName,
      ebs: {
        volumeSize: sizeGiB,
        volumeType: "gp3",
        encrypted: "true",
        kmsKeyId: props.volumeKmsKeyArn,
        deleteOnTermination: "true",
      },
    });
    const blockDeviceMappings =
      props.osFamily === "bottlerocket"
        ? // The OS volume only holds Bottlerocket itself; it is set here so that it is encrypted too.
          [volume("/dev/xvda", 10), volume("/dev/xvdb", props.volumeSizeGiB)]
        : [volume("/dev/xvda", props.volumeSizeGiB)];

    const efa = props.efa;
    this.launchTemplate = new LaunchTemplate(this, "Resource", {
      name: shorten(props.name, NAME_LIMITS.launchTemplate.maxLength),
      description: `Nodes of ${props.name}: IMDSv2 only, encrypted gp3 volumes`,
      updateDefaultVersion: true,
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: hopLimit,
        instanceMetadataTags: "disabled",
      },
      blockDeviceMappings,
      networkInterfaces: efa
        ? Array.from({ length: efa.networkCards }, (_, card) => ({
            networkCardIndex: card,
            deviceIndex: card === 0 ? 0 : 1,
            interfaceType: "efa",
            deleteOnTermination: "true",
            securityGroups: [...efa.securityGroupIds],
          }))
        : undefined,
      placement: props.placementGroupName ? { groupName: props.placementGroupName } : undefined,
      capacityReservationSpecification: props.capacityReservationId
        ? { capacityReservationTarget: { capacityReservationId: props.capacityReservationId } }
        : undefined,
      instanceMarketOptions: props.capacityBlock ? { marketType: "capacity-block" } : undefined,
      tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
        resourceType,
        tags: { Name: props.name },
      })),
    });
  }

  /** The `launch_template` block of a node group: this template at its latest version. */
  get reference(): { id: string; version: string } {
    return { id: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) };
  }
}
