import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments/schema";
import { MlopsStack, type SynthOptions } from "./mlops-stack";
import { addPlatformMonitoring } from "./monitoring";

/**
 * `<project>-<env>-platform`: compute and operations on AWS (network, EKS and its GPU node groups, the
 * model registry's database, SageMaker endpoints, alarms, budgets, CI roles). It plans without any other
 * stack's state: what it needs from the data stack it takes by name from the environment's configuration.
 */
export class PlatformStack extends MlopsStack {
  constructor(scope: Construct, config: EnvironmentConfig, options: SynthOptions = {}) {
    super(scope, { ...options, config, part: "platform" });
    addPlatformMonitoring(this);
  }
}
