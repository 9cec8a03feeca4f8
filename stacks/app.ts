import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "cdktf";
import { compareCodeUnits } from "../constructs/core/order";
import { POLICY_REPORT_FILE, policyReport } from "../constructs/policy/report";
import type { EnvironmentConfig } from "../environments/schema";
import { BootstrapStack } from "./bootstrap-stack";
import { ClusterStack } from "./cluster-stack";
import { DataStack } from "./data-stack";
import type { MlopsStack, SynthOptions } from "./mlops-stack";
import { PlatformStack } from "./platform-stack";

/** The stacks of one environment, in the order they deploy. */
export interface EnvironmentStacks {
  readonly bootstrap: BootstrapStack;
  readonly data: DataStack;
  readonly platform: PlatformStack;
  readonly cluster: ClusterStack;
}

/**
 * Adds one environment's stacks to `app`. Dependencies are declared explicitly (no resource crosses a
 * stack boundary), so `cdktf deploy 'mlops-dev-*'` deploys them in order.
 */
export function addEnvironment(
  app: App,
  config: EnvironmentConfig,
  options: SynthOptions = {},
): EnvironmentStacks {
  const bootstrap = new BootstrapStack(app, config, options);
  const data = new DataStack(app, config, options);
  const platform = new PlatformStack(app, config, options);
  const cluster = new ClusterStack(app, config, options);
  data.addDependency(bootstrap);
  platform.addDependency(data);
  cluster.addDependency(platform);
  return { bootstrap, data, platform, cluster };
}

/** Properties of {@link buildApp}. */
export interface BuildAppProps extends SynthOptions {
  readonly environments: readonly EnvironmentConfig[];
  /** @default "cdktf.out" */
  readonly outdir?: string;
}

/** The cdktf app with the stacks of every environment given. */
export function buildApp(props: BuildAppProps): { app: App; stacks: Map<string, EnvironmentStacks> } {
  // skipValidation stays off: construct validations (the policy pack among them) run on every synth.
  const app = new App({ outdir: props.outdir ?? "cdktf.out", skipBackendValidation: false });
  const stacks = new Map<string, EnvironmentStacks>();
  for (const config of props.environments) {
    stacks.set(config.name, addEnvironment(app, config, { offline: props.offline, policy: props.policy }));
  }
  return { app, stacks };
}

/** Every stack of an environment, flattened (for tests and tools). */
export function allStacks(stacks: EnvironmentStacks): MlopsStack[] {
  return Object.values(stacks) as MlopsStack[];
}

/**
 * Writes the policy findings of the last synth of `stacks` to `policy-report.json` in `outdir`, in the shape
 * `npm run policy -- --format json` prints. The app does so in report mode, where findings do not stop
 * synthesis, so that the review reads them instead of evaluating the rules over the output again.
 */
export function writePolicyReport(outdir: string, stacks: ReadonlyMap<string, EnvironmentStacks>): void {
  // In the order of cdktf's manifest (by stack name), which `npm run policy` reads.
  const ordered = [...stacks.values()]
    .flatMap(allStacks)
    .sort((a, b) => compareCodeUnits(a.node.id, b.node.id));
  const findings = ordered.flatMap((stack) => {
    const found = stack.policy.lastFindings;
    if (!found)
      throw new Error(`${stack.node.id}: the policy pack has not run; synthesize before writing its report`);
    return found;
  });
  writeFileSync(join(outdir, POLICY_REPORT_FILE), `${JSON.stringify(policyReport(findings), null, 2)}\n`);
}
