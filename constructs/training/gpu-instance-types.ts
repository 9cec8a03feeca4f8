/**
 * What the platform knows about NVIDIA GPU instance types: GPUs per instance (for the cluster autoscaler's
 * node template, which it needs to scale a group up from zero) and EFA-capable network cards.
 */

/** NVIDIA GPUs per instance, by instance type. */
export const GPUS_PER_INSTANCE: Readonly<Record<string, number>> = {
  ...family("g4dn", {
    xlarge: 1,
    "2xlarge": 1,
    "4xlarge": 1,
    "8xlarge": 1,
    "16xlarge": 1,
    "12xlarge": 4,
    metal: 8,
  }),
  ...family("g5", {
    xlarge: 1,
    "2xlarge": 1,
    "4xlarge": 1,
    "8xlarge": 1,
    "16xlarge": 1,
    "12xlarge": 4,
    "24xlarge": 4,
    "48xlarge": 8,
  }),
  ...family("g6", {
    xlarge: 1,
    "2xlarge": 1,
    "4xlarge": 1,
    "8xlarge": 1,
    "16xlarge": 1,
    "12xlarge": 4,
    "24xlarge": 4,
    "48xlarge": 8,
  }),
  ...family("g6e", {
    xlarge: 1,
    "2xlarge": 1,
    "4xlarge": 1,
    "8xlarge": 1,
    "16xlarge": 1,
    "12xlarge": 4,
    "24xlarge": 4,
    "48xlarge": 8,
  }),
  ...family("p3", { "2xlarge": 1, "8xlarge": 4, "16xlarge": 8 }),
  "p3dn.24xlarge": 8,
  "p4d.24xlarge": 8,
  "p4de.24xlarge": 8,
  "p5.4xlarge": 1,
  "p5.48xlarge": 8,
  "p5e.48xlarge": 8,
  "p5en.48xlarge": 8,
};

/**
 * The GPU of each instance family, as the cluster autoscaler's `k8s.amazonaws.com/accelerator` label names it
 * (`nvidia-<model>`).
 */
export const GPU_MODELS: Readonly<Record<string, string>> = {
  g4dn: "nvidia-tesla-t4",
  g5: "nvidia-a10g",
  g6: "nvidia-l4",
  g6e: "nvidia-l40s",
  p3: "nvidia-tesla-v100",
  p3dn: "nvidia-tesla-v100",
  p4d: "nvidia-a100",
  p4de: "nvidia-a100",
  p5: "nvidia-h100",
  p5e: "nvidia-h200",
  p5en: "nvidia-h200",
};

/**
 * The value of the `k8s.amazonaws.com/accelerator` label for a group of `instanceTypes`: their GPU model when
 * they share a known one, `nvidia` otherwise.
 */
export function acceleratorOf(instanceTypes: readonly string[]): string {
  const models = new Set(instanceTypes.map((type) => GPU_MODELS[type.split(".")[0]] ?? "nvidia"));
  return models.size === 1 ? [...models][0] : "nvidia";
}

/**
 * Network cards that carry an EFA interface, by instance type: the instance types multi-node training
 * with EFA is supported on here.
 */
export const EFA_NETWORK_CARDS: Readonly<Record<string, number>> = {
  "p4d.24xlarge": 4,
  "p4de.24xlarge": 4,
  "p5.48xlarge": 32,
  "p5e.48xlarge": 32,
  "p5en.48xlarge": 16,
};

function family(name: string, sizes: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(sizes).map(([size, gpus]) => [`${name}.${size}`, gpus]));
}
