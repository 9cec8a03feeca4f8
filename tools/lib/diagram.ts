/**
 * Mermaid diagrams of an environment: its stacks (with their deploy order) and their main resources, drawn
 * from synthesized JSON only. Changed resources can be highlighted by action, which the review uses in
 * its pull-request comment.
 */
import { compareCodeUnits } from "../../constructs/core/order";
import type { SynthOutput, SynthResource } from "./review/synth-output";

/** The resource types worth a box, with the words that label them. */
export const MAIN_TYPES: Readonly<Record<string, string>> = {
  aws_s3_bucket: "S3 bucket",
  aws_kms_key: "KMS key",
  aws_ecr_repository: "ECR repository",
  aws_vpc: "VPC",
  aws_nat_gateway: "NAT gateway",
  aws_eks_cluster: "EKS cluster",
  aws_eks_node_group: "EKS node group",
  aws_db_instance: "RDS database",
  aws_sagemaker_endpoint: "SageMaker endpoint",
  aws_sagemaker_model_package_group: "SageMaker model registry",
  aws_iam_openid_connect_provider: "OIDC provider",
  aws_cloudwatch_log_group: "Log group",
  aws_sns_topic: "SNS topic",
  aws_budgets_budget: "Budget",
  helm_release: "Helm release",
  kubernetes_namespace_v1: "Namespace",
  kubernetes_deployment_v1: "Deployment",
};

/** Types drawn as data stores. */
const STORES = new Set([
  "aws_s3_bucket",
  "aws_ecr_repository",
  "aws_db_instance",
  "aws_kms_key",
  "aws_cloudwatch_log_group",
]);

/** What happened to a resource, for highlighting. */
export type Highlight = "create" | "update" | "delete" | "replace" | "move" | "import";

/** Options of {@link renderDiagram}. */
export interface DiagramOptions {
  /** Actions by `<stack>|<address>`; those resources are drawn (whatever their type) and coloured. */
  readonly highlight?: ReadonlyMap<string, Highlight>;
  /** Resources that only the base has (deleted), drawn in their stack so the reader sees what goes. */
  readonly removed?: readonly { stack: string; resource: SynthResource }[];
  /** Draw only changed resources (and the stacks that hold them). @default false */
  readonly changedOnly?: boolean;
  /** Most boxes per stack before the rest are summed up. @default 20 */
  readonly maxPerStack?: number;
}

const NAME_ATTRIBUTES = ["bucket", "name", "identifier", "node_group_name", "cluster_name", "description"];

function label(resource: SynthResource): string {
  const kind = MAIN_TYPES[resource.type] ?? resource.type;
  const literal = NAME_ATTRIBUTES.map((key) => resource.body[key]).find(
    (value): value is string => typeof value === "string" && value !== "" && !value.includes("${"),
  );
  const name = literal && literal.length <= 48 ? literal : resource.name;
  return `${kind}<br/>${name}`.replace(/"/g, "#quot;");
}

/** A Mermaid flowchart of `environment`'s stacks in `output`. */
export function renderDiagram(
  output: SynthOutput,
  environment: string,
  options: DiagramOptions = {},
): string {
  const highlight = options.highlight ?? new Map<string, Highlight>();
  const maxPerStack = options.maxPerStack ?? 20;
  const stacks = [...output.values()]
    .filter((stack) => stack.environment === environment)
    .sort((a, b) => compareCodeUnits(a.name, b.name));
  const lines = ["flowchart LR"];
  const classes = new Map<Highlight, string[]>();
  const ids = new Map<string, string>();
  const edges: string[] = [];
  let counter = 0;
  const drawnStacks = new Set<string>();

  for (const stack of stacks) {
    const removed = (options.removed ?? []).filter((r) => r.stack === stack.name).map((r) => r.resource);
    const candidates = [...stack.resources.values(), ...removed].filter((resource) => {
      if (resource.mode !== "managed") return false;
      const changed = highlight.has(`${stack.name}|${resource.address}`);
      return options.changedOnly ? changed : changed || resource.type in MAIN_TYPES;
    });
    if (options.changedOnly && candidates.length === 0) continue;
    drawnStacks.add(stack.name);
    const stackId = `s_${stack.name.replace(/[^A-Za-z0-9]/g, "_")}`;
    lines.push(`  subgraph ${stackId}["${stack.name}"]`, "    direction TB");
    const shown = candidates.slice(0, maxPerStack);
    for (const resource of shown) {
      const id = `n${++counter}`;
      ids.set(`${stack.name}|${resource.address}`, id);
      const text = label(resource);
      lines.push(STORES.has(resource.type) ? `    ${id}[("${text}")]` : `    ${id}["${text}"]`);
      const action = highlight.get(`${stack.name}|${resource.address}`);
      if (action) classes.set(action, [...(classes.get(action) ?? []), id]);
    }
    if (candidates.length > shown.length)
      lines.push(`    n${++counter}["… ${candidates.length - shown.length} more"]`);
    if (candidates.length === 0) lines.push(`    n${++counter}["(no main resources)"]`);
    lines.push("  end");
    for (const resource of shown) {
      const from = ids.get(`${stack.name}|${resource.address}`)!;
      const text = JSON.stringify(resource.body);
      for (const other of shown) {
        if (other === resource) continue;
        if (text.includes(`\${${other.address}.`))
          edges.push(`  ${from} --> ${ids.get(`${stack.name}|${other.address}`)}`);
      }
    }
  }
  for (const stack of stacks) {
    for (const dependency of stack.dependencies) {
      if (drawnStacks.has(stack.name) && drawnStacks.has(dependency)) {
        const id = (name: string) => `s_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
        edges.push(`  ${id(dependency)} -.->|deploys before| ${id(stack.name)}`);
      }
    }
  }
  lines.push(...edges);
  const styles: Record<Highlight, string> = {
    create: "fill:#dafbe1,stroke:#1a7f37",
    import: "fill:#dafbe1,stroke:#1a7f37",
    update: "fill:#fff8c5,stroke:#9a6700",
    move: "fill:#ddf4ff,stroke:#0969da",
    replace: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px",
    delete: "fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4",
  };
  for (const [action, members] of classes) {
    lines.push(`  classDef ${action} ${styles[action]}`, `  class ${members.join(",")} ${action}`);
  }
  return `${lines.join("\n")}\n`;
}
