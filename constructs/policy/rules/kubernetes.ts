/**
 * Kubernetes workloads declared with the Terraform Kubernetes provider (`kubernetes_deployment_v1`...). Every
 * container is checked, not only the first one; Helm releases are out of reach (their manifests are rendered
 * by Helm at apply time).
 */
import { block, blocks, flag, isSet, numberOf, type PolicyResource, type PolicyRule } from "../engine";

/** Workload types and where their pod spec is. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  kubernetes_deployment: ["spec", "template", "spec"],
  kubernetes_deployment_v1: ["spec", "template", "spec"],
  kubernetes_stateful_set: ["spec", "template", "spec"],
  kubernetes_stateful_set_v1: ["spec", "template", "spec"],
  kubernetes_daemonset: ["spec", "template", "spec"],
  kubernetes_daemon_set_v1: ["spec", "template", "spec"],
  kubernetes_replication_controller: ["spec", "template", "spec"],
  kubernetes_replication_controller_v1: ["spec", "template", "spec"],
  kubernetes_job: ["spec", "template", "spec"],
  kubernetes_job_v1: ["spec", "template", "spec"],
  kubernetes_cron_job: ["spec", "job_template", "spec", "template", "spec"],
  kubernetes_cron_job_v1: ["spec", "job_template", "spec", "template", "spec"],
  kubernetes_pod: ["spec"],
  kubernetes_pod_v1: ["spec"],
};

const WORKLOADS = Object.keys(POD_SPEC_PATHS);
/** Workloads that run to completion, where liveness and readiness probes do not apply. */
const BATCH = ["kubernetes_job", "kubernetes_job_v1", "kubernetes_cron_job", "kubernetes_cron_job_v1"];

function podSpec(workload: PolicyResource): Record<string, unknown> | undefined {
  let node: Record<string, unknown> | undefined = workload.values as Record<string, unknown>;
  for (const key of POD_SPEC_PATHS[workload.type]) {
    node = node ? block(node[key]) : undefined;
  }
  return node;
}

interface Container {
  readonly name: string;
  readonly init: boolean;
  readonly values: Record<string, unknown>;
}

function containers(workload: PolicyResource, includeInit: boolean): Container[] {
  const spec = podSpec(workload);
  if (!spec) return [];
  const main = blocks(spec.container).map((values) => ({
    name: String(values.name ?? "?"),
    init: false,
    values,
  }));
  const init = includeInit
    ? blocks(spec.init_container).map((values) => ({ name: String(values.name ?? "?"), init: true, values }))
    : [];
  return [...main, ...init];
}

function label(container: Container): string {
  return `${container.init ? "init container" : "container"} ${container.name}`;
}

function resourceValue(container: Container, kind: "limits" | "requests", name: "cpu" | "memory"): unknown {
  return block(block(container.values.resources)?.[kind])?.[name];
}

/** An image is pinned when it has a digest, or a tag other than `latest`. */
export function isPinnedImage(image: unknown): boolean {
  if (typeof image !== "string" || image === "") return false;
  if (image.includes("@sha256:")) return true;
  // What an interpolation yields is unknown here: a wholly computed image passes, a computed tag counts as a tag.
  const literal = image.replace(/\$\{[^}]*\}/g, "COMPUTED");
  if (literal === "COMPUTED") return true;
  const lastSegment = literal.slice(literal.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== "" && tag !== "latest";
}

export const KUBERNETES_RULES: readonly PolicyRule[] = [
  {
    id: "MLOPS-K8S-001",
    title: "Containers have liveness and readiness probes",
    severity: "medium",
    resourceTypes: WORKLOADS.filter((type) => !BATCH.includes(type)),
    fix: "Add liveness_probe and readiness_probe to every container (and a startup_probe when the model loads slowly).",
    check(workload) {
      return containers(workload, false).flatMap((c) => {
        const missing = ["liveness_probe", "readiness_probe"].filter((probe) => !isSet(c.values[probe]));
        return missing.length === 0 ? [] : [`${label(c)} has no ${missing.join(" or ")}`];
      });
    },
  },
  {
    id: "MLOPS-K8S-002",
    title: "Containers set CPU and memory requests and limits",
    severity: "medium",
    resourceTypes: WORKLOADS,
    fix: "Set resources { requests = { cpu, memory }, limits = { cpu, memory } } on every container.",
    check(workload) {
      return containers(workload, true).flatMap((c) => {
        const missing = (["requests", "limits"] as const).flatMap((kind) =>
          (["cpu", "memory"] as const)
            .filter((name) => !isSet(resourceValue(c, kind, name)))
            .map((name) => `${kind}.${name}`),
        );
        return missing.length === 0 ? [] : [`${label(c)} has no ${missing.join(", ")}`];
      });
    },
  },
  {
    id: "MLOPS-K8S-003",
    title: "Containers run as a non-root user",
    severity: "high",
    resourceTypes: WORKLOADS,
    fix: "Set security_context { run_as_non_root = true, run_as_user = <uid > 0> } on the pod or on every container (and build the image with a non-root USER).",
    check(workload) {
      const pod = block(podSpec(workload)?.security_context) ?? {};
      return containers(workload, true).flatMap((c) => {
        const own = block(c.values.security_context) ?? {};
        const nonRoot = flag(own.run_as_non_root ?? pod.run_as_non_root);
        const user = numberOf(own.run_as_user ?? pod.run_as_user);
        if (user === 0) return [`${label(c)} runs as user 0 (root)`];
        if (
          nonRoot === true ||
          nonRoot === "unknown" ||
          user === "unknown" ||
          (typeof user === "number" && user > 0)
        )
          return [];
        return [`${label(c)} may run as root: neither run_as_non_root nor a non-zero run_as_user is set`];
      });
    },
  },
  {
    id: "MLOPS-K8S-004",
    title: "Containers cannot escalate privileges",
    severity: "high",
    resourceTypes: WORKLOADS,
    fix: "Set security_context { allow_privilege_escalation = false, privileged = false } on every container (and drop all capabilities).",
    check(workload) {
      return containers(workload, true).flatMap((c) => {
        const context = block(c.values.security_context) ?? {};
        const problems: string[] = [];
        if (flag(context.privileged) === true) problems.push(`${label(c)} is privileged`);
        const escalation = flag(context.allow_privilege_escalation);
        if (escalation !== false && escalation !== "unknown")
          problems.push(`${label(c)} does not set allow_privilege_escalation = false`);
        return problems;
      });
    },
  },
  {
    id: "MLOPS-K8S-005",
    title: "Container images are pinned (digest or version tag, never latest)",
    severity: "high",
    resourceTypes: WORKLOADS,
    fix: "Use an image reference with a version tag or a digest (repository@sha256:...) from the environment file.",
    check(workload) {
      return containers(workload, true)
        .filter((c) => !isPinnedImage(c.values.image))
        .map((c) => `${label(c)} uses ${JSON.stringify(c.values.image ?? "")}`);
    },
  },
];
