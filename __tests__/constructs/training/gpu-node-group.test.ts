import { TerraformStack, Testing } from "cdktf";
import { GpuNodeGroup, type GpuNodeGroupProps } from "../../../constructs/training/gpu-node-group";
import { onlyResource, resourcesOf, synthStack, type StackJson } from "../../helpers/synth";

const base: GpuNodeGroupProps = {
  clusterName: "mlops-dev-eks",
  nodeGroupName: "mlops-dev-eks-gpu-g5",
  nodeRoleArn: "arn:aws:iam::111111111111:role/mlops-dev-eks-node",
  subnetIds: ["subnet-a", "subnet-b"],
  instanceTypes: ["g5.xlarge", "g6.xlarge"],
};

function synthGroup(props: Partial<GpuNodeGroupProps> = {}): StackJson {
  const stack = new TerraformStack(Testing.app(), "test");
  new GpuNodeGroup(stack, "Gpu", { ...base, ...props });
  return synthStack(stack);
}

describe("GpuNodeGroup defaults", () => {
  let json: StackJson;
  let nodeGroup: Record<string, unknown>;
  let template: Record<string, unknown>;
  beforeAll(() => {
    json = synthGroup({ labels: { team: "research" } });
    nodeGroup = onlyResource(json, "aws_eks_node_group");
    template = onlyResource(json, "aws_launch_template");
  });

  it("scales from zero by default, and lets the autoscaler own the desired size", () => {
    expect(nodeGroup.scaling_config).toEqual({ min_size: 0, max_size: 1, desired_size: 0 });
    expect(nodeGroup.lifecycle).toMatchObject({ ignore_changes: ["scaling_config[0].desired_size"] });
  });

  it("uses the AL2023 NVIDIA AMI on demand", () => {
    expect(nodeGroup).toMatchObject({ ami_type: "AL2023_x86_64_NVIDIA", capacity_type: "ON_DEMAND" });
  });

  it("taints every node nvidia.com/gpu=true:NoSchedule", () => {
    expect(nodeGroup.taint).toEqual([{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }]);
  });

  it("labels nodes as GPU nodes that need the device plugin, plus the given labels", () => {
    expect(nodeGroup.labels).toEqual({
      "nvidia.com/gpu.present": "true",
      // The cluster autoscaler's GPU label, set before the device plugin advertises the GPUs (A10G and L4).
      "k8s.amazonaws.com/accelerator": "nvidia",
      "mlops/node-group": "mlops-dev-eks-gpu-g5",
      "mlops/nvidia-device-plugin": "daemonset",
      team: "research",
    });
  });

  it("rolls at most a third of the nodes at a time", () => {
    expect(nodeGroup.update_config).toEqual({ max_unavailable_percentage: 33 });
  });

  it("requires IMDSv2 with an explicit hop limit of 1", () => {
    expect(template.metadata_options).toMatchObject({
      http_tokens: "required",
      http_put_response_hop_limit: 1,
    });
  });

  it("gives nodes an encrypted 200 GiB gp3 root volume", () => {
    expect(template.block_device_mappings).toEqual([
      {
        device_name: "/dev/xvda",
        ebs: { volume_size: 200, volume_type: "gp3", encrypted: "true", delete_on_termination: "true" },
      },
    ]);
  });

  it("tags the node group for autoscaler discovery and its node template", () => {
    expect(nodeGroup.tags).toMatchObject({
      "k8s.io/cluster-autoscaler/enabled": "true",
      "k8s.io/cluster-autoscaler/mlops-dev-eks": "owned",
      "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "1",
      "k8s.io/cluster-autoscaler/node-template/label/team": "research",
      "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
    });
  });

  it("copies the node template tags to the Auto Scaling group, where the autoscaler reads them at zero nodes", () => {
    const tags = Object.values(resourcesOf(json, "aws_autoscaling_group_tag")).map((tag) => tag.tag);
    expect(tags).toContainEqual({
      key: "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu",
      value: "1",
      propagate_at_launch: false,
    });
    expect(tags).toContainEqual({
      key: "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu",
      value: "true:NoSchedule",
      propagate_at_launch: false,
    });
    expect(tags).toHaveLength(7);
  });

  it("creates no placement group without EFA", () => {
    expect(resourcesOf(json, "aws_placement_group")).toEqual({});
    expect(template.network_interfaces).toBeUndefined();
  });
});

describe("GpuNodeGroup options", () => {
  it("puts images on Bottlerocket's data volume and marks the device plugin as shipped by the AMI", () => {
    const json = synthGroup({ amiType: "BOTTLEROCKET_x86_64_NVIDIA", diskSizeGiB: 300 });
    const devices = onlyResource(json, "aws_launch_template").block_device_mappings as {
      device_name: string;
      ebs: { volume_size: number };
    }[];
    expect(devices.map((device) => [device.device_name, device.ebs.volume_size])).toEqual([
      ["/dev/xvda", 10],
      ["/dev/xvdb", 300],
    ]);
    expect(
      (onlyResource(json, "aws_eks_node_group").labels as Record<string, string>)[
        "mlops/nvidia-device-plugin"
      ],
    ).toBe("ami");
  });

  it.each([
    [["p5.48xlarge"], "nvidia-h100"],
    [["g6.xlarge", "g6.2xlarge"], "nvidia-l4"],
    [["g5.xlarge", "g6.xlarge"], "nvidia"],
    [["g7.xlarge"], "nvidia"],
  ])(
    "labels %j nodes k8s.amazonaws.com/accelerator=%s, also in the autoscaler's node template",
    (types, model) => {
      const json = synthGroup({ instanceTypes: types, gpusPerNode: 1 });
      expect(onlyResource(json, "aws_eks_node_group").labels).toMatchObject({
        "k8s.amazonaws.com/accelerator": model,
      });
      const tags = Object.values(resourcesOf(json, "aws_autoscaling_group_tag")).map((tag) => tag.tag);
      expect(tags).toContainEqual({
        key: "k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator",
        value: model,
        propagate_at_launch: false,
      });
    },
  );

  it("builds EFA interfaces on every network card and a cluster placement group for p5", () => {
    const json = synthGroup({
      instanceTypes: ["p5.48xlarge"],
      subnetIds: ["subnet-a"],
      efa: true,
      efaSecurityGroupIds: ["sg-cluster"],
    });
    const template = onlyResource(json, "aws_launch_template");
    const interfaces = template.network_interfaces as {
      network_card_index: number;
      device_index: number;
      interface_type: string;
    }[];
    expect(interfaces).toHaveLength(32);
    expect(interfaces[0]).toMatchObject({ network_card_index: 0, device_index: 0, interface_type: "efa" });
    expect(interfaces[1]).toMatchObject({ network_card_index: 1, device_index: 1, interface_type: "efa" });
    expect(onlyResource(json, "aws_placement_group")).toMatchObject({ strategy: "cluster" });
    expect(template.placement).toEqual({
      group_name: expect.stringMatching(/^\$\{aws_placement_group\.Gpu_PlacementGroup_[0-9A-F]+\.name\}$/),
    });
    expect(onlyResource(json, "aws_eks_node_group").tags).toMatchObject({
      "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "8",
      "k8s.io/cluster-autoscaler/node-template/resources/vpc.amazonaws.com/efa": "32",
      "k8s.io/cluster-autoscaler/node-template/label/vpc.amazonaws.com/efa.present": "true",
    });
    // The EFA device plugin runs only on nodes with this label.
    expect(onlyResource(json, "aws_eks_node_group").labels).toMatchObject({
      "vpc.amazonaws.com/efa.present": "true",
    });
  });

  it("launches into a Capacity Block", () => {
    const json = synthGroup({
      instanceTypes: ["p5.48xlarge"],
      subnetIds: ["subnet-a"],
      capacityType: "CAPACITY_BLOCK",
      capacityReservationId: "cr-0123456789abcdef0",
    });
    expect(onlyResource(json, "aws_eks_node_group").capacity_type).toBe("CAPACITY_BLOCK");
    expect(onlyResource(json, "aws_launch_template")).toMatchObject({
      instance_market_options: { market_type: "capacity-block" },
      capacity_reservation_specification: {
        capacity_reservation_target: { capacity_reservation_id: "cr-0123456789abcdef0" },
      },
    });
  });

  it("sets the hop limit it is given", () => {
    const json = synthGroup({ imdsHopLimit: 2 });
    expect(onlyResource(json, "aws_launch_template").metadata_options).toMatchObject({
      http_put_response_hop_limit: 2,
    });
  });

  it("protects the node group when asked", () => {
    const json = synthGroup({ preventDestroy: true });
    expect(onlyResource(json, "aws_eks_node_group").lifecycle).toMatchObject({ prevent_destroy: true });
  });

  it("runs the Kubernetes version it is given, and leaves it to EKS otherwise", () => {
    expect(onlyResource(synthGroup({ kubernetesVersion: "1.34" }), "aws_eks_node_group").version).toBe(
      "1.34",
    );
    expect(onlyResource(synthGroup(), "aws_eks_node_group").version).toBeUndefined();
  });
});

describe("GpuNodeGroup errors", () => {
  it("refuses the retired AL2 GPU AMI", () => {
    expect(() => synthGroup({ amiType: "AL2_x86_64_GPU" as never })).toThrow(/AL2_x86_64_GPU is retired/);
  });

  it("refuses instance types with different GPU counts", () => {
    expect(() => synthGroup({ instanceTypes: ["g5.xlarge", "g5.12xlarge"] })).toThrow(
      /different GPU counts \(1, 4\)/,
    );
  });

  it("asks for gpusPerNode when the instance type is unknown", () => {
    expect(() => synthGroup({ instanceTypes: ["x9.large"] })).toThrow(/set gpusPerNode/);
  });

  it("refuses EFA on an instance type without EFA cards", () => {
    expect(() =>
      synthGroup({
        instanceTypes: ["g5.xlarge"],
        subnetIds: ["subnet-a"],
        efa: true,
        efaSecurityGroupIds: ["sg"],
      }),
    ).toThrow(/efa needs instance types/);
  });

  it("refuses labels that would change the ones the device plugins and the autoscaler select on", () => {
    expect(() => synthGroup({ labels: { "mlops/nvidia-device-plugin": "ami" } })).toThrow(
      /labels must not set mlops\/nvidia-device-plugin, which the group sets itself \(to daemonset\)/,
    );
    expect(() => synthGroup({ labels: { "vpc.amazonaws.com/efa.present": "true" } })).toThrow(
      /labels must not set vpc.amazonaws.com\/efa.present, which the group sets itself \(on EFA groups only\)/,
    );
    // The accelerator label may name the GPU otherwise: the autoscaler only needs it present.
    expect(
      onlyResource(
        synthGroup({ labels: { "k8s.amazonaws.com/accelerator": "nvidia-tesla-a10g" } }),
        "aws_eks_node_group",
      ).labels,
    ).toMatchObject({ "k8s.amazonaws.com/accelerator": "nvidia-tesla-a10g" });
    // The same value is no change; a key that only looks like an object's own property is a label like any other.
    expect(() =>
      synthGroup({ labels: { "nvidia.com/gpu.present": "true", constructor: "x" } }),
    ).not.toThrow();
  });

  it("refuses EFA across several subnets", () => {
    expect(() =>
      synthGroup({ instanceTypes: ["p5.48xlarge"], efa: true, efaSecurityGroupIds: ["sg"] }),
    ).toThrow(/exactly one subnet/);
  });

  it("refuses a Capacity Block without its reservation", () => {
    expect(() => synthGroup({ capacityType: "CAPACITY_BLOCK", subnetIds: ["subnet-a"] })).toThrow(
      /needs capacityReservationId/,
    );
  });

  it("refuses maxSize below minSize", () => {
    expect(() => synthGroup({ minSize: 3, maxSize: 2 })).toThrow(/maxSize must be at least minSize \(3\)/);
  });
});
