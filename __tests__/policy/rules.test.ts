import { evaluateStack, type PolicyFinding } from "../../constructs/policy/engine";
import { RULES, ruleById } from "../../constructs/policy/rules";
import type { Tier } from "../../environments/tier";
import {
  deployment,
  GOOD_BUCKET,
  GOOD_CONTAINER,
  patched,
  stackJson,
  without,
  type Resources,
} from "./fixtures";

interface RuleCase {
  /** What the bad fixture gets wrong. */
  readonly name: string;
  readonly rule: string;
  /** The address the finding must be about. */
  readonly subject: string;
  readonly good: Resources;
  readonly bad: Resources;
  readonly tier?: Tier;
}

const B = "aws_s3_bucket.Data";
const policy = (statements: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const goodRepository = {
  "aws_ecr_repository.Training": {
    name: "mlops-prod-training",
    image_tag_mutability: "IMMUTABLE",
    image_scanning_configuration: [{ scan_on_push: true }],
    encryption_configuration: [{ encryption_type: "KMS", kms_key: "${aws_kms_key.Registry.arn}" }],
    force_delete: false,
  },
  "aws_ecr_lifecycle_policy.TrainingLifecycle": {
    repository: "${aws_ecr_repository.Training.name}",
    policy: JSON.stringify({
      rules: [{ rulePriority: 1, selection: { tagStatus: "untagged" }, action: { type: "expire" } }],
    }),
  },
};
const goodKey = {
  "aws_kms_key.Data": {
    enable_key_rotation: true,
    deletion_window_in_days: 30,
    policy: policy([
      {
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::333333333333:root" },
        Action: "kms:*",
        Resource: "*",
      },
    ]),
  },
};
const goodCluster = {
  "aws_eks_cluster.Cluster": {
    name: "mlops-prod",
    vpc_config: [
      { endpoint_public_access: false, endpoint_private_access: true, subnet_ids: ["${aws_subnet.A.id}"] },
    ],
    encryption_config: [{ resources: ["secrets"], provider: [{ key_arn: "${aws_kms_key.Cluster.arn}" }] }],
    enabled_cluster_log_types: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
  },
};
const goodTemplate = {
  "aws_launch_template.Gpu": {
    name: "mlops-prod-gpu",
    metadata_options: [{ http_tokens: "required", http_put_response_hop_limit: 1, http_endpoint: "enabled" }],
  },
};
const goodNodeGroup = {
  ...goodTemplate,
  "aws_eks_node_group.Gpu": {
    cluster_name: "mlops-prod",
    launch_template: [{ id: "${aws_launch_template.Gpu.id}", version: "$Latest" }],
  },
};
const goodDatabase = {
  "aws_db_instance.Registry": {
    engine: "postgres",
    engine_version: "16.4",
    storage_encrypted: true,
    publicly_accessible: false,
    deletion_protection: true,
    multi_az: true,
    backup_retention_period: 14,
    manage_master_user_password: true,
    parameter_group_name: "${aws_db_parameter_group.Registry.name}",
    skip_final_snapshot: false,
  },
  "aws_db_parameter_group.Registry": {
    name: "mlops-prod-registry",
    family: "postgres16",
    parameter: [{ name: "rds.force_ssl", value: "1" }],
  },
};
const goodEndpointConfig = {
  "aws_sagemaker_endpoint_configuration.Churn": {
    kms_key_arn: "${aws_kms_key.Serving.arn}",
    production_variants: [
      { variant_name: "blue", instance_type: "ml.m5.xlarge", initial_instance_count: 2, model_name: "churn" },
    ],
    data_capture_config: [
      {
        enable_capture: true,
        initial_sampling_percentage: 10,
        destination_s3_uri: "s3://x/capture",
        kms_key_id: "${aws_kms_key.Data.arn}",
      },
    ],
  },
};
const goodModel = {
  "aws_sagemaker_model.Churn": {
    execution_role_arn: "${aws_iam_role.Churn.arn}",
    enable_network_isolation: true,
    vpc_config: [{ subnets: ["${aws_subnet.A.id}"], security_group_ids: ["${aws_security_group.Model.id}"] }],
  },
};
const role = (trust: unknown[], extra: Record<string, unknown> = {}) => ({
  "aws_iam_role.Ci": { name: "ci", assume_role_policy: policy(trust), ...extra },
});
const serviceTrust = [
  { Effect: "Allow", Principal: { Service: "sagemaker.amazonaws.com" }, Action: "sts:AssumeRole" },
];
const githubTrust = (sub: string | undefined) => [
  {
    Effect: "Allow",
    Principal: { Federated: "arn:aws:iam::333333333333:oidc-provider/token.actions.githubusercontent.com" },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
      ...(sub ? { StringLike: { "token.actions.githubusercontent.com:sub": sub } } : {}),
    },
  },
];
/** GitHub's OIDC provider created in the stack, and a role trusting it through a reference to its ARN. */
const githubProviderRole = (sub: string | undefined) => ({
  "aws_iam_openid_connect_provider.Github": {
    url: "https://token.actions.githubusercontent.com",
    client_id_list: ["sts.amazonaws.com"],
  },
  ...role(
    githubTrust(sub).map((statement) => ({
      ...statement,
      Principal: { Federated: "${aws_iam_openid_connect_provider.Github.arn}" },
    })),
  ),
});
/** A trust written as a policy document data source, for the GitHub provider looked up as a data source. */
const githubDocumentRole = (withSubject: boolean) => ({
  "data.aws_iam_openid_connect_provider.Github": { url: "https://token.actions.githubusercontent.com" },
  "data.aws_iam_policy_document.CiTrust": {
    statement: [
      {
        effect: "Allow",
        actions: ["sts:AssumeRoleWithWebIdentity"],
        principals: [
          { type: "Federated", identifiers: ["${data.aws_iam_openid_connect_provider.Github.arn}"] },
        ],
        condition: [
          {
            test: "StringEquals",
            variable: "token.actions.githubusercontent.com:aud",
            values: ["sts.amazonaws.com"],
          },
          ...(withSubject
            ? [
                {
                  test: "StringEquals",
                  variable: "token.actions.githubusercontent.com:sub",
                  values: ["repo:acme/mlops-platform:environment:prod"],
                },
              ]
            : []),
        ],
      },
    ],
  },
  "aws_iam_role.Ci": { name: "ci", assume_role_policy: "${data.aws_iam_policy_document.CiTrust.json}" },
});
const rolePolicy = (statements: unknown[]) => ({
  "aws_iam_role_policy.Reader": { role: "${aws_iam_role.Ci.id}", policy: policy(statements) },
});
const vpc = (extra: Resources = {}) => ({
  "aws_vpc.Main": { cidr_block: "10.30.0.0/16" },
  "aws_flow_log.Main": {
    vpc_id: "${aws_vpc.Main.id}",
    traffic_type: "ALL",
    log_destination: "${aws_cloudwatch_log_group.Flow.arn}",
  },
  "aws_default_security_group.Default": { vpc_id: "${aws_vpc.Main.id}" },
  ...extra,
});
const lbGroup = (port: number) => ({
  "aws_security_group.Lb": { vpc_id: "${aws_vpc.Main.id}" },
  "aws_vpc_security_group_ingress_rule.LbHttps": {
    security_group_id: "${aws_security_group.Lb.id}",
    cidr_ipv4: "0.0.0.0/0",
    from_port: port,
    to_port: port,
    ip_protocol: "tcp",
  },
  "aws_lb.Public": {
    internal: false,
    load_balancer_type: "application",
    security_groups: ["${aws_security_group.Lb.id}"],
  },
});

const CASES: RuleCase[] = [
  {
    rule: "MLOPS-S3-001",
    name: "no versioning resource",
    subject: B,
    good: GOOD_BUCKET,
    bad: without(GOOD_BUCKET, "aws_s3_bucket_versioning.DataVersioning"),
  },
  {
    rule: "MLOPS-S3-001",
    name: "versioning suspended",
    subject: B,
    good: GOOD_BUCKET,
    bad: patched(GOOD_BUCKET, "aws_s3_bucket_versioning.DataVersioning", {
      versioning_configuration: { status: "Suspended" },
    }),
  },
  {
    rule: "MLOPS-S3-002",
    name: "no encryption configuration",
    subject: B,
    good: GOOD_BUCKET,
    bad: without(GOOD_BUCKET, "aws_s3_bucket_server_side_encryption_configuration.DataEncryption"),
  },
  {
    rule: "MLOPS-S3-002",
    name: "SSE-S3 instead of KMS",
    subject: B,
    good: GOOD_BUCKET,
    bad: patched(GOOD_BUCKET, "aws_s3_bucket_server_side_encryption_configuration.DataEncryption", {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    }),
  },
  {
    rule: "MLOPS-S3-003",
    name: "a public access block setting off",
    subject: B,
    good: GOOD_BUCKET,
    bad: patched(GOOD_BUCKET, "aws_s3_bucket_public_access_block.DataPab", {
      restrict_public_buckets: false,
    }),
  },
  {
    rule: "MLOPS-S3-003",
    name: "no public access block",
    subject: B,
    good: GOOD_BUCKET,
    bad: without(GOOD_BUCKET, "aws_s3_bucket_public_access_block.DataPab"),
  },
  {
    rule: "MLOPS-S3-004",
    name: "no bucket policy",
    subject: B,
    good: GOOD_BUCKET,
    bad: without(GOOD_BUCKET, "aws_s3_bucket_policy.DataPolicy"),
  },
  {
    rule: "MLOPS-S3-004",
    name: "TLS denial on objects only",
    subject: B,
    good: GOOD_BUCKET,
    bad: patched(GOOD_BUCKET, "aws_s3_bucket_policy.DataPolicy", {
      policy: policy([
        {
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: "${aws_s3_bucket.Data.arn}/*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]),
    }),
  },
  {
    rule: "MLOPS-S3-005",
    name: "no access logging",
    subject: B,
    good: GOOD_BUCKET,
    bad: without(GOOD_BUCKET, "aws_s3_bucket_logging.DataLogging"),
  },
  {
    rule: "MLOPS-S3-006",
    name: "abort rule limited to a prefix",
    subject: B,
    good: GOOD_BUCKET,
    bad: patched(GOOD_BUCKET, "aws_s3_bucket_lifecycle_configuration.DataLifecycle", {
      rule: [
        {
          id: "abort",
          status: "Enabled",
          filter: [{ prefix: "tmp/" }],
          abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
        },
      ],
    }),
  },
  {
    rule: "MLOPS-S3-006",
    name: "no lifecycle configuration",
    subject: B,
    good: GOOD_BUCKET,
    bad: without(GOOD_BUCKET, "aws_s3_bucket_lifecycle_configuration.DataLifecycle"),
  },
  {
    rule: "MLOPS-S3-007",
    name: "an ACL resource",
    subject: B,
    good: GOOD_BUCKET,
    bad: { ...GOOD_BUCKET, "aws_s3_bucket_acl.DataAcl": { bucket: "mlops-prod-data", acl: "public-read" } },
  },
  {
    rule: "MLOPS-S3-007",
    name: "ownership controls allowing ACLs",
    subject: B,
    good: GOOD_BUCKET,
    bad: patched(GOOD_BUCKET, "aws_s3_bucket_ownership_controls.DataOwnership", {
      rule: { object_ownership: "ObjectWriter" },
    }),
  },
  {
    rule: "MLOPS-S3-008",
    name: "force_destroy",
    subject: B,
    good: GOOD_BUCKET,
    bad: patched(GOOD_BUCKET, B, { force_destroy: true }),
  },
  {
    rule: "MLOPS-S3-009",
    name: "anonymous read",
    subject: "aws_s3_bucket_policy.DataPolicy",
    good: GOOD_BUCKET,
    bad: patched(GOOD_BUCKET, "aws_s3_bucket_policy.DataPolicy", {
      policy: policy([
        { Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "${aws_s3_bucket.Data.arn}/*" },
      ]),
    }),
  },
  {
    rule: "MLOPS-ECR-001",
    name: "mutable tags",
    subject: "aws_ecr_repository.Training",
    good: goodRepository,
    bad: patched(goodRepository, "aws_ecr_repository.Training", { image_tag_mutability: "MUTABLE" }),
  },
  {
    rule: "MLOPS-ECR-002",
    name: "no scan on push",
    subject: "aws_ecr_repository.Training",
    good: goodRepository,
    bad: patched(goodRepository, "aws_ecr_repository.Training", {
      image_scanning_configuration: [{ scan_on_push: false }],
    }),
  },
  {
    rule: "MLOPS-ECR-003",
    name: "AES256 encryption",
    subject: "aws_ecr_repository.Training",
    good: goodRepository,
    bad: patched(goodRepository, "aws_ecr_repository.Training", { encryption_configuration: undefined }),
  },
  {
    rule: "MLOPS-ECR-004",
    name: "no lifecycle policy",
    subject: "aws_ecr_repository.Training",
    good: goodRepository,
    bad: without(goodRepository, "aws_ecr_lifecycle_policy.TrainingLifecycle"),
  },
  {
    rule: "MLOPS-ECR-005",
    name: "public pull",
    subject: "aws_ecr_repository_policy.Public",
    good: {
      ...goodRepository,
      "aws_ecr_repository_policy.Public": {
        repository: "mlops-prod-training",
        policy: policy([
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::222222222222:root" },
            Action: "ecr:BatchGetImage",
          },
        ]),
      },
    },
    bad: {
      ...goodRepository,
      "aws_ecr_repository_policy.Public": {
        repository: "mlops-prod-training",
        policy: policy([{ Effect: "Allow", Principal: { AWS: "*" }, Action: "ecr:BatchGetImage" }]),
      },
    },
  },
  {
    rule: "MLOPS-ECR-006",
    name: "force_delete",
    subject: "aws_ecr_repository.Training",
    good: goodRepository,
    bad: patched(goodRepository, "aws_ecr_repository.Training", { force_delete: true }),
  },
  {
    rule: "MLOPS-KMS-001",
    name: "no rotation",
    subject: "aws_kms_key.Data",
    good: goodKey,
    bad: patched(goodKey, "aws_kms_key.Data", { enable_key_rotation: false }),
  },
  {
    rule: "MLOPS-KMS-002",
    name: "7-day window in prod",
    subject: "aws_kms_key.Data",
    good: goodKey,
    bad: patched(goodKey, "aws_kms_key.Data", { deletion_window_in_days: 7 }),
  },
  {
    rule: "MLOPS-KMS-003",
    name: "anyone may use the key",
    subject: "aws_kms_key.Data",
    good: goodKey,
    bad: patched(goodKey, "aws_kms_key.Data", {
      policy: policy([{ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" }]),
    }),
  },
  {
    rule: "MLOPS-EKS-001",
    name: "public endpoint open to the internet",
    subject: "aws_eks_cluster.Cluster",
    good: goodCluster,
    bad: patched(goodCluster, "aws_eks_cluster.Cluster", {
      vpc_config: [{ endpoint_public_access: true, public_access_cidrs: ["0.0.0.0/0"] }],
    }),
  },
  {
    rule: "MLOPS-EKS-002",
    name: "public endpoint in prod, even from listed CIDRs",
    subject: "aws_eks_cluster.Cluster",
    good: goodCluster,
    bad: patched(goodCluster, "aws_eks_cluster.Cluster", {
      vpc_config: [{ endpoint_public_access: true, public_access_cidrs: ["203.0.113.0/24"] }],
    }),
  },
  {
    rule: "MLOPS-EKS-003",
    name: "no secrets encryption",
    subject: "aws_eks_cluster.Cluster",
    good: goodCluster,
    bad: patched(goodCluster, "aws_eks_cluster.Cluster", { encryption_config: undefined }),
  },
  {
    rule: "MLOPS-EKS-004",
    name: "audit log off",
    subject: "aws_eks_cluster.Cluster",
    good: goodCluster,
    bad: patched(goodCluster, "aws_eks_cluster.Cluster", { enabled_cluster_log_types: ["api"] }),
  },
  {
    rule: "MLOPS-EKS-005",
    name: "launch template allowing IMDSv1",
    subject: "aws_eks_node_group.Gpu",
    good: goodNodeGroup,
    bad: patched(goodNodeGroup, "aws_launch_template.Gpu", {
      metadata_options: [{ http_tokens: "optional" }],
    }),
  },
  {
    rule: "MLOPS-EKS-005",
    name: "no launch template",
    subject: "aws_eks_node_group.Gpu",
    good: goodNodeGroup,
    bad: patched(goodNodeGroup, "aws_eks_node_group.Gpu", { launch_template: undefined }),
  },
  {
    rule: "MLOPS-EC2-001",
    name: "no metadata options",
    subject: "aws_launch_template.Gpu",
    good: goodTemplate,
    bad: patched(goodTemplate, "aws_launch_template.Gpu", { metadata_options: undefined }),
  },
  {
    rule: "MLOPS-EC2-002",
    name: "no explicit hop limit",
    subject: "aws_launch_template.Gpu",
    good: goodTemplate,
    bad: patched(goodTemplate, "aws_launch_template.Gpu", {
      metadata_options: [{ http_tokens: "required" }],
    }),
  },
  {
    rule: "MLOPS-RDS-001",
    name: "unencrypted storage",
    subject: "aws_db_instance.Registry",
    good: goodDatabase,
    bad: patched(goodDatabase, "aws_db_instance.Registry", { storage_encrypted: false }),
  },
  {
    rule: "MLOPS-RDS-002",
    name: "publicly accessible",
    subject: "aws_db_instance.Registry",
    good: goodDatabase,
    bad: patched(goodDatabase, "aws_db_instance.Registry", { publicly_accessible: true }),
  },
  {
    rule: "MLOPS-RDS-003",
    name: "no deletion protection",
    subject: "aws_db_instance.Registry",
    good: goodDatabase,
    bad: patched(goodDatabase, "aws_db_instance.Registry", { deletion_protection: false }),
  },
  {
    rule: "MLOPS-RDS-004",
    name: "single AZ",
    subject: "aws_db_instance.Registry",
    good: goodDatabase,
    bad: patched(goodDatabase, "aws_db_instance.Registry", { multi_az: false }),
  },
  {
    rule: "MLOPS-RDS-005",
    name: "1-day backups in prod",
    subject: "aws_db_instance.Registry",
    good: goodDatabase,
    bad: patched(goodDatabase, "aws_db_instance.Registry", { backup_retention_period: 1 }),
  },
  {
    rule: "MLOPS-RDS-006",
    name: "literal password",
    subject: "aws_db_instance.Registry",
    good: goodDatabase,
    bad: patched(goodDatabase, "aws_db_instance.Registry", {
      manage_master_user_password: undefined,
      password: "hunter22",
    }),
  },
  {
    rule: "MLOPS-RDS-007",
    name: "force_ssl off",
    subject: "aws_db_instance.Registry",
    good: goodDatabase,
    bad: patched(goodDatabase, "aws_db_parameter_group.Registry", {
      parameter: [{ name: "rds.force_ssl", value: "0" }],
    }),
  },
  {
    rule: "MLOPS-RDS-007",
    name: "MySQL with the default parameter group",
    subject: "aws_db_instance.Registry",
    good: goodDatabase,
    bad: patched(goodDatabase, "aws_db_instance.Registry", {
      engine: "mysql",
      engine_version: "8.0",
      parameter_group_name: "default.mysql8.0",
    }),
  },
  {
    rule: "MLOPS-RDS-008",
    name: "skip final snapshot",
    subject: "aws_db_instance.Registry",
    good: goodDatabase,
    bad: patched(goodDatabase, "aws_db_instance.Registry", { skip_final_snapshot: true }),
  },
  {
    rule: "MLOPS-SM-001",
    name: "no volume key on an EBS-backed instance type",
    subject: "aws_sagemaker_endpoint_configuration.Churn",
    good: goodEndpointConfig,
    bad: patched(goodEndpointConfig, "aws_sagemaker_endpoint_configuration.Churn", {
      kms_key_arn: undefined,
    }),
  },
  {
    rule: "MLOPS-SM-002",
    name: "network access",
    subject: "aws_sagemaker_model.Churn",
    good: goodModel,
    bad: patched(goodModel, "aws_sagemaker_model.Churn", { enable_network_isolation: false }),
  },
  {
    rule: "MLOPS-SM-003",
    name: "outside the VPC",
    subject: "aws_sagemaker_model.Churn",
    good: goodModel,
    bad: patched(goodModel, "aws_sagemaker_model.Churn", { vpc_config: undefined }),
  },
  {
    rule: "MLOPS-SM-004",
    name: "capture without a key",
    subject: "aws_sagemaker_endpoint_configuration.Churn",
    good: goodEndpointConfig,
    bad: patched(goodEndpointConfig, "aws_sagemaker_endpoint_configuration.Churn", {
      data_capture_config: [
        { enable_capture: true, initial_sampling_percentage: 10, destination_s3_uri: "s3://x/capture" },
      ],
    }),
  },
  {
    rule: "MLOPS-SM-005",
    name: "one instance in prod",
    subject: "aws_sagemaker_endpoint_configuration.Churn",
    good: goodEndpointConfig,
    bad: patched(goodEndpointConfig, "aws_sagemaker_endpoint_configuration.Churn", {
      production_variants: [
        {
          variant_name: "blue",
          instance_type: "ml.m5.xlarge",
          initial_instance_count: 1,
          model_name: "churn",
        },
      ],
    }),
  },
  {
    rule: "MLOPS-SM-005",
    name: "autoscaling down to one instance in prod",
    subject: "aws_appautoscaling_target.Churn",
    good: {
      "aws_appautoscaling_target.Churn": {
        service_namespace: "sagemaker",
        min_capacity: 2,
        max_capacity: 4,
        resource_id: "endpoint/churn/variant/blue",
      },
    },
    bad: {
      "aws_appautoscaling_target.Churn": {
        service_namespace: "sagemaker",
        min_capacity: 1,
        max_capacity: 4,
        resource_id: "endpoint/churn/variant/blue",
      },
    },
  },
  {
    rule: "MLOPS-IAM-001",
    name: "Action *",
    subject: "aws_iam_role_policy.Reader",
    good: rolePolicy([
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::mlops-prod-data/*" },
    ]),
    bad: rolePolicy([{ Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::mlops-prod-data/*" }]),
  },
  {
    rule: "MLOPS-IAM-002",
    name: "Resource * for an action that supports resources",
    subject: "aws_iam_role_policy.Reader",
    good: rolePolicy([
      { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      {
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: "*",
        Condition: { "ForAnyValue:StringLike": { "kms:ResourceAliases": "alias/mlops-prod-*" } },
      },
    ]),
    bad: rolePolicy([
      { Effect: "Allow", Action: ["s3:GetObject", "ecr:GetAuthorizationToken"], Resource: "*" },
    ]),
  },
  {
    rule: "MLOPS-IAM-002",
    name: "Resource * in a policy document data source",
    subject: "aws_iam_policy.Reader",
    good: {
      "data.aws_iam_policy_document.Reader": {
        statement: [{ effect: "Allow", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }],
      },
      "aws_iam_policy.Reader": { policy: "${data.aws_iam_policy_document.Reader.json}" },
    },
    bad: {
      "data.aws_iam_policy_document.Reader": {
        statement: [{ effect: "Allow", actions: ["s3:GetObject"], resources: ["*"] }],
      },
      "aws_iam_policy.Reader": { policy: "${data.aws_iam_policy_document.Reader.json}" },
    },
  },
  {
    rule: "MLOPS-IAM-003",
    name: "AdministratorAccess attached",
    subject: "aws_iam_role_policy_attachment.Admin",
    good: {
      "aws_iam_role_policy_attachment.Admin": {
        role: "ci",
        policy_arn: "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      },
    },
    bad: {
      "aws_iam_role_policy_attachment.Admin": {
        role: "ci",
        policy_arn: "arn:aws:iam::aws:policy/AdministratorAccess",
      },
    },
  },
  {
    rule: "MLOPS-IAM-004",
    name: "whole-account trust",
    subject: "aws_iam_role.Ci",
    good: role(serviceTrust),
    bad: role([
      { Effect: "Allow", Principal: { AWS: "arn:aws:iam::333333333333:root" }, Action: "sts:AssumeRole" },
    ]),
  },
  {
    rule: "MLOPS-IAM-004",
    name: "wildcard trust",
    subject: "aws_iam_role.Ci",
    good: role([
      {
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::333333333333:root" },
        Action: "sts:AssumeRole",
        Condition: { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::333333333333:role/admin" } },
      },
    ]),
    bad: role([{ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }]),
  },
  {
    rule: "MLOPS-IAM-005",
    name: "GitHub trust without sub",
    subject: "aws_iam_role.Ci",
    good: role(githubTrust("repo:acme/mlops-platform:ref:refs/heads/main")),
    bad: role(githubTrust(undefined)),
  },
  {
    rule: "MLOPS-IAM-005",
    name: "GitHub trust of a provider referenced by its ARN, without sub",
    subject: "aws_iam_role.Ci",
    good: githubProviderRole("repo:acme/mlops-platform:ref:refs/heads/main"),
    bad: githubProviderRole(undefined),
  },
  {
    rule: "MLOPS-IAM-005",
    name: "GitHub trust of a provider data source, in a policy document data source, without sub",
    subject: "aws_iam_role.Ci",
    good: githubDocumentRole(true),
    bad: githubDocumentRole(false),
  },
  {
    rule: "MLOPS-IAM-005",
    name: "GitHub trust for every repository of the owner",
    subject: "aws_iam_role.Ci",
    good: role(githubTrust("repo:acme/mlops-platform:*")),
    bad: role(githubTrust("repo:acme/*")),
  },
  {
    rule: "MLOPS-SG-001",
    name: "SSH from the internet",
    subject: "aws_security_group.Nodes",
    good: {
      "aws_security_group.Nodes": {
        ingress: [{ from_port: 22, to_port: 22, protocol: "tcp", cidr_blocks: ["10.30.0.0/16"] }],
      },
    },
    bad: {
      "aws_security_group.Nodes": {
        ingress: [{ from_port: 22, to_port: 22, protocol: "tcp", cidr_blocks: ["0.0.0.0/0"] }],
      },
    },
  },
  {
    rule: "MLOPS-SG-001",
    name: "HTTP from the internet to a public load balancer",
    subject: "aws_vpc_security_group_ingress_rule.LbHttps",
    good: lbGroup(443),
    bad: lbGroup(80),
  },
  {
    rule: "MLOPS-SG-001",
    name: "HTTPS from the internet to a group that is not a public load balancer's",
    subject: "aws_security_group_rule.Open",
    good: {
      "aws_security_group_rule.Open": {
        type: "ingress",
        security_group_id: "${aws_security_group.X.id}",
        from_port: 443,
        to_port: 443,
        protocol: "tcp",
        cidr_blocks: ["10.0.0.0/8"],
      },
    },
    bad: {
      "aws_security_group_rule.Open": {
        type: "ingress",
        security_group_id: "${aws_security_group.X.id}",
        from_port: 443,
        to_port: 443,
        protocol: "tcp",
        cidr_blocks: ["0.0.0.0/0"],
      },
    },
  },
  {
    rule: "MLOPS-VPC-001",
    name: "no flow log",
    subject: "aws_vpc.Main",
    good: vpc(),
    bad: without(vpc(), "aws_flow_log.Main"),
  },
  {
    rule: "MLOPS-VPC-002",
    name: "default security group with rules",
    subject: "aws_vpc.Main",
    good: vpc(),
    bad: patched(vpc(), "aws_default_security_group.Default", {
      ingress: [{ from_port: 0, to_port: 0, protocol: "-1", self: true }],
    }),
  },
  {
    rule: "MLOPS-VPC-002",
    name: "default security group not managed",
    subject: "aws_vpc.Main",
    good: vpc(),
    bad: without(vpc(), "aws_default_security_group.Default"),
  },
  {
    rule: "MLOPS-LOG-001",
    name: "no retention",
    subject: "aws_cloudwatch_log_group.Flow",
    good: {
      "aws_cloudwatch_log_group.Flow": {
        name: "/vpc/flow",
        retention_in_days: 365,
        kms_key_id: "${aws_kms_key.Logs.arn}",
      },
    },
    bad: { "aws_cloudwatch_log_group.Flow": { name: "/vpc/flow", kms_key_id: "${aws_kms_key.Logs.arn}" } },
  },
  {
    rule: "MLOPS-LOG-002",
    name: "no key",
    subject: "aws_cloudwatch_log_group.Flow",
    good: {
      "aws_cloudwatch_log_group.Flow": {
        name: "/vpc/flow",
        retention_in_days: 365,
        kms_key_id: "${aws_kms_key.Logs.arn}",
      },
    },
    bad: { "aws_cloudwatch_log_group.Flow": { name: "/vpc/flow", retention_in_days: 365 } },
  },
  {
    rule: "MLOPS-SNS-001",
    name: "AWS-managed key",
    subject: "aws_sns_topic.Alerts",
    good: { "aws_sns_topic.Alerts": { name: "alerts", kms_master_key_id: "${aws_kms_key.Alerts.arn}" } },
    bad: { "aws_sns_topic.Alerts": { name: "alerts", kms_master_key_id: "alias/aws/sns" } },
  },
  {
    rule: "MLOPS-DATA-001",
    name: "bucket without prevent_destroy",
    subject: B,
    good: GOOD_BUCKET,
    bad: patched(GOOD_BUCKET, B, { lifecycle: undefined }),
  },
  {
    rule: "MLOPS-DATA-001",
    name: "log group without prevent_destroy",
    subject: "aws_cloudwatch_log_group.Flow",
    tier: "test",
    good: { "aws_cloudwatch_log_group.Flow": { name: "/vpc/flow", lifecycle: { prevent_destroy: true } } },
    bad: { "aws_cloudwatch_log_group.Flow": { name: "/vpc/flow", lifecycle: { prevent_destroy: false } } },
  },
  {
    rule: "MLOPS-K8S-001",
    name: "no readiness probe",
    subject: "kubernetes_deployment_v1.Server",
    good: deployment(GOOD_CONTAINER),
    bad: deployment(GOOD_CONTAINER, { ...GOOD_CONTAINER, name: "sidecar", readiness_probe: undefined }),
  },
  {
    rule: "MLOPS-K8S-002",
    name: "no memory limit",
    subject: "kubernetes_deployment_v1.Server",
    good: deployment(GOOD_CONTAINER),
    bad: deployment({
      ...GOOD_CONTAINER,
      resources: [{ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2" } }],
    }),
  },
  {
    rule: "MLOPS-K8S-003",
    name: "may run as root",
    subject: "kubernetes_deployment_v1.Server",
    good: deployment(GOOD_CONTAINER),
    bad: deployment({ ...GOOD_CONTAINER, security_context: [{ allow_privilege_escalation: false }] }),
  },
  {
    rule: "MLOPS-K8S-003",
    name: "runs as user 0",
    subject: "kubernetes_deployment_v1.Server",
    good: deployment(GOOD_CONTAINER),
    bad: deployment({
      ...GOOD_CONTAINER,
      security_context: [{ allow_privilege_escalation: false, run_as_non_root: true, run_as_user: "0" }],
    }),
  },
  {
    rule: "MLOPS-K8S-004",
    name: "privilege escalation not forbidden",
    subject: "kubernetes_deployment_v1.Server",
    good: deployment(GOOD_CONTAINER),
    bad: deployment({ ...GOOD_CONTAINER, security_context: [{ run_as_non_root: true }] }),
  },
  {
    rule: "MLOPS-K8S-005",
    name: "latest tag",
    subject: "kubernetes_deployment_v1.Server",
    good: deployment(GOOD_CONTAINER),
    bad: deployment({ ...GOOD_CONTAINER, image: "ghcr.io/acme/server:latest" }),
  },
  {
    rule: "MLOPS-K8S-005",
    name: "no tag",
    subject: "kubernetes_deployment_v1.Server",
    good: deployment(GOOD_CONTAINER),
    bad: deployment({ ...GOOD_CONTAINER, image: "localhost:5000/server" }),
  },
];

function findingOf(
  resources: Resources,
  rule: string,
  subject: string,
  tier: Tier = "prod",
): PolicyFinding | undefined {
  const found = evaluateStack(stackJson(resources, tier), [ruleById(rule)!]);
  return found.find((f) => f.address === subject);
}

describe("policy rules", () => {
  it("covers every rule of the pack with a good and a bad fixture", () => {
    const covered = new Set(CASES.map((c) => c.rule));
    expect(RULES.map((rule) => rule.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it("gives every rule a unique id in the MLOPS-<SERVICE>-<NNN> form, a title and a fix", () => {
    const ids = RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^MLOPS-[A-Z0-9]+-\d{3}$/);
      expect(rule.title.length).toBeGreaterThan(10);
      expect(rule.fix.length).toBeGreaterThan(10);
    }
  });

  describe.each(CASES)("$rule ($name)", ({ rule, subject, good, bad, tier }) => {
    it("passes on the good fixture", () => {
      const finding = findingOf(good, rule, subject, tier);
      expect(finding?.problems).toEqual([]);
      expect(finding?.result).toBe("pass");
    });

    it("fails on the bad fixture with a problem", () => {
      const finding = findingOf(bad, rule, subject, tier);
      expect(finding?.result).toBe("fail");
      expect(finding?.problems.length).toBeGreaterThan(0);
    });
  });
});

describe("rule semantics", () => {
  it("accepts a bucket's settings given by its literal name instead of an interpolation", () => {
    const byName = Object.fromEntries(
      Object.entries(GOOD_BUCKET).map(([address, values]) =>
        address === B ? [address, values] : [address, { ...values, bucket: "mlops-prod-data" }],
      ),
    );
    const failures = evaluateStack(stackJson(byName), RULES).filter(
      (f) => f.address === B && f.result !== "pass",
    );
    expect(failures).toEqual([]);
  });

  it("lets a bucket that receives server access logs use AES256 and skip logging itself", () => {
    const logs = {
      ...GOOD_BUCKET,
      "aws_s3_bucket.Logs": { bucket: "mlops-prod-logs", lifecycle: { prevent_destroy: true } },
      "aws_s3_bucket_server_side_encryption_configuration.LogsEncryption": {
        bucket: "${aws_s3_bucket.Logs.id}",
        rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
      },
    };
    const found = evaluateStack(stackJson(logs), [
      ruleById("MLOPS-S3-002")!,
      ruleById("MLOPS-S3-005")!,
    ]).filter((f) => f.address === "aws_s3_bucket.Logs");
    expect(found.map((f) => [f.rule, f.result])).toEqual([["MLOPS-S3-002", "pass"]]);
  });

  it("does not ask for a volume key on instance types with local NVMe storage", () => {
    const gpu = patched(goodEndpointConfig, "aws_sagemaker_endpoint_configuration.Churn", {
      kms_key_arn: undefined,
      production_variants: [
        { variant_name: "blue", instance_type: "ml.g5.2xlarge", initial_instance_count: 2 },
      ],
    });
    expect(findingOf(gpu, "MLOPS-SM-001", "aws_sagemaker_endpoint_configuration.Churn")).toBeUndefined();
  });

  it("treats an interpolation as set where a value is expected", () => {
    const computed = patched(goodCluster, "aws_eks_cluster.Cluster", {
      enabled_cluster_log_types: "${var.log_types}",
    });
    expect(findingOf(computed, "MLOPS-EKS-004", "aws_eks_cluster.Cluster")?.result).toBe("pass");
  });

  it("accepts an image whose registry is computed and whose tag is literal", () => {
    const image = deployment({
      ...GOOD_CONTAINER,
      image: "${aws_ecr_repository.Inference.repository_url}:2.0.1",
    });
    expect(findingOf(image, "MLOPS-K8S-005", "kubernetes_deployment_v1.Server")?.result).toBe("pass");
  });

  it("leaves the trust of an OIDC provider that is not GitHub's to other rules", () => {
    const eks = {
      "aws_iam_openid_connect_provider.Eks": {
        url: "${aws_eks_cluster.Cluster.identity[0].oidc[0].issuer}",
        client_id_list: ["sts.amazonaws.com"],
      },
      ...role([
        {
          Effect: "Allow",
          Principal: { Federated: "${aws_iam_openid_connect_provider.Eks.arn}" },
          Action: "sts:AssumeRoleWithWebIdentity",
        },
      ]),
    };
    expect(findingOf(eks, "MLOPS-IAM-005", "aws_iam_role.Ci")).toBeUndefined();
  });

  it("accepts PostgreSQL 15+ without a parameter group, since it forces TLS by default", () => {
    const db = patched(goodDatabase, "aws_db_instance.Registry", { parameter_group_name: undefined });
    expect(findingOf(db, "MLOPS-RDS-007", "aws_db_instance.Registry")?.result).toBe("pass");
  });

  it("skips prod-only rules in dev and test", () => {
    const single = patched(goodDatabase, "aws_db_instance.Registry", {
      multi_az: false,
      deletion_protection: false,
    });
    expect(findingOf(single, "MLOPS-RDS-004", "aws_db_instance.Registry", "test")).toBeUndefined();
    expect(findingOf(single, "MLOPS-RDS-003", "aws_db_instance.Registry", "dev")).toBeUndefined();
  });

  it("skips the protection rules in dev", () => {
    const disposable = patched(GOOD_BUCKET, B, { force_destroy: true, lifecycle: undefined });
    expect(findingOf(disposable, "MLOPS-S3-008", B, "dev")).toBeUndefined();
    expect(findingOf(disposable, "MLOPS-DATA-001", B, "dev")).toBeUndefined();
  });
});
