import { stringify } from "yaml";
import { formatProblem, parseEnvironment } from "../../../environments/load";
import { configFor, rawEnvironment, type Patch } from "../../helpers/config";

const problemsOf = (name: string, patch: Patch): string => {
  try {
    configFor(name, patch);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the environment to be invalid");
};

describe("cluster section defaults", () => {
  const dev = configFor("dev").cluster;
  const prod = configFor("prod").cluster;

  it("pins the Kubernetes version, add-ons and charts", () => {
    expect(dev.kubernetesVersion).toBe("1.33");
    expect(dev.addons.kubeProxy).toMatch(/^v1\.33\./);
    expect(dev.charts).toEqual({
      nvidiaDevicePlugin: "0.17.4",
      clusterAutoscaler: "9.47.0",
      kueue: "0.14.3",
      efaDevicePlugin: "v0.5.20",
      metricsServer: "3.12.2",
    });
  });

  it("gives dev spot GPUs that scale to zero", () => {
    expect(dev.gpuNodeGroups.g5).toMatchObject({
      capacityType: "SPOT",
      minSize: 0,
      amiType: "AL2023_x86_64_NVIDIA",
    });
  });

  it("gives prod on-demand GPUs, two system nodes and no creator admin", () => {
    expect(prod.gpuNodeGroups.g5).toMatchObject({ capacityType: "ON_DEMAND", minSize: 0 });
    expect(prod.systemNodeGroup.minSize).toBe(2);
    expect(prod.creatorAdmin).toBe(false);
    expect(prod.endpoint.publicAccessCidrs).toEqual([]);
  });

  it("scales idle GPU nodes down sooner in dev than in prod", () => {
    expect(dev.autoscaler.scaleDownUnneededMinutes).toBe(5);
    expect(prod.autoscaler.scaleDownUnneededMinutes).toBe(15);
  });

  it("gives every namespace a GPU quota and container defaults", () => {
    expect(dev.namespaces.training.gpuQuota).toBe(4);
    expect(prod.namespaces.training.gpuQuota).toBe(32);
    expect(dev.namespaces.mlflow).toEqual({
      gpuQuota: 0,
      containerDefaults: { cpuRequest: "250m", memoryRequest: "512Mi", memoryLimit: "2Gi" },
    });
  });

  it("makes the creator admin only when the file lists no admin role", () => {
    expect(configFor("prod", { cluster: { adminRoleArns: [] } }).cluster.creatorAdmin).toBe(true);
    expect(prod.adminRoleArns).toHaveLength(1);
  });

  it("fills the defaults of a GPU node group the file declares", () => {
    const groups = configFor("prod", {
      cluster: { gpuNodeGroups: { a100: { instanceTypes: ["p4d.24xlarge"] } } },
    }).cluster.gpuNodeGroups;
    expect(Object.keys(groups)).toEqual(["a100"]);
    expect(groups.a100).toMatchObject({
      capacityType: "ON_DEMAND",
      minSize: 0,
      maxSize: 4,
      diskSizeGiB: 200,
      efa: false,
    });
  });

  it("defines one Kueue team with a GPU quota", () => {
    expect(dev.kueue.teams).toEqual({
      research: { namespace: "training", gpuQuota: 4, cpuQuota: "32", memoryQuota: "128Gi" },
    });
  });
});

describe("cluster section errors", () => {
  it("reports maxSize below minSize with file, line, column and path", () => {
    const text = [
      "name: prod",
      "tier: prod",
      "aws: {accountId: '333333333333', region: eu-west-1, availabilityZones: [eu-west-1a, eu-west-1b]}",
      "tags: {owner: a, costCenter: b}",
      "cluster:",
      "  adminRoleArns: [arn:aws:iam::333333333333:role/admin]",
      "  gpuNodeGroups:",
      "    a100:",
      "      instanceTypes: [p4d.24xlarge]",
      "      minSize: 2",
      "      maxSize: 1",
      "monitoring: {alerts: {subscriptions: {oncall: {protocol: email, endpoint: oncall@example.com}}}}",
      "",
    ].join("\n");
    const result = parseEnvironment(text, "environments/prod.yaml");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map(formatProblem)).toEqual([
      "environments/prod.yaml:11:16 cluster.gpuNodeGroups.a100.maxSize: must be at least minSize (2)",
    ]);
  });

  it("refuses the retired AL2 GPU AMI with the way out", () => {
    expect(
      problemsOf("dev", {
        cluster: { gpuNodeGroups: { g5: { instanceTypes: ["g5.xlarge"], amiType: "AL2_x86_64_GPU" } } },
      }),
    ).toMatch(/amiType: AL2_x86_64_GPU is retired .* use AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA/);
  });

  it("takes exact chart versions, with or without a leading v, and refuses ranges", () => {
    const charts = configFor("dev", { cluster: { charts: { efaDevicePlugin: "v0.5.21", kueue: "0.15.0" } } })
      .cluster.charts;
    expect(charts).toMatchObject({ efaDevicePlugin: "v0.5.21", kueue: "0.15.0" });
    for (const range of ["^0.5.20", "0.5.x", "~0.5", "latest"]) {
      expect(problemsOf("dev", { cluster: { charts: { efaDevicePlugin: range } } })).toMatch(
        /cluster.charts.efaDevicePlugin: must be an exact chart version/,
      );
    }
  });

  it("refuses a public endpoint outside dev", () => {
    expect(problemsOf("prod", { cluster: { endpoint: { publicAccessCidrs: ["203.0.113.0/24"] } } })).toMatch(
      /cluster.endpoint.publicAccessCidrs: must be empty in a prod environment/,
    );
  });

  it("refuses an endpoint open to the whole internet, even in dev", () => {
    expect(problemsOf("dev", { cluster: { endpoint: { publicAccessCidrs: ["0.0.0.0/0"] } } })).toMatch(
      /publicAccessCidrs\[0\]: must not open the API endpoint to the whole internet/,
    );
  });

  it("refuses a desired size outside min and max", () => {
    expect(
      problemsOf("dev", { cluster: { systemNodeGroup: { minSize: 1, maxSize: 2, desiredSize: 3 } } }),
    ).toMatch(/systemNodeGroup.desiredSize: must be between minSize \(1\) and maxSize \(2\)/);
  });

  it("refuses fewer than two system nodes in prod", () => {
    expect(problemsOf("prod", { cluster: { systemNodeGroup: { minSize: 1 } } })).toMatch(
      /systemNodeGroup.minSize: must be at least 2 in prod/,
    );
  });

  it("refuses a cluster no one could administer", () => {
    expect(problemsOf("prod", { cluster: { adminRoleArns: [], creatorAdmin: false } })).toMatch(
      /cluster.adminRoleArns: must list at least one role/,
    );
  });

  it("refuses a kube-proxy add-on of another Kubernetes version", () => {
    expect(problemsOf("dev", { cluster: { kubernetesVersion: "1.34" } })).toMatch(
      /cluster.addons.kubeProxy: must match kubernetesVersion 1.34/,
    );
  });

  it("refuses a Capacity Block without its reservation id", () => {
    expect(
      problemsOf("dev", {
        cluster: {
          gpuNodeGroups: { p5: { instanceTypes: ["p5.48xlarge"], capacityType: "CAPACITY_BLOCK" } },
        },
      }),
    ).toMatch(/gpuNodeGroups.p5.capacityReservationId: is required when capacityType is CAPACITY_BLOCK/);
  });

  it("refuses a node group zone outside the environment's zones", () => {
    expect(
      problemsOf("dev", {
        cluster: {
          gpuNodeGroups: { p5: { instanceTypes: ["p5.48xlarge"], availabilityZone: "eu-west-1c" } },
        },
      }),
    ).toMatch(
      /gpuNodeGroups.p5.availabilityZone: must be one of the environment's zones \(eu-west-1a, eu-west-1b\)/,
    );
  });

  it("refuses reserved label prefixes", () => {
    expect(
      problemsOf("dev", {
        cluster: {
          gpuNodeGroups: { g5: { instanceTypes: ["g5.xlarge"], labels: { "node.kubernetes.io/x": "y" } } },
        },
      }),
    ).toMatch(/uses a reserved prefix/);
  });

  const gpuGroup = (group: Record<string, unknown>) => ({ cluster: { gpuNodeGroups: { x: group } } });
  const problemLines = (name: string, patch: Patch): string[] => {
    const result = parseEnvironment(stringify(rawEnvironment(name, patch)), `environments/${name}.yaml`);
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it("refuses an instance type whose GPUs per node are unknown, unless gpusPerNode is set", () => {
    expect(problemLines("dev", gpuGroup({ instanceTypes: ["g5.xlarge", "g7.xlarge"] }))).toEqual([
      "cluster.gpuNodeGroups.x.instanceTypes[1]: has no known GPU count per node; set gpusPerNode (the GPUs of one g7.xlarge), or use an instance type the platform knows",
    ]);
    expect(
      configFor("dev", gpuGroup({ instanceTypes: ["g7.xlarge"], gpusPerNode: 1 })).cluster.gpuNodeGroups.x,
    ).toMatchObject({ gpusPerNode: 1 });
  });

  it("refuses instance types with different GPU counts in one group, gpusPerNode or not", () => {
    expect(problemLines("dev", gpuGroup({ instanceTypes: ["g5.xlarge", "g5.12xlarge"] }))).toEqual([
      "cluster.gpuNodeGroups.x.instanceTypes: mixes instance types with different GPU counts (g5.xlarge: 1, g5.12xlarge: 4); the autoscaler needs one count per group, so split them into groups",
    ]);
    expect(
      problemLines("dev", gpuGroup({ instanceTypes: ["g5.xlarge", "g5.12xlarge"], gpusPerNode: 1 })),
    ).toEqual([
      "cluster.gpuNodeGroups.x.gpusPerNode: is 1, but g5.12xlarge has 4 GPUs per node; the autoscaler plans with this count, so it must be every node's: split the instance types into groups with one GPU count each",
    ]);
  });

  it("refuses EFA on instance types without EFA cards or with different card counts", () => {
    expect(
      problemLines("dev", gpuGroup({ instanceTypes: ["p4d.24xlarge", "g5.48xlarge"], efa: true })),
    ).toEqual([
      "cluster.gpuNodeGroups.x.efa: needs instance types with EFA network cards (p4d.24xlarge, p4de.24xlarge, p5.48xlarge, p5e.48xlarge, p5en.48xlarge); g5.48xlarge has none: replace it or set efa to false",
    ]);
    expect(
      problemLines("dev", gpuGroup({ instanceTypes: ["p5.48xlarge", "p5en.48xlarge"], efa: true })),
    ).toEqual([
      "cluster.gpuNodeGroups.x.efa: needs instance types with the same number of EFA network cards (p5.48xlarge: 32, p5en.48xlarge: 16); split them into groups",
    ]);
    expect(
      problemLines("dev", gpuGroup({ instanceTypes: ["p5.48xlarge", "p5e.48xlarge"], efa: true })),
    ).toEqual([]);
  });

  it("refuses labels that would change the ones the node group sets itself", () => {
    const labels = {
      "nvidia.com/gpu.present": "false",
      "mlops/node-group": "x",
      "mlops/nvidia-device-plugin": "ami",
      "vpc.amazonaws.com/efa.present": "true",
    };
    expect(problemLines("dev", gpuGroup({ instanceTypes: ["g5.xlarge"], labels }))).toEqual([
      'cluster.gpuNodeGroups.x.labels["nvidia.com/gpu.present"]: is set by the node group itself (to true); remove it',
      'cluster.gpuNodeGroups.x.labels["mlops/node-group"]: is set by the node group itself (to mlops-dev-eks-gpu-x); remove it',
      'cluster.gpuNodeGroups.x.labels["mlops/nvidia-device-plugin"]: is set by the node group itself (to daemonset); remove it',
      'cluster.gpuNodeGroups.x.labels["vpc.amazonaws.com/efa.present"]: is set by the node group itself, on EFA groups (efa: true) only; remove it',
    ]);
    expect(
      problemLines(
        "dev",
        gpuGroup({
          instanceTypes: ["g5.xlarge"],
          amiType: "BOTTLEROCKET_x86_64_NVIDIA",
          labels: { "mlops/nvidia-device-plugin": "daemonset" },
        }),
      ),
    ).toEqual([
      'cluster.gpuNodeGroups.x.labels["mlops/nvidia-device-plugin"]: is set by the node group itself (to ami); remove it',
    ]);
  });

  it("takes labels equal to the node group's own, and its own name of the GPU", () => {
    const labels = {
      "nvidia.com/gpu.present": "true",
      "mlops/node-group": "mlops-dev-eks-gpu-x",
      "mlops/nvidia-device-plugin": "daemonset",
      "vpc.amazonaws.com/efa.present": "true",
      "k8s.amazonaws.com/accelerator": "nvidia-tesla-a100",
    };
    expect(
      configFor("dev", gpuGroup({ instanceTypes: ["p4d.24xlarge"], efa: true, labels })).cluster.gpuNodeGroups
        .x.labels,
    ).toEqual(labels);
  });

  it("refuses a namespace's default memory request above its default memory limit", () => {
    expect(
      problemLines("dev", {
        cluster: { namespaces: { training: { containerDefaults: { memoryRequest: "4Gi" } } } },
      }),
    ).toEqual([
      "cluster.namespaces.training.containerDefaults.memoryRequest: exceeds containerDefaults.memoryLimit (2Gi), and Kubernetes refuses a request above its limit; lower this or raise containerDefaults.memoryLimit",
    ]);
    const defaults = { memoryRequest: "2147483648", memoryLimit: "2Gi" };
    expect(
      configFor("dev", { cluster: { namespaces: { serving: { containerDefaults: defaults } } } }).cluster
        .namespaces.serving.containerDefaults,
    ).toMatchObject(defaults);
  });

  it("refuses a team quota above its namespace's quota", () => {
    expect(problemsOf("dev", { cluster: { kueue: { teams: { vision: { gpuQuota: 9 } } } } })).toMatch(
      /kueue.teams.vision.gpuQuota: exceeds the GPU quota of namespace training \(4\)/,
    );
  });
});

describe("network section", () => {
  it("uses one NAT gateway in dev and one per zone in prod", () => {
    expect(configFor("dev").network.natGateways).toBe("single");
    expect(configFor("prod").network.natGateways).toBe("per-az");
  });

  it("reaches AWS APIs through interface endpoints in test and prod, and through the NAT in dev", () => {
    const services = ["ecr.api", "ecr.dkr", "sts", "logs", "sagemaker.runtime"];
    expect(configFor("dev").network.interfaceEndpoints).toEqual([]);
    expect(configFor("test").network.interfaceEndpoints).toEqual(services);
    expect(configFor("prod").network.interfaceEndpoints).toEqual(services);
    expect(configFor("dev", { network: { interfaceEndpoints: ["sts"] } }).network.interfaceEndpoints).toEqual(
      ["sts"],
    );
  });

  it("records only rejected flows in dev and every flow in prod", () => {
    expect(configFor("dev").network.flowLogs.trafficType).toBe("REJECT");
    expect(configFor("prod").network.flowLogs.trafficType).toBe("ALL");
  });

  it("refuses a VPC too small for the subnet layout", () => {
    expect(problemsOf("dev", { network: { vpcCidr: "10.0.0.0/24" } })).toMatch(
      /network.vpcCidr: must have a prefix length between \/16 and \/20/,
    );
  });

  it("suggests the network boundary of a misaligned VPC CIDR", () => {
    expect(problemsOf("dev", { network: { vpcCidr: "10.0.1.0/16" } })).toMatch(/did you mean 10.0.0.0\/16\?/);
  });
});
