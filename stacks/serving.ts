/**
 * Turns the `serving` section of an environment into constructs: SageMaker endpoints and the Pod Identity
 * roles of inference services in the platform stack, the inference services themselves in the cluster
 * stack. Both sides derive names (buckets, keys, repositories, roles) from the same configuration, so no
 * value crosses a stack boundary.
 */
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Construct } from "constructs";
import type { AwsLocation } from "../constructs/core/arn";
import type { Naming } from "../constructs/core/naming";
import { dataBucketName } from "../constructs/data/data-bucket-reference";
import { ContainerRegistry } from "../constructs/registry/container-registry";
import { EncryptionKey } from "../constructs/security/encryption-key";
import {
  KubernetesInferenceService,
  type InferenceServiceIdentity,
} from "../constructs/serving/kubernetes-inference-service";
import { ecrRepositoryUrl, type KeyReference } from "../constructs/serving/model-access";
import { SageMakerEndpoint, type SageMakerEndpointProps } from "../constructs/serving/sagemaker-endpoint";
import type { EnvironmentConfig } from "../environments/schema";
import { MODEL_ARTIFACTS_PURPOSE, type SageMakerEndpointConfig } from "../environments/sections/serving";

/** How the platform and cluster stacks name what the data stack owns. */
export interface DataNames {
  /** Name of the data bucket of `purpose` (`model-artifacts`, `raw`...). */
  bucketName(purpose: string): string;
  /** The key that encrypts the data buckets, by alias. */
  readonly dataKey: KeyReference;
  /** Name of the ECR repository declared as `repository` in the registry section. */
  repositoryName(repository: string): string;
}

/** The data stack's names, from the helpers the data stack names its resources with. */
export function dataNames(naming: Naming, location: AwsLocation): DataNames {
  return {
    bucketName: (purpose) => dataBucketName(naming, location, purpose),
    dataKey: { aliasName: EncryptionKey.aliasNameFor(naming, "data") },
    repositoryName: (repository) => ContainerRegistry.repositoryNameFor(naming, repository),
  };
}

/** The bucket that holds model artifacts. */
export const MODEL_ARTIFACTS_BUCKET = MODEL_ARTIFACTS_PURPOSE;

/** What the platform stack gives the SageMaker endpoints. */
export interface SageMakerEndpointsProps {
  readonly config: EnvironmentConfig;
  readonly naming: Naming;
  readonly location: AwsLocation;
  readonly names: DataNames;
  /** VPC of the endpoints' security group. */
  readonly vpcId: string;
  /** Private subnets of the model containers. */
  readonly privateSubnetIds: string[];
  /** Key of the platform stack that encrypts volumes (and monitoring job volumes). */
  readonly encryptionKeyArn: string;
  /** Key ARN that encrypts the endpoints' log groups (allows CloudWatch Logs). */
  readonly logKmsKeyArn?: string;
}

/** The SageMaker endpoints of an environment, keyed as in the environment file. */
export class SageMakerEndpoints extends Construct {
  /** Security group of every endpoint's containers. */
  readonly securityGroup?: SecurityGroup;
  /** The endpoints, keyed by their name in the environment file. */
  readonly endpoints: Record<string, SageMakerEndpoint> = {};

  constructor(scope: Construct, id: string, props: SageMakerEndpointsProps) {
    super(scope, id);
    const declared = Object.entries(props.config.serving.sagemakerEndpoints);
    // Serverless endpoints cannot run in a VPC; the group exists only when an instance endpoint needs it.
    if (declared.some(([, endpoint]) => endpoint.instanceType)) {
      this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
        name: props.naming.name("securityGroup", "sagemaker-endpoints"),
        description: "SageMaker endpoint containers: no inbound, HTTPS out to S3, ECR and CloudWatch",
        vpcId: props.vpcId,
      });
      // Any address on 443: S3 resolves to the gateway endpoint's prefix list and the interface endpoints to
      // VPC addresses, but an AWS API without an interface endpoint (network.interfaceEndpoints) is reached
      // through the NAT gateway at a public address. The containers get no other port, and none inbound.
      new VpcSecurityGroupEgressRule(this, "HttpsEgress", {
        securityGroupId: this.securityGroup.id,
        description:
          "HTTPS to AWS APIs: S3 gateway and interface endpoints, other APIs through the NAT gateway",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      });
    }
    for (const [name, endpoint] of declared) this.endpoints[name] = this.addEndpoint(props, name, endpoint);
  }

  private addEndpoint(
    props: SageMakerEndpointsProps,
    name: string,
    endpoint: SageMakerEndpointConfig,
  ): SageMakerEndpoint {
    const { config, naming, location, names } = props;
    const capacity: Partial<SageMakerEndpointProps> = endpoint.serverless
      ? {
          serverless: {
            memorySizeInMb: endpoint.serverless.memoryMb,
            maxConcurrency: endpoint.serverless.maxConcurrency,
          },
        }
      : {
          instances: {
            instanceType: endpoint.instanceType!,
            minInstanceCount: endpoint.minInstances,
            maxInstanceCount: endpoint.maxInstances ?? endpoint.minInstances * 2,
            initialInstanceCount: endpoint.initialInstances,
            targetInvocationsPerInstance: endpoint.targetInvocationsPerInstance,
          },
          vpc: { subnetIds: props.privateSubnetIds, securityGroupIds: [this.securityGroup!.id] },
          networkIsolation: endpoint.networkIsolation,
          networkAccessReason: endpoint.networkAccessReason,
          dataCapture: {
            bucketName: names.bucketName(config.serving.dataCaptureBucket),
            samplingPercentage: endpoint.dataCaptureSamplingPercentage,
            key: names.dataKey,
          },
          ...(endpoint.monitoring.enabled
            ? {
                monitoring: {
                  scheduleExpression: endpoint.monitoring.scheduleExpression,
                  instanceType: endpoint.monitoring.instanceType,
                },
              }
            : {}),
        };
    return new SageMakerEndpoint(this, pascalCase(name), {
      name,
      naming,
      location,
      image: {
        repositoryName: names.repositoryName(endpoint.image.repository),
        tag: endpoint.image.tag,
        digest: endpoint.image.digest,
      },
      modelData: {
        bucketName: names.bucketName(MODEL_ARTIFACTS_BUCKET),
        prefix: endpoint.modelDataPrefix,
        key: names.dataKey,
        artifact: endpoint.modelArtifact,
      },
      environment: endpoint.environment,
      ...capacity,
      encryptionKey: { keyArn: props.encryptionKeyArn },
      deployment: endpoint.deployment,
      alarms: endpoint.alarms,
      logRetentionDays: config.logs.retentionDays,
      logKmsKeyArn: props.logKmsKeyArn,
      preventDestroy: config.protection.preventDestroy,
    });
  }
}

/**
 * The Pod Identity roles of an environment's inference services (platform stack), each bound to its service
 * account in the serving namespace by `cluster` and trusted by pods of that cluster only.
 */
export function addInferenceServiceRoles(
  scope: Construct,
  props: {
    config: EnvironmentConfig;
    naming: Naming;
    location: AwsLocation;
    names: DataNames;
    cluster: {
      /** Only pods of this cluster may get the roles (`aws:SourceArn`). */
      readonly clusterArn: string;
      grantServiceAccount(
        namespace: string,
        serviceAccount: string,
        role: { readonly roleArn: string },
      ): unknown;
    };
  },
): Record<string, InferenceServiceIdentity> {
  const identities: Record<string, InferenceServiceIdentity> = {};
  for (const [name, service] of Object.entries(props.config.serving.kubernetesServices)) {
    identities[name] = KubernetesInferenceService.createPodIdentityRole(
      scope,
      `${pascalCase(name)}ServingRole`,
      {
        name,
        naming: props.naming,
        location: props.location,
        clusterArn: props.cluster.clusterArn,
        modelArtifacts: {
          bucketName: props.names.bucketName(MODEL_ARTIFACTS_BUCKET),
          prefix: service.modelDataPrefix,
          key: props.names.dataKey,
        },
      },
    );
    props.cluster.grantServiceAccount(SERVING_NAMESPACE, name, { roleArn: identities[name].role.arn });
  }
  return identities;
}

/** The namespace inference services run in. */
export const SERVING_NAMESPACE = "serving";

/** The inference services of an environment (cluster stack). */
export function addInferenceServices(
  scope: Construct,
  props: {
    config: EnvironmentConfig;
    location: AwsLocation;
    names: DataNames;
    namespace: string;
    priorityClassName?: string;
  },
): Record<string, KubernetesInferenceService> {
  const services: Record<string, KubernetesInferenceService> = {};
  for (const [name, service] of Object.entries(props.config.serving.kubernetesServices)) {
    const repositoryUrl = ecrRepositoryUrl(
      props.location,
      props.names.repositoryName(service.image.repository),
    );
    const version = service.image.digest ? `@${service.image.digest}` : `:${service.image.tag}`;
    services[name] = new KubernetesInferenceService(scope, `${pascalCase(name)}InferenceService`, {
      name,
      namespace: props.namespace,
      image: `${repositoryUrl}${version}`,
      port: service.port,
      metricsPort: service.metricsPort,
      args: service.args,
      environment: {
        ...service.environment,
        MODEL_S3_URI: `s3://${props.names.bucketName(MODEL_ARTIFACTS_BUCKET)}/${service.modelDataPrefix}/`,
      },
      minReplicas: service.minReplicas,
      maxReplicas: service.maxReplicas ?? service.minReplicas * 2,
      targetCpuUtilization: service.targetCpuUtilization,
      cpu: service.cpu,
      memory: service.memory,
      gpus: service.gpus,
      probes: {
        livenessPath: service.probes.liveness,
        readinessPath: service.probes.readiness,
        startupPath: service.probes.startup,
        startupTimeoutSeconds: service.probes.startupTimeoutSeconds,
      },
      modelCacheSize: service.modelCacheSize,
      spreadAcrossZones: service.spreadAcrossZones,
      priorityClassName: props.priorityClassName,
      ingress: service.ingress,
    });
  }
  return services;
}

/** `churn-gpu` → `ChurnGpu`, for construct IDs (which become Terraform addresses). */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join("");
}
