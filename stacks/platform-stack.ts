import type { Construct } from "constructs";
import { GithubOidcRoles } from "../constructs/security/github-oidc-roles";
import type { EnvironmentConfig } from "../environments/schema";
import { MlopsStack, type SynthOptions } from "./mlops-stack";
import { addPlatformMonitoring } from "./monitoring";

/**
 * `<project>-<env>-platform`: compute and operations on AWS (network, EKS and its GPU node groups, the
 * model registry's database, SageMaker endpoints, alarms, budgets, CI roles). It plans without any other
 * stack's state: what it needs from the data stack it takes by name from the environment's configuration.
 */
export class PlatformStack extends MlopsStack {
  /** The roles GitHub Actions plans and deploys with (when `ci.github.repository` is set). */
  readonly ciRoles?: GithubOidcRoles;

  constructor(scope: Construct, config: EnvironmentConfig, options: SynthOptions = {}) {
    super(scope, { ...options, config, part: "platform" });

    const github = config.ci.github;
    if (github.repository) {
      this.ciRoles = new GithubOidcRoles(this, "GithubCi", {
        location: this.location,
        repository: github.repository,
        planRoleName: this.naming.name("iamRole", "github-plan"),
        deployRoleName: this.naming.name("iamRole", "github-deploy"),
        stateBucket: config.state.bucket,
        stateKeyPrefix: `${config.name}/`,
        stateKeyAlias: `alias/${this.naming.name("kmsAlias", "tfstate")}`,
        iamNamePrefix: `${this.naming.prefix}-`,
        planBranches: github.planBranches,
        planPullRequests: github.planPullRequests,
        deployEnvironments: github.deployEnvironments ?? [config.name],
        createOidcProvider: github.createOidcProvider,
        maxSessionSeconds: github.maxSessionSeconds,
        preventDestroy: config.protection.preventDestroy,
      });
    }

    addPlatformMonitoring(this);
  }
}
