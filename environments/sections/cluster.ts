/**
 * The `cluster` section of an environment file: the EKS cluster that runs training (and serving) on GPUs,
 * its node groups, and what the cluster stack installs in it (quotas, autoscaler, metrics-server, queues).
 */
import { z } from "zod";
import { EFA_NETWORK_CARDS, GPUS_PER_INSTANCE } from "../../constructs/training/gpu-instance-types";
import {
  ACCELERATOR_LABEL,
  DEVICE_PLUGIN_LABEL,
  EFA_LABEL,
  GPU_PRESENT_LABEL,
  NODE_GROUP_LABEL,
} from "../../constructs/training/gpu-node-labels";
import { Naming } from "../../constructs/core/naming";
import { networkOf, parseCidr } from "../../constructs/network/subnet-layout";
import { checkRequestWithinLimit, cidrBlock } from "../schema";
import { byTier, type Tier } from "../tier";
import { refuseConstructIdCollisions } from "./record-keys";

/** GPU AMI types a GPU node group may use; both ship the NVIDIA driver and container toolkit. */
export const GPU_AMI_TYPES = ["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"] as const;

/** The namespaces the cluster stack creates, each with a GPU quota and container defaults. */
export const CLUSTER_NAMESPACES = ["training", "serving", "mlflow", "monitoring"] as const;

const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;
const CHART_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const ADDON_VERSION = /^v\d+\.\d+\.\d+-eksbuild\.\d+$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const NODE_GROUP_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const LABEL_KEY = /^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;
const NODE_GROUP_NAME_MESSAGE = "must be 1-20 lowercase letters, digits or hyphens, starting with a letter";
/**
 * The shortest prefix the API endpoint may be opened to, publicly or privately: a /8 is already 16.7 million
 * addresses.
 */
const MIN_ENDPOINT_PREFIX = 8;

/**
 * EC2 instance classes (the letters a family name starts with: `m` of `m6i`, `hpc` of `hpc7g`) that have no
 * GPU. GPU families (`g`, `gr`, `p`) and other accelerators (`inf`, `trn`, `dl`, `f`, `vt`) are not listed,
 * so a GPU family that gpu-instance-types.ts does not know yet is never refused as CPU-only.
 */
const CPU_ONLY_CLASSES: ReadonlySet<string> = new Set([
  "a",
  "c",
  "d",
  "h",
  "hpc",
  "i",
  "im",
  "is",
  "m",
  "mac",
  "r",
  "t",
  "u",
  "x",
  "z",
]);

const quantity = z.string().regex(QUANTITY, "must be a Kubernetes quantity such as 500m, 2 or 4Gi");
const chartVersion = z
  .string()
  .regex(CHART_VERSION, "must be an exact chart version such as 1.2.3 or v1.2.3 (no ranges)");
const addonVersion = z
  .string()
  .regex(ADDON_VERSION, "must be an exact add-on version such as v1.19.5-eksbuild.1");
const roleArn = z
  .string()
  .regex(ROLE_ARN, "must be an IAM role ARN such as arn:aws:iam::123456789012:role/admin");

const gpuAmiType = z.enum(GPU_AMI_TYPES, {
  error: (issue) =>
    issue.input === "AL2_x86_64_GPU"
      ? "AL2_x86_64_GPU is retired (Amazon Linux 2 AMIs reached end of support on 26 Nov 2025): use AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA"
      : `must be one of ${GPU_AMI_TYPES.join(", ")}`,
});

const labels = z
  .record(
    z.string().regex(LABEL_KEY, "must be a Kubernetes label key such as team or example.com/gpu-type"),
    z
      .string()
      .regex(LABEL_VALUE, "must be a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.'"),
    {
      error: (issue) =>
        issue.code === "invalid_key"
          ? "is not a valid Kubernetes label key: use up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally after a DNS prefix and / (team, example.com/gpu-type)"
          : undefined,
    },
  )
  .default({});

function gpuNodeGroup(tier: Tier) {
  const t = byTier(tier);
  return z.strictObject({
    /** EC2 instance types, all with the same GPU count (g5, g6, g6e, p4d, p5 ...). */
    instanceTypes: z
      .array(z.string().regex(INSTANCE_TYPE, "must be an EC2 instance type such as g5.xlarge"))
      .min(1),
    /** The NVIDIA AMI: AL2023 (the device plugin is installed by the cluster stack) or Bottlerocket (ships it). */
    amiType: gpuAmiType.default("AL2023_x86_64_NVIDIA"),
    /** Pins the AMI release (`1.33.0-20250704`), so nodes roll only when this changes. @default latest at creation */
    amiReleaseVersion: z.string().min(1).optional(),
    /** ON_DEMAND, SPOT (interruptible, much cheaper) or CAPACITY_BLOCK (a purchased EC2 Capacity Block). */
    capacityType: z
      .enum(["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"])
      .default(t({ dev: "SPOT", test: "SPOT", prod: "ON_DEMAND" })),
    /** 0 lets the group scale to zero when no job needs a GPU. */
    minSize: z.number().int().min(0).default(0),
    maxSize: z
      .number()
      .int()
      .min(1)
      .default(t({ dev: 2, test: 2, prod: 4 })),
    /** @default minSize */
    desiredSize: z.number().int().min(0).optional(),
    /** Root volume (gp3, encrypted), large enough for CUDA images. */
    diskSizeGiB: z.number().int().min(50).max(16384).default(200),
    /** Extra node labels, for example the GPU model jobs select on. */
    labels,
    /**
     * GPUs per node, for the autoscaler's node template; must equal the count of the instance types the
     * platform knows. @default looked up from the instance type
     */
    gpusPerNode: z.number().int().min(1).max(16).optional(),
    /** Keep the group in one zone (required for capacity reservations; EFA groups default to the first zone). */
    availabilityZone: z.string().optional(),
    /** EFA interfaces, a cluster placement group and the EFA device plugin, for multi-node training on p4d/p5. */
    efa: z.boolean().default(false),
    /** On-Demand Capacity Reservation or Capacity Block to launch into (`cr-...`). */
    capacityReservationId: z
      .string()
      .regex(/^cr-[0-9a-f]{8,17}$/, "must be a capacity reservation id such as cr-0123456789abcdef0")
      .optional(),
  });
}

function namespaceSettings(gpuQuota: number) {
  return z
    .strictObject({
      /** Most GPUs the namespace's pods may request at once (ResourceQuota requests.nvidia.com/gpu). */
      gpuQuota: z.number().int().min(0).default(gpuQuota),
      /** LimitRange defaults for containers that declare nothing. No default CPU limit, to avoid throttling. */
      containerDefaults: z
        .strictObject({
          cpuRequest: quantity.default("250m"),
          memoryRequest: quantity.default("512Mi"),
          memoryLimit: quantity.default("2Gi"),
        })
        .prefault({}),
    })
    .prefault({});
}

/** The schema of the `cluster` section, with the defaults of `tier`. */
export function clusterSection(tier: Tier) {
  const t = byTier(tier);
  return z
    .strictObject({
      /** EKS Kubernetes version (minor), such as 1.33. */
      kubernetesVersion: z
        .string()
        .regex(/^1\.\d{2}$/, 'must be a Kubernetes minor version in quotes, such as "1.33"')
        .default("1.33"),
      /** IAM roles that get cluster-admin through EKS access entries, each listed once (one entry per role). */
      adminRoleArns: z.array(roleArn).default([]),
      /**
       * Whether whoever creates the cluster becomes its admin. Changing it replaces the cluster.
       * @default true when adminRoleArns is empty (someone must be able to use the cluster), false otherwise
       */
      creatorAdmin: z.boolean().optional(),
      endpoint: z
        .strictObject({
          /**
           * CIDRs allowed to reach a public API endpoint: network addresses with a prefix of /8 or longer.
           * Empty means a private endpoint; dev only.
           */
          publicAccessCidrs: z.array(cidrBlock).default([]),
          /**
           * Networks that may reach the private API endpoint (HTTPS): an ingress rule each on the cluster
           * security group, which otherwise admits only the cluster's own nodes and pods. List where kubectl,
           * Terraform and CI runners connect from (a VPN's or a peered network's CIDR, besides the VPC): network
           * addresses with a prefix of /8 or longer, each once. Access is still by IAM and access entries.
           * `[]` lets only the cluster's own nodes and pods reach it. The platform stack fills in the default
           * (`endpointPrivateAccessCidrsOf`), which needs the network section.
           * @default [network.vpcCidr] (runners and bastions inside the VPC)
           */
          privateAccessCidrs: z.array(cidrBlock).optional(),
        })
        .prefault({}),
      /** EKS managed add-on versions, pinned (check with `aws eks describe-addon-versions`). */
      addons: z
        .strictObject({
          vpcCni: addonVersion.default("v1.19.5-eksbuild.1"),
          coredns: addonVersion.default("v1.12.1-eksbuild.2"),
          kubeProxy: addonVersion.default("v1.33.0-eksbuild.2"),
          podIdentityAgent: addonVersion.default("v1.3.7-eksbuild.2"),
          ebsCsiDriver: addonVersion.default("v1.44.0-eksbuild.1"),
        })
        .prefault({}),
      /**
       * IMDSv2 hop limit of every node: 1 keeps pods (which use Pod Identity) away from the node's role. Only
       * dev may raise it.
       */
      imdsHopLimit: z.number().int().min(1).max(64).default(1),
      /** CPU nodes (on-demand) for cluster services: CoreDNS, the autoscaler, Kueue, MLflow. */
      systemNodeGroup: z
        .strictObject({
          instanceTypes: z
            .array(z.string().regex(INSTANCE_TYPE, "must be an EC2 instance type such as m6i.large"))
            .min(1)
            .default(t({ dev: ["m6i.large"], test: ["m6i.large"], prod: ["m6i.xlarge"] })),
          minSize: z
            .number()
            .int()
            .min(1)
            .default(t({ dev: 1, test: 2, prod: 2 })),
          maxSize: z
            .number()
            .int()
            .min(1)
            .default(t({ dev: 3, test: 4, prod: 6 })),
          /** @default minSize */
          desiredSize: z.number().int().min(1).optional(),
          diskSizeGiB: z.number().int().min(20).max(16384).default(50),
        })
        .prefault({}),
      /** GPU node groups keyed by name; each becomes `<project>-<env>-eks-gpu-<name>`. */
      gpuNodeGroups: z
        .record(z.string().regex(NODE_GROUP_NAME, NODE_GROUP_NAME_MESSAGE), gpuNodeGroup(tier), {
          error: (issue) =>
            issue.code === "invalid_key"
              ? `is not a valid node group name: it ${NODE_GROUP_NAME_MESSAGE} (the group is named <cluster>-gpu-<name>)`
              : undefined,
        })
        .prefault(
          t({
            dev: { g5: { instanceTypes: ["g5.xlarge", "g6.xlarge"] } },
            test: { g5: { instanceTypes: ["g5.xlarge", "g6.xlarge"] } },
            prod: { g5: { instanceTypes: ["g5.2xlarge", "g6.2xlarge"] } },
          }) as Record<string, { instanceTypes: string[] }>,
        ),
      autoscaler: z
        .strictObject({
          /** Minutes a node (GPU nodes above all) may stay idle before the autoscaler removes it. */
          scaleDownUnneededMinutes: z
            .number()
            .int()
            .min(1)
            .max(1440)
            .default(t({ dev: 5, test: 10, prod: 15 })),
          /** Minutes after a scale-up before scale-down is considered again. */
          scaleDownDelayAfterAddMinutes: z
            .number()
            .int()
            .min(1)
            .max(1440)
            .default(t({ dev: 5, test: 10, prod: 10 })),
          /** cluster-autoscaler image tag; its minor version must match kubernetesVersion. */
          imageTag: z
            .string()
            .regex(/^v1\.\d{2}\.\d+$/, "must be a cluster-autoscaler release such as v1.33.1")
            .default("v1.33.1"),
        })
        .prefault({}),
      /** Helm chart versions, pinned. */
      charts: z
        .strictObject({
          nvidiaDevicePlugin: chartVersion.default("0.17.4"),
          clusterAutoscaler: chartVersion.default("9.47.0"),
          kueue: chartVersion.default("0.14.3"),
          /** AWS's EFA device plugin (eks-charts), installed only where a GPU node group has `efa`. */
          efaDevicePlugin: chartVersion.default("v0.5.20"),
          /** metrics-server (kubernetes-sigs), which serves the `metrics.k8s.io` API that HPAs scale on. */
          metricsServer: chartVersion.default("3.12.2"),
        })
        .prefault({}),
      /** metrics-server: CPU and memory of pods and nodes, for HorizontalPodAutoscalers and `kubectl top`. */
      metricsServer: z
        .strictObject({
          /** Replicas on the system nodes; from 2, a PodDisruptionBudget keeps one up during drains. */
          replicas: z
            .number()
            .int()
            .min(1)
            .max(3)
            .default(t({ dev: 1, test: 2, prod: 2 })),
        })
        .prefault({}),
      namespaces: z
        .strictObject({
          training: namespaceSettings(t({ dev: 4, test: 4, prod: 32 })),
          // dev and test: one GPU service at its default size (1 to 2 replicas) and a rollout's extra pod.
          serving: namespaceSettings(t({ dev: 3, test: 3, prod: 8 })),
          mlflow: namespaceSettings(0),
          monitoring: namespaceSettings(0),
        })
        .prefault({}),
      /** Kueue: one ClusterQueue (and a LocalQueue in its namespace) per team, with quotas. */
      kueue: z
        .strictObject({
          teams: z
            .record(
              z.string().regex(NODE_GROUP_NAME, NODE_GROUP_NAME_MESSAGE),
              z.strictObject({
                namespace: z.enum(CLUSTER_NAMESPACES).default("training"),
                gpuQuota: z.number().int().min(0),
                cpuQuota: quantity.default(t({ dev: "32", test: "32", prod: "256" })),
                memoryQuota: quantity.default(t({ dev: "128Gi", test: "128Gi", prod: "1024Gi" })),
              }),
              {
                error: (issue) =>
                  issue.code === "invalid_key"
                    ? `is not a valid team name: it ${NODE_GROUP_NAME_MESSAGE} (it names the team's ClusterQueue and LocalQueue)`
                    : undefined,
              },
            )
            .prefault(
              t({
                dev: { research: { gpuQuota: 4 } },
                test: { research: { gpuQuota: 4 } },
                prod: { research: { gpuQuota: 32 } },
              }) as Record<string, { gpuQuota: number }>,
            ),
        })
        .prefault({}),
    })
    .prefault({})
    .superRefine((cluster, ctx) => {
      const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });

      cluster.endpoint.publicAccessCidrs.forEach((cidr, index) => {
        const problem = endpointCidrProblem(cidr, "public");
        if (problem) issue(["endpoint", "publicAccessCidrs", index], problem);
      });
      const privateAccessCidrs = cluster.endpoint.privateAccessCidrs ?? [];
      privateAccessCidrs.forEach((cidr, index) => {
        const first = privateAccessCidrs.indexOf(cidr);
        const problem =
          first < index
            ? `lists ${cidr} again (it is privateAccessCidrs[${first}] already): list each CIDR once (each gets one security group rule)`
            : endpointCidrProblem(cidr, "private");
        if (problem) issue(["endpoint", "privateAccessCidrs", index], problem);
      });
      if (tier !== "dev" && cluster.endpoint.publicAccessCidrs.length > 0) {
        issue(
          ["endpoint", "publicAccessCidrs"],
          `must be empty in a ${tier} environment: its API endpoint is private (reach it from inside the VPC)`,
        );
      }
      cluster.adminRoleArns.forEach((roleArn, index) => {
        const first = cluster.adminRoleArns.indexOf(roleArn);
        if (first < index) {
          issue(
            ["adminRoleArns", index],
            `lists ${roleArn} again (it is adminRoleArns[${first}] already): EKS allows one access entry per role, so list each role once`,
          );
        }
      });
      if (tier !== "dev" && cluster.imdsHopLimit > 1) {
        issue(
          ["imdsHopLimit"],
          `must be 1 in a ${tier} environment: pods get AWS access through Pod Identity, and a hop limit of 1 keeps them from reaching the node's role through IMDS (only dev may raise it)`,
        );
      }
      if (cluster.creatorAdmin === false && cluster.adminRoleArns.length === 0) {
        issue(
          ["adminRoleArns"],
          "must list at least one role when creatorAdmin is false, or no one could use the cluster",
        );
      }
      if (!cluster.addons.kubeProxy.startsWith(`v${cluster.kubernetesVersion}.`)) {
        issue(
          ["addons", "kubeProxy"],
          `must match kubernetesVersion ${cluster.kubernetesVersion} (kube-proxy follows the control plane)`,
        );
      }
      if (!cluster.autoscaler.imageTag.startsWith(`v${cluster.kubernetesVersion}.`)) {
        issue(
          ["autoscaler", "imageTag"],
          `must match kubernetesVersion ${cluster.kubernetesVersion} (one autoscaler minor per Kubernetes minor)`,
        );
      }

      const system = cluster.systemNodeGroup;
      checkSizes(system, ["systemNodeGroup"], issue);
      if (tier === "prod" && system.minSize < 2) {
        issue(
          ["systemNodeGroup", "minSize"],
          "must be at least 2 in prod, so cluster services survive losing a node or a zone",
        );
      }

      for (const [name, group] of Object.entries(cluster.gpuNodeGroups)) {
        const path = ["gpuNodeGroups", name];
        checkSizes(group, path, issue);
        if (group.capacityType === "CAPACITY_BLOCK" && !group.capacityReservationId) {
          issue(
            [...path, "capacityReservationId"],
            "is required when capacityType is CAPACITY_BLOCK (the id of the purchased block)",
          );
        }
        if (group.capacityType === "SPOT" && group.capacityReservationId) {
          issue(
            [...path, "capacityReservationId"],
            "cannot be used with SPOT capacity; use ON_DEMAND or CAPACITY_BLOCK",
          );
        }
        if (group.capacityReservationId && !group.availabilityZone) {
          issue(
            [...path, "availabilityZone"],
            "is required with capacityReservationId: name the zone the reservation is in",
          );
        }
        for (const key of Object.keys(group.labels)) {
          if (/(^|\.)(kubernetes\.io|k8s\.io)\//.test(key) || key.startsWith("eks.amazonaws.com/")) {
            issue(
              [...path, "labels", key],
              "uses a reserved prefix (kubernetes.io, k8s.io, eks.amazonaws.com); choose your own",
            );
          }
        }
        checkGpuInstanceTypes(group, path, issue);
        checkOwnLabels(group, path, issue);
      }

      for (const namespace of CLUSTER_NAMESPACES) {
        const defaults = cluster.namespaces[namespace].containerDefaults;
        checkRequestWithinLimit(
          defaults.memoryRequest,
          defaults.memoryLimit,
          ["namespaces", namespace, "containerDefaults", "memoryRequest"],
          "containerDefaults.memoryLimit",
          ctx,
        );
      }

      // The cluster stack names each team's queues `KueueClusterQueue<Team>`, `KueueLocalQueue<Team>`.
      refuseConstructIdCollisions(Object.keys(cluster.kueue.teams), "teams", ctx, ["kueue", "teams"]);
      for (const [name, team] of Object.entries(cluster.kueue.teams)) {
        const namespaceQuota = cluster.namespaces[team.namespace].gpuQuota;
        if (team.gpuQuota > namespaceQuota) {
          issue(
            ["kueue", "teams", name, "gpuQuota"],
            `exceeds the GPU quota of namespace ${team.namespace} (${namespaceQuota}); raise namespaces.${team.namespace}.gpuQuota or lower this`,
          );
        }
      }
    })
    .transform((cluster) => ({
      ...cluster,
      creatorAdmin: cluster.creatorAdmin ?? cluster.adminRoleArns.length === 0,
    }));
}

type Issue = (path: PropertyKey[], message: string) => void;

function checkSizes(
  group: { minSize: number; maxSize: number; desiredSize?: number },
  path: PropertyKey[],
  issue: Issue,
): void {
  if (group.maxSize < group.minSize) {
    issue([...path, "maxSize"], `must be at least minSize (${group.minSize})`);
  }
  if (
    group.desiredSize !== undefined &&
    (group.desiredSize < group.minSize || group.desiredSize > group.maxSize)
  ) {
    issue(
      [...path, "desiredSize"],
      `must be between minSize (${group.minSize}) and maxSize (${group.maxSize})`,
    );
  }
}

/** The GPUs per node of `type` in gpu-instance-types.ts, or `undefined` for a type it does not know. */
function knownGpus(type: string): number | undefined {
  return Object.hasOwn(GPUS_PER_INSTANCE, type) ? GPUS_PER_INSTANCE[type] : undefined;
}

/** The family of `type` (`m5` of `m5.xlarge`) when its instance class has no GPU, else `undefined`. */
function cpuOnlyFamily(type: string): string | undefined {
  const family = type.split(".")[0];
  const instanceClass = /^[a-z]+/.exec(family)?.[0] ?? "";
  return CPU_ONLY_CLASSES.has(instanceClass) ? family : undefined;
}

/**
 * The GPUs per node of a valid GPU node group: its `gpusPerNode`, else the count gpu-instance-types.ts gives
 * its instance types (which the cluster section makes sure they share).
 */
export function gpusPerNodeOf(group: { instanceTypes: readonly string[]; gpusPerNode?: number }): number {
  return group.gpusPerNode ?? knownGpus(group.instanceTypes[0]) ?? 0;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * Why `cidr` may not open the `public` API endpoint (or reach the `private` one), or `undefined` when it may:
 * it must be a network address (no host bits set, so it says which block it opens) with a prefix of /8 or
 * longer. An invalid CIDR is reported by the CIDR schema alone.
 */
function endpointCidrProblem(cidr: string, endpoint: "public" | "private"): string | undefined {
  let prefix: number;
  try {
    ({ prefix } = parseCidr(cidr));
  } catch {
    return undefined;
  }
  if (endpoint === "private" && prefix === 0) {
    return "must not let every address reach the API endpoint, which must stay private; list the networks that need it (the VPC, a VPN, a peered network)";
  }
  if (endpoint === "private" && prefix < MIN_ENDPOINT_PREFIX) {
    return `must have a prefix of /${MIN_ENDPOINT_PREFIX} or longer (got /${prefix}): the endpoint stays private to the networks that need it; list those (the VPC, a VPN, a peered network)`;
  }
  if (prefix === 0) return "must not open the API endpoint to the whole internet; list your own CIDRs";
  if (prefix < MIN_ENDPOINT_PREFIX) {
    return `must have a prefix of /${MIN_ENDPOINT_PREFIX} or longer (got /${prefix}): a shorter one opens the API endpoint to a large part of the internet; list your own CIDRs`;
  }
  const network = networkOf(cidr);
  if (network !== cidr) {
    const [start] = network.split("/");
    const [address] = cidr.split("/");
    return `has host bits set: the /${prefix} block it is in starts at ${start}; write ${network} for the whole block, or ${address}/32 for that one address`;
  }
  return undefined;
}

/** What the GPU checks read of a GPU node group. */
interface GpuGroupSettings {
  instanceTypes: readonly string[];
  gpusPerNode?: number;
  efa: boolean;
  amiType: (typeof GPU_AMI_TYPES)[number];
  labels: Readonly<Record<string, string>>;
}

/**
 * What GpuNodeGroup would refuse of the instance types (GPUs per node it cannot look up without gpusPerNode,
 * or that differ within the group), and what it would accept but build wrong: a gpusPerNode other than the
 * GPUs of a type it knows (the autoscaler plans with it), and instance types without GPUs.
 */
function checkGpuInstanceTypes(group: GpuGroupSettings, path: PropertyKey[], issue: Issue): void {
  const cpuOnly = group.instanceTypes.map(cpuOnlyFamily);
  group.instanceTypes.forEach((_, index) => {
    if (cpuOnly[index] !== undefined) {
      issue(
        [...path, "instanceTypes", index],
        `is a CPU-only instance type (the ${cpuOnly[index]} family has no GPU); a GPU node group needs NVIDIA GPU instances such as g5.xlarge, g6e.xlarge or p5.48xlarge, and CPU work runs on systemNodeGroup`,
      );
    }
  });
  const counts = group.instanceTypes.map((type) => knownGpus(type));
  if (group.gpusPerNode === undefined) {
    group.instanceTypes.forEach((type, index) => {
      if (counts[index] === undefined && cpuOnly[index] === undefined) {
        issue(
          [...path, "instanceTypes", index],
          `has no known GPU count per node; set gpusPerNode (the GPUs of one ${type}), or use an instance type the platform knows`,
        );
      }
    });
    if (!counts.includes(undefined) && new Set(counts).size > 1) {
      issue(
        [...path, "instanceTypes"],
        `mixes instance types with different GPU counts (${group.instanceTypes.map((type, index) => `${type}: ${counts[index]}`).join(", ")}); the autoscaler needs one count per group, so split them into groups`,
      );
    }
  } else {
    const gpusPerNode = group.gpusPerNode;
    const contradicting = group.instanceTypes.flatMap((type, index) => {
      const count = counts[index];
      return count !== undefined && count !== gpusPerNode ? [`${type} has ${plural(count, "GPU")}`] : [];
    });
    if (contradicting.length > 0) {
      const known = new Set(counts.filter((count) => count !== undefined));
      issue(
        [...path, "gpusPerNode"],
        `is ${gpusPerNode}, but ${contradicting.join(", ")} per node; the autoscaler plans with this count, so it must be every node's: ` +
          (known.size === 1
            ? `set it to ${[...known][0]} or leave it out (it is looked up from the instance type)`
            : "split the instance types into groups with one GPU count each"),
      );
    }
  }
  if (group.efa) {
    const cards = group.instanceTypes.map((type) =>
      Object.hasOwn(EFA_NETWORK_CARDS, type) ? EFA_NETWORK_CARDS[type] : undefined,
    );
    const without = group.instanceTypes.filter((_, index) => cards[index] === undefined);
    if (without.length > 0) {
      issue(
        [...path, "efa"],
        `needs instance types with EFA network cards (${Object.keys(EFA_NETWORK_CARDS).join(", ")}); ${without.join(", ")} ${without.length === 1 ? "has" : "have"} none: replace ${without.length === 1 ? "it" : "them"} or set efa to false`,
      );
    } else if (new Set(cards).size > 1) {
      issue(
        [...path, "efa"],
        `needs instance types with the same number of EFA network cards (${group.instanceTypes.map((type, index) => `${type}: ${cards[index]}`).join(", ")}); split them into groups`,
      );
    }
  }
}

/**
 * What GpuNodeGroup would refuse of the labels: a value for a label it sets itself (the device plugins, Kueue
 * and the autoscaler select nodes by them), other than the one it sets. The accelerator label is the
 * caller's to name; the node group's name is checked with the environment's names
 * ({@link checkClusterAgainstEnvironment}).
 */
function checkOwnLabels(group: GpuGroupSettings, path: PropertyKey[], issue: Issue): void {
  const own: Record<string, string> = {
    [GPU_PRESENT_LABEL]: "true",
    [DEVICE_PLUGIN_LABEL]: group.amiType === "BOTTLEROCKET_x86_64_NVIDIA" ? "ami" : "daemonset",
    ...(group.efa ? { [EFA_LABEL]: "true" } : {}),
  };
  for (const [key, value] of Object.entries(group.labels)) {
    if (key === ACCELERATOR_LABEL) continue;
    if (key === EFA_LABEL && !group.efa) {
      issue(
        [...path, "labels", key],
        "is set by the node group itself, on EFA groups (efa: true) only; remove it",
      );
    } else if (Object.hasOwn(own, key) && own[key] !== value) {
      issue([...path, "labels", key], `is set by the node group itself (to ${own[key]}); remove it`);
    }
  }
}

/** The validated `cluster` section. */
export type ClusterSettings = z.output<ReturnType<typeof clusterSection>>;

/**
 * The networks that may reach the cluster's private API endpoint: `cluster.endpoint.privateAccessCidrs`, or
 * the environment's VPC (`network.vpcCidr`) when the file does not set it.
 */
export function endpointPrivateAccessCidrsOf(env: {
  network: { vpcCidr: string };
  cluster: { endpoint: { privateAccessCidrs?: readonly string[] } };
}): string[] {
  return [...(env.cluster.endpoint.privateAccessCidrs ?? [env.network.vpcCidr])];
}

/**
 * Checks of the cluster section against the rest of the environment (zones must be the environment's).
 * Called from the environment schema's own `superRefine`.
 */
export function checkClusterAgainstEnvironment(
  env: {
    project: string;
    name: string;
    aws: { availabilityZones: readonly string[] };
    cluster: ClusterSettings;
  },
  ctx: z.RefinementCtx,
): void {
  // The cluster's name is `<project>-<env>-eks` (stacks/cluster-contract.ts), its GPU node groups'
  // `<cluster>-gpu-<name>`: GpuNodeGroup labels its nodes with that name.
  const clusterName = new Naming({ project: env.project, environment: env.name }).name("eks", "eks");
  for (const [name, group] of Object.entries(env.cluster.gpuNodeGroups)) {
    if (group.availabilityZone && !env.aws.availabilityZones.includes(group.availabilityZone)) {
      ctx.addIssue({
        code: "custom",
        path: ["cluster", "gpuNodeGroups", name, "availabilityZone"],
        message: `must be one of the environment's zones (${env.aws.availabilityZones.join(", ")})`,
      });
    }
    const nodeGroupName = `${clusterName}-gpu-${name}`;
    if (Object.hasOwn(group.labels, NODE_GROUP_LABEL) && group.labels[NODE_GROUP_LABEL] !== nodeGroupName) {
      ctx.addIssue({
        code: "custom",
        path: ["cluster", "gpuNodeGroups", name, "labels", NODE_GROUP_LABEL],
        message: `is set by the node group itself (to ${nodeGroupName}); remove it`,
      });
    }
  }
}
