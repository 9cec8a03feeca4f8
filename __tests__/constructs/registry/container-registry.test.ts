import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Testing } from "cdktf";
import type { TerraformStack } from "cdktf";
import {
  ContainerRegistry,
  type ContainerRegistryProps,
  lifecyclePolicy,
} from "../../../constructs/registry/container-registry";
import { EncryptionKey } from "../../../constructs/security/encryption-key";
import {
  LOCATION,
  NAMING,
  type StackJson,
  allows,
  onlyResourceOf,
  policyOf,
  statement,
  synthStack,
  testStack,
} from "../../helpers/constructs";

function registryIn(stack: TerraformStack, props: Partial<ContainerRegistryProps> = {}): ContainerRegistry {
  const key = new EncryptionKey(stack, "RegistryKey", {
    naming: NAMING,
    location: LOCATION,
    purpose: "registry",
  });
  return new ContainerRegistry(stack, "Registry", {
    naming: NAMING,
    location: LOCATION,
    encryptionKey: key,
    repositories: { training: {}, inference: {}, mlflow: {} },
    ...props,
  });
}

function synthRegistry(props: Partial<ContainerRegistryProps> = {}): StackJson {
  const stack = testStack();
  registryIn(stack, props);
  return synthStack(stack);
}

const repositoriesOf = (json: StackJson) => Object.values(json.resource?.aws_ecr_repository ?? {});

describe("ContainerRegistry defaults", () => {
  let json: StackJson;
  beforeAll(() => {
    json = synthRegistry();
  });

  test("creates one repository per entry, named <project>-<env>-<name>", () => {
    expect(repositoriesOf(json).map((r) => r.name)).toEqual([
      "mlops-dev-inference",
      "mlops-dev-mlflow",
      "mlops-dev-training",
    ]);
  });

  test("makes every tag immutable", () => {
    for (const repository of repositoriesOf(json)) expect(repository.image_tag_mutability).toBe("IMMUTABLE");
  });

  test("scans every image on push", () => {
    for (const repository of repositoriesOf(json))
      expect(repository.image_scanning_configuration).toEqual({ scan_on_push: true });
  });

  test("encrypts every repository with the registry key", () => {
    for (const repository of repositoriesOf(json)) {
      expect(repository.encryption_configuration).toEqual([
        {
          encryption_type: "KMS",
          kms_key: expect.stringMatching(/^\$\{aws_kms_key\.RegistryKey_[0-9A-F]+\.arn\}$/),
        },
      ]);
    }
  });

  test("prevents destroy and never force-deletes by default", () => {
    for (const repository of repositoriesOf(json)) {
      expect(repository.lifecycle).toEqual({ prevent_destroy: true });
      expect(repository.force_delete).toBe(false);
    }
  });

  test("gives every repository a lifecycle policy", () => {
    const repositoryRefs = Object.keys(json.resource?.aws_ecr_repository ?? {}).map(
      (id) => `\${aws_ecr_repository.${id}.name}`,
    );
    const policies = Object.values(json.resource?.aws_ecr_lifecycle_policy ?? {});
    expect(policies.map((p) => p.repository).sort()).toEqual(repositoryRefs.sort());
    for (const policy of policies)
      expect(JSON.parse(policy.policy as string).rules.length).toBeGreaterThanOrEqual(2);
  });

  test("lets ECR create grants on the registry key for this account", () => {
    const keyPolicy = policyOf(onlyResourceOf(json, "aws_kms_key"));
    expect(statement(keyPolicy, "AllowServiceGrantsForAwsResources").Condition?.StringEquals).toMatchObject({
      "kms:ViaService": ["ecr.eu-west-1.amazonaws.com"],
    });
  });

  test("denies other accounts in every repository policy", () => {
    const policies = Object.values(json.resource?.aws_ecr_repository_policy ?? {});
    expect(policies).toHaveLength(3);
    for (const policy of policies) {
      expect(statement(policyOf(policy), "DenyOtherAccounts")).toEqual({
        Sid: "DenyOtherAccounts",
        Effect: "Deny",
        Principal: "*",
        Action: "ecr:*",
        Condition: {
          StringNotEquals: { "aws:PrincipalAccount": "111111111111" },
          Bool: { "aws:PrincipalIsAWSService": "false" },
        },
      });
    }
  });

  test("has no enhanced scanning, pull-through cache or replication unless asked", () => {
    expect(json.resource?.aws_ecr_registry_scanning_configuration).toBeUndefined();
    expect(json.resource?.aws_ecr_pull_through_cache_rule).toBeUndefined();
    expect(json.resource?.aws_ecr_replication_configuration).toBeUndefined();
  });

  test("outputs each repository's URL", () => {
    expect(json.output?.training_repository_url).toEqual({
      value: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-dev-training",
      description: expect.any(String),
    });
  });
});

describe("ContainerRegistry lifecycle policy", () => {
  const policy = lifecyclePolicy(
    { untaggedImageExpiryDays: 3, keepReleaseImages: 10, releaseTagPrefixes: ["v", "release-"] },
    "x",
  );

  test("expires untagged images after N days, first", () => {
    expect(policy.rules[0]).toEqual({
      rulePriority: 1,
      description: "Expire untagged images after 3 days",
      selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 3 },
      action: { type: "expire" },
    });
  });

  test("keeps the last N release images, one rule per tag prefix", () => {
    expect(policy.rules.slice(1)).toEqual([
      expect.objectContaining({
        rulePriority: 2,
        selection: {
          tagStatus: "tagged",
          tagPrefixList: ["v"],
          countType: "imageCountMoreThan",
          countNumber: 10,
        },
      }),
      expect.objectContaining({
        rulePriority: 3,
        selection: {
          tagStatus: "tagged",
          tagPrefixList: ["release-"],
          countType: "imageCountMoreThan",
          countNumber: 10,
        },
      }),
    ]);
  });

  test("defaults to 7 days untagged, 30 release images tagged v*", () => {
    const defaults = lifecyclePolicy({}, "x");
    expect(defaults.rules).toHaveLength(2);
    expect(defaults.rules[0]).toMatchObject({ selection: { countNumber: 7 } });
    expect(defaults.rules[1]).toMatchObject({ selection: { tagPrefixList: ["v"], countNumber: 30 } });
  });

  test.each([
    [{ untaggedImageExpiryDays: 0 }, /untaggedImageExpiryDays is 0/],
    [{ keepReleaseImages: 0 }, /keepReleaseImages is 0/],
    [{ releaseTagPrefixes: [] }, /releaseTagPrefixes must list at least one/],
    [{ releaseTagPrefixes: ["v*"] }, /releaseTagPrefixes must list/],
  ])("refuses %j", (settings, message) => {
    expect(() => lifecyclePolicy(settings, "registry.repositories.training")).toThrow(message);
  });
});

describe("ContainerRegistry repository policy", () => {
  let policy: ReturnType<typeof policyOf>;
  const ci = "arn:aws:iam::111111111111:role/mlops-dev-ci-*";
  const workloads = "arn:aws:iam::111111111111:role/mlops-dev-*";
  beforeAll(() => {
    const json = synthRegistry({ pushPrincipalArnPatterns: [ci], pullPrincipalArnPatterns: [workloads] });
    policy = policyOf(Object.values(json.resource!.aws_ecr_repository_policy)[0]);
  });

  test("lets workload roles pull", () => {
    expect(statement(policy, "AllowPull")).toMatchObject({
      Effect: "Allow",
      Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
      Condition: { ArnLike: { "aws:PrincipalArn": [workloads] } },
    });
  });

  test("lets the CI role push", () => {
    const push = statement(policy, "AllowPush");
    expect(push.Action).toContain("ecr:PutImage");
    expect(push.Condition).toEqual({ ArnLike: { "aws:PrincipalArn": [ci] } });
  });

  test("denies pushes by anyone else, whatever their IAM policies say", () => {
    expect(statement(policy, "DenyPushExceptAllowedPushers")).toMatchObject({
      Effect: "Deny",
      Principal: "*",
      Action: expect.arrayContaining(["ecr:PutImage", "ecr:UploadLayerPart"]),
      Condition: { ArnNotLike: { "aws:PrincipalArn": [ci] } },
    });
  });

  test("does not let pullers push", () => {
    expect(statement(policy, "AllowPull").Action).not.toContain("ecr:PutImage");
  });
});

describe("ContainerRegistry grants", () => {
  test("grantPull adds the role to the repository policy and gives it a pull-only IAM policy", () => {
    const stack = testStack();
    const registry = registryIn(stack);
    registry.grantPull(new IamRole(stack, "Role", { name: "mlops-dev-inference", assumeRolePolicy: "{}" }), [
      "inference",
    ]);
    const json = synthStack(stack);
    const repositoryPolicy = policyOf(Object.values(json.resource!.aws_ecr_repository_policy)[0]);
    expect(statement(repositoryPolicy, "AllowPull").Condition).toEqual({
      ArnLike: { "aws:PrincipalArn": ["${aws_iam_role.Role.arn}"] },
    });
    const inline = policyOf(onlyResourceOf(json, "aws_iam_role_policy"));
    const inference = "arn:aws:ecr:eu-west-1:111111111111:repository/mlops-dev-inference";
    expect(allows(inline, "ecr:BatchGetImage", inference)).toBe(true);
    expect(allows(inline, "ecr:GetAuthorizationToken", "*")).toBe(true);
    expect(allows(inline, "ecr:PutImage", inference)).toBe(false);
    expect(
      allows(inline, "ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111111111111:repository/mlops-dev-training"),
    ).toBe(false);
  });

  test("grantPush on a role in another stack names it by ARN, with no cross-stack reference", () => {
    const app = Testing.app();
    const dataStack = testStack("data", app);
    const platformStack = testStack("platform", app);
    const registry = registryIn(dataStack);
    registry.grantPush(
      new IamRole(platformStack, "Ci", { name: "mlops-dev-ci-deploy", assumeRolePolicy: "{}" }),
    );
    const repositoryPolicy = policyOf(
      Object.values(synthStack(dataStack).resource!.aws_ecr_repository_policy)[0],
    );
    expect(statement(repositoryPolicy, "AllowPush").Condition).toEqual({
      ArnLike: { "aws:PrincipalArn": ["arn:aws:iam::111111111111:role/mlops-dev-ci-deploy"] },
    });
    const platform = synthStack(platformStack);
    expect(JSON.stringify(platform)).not.toMatch(/terraform_remote_state|aws_ecr_repository\./);
    const inline = policyOf(onlyResourceOf(platform, "aws_iam_role_policy"));
    expect(
      allows(inline, "ecr:PutImage", "arn:aws:ecr:eu-west-1:111111111111:repository/mlops-dev-training"),
    ).toBe(true);
    expect(
      allows(inline, "ecr:PutImage", "arn:aws:ecr:eu-west-1:111111111111:repository/mlops-prod-training"),
    ).toBe(false);
  });

  test("grantPull refuses an unknown repository", () => {
    const stack = testStack();
    const registry = registryIn(stack);
    const role = new IamRole(stack, "Role", { name: "r", assumeRolePolicy: "{}" });
    expect(() => registry.grantPull(role, ["serving"])).toThrow(
      /no repository named "serving"; the registry has inference, mlflow, training/,
    );
  });

  test("static helpers give other stacks URLs and ARNs from configuration", () => {
    expect(ContainerRegistry.repositoryUrlFor(NAMING, LOCATION, "mlflow")).toBe(
      "111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops-dev-mlflow",
    );
    expect(ContainerRegistry.repositoryArnFor(NAMING, LOCATION, "mlflow")).toBe(
      "arn:aws:ecr:eu-west-1:111111111111:repository/mlops-dev-mlflow",
    );
  });
});

describe("ContainerRegistry options", () => {
  test("force_delete and no prevent_destroy in a disposable environment", () => {
    for (const repository of repositoriesOf(synthRegistry({ forceDelete: true, preventDestroy: false }))) {
      expect(repository.force_delete).toBe(true);
      expect(repository.lifecycle).toEqual({ prevent_destroy: false });
    }
  });

  test("enhanced scanning scans this environment's repositories continuously", () => {
    const scanning = onlyResourceOf(
      synthRegistry({ enhancedScanning: true }),
      "aws_ecr_registry_scanning_configuration",
    );
    expect(scanning.scan_type).toBe("ENHANCED");
    expect(scanning.rule).toContainEqual({
      scan_frequency: "CONTINUOUS_SCAN",
      repository_filter: [{ filter: "mlops-dev-*", filter_type: "WILDCARD" }],
    });
  });

  test("pull-through cache rules for public ECR, registry.k8s.io and quay.io", () => {
    const json = synthRegistry({ pullThroughCache: ["quay", "ecr-public", "k8s"] });
    const rules = Object.values(json.resource?.aws_ecr_pull_through_cache_rule ?? {});
    expect(rules.map((r) => [r.ecr_repository_prefix, r.upstream_registry_url])).toEqual([
      ["ecr-public", "public.ecr.aws"],
      ["k8s", "registry.k8s.io"],
      ["quay", "quay.io"],
    ]);
    for (const rule of rules) expect(rule.credential_arn).toBeUndefined();
  });

  test("replicates this environment's repositories to other regions of the account", () => {
    const json = synthRegistry({ replicationRegions: ["eu-central-1"] });
    expect(onlyResourceOf(json, "aws_ecr_replication_configuration").replication_configuration).toEqual({
      rule: [
        {
          destination: [{ region: "eu-central-1", registry_id: "111111111111" }],
          repository_filter: [{ filter: "mlops-dev-", filter_type: "PREFIX_MATCH" }],
        },
      ],
    });
  });

  test.each([
    [{ forceDelete: true }, /forceDelete contradicts preventDestroy/],
    [{ repositories: {} }, /repositories is empty/],
    [{ repositories: { Training: {} } }, /repository name "Training" must be/],
    [{ replicationRegions: ["eu-west-1"] }, /replicationRegions lists eu-west-1, the registry's own region/],
    [
      { pullThroughCache: ["docker-hub" as never] },
      /"docker-hub" is not a registry ECR caches without credentials/,
    ],
    [{ pushPrincipalArnPatterns: ["ci"] }, /"ci" is not an IAM principal ARN pattern/],
  ])("refuses %j", (props, message) => {
    expect(() => registryIn(testStack(), props as Partial<ContainerRegistryProps>)).toThrow(message);
  });
});
