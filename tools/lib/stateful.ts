/**
 * The inventory of stateful resource addresses (`environments/stateful-addresses.json`): what it records, and
 * how a synthesis compares with it. A stateful resource whose address disappears without a `moved` block would
 * be destroyed and recreated empty by Terraform; the inventory makes that visible in tests and in the diff.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compareCodeUnits } from "../../constructs/core/order";
import type { SynthesizedStackJson } from "../../constructs/policy/engine";
import { movedAddresses, statefulAddresses } from "../../constructs/policy/stateful";

/** The committed inventory: environment → stack → sorted addresses. */
export type StatefulInventory = Record<string, Record<string, string[]>>;

/** Where the inventory lives, relative to the project root. */
export const INVENTORY_FILE = join("environments", "stateful-addresses.json");

/** One synthesized stack, as the comparison needs it. */
export interface SynthesizedStack {
  readonly environment: string;
  readonly stack: string;
  readonly json: SynthesizedStackJson;
}

/** The inventory of a set of synthesized stacks (stacks without stateful resources are left out). */
export function inventoryOf(stacks: readonly SynthesizedStack[]): StatefulInventory {
  const inventory: StatefulInventory = {};
  for (const { environment, stack, json } of [...stacks].sort((a, b) => compareCodeUnits(a.stack, b.stack))) {
    const addresses = statefulAddresses(json);
    if (addresses.length === 0) continue;
    inventory[environment] ??= {};
    inventory[environment][stack] = addresses;
  }
  return Object.fromEntries(Object.entries(inventory).sort(([a], [b]) => compareCodeUnits(a, b)));
}

/** The stacks of a cdktf output folder, with the environment each belongs to (from the policy stamp). */
export function readStacks(outdir: string): SynthesizedStack[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    stacks: Record<string, { name: string; synthesizedStackPath: string }>;
  };
  return Object.values(manifest.stacks).map((entry) => {
    const json = JSON.parse(
      readFileSync(join(outdir, entry.synthesizedStackPath), "utf8"),
    ) as SynthesizedStackJson;
    return { environment: json["//"]?.policy?.environment ?? "unknown", stack: entry.name, json };
  });
}

/** What differs between the recorded inventory and a synthesis. */
export interface InventoryDifferences {
  /** Recorded addresses that are gone with no `moved` block to a current address: Terraform would destroy them. */
  readonly disappeared: readonly { stack: string; address: string }[];
  /** Recorded addresses that a `moved` block carries to a new address (safe; the inventory is out of date). */
  readonly moved: readonly { stack: string; from: string; to: string }[];
  /** Current addresses the inventory does not list yet. */
  readonly unrecorded: readonly { stack: string; address: string }[];
}

/** Compares the inventory with the synthesized stacks of the environments it and they cover. */
export function compareInventory(
  recorded: StatefulInventory,
  stacks: readonly SynthesizedStack[],
): InventoryDifferences {
  const current = inventoryOf(stacks);
  const moves = new Map(stacks.map((s) => [s.stack, movedAddresses(s.json)]));
  const disappeared: { stack: string; address: string }[] = [];
  const moved: { stack: string; from: string; to: string }[] = [];
  const unrecorded: { stack: string; address: string }[] = [];
  const environments = new Set([...Object.keys(recorded), ...Object.keys(current)]);
  for (const environment of [...environments].sort()) {
    const before = recorded[environment] ?? {};
    const after = current[environment] ?? {};
    for (const stack of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      const now = new Set(after[stack] ?? []);
      const then = new Set(before[stack] ?? []);
      const movedTo = new Set<string>();
      for (const address of then) {
        if (now.has(address)) continue;
        const target = moves.get(stack)?.get(address);
        if (target && now.has(target)) {
          moved.push({ stack, from: address, to: target });
          movedTo.add(target);
        } else disappeared.push({ stack, address });
      }
      for (const address of now) {
        if (!then.has(address) && !movedTo.has(address)) unrecorded.push({ stack, address });
      }
    }
  }
  return { disappeared, moved, unrecorded };
}

/** A message that says what is wrong and how to fix it; empty when the inventory matches. */
export function describeDifferences(differences: InventoryDifferences): string {
  const lines: string[] = [];
  if (differences.disappeared.length > 0) {
    lines.push(
      "Stateful resources disappeared or changed address; Terraform would DESTROY them and their data:",
      ...differences.disappeared.map((d) => `  ${d.stack}: ${d.address}`),
      "How to fix:",
      "  - renamed or moved a construct? Keep its state with a moved block on the new resource, in the same stack:",
      '      resource.moveFromId("<old address above>")   (or oldResource.moveTo(...) / moveToId(...))',
      "    then run `npm run stateful:update` to record the new address;",
      "  - removing it on purpose? Run `npm run stateful:update` and say so in the pull request (in test and prod,",
      "    remove lifecycle.prevent_destroy in a reviewed change first).",
    );
  }
  if (differences.moved.length > 0) {
    lines.push(
      "Stateful resources moved with a moved block (safe); record their new addresses with `npm run stateful:update`:",
      ...differences.moved.map((m) => `  ${m.stack}: ${m.from} -> ${m.to}`),
    );
  }
  if (differences.unrecorded.length > 0) {
    lines.push(
      "New stateful resources are not in environments/stateful-addresses.json yet; record them with `npm run stateful:update`:",
      ...differences.unrecorded.map((u) => `  ${u.stack}: ${u.address}`),
    );
  }
  return lines.join("\n");
}
