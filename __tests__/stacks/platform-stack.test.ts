import { configFor, onlyResource, resourcesOf, synthEnvironment, type StackJson } from "../helpers/synth";

const values = (json: StackJson, type: string) => Object.values(resourcesOf(json, type));
const byKeyPrefix = (json: StackJson, type: string, prefix: string) =>
  Object.entries(resourcesOf(json, type)).find(([key]) => key.startsWith(prefix))![1];
const trustOf = (json: StackJson, prefix: string): unknown[] =>
  (
    JSON.parse(byKeyPrefix(json, "aws_iam_role", prefix).assume_role_policy as string) as {
      Statement: unknown[];
    }
  ).Statement;
/** The trust of a Pod Identity role: pods of the environment's cluster, in its account, only. */
const podIdentityTrust = (account: string, clusterName: string) => [
  {
    Effect: "Allow",
    Principal: { Service: "pods.eks.amazonaws.com" },
    Action: ["sts:AssumeRole", "sts:TagSession"],
    Condition: {
      StringEquals: { "aws:SourceAccount": account },
      ArnEquals: { "aws:SourceArn": `arn:aws:eks:eu-west-1:${account}:cluster/${clusterName}` },
    },
  },
];
const policyOf = (json: StackJson, prefix: string) =>
  JSON.parse(byKeyPrefix(json, "aws_iam_role_policy", prefix).policy as string) as {
    Statement: { Sid: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown }[];
  };

describe("platform stack", () => {
  let dev: StackJson;
  let prod: StackJson;
  beforeAll(() => {
    dev = synthEnvironment(configFor("dev")).json.platform;
    prod = synthEnvironment(configFor("prod")).json.platform;
  });

  describe("network", () => {
    it("spans the environment's zones with the VPC CIDR of its file", () => {
      expect(onlyResource(dev, "aws_vpc").cidr_block).toBe("10.10.0.0/16");
      expect(values(dev, "aws_subnet")).toHaveLength(4);
      expect(values(prod, "aws_subnet")).toHaveLength(6);
    });

    it("has one NAT gateway in dev and one per zone in prod", () => {
      expect(values(dev, "aws_nat_gateway")).toHaveLength(1);
      expect(values(prod, "aws_nat_gateway")).toHaveLength(3);
    });

    it("keeps flow logs as long as the environment keeps logs, encrypted with the platform key", () => {
      const flowLogs = byKeyPrefix(prod, "aws_cloudwatch_log_group", "Network_FlowLogGroup");
      expect(flowLogs).toMatchObject({
        retention_in_days: 365,
        kms_key_id: "${aws_kms_key.PlatformKey.arn}",
      });
      expect(byKeyPrefix(dev, "aws_cloudwatch_log_group", "Network_FlowLogGroup").retention_in_days).toBe(30);
    });
  });

  describe("platform key", () => {
    it("rotates and lets CloudWatch Logs use it only for this account's log groups", () => {
      const key = resourcesOf(prod, "aws_kms_key").PlatformKey;
      expect(key.enable_key_rotation).toBe(true);
      const statement = JSON.parse(key.policy as string).Statement[1];
      expect(statement.Principal).toEqual({ Service: "logs.eu-west-1.amazonaws.com" });
      expect(statement.Condition).toEqual({
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:333333333333:log-group:*" },
      });
    });

    it("is protected in prod only", () => {
      expect(resourcesOf(prod, "aws_kms_key").PlatformKey.lifecycle).toEqual({ prevent_destroy: true });
      expect(resourcesOf(dev, "aws_kms_key").PlatformKey.lifecycle).toEqual({ prevent_destroy: false });
    });
  });

  describe("cluster", () => {
    it("is named <project>-<env>-eks with the pinned Kubernetes version", () => {
      expect(onlyResource(dev, "aws_eks_cluster")).toMatchObject({ name: "mlops-dev-eks", version: "1.33" });
    });

    it("has a public endpoint in dev, only from the listed CIDRs", () => {
      expect(onlyResource(dev, "aws_eks_cluster").vpc_config).toMatchObject({
        endpoint_public_access: true,
        public_access_cidrs: ["203.0.113.0/24"],
      });
    });

    it("has a private endpoint in prod", () => {
      expect(onlyResource(prod, "aws_eks_cluster").vpc_config).toMatchObject({
        endpoint_private_access: true,
        endpoint_public_access: false,
      });
    });

    it("makes the creator admin in dev, and only the listed roles in prod", () => {
      expect(onlyResource(dev, "aws_eks_cluster").access_config).toMatchObject({
        bootstrap_cluster_creator_admin_permissions: true,
      });
      expect(onlyResource(prod, "aws_eks_cluster").access_config).toMatchObject({
        bootstrap_cluster_creator_admin_permissions: false,
      });
      // The keys are part of the contract: renaming them would replace the entries.
      expect(Object.keys(resourcesOf(prod, "aws_eks_access_entry"))).toEqual([
        expect.stringMatching(/^Cluster_AdminAccessEntry-platform-deploy_/),
      ]);
      expect(Object.keys(resourcesOf(prod, "aws_eks_access_policy_association"))).toEqual([
        expect.stringMatching(/^Cluster_AdminAccessPolicy-platform-deploy_/),
      ]);
      expect(onlyResource(prod, "aws_eks_access_entry")).toMatchObject({
        principal_arn: "arn:aws:iam::333333333333:role/platform-deploy",
      });
      expect(onlyResource(prod, "aws_eks_access_entry").depends_on).toBeUndefined();
      expect(
        Object.keys(resourcesOf(dev, "aws_eks_access_entry")).filter((key) =>
          key.startsWith("Cluster_AdminAccessEntry-"),
        ),
      ).toEqual([]);
    });

    it("lets the CI deploy role administer the cluster and the branches' plan role read all of it", () => {
      const accessOf = (json: StackJson) =>
        Object.fromEntries(
          values(json, "aws_eks_access_policy_association").map((a) => [a.principal_arn, a.policy_arn]),
        );
      const policy = (name: string) => `arn:aws:eks::aws:cluster-access-policy/${name}`;
      // The pull requests' plan role (mlops-dev-github-pr-plan) gets none.
      expect(accessOf(dev)).toEqual({
        "arn:aws:iam::111111111111:role/mlops-dev-github-deploy": policy("AmazonEKSClusterAdminPolicy"),
        "arn:aws:iam::111111111111:role/mlops-dev-github-plan": policy("AmazonEKSAdminViewPolicy"),
      });
      // EKS refuses an entry for a role that does not exist yet: the roles are created in the same apply.
      expect(byKeyPrefix(dev, "aws_eks_access_entry", "Cluster_GithubDeployAccessEntry").depends_on).toEqual([
        expect.stringMatching(/^aws_iam_role\.GithubCi_DeployRole_/),
      ]);
      expect(byKeyPrefix(dev, "aws_eks_access_entry", "Cluster_GithubPlanAccessEntry").depends_on).toEqual([
        expect.stringMatching(/^aws_iam_role\.GithubCi_PlanRole_/),
      ]);
    });

    it("gives the CI roles no access where Terraform assumes aws.assumeRoleArn (prod)", () => {
      // prod.yaml's assumeRoleArn is platform-deploy, the one admin entry checked above.
      expect(values(prod, "aws_iam_role").map((role) => role.name)).toContain("mlops-prod-github-plan");
      expect(
        values(prod, "aws_eks_access_entry").map((entry) => entry.principal_arn as string),
      ).not.toContainEqual(expect.stringContaining("github"));
    });

    it("prevents destroying the prod cluster but not the dev one", () => {
      expect(onlyResource(prod, "aws_eks_cluster").lifecycle).toEqual({ prevent_destroy: true });
      expect(onlyResource(dev, "aws_eks_cluster").lifecycle).toEqual({ prevent_destroy: false });
    });

    it("runs one system node in dev and two in prod", () => {
      expect(byKeyPrefix(dev, "aws_eks_node_group", "Cluster_SystemNodeGroup").scaling_config).toMatchObject({
        min_size: 1,
      });
      expect(byKeyPrefix(prod, "aws_eks_node_group", "Cluster_SystemNodeGroup").scaling_config).toMatchObject(
        { min_size: 2 },
      );
    });

    it("has a GPU node group on spot in dev and on demand in prod, both scaling from zero", () => {
      const devGpu = byKeyPrefix(dev, "aws_eks_node_group", "Cluster_GpuNodeGroup-g5");
      const prodGpu = byKeyPrefix(prod, "aws_eks_node_group", "Cluster_GpuNodeGroup-g5");
      expect(devGpu).toMatchObject({ capacity_type: "SPOT", scaling_config: { min_size: 0, max_size: 2 } });
      expect(prodGpu).toMatchObject({
        capacity_type: "ON_DEMAND",
        scaling_config: { min_size: 0, max_size: 4 },
      });
    });

    it("pins the add-on versions of the environment file", () => {
      const kubeProxy = values(dev, "aws_eks_addon").find((addon) => addon.addon_name === "kube-proxy")!;
      expect(kubeProxy.addon_version).toBe("v1.33.0-eksbuild.2");
    });

    it("lets nodes pull through the registry's pull-through cache rules, which import on first pull", () => {
      const policy = byKeyPrefix(dev, "aws_iam_role_policy", "ClusterNodesPullThroughCache");
      expect(policy.role).toMatch(/^\$\{aws_iam_role\.Cluster_NodeRole_[0-9A-F]+\.name\}$/);
      expect(policyOf(dev, "ClusterNodesPullThroughCache").Statement).toEqual([
        {
          Sid: "ImportThroughPullThroughCache",
          Effect: "Allow",
          Action: ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
          Resource: ["ecr-public", "k8s", "quay"].map(
            (prefix) => `arn:aws:ecr:eu-west-1:111111111111:repository/${prefix}/*`,
          ),
        },
      ]);
      const withoutCache = synthEnvironment(configFor("dev", { registry: { pullThroughCache: [] } })).json;
      expect(Object.keys(resourcesOf(withoutCache.platform, "aws_iam_role_policy"))).not.toContainEqual(
        expect.stringMatching(/PullThroughCache/),
      );
    });
  });

  describe("cluster autoscaler role", () => {
    it("is associated with kube-system/cluster-autoscaler through Pod Identity", () => {
      const association = values(dev, "aws_eks_pod_identity_association").find(
        (a) => a.namespace === "kube-system",
      )!;
      expect(association).toMatchObject({
        service_account: "cluster-autoscaler",
        cluster_name: "${aws_eks_cluster.Cluster_EB0386A7.name}",
      });
      expect(byKeyPrefix(dev, "aws_iam_role", "ClusterAutoscalerRole").name).toBe(
        "mlops-dev-cluster-autoscaler",
      );
    });

    it("may be assumed only by pods of this environment's cluster, in its account", () => {
      expect(trustOf(dev, "ClusterAutoscalerRole")).toEqual(
        podIdentityTrust("111111111111", "mlops-dev-eks"),
      );
      expect(trustOf(prod, "ClusterAutoscalerRole")).toEqual(
        podIdentityTrust("333333333333", "mlops-prod-eks"),
      );
    });

    it("may resize only Auto Scaling groups owned by this cluster", () => {
      const resize = policyOf(dev, "ClusterAutoscalerRole").Statement.find(
        (s) => s.Sid === "ResizeOnlyThisClustersGroups",
      )!;
      expect(resize.Condition).toEqual({
        StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/mlops-dev-eks": "owned" },
      });
    });
  });

  describe("training role", () => {
    it("is associated with training/training through Pod Identity", () => {
      const association = values(dev, "aws_eks_pod_identity_association").find(
        (a) => a.namespace === "training",
      )!;
      expect(association.service_account).toBe("training");
    });

    it("may be assumed only by pods of this environment's cluster, in its account", () => {
      expect(trustOf(dev, "TrainingRole")).toEqual(podIdentityTrust("111111111111", "mlops-dev-eks"));
      expect(trustOf(prod, "TrainingRole")).toEqual(podIdentityTrust("333333333333", "mlops-prod-eks"));
    });

    it("reads the data buckets by name and decrypts only through S3 with the data key", () => {
      const statements = policyOf(dev, "TrainingRole").Statement;
      expect(statements.find((s) => s.Sid === "ReadDataObjects")!.Resource).toEqual([
        "arn:aws:s3:::mlops-dev-raw-111111111111/*",
        "arn:aws:s3:::mlops-dev-curated-111111111111/*",
        "arn:aws:s3:::mlops-dev-features-111111111111/*",
      ]);
      expect(statements.find((s) => s.Sid === "DecryptDataThroughS3")!.Condition).toEqual({
        "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/mlops-dev-data" },
        StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
      });
      const actions = statements.flatMap((s) => s.Action);
      expect(actions).not.toContain("s3:PutObject");
    });
  });
});
