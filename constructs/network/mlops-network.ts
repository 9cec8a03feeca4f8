import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { arn, type AwsLocation } from "../core/arn";
import { NAME_LIMITS, shorten } from "../core/naming";
import { subnetLayout, type ZoneSubnets } from "./subnet-layout";
import { recordPackageVersion } from "../core/package-info";

/** The interface endpoints a network gets unless told otherwise. */
export const DEFAULT_INTERFACE_ENDPOINTS = [
  "ecr.api",
  "ecr.dkr",
  "sts",
  "logs",
  "sagemaker.runtime",
] as const;

/** Properties of an {@link MlopsNetwork}. */
export interface MlopsNetworkProps {
  /** Prefix of every name and `Name` tag, such as `mlops-dev`. */
  readonly name: string;
  /** Account and region the VPC lives in (for ARNs and endpoint service names; no data source asks AWS). */
  readonly location: AwsLocation;
  /** The VPC's IPv4 range, a /16 to a /20; subnets are cut from it by {@link subnetLayout}. */
  readonly cidrBlock: string;
  /** Zones to spread the subnets over, explicit so that no data source has to ask AWS. */
  readonly availabilityZones: readonly string[];
  /**
   * One NAT gateway for the VPC (cheap; a zone outage cuts the other zones' egress) or one per zone.
   * @default "per-az"
   */
  readonly natGateways?: "single" | "per-az";
  /** KMS key ARN that encrypts the flow log group; its policy must let CloudWatch Logs use it. */
  readonly logsKmsKeyArn: string;
  /**
   * Days flow logs are kept.
   * @default 365
   */
  readonly flowLogRetentionDays?: number;
  /**
   * Which flows to record.
   * @default "ALL"
   */
  readonly flowLogTrafficType?: "ALL" | "ACCEPT" | "REJECT";
  /**
   * Services reached through interface endpoints (`ecr.api`, `sts`...), each with private DNS.
   * @default ecr.api, ecr.dkr, sts, logs, sagemaker.runtime
   */
  readonly interfaceEndpoints?: readonly string[];
  /**
   * EKS clusters that share the subnets; each gets a `kubernetes.io/cluster/<name>: shared` tag.
   * @default none
   */
  readonly clusterNames?: readonly string[];
  /**
   * Terraform `prevent_destroy` on the flow log group.
   * @default false
   */
  readonly preventDestroy?: boolean;
}

/**
 * A VPC for the platform: private subnets for workloads in every zone, public subnets only for load
 * balancers and NAT gateways, flow logs to an encrypted log group, an emptied default security group, and
 * VPC endpoints so that traffic to S3, ECR, STS, CloudWatch Logs and SageMaker never leaves AWS's network.
 * Subnets carry the tags EKS load balancers look for (`kubernetes.io/role/elb`, `.../internal-elb`).
 *
 * @example
 * const network = new MlopsNetwork(this, "Network", {
 *   name: "mlops-dev",
 *   location: { accountId: "111111111111", region: "eu-west-1" },
 *   cidrBlock: "10.10.0.0/16",
 *   availabilityZones: ["eu-west-1a", "eu-west-1b"],
 *   natGateways: "single",
 *   logsKmsKeyArn: key.arn,
 * });
 * new EksCluster(this, "Cluster", { vpcConfig: { subnetIds: network.privateSubnetIds }, ... });
 */
export class MlopsNetwork extends Construct {
  /** The VPC. */
  readonly vpc: Vpc;
  /** The VPC's id. */
  readonly vpcId: string;
  /** The VPC's IPv4 range. */
  readonly cidrBlock: string;
  /** The zones the subnets are in, in the order given. */
  readonly availabilityZones: readonly string[];
  /** Private subnet ids, in zone order: where workloads, nodes and interface endpoints go. */
  readonly privateSubnetIds: string[];
  /** Public subnet ids, in zone order: load balancers and NAT gateways only. */
  readonly publicSubnetIds: string[];
  /** The CIDRs of each zone's subnets. */
  readonly layout: readonly ZoneSubnets[];
  /** Security group of the interface endpoints (HTTPS from the VPC). */
  readonly endpointSecurityGroup: SecurityGroup;
  /** The log group that receives the VPC's flow logs. */
  readonly flowLogGroup: CloudwatchLogGroup;

  private readonly privateSubnetsByZone = new Map<string, Subnet>();

  constructor(scope: Construct, id: string, props: MlopsNetworkProps) {
    super(scope, id);
    recordPackageVersion(this);
    if (props.availabilityZones.length === 0) {
      throw new Error(`MlopsNetwork ${this.node.path}: availabilityZones must list at least one zone`);
    }
    const { name, location } = props;
    const natGateways = props.natGateways ?? "per-az";
    this.cidrBlock = props.cidrBlock;
    this.availabilityZones = [...props.availabilityZones];
    this.layout = subnetLayout(props.cidrBlock, props.availabilityZones);
    const clusterTags = Object.fromEntries(
      (props.clusterNames ?? []).map((cluster) => [`kubernetes.io/cluster/${cluster}`, "shared"]),
    );

    this.vpc = new Vpc(this, "Resource", {
      cidrBlock: props.cidrBlock,
      enableDnsSupport: true,
      // Private DNS of interface endpoints needs DNS hostnames.
      enableDnsHostnames: true,
      tags: { Name: name },
    });
    this.vpcId = this.vpc.id;

    // Taking over the default security group with no rules removes AWS's allow-all-within-group rules, so
    // nothing can use it by accident.
    new DefaultSecurityGroup(this, "DefaultSecurityGroup", {
      vpcId: this.vpc.id,
      ingress: [],
      egress: [],
      tags: { Name: `${name}-default-unused` },
    });

    const internetGateway = new InternetGateway(this, "InternetGateway", {
      vpcId: this.vpc.id,
      tags: { Name: name },
    });
    const publicRouteTable = new RouteTable(this, "PublicRouteTable", {
      vpcId: this.vpc.id,
      tags: { Name: `${name}-public` },
    });
    new Route(this, "PublicDefaultRoute", {
      routeTableId: publicRouteTable.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: internetGateway.id,
    });

    const publicSubnets: Subnet[] = [];
    const privateSubnets: Subnet[] = [];
    const natByZone = new Map<string, NatGateway>();
    for (const zone of this.layout) {
      const suffix = zoneSuffix(zone.availabilityZone);
      const publicSubnet = new Subnet(this, `PublicSubnet${suffix}`, {
        vpcId: this.vpc.id,
        availabilityZone: zone.availabilityZone,
        cidrBlock: zone.publicCidr,
        // Load balancers and NAT gateways get their addresses explicitly; nothing else should live here.
        mapPublicIpOnLaunch: false,
        tags: {
          Name: `${name}-public-${zone.availabilityZone}`,
          "kubernetes.io/role/elb": "1",
          ...clusterTags,
        },
      });
      new RouteTableAssociation(this, `PublicRouteTableAssociation${suffix}`, {
        subnetId: publicSubnet.id,
        routeTableId: publicRouteTable.id,
      });
      publicSubnets.push(publicSubnet);

      const privateSubnet = new Subnet(this, `PrivateSubnet${suffix}`, {
        vpcId: this.vpc.id,
        availabilityZone: zone.availabilityZone,
        cidrBlock: zone.privateCidr,
        mapPublicIpOnLaunch: false,
        tags: {
          Name: `${name}-private-${zone.availabilityZone}`,
          "kubernetes.io/role/internal-elb": "1",
          ...clusterTags,
        },
      });
      privateSubnets.push(privateSubnet);
      this.privateSubnetsByZone.set(zone.availabilityZone, privateSubnet);

      if (natGateways === "per-az" || natByZone.size === 0) {
        const eip = new Eip(this, `NatEip${suffix}`, {
          domain: "vpc",
          tags: { Name: `${name}-nat-${zone.availabilityZone}` },
          dependsOn: [internetGateway],
        });
        natByZone.set(
          zone.availabilityZone,
          new NatGateway(this, `NatGateway${suffix}`, {
            allocationId: eip.allocationId,
            subnetId: publicSubnet.id,
            tags: { Name: `${name}-${zone.availabilityZone}` },
            dependsOn: [internetGateway],
          }),
        );
      }
    }
    this.publicSubnetIds = publicSubnets.map((subnet) => subnet.id);
    this.privateSubnetIds = privateSubnets.map((subnet) => subnet.id);

    // One private route table per zone, even with a single NAT gateway, so that switching to per-az NAT
    // only changes routes.
    const firstNat = natByZone.values().next().value as NatGateway;
    const privateRouteTables = this.layout.map((zone, index) => {
      const suffix = zoneSuffix(zone.availabilityZone);
      const table = new RouteTable(this, `PrivateRouteTable${suffix}`, {
        vpcId: this.vpc.id,
        tags: { Name: `${name}-private-${zone.availabilityZone}` },
      });
      new Route(this, `PrivateDefaultRoute${suffix}`, {
        routeTableId: table.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: (natByZone.get(zone.availabilityZone) ?? firstNat).id,
      });
      new RouteTableAssociation(this, `PrivateRouteTableAssociation${suffix}`, {
        subnetId: privateSubnets[index].id,
        routeTableId: table.id,
      });
      return table;
    });

    new VpcEndpoint(this, "S3Endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${location.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: privateRouteTables.map((table) => table.id),
      tags: { Name: `${name}-s3` },
    });

    this.endpointSecurityGroup = new SecurityGroup(this, "EndpointSecurityGroup", {
      name: shorten(`${name}-vpc-endpoints`, NAME_LIMITS.securityGroup.maxLength),
      description: "Interface VPC endpoints: HTTPS from inside the VPC",
      vpcId: this.vpc.id,
      tags: { Name: `${name}-vpc-endpoints` },
    });
    new VpcSecurityGroupIngressRule(this, "EndpointHttpsFromVpc", {
      securityGroupId: this.endpointSecurityGroup.id,
      description: "HTTPS from the VPC",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: props.cidrBlock,
    });
    const services = props.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS;
    const duplicates = services.filter((service, index) => services.indexOf(service) !== index);
    if (duplicates.length > 0) {
      throw new Error(
        `MlopsNetwork ${this.node.path}: interfaceEndpoints lists ${duplicates.join(", ")} twice`,
      );
    }
    for (const service of services) {
      new VpcEndpoint(this, `${pascalCase(service)}Endpoint`, {
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${location.region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: this.privateSubnetIds,
        securityGroupIds: [this.endpointSecurityGroup.id],
        tags: { Name: `${name}-${service}` },
      });
    }

    const logGroupName = `/aws/vpc/${name}/flow-logs`;
    this.flowLogGroup = new CloudwatchLogGroup(this, "FlowLogGroup", {
      name: logGroupName,
      retentionInDays: props.flowLogRetentionDays ?? 365,
      kmsKeyId: props.logsKmsKeyArn,
      lifecycle: { preventDestroy: props.preventDestroy ?? false },
    });
    const logGroupArn = arn(location, "logs", `log-group:${logGroupName}`);
    const flowLogRole = new IamRole(this, "FlowLogRole", {
      name: shorten(`${name}-vpc-flow-logs`, NAME_LIMITS.iamRole.maxLength),
      description: `Lets VPC flow logs of ${name} write to ${logGroupName}`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "vpc-flow-logs.amazonaws.com" },
            Action: "sts:AssumeRole",
            // Only flow logs of this account may use the role (confused-deputy protection).
            Condition: {
              StringEquals: { "aws:SourceAccount": location.accountId },
              ArnLike: { "aws:SourceArn": arn(location, "ec2", "vpc-flow-log/*") },
            },
          },
        ],
      }),
    });
    new IamRolePolicy(this, "FlowLogRolePolicy", {
      role: flowLogRole.id,
      name: "write-flow-logs",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: [logGroupArn, `${logGroupArn}:*`],
          },
        ],
      }),
    });
    new FlowLog(this, "FlowLog", {
      vpcId: this.vpc.id,
      trafficType: props.flowLogTrafficType ?? "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: this.flowLogGroup.arn,
      iamRoleArn: flowLogRole.arn,
      // One-minute aggregation makes flow logs useful for debugging a failing connection.
      maxAggregationInterval: 60,
      tags: { Name: name },
    });
  }

  /** The private subnet of `availabilityZone`; throws when the network has no subnet there. */
  privateSubnetId(availabilityZone: string): string {
    const subnet = this.privateSubnetsByZone.get(availabilityZone);
    if (!subnet) {
      throw new Error(
        `MlopsNetwork ${this.node.path} has no subnet in ${availabilityZone}; its zones are ${this.availabilityZones.join(", ")}`,
      );
    }
    return subnet.id;
  }
}

/** `A` for `eu-west-1a`: construct ids follow the zone, so removing a zone never renames another's. */
function zoneSuffix(availabilityZone: string): string {
  return availabilityZone.slice(-1).toUpperCase();
}

/** `ecr.api` → `EcrApi`. */
function pascalCase(service: string): string {
  return service
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}
