import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { arn, bucketArn, partitionOf, type AwsLocation } from "../core/arn";
import { GITHUB_OIDC_HOST } from "../core/iam";
import { NAME_LIMITS, shorten } from "../core/naming";
import { PolicySuppressions } from "../policy/policy-suppressions";
import { recordPackageVersion } from "../core/package-info";
import { BOUNDED_ROLE_ACTIONS } from "./permissions-boundary-policy";

/** Properties of {@link GithubOidcRoles}. */
export interface GithubOidcRolesProps {
  /** Account and region of the environment. */
  readonly location: AwsLocation;
  /** `owner/name` of the only repository whose workflows may assume the roles. */
  readonly repository: string;
  /** Name of the read-only plan role of the branches. */
  readonly planRoleName: string;
  /**
   * Name of the read-only plan role of pull requests (created when `planPullRequests` is true).
   * @default `<planRoleName>-pr` (shortened to IAM's 64 characters)
   */
  readonly pullRequestPlanRoleName?: string;
  /** Name of the deploy role. */
  readonly deployRoleName: string;
  /** Bucket holding this environment's Terraform state. */
  readonly stateBucket: string;
  /** Key prefix of this environment's state objects, such as `dev/`. */
  readonly stateKeyPrefix: string;
  /** Alias of the KMS key that encrypts state objects (`alias/mlops-dev-tfstate`). */
  readonly stateKeyAlias: string;
  /**
   * Region of the state bucket and its key.
   * @default the region of `location`
   */
  readonly stateRegion?: string;
  /** Prefix of the names of IAM roles and policies the deploy role may manage, such as `mlops-dev-`. */
  readonly iamNamePrefix: string;
  /**
   * Branches whose workflow runs may plan.
   * @default ["main"]
   */
  readonly planBranches?: readonly string[];
  /**
   * Whether pull-request workflow runs may plan, with a role of their own.
   * @default true
   */
  readonly planPullRequests?: boolean;
  /**
   * Names of Secrets Manager secrets whose values the branches' plan role may read: Terraform reads a secret
   * version's value whenever it refreshes it, write-only or not. Never given to the pull requests' role.
   * @default none
   */
  readonly planReadableSecrets?: readonly string[];
  /** GitHub environments whose jobs may deploy (protect them with required reviewers). */
  readonly deployEnvironments: readonly string[];
  /**
   * Create the account's GitHub OIDC provider; leave it to another environment in the same account when
   * false (the provider is then referred to by its deterministic ARN).
   * @default true
   */
  readonly createOidcProvider?: boolean;
  /**
   * Longest session of every role, in seconds.
   * @default 3600
   */
  readonly maxSessionSeconds?: number;
  /**
   * `lifecycle.prevent_destroy` on the OIDC provider, which every CI run of the account depends on.
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * ARN of a permissions boundary (such as a `PermissionsBoundaryPolicy`): the three roles carry it, and the deploy
   * role may create a role, or change a role's policies, only when that role carries it too. Without one, the
   * deploy role's limit to roles named with `iamNamePrefix` does not hold: it can create a role with any policy
   * and assume it.
   * @default - no boundary
   */
  readonly permissionsBoundaryArn?: string;
}

const WILDCARD = /[*?]/;

/**
 * The identities CI uses in one environment: the account's GitHub OIDC provider and three roles.
 * - **plan**: AWS `ReadOnlyAccess` plus reading (never writing) the environment's state, for
 *   `terraform plan -lock=false` on the allowed branches.
 * - **pull-request plan**: the same rights, for pull requests of the repository, but no data: it may not read
 *   log events, image layers, objects other than the state, or secret values. A separate role, because a
 *   pull request's workflow runs the code of its branch: whatever the branch plan role is given beyond this
 *   (such as access to the cluster) stays out of reach of anyone who can push a branch.
 * - **deploy**: `PowerUserAccess` plus IAM only on roles and policies named with the environment's prefix,
 *   and state read/write, for jobs of the allowed GitHub environments (which carry the approvals). Give it a
 *   `permissionsBoundaryArn`: a role that may create roles and put any policy on them can otherwise make
 *   itself an administrator, whatever their names.
 *
 * Trust is limited to one repository and to exact `sub` claims (`repo:o/r:ref:refs/heads/main`,
 * `repo:o/r:pull_request`, `repo:o/r:environment:prod`) with audience `sts.amazonaws.com`; a wildcard is
 * refused.
 *
 * @example
 * const ci = new GithubOidcRoles(this, "GithubCi", {
 *   location: { accountId: "111111111111", region: "eu-west-1" },
 *   repository: "acme/mlops-platform",
 *   planRoleName: "mlops-dev-github-plan",
 *   deployRoleName: "mlops-dev-github-deploy",
 *   stateBucket: "mlops-dev-tfstate-111111111111",
 *   stateKeyPrefix: "dev/",
 *   stateKeyAlias: "alias/mlops-dev-tfstate",
 *   iamNamePrefix: "mlops-dev-",
 *   deployEnvironments: ["dev"],
 * });
 * ci.planRoleArn; // role-to-assume of the deploy workflow's plan jobs
 * ci.pullRequestPlanRoleArn; // role-to-assume of the pull-request workflow
 */
export class GithubOidcRoles extends Construct {
  /** The OIDC provider, when this construct created it. */
  readonly provider?: IamOpenidConnectProvider;
  /** ARN of the account's GitHub OIDC provider (deterministic, whoever created it). */
  readonly providerArn: string;
  /** The plan role of the branches. */
  readonly planRole: IamRole;
  /** The plan role of pull requests (when they may plan). */
  readonly pullRequestPlanRole?: IamRole;
  readonly deployRole: IamRole;
  /** ARN of the plan role, known at synth (built from its name). */
  readonly planRoleArn: string;
  /** ARN of the pull requests' plan role (when they may plan), known at synth. */
  readonly pullRequestPlanRoleArn?: string;
  /** ARN of the deploy role, known at synth (built from its name). */
  readonly deployRoleArn: string;

  constructor(scope: Construct, id: string, props: GithubOidcRolesProps) {
    super(scope, id);
    recordPackageVersion(this);
    const planBranches = props.planBranches ?? ["main"];
    const claims = [props.repository, ...planBranches, ...props.deployEnvironments];
    const bad = claims.find((claim) => WILDCARD.test(claim));
    if (bad !== undefined) {
      throw new Error(
        `${this.node.path}: "${bad}" contains a wildcard; GitHub OIDC trust must name the repository, branches and environments exactly`,
      );
    }
    if (props.deployEnvironments.length === 0) {
      throw new Error(
        `${this.node.path}: deployEnvironments is empty; name the GitHub environment(s) that may deploy`,
      );
    }
    const { location } = props;
    const partition = partitionOf(location.region);
    this.providerArn = arn(location, "iam", `oidc-provider/${GITHUB_OIDC_HOST}`, { global: true });
    if (props.createOidcProvider ?? true) {
      // thumbprint_list is optional in AWS provider 5.x: IAM trusts GitHub's certificate authority itself.
      this.provider = new IamOpenidConnectProvider(this, "Provider", {
        url: `https://${GITHUB_OIDC_HOST}`,
        clientIdList: ["sts.amazonaws.com"],
        lifecycle: { preventDestroy: props.preventDestroy ?? true },
      });
    }

    const subject = (suffix: string) => `repo:${props.repository}:${suffix}`;
    const planSubjects = planBranches.map((branch) => subject(`ref:refs/heads/${branch}`));
    const deploySubjects = props.deployEnvironments.map((environment) =>
      subject(`environment:${environment}`),
    );
    const trust = (subjects: string[]) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "GithubActionsOfThisRepositoryOnly",
            Effect: "Allow",
            Principal: { Federated: this.providerArn },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: {
                [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com",
                [`${GITHUB_OIDC_HOST}:sub`]: subjects,
              },
            },
          },
        ],
      });
    const maxSessionDuration = props.maxSessionSeconds ?? 3600;
    const dependsOn = this.provider ? [this.provider] : undefined;

    this.planRole = new IamRole(this, "PlanRole", {
      name: props.planRoleName,
      description: `Read-only terraform plan from GitHub Actions of ${props.repository}`,
      assumeRolePolicy: trust(planSubjects),
      maxSessionDuration,
      permissionsBoundary: props.permissionsBoundaryArn,
      dependsOn,
    });
    const pullRequestPlanRoleName =
      props.pullRequestPlanRoleName ?? shorten(`${props.planRoleName}-pr`, NAME_LIMITS.iamRole.maxLength);
    if (props.planPullRequests ?? true) {
      this.pullRequestPlanRole = new IamRole(this, "PullRequestPlanRole", {
        name: pullRequestPlanRoleName,
        description: `Read-only terraform plan from pull requests of ${props.repository}`,
        assumeRolePolicy: trust([subject("pull_request")]),
        maxSessionDuration,
        permissionsBoundary: props.permissionsBoundaryArn,
        dependsOn,
      });
      this.pullRequestPlanRoleArn = arn(location, "iam", `role/${pullRequestPlanRoleName}`, { global: true });
    }
    this.deployRole = new IamRole(this, "DeployRole", {
      name: props.deployRoleName,
      description: `terraform apply from GitHub Actions of ${props.repository} (approved GitHub environments only)`,
      assumeRolePolicy: trust(deploySubjects),
      maxSessionDuration,
      permissionsBoundary: props.permissionsBoundaryArn,
      dependsOn,
    });
    this.planRoleArn = arn(location, "iam", `role/${props.planRoleName}`, { global: true });
    this.deployRoleArn = arn(location, "iam", `role/${props.deployRoleName}`, { global: true });

    const readers = [
      { id: "Plan", role: this.planRole },
      ...(this.pullRequestPlanRole ? [{ id: "PullRequestPlan", role: this.pullRequestPlanRole }] : []),
    ];
    for (const { id: readerId, role } of readers) {
      new IamRolePolicyAttachment(this, `${readerId}ReadOnly`, {
        role: role.name,
        policyArn: `arn:${partition}:iam::aws:policy/ReadOnlyAccess`,
      });
    }
    const deployPowerUser = new IamRolePolicyAttachment(this, "DeployPowerUser", {
      role: this.deployRole.name,
      policyArn: `arn:${partition}:iam::aws:policy/PowerUserAccess`,
    });
    PolicySuppressions.add(
      deployPowerUser,
      "MLOPS-IAM-003",
      "Terraform's deploy role creates every kind of platform resource; it is trusted only from the approved " +
        "GitHub environment of this repository, and its IAM rights are limited to the environment's own prefix",
    );

    const state = bucketArn(location.region, props.stateBucket);
    const stateObjects = `${state}/${props.stateKeyPrefix}*`;
    // The state key's ARN is random; its alias is not, so the grant names any key that carries the alias.
    const stateKey = {
      Resource: arn({ ...location, region: props.stateRegion ?? location.region }, "kms", "key/*"),
      Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": props.stateKeyAlias } },
    };
    for (const { id: readerId, role } of readers) {
      new IamRolePolicy(this, `${readerId}StateRead`, {
        role: role.name,
        name: "terraform-state-read",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "ListState", Effect: "Allow", Action: "s3:ListBucket", Resource: state },
            { Sid: "ReadState", Effect: "Allow", Action: "s3:GetObject", Resource: stateObjects },
            { Sid: "DecryptState", Effect: "Allow", Action: "kms:Decrypt", ...stateKey },
          ],
        }),
      });
    }

    if (this.pullRequestPlanRole) {
      // A plan reads the configuration of resources, never their data; what ReadOnlyAccess gives beyond that
      // (log events, image layers, objects) is kept from whoever can push a branch.
      new IamRolePolicy(this, "PullRequestPlanReadsNoData", {
        role: this.pullRequestPlanRole.name,
        name: "no-data-reads",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "NoLogEvents",
              Effect: "Deny",
              Action: [
                "logs:FilterLogEvents",
                "logs:GetLogEvents",
                "logs:GetLogRecord",
                "logs:GetQueryResults",
                "logs:StartLiveTail",
                "logs:StartQuery",
              ],
              Resource: "*",
            },
            {
              Sid: "NoImageLayers",
              Effect: "Deny",
              Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
              Resource: "*",
            },
            {
              Sid: "NoObjectsButTheState",
              Effect: "Deny",
              Action: ["s3:GetObject", "s3:GetObjectVersion"],
              NotResource: stateObjects,
            },
            { Sid: "NoSecretValues", Effect: "Deny", Action: "secretsmanager:GetSecretValue", Resource: "*" },
          ],
        }),
      });
    }

    const readableSecrets = (props.planReadableSecrets ?? []).map((name) =>
      // Secrets Manager appends a hyphen and six random characters to a secret's name in its ARN.
      arn(location, "secretsmanager", `secret:${name}-??????`),
    );
    if (readableSecrets.length > 0) {
      new IamRolePolicy(this, "PlanSecretsRead", {
        role: this.planRole.name,
        name: "terraform-secrets-read",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReadManagedSecrets",
              Effect: "Allow",
              Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
              Resource: readableSecrets,
            },
            {
              Sid: "DecryptManagedSecrets",
              Effect: "Allow",
              Action: "kms:Decrypt",
              Resource: arn(location, "kms", "key/*"),
              Condition: {
                StringEquals: { "kms:ViaService": `secretsmanager.${location.region}.amazonaws.com` },
                StringLike: { "kms:EncryptionContext:SecretARN": readableSecrets },
              },
            },
            {
              // Ephemeral aws_secretsmanager_random_password is opened in plans too; it reads no secret.
              Sid: "GenerateRandomPasswords",
              Effect: "Allow",
              Action: "secretsmanager:GetRandomPassword",
              Resource: "*",
            },
          ],
        }),
      });
    }

    const iam = (kind: string) => arn(location, "iam", `${kind}/${props.iamNamePrefix}*`, { global: true });
    const boundary = props.permissionsBoundaryArn;
    new IamRolePolicy(this, "DeployStateAndIam", {
      role: this.deployRole.name,
      name: "terraform-state-and-own-iam",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "ListState", Effect: "Allow", Action: "s3:ListBucket", Resource: state },
          {
            Sid: "ReadWriteStateAndLocks",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            Resource: stateObjects,
          },
          {
            Sid: "UseStateKey",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            ...stateKey,
          },
          ...(boundary
            ? [
                {
                  Sid: "CreateAndChangeOwnRolesWithinTheBoundary",
                  Effect: "Allow",
                  Action: [...BOUNDED_ROLE_ACTIONS],
                  Resource: iam("role"),
                  Condition: { StringEquals: { "iam:PermissionsBoundary": boundary } },
                },
              ]
            : []),
          {
            Sid: "ManageOwnRolesAndPolicies",
            Effect: "Allow",
            Action: [
              ...(boundary ? [] : BOUNDED_ROLE_ACTIONS),
              "iam:DeleteRole",
              "iam:UpdateRole",
              "iam:UpdateRoleDescription",
              "iam:UpdateAssumeRolePolicy",
              "iam:TagRole",
              "iam:UntagRole",
              "iam:PassRole",
              "iam:CreatePolicy",
              "iam:DeletePolicy",
              "iam:CreatePolicyVersion",
              "iam:DeletePolicyVersion",
              "iam:TagPolicy",
              "iam:UntagPolicy",
              "iam:CreateInstanceProfile",
              "iam:DeleteInstanceProfile",
              "iam:AddRoleToInstanceProfile",
              "iam:RemoveRoleFromInstanceProfile",
              "iam:TagInstanceProfile",
            ],
            Resource: [iam("role"), iam("policy"), iam("instance-profile")],
          },
          {
            Sid: "ReadOwnIam",
            Effect: "Allow",
            Action: ["iam:Get*", "iam:List*"],
            Resource: [
              iam("role"),
              iam("policy"),
              iam("instance-profile"),
              this.providerArn,
              `arn:${partition}:iam::aws:policy/*`,
            ],
          },
          {
            Sid: "ManageGithubOidcProvider",
            Effect: "Allow",
            Action: [
              "iam:CreateOpenIDConnectProvider",
              "iam:DeleteOpenIDConnectProvider",
              "iam:UpdateOpenIDConnectProviderThumbprint",
              "iam:AddClientIDToOpenIDConnectProvider",
              "iam:RemoveClientIDFromOpenIDConnectProvider",
              "iam:TagOpenIDConnectProvider",
              "iam:UntagOpenIDConnectProvider",
            ],
            Resource: this.providerArn,
          },
          {
            Sid: "CreateServiceLinkedRoles",
            Effect: "Allow",
            Action: "iam:CreateServiceLinkedRole",
            Resource: arn(location, "iam", "role/aws-service-role/*", { global: true }),
          },
        ],
      }),
    });
  }
}
