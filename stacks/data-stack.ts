import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments/schema";
import { MlopsStack, type SynthOptions } from "./mlops-stack";

/**
 * `<project>-<env>-data`: the environment's stateful resources (encryption keys, data buckets, container
 * registries), kept apart from compute so that a compute change can never plan their destruction.
 * Other stacks refer to them by their deterministic names, never through cross-stack references.
 */
export class DataStack extends MlopsStack {
  constructor(scope: Construct, config: EnvironmentConfig, options: SynthOptions = {}) {
    super(scope, { ...options, config, part: "data" });
  }
}
