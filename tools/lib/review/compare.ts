/**
 * The configuration diff: compares the synthesized stacks of a base and a head resource by resource.
 *
 * It sees what the configuration says, not what exists: no drift, no provider defaults, no values known
 * only after apply. Replacements come from a curated table of replacement-forcing attributes and moves
 * from matching a deleted resource with a created one of the same type and the same identity.
 */
import { diffValues, formatPath, schemaPath, type RawChange } from "./diff";
import { keptWhenRemoved, onlyTheDefault, replacementAttribute } from "./replacement";
import { isStatefulType, weakenedProtection, whatIsLost } from "./risk";
import type { SynthOutput, SynthResource, SynthStack } from "./synth-output";
import { maxRisk, type AttributeChange, type ResourceReview, type Risk, type StackReview } from "./types";

/** Attributes that name the real object behind a resource, by type; all must match for a move. */
const IDENTITY_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_s3_bucket: ["bucket"],
  aws_ecr_repository: ["name"],
  aws_eks_cluster: ["name"],
  aws_eks_node_group: ["cluster_name", "node_group_name"],
  aws_db_instance: ["identifier"],
  aws_iam_role_policy_attachment: ["role", "policy_arn"],
  aws_iam_role_policy: ["role", "name"],
  aws_cloudwatch_metric_alarm: ["alarm_name"],
  aws_cloudwatch_dashboard: ["dashboard_name"],
};

/** Attributes tried, in order, for types not in {@link IDENTITY_ATTRIBUTES}. */
const GENERIC_IDENTITY = ["name", "bucket", "identifier", "repository"];

function identityAttributes(type: string): readonly string[] | undefined {
  return IDENTITY_ATTRIBUTES[type];
}

/** Rewrites references to moved resources (`${aws_s3_bucket.Old.id}` → `${aws_s3_bucket.New.id}`). */
function rewriteReferences(
  body: Record<string, unknown>,
  renames: ReadonlyMap<string, string>,
): Record<string, unknown> {
  if (renames.size === 0) return body;
  let text = JSON.stringify(body);
  for (const [from, to] of renames) {
    const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    text = text.replace(new RegExp(`(?<![\\w.-])${escaped}(?=[.\\[}),\\s])`, "g"), to);
  }
  return JSON.parse(text) as Record<string, unknown>;
}

function identityOf(
  resource: SynthResource,
  body: Record<string, unknown>,
  literalOnly: boolean,
): string | undefined {
  const attributes =
    identityAttributes(resource.type) ??
    GENERIC_IDENTITY.filter((attribute) => attribute in body).slice(0, 1);
  if (attributes.length === 0) return undefined;
  const values = attributes.map((attribute) => body[attribute]);
  if (values.some((value) => typeof value !== "string" || value === "")) return undefined;
  if (literalOnly && values.some((value) => (value as string).includes("${"))) return undefined;
  return `${resource.type}|${values.join("|")}`;
}

interface Pair {
  readonly from: SynthResource;
  readonly to: SynthResource;
  readonly recognised: boolean;
  readonly fromStack?: string;
}

/**
 * Pairs deleted resources with created ones that are the same object under a new address: first by
 * identity (bucket name, repository name...), then by identical configuration once references to already
 * paired resources are rewritten; repeated until nothing new pairs up, since a renamed bucket's
 * versioning, encryption and policy resources only match once the bucket has.
 */
function pairMoves(
  deleted: Map<string, SynthResource>,
  created: Map<string, SynthResource>,
  renames: Map<string, string>,
): Pair[] {
  const pairs: Pair[] = [];
  const take = (from: SynthResource, to: SynthResource) => {
    pairs.push({ from, to, recognised: false });
    deleted.delete(from.address);
    created.delete(to.address);
    if (from.mode === "managed") renames.set(from.address, to.address);
  };
  const uniqueMatches = (key: (r: SynthResource, body: Record<string, unknown>) => string | undefined) => {
    const byKey = new Map<string, { from: SynthResource[]; to: SynthResource[] }>();
    const entry = (k: string) => byKey.get(k) ?? byKey.set(k, { from: [], to: [] }).get(k)!;
    for (const resource of deleted.values()) {
      const k = key(resource, rewriteReferences(resource.body, renames));
      if (k) entry(k).from.push(resource);
    }
    for (const resource of created.values()) {
      const k = key(resource, resource.body);
      if (k) entry(k).to.push(resource);
    }
    return [...byKey.values()].filter((group) => group.from.length === 1 && group.to.length === 1);
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const group of uniqueMatches((r, body) => identityOf(r, body, false))) {
      take(group.from[0], group.to[0]);
      changed = true;
    }
    for (const group of uniqueMatches((r, body) => `${r.type}|${JSON.stringify(sortKeys(body))}`)) {
      take(group.from[0], group.to[0]);
      changed = true;
    }
  }
  return pairs;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

function toChanges(raw: RawChange[]): AttributeChange[] {
  return raw.map((change) => ({
    path: formatPath(change.segments),
    before: change.before ?? null,
    after: change.after ?? null,
  }));
}

/** Attribute paths among `raw` that force a replacement of `type`. */
function forcingPaths(type: string, raw: RawChange[]): string[] {
  return raw
    .filter((change) => {
      const path = schemaPath(change.segments);
      if (!replacementAttribute(type, path)) return false;
      // A computed attribute taken out of the configuration keeps its value, and writing out (or dropping)
      // the provider's default changes nothing: no replacement.
      if (change.after === undefined && keptWhenRemoved(type, path)) return false;
      return !onlyTheDefault(type, path, change.before, change.after);
    })
    .map((c) => formatPath(c.segments));
}

function stateful(resource: { type: string; mode?: string }): boolean {
  return resource.mode !== "data" && isStatefulType(resource.type);
}

/** Whether the resource's `lifecycle` block sets `flag` (true, or "true" as cdktf may write it). */
function lifecycleFlag(resource: SynthResource, flag: "prevent_destroy" | "create_before_destroy"): boolean {
  const lifecycle = [resource.body.lifecycle].flat()[0] as Record<string, unknown> | undefined;
  return lifecycle?.[flag] === true || lifecycle?.[flag] === "true";
}

function preventDestroy(resource: SynthResource): boolean {
  return lifecycleFlag(resource, "prevent_destroy");
}

/**
 * Why `prevent_destroy` does not save a resource whose block leaves the configuration: Terraform reads the
 * flag from the resource block, so once the block is deleted or renamed it plans the destroy and applies it.
 * `keep` says how to keep the object instead.
 */
function destroyedDespitePreventDestroy(keep: string): string {
  return (
    "destroyed despite prevent_destroy: the flag only guards a resource whose block is still in the " +
    `configuration, so Terraform plans the destroy and the apply carries it out. To keep it, ${keep}`
  );
}

/** How to keep an object whose resource block is deleted, for {@link destroyedDespitePreventDestroy}. */
const KEEP_DELETED =
  "restore the resource block, or forget it with a `removed` block with `lifecycle { destroy = false }` " +
  "(the object stays in AWS, no longer managed)";

function review(
  resource: SynthResource,
  action: ResourceReview["action"],
  risk: Risk,
  reasons: string[],
  changes: AttributeChange[] = [],
  previousAddress?: string,
): ResourceReview {
  return {
    address: resource.address,
    type: resource.type,
    action,
    risk,
    reasons,
    changes,
    ...(previousAddress ? { previousAddress } : {}),
    ...(resource.constructPath ? { constructPath: resource.constructPath } : {}),
  };
}

/** An update, or a replacement when a replacement-forcing attribute changed. */
function reviewChanged(
  before: SynthResource,
  after: SynthResource,
  raw: RawChange[],
  previousAddress?: string,
): ResourceReview {
  const changes = toChanges(raw);
  const weakened = weakenedProtection(after.type, before.body, after.body);
  const forcing = after.mode === "managed" ? forcingPaths(after.type, raw) : [];
  if (forcing.length > 0) {
    const reasons = [
      `${forcing.join(", ")} cannot change in place: Terraform ` +
        (lifecycleFlag(after, "create_before_destroy")
          ? "creates the new one, then destroys the old (create_before_destroy)"
          : "destroys and re-creates it"),
    ];
    if (stateful(after)) reasons.push(`replacing this ${after.type}: ${whatIsLost(after.type)}`);
    // Terraform checks the flag of the block it plans with: the head's. A head that drops the flag in the same
    // change gets its replacement (weakenedProtection reports the removal).
    if (preventDestroy(after)) reasons.push("prevent_destroy is set: the apply will fail until it is lifted");
    return review(
      after,
      "replace",
      stateful(after) || weakened.length ? "high" : "low",
      [...reasons, ...weakened],
      changes,
      previousAddress,
    );
  }
  return review(
    after,
    previousAddress ? "move" : "update",
    weakened.length ? "high" : previousAddress ? "none" : "low",
    weakened,
    changes,
    previousAddress,
  );
}

function reviewDeleted(resource: SynthResource, stack: SynthStack | undefined): ResourceReview {
  if (resource.mode === "data") return review(resource, "delete", "none", []);
  if (stack?.forgotten.has(resource.address)) {
    return review(resource, "delete", "low", [
      "removed block with destroy = false: Terraform forgets it, the object stays in AWS",
    ]);
  }
  const reasons = weakenedProtection(resource.type, resource.body, undefined);
  if (stateful(resource)) reasons.unshift(`deleting this ${resource.type}: ${whatIsLost(resource.type)}`);
  // A removed stack is planned by no one (its objects stay until someone destroys it from its last
  // configuration, which still has the flag); in a stack that remains, the block's removal destroys it.
  const protectedByFlag = stack !== undefined && preventDestroy(resource);
  if (protectedByFlag) reasons.push(destroyedDespitePreventDestroy(KEEP_DELETED));
  if (!stack) reasons.push("its whole stack is removed");
  return review(
    resource,
    "delete",
    stateful(resource) || protectedByFlag || reasons.length > 0 ? "high" : "low",
    reasons,
  );
}

function reviewMove(pair: Pair, renames: ReadonlyMap<string, string> = new Map()): ResourceReview {
  const raw = diffValues(rewriteReferences(pair.from.body, renames), pair.to.body);
  if (pair.recognised) {
    const changed = reviewChanged(pair.from, pair.to, raw, pair.from.address);
    return { ...changed, reasons: [`moved block from ${pair.from.address}`, ...changed.reasons] };
  }
  const reasons: string[] = [];
  if (pair.fromStack) {
    reasons.push(
      `moved from stack ${pair.fromStack}: a moved block cannot cross state files, so Terraform destroys it there and ` +
        "creates it here. Move it with `terraform state rm` in the old stack and an import block in the new one",
    );
  } else {
    reasons.push(
      `needs a moved block: the address changed from ${pair.from.address} (construct id changed), so without ` +
        `one Terraform destroys and re-creates it. Add \`.moveFromId("${pair.from.address}")\` to the new resource, or ` +
        "keep the old construct id",
    );
  }
  if (stateful(pair.to)) reasons.push(`destroying this ${pair.to.type}: ${whatIsLost(pair.to.type)}`);
  const protectedByFlag = preventDestroy(pair.from);
  if (protectedByFlag) {
    reasons.push(
      destroyedDespitePreventDestroy(
        pair.fromStack
          ? `forget it in stack ${pair.fromStack} with a \`removed\` block with \`lifecycle { destroy = false }\` ` +
              "and adopt it here with an import block"
          : `add a moved block from ${pair.from.address} (or keep the old construct id)`,
      ),
    );
  }
  reasons.push(...weakenedProtection(pair.to.type, pair.from.body, pair.to.body));
  const risk: Risk = stateful(pair.to) || protectedByFlag || reasons.length > 1 ? "high" : "low";
  return review(pair.to, "move", risk, reasons, toChanges(raw), pair.from.address);
}

interface StackDiff {
  readonly name: string;
  readonly environment: string;
  readonly base?: SynthStack;
  readonly head?: SynthStack;
  readonly resources: ResourceReview[];
  readonly deleted: Map<string, SynthResource>;
  readonly created: Map<string, SynthResource>;
}

function compareStack(name: string, base: SynthStack | undefined, head: SynthStack | undefined): StackDiff {
  const baseResources = base?.resources ?? new Map<string, SynthResource>();
  const headResources = head?.resources ?? new Map<string, SynthResource>();
  const deleted = new Map([...baseResources].filter(([address]) => !headResources.has(address)));
  const created = new Map([...headResources].filter(([address]) => !baseResources.has(address)));
  const renames = new Map<string, string>();
  const pairs: Pair[] = [];
  for (const block of head?.moved ?? []) {
    const from = deleted.get(block.from);
    const to = created.get(block.to);
    if (from && to) {
      pairs.push({ from, to, recognised: true });
      deleted.delete(block.from);
      created.delete(block.to);
      renames.set(block.from, block.to);
    }
  }
  const managed = (resources: Map<string, SynthResource>) =>
    new Map([...resources].filter(([, resource]) => resource.mode === "managed"));
  const deletedManaged = managed(deleted);
  const createdManaged = managed(created);
  for (const pair of pairMoves(deletedManaged, createdManaged, renames)) {
    pairs.push(pair);
    deleted.delete(pair.from.address);
    created.delete(pair.to.address);
  }

  const resources: ResourceReview[] = pairs.map((pair) => reviewMove(pair, renames));
  for (const [address, after] of headResources) {
    const before = baseResources.get(address);
    if (!before) continue;
    // depends_on only orders operations: a change of it alone changes nothing Terraform applies.
    const raw = diffValues(rewriteReferences(before.body, renames), after.body).filter(
      (change) => change.segments[0] !== "depends_on",
    );
    if (raw.length > 0) resources.push(reviewChanged(before, after, raw));
  }
  return {
    name,
    environment: (head ?? base)!.environment,
    base,
    head,
    resources,
    deleted,
    created,
  };
}

/** Pairs resources deleted from one stack and created in another stack of the same environment. */
function pairAcrossStacks(diffs: StackDiff[]): void {
  const created = diffs.flatMap((diff) =>
    [...diff.created.values()].map((resource) => ({
      diff,
      resource,
      key: identityOf(resource, resource.body, true),
    })),
  );
  for (const diff of diffs) {
    for (const resource of [...diff.deleted.values()]) {
      const key = resource.mode === "managed" ? identityOf(resource, resource.body, true) : undefined;
      if (!key) continue;
      const matches = created.filter(
        (c) => c.key === key && c.diff !== diff && c.diff.environment === diff.environment,
      );
      if (matches.length !== 1 || !matches[0].diff.created.has(matches[0].resource.address)) continue;
      const target = matches[0];
      diff.deleted.delete(resource.address);
      target.diff.created.delete(target.resource.address);
      target.diff.resources.push(
        reviewMove({ from: resource, to: target.resource, recognised: false, fromStack: diff.name }),
      );
    }
  }
}

/** Compares every stack of `base` with `head`, resource by resource. */
export function compareSynth(base: SynthOutput, head: SynthOutput): StackReview[] {
  const names = [...new Set([...base.keys(), ...head.keys()])].sort();
  const diffs = names.map((name) => compareStack(name, base.get(name), head.get(name)));
  pairAcrossStacks(diffs);
  return diffs
    .map((diff) => {
      const resources = [...diff.resources];
      for (const resource of diff.deleted.values()) resources.push(reviewDeleted(resource, diff.head));
      for (const resource of diff.created.values()) {
        const imported = diff.head?.imports.has(resource.address);
        resources.push(
          review(
            resource,
            imported ? "import" : "create",
            "none",
            imported ? ["adopted by an import block: nothing new is created"] : [],
          ),
        );
      }
      return { stack: diff.name, environment: diff.environment, resources };
    })
    .filter((stack) => stack.resources.length > 0);
}

/** The risk of a whole stack: its riskiest resource. */
export function stackRisk(stack: StackReview): Risk {
  return stack.resources.reduce<Risk>((risk, resource) => maxRisk(risk, resource.risk), "none");
}
