import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsSagemakerPrebuiltEcrImage } from "@cdktf/provider-aws/lib/data-aws-sagemaker-prebuilt-ecr-image";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SagemakerDataQualityJobDefinition } from "@cdktf/provider-aws/lib/sagemaker-data-quality-job-definition";
import { SagemakerEndpoint } from "@cdktf/provider-aws/lib/sagemaker-endpoint";
import {
  SagemakerEndpointConfiguration,
  type SagemakerEndpointConfigurationProductionVariants,
} from "@cdktf/provider-aws/lib/sagemaker-endpoint-configuration";
import { SagemakerModel } from "@cdktf/provider-aws/lib/sagemaker-model";
import { SagemakerMonitoringSchedule } from "@cdktf/provider-aws/lib/sagemaker-monitoring-schedule";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { arn, bucketArn, roleArn, type AwsLocation } from "../core/arn";
import type { PolicyStatement } from "../core/iam";
import { shorten, type Naming } from "../core/naming";
import { recordPackageVersion } from "../core/package-info";
import { VARIANT_NAME } from "./variant-name";
import { PolicySuppressions } from "../policy/policy-suppressions";
import {
  ecrPullStatements,
  ecrRepositoryUrl,
  keyIdentifier,
  keyStatement,
  modelArtifactReadStatements,
  normalizeModelPrefix,
  pinnedVersion,
  policyJson,
  type KeyReference,
} from "./model-access";

/** The serving image of a {@link SageMakerEndpoint}: a repository of our ECR, pinned to one version. */
export interface SageMakerEndpointImage {
  /** ECR repository name in the endpoint's account and region, such as `mlops-dev-inference`. */
  readonly repositoryName: string;
  /**
   * Repository URL.
   * @default `<account>.dkr.ecr.<region>.amazonaws.com/<repositoryName>`
   */
  readonly repositoryUrl?: string;
  /**
   * Release tag (never `latest`). Give exactly one of `tag` and `digest`.
   * @default - none; give exactly one of tag and digest
   */
  readonly tag?: string;
  /**
   * Image digest (`sha256:...`). Give exactly one of `tag` and `digest`.
   * @default - none; give exactly one of tag and digest
   */
  readonly digest?: string;
}

/** Where the model's artifacts are: one prefix of the model-artifacts bucket. */
export interface SageMakerModelData {
  /** Name of the model-artifacts bucket. */
  readonly bucketName: string;
  /** The model version's prefix, such as `churn/v12`; the execution role can read nothing else. */
  readonly prefix: string;
  /** The key that encrypts the bucket's objects (the data stack's key, by alias). */
  readonly key: KeyReference;
  /**
   * The archive SageMaker downloads and unpacks, relative to the prefix.
   * @default "model.tar.gz"
   */
  readonly artifact?: string;
}

/** Real-time capacity: instances behind the endpoint, scaled by Application Auto Scaling. */
export interface SageMakerInstanceCapacity {
  /** SageMaker instance type, such as `ml.m5.large` or `ml.g5.xlarge`. */
  readonly instanceType: string;
  /**
   * Instances the autoscaler keeps at least (the stacks require 2 in prod).
   * @default 1
   */
  readonly minInstanceCount?: number;
  /**
   * Instances the autoscaler may add up to.
   * @default minInstanceCount
   */
  readonly maxInstanceCount?: number;
  /**
   * Instances a new endpoint configuration starts with.
   * @default minInstanceCount
   */
  readonly initialInstanceCount?: number;
  /**
   * Target of the scaling policy: invocations per instance per minute (`SageMakerVariantInvocationsPerInstance`).
   * @default 100
   */
  readonly targetInvocationsPerInstance?: number;
}

/** Serverless capacity, for cheap endpoints with idle periods that can tolerate cold starts. */
export interface SageMakerServerlessCapacity {
  /** Memory of each serverless worker: 1024 to 6144, in steps of 1024. */
  readonly memorySizeInMb: number;
  /** Concurrent invocations the endpoint may serve (1 to 200). */
  readonly maxConcurrency: number;
}

/** How a new endpoint configuration replaces the one in service. */
export interface SageMakerDeploymentPolicy {
  /**
   * `all-at-once` shifts all traffic to the new fleet, then bakes; `canary` shifts `stepPercent` first,
   * waits, then the rest; `linear` shifts `stepPercent` per step.
   * @default "all-at-once"
   */
  readonly strategy?: "all-at-once" | "canary" | "linear";
  /**
   * Capacity percentage shifted by the canary or each linear step (canary: 1 to 50, linear: 10 to 50).
   * @default 10 for canary, 25 for linear
   */
  readonly stepPercent?: number;
  /**
   * Seconds between traffic steps, while the alarms watch the new fleet.
   * @default 300
   */
  readonly waitIntervalSeconds?: number;
  /**
   * Seconds the old fleet is kept after all traffic has moved (the final baking period during which an
   * alarm still rolls back).
   * @default 600
   */
  readonly terminationWaitSeconds?: number;
}

/** Thresholds of the alarms that roll a deployment back. */
export interface SageMakerEndpointAlarms {
  /**
   * 5XX errors per minute that count as a bad minute (two bad minutes in a row raise the alarm).
   * @default 5
   */
  readonly max5xxErrorsPerMinute?: number;
  /**
   * p99 model latency in milliseconds above which a minute counts as bad (three in a row raise the alarm).
   * @default 2000
   */
  readonly maxModelLatencyMs?: number;
  /**
   * Where alarm notifications go (SNS topic ARNs).
   * @default - no notification; the alarms still roll deployments back
   */
  readonly alarmActions?: string[];
}

/** Captured requests and responses, for monitoring and retraining. */
export interface SageMakerDataCapture {
  /** The data bucket that receives captures under `data-capture/<endpoint name>/`. */
  readonly bucketName: string;
  /** Percentage of requests captured (0 to 100). */
  readonly samplingPercentage: number;
  /** Key that encrypts captured objects (the data bucket's key, by alias). */
  readonly key: KeyReference;
}

/** A data-quality monitoring schedule on the captured data. */
export interface SageMakerModelMonitoring {
  /**
   * When the job runs (a SageMaker monitoring schedule expression).
   * @default "cron(0 * ? * * *)" (hourly)
   */
  readonly scheduleExpression?: string;
  /**
   * Instance type of the monitoring job.
   * @default "ml.m5.xlarge"
   */
  readonly instanceType?: string;
  /**
   * Baseline statistics and constraints (S3 URIs from a baselining job); without them the job only
   * computes statistics.
   * @default - no baseline
   */
  readonly baseline?: { readonly statisticsS3Uri: string; readonly constraintsS3Uri: string };
  /**
   * The Model Monitor analyzer image.
   * @default - the region's `sagemaker-model-monitor-analyzer` image (resolved locally by the provider)
   */
  readonly analyzerImageUri?: string;
}

/** Properties of a {@link SageMakerEndpoint}. */
export interface SageMakerEndpointProps {
  /** The endpoint's short name (`churn`); lower-case letters, digits and hyphens. */
  readonly name: string;
  /** Names every resource (`<project>-<env>-...`). */
  readonly naming: Naming;
  /** Account and region, for ARNs built without asking AWS. */
  readonly location: AwsLocation;
  /** The serving image, pinned. */
  readonly image: SageMakerEndpointImage;
  /** The model's artifacts. */
  readonly modelData: SageMakerModelData;
  /**
   * Environment variables of the serving container.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Instance capacity (real-time). Give exactly one of `instances` and `serverless`.
   * @default - none; give exactly one of instances and serverless
   */
  readonly instances?: SageMakerInstanceCapacity;
  /**
   * Serverless capacity. AWS does not support VPC configuration, network isolation, data capture or Model
   * Monitor for serverless endpoints, so they run outside the VPC: use them for dev only.
   * @default - none; give exactly one of instances and serverless
   */
  readonly serverless?: SageMakerServerlessCapacity;
  /**
   * Private subnets and security groups of the model containers (required for instance endpoints).
   * @default - none (serverless endpoints cannot use a VPC)
   */
  readonly vpc?: { readonly subnetIds: string[]; readonly securityGroupIds: string[] };
  /**
   * Network isolation: the container can make no network call at all (model data and image are fetched by
   * SageMaker before it starts). Turn it off only for a model that must call something at run time, and
   * say why in `networkAccessReason`.
   * @default true (instance endpoints); serverless endpoints do not support it
   */
  readonly networkIsolation?: boolean;
  /**
   * Why the model needs the network (10 characters at least), recorded as the reason the MLOPS-SM-002 policy
   * rule is suppressed. Required when `networkIsolation` is false on an instance endpoint; unused otherwise.
   * @default - none; required when networkIsolation is false on an instance endpoint
   */
  readonly networkAccessReason?: string;
  /**
   * Key that encrypts the instances' storage volumes (a key of this stack). Instance types with local
   * NVMe storage (g5, p4d, ...) are encrypted by their hardware and reject a key, so none is set for them.
   */
  readonly encryptionKey: KeyReference;
  /**
   * How updates roll out (blue/green, with automatic rollback on the alarms).
   * @default - all at once, 10-minute baking period
   */
  readonly deployment?: SageMakerDeploymentPolicy;
  /**
   * Alarm thresholds.
   * @default - see {@link SageMakerEndpointAlarms}
   */
  readonly alarms?: SageMakerEndpointAlarms;
  /**
   * Capture of requests and responses.
   * @default - no capture
   */
  readonly dataCapture?: SageMakerDataCapture;
  /**
   * Data-quality monitoring of the captured data (needs `dataCapture`).
   * @default - no monitoring
   */
  readonly monitoring?: SageMakerModelMonitoring;
  /**
   * Retention of the endpoint's log group (`/aws/sagemaker/Endpoints/<endpoint name>`), in days.
   * @default 90
   */
  readonly logRetentionDays?: number;
  /**
   * Key ARN that encrypts the log group (the key policy must allow CloudWatch Logs).
   * @default - CloudWatch Logs' own encryption
   */
  readonly logKmsKeyArn?: string;
  /**
   * `lifecycle.prevent_destroy` on the endpoint and its log group (models and endpoint configurations are
   * replaced on every change, so they never carry it).
   * @default false
   */
  readonly preventDestroy?: boolean;
}

export { VARIANT_NAME };

/** Instance families whose local NVMe storage SageMaker refuses a volume KMS key for. */
const NVME_FAMILIES = new Set(["g5", "g6", "g6e", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"]);

/**
 * Whether a SageMaker instance type has local instance storage (a `d` family such as `g4dn`, `p4d`,
 * `m5d`, or one of the NVMe-only GPU families). CreateEndpointConfig fails when a KMS key is given for
 * such a type.
 */
export function hasInstanceStorage(instanceType: string): boolean {
  const family = instanceType.replace(/^ml\./, "").split(".")[0];
  return NVME_FAMILIES.has(family) || /^[a-z]+\d+[a-z]*d[a-z]*$/.test(family);
}

const ENDPOINT_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * A SageMaker endpoint that can be updated without downtime: a model from a pinned image of our ECR and
 * one prefix of the model-artifacts bucket, an endpoint configuration whose name changes on every change
 * (`name_prefix` + `create_before_destroy`), blue/green deployments that roll back on the endpoint's 5XX
 * and latency alarms, autoscaling on invocations per instance, encrypted data capture and optional
 * data-quality monitoring.
 *
 * @example
 * new SageMakerEndpoint(this, "Churn", {
 *   name: "churn",
 *   naming,
 *   location: { accountId: "111111111111", region: "eu-west-1" },
 *   image: { repositoryName: "mlops-dev-inference", tag: "v1.4.2" },
 *   modelData: { bucketName: "mlops-dev-model-artifacts", prefix: "churn/v12", key: { aliasName: "mlops-dev-data" } },
 *   instances: { instanceType: "ml.m5.large", minInstanceCount: 2, maxInstanceCount: 4 },
 *   vpc: { subnetIds, securityGroupIds: [sg.id] },
 *   encryptionKey: { keyArn: key.arn },
 * });
 */
export class SageMakerEndpoint extends Construct {
  /** The name of the execution role of endpoint `name`, so other stacks can refer to it. */
  static executionRoleName(naming: Naming, name: string): string {
    return naming.name("iamRole", "sagemaker", name);
  }

  /** The endpoint's name, such as `mlops-dev-churn`. */
  readonly endpointName: string;
  /** The endpoint. */
  readonly endpoint: SagemakerEndpoint;
  /** The endpoint configuration in service (replaced on every change). */
  readonly endpointConfiguration: SagemakerEndpointConfiguration;
  /** The model (replaced on every change of image, artifacts or network settings). */
  readonly model: SagemakerModel;
  /** The role SageMaker assumes to fetch the image and artifacts and write logs and captures. */
  readonly executionRole: IamRole;
  /** The alarms a deployment rolls back on: {@link serverErrorsAlarm} and {@link latencyAlarm}. */
  readonly rollbackAlarms: CloudwatchMetricAlarm[];
  /**
   * `Invocation5XXErrors` alarm (`<endpoint>-5xx-errors`); rolls deployments back. Give it to
   * `EndpointAlarms`' `existingAlarms` so that the same alarm also notifies people.
   */
  readonly serverErrorsAlarm: CloudwatchMetricAlarm;
  /** p99 `ModelLatency` alarm (`<endpoint>-model-latency`); rolls deployments back. */
  readonly latencyAlarm: CloudwatchMetricAlarm;
  /** The autoscaling target (instance endpoints only). */
  readonly scalableTarget?: AppautoscalingTarget;
  /** Where captures land (`s3://<bucket>/data-capture/<endpoint name>`), when capture is on. */
  readonly dataCaptureUri?: string;
  /** The data-quality monitoring schedule, when monitoring is on. */
  readonly monitoringSchedule?: SagemakerMonitoringSchedule;

  constructor(scope: Construct, id: string, props: SageMakerEndpointProps) {
    super(scope, id);
    recordPackageVersion(this);
    const where = `SageMakerEndpoint ${this.node.path}`;
    const { naming, location } = props;
    if (!ENDPOINT_NAME.test(props.name)) {
      throw new Error(
        `${where}: name "${props.name}" must be 1-32 lower-case letters, digits or hyphens, starting and ending with a letter or digit.`,
      );
    }
    const capacity = checkCapacity(props, where);
    const serverless = capacity.kind === "serverless";
    const networkIsolation = checkNetwork(props, serverless, where);
    const deployment = checkDeployment(props.deployment ?? {}, serverless, capacity, where);
    if (serverless && props.dataCapture) {
      throw new Error(
        `${where}: serverless endpoints do not support data capture; remove dataCapture or use instances.`,
      );
    }
    if (props.monitoring && !props.dataCapture) {
      throw new Error(`${where}: monitoring reads captured data; set dataCapture too.`);
    }
    if (props.dataCapture) {
      const { samplingPercentage } = props.dataCapture;
      if (!Number.isInteger(samplingPercentage) || samplingPercentage < 0 || samplingPercentage > 100) {
        throw new Error(
          `${where}: dataCapture.samplingPercentage (${samplingPercentage}) must be a whole number from 0 to 100.`,
        );
      }
    }

    this.endpointName = naming.name("sagemaker", props.name);
    const imageUri =
      (props.image.repositoryUrl ?? ecrRepositoryUrl(location, props.image.repositoryName)) +
      pinnedVersion(props.image, `${where} image`);
    const prefix = normalizeModelPrefix(props.modelData.prefix, `${where} modelData`);
    const artifact = (props.modelData.artifact ?? "model.tar.gz").replace(/^\/+/, "");
    const modelDataUrl = `s3://${props.modelData.bucketName}/${prefix}/${artifact}`;
    const logGroupName = `/aws/sagemaker/Endpoints/${this.endpointName}`;
    const vpc = serverless ? undefined : props.vpc;
    const lifecycle = props.preventDestroy ? { preventDestroy: true } : undefined;

    const logGroup = new CloudwatchLogGroup(this, "LogGroup", {
      name: logGroupName,
      retentionInDays: props.logRetentionDays ?? 90,
      ...(props.logKmsKeyArn ? { kmsKeyId: props.logKmsKeyArn } : {}),
      lifecycle,
    });

    const statements: PolicyStatement[] = [
      ...modelArtifactReadStatements(location, {
        bucketName: props.modelData.bucketName,
        prefix,
        key: props.modelData.key,
      }),
      ...ecrPullStatements(location, props.image.repositoryName),
      logWriteStatement("WriteEndpointLogs", location, logGroupName),
    ];
    if (vpc) statements.push(...networkInterfaceStatements(location, vpc));
    if (props.dataCapture) {
      this.dataCaptureUri = `s3://${props.dataCapture.bucketName}/data-capture/${this.endpointName}`;
      statements.push(
        {
          Sid: "WriteDataCapture",
          Effect: "Allow",
          Action: "s3:PutObject",
          Resource: `${bucketArn(location.region, props.dataCapture.bucketName)}/data-capture/${this.endpointName}/*`,
        },
        keyStatement(
          location,
          "EncryptDataCapture",
          props.dataCapture.key,
          ["kms:GenerateDataKey", "kms:Encrypt"],
          {
            viaService: "s3",
          },
        ),
      );
    }

    const executionRoleName = SageMakerEndpoint.executionRoleName(naming, props.name);
    this.executionRole = new IamRole(this, "ExecutionRole", {
      name: executionRoleName,
      description: `SageMaker execution role of endpoint ${this.endpointName}: reads ${prefix} only`,
      assumeRolePolicy: sagemakerTrustPolicy(location),
    });
    const executionPolicy = new IamRolePolicy(this, "ExecutionPolicy", {
      name: "serve-model",
      role: this.executionRole.name,
      policy: policyJson(statements),
    });

    // A model cannot be changed in place. Its name carries a hash of everything that replaces it, so a new
    // model can be created next to the old one (create_before_destroy) while the endpoint still serves it.
    const modelDefinition = {
      image: imageUri,
      modelDataUrl,
      environment: props.environment ?? {},
      networkIsolation,
      subnets: vpc?.subnetIds ?? [],
      securityGroups: vpc?.securityGroupIds ?? [],
      role: executionRoleName,
    };
    const modelHash = Fn.substr(Fn.sha1(Fn.jsonencode(modelDefinition)), 0, 8);
    this.model = new SagemakerModel(this, "Model", {
      name: `${shorten(this.endpointName, 54)}-${modelHash}`,
      executionRoleArn: roleArn(location, executionRoleName),
      enableNetworkIsolation: networkIsolation,
      primaryContainer: {
        image: imageUri,
        modelDataUrl,
        ...(props.environment && Object.keys(props.environment).length > 0
          ? { environment: props.environment }
          : {}),
      },
      ...(vpc ? { vpcConfig: { subnets: vpc.subnetIds, securityGroupIds: vpc.securityGroupIds } } : {}),
      dependsOn: [executionPolicy, this.executionRole],
      lifecycle: { createBeforeDestroy: true },
    });
    if (serverless) {
      const reason = "AWS does not support VPC configuration or network isolation for serverless endpoints";
      PolicySuppressions.add(this.model, "MLOPS-SM-002", reason);
      PolicySuppressions.add(this.model, "MLOPS-SM-003", reason);
    } else if (!networkIsolation) {
      PolicySuppressions.add(this.model, "MLOPS-SM-002", props.networkAccessReason!.trim());
    }

    const variant: SagemakerEndpointConfigurationProductionVariants =
      capacity.kind === "serverless"
        ? {
            variantName: VARIANT_NAME,
            modelName: this.model.name,
            serverlessConfig: {
              memorySizeInMb: capacity.memorySizeInMb,
              maxConcurrency: capacity.maxConcurrency,
            },
          }
        : {
            variantName: VARIANT_NAME,
            modelName: this.model.name,
            instanceType: capacity.instanceType,
            initialInstanceCount: capacity.initial,
          };
    // Serverless endpoints take the key for the image they cache; instance types with local NVMe storage
    // reject it (their disks are encrypted by the hardware).
    const encryptVolumes = capacity.kind === "serverless" || !hasInstanceStorage(capacity.instanceType);
    this.endpointConfiguration = new SagemakerEndpointConfiguration(this, "Configuration", {
      // name_prefix: every change gets a new name, which is what makes the endpoint pick it up; the old
      // configuration is deleted only after the endpoint has moved to the new one. The stem is at most 36
      // characters, so with its `-` the prefix stays within the provider's 37.
      namePrefix: `${naming.name("sagemakerPrefix", props.name)}-`,
      productionVariants: [variant],
      ...(encryptVolumes ? { kmsKeyArn: keyIdentifier(location, props.encryptionKey) } : {}),
      ...(props.dataCapture
        ? {
            dataCaptureConfig: {
              enableCapture: true,
              initialSamplingPercentage: props.dataCapture.samplingPercentage,
              destinationS3Uri: this.dataCaptureUri!,
              kmsKeyId: keyIdentifier(location, props.dataCapture.key),
              captureOptions: [{ captureMode: "Input" }, { captureMode: "Output" }],
              captureContentTypeHeader: {
                jsonContentTypes: ["application/json"],
                csvContentTypes: ["text/csv"],
              },
            },
          }
        : {}),
      lifecycle: { createBeforeDestroy: true },
    });

    this.rollbackAlarms = this.createAlarms(props.alarms ?? {});
    [this.serverErrorsAlarm, this.latencyAlarm] = this.rollbackAlarms;

    this.endpoint = new SagemakerEndpoint(this, "Resource", {
      name: this.endpointName,
      endpointConfigName: this.endpointConfiguration.name,
      deploymentConfig: {
        blueGreenUpdatePolicy: {
          trafficRoutingConfiguration: {
            type: deployment.type,
            waitIntervalInSeconds: deployment.waitIntervalSeconds,
            ...(deployment.type === "CANARY"
              ? { canarySize: { type: "CAPACITY_PERCENT", value: deployment.stepPercent } }
              : {}),
            ...(deployment.type === "LINEAR"
              ? { linearStepSize: { type: "CAPACITY_PERCENT", value: deployment.stepPercent } }
              : {}),
          },
          terminationWaitInSeconds: deployment.terminationWaitSeconds,
        },
        autoRollbackConfiguration: {
          alarms: this.rollbackAlarms.map((alarm) => ({ alarmName: alarm.alarmName })),
        },
      },
      dependsOn: [logGroup],
      lifecycle,
    });

    if (capacity.kind === "instances") {
      const resourceId = `endpoint/${this.endpointName}/variant/${VARIANT_NAME}`;
      this.scalableTarget = new AppautoscalingTarget(this, "ScalableTarget", {
        serviceNamespace: "sagemaker",
        scalableDimension: "sagemaker:variant:DesiredInstanceCount",
        resourceId,
        minCapacity: capacity.min,
        maxCapacity: capacity.max,
        dependsOn: [this.endpoint],
      });
      new AppautoscalingPolicy(this, "ScalingPolicy", {
        name: `${this.endpointName}-invocations-per-instance`,
        policyType: "TargetTrackingScaling",
        serviceNamespace: this.scalableTarget.serviceNamespace,
        scalableDimension: this.scalableTarget.scalableDimension,
        resourceId: this.scalableTarget.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: capacity.targetInvocationsPerInstance,
          predefinedMetricSpecification: { predefinedMetricType: "SageMakerVariantInvocationsPerInstance" },
          // Add capacity quickly, remove it slowly: a cold instance takes minutes to load a model.
          scaleOutCooldown: 60,
          scaleInCooldown: 300,
        },
      });
    }

    if (props.monitoring && props.dataCapture) {
      this.monitoringSchedule = this.createMonitoring(props, props.monitoring, props.dataCapture, vpc);
    }
  }

  private createAlarms(alarms: SageMakerEndpointAlarms): CloudwatchMetricAlarm[] {
    const dimensions = { EndpointName: this.endpointName, VariantName: VARIANT_NAME };
    const actions =
      alarms.alarmActions && alarms.alarmActions.length > 0 ? { alarmActions: alarms.alarmActions } : {};
    const max5xx = alarms.max5xxErrorsPerMinute ?? 5;
    const maxLatencyMs = alarms.maxModelLatencyMs ?? 2000;
    return [
      new CloudwatchMetricAlarm(this, "Errors5xxAlarm", {
        alarmName: `${this.endpointName}-5xx-errors`,
        alarmDescription: `Endpoint ${this.endpointName} returned at least ${max5xx} 5XX errors a minute for 2 minutes; rolls a deployment back.`,
        namespace: "AWS/SageMaker",
        metricName: "Invocation5XXErrors",
        dimensions,
        statistic: "Sum",
        period: 60,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        threshold: max5xx,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        ...actions,
      }),
      new CloudwatchMetricAlarm(this, "ModelLatencyAlarm", {
        alarmName: `${this.endpointName}-model-latency`,
        alarmDescription: `Endpoint ${this.endpointName} p99 model latency above ${maxLatencyMs} ms for 3 minutes; rolls a deployment back.`,
        namespace: "AWS/SageMaker",
        metricName: "ModelLatency",
        dimensions,
        extendedStatistic: "p99",
        period: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // ModelLatency is reported in microseconds.
        threshold: maxLatencyMs * 1000,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        ...actions,
      }),
    ];
  }

  private createMonitoring(
    props: SageMakerEndpointProps,
    monitoring: SageMakerModelMonitoring,
    capture: SageMakerDataCapture,
    vpc: SageMakerEndpointProps["vpc"],
  ): SagemakerMonitoringSchedule {
    const { naming, location } = props;
    const captureBucketArn = bucketArn(location.region, capture.bucketName);
    const outputUri = `s3://${capture.bucketName}/monitoring/${this.endpointName}/data-quality`;
    const roleName = naming.name("iamRole", "sagemaker", props.name, "monitor");
    const statements: PolicyStatement[] = [
      {
        Sid: "ReadDataCapture",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: [
          `${captureBucketArn}/data-capture/${this.endpointName}/*`,
          `${captureBucketArn}/baselines/${this.endpointName}/*`,
        ],
      },
      {
        Sid: "ListDataCapture",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: captureBucketArn,
        Condition: {
          StringLike: {
            "s3:prefix": [
              `data-capture/${this.endpointName}/*`,
              `baselines/${this.endpointName}/*`,
              `monitoring/${this.endpointName}/*`,
            ],
          },
        },
      },
      {
        Sid: "WriteMonitoringResults",
        Effect: "Allow",
        Action: "s3:PutObject",
        Resource: `${captureBucketArn}/monitoring/${this.endpointName}/*`,
      },
      keyStatement(location, "UseDataKey", capture.key, ["kms:Decrypt", "kms:GenerateDataKey"], {
        viaService: "s3",
      }),
      keyStatement(location, "EncryptJobVolumes", props.encryptionKey, [
        "kms:Decrypt",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
      ]),
      // The job's instances attach their encrypted volumes through a grant, for AWS resources only.
      keyStatement(location, "GrantJobVolumes", props.encryptionKey, ["kms:CreateGrant"], {
        condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      }),
      logWriteStatement("WriteJobLogs", location, "/aws/sagemaker/ProcessingJobs"),
    ];
    if (vpc) statements.push(...networkInterfaceStatements(location, vpc));
    const role = new IamRole(this, "MonitoringRole", {
      name: roleName,
      description: `Runs the data-quality monitoring of endpoint ${this.endpointName}`,
      assumeRolePolicy: sagemakerTrustPolicy(location),
    });
    const policy = new IamRolePolicy(this, "MonitoringPolicy", {
      name: "monitor-data-quality",
      role: role.name,
      policy: policyJson(statements),
    });

    const imageUri =
      monitoring.analyzerImageUri ??
      new DataAwsSagemakerPrebuiltEcrImage(this, "AnalyzerImage", {
        repositoryName: "sagemaker-model-monitor-analyzer",
      }).registryPath;
    const jobName = shorten(`${this.endpointName}-data-quality`, 63);
    // A job definition cannot be changed in place. Its name carries a hash of its arguments, so a changed one is
    // created next to the old one (create_before_destroy), the schedule moves to it, and only then is the old
    // one deleted: the schedule never names a definition that is gone, even when the new one fails to create.
    const spec = {
      roleArn: roleArn(location, roleName),
      dataQualityAppSpecification: { imageUri },
      ...(monitoring.baseline
        ? {
            dataQualityBaselineConfig: {
              statisticsResource: { s3Uri: monitoring.baseline.statisticsS3Uri },
              constraintsResource: { s3Uri: monitoring.baseline.constraintsS3Uri },
            },
          }
        : {}),
      dataQualityJobInput: {
        endpointInput: { endpointName: this.endpoint.name, localPath: "/opt/ml/processing/input" },
      },
      dataQualityJobOutputConfig: {
        kmsKeyId: keyIdentifier(location, capture.key),
        monitoringOutputs: {
          s3Output: { s3Uri: outputUri, localPath: "/opt/ml/processing/output", s3UploadMode: "EndOfJob" },
        },
      },
      jobResources: {
        clusterConfig: {
          instanceCount: 1,
          instanceType: monitoring.instanceType ?? "ml.m5.xlarge",
          volumeSizeInGb: 20,
          volumeKmsKeyId: keyIdentifier(location, props.encryptionKey),
        },
      },
      networkConfig: {
        enableInterContainerTrafficEncryption: true,
        enableNetworkIsolation: true,
        ...(vpc ? { vpcConfig: { subnets: vpc.subnetIds, securityGroupIds: vpc.securityGroupIds } } : {}),
      },
      stoppingCondition: { maxRuntimeInSeconds: 3600 },
    };
    const specHash = Fn.substr(Fn.sha1(Fn.jsonencode(spec)), 0, 8);
    const definition = new SagemakerDataQualityJobDefinition(this, "DataQualityJob", {
      name: `${shorten(`${this.endpointName}-data-quality`, 54)}-${specHash}`,
      ...spec,
      dependsOn: [policy, role],
      lifecycle: { createBeforeDestroy: true },
    });
    return new SagemakerMonitoringSchedule(this, "MonitoringSchedule", {
      name: jobName,
      monitoringScheduleConfig: {
        monitoringJobDefinitionName: definition.name,
        monitoringType: "DataQuality",
        scheduleConfig: { scheduleExpression: monitoring.scheduleExpression ?? "cron(0 * ? * * *)" },
      },
    });
  }
}

type CheckedCapacity =
  | { kind: "serverless"; memorySizeInMb: number; maxConcurrency: number }
  | {
      kind: "instances";
      instanceType: string;
      min: number;
      max: number;
      initial: number;
      targetInvocationsPerInstance: number;
    };

function checkCapacity(props: SageMakerEndpointProps, where: string): CheckedCapacity {
  if (Boolean(props.instances) === Boolean(props.serverless)) {
    throw new Error(`${where}: give exactly one of instances (real-time) or serverless.`);
  }
  if (props.serverless) {
    const { memorySizeInMb, maxConcurrency } = props.serverless;
    if (
      !Number.isInteger(memorySizeInMb) ||
      memorySizeInMb < 1024 ||
      memorySizeInMb > 6144 ||
      memorySizeInMb % 1024 !== 0
    ) {
      throw new Error(
        `${where}: serverless.memorySizeInMb (${memorySizeInMb}) must be 1024, 2048, 3072, 4096, 5120 or 6144.`,
      );
    }
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 200) {
      throw new Error(
        `${where}: serverless.maxConcurrency (${maxConcurrency}) must be a whole number from 1 to 200.`,
      );
    }
    return { kind: "serverless", memorySizeInMb, maxConcurrency };
  }
  const instances = props.instances!;
  if (!/^ml\.[a-z0-9-]+\.[a-z0-9]+$/.test(instances.instanceType)) {
    throw new Error(
      `${where}: instances.instanceType "${instances.instanceType}" must be a SageMaker instance type such as ml.m5.large.`,
    );
  }
  const min = instances.minInstanceCount ?? 1;
  const max = instances.maxInstanceCount ?? min;
  const initial = instances.initialInstanceCount ?? min;
  const target = instances.targetInvocationsPerInstance ?? 100;
  if (!Number.isInteger(min) || min < 1)
    throw new Error(`${where}: instances.minInstanceCount (${min}) must be at least 1.`);
  if (!Number.isInteger(max) || max < min) {
    throw new Error(
      `${where}: instances.maxInstanceCount (${max}) must be at least minInstanceCount (${min}).`,
    );
  }
  if (!Number.isInteger(initial) || initial < min || initial > max) {
    throw new Error(
      `${where}: instances.initialInstanceCount (${initial}) must be between minInstanceCount (${min}) and maxInstanceCount (${max}).`,
    );
  }
  if (!(target > 0))
    throw new Error(`${where}: instances.targetInvocationsPerInstance (${target}) must be greater than 0.`);
  return {
    kind: "instances",
    instanceType: instances.instanceType,
    min,
    max,
    initial,
    targetInvocationsPerInstance: target,
  };
}

function checkNetwork(props: SageMakerEndpointProps, serverless: boolean, where: string): boolean {
  if (serverless) {
    if (props.vpc)
      throw new Error(`${where}: serverless endpoints cannot run in a VPC; remove vpc or use instances.`);
    if (props.networkIsolation === true) {
      throw new Error(
        `${where}: serverless endpoints do not support network isolation; remove networkIsolation or use instances.`,
      );
    }
    return false;
  }
  if (!props.vpc || props.vpc.subnetIds.length === 0 || props.vpc.securityGroupIds.length === 0) {
    throw new Error(
      `${where}: instance endpoints run in private subnets; give vpc.subnetIds and vpc.securityGroupIds.`,
    );
  }
  const isolation = props.networkIsolation ?? true;
  if (!isolation && (props.networkAccessReason?.trim().length ?? 0) < 10) {
    throw new Error(
      `${where}: networkIsolation is off; say in networkAccessReason (10 characters at least) why the model needs the network.`,
    );
  }
  return isolation;
}

interface CheckedDeployment {
  type: "ALL_AT_ONCE" | "CANARY" | "LINEAR";
  stepPercent: number;
  waitIntervalSeconds: number;
  terminationWaitSeconds: number;
}

function checkDeployment(
  policy: SageMakerDeploymentPolicy,
  serverless: boolean,
  capacity: CheckedCapacity,
  where: string,
): CheckedDeployment {
  const strategy = policy.strategy ?? "all-at-once";
  const type = ({ "all-at-once": "ALL_AT_ONCE", canary: "CANARY", linear: "LINEAR" } as const)[strategy];
  const stepPercent = policy.stepPercent ?? (strategy === "linear" ? 25 : 10);
  const waitIntervalSeconds = policy.waitIntervalSeconds ?? 300;
  const terminationWaitSeconds = policy.terminationWaitSeconds ?? 600;
  if (type !== "ALL_AT_ONCE") {
    // Canary and linear steps are sized in capacity of an instance fleet; a step of a one-instance fleet
    // would be the whole fleet.
    if (serverless) {
      throw new Error(
        `${where}: ${strategy} traffic shifting needs instances; serverless endpoints deploy all at once.`,
      );
    }
    if (capacity.kind === "instances" && capacity.initial < 2) {
      throw new Error(
        `${where}: ${strategy} traffic shifting needs at least 2 instances (initialInstanceCount is ${capacity.initial}).`,
      );
    }
    // SageMaker's TrafficRoutingConfig: CanarySize is at most 50 % of the variant's instances,
    // LinearStepSize 10-50 %.
    const minStep = type === "CANARY" ? 1 : 10;
    const maxStep = 50;
    if (!Number.isInteger(stepPercent) || stepPercent < minStep || stepPercent > maxStep) {
      throw new Error(
        `${where}: deployment.stepPercent (${stepPercent}) must be a whole number from ${minStep} to ${maxStep} for ${strategy}: SageMaker shifts ${minStep}-${maxStep} % of the instances per ${type === "CANARY" ? "canary" : "linear step"}.`,
      );
    }
  }
  if (!Number.isInteger(waitIntervalSeconds) || waitIntervalSeconds < 0 || waitIntervalSeconds > 3600) {
    throw new Error(
      `${where}: deployment.waitIntervalSeconds (${waitIntervalSeconds}) must be from 0 to 3600.`,
    );
  }
  if (
    !Number.isInteger(terminationWaitSeconds) ||
    terminationWaitSeconds < 0 ||
    terminationWaitSeconds > 3600
  ) {
    throw new Error(
      `${where}: deployment.terminationWaitSeconds (${terminationWaitSeconds}) must be from 0 to 3600.`,
    );
  }
  return { type, stepPercent, waitIntervalSeconds, terminationWaitSeconds };
}

/** Lets a SageMaker role create and write the streams of one log group. */
function logWriteStatement(sid: string, location: AwsLocation, logGroupName: string): PolicyStatement {
  return {
    Sid: sid,
    Effect: "Allow",
    Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
    Resource: [
      arn(location, "logs", `log-group:${logGroupName}`),
      arn(location, "logs", `log-group:${logGroupName}:*`),
    ],
  };
}

function sagemakerTrustPolicy(location: AwsLocation): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "sagemaker.amazonaws.com" },
        Action: "sts:AssumeRole",
        // Only SageMaker acting for this account, so another account cannot make SageMaker use the role.
        Condition: { StringEquals: { "aws:SourceAccount": location.accountId } },
      },
    ],
  });
}

/** What SageMaker needs to attach the containers to our subnets: ENIs in those subnets only. */
function networkInterfaceStatements(
  location: AwsLocation,
  vpc: { readonly subnetIds: string[]; readonly securityGroupIds: string[] },
): PolicyStatement[] {
  return [
    {
      Sid: "DescribeNetwork",
      Effect: "Allow",
      Action: [
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
      ],
      // Describe calls cannot be scoped to resources.
      Resource: "*",
    },
    {
      Sid: "CreateNetworkInterfacesInPrivateSubnets",
      Effect: "Allow",
      Action: ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission"],
      Resource: [
        arn(location, "ec2", "network-interface/*"),
        ...vpc.subnetIds.map((id) => arn(location, "ec2", `subnet/${id}`)),
        ...vpc.securityGroupIds.map((id) => arn(location, "ec2", `security-group/${id}`)),
      ],
    },
    {
      Sid: "DeleteNetworkInterfaces",
      Effect: "Allow",
      Action: ["ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
      Resource: arn(location, "ec2", "network-interface/*"),
    },
  ];
}
