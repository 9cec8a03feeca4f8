import { TerraformStack, Testing } from "cdktf";
import {
  GpuTrainingCluster,
  type GpuTrainingClusterProps,
} from "../../../constructs/training/gpu-training-cluster";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { PodIdentityRole } from "../../../constructs/training/pod-identity-role";
import { onlyResource, resourcesOf, synthStack, type StackJson } from "../../helpers/synth";

const location = { accountId: "111111111111", region: "eu-west-1" };
const network = {
  privateSubnetIds: ["subnet-a", "subnet-b"],
  availabilityZones: ["eu-west-1a", "eu-west-1b"],
  privateSubnetId: (zone: string) => `subnet-${zone.slice(-1)}`,
};
const base: GpuTrainingClusterProps = {
  clusterName: "mlops-dev-eks",
  location,
  kubernetesVersion: "1.33",
  network,
  encryptionKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/test",
};

function synthCluster(
  props: Partial<GpuTrainingClusterProps> = {},
  extend?: (cluster: GpuTrainingCluster, stack: TerraformStack) => void,
) {
  const stack = new TerraformStack(Testing.app(), "test");
  const cluster = new GpuTrainingCluster(stack, "Cluster", { ...base, ...props });
  extend?.(cluster, stack);
  return synthStack(stack);
}

const byKeyPrefix = (json: StackJson, type: string, prefix: string) =>
  Object.entries(resourcesOf(json, type)).find(([key]) => key.startsWith(prefix))![1];

/** The statements of the trust policy of the role whose logical id starts with `prefix`. */
const trustOf = (json: StackJson, prefix: string): unknown[] =>
  (
    JSON.parse(byKeyPrefix(json, "aws_iam_role", prefix).assume_role_policy as string) as {
      Statement: unknown[];
    }
  ).Statement;

/** The launch template a node group launches from (the template it refers to, at its latest version). */
function launchTemplateOf(json: StackJson, nodeGroupPrefix: string): Record<string, unknown> {
  const group = byKeyPrefix(json, "aws_eks_node_group", nodeGroupPrefix);
  expect(group.launch_template).toEqual({
    id: expect.stringMatching(/^\$\{aws_launch_template\.[\w-]+\.id\}$/),
    version: expect.stringMatching(/^\$\{aws_launch_template\.[\w-]+\.latest_version\}$/),
  });
  const { id, version } = group.launch_template as { id: string; version: string };
  const templateId = /^\$\{aws_launch_template\.([\w-]+)\.id\}$/.exec(id)![1];
  expect(version).toBe(`\${aws_launch_template.${templateId}.latest_version}`);
  const template = resourcesOf(json, "aws_launch_template")[templateId];
  expect(template).toBeDefined();
  return template;
}

describe("GpuTrainingCluster defaults", () => {
  let json: StackJson;
  let cluster: Record<string, unknown>;
  beforeAll(() => {
    json = synthCluster(
      {
        adminRoleArns: ["arn:aws:iam::111111111111:role/platform-admin"],
        addonVersions: { vpcCni: "v1.19.5-eksbuild.1", kubeProxy: "v1.33.0-eksbuild.2" },
        gpuNodeGroups: { g5: { instanceTypes: ["g5.xlarge"] } },
      },
      (c, stack) => {
        const role = new PodIdentityRole(stack, "Training", {
          roleName: "training",
          accountId: location.accountId,
        });
        c.grantServiceAccount("training", "training", role);
      },
    );
    cluster = onlyResource(json, "aws_eks_cluster");
  });

  it("authenticates through access entries only", () => {
    expect(cluster.access_config).toEqual({
      authentication_mode: "API",
      bootstrap_cluster_creator_admin_permissions: false,
    });
  });

  it("gives the admin roles cluster-admin through access entries", () => {
    expect(onlyResource(json, "aws_eks_access_entry")).toMatchObject({
      principal_arn: "arn:aws:iam::111111111111:role/platform-admin",
      type: "STANDARD",
    });
    expect(onlyResource(json, "aws_eks_access_policy_association")).toMatchObject({
      policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
      access_scope: { type: "cluster" },
    });
  });

  it("keeps the API endpoint private", () => {
    expect(cluster.vpc_config).toMatchObject({
      endpoint_private_access: true,
      endpoint_public_access: false,
    });
    expect((cluster.vpc_config as Record<string, unknown>).public_access_cidrs).toBeUndefined();
  });

  it("envelope-encrypts secrets with the KMS key", () => {
    expect(cluster.encryption_config).toEqual({
      provider: { key_arn: "arn:aws:kms:eu-west-1:111111111111:key/test" },
      resources: ["secrets"],
    });
  });

  it("sends all five control-plane log types to a log group created before the cluster", () => {
    expect(cluster.enabled_cluster_log_types).toEqual([
      "api",
      "audit",
      "authenticator",
      "controllerManager",
      "scheduler",
    ]);
    expect(onlyResource(json, "aws_cloudwatch_log_group")).toMatchObject({
      name: "/aws/eks/mlops-dev-eks/cluster",
      retention_in_days: 365,
      kms_key_id: "arn:aws:kms:eu-west-1:111111111111:key/test",
    });
    expect(cluster.depends_on).toEqual(
      expect.arrayContaining([expect.stringMatching(/^aws_cloudwatch_log_group\./)]),
    );
  });

  it("installs the five managed add-ons, pinned where a version is given", () => {
    const addons = Object.values(resourcesOf(json, "aws_eks_addon"));
    expect(addons.map((addon) => addon.addon_name).sort()).toEqual([
      "aws-ebs-csi-driver",
      "coredns",
      "eks-pod-identity-agent",
      "kube-proxy",
      "vpc-cni",
    ]);
    expect(addons.find((addon) => addon.addon_name === "vpc-cni")!.addon_version).toBe("v1.19.5-eksbuild.1");
  });

  it("gives the VPC CNI and the EBS CSI driver their own Pod Identity roles", () => {
    const addons = Object.values(resourcesOf(json, "aws_eks_addon"));
    const identity = (name: string) =>
      addons.find((addon) => addon.addon_name === name)!.pod_identity_association;
    expect(identity("vpc-cni")).toEqual([
      { role_arn: expect.stringContaining("VpcCniRole"), service_account: "aws-node" },
    ]);
    expect(identity("aws-ebs-csi-driver")).toEqual([
      { role_arn: expect.stringContaining("EbsCsiDriverRole"), service_account: "ebs-csi-controller-sa" },
    ]);
  });

  it("gives nodes only the worker and image-pull policies", () => {
    const attachments = Object.entries(resourcesOf(json, "aws_iam_role_policy_attachment"))
      .filter(([key]) => key.startsWith("Cluster_NodeRole"))
      .map(([, attachment]) => attachment.policy_arn);
    expect(attachments.sort()).toEqual([
      "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
      "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    ]);
  });

  it("lets only EKS, for this account, assume the cluster role", () => {
    expect(trustOf(json, "Cluster_ClusterRole")).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: { StringEquals: { "aws:SourceAccount": "111111111111" } },
      },
    ]);
  });

  it.each(["Cluster_VpcCniRole", "Cluster_EbsCsiDriverRole"])(
    "lets only pods of this cluster in this account assume %s, through Pod Identity",
    (prefix) => {
      expect(trustOf(json, prefix)).toEqual([
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: {
            StringEquals: { "aws:SourceAccount": "111111111111" },
            ArnEquals: { "aws:SourceArn": "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev-eks" },
          },
        },
      ]);
    },
  );

  it("launches system nodes with IMDSv2 required and a hop limit of 1, out of pods' reach", () => {
    const template = launchTemplateOf(json, "Cluster_SystemNodeGroup");
    expect(template.name).toBe("mlops-dev-eks-system");
    expect(template.metadata_options).toEqual({
      http_endpoint: "enabled",
      http_tokens: "required",
      http_put_response_hop_limit: 1,
      instance_metadata_tags: "disabled",
    });
  });

  it("runs an on-demand system node group of at least two nodes across every subnet", () => {
    expect(byKeyPrefix(json, "aws_eks_node_group", "Cluster_SystemNodeGroup")).toMatchObject({
      ami_type: "AL2023_x86_64_STANDARD",
      capacity_type: "ON_DEMAND",
      scaling_config: { min_size: 2, max_size: 4, desired_size: 2 },
      subnet_ids: ["subnet-a", "subnet-b"],
    });
  });

  it("runs every node group at the cluster's Kubernetes version, so an upgrade rolls the nodes after it", () => {
    const clusterKey = Object.keys(json.resource!.aws_eks_cluster)[0];
    for (const prefix of ["Cluster_SystemNodeGroup", "Cluster_GpuNodeGroup-g5"]) {
      expect(byKeyPrefix(json, "aws_eks_node_group", prefix).version).toBe(
        `\${aws_eks_cluster.${clusterKey}.version}`,
      );
    }
  });

  it("starts nodes only after the networking add-ons and the node role's policies", () => {
    const group = byKeyPrefix(json, "aws_eks_node_group", "Cluster_GpuNodeGroup-g5");
    expect(group.depends_on).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/aws_eks_addon\.Cluster_Addon-vpc-cni/),
        expect.stringMatching(/aws_eks_addon\.Cluster_Addon-eks-pod-identity-agent/),
        expect.stringMatching(/aws_iam_role_policy_attachment\.Cluster_NodeRoleAmazonEKSWorkerNodePolicy/),
        expect.stringMatching(
          /aws_iam_role_policy_attachment\.Cluster_NodeRoleAmazonEC2ContainerRegistryReadOnly/,
        ),
      ]),
    );
  });

  it("names GPU node groups <cluster>-gpu-<name> and spreads them over every subnet", () => {
    expect(byKeyPrefix(json, "aws_eks_node_group", "Cluster_GpuNodeGroup-g5")).toMatchObject({
      node_group_name: "mlops-dev-eks-gpu-g5",
      subnet_ids: ["subnet-a", "subnet-b"],
    });
  });

  it("associates a service account with a role through Pod Identity", () => {
    expect(onlyResource(json, "aws_eks_pod_identity_association")).toMatchObject({
      namespace: "training",
      service_account: "training",
      role_arn: expect.stringContaining("aws_iam_role.Training"),
    });
  });
});

describe("GpuTrainingCluster network policies", () => {
  const vpcCni = (json: StackJson) =>
    Object.values(resourcesOf(json, "aws_eks_addon")).find((addon) => addon.addon_name === "vpc-cni")!;

  it("lets the VPC CNI enforce NetworkPolicies by default", () => {
    expect(JSON.parse(vpcCni(synthCluster()).configuration_values as string)).toEqual({
      enableNetworkPolicy: "true",
    });
  });

  it("leaves NetworkPolicies unenforced when asked", () => {
    expect(vpcCni(synthCluster({ enforceNetworkPolicies: false })).configuration_values).toBeUndefined();
  });
});

describe("GpuTrainingCluster with Container Insights", () => {
  let json: StackJson;
  let addon: Record<string, unknown>;
  beforeAll(() => {
    json = synthCluster({
      containerInsights: { addonVersion: "v4.10.3-eksbuild.1", containerLogs: true },
      logRetentionDays: 90,
      preventDestroy: true,
    });
    addon = Object.values(resourcesOf(json, "aws_eks_addon")).find(
      (a) => a.addon_name === "amazon-cloudwatch-observability",
    )!;
  });

  it("installs the amazon-cloudwatch-observability add-on at the version given", () => {
    expect(addon).toMatchObject({
      addon_version: "v4.10.3-eksbuild.1",
      resolve_conflicts_on_update: "OVERWRITE",
    });
  });

  it("binds the agent's service account to its own role through Pod Identity", () => {
    expect(addon.pod_identity_association).toEqual([
      { role_arn: expect.stringContaining("ContainerInsightsRole"), service_account: "cloudwatch-agent" },
    ]);
    const role = byKeyPrefix(json, "aws_iam_role", "Cluster_ContainerInsightsRole");
    expect(role.name).toBe("mlops-dev-eks-cloudwatch-agent");
    expect(JSON.parse(role.assume_role_policy as string).Statement[0].Condition.ArnEquals).toEqual({
      "aws:SourceArn": "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev-eks",
    });
    expect(
      byKeyPrefix(json, "aws_iam_role_policy_attachment", "Cluster_ContainerInsightsRole").policy_arn,
    ).toBe("arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy");
  });

  it("ships container logs when asked", () => {
    expect(JSON.parse(addon.configuration_values as string).containerLogs).toEqual({ enabled: true });
  });

  it("creates every log group the agent and Fluent Bit write to, encrypted and kept for a set time", () => {
    const groups = Object.values(resourcesOf(json, "aws_cloudwatch_log_group"))
      .filter((g) => String(g.name).startsWith("/aws/containerinsights/"))
      .map((g) => [
        g.name,
        g.retention_in_days,
        g.kms_key_id,
        (g.lifecycle as Record<string, unknown>).prevent_destroy,
      ]);
    const key = "arn:aws:kms:eu-west-1:111111111111:key/test";
    expect(groups.sort()).toEqual([
      ["/aws/containerinsights/mlops-dev-eks/application", 90, key, true],
      ["/aws/containerinsights/mlops-dev-eks/dataplane", 90, key, true],
      ["/aws/containerinsights/mlops-dev-eks/host", 90, key, true],
      ["/aws/containerinsights/mlops-dev-eks/performance", 7, key, true],
    ]);
  });

  it("waits for the log groups and the system nodes", () => {
    expect(addon.depends_on).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^aws_eks_node_group\.Cluster_SystemNodeGroup/),
        expect.stringMatching(/^aws_cloudwatch_log_group\.Cluster_ContainerInsightsLogGroup-performance/),
        expect.stringMatching(/^aws_cloudwatch_log_group\.Cluster_ContainerInsightsLogGroup-application/),
      ]),
    );
  });
});

describe("GpuTrainingCluster with Container Insights, without container logs", () => {
  it("turns Fluent Bit off and creates only the performance log group", () => {
    const json = synthCluster({ containerInsights: {} });
    const addon = Object.values(resourcesOf(json, "aws_eks_addon")).find(
      (a) => a.addon_name === "amazon-cloudwatch-observability",
    )!;
    expect(JSON.parse(addon.configuration_values as string).containerLogs).toEqual({ enabled: false });
    expect(
      Object.values(resourcesOf(json, "aws_cloudwatch_log_group"))
        .map((g) => g.name)
        .filter((name) => String(name).startsWith("/aws/containerinsights/")),
    ).toEqual(["/aws/containerinsights/mlops-dev-eks/performance"]);
  });
});

describe("GpuTrainingCluster options", () => {
  it("opens a public endpoint only to the CIDRs given", () => {
    const json = synthCluster({ publicAccessCidrs: ["203.0.113.0/24"] });
    expect(onlyResource(json, "aws_eks_cluster").vpc_config).toMatchObject({
      endpoint_public_access: true,
      public_access_cidrs: ["203.0.113.0/24"],
    });
  });

  it("gives the system nodes the hop limit asked for, still with IMDSv2 required", () => {
    const template = launchTemplateOf(synthCluster({ imdsHopLimit: 2 }), "Cluster_SystemNodeGroup");
    expect(template.metadata_options).toMatchObject({
      http_tokens: "required",
      http_put_response_hop_limit: 2,
    });
  });

  it("refuses to open the endpoint to the whole internet", () => {
    expect(() => synthCluster({ publicAccessCidrs: ["0.0.0.0/0"] })).toThrow(/must not contain 0.0.0.0\/0/);
  });

  it("puts an EFA group into the first zone's subnet and the cluster security group", () => {
    const json = synthCluster({ gpuNodeGroups: { p5: { instanceTypes: ["p5.48xlarge"], efa: true } } });
    expect(byKeyPrefix(json, "aws_eks_node_group", "Cluster_GpuNodeGroup-p5").subnet_ids).toEqual([
      "subnet-a",
    ]);
    const template = byKeyPrefix(json, "aws_launch_template", "Cluster_GpuNodeGroup-p5");
    expect((template.network_interfaces as { security_groups: string[] }[])[0].security_groups).toEqual([
      expect.stringContaining("vpc_config[0].cluster_security_group_id"),
    ]);
  });

  it("asks for the zone of a capacity reservation", () => {
    expect(() =>
      synthCluster({
        gpuNodeGroups: {
          p5: { instanceTypes: ["p5.48xlarge"], capacityReservationId: "cr-0123456789abcdef0" },
        },
      }),
    ).toThrow(/set availabilityZone/);
  });

  it("protects the cluster, its node groups and its log group when asked", () => {
    const json = synthCluster({
      preventDestroy: true,
      gpuNodeGroups: { g5: { instanceTypes: ["g5.xlarge"] } },
    });
    expect(onlyResource(json, "aws_eks_cluster").lifecycle).toEqual({ prevent_destroy: true });
    expect(onlyResource(json, "aws_cloudwatch_log_group").lifecycle).toEqual({ prevent_destroy: true });
    for (const group of Object.values(resourcesOf(json, "aws_eks_node_group"))) {
      expect(group.lifecycle).toMatchObject({ prevent_destroy: true });
    }
  });
});

describe("GpuTrainingCluster.grantAccess", () => {
  const readerArn = "arn:aws:iam::111111111111:role/ci-plan";

  it("gives a role one access policy on the whole cluster, after the role exists", () => {
    const json = synthCluster({}, (c, stack) => {
      const role = new IamRole(stack, "Reader", { name: "ci-plan", assumeRolePolicy: "{}" });
      c.grantAccess("CiPlan", readerArn, "AmazonEKSAdminViewPolicy", [role]);
    });
    const [[entryKey, entry]] = Object.entries(resourcesOf(json, "aws_eks_access_entry"));
    expect(entryKey).toMatch(/^Cluster_CiPlanAccessEntry_/);
    expect(entry).toMatchObject({
      principal_arn: readerArn,
      type: "STANDARD",
      depends_on: ["aws_iam_role.Reader"],
    });
    expect(onlyResource(json, "aws_eks_access_policy_association")).toMatchObject({
      principal_arn: readerArn,
      policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy",
      access_scope: { type: "cluster" },
      depends_on: [`aws_eks_access_entry.${entryKey}`],
    });
  });

  it("names the partition of the cluster's region in the policy ARN", () => {
    const json = synthCluster({ location: { accountId: "111111111111", region: "cn-north-1" } }, (c) =>
      c.grantAccess("CiPlan", "arn:aws-cn:iam::111111111111:role/ci-plan", "AmazonEKSViewPolicy"),
    );
    expect(onlyResource(json, "aws_eks_access_policy_association").policy_arn).toBe(
      "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
    );
  });

  it("refuses to grant the same role twice", () => {
    expect(() =>
      synthCluster({}, (c) => {
        c.grantAccess("CiPlan", readerArn, "AmazonEKSAdminViewPolicy");
        c.grantAccess("CiPlanAgain", readerArn, "AmazonEKSViewPolicy");
      }),
    ).toThrow(/ci-plan already has an access entry/);
  });

  it("refuses a second entry for a role that has one, as EKS would at apply", () => {
    expect(() =>
      synthCluster({ adminRoleArns: [readerArn] }, (c) =>
        c.grantAccess("CiPlan", readerArn, "AmazonEKSAdminViewPolicy"),
      ),
    ).toThrow(
      "GpuTrainingCluster test/Cluster: arn:aws:iam::111111111111:role/ci-plan already has an access entry (EKS allows one per principal); grant it once",
    );
  });
});

describe("GpuTrainingCluster private endpoint access", () => {
  const rulesOf = (json: StackJson) => resourcesOf(json, "aws_vpc_security_group_ingress_rule");

  it("opens the private endpoint to no network by default", () => {
    expect(rulesOf(synthCluster())).toEqual({});
  });

  it("lets each network reach the API on 443 through the cluster security group", () => {
    const json = synthCluster({ endpointPrivateAccessCidrs: ["10.20.0.0/16", "172.16.0.0/12"] });
    const [clusterId] = Object.keys(resourcesOf(json, "aws_eks_cluster"));
    expect(Object.values(rulesOf(json))).toEqual(
      ["10.20.0.0/16", "172.16.0.0/12"].map((cidr) => ({
        // The security group EKS creates with the cluster and attaches to the endpoint's interfaces.
        security_group_id: `\${aws_eks_cluster.${clusterId}.vpc_config[0].cluster_security_group_id}`,
        description: `Kubernetes API of mlops-dev-eks (private endpoint) from ${cidr}`,
        ip_protocol: "tcp",
        from_port: 443,
        to_port: 443,
        cidr_ipv4: cidr,
      })),
    );
  });

  it("names each rule after its CIDR, so reordering the list changes nothing", () => {
    const forward = rulesOf(synthCluster({ endpointPrivateAccessCidrs: ["10.20.0.0/16", "192.168.8.0/24"] }));
    const reversed = rulesOf(
      synthCluster({ endpointPrivateAccessCidrs: ["192.168.8.0/24", "10.20.0.0/16"] }),
    );
    expect(Object.keys(forward)).toEqual([
      expect.stringMatching(/^Cluster_PrivateEndpointAccess-10-20-0-0-16_[0-9A-F]{8}$/),
      expect.stringMatching(/^Cluster_PrivateEndpointAccess-192-168-8-0-24_[0-9A-F]{8}$/),
    ]);
    expect(reversed).toEqual(forward);
  });

  it("adds networks in code, with a description of their own", () => {
    const json = synthCluster({ endpointPrivateAccessCidrs: ["10.20.0.0/16"] }, (cluster) => {
      cluster.allowPrivateEndpointAccess("10.99.0.0/16", "Kubernetes API from the VPN");
      expect(Object.keys(cluster.privateEndpointAccessRules)).toEqual(["10.20.0.0/16", "10.99.0.0/16"]);
    });
    expect(Object.values(rulesOf(json)).map((rule) => [rule.cidr_ipv4, rule.description])).toEqual([
      ["10.20.0.0/16", "Kubernetes API of mlops-dev-eks (private endpoint) from 10.20.0.0/16"],
      ["10.99.0.0/16", "Kubernetes API from the VPN"],
    ]);
  });

  it.each([
    ["0.0.0.0/0", /0\.0\.0\.0\/0 is shorter than \/8/],
    ["10.0.0.0/7", /10\.0\.0\.0\/7 is shorter than \/8/],
    ["10.20.0.7/16", /10\.20\.0\.7\/16 has host bits set/],
    ["10.20.0.0", /"10\.20\.0\.0" is not an IPv4 CIDR block/],
    ["10.256.0.0/16", /"10\.256\.0\.0\/16" is not an IPv4 CIDR block/],
  ])("refuses %s", (cidr, message) => {
    expect(() => synthCluster({ endpointPrivateAccessCidrs: [cidr] })).toThrow(message);
  });

  it("refuses a CIDR listed twice, whose rules would collide", () => {
    expect(() => synthCluster({ endpointPrivateAccessCidrs: ["10.20.0.0/16", "10.20.0.0/16"] })).toThrow(
      /endpointPrivateAccessCidrs lists 10\.20\.0\.0\/16 twice/,
    );
  });

  it("refuses a token, which cannot name its rule", () => {
    expect(() =>
      synthCluster({}, (cluster, stack) => {
        const role = new IamRole(stack, "Role", { assumeRolePolicy: "{}" });
        cluster.allowPrivateEndpointAccess(role.name);
      }),
    ).toThrow(/must be literal CIDRs/);
  });
});
