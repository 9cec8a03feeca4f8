/**
 * Bare test stacks for the model-registry constructs: an AWS provider that needs no account (so the stack
 * can also be validated and planned offline) and plain values where the real stacks pass other constructs'.
 */
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Testing, type App, type TerraformStack } from "cdktf";
import { Naming } from "../../../constructs/core/naming";
import { ModelRegistry, type ModelRegistryProps } from "../../../constructs/model-registry/model-registry";
import { offlineBareStack } from "../../helpers/offline-stack";
import { synthStack, type StackJson } from "../../helpers/synth";

export const LOCATION = { accountId: "111111111111", region: "eu-west-1" };
export const NAMING = new Naming({ project: "mlops", environment: "dev" });

/** Props of a self-hosted registry with every required value; `overrides` replaces any of them. */
export function registryProps(overrides: Partial<ModelRegistryProps> = {}): ModelRegistryProps {
  return {
    naming: NAMING,
    location: LOCATION,
    artifactBucketName: "mlops-dev-model-artifacts",
    artifactKeyAlias: "alias/mlops-dev-data",
    database: {
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
      allowedSecurityGroupIds: ["sg-0ccccccccccccccc3"],
    },
    ...overrides,
  };
}

/** A stack holding one registry (and a workload role granted access to it). */
export function registryStack(
  props: ModelRegistryProps,
  app: App = Testing.app(),
): { stack: TerraformStack; registry: ModelRegistry; workloadRole: IamRole } {
  const stack = offlineBareStack(app, "registry-test", LOCATION.region);
  const registry = new ModelRegistry(stack, "ModelRegistry", props);
  const workloadRole = new IamRole(stack, "TrainingRole", {
    name: "mlops-dev-training",
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
        },
      ],
    }),
  });
  registry.grantAccess(workloadRole);
  return { stack, registry, workloadRole };
}

/** Synthesizes a registry stack and parses it. */
export function synthRegistry(props: ModelRegistryProps): StackJson {
  return synthStack(registryStack(props).stack);
}

/** The parsed policy documents of every `aws_iam_role_policy` whose logical id contains `idPart`. */
export function policiesOf(json: StackJson, idPart: string): PolicyDocument[] {
  return Object.entries(json.resource?.aws_iam_role_policy ?? {})
    .filter(([id]) => id.includes(idPart))
    .map(([, policy]) => JSON.parse(policy.policy as string) as PolicyDocument);
}

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  readonly Statement: PolicyStatement[];
}

export function asList(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}
