/**
 * A team's own infra repo: one stack that takes a data bucket, a container registry and a GPU training
 * cluster from the mlops-platform package and composes them with its own provider and backend.
 *
 * `ACME_OFFLINE=1` leaves allowed_account_ids out, so the stack can be validated without an AWS account.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { App, LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import {
  AccessLogBucket,
  ContainerRegistry,
  EncryptionKey,
  GpuTrainingCluster,
  MlopsNetwork,
  Naming,
  PodIdentityRole,
  VersionedDataBucket,
} from "mlops-platform";

const location = { accountId: "444444444444", region: "us-east-1" };
const zones = ["us-east-1a", "us-east-1b"];

class VisionTeamStack extends TerraformStack {
  constructor(scope: Construct, id: string, offline: boolean) {
    super(scope, id);
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });
    new AwsProvider(this, "aws", {
      region: location.region,
      ...(offline
        ? { skipCredentialsValidation: true, skipRequestingAccountId: true, skipMetadataApiCheck: "true" }
        : { allowedAccountIds: [location.accountId] }),
      defaultTags: [{ tags: { Team: "vision", ManagedBy: "cdktf" } }],
    });
    const naming = new Naming({ project: "vision", environment: "dev" });

    // Data: a key, the access-log bucket and one versioned dataset bucket.
    const dataKey = new EncryptionKey(this, "DataKey", {
      naming,
      location,
      purpose: "data",
      viaServices: ["s3"],
      principalArnPatterns: [`arn:aws:iam::${location.accountId}:role/vision-dev-*`],
      deletionWindowDays: 7,
      preventDestroy: false,
    });
    const logs = new AccessLogBucket(this, "AccessLogs", { naming, location, preventDestroy: false });
    const images = new VersionedDataBucket(this, "ImagesBucket", {
      naming,
      location,
      purpose: "images",
      encryptionKey: dataKey,
      accessLogBucketName: logs.bucketName,
      preventDestroy: false,
    });

    // Images the team trains with.
    const registryKey = new EncryptionKey(this, "RegistryKey", {
      naming,
      location,
      purpose: "registry",
      viaServices: ["ecr"],
      deletionWindowDays: 7,
      preventDestroy: false,
    });
    new ContainerRegistry(this, "Registry", {
      naming,
      location,
      encryptionKey: registryKey,
      repositories: { trainer: {} },
      preventDestroy: false,
    });

    // A private network and a GPU cluster whose GPU nodes scale to zero.
    const clusterKey = new KmsKey(this, "ClusterKey", {
      description: "EKS secrets and log groups of the vision team",
      enableKeyRotation: true,
      deletionWindowInDays: 7,
    });
    const network = new MlopsNetwork(this, "Network", {
      name: naming.prefix,
      location,
      cidrBlock: "10.40.0.0/16",
      availabilityZones: zones,
      logsKmsKeyArn: clusterKey.arn,
      clusterNames: ["vision-dev-eks"],
      preventDestroy: false,
    });
    const cluster = new GpuTrainingCluster(this, "Cluster", {
      clusterName: "vision-dev-eks",
      location,
      kubernetesVersion: "1.33",
      network,
      encryptionKeyArn: clusterKey.arn,
      gpuNodeGroups: { l4: { instanceTypes: ["g6.xlarge"], capacityType: "SPOT", minSize: 0, maxSize: 2 } },
      preventDestroy: false,
    });

    // Training pods read the dataset bucket through EKS Pod Identity.
    const trainer = new PodIdentityRole(this, "TrainerRole", {
      roleName: naming.name("iamRole", "trainer"),
      accountId: location.accountId,
    });
    images.grantRead(trainer.role, "datasets");
    cluster.grantServiceAccount("training", "trainer", trainer);

    new TerraformOutput(this, "images_bucket", { value: images.bucketName });
  }
}

const app = new App();
new VisionTeamStack(app, "vision-dev", process.env.ACME_OFFLINE === "1");
app.synth();
