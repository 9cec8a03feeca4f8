import { TerraformStack, Testing } from "cdktf";
import { MlopsNetwork, type MlopsNetworkProps } from "../../../constructs/network/mlops-network";
import { onlyResource, resourcesOf, synthStack, type StackJson } from "../../helpers/synth";

const location = { accountId: "111111111111", region: "eu-west-1" };

function synthNetwork(props: Partial<MlopsNetworkProps> = {}): StackJson {
  const stack = new TerraformStack(Testing.app(), "test");
  new MlopsNetwork(stack, "Network", {
    name: "mlops-dev",
    location,
    cidrBlock: "10.10.0.0/16",
    availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    logsKmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/test",
    ...props,
  });
  return synthStack(stack);
}

const values = (json: StackJson, type: string) => Object.values(resourcesOf(json, type));

describe("MlopsNetwork defaults", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthNetwork({ clusterNames: ["mlops-dev-eks"] });
  });

  it("creates a VPC with DNS hostnames for private endpoint DNS", () => {
    expect(onlyResource(json, "aws_vpc")).toMatchObject({
      cidr_block: "10.10.0.0/16",
      enable_dns_hostnames: true,
      enable_dns_support: true,
    });
  });

  it("creates a private and a public subnet per zone with computed CIDRs", () => {
    const subnets = values(json, "aws_subnet");
    expect(subnets.map((subnet) => subnet.cidr_block).sort()).toEqual([
      "10.10.0.0/19",
      "10.10.224.0/24",
      "10.10.225.0/24",
      "10.10.226.0/24",
      "10.10.32.0/19",
      "10.10.64.0/19",
    ]);
    expect(subnets.every((subnet) => subnet.map_public_ip_on_launch === false)).toBe(true);
  });

  it("tags public subnets for internet-facing and private ones for internal load balancers", () => {
    const subnets = resourcesOf(json, "aws_subnet");
    const tags = (id: string) => Object.entries(subnets).find(([key]) => key.startsWith(id))![1].tags;
    expect(tags("Network_PublicSubnetA")).toMatchObject({
      "kubernetes.io/role/elb": "1",
      "kubernetes.io/cluster/mlops-dev-eks": "shared",
    });
    expect(tags("Network_PrivateSubnetA")).toMatchObject({ "kubernetes.io/role/internal-elb": "1" });
    expect(tags("Network_PrivateSubnetA")).not.toHaveProperty("kubernetes.io/role/elb");
  });

  it("creates one NAT gateway per zone by default", () => {
    expect(values(json, "aws_nat_gateway")).toHaveLength(3);
    expect(values(json, "aws_eip")).toHaveLength(3);
  });

  it("empties the default security group", () => {
    expect(onlyResource(json, "aws_default_security_group")).toMatchObject({ ingress: [], egress: [] });
  });

  it("routes S3 through a gateway endpoint on the private route tables", () => {
    const s3 = values(json, "aws_vpc_endpoint").find((endpoint) => endpoint.vpc_endpoint_type === "Gateway")!;
    expect(s3.service_name).toBe("com.amazonaws.eu-west-1.s3");
    expect(s3.route_table_ids).toHaveLength(3);
  });

  it("creates interface endpoints with private DNS for ECR, STS, Logs and SageMaker runtime", () => {
    const interfaces = values(json, "aws_vpc_endpoint").filter(
      (endpoint) => endpoint.vpc_endpoint_type === "Interface",
    );
    expect(interfaces.map((endpoint) => endpoint.service_name).sort()).toEqual([
      "com.amazonaws.eu-west-1.ecr.api",
      "com.amazonaws.eu-west-1.ecr.dkr",
      "com.amazonaws.eu-west-1.logs",
      "com.amazonaws.eu-west-1.sagemaker.runtime",
      "com.amazonaws.eu-west-1.sts",
    ]);
    expect(interfaces.every((endpoint) => endpoint.private_dns_enabled === true)).toBe(true);
  });

  it("lets only HTTPS from the VPC reach the interface endpoints", () => {
    expect(onlyResource(json, "aws_vpc_security_group_ingress_rule")).toMatchObject({
      ip_protocol: "tcp",
      from_port: 443,
      to_port: 443,
      cidr_ipv4: "10.10.0.0/16",
    });
  });

  it("sends every flow to a KMS-encrypted log group with retention", () => {
    expect(onlyResource(json, "aws_cloudwatch_log_group")).toMatchObject({
      name: "/aws/vpc/mlops-dev/flow-logs",
      retention_in_days: 365,
      kms_key_id: "arn:aws:kms:eu-west-1:111111111111:key/test",
    });
    expect(onlyResource(json, "aws_flow_log")).toMatchObject({
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
    });
  });

  it("lets only this account's flow logs assume the flow log role", () => {
    const trust = JSON.parse(onlyResource(json, "aws_iam_role").assume_role_policy as string);
    expect(trust.Statement[0].Condition.StringEquals).toEqual({ "aws:SourceAccount": "111111111111" });
  });
});

describe("MlopsNetwork options", () => {
  it("creates a single NAT gateway that every private route table uses", () => {
    const json = synthNetwork({ natGateways: "single" });
    expect(values(json, "aws_nat_gateway")).toHaveLength(1);
    const routes = values(json, "aws_route").filter((route) => route.nat_gateway_id);
    expect(routes).toHaveLength(3);
    expect(new Set(routes.map((route) => route.nat_gateway_id)).size).toBe(1);
  });

  it("creates the interface endpoints it is given", () => {
    const json = synthNetwork({ interfaceEndpoints: ["sts"] });
    expect(values(json, "aws_vpc_endpoint")).toHaveLength(2);
  });

  it("refuses an interface endpoint listed twice", () => {
    expect(() => synthNetwork({ interfaceEndpoints: ["sts", "sts"] })).toThrow(/lists sts twice/);
  });

  it("protects the flow log group when asked", () => {
    const json = synthNetwork({ preventDestroy: true });
    expect(onlyResource(json, "aws_cloudwatch_log_group").lifecycle).toEqual({ prevent_destroy: true });
  });
});
