/**
 * The `ci` section: who may plan and deploy this environment from CI. GitHub Actions gets short-lived
 * credentials through the account's GitHub OIDC provider; the roles trust one repository and only the
 * branches, pull requests and GitHub environments named here (never a wildcard).
 */
import { z } from "zod";
import type { Tier } from "../tier";

const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const BRANCH = /^[A-Za-z0-9._/-]{1,100}$/;
const ENVIRONMENT = /^[A-Za-z0-9._-]{1,100}$/;

/** The `ci` section of an environment file, with `tier`'s defaults. */
// The tier does not change CI defaults today; the parameter keeps every section's signature alike.
export function ciSection(_tier: Tier) {
  return z
    .strictObject({
      github: z
        .strictObject({
          /**
           * `owner/name` of the GitHub repository whose workflows may assume the roles. Without it no CI
           * identity is created.
           */
          repository: z
            .string()
            .regex(REPOSITORY, "must be a GitHub repository as owner/name, without wildcards")
            .optional(),
          /**
           * Create the account's GitHub OIDC provider here. An account holds one provider per URL, so when
           * environments share an account exactly one of them creates it: the loader refuses two environment
           * files of one account that both create it.
           */
          createOidcProvider: z.boolean().default(true),
          /**
           * Branches whose workflows may plan (pushes to them, and `workflow_dispatch` on them). Their plan
           * role may read the cluster's Secrets (`clusterAccess`): list protected branches only.
           */
          planBranches: z
            .array(z.string().regex(BRANCH, "must be a branch name without wildcards"))
            .min(1, "must name at least 1 branch")
            .default(["main"]),
          /**
           * Whether pull requests (from this repository) may plan, with a read-only role of their own
           * (`<project>-<env>-github-pr-plan`) that has no access to the cluster.
           */
          planPullRequests: z.boolean().default(true),
          /**
           * GitHub environments whose jobs may deploy. Put approvals on them in the repository settings. The
           * loader refuses the name of another environment file loaded with this one: its GitHub environment
           * has that environment's protection rules (none for dev), not this one's.
           * @default the environment's own name
           */
          deployEnvironments: z
            .array(z.string().regex(ENVIRONMENT, "must be a GitHub environment name without wildcards"))
            .min(1, "must name at least 1 GitHub environment")
            .optional(),
          /**
           * Give the deploy role and the branches' plan role access to the environment's EKS cluster through
           * access entries, so that CI can plan and apply the stacks that use the Kubernetes and Helm
           * providers: the deploy role as cluster admin (`AmazonEKSClusterAdminPolicy`), the plan role read
           * access to every resource, Secrets included (`AmazonEKSAdminViewPolicy`: the Helm provider reads its
           * releases from Secrets). The pull requests' role gets none. Ignored when `aws.assumeRoleArn` is set:
           * Terraform then works as that role, which needs an entry of its own (`cluster.adminRoleArns`).
           */
          clusterAccess: z.boolean().default(true),
          /** Longest session of every CI role, in seconds. */
          maxSessionSeconds: z
            .number()
            .int()
            .min(3600, "must be at least 3600")
            .max(43200, "must be at most 43200")
            .default(3600),
        })
        .prefault({}),
    })
    .prefault({});
}
