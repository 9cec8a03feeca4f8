/*
 * The node labels a GPU node group (`gpu-node-group.ts`) sets itself. Kept apart from the construct, which
 * loads the AWS provider, so that the environment schema can refuse labels that would change them.
 */

/** Label (`"true"`) of every GPU node; Kueue's GPU flavor selects nodes by it. */
export const GPU_PRESENT_LABEL = "nvidia.com/gpu.present";

/** Label of every GPU node, set to the name of its node group. */
export const NODE_GROUP_LABEL = "mlops/node-group";

/**
 * Label of every GPU node, saying where its NVIDIA device plugin comes from: `ami` when the AMI ships it
 * (Bottlerocket NVIDIA), `daemonset` when it does not and the cluster stack installs it. Select the nodes
 * that need the plugin with `mlops/nvidia-device-plugin=daemonset`.
 */
export const DEVICE_PLUGIN_LABEL = "mlops/nvidia-device-plugin";

/** Label (`"true"`) of GPU nodes with EFA interfaces, which the EFA device plugin selects. */
export const EFA_LABEL = "vpc.amazonaws.com/efa.present";

/** The label the cluster autoscaler recognises GPU nodes by on AWS, set to the GPU model (`nvidia-a10g`). */
export const ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator";
