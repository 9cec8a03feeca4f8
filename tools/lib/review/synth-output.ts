/**
 * Synthesized configuration (`cdktf.out`) read as plain data: the stacks of every environment and their
 * resources keyed by Terraform address. Tools read this JSON only, never the constructs that produced it,
 * so they keep working if the project moves to CDK Terrain or plain HCL.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One resource or data source of a stack. */
export interface SynthResource {
  /** `aws_s3_bucket.RawBucket` or `data.aws_iam_policy_document.Trust`. */
  readonly address: string;
  readonly type: string;
  readonly name: string;
  readonly mode: "managed" | "data";
  /** The configuration without cdktf's `//` metadata. */
  readonly body: Record<string, unknown>;
  /** The construct path cdktf recorded (`mlops-dev-data/RawBucket/Resource`). */
  readonly constructPath?: string;
}

/** A `moved` block. */
export interface MovedBlock {
  readonly from: string;
  readonly to: string;
}

/** One synthesized stack. */
export interface SynthStack {
  readonly name: string;
  readonly environment: string;
  readonly dependencies: readonly string[];
  readonly resources: ReadonlyMap<string, SynthResource>;
  readonly moved: readonly MovedBlock[];
  /** Addresses adopted by `import` blocks. */
  readonly imports: ReadonlySet<string>;
  /** Addresses forgotten by `removed` blocks with `lifecycle.destroy = false` (kept in AWS). */
  readonly forgotten: ReadonlySet<string>;
}

/** Every stack of a synthesized app, by name. */
export type SynthOutput = ReadonlyMap<string, SynthStack>;

type Blocks = Record<string, Record<string, Record<string, unknown>>>;

interface StackJson {
  readonly resource?: Blocks;
  readonly data?: Blocks;
  readonly provider?: Record<string, unknown>;
  readonly moved?: { from: string; to: string }[];
  readonly import?: { to: string }[];
  readonly removed?: { from: string; lifecycle?: { destroy?: boolean } | { destroy?: boolean }[] }[];
}

/** Removes cdktf's `//` metadata at every level. */
function stripMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripMetadata);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => key !== "//")
        .map(([key, inner]) => [key, stripMetadata(inner)]),
    );
  }
  return value;
}

/**
 * The environment a stack belongs to: the `Environment` default tag of its AWS provider, else the
 * second-to-last part of a `<project>-<env>-<part>` stack name.
 */
export function environmentOf(stackName: string, json: StackJson): string {
  const providers = [json.provider?.aws].flat().filter(Boolean) as {
    default_tags?: { tags?: Record<string, string> }[];
  }[];
  for (const provider of providers) {
    const tag = [provider.default_tags].flat()[0]?.tags?.Environment;
    if (tag) return tag;
  }
  const parts = stackName.split("-");
  return parts.length >= 3 ? parts[parts.length - 2] : stackName;
}

/** Parses one stack's `cdk.tf.json` object. */
export function parseStack(name: string, json: StackJson, dependencies: readonly string[] = []): SynthStack {
  const resources = new Map<string, SynthResource>();
  const add = (blocks: Blocks | undefined, mode: "managed" | "data") => {
    for (const [type, byName] of Object.entries(blocks ?? {})) {
      for (const [resourceName, raw] of Object.entries(byName)) {
        const address = `${mode === "data" ? "data." : ""}${type}.${resourceName}`;
        const metadata = (raw["//"] as { metadata?: { path?: string } } | undefined)?.metadata;
        resources.set(address, {
          address,
          type,
          name: resourceName,
          mode,
          body: stripMetadata(raw) as Record<string, unknown>,
          constructPath: metadata?.path,
        });
      }
    }
  };
  add(json.resource, "managed");
  add(json.data, "data");
  const forgotten = (json.removed ?? []).filter((block) => [block.lifecycle].flat()[0]?.destroy === false);
  return {
    name,
    environment: environmentOf(name, json),
    dependencies,
    resources,
    moved: (json.moved ?? []).map(({ from, to }) => ({ from, to })),
    imports: new Set((json.import ?? []).map((block) => block.to)),
    forgotten: new Set(forgotten.map((block) => block.from)),
  };
}

/** Reads every stack of a cdktf output folder through its `manifest.json`. */
export function readSynthOutput(outdir: string): SynthOutput {
  const manifestPath = join(outdir, "manifest.json");
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath} not found: synthesize first`);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    stacks: Record<string, { name: string; dependencies?: string[]; synthesizedStackPath: string }>;
  };
  const stacks = new Map<string, SynthStack>();
  for (const entry of Object.values(manifest.stacks)) {
    const json = JSON.parse(readFileSync(join(outdir, entry.synthesizedStackPath), "utf8")) as StackJson;
    stacks.set(entry.name, parseStack(entry.name, json, entry.dependencies ?? []));
  }
  return stacks;
}
