/**
 * Mistakes in the cluster and serving sections that were accepted (and deployed wrong) or ended in a stack
 * trace at synth: each is refused with a message that names the setting and the way out, and the valid
 * setting next to it is still accepted.
 */
import { stringify } from "yaml";
import { parseEnvironment } from "../../environments/load";
import { configFor, rawEnvironment, type Patch } from "../helpers/config";

/** The problems of `environments/<name>.yaml` with `patch` merged over it, as `path: message`. */
const problemLines = (name: string, patch: Patch): string[] => {
  const result = parseEnvironment(stringify(rawEnvironment(name, patch)), `environments/${name}.yaml`);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};

const gpuGroups = (groups: Record<string, unknown>) => ({ cluster: { gpuNodeGroups: groups } });
const SERVICE = { image: { repository: "inference", tag: "v2.0.0" }, modelDataPrefix: "fraud/v3" };
const ENDPOINT = { ...SERVICE, serverless: { memoryMb: 2048, maxConcurrency: 2 } };

describe("cluster.imdsHopLimit", () => {
  it.each(["test", "prod"])(
    "refuses a hop limit above 1 in %s, where pods could reach the node's role",
    (env) => {
      expect(problemLines(env, { cluster: { imdsHopLimit: 2 } })).toEqual([
        `cluster.imdsHopLimit: must be 1 in a ${env} environment: pods get AWS access through Pod Identity, and a hop limit of 1 keeps them from reaching the node's role through IMDS (only dev may raise it)`,
      ]);
    },
  );

  it("takes 1 everywhere, and a higher limit in dev", () => {
    expect(configFor("prod", { cluster: { imdsHopLimit: 1 } }).cluster.imdsHopLimit).toBe(1);
    expect(configFor("dev", { cluster: { imdsHopLimit: 2 } }).cluster.imdsHopLimit).toBe(2);
  });
});

describe("cluster.endpoint.publicAccessCidrs", () => {
  const cidrs = (publicAccessCidrs: string[]) => ({ cluster: { endpoint: { publicAccessCidrs } } });

  it("refuses prefixes shorter than /8, which together can open the API to the whole internet", () => {
    expect(problemLines("dev", cidrs(["0.0.0.0/1", "128.0.0.0/1"]))).toEqual(
      [0, 1].map(
        (index) =>
          `cluster.endpoint.publicAccessCidrs[${index}]: must have a prefix of /8 or longer (got /1): a shorter one opens the API endpoint to a large part of the internet; list your own CIDRs`,
      ),
    );
    expect(problemLines("dev", cidrs(["10.0.0.0/7"]))).toEqual([
      "cluster.endpoint.publicAccessCidrs[0]: must have a prefix of /8 or longer (got /7): a shorter one opens the API endpoint to a large part of the internet; list your own CIDRs",
    ]);
  });

  it("refuses a CIDR with host bits set, naming the network address to write", () => {
    expect(problemLines("dev", cidrs(["203.0.113.7/24"]))).toEqual([
      "cluster.endpoint.publicAccessCidrs[0]: has host bits set: the /24 block it is in starts at 203.0.113.0; write 203.0.113.0/24 for the whole block, or 203.0.113.7/32 for that one address",
    ]);
  });

  it("takes network addresses of a /8 or longer, and single addresses", () => {
    const accepted = ["10.0.0.0/8", "203.0.113.0/24", "203.0.113.7/32", "198.51.100.128/25"];
    expect(configFor("dev", cidrs(accepted)).cluster.endpoint.publicAccessCidrs).toEqual(accepted);
  });
});

describe("cluster.gpuNodeGroups: GPUs per node and instance types", () => {
  it("refuses a gpusPerNode other than the instance type's GPUs", () => {
    expect(problemLines("dev", gpuGroups({ g5: { instanceTypes: ["g5.xlarge"], gpusPerNode: 4 } }))).toEqual([
      "cluster.gpuNodeGroups.g5.gpusPerNode: is 4, but g5.xlarge has 1 GPU per node; the autoscaler plans with this count, so it must be every node's: set it to 1 or leave it out (it is looked up from the instance type)",
    ]);
  });

  it("refuses a gpusPerNode that covers up instance types with different GPU counts", () => {
    expect(
      problemLines("dev", gpuGroups({ x: { instanceTypes: ["g5.xlarge", "g5.12xlarge"], gpusPerNode: 1 } })),
    ).toEqual([
      "cluster.gpuNodeGroups.x.gpusPerNode: is 1, but g5.12xlarge has 4 GPUs per node; the autoscaler plans with this count, so it must be every node's: split the instance types into groups with one GPU count each",
    ]);
  });

  it.each([
    ["m5.xlarge", "m5", { gpusPerNode: 1 }],
    ["c6i.2xlarge", "c6i", {}],
    ["r7g.xlarge", "r7g", {}],
    ["t3.medium", "t3", { gpusPerNode: 1 }],
    ["hpc7g.16xlarge", "hpc7g", {}],
  ])("refuses the CPU-only instance type %s, with or without gpusPerNode", (type, family, settings) => {
    expect(problemLines("dev", gpuGroups({ x: { instanceTypes: [type], ...settings } }))).toEqual([
      `cluster.gpuNodeGroups.x.instanceTypes[0]: is a CPU-only instance type (the ${family} family has no GPU); a GPU node group needs NVIDIA GPU instances such as g5.xlarge, g6e.xlarge or p5.48xlarge, and CPU work runs on systemNodeGroup`,
    ]);
  });

  it("takes a gpusPerNode equal to the table's count, and GPU families the table does not know yet", () => {
    const groups = configFor(
      "dev",
      gpuGroups({
        quad: { instanceTypes: ["g5.12xlarge", "g6.12xlarge"], gpusPerNode: 4 },
        b200: { instanceTypes: ["p6-b200.48xlarge"], gpusPerNode: 8 },
        next: { instanceTypes: ["g7.xlarge", "gr6.4xlarge"], gpusPerNode: 1 },
      }),
    ).cluster.gpuNodeGroups;
    expect(
      Object.fromEntries(Object.entries(groups).map(([name, group]) => [name, group.gpusPerNode])),
    ).toEqual({ quad: 4, b200: 8, next: 1 });
  });
});

describe("serving.kubernetesServices: GPUs per replica against the GPU node groups", () => {
  it("refuses a GPU service in an environment without GPU node groups", () => {
    expect(problemLines("dev", gpuGroups({}))).toEqual([
      "serving.kubernetesServices.churn-gpu.gpus: is 1, but cluster.gpuNodeGroups has no GPU node group, so no node could run the service's pods; add a GPU node group or set gpus to 0 (CPU serving)",
    ]);
  });

  it("refuses a service that asks for more GPUs than any group's nodes have, naming the groups", () => {
    expect(
      problemLines("dev", {
        cluster: {
          gpuNodeGroups: { g5: { instanceTypes: ["g5.xlarge"] }, l4: { instanceTypes: ["g6.2xlarge"] } },
          // Enough quota for the rollout (2 GPUs × 3 pods), so that only the node size is wrong.
          namespaces: { serving: { gpuQuota: 6 } },
        },
        serving: { kubernetesServices: { "churn-gpu": { gpus: 2 } } },
      }),
    ).toEqual([
      "serving.kubernetesServices.churn-gpu.gpus: is 2, but no group of cluster.gpuNodeGroups has nodes with that many GPUs (GPUs per node: g5 1, l4 1), and a pod's GPUs must all be on one node; lower gpus or add a group of instances with 2 GPUs or more",
    ]);
  });

  it("takes CPU services without GPU groups, and GPU services that fit the largest group's nodes", () => {
    expect(
      configFor("dev", { ...gpuGroups({}), serving: { kubernetesServices: { "churn-gpu": { gpus: 0 } } } })
        .serving.kubernetesServices["churn-gpu"].gpus,
    ).toBe(0);
    const config = configFor("dev", {
      cluster: {
        gpuNodeGroups: { g5: { instanceTypes: ["g5.xlarge"] }, quad: { instanceTypes: ["g5.12xlarge"] } },
        namespaces: { serving: { gpuQuota: 12 } },
      },
      serving: { kubernetesServices: { "churn-gpu": { gpus: 4 } } },
    });
    expect(config.serving.kubernetesServices["churn-gpu"].gpus).toBe(4);
    // gpusPerNode counts for a type the table does not know.
    expect(
      configFor("dev", {
        cluster: {
          gpuNodeGroups: { next: { instanceTypes: ["g7.2xlarge"], gpusPerNode: 2 } },
          namespaces: { serving: { gpuQuota: 6 } },
        },
        serving: { kubernetesServices: { "churn-gpu": { gpus: 2 } } },
      }).serving.kubernetesServices["churn-gpu"].gpus,
    ).toBe(2);
  });
});

describe("what used to end in a stack trace at synth", () => {
  const admin = "arn:aws:iam::333333333333:role/platform-deploy";
  const auditor = "arn:aws:iam::333333333333:role/platform-audit";

  it("refuses an admin role listed twice (EKS allows one access entry per role)", () => {
    expect(problemLines("prod", { cluster: { adminRoleArns: [admin, auditor, admin] } })).toEqual([
      `cluster.adminRoleArns[2]: lists ${admin} again (it is adminRoleArns[0] already): EKS allows one access entry per role, so list each role once`,
    ]);
    expect(configFor("prod", { cluster: { adminRoleArns: [admin, auditor] } }).cluster.adminRoleArns).toEqual(
      [admin, auditor],
    );
  });

  it("refuses Kubernetes services whose names make the same construct id", () => {
    expect(problemLines("dev", { serving: { kubernetesServices: { "churn--gpu": SERVICE } } })).toEqual([
      "serving.kubernetesServices.churn--gpu: makes the same construct id as churn-gpu (ChurnGpu: ids drop the hyphens and capitalise the letter after one), and two services cannot share one; rename one of them",
    ]);
    expect(
      problemLines("dev", { serving: { kubernetesServices: { "fraud-1": SERVICE, fraud1: SERVICE } } }),
    ).toEqual([
      "serving.kubernetesServices.fraud1: makes the same construct id as fraud-1 (Fraud1: ids drop the hyphens and capitalise the letter after one), and two services cannot share one; rename one of them",
    ]);
  });

  it("refuses SageMaker endpoints whose names make the same construct id", () => {
    expect(
      problemLines("dev", {
        serving: { sagemakerEndpoints: { "fraud-v2": ENDPOINT, "fraud-v-2": ENDPOINT } },
      }),
    ).toEqual([
      "serving.sagemakerEndpoints.fraud-v-2: makes the same construct id as fraud-v2 (FraudV2: ids drop the hyphens and capitalise the letter after one), and two endpoints cannot share one; rename one of them",
    ]);
  });

  it("refuses Kueue teams whose names make the same construct id", () => {
    const teams = { "team-1": { gpuQuota: 1 }, team1: { gpuQuota: 1 } };
    expect(problemLines("dev", { cluster: { kueue: { teams } } })).toEqual([
      "cluster.kueue.teams.team1: makes the same construct id as team-1 (Team1: ids drop the hyphens and capitalise the letter after one), and two teams cannot share one; rename one of them",
    ]);
    const distinct = { "team-a": { gpuQuota: 1 }, teama: { gpuQuota: 1 } };
    expect(
      Object.keys(configFor("dev", { cluster: { kueue: { teams: distinct } } }).cluster.kueue.teams),
    ).toEqual(["team-a", "teama"]);
  });

  it("takes names whose construct ids differ, and a service named like an endpoint", () => {
    const { serving } = configFor("dev", {
      serving: {
        kubernetesServices: { "churn-gpu2": SERVICE, churngpu: SERVICE, churn: SERVICE },
        sagemakerEndpoints: { "churn-gpu": ENDPOINT },
      },
    });
    expect(Object.keys(serving.kubernetesServices)).toEqual(["churn-gpu", "churn-gpu2", "churngpu", "churn"]);
    expect(Object.keys(serving.sagemakerEndpoints)).toEqual(["churn", "churn-gpu"]);
  });
});

describe("invalid keys of the cluster section's records", () => {
  it("names the pattern of node group names, team names and label keys", () => {
    expect(
      problemLines("dev", {
        cluster: {
          gpuNodeGroups: {
            G5: { instanceTypes: ["g5.xlarge"] },
            g6: { instanceTypes: ["g6.xlarge"], labels: { "-gpu": "l4" } },
          },
          kueue: { teams: { team_a: { gpuQuota: 1 } } },
        },
      }),
    ).toEqual([
      "cluster.gpuNodeGroups.G5: is not a valid node group name: it must be 1-20 lowercase letters, digits or hyphens, starting with a letter (the group is named <cluster>-gpu-<name>)",
      "cluster.gpuNodeGroups.g6.labels[\"-gpu\"]: is not a valid Kubernetes label key: use up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally after a DNS prefix and / (team, example.com/gpu-type)",
      "cluster.kueue.teams.team_a: is not a valid team name: it must be 1-20 lowercase letters, digits or hyphens, starting with a letter (it names the team's ClusterQueue and LocalQueue)",
    ]);
  });

  it("takes names and label keys that match the patterns", () => {
    const { cluster } = configFor("dev", {
      cluster: {
        gpuNodeGroups: {
          "a10g-spot": { instanceTypes: ["g5.xlarge"], labels: { "example.com/gpu_type": "a10g" } },
        },
        kueue: { teams: { "vision-2": { gpuQuota: 1 } } },
      },
    });
    expect(cluster.gpuNodeGroups["a10g-spot"].labels).toEqual({ "example.com/gpu_type": "a10g" });
    expect(Object.keys(cluster.kueue.teams)).toEqual(["vision-2"]);
  });
});
