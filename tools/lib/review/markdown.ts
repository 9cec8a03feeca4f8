/**
 * GitHub-flavoured Markdown for one sticky pull-request comment: what it is, a summary table per
 * environment, the high-risk items, then details in collapsible sections. The whole comment stays under
 * GitHub's limit of 65,536 characters: details shrink, then are left out, before the summary is touched.
 */
import {
  ACTIONS,
  unattachedFindings,
  type Action,
  type ResourceReview,
  type Review,
  type StackReview,
} from "./types";

/** The hidden marker a workflow uses to find and update the comment instead of adding another. */
export const COMMENT_MARKER = "<!-- mlops-review -->";

/** GitHub rejects comments longer than this. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions {
  /**
   * Longest comment produced, in characters.
   * @default 65000 (GitHub's limit minus room for what a workflow appends)
   */
  readonly maxLength?: number;
  /** Mermaid diagrams by environment, shown collapsed when they fit. */
  readonly diagrams?: Readonly<Record<string, string>>;
  /** A line pointing to the full output (a job summary or an artifact) when details are left out. */
  readonly fullOutputHint?: string;
  /** Title of the comment. @default "Infrastructure review" */
  readonly title?: string;
}

const SYMBOL: Record<Action, string> = {
  create: "+",
  update: "!",
  delete: "-",
  replace: "!",
  move: "#",
  import: "+",
};
const RISK_LABEL = { none: "", low: "low", high: "🔴 **high**" } as const;

/** A value as one short line. */
export function formatValue(value: unknown, maxLength = 160): string {
  if (value === null || value === undefined) return "(none)";
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function code(text: string): string {
  const clean = text.replace(/`/g, "'");
  return `\`${clean}\``;
}

function counts(resources: readonly ResourceReview[]): Record<Action, number> & { high: number } {
  const result = { create: 0, update: 0, delete: 0, replace: 0, move: 0, import: 0, high: 0 };
  for (const resource of resources) {
    result[resource.action]++;
    if (resource.risk === "high") result.high++;
  }
  return result;
}

function countsLine(resources: readonly ResourceReview[]): string {
  const c = counts(resources);
  const parts = ACTIONS.filter((action) => c[action] > 0).map((action) => `${c[action]} ${action}`);
  if (c.high) parts.push(`${c.high} high risk`);
  return parts.join(", ") || "no changes";
}

function environments(review: Review): Map<string, StackReview[]> {
  const byEnvironment = new Map<string, StackReview[]>();
  for (const stack of review.stacks) {
    byEnvironment.set(stack.environment, [...(byEnvironment.get(stack.environment) ?? []), stack]);
  }
  return byEnvironment;
}

function header(review: Review, options: MarkdownOptions): string {
  const title = options.title ?? "Infrastructure review";
  const lines = [COMMENT_MARKER, `## ${title}`, ""];
  if (review.kind === "configuration-diff") {
    const range = `${review.base ? code(review.base) : "base"} → ${review.head ? code(review.head) : "working tree"}`;
    lines.push(
      `**Configuration diff, not a plan** (${range}): the synthesized Terraform configuration of every stack, ` +
        "compared resource by resource without cloud credentials. It cannot see drift, changes made outside " +
        "Terraform, provider defaults or values known only after apply; replacements come from a table of " +
        "replacement-forcing attributes.",
    );
  } else {
    lines.push(
      "**Summary of `terraform plan`**: what Terraform will do against the real state, drift included.",
    );
  }
  for (const note of review.notes) lines.push("", `> ${note}`);
  lines.push("");
  const high = review.summary.highRisk;
  lines.push(
    high > 0 ? `### 🔴 ${high} high-risk change${high === 1 ? "" : "s"}` : "### ✅ No high-risk change",
  );
  return lines.join("\n");
}

function summaryTables(review: Review): string {
  if (review.stacks.length === 0) return "\nNo resource changes in any stack.\n";
  const lines: string[] = [""];
  for (const [environment, stacks] of environments(review)) {
    lines.push(`**${environment}**`, "");
    lines.push("| Stack | Create | Update | Replace | Move | Delete | Import | High risk |");
    lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const stack of stacks) {
      const c = counts(stack.resources);
      const high = c.high + unattachedFindings(stack).filter((f) => f.risk === "high").length;
      lines.push(
        `| ${code(stack.stack)} | ${c.create} | ${c.update} | ${c.replace} | ${c.move} | ${c.delete} | ${c.import} | ${high ? `🔴 ${high}` : "0"} |`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}

function highRiskItem(stack: StackReview, resource: ResourceReview): string {
  const moved = resource.previousAddress ? `${code(resource.previousAddress)} → ` : "";
  const reasons = resource.reasons.length ? `: ${resource.reasons.join("; ")}` : "";
  return `- **${resource.action}** ${moved}${code(resource.address)} in ${code(stack.stack)} (${stack.environment})${cell(reasons)}`;
}

function findingItem(stack: StackReview, finding: NonNullable<StackReview["findings"]>[number]): string {
  const where = finding.address ? ` on ${code(finding.address)}` : "";
  const verb = { added: "❌ newly fails", suppressed: "⚠️ newly suppressed", fixed: "✅ fixed" }[
    finding.status
  ];
  const risk = finding.status === "suppressed" ? ` (${RISK_LABEL[finding.risk]} risk)` : "";
  const reason = finding.status === "suppressed" ? `; reason: ${cell(finding.reason ?? "")}` : "";
  return `- ${verb}${risk}: **${finding.ruleId}** (${finding.severity})${where} in ${code(stack.stack)}: ${cell(finding.message)}${reason}`;
}

/** Appends items while they fit in `budget`, then says how many were left out. */
function boundedList(items: string[], budget: number, what: string): string {
  const out: string[] = [];
  let used = 0;
  for (const [index, item] of items.entries()) {
    if (used + item.length + 1 > budget) {
      out.push(`- … and ${items.length - index} more ${what} (see the details below or the full output)`);
      break;
    }
    out.push(item);
    used += item.length + 1;
  }
  return out.join("\n");
}

function resourceRow(resource: ResourceReview): string {
  const address = resource.previousAddress
    ? `${code(resource.previousAddress)} → ${code(resource.address)}`
    : code(resource.address);
  return `| ${resource.action} | ${address} | ${RISK_LABEL[resource.risk]} | ${cell(resource.reasons.join("; "))} |`;
}

function diffBlock(resources: readonly ResourceReview[], drift = false): string {
  const lines: string[] = [];
  for (const resource of resources) {
    if (resource.changes.length === 0) continue;
    lines.push(
      `${SYMBOL[resource.action]} ${resource.address}${drift ? " (changed outside Terraform)" : ""}`,
    );
    for (const change of resource.changes) {
      if (change.before !== null && change.before !== undefined)
        lines.push(`-   ${change.path}: ${formatValue(change.before)}`);
      if (change.after !== null && change.after !== undefined)
        lines.push(`+   ${change.path}: ${formatValue(change.after)}`);
      if ((change.before ?? null) === null && (change.after ?? null) === null)
        lines.push(`    ${change.path}`);
    }
  }
  if (lines.length === 0) return "";
  return ["```diff", ...lines.map((line) => line.replace(/```/g, "'''")), "```"].join("\n");
}

const TABLE_HEAD = ["| Action | Address | Risk | Why |", "|---|---|---|---|"];

/** The collapsible section of one stack, as complete as `budget` allows (or undefined). */
function stackDetails(stack: StackReview, budget: number): string | undefined {
  const open = `<details><summary><b>${stack.environment}</b> · <code>${stack.stack}</code>: ${countsLine(stack.resources)}</summary>\n\n`;
  const close = "\n\n</details>\n";
  const rows = stack.resources.map(resourceRow);
  const drift = stack.drift ?? [];
  const driftPart = drift.length
    ? `\n\n**Changed outside Terraform (drift)**: ${drift.map((d) => code(d.address)).join(", ")}\n\n${diffBlock(drift, true)}`
    : "";
  const full = [
    open,
    [...TABLE_HEAD, ...rows].join("\n"),
    "\n\n",
    diffBlock(stack.resources),
    driftPart,
    close,
  ].join("");
  if (full.length <= budget) return full;
  const tableOnly = [
    open,
    [...TABLE_HEAD, ...rows].join("\n"),
    "\n\n_Attribute changes left out to fit the comment limit._",
    close,
  ].join("");
  if (tableOnly.length <= budget) return tableOnly;
  const kept: string[] = [];
  let size = open.length + close.length + TABLE_HEAD.join("\n").length + 200;
  for (const row of rows) {
    if (size + row.length + 1 > budget) break;
    kept.push(row);
    size += row.length + 1;
  }
  if (kept.length === 0) return undefined;
  const note = `\n\n_${rows.length - kept.length} more resources left out to fit the comment limit._`;
  return [open, [...TABLE_HEAD, ...kept].join("\n"), note, close].join("");
}

/** Renders `review` as one comment of at most `maxLength` characters. */
export function renderMarkdown(review: Review, options: MarkdownOptions = {}): string {
  const maxLength = Math.min(options.maxLength ?? 65_000, GITHUB_COMMENT_LIMIT);
  const hint = options.fullOutputHint ?? "Run `npm run review` locally for the full output.";
  const footerFor = (omitted: number) =>
    omitted > 0
      ? `\n_Details of ${omitted} stack${omitted === 1 ? "" : "s"} left out to fit GitHub's comment limit. ${hint}_\n`
      : "";
  const reserve = footerFor(999).length + 16;

  let out = `${header(review, options)}\n${summaryTables(review)}`;
  const room = () => maxLength - out.length - reserve;

  const highRisk = review.stacks.flatMap((stack) =>
    stack.resources.filter((r) => r.risk === "high").map((r) => highRiskItem(stack, r)),
  );
  for (const stack of review.stacks) {
    for (const finding of unattachedFindings(stack)) {
      if (finding.risk === "high") highRisk.push(findingItem(stack, finding));
    }
  }
  if (highRisk.length)
    out += `\n#### High-risk items\n\n${boundedList(highRisk, Math.max(room() / 2, 500), "high-risk items")}\n`;

  const findings = review.stacks.flatMap((stack) => (stack.findings ?? []).map((f) => findingItem(stack, f)));
  if (findings.length)
    out += `\n#### Policy findings this change adds, suppresses or fixes\n\n${boundedList(findings, Math.max(room() / 3, 300), "findings")}\n`;

  const diagrams = Object.entries(options.diagrams ?? {});
  if (diagrams.length) {
    const section = [
      "\n<details><summary>Diagram of the changed environments</summary>\n",
      ...diagrams.map(
        ([environment, mermaid]) => `\n**${environment}**\n\n\`\`\`mermaid\n${mermaid.trim()}\n\`\`\`\n`,
      ),
      "\n</details>\n",
    ].join("");
    if (section.length < room() / 3) out += section;
  }

  if (review.stacks.length) out += "\n#### Details\n\n";
  let omitted = 0;
  for (const stack of review.stacks.filter((s) => s.resources.length > 0 || (s.drift ?? []).length > 0)) {
    const section = omitted ? undefined : stackDetails(stack, room());
    if (section) out += section;
    else omitted++;
  }
  out += footerFor(omitted);
  return out.length <= maxLength ? out : `${out.slice(0, maxLength - 40)}\n\n_(truncated)_\n`;
}
