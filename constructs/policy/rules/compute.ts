/** EKS clusters and node groups, EC2 launch templates (IMDSv2), RDS databases and SageMaker hosting. */
import {
  block,
  blocks,
  flag,
  isSet,
  isToken,
  numberOf,
  strings,
  type PolicyResource,
  type PolicyRule,
  type RuleContext,
} from "../engine";

const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

function imdsProblems(template: PolicyResource): string[] {
  const options = block(template.values.metadata_options);
  if (!options) return ["metadata_options is not set, so IMDSv1 stays available"];
  if (options.http_endpoint === "disabled") return [];
  const tokens = options.http_tokens;
  return tokens === "required" || flag(tokens) === "unknown"
    ? []
    : [`metadata_options.http_tokens is ${JSON.stringify(tokens ?? "optional")}, not "required"`];
}

export const EKS_RULES: readonly PolicyRule[] = [
  {
    id: "MLOPS-EKS-001",
    title: "Cluster API endpoint is not open to the internet",
    severity: "critical",
    resourceTypes: ["aws_eks_cluster"],
    fix: "Set vpc_config.endpoint_public_access = false, or list the admin CIDRs in vpc_config.public_access_cidrs (never 0.0.0.0/0).",
    check(cluster) {
      const vpc = block(cluster.values.vpc_config) ?? {};
      if (flag(vpc.endpoint_public_access) === false) return [];
      const cidrs = strings(vpc.public_access_cidrs);
      if (cidrs.length === 0)
        return [
          "the public endpoint is on (the default) and public_access_cidrs is empty, which means 0.0.0.0/0",
        ];
      const open = cidrs.filter((cidr) => cidr === "0.0.0.0/0" || cidr === "::/0");
      return open.length === 0 ? [] : [`public_access_cidrs includes ${open.join(", ")}`];
    },
  },
  {
    id: "MLOPS-EKS-002",
    title: "Cluster API endpoint is private in prod",
    severity: "high",
    resourceTypes: ["aws_eks_cluster"],
    tiers: ["prod"],
    fix: "Set vpc_config.endpoint_public_access = false and endpoint_private_access = true; reach the API from inside the VPC.",
    check(cluster) {
      const vpc = block(cluster.values.vpc_config) ?? {};
      const problems: string[] = [];
      if (flag(vpc.endpoint_public_access) !== false) problems.push("endpoint_public_access is not false");
      if (flag(vpc.endpoint_private_access) === false || vpc.endpoint_private_access === undefined) {
        problems.push("endpoint_private_access is not true");
      }
      return problems;
    },
  },
  {
    id: "MLOPS-EKS-003",
    title: "Kubernetes secrets are envelope-encrypted with KMS",
    severity: "critical",
    resourceTypes: ["aws_eks_cluster"],
    fix: 'Add encryption_config { resources = ["secrets"], provider { key_arn = <a key of this stack> } }.',
    check(cluster) {
      const config = blocks(cluster.values.encryption_config);
      const secrets = config.find((c) => strings(c.resources).includes("secrets") || isToken(c.resources));
      if (!secrets) return ["encryption_config does not cover secrets"];
      return isSet(block(secrets.provider)?.key_arn) ? [] : ["encryption_config has no provider.key_arn"];
    },
  },
  {
    id: "MLOPS-EKS-004",
    title: "All five control-plane log types are enabled",
    severity: "medium",
    resourceTypes: ["aws_eks_cluster"],
    fix: `Set enabled_cluster_log_types = [${CONTROL_PLANE_LOG_TYPES.map((t) => `"${t}"`).join(", ")}].`,
    check(cluster) {
      if (isToken(cluster.values.enabled_cluster_log_types)) return [];
      const enabled = strings(cluster.values.enabled_cluster_log_types);
      const missing = CONTROL_PLANE_LOG_TYPES.filter((type) => !enabled.includes(type));
      return missing.length === 0 ? [] : [`missing log types: ${missing.join(", ")}`];
    },
  },
  {
    id: "MLOPS-EKS-005",
    title: "Node groups use a launch template that requires IMDSv2",
    severity: "high",
    resourceTypes: ["aws_eks_node_group"],
    fix: 'Give the node group a launch_template whose metadata_options set http_tokens = "required" and an explicit hop limit.',
    check(group, context) {
      const reference = block(group.values.launch_template);
      if (!reference) return ["the node group has no launch_template, so IMDSv2 cannot be enforced"];
      const template =
        context.resolve(reference.id) ?? context.resolve(reference.name) ?? byName(context, reference.name);
      if (!template) return [];
      return imdsProblems(template).map((problem) => `launch template ${template.address}: ${problem}`);
    },
  },
  {
    id: "MLOPS-EC2-001",
    title: "Launch templates and instances require IMDSv2",
    severity: "high",
    resourceTypes: ["aws_launch_template", "aws_instance"],
    fix: 'Set metadata_options { http_tokens = "required", http_put_response_hop_limit = 1 (2 when pods need IMDS) }.',
    check: (template) => imdsProblems(template),
  },
  {
    id: "MLOPS-EC2-002",
    title: "Launch templates set the IMDS hop limit explicitly (1 or 2)",
    severity: "low",
    resourceTypes: ["aws_launch_template"],
    fix: "Set metadata_options.http_put_response_hop_limit to 1 (pods cannot reach the node's credentials) or 2 (they can, deliberately; environment files allow 2 in dev only).",
    check(template) {
      const options = block(template.values.metadata_options);
      if (options?.http_endpoint === "disabled") return [];
      const hops = numberOf(options?.http_put_response_hop_limit);
      if (hops === "unknown") return [];
      if (hops === undefined) return ["http_put_response_hop_limit is not set"];
      return hops <= 2
        ? []
        : [
            `http_put_response_hop_limit is ${hops}: containers several hops away can reach the node's credentials`,
          ];
    },
  },
];

function byName(context: RuleContext, name: unknown): PolicyResource | undefined {
  if (typeof name !== "string") return undefined;
  return context.resources("aws_launch_template").find((template) => template.values.name === name);
}

/** Instances that belong to an Aurora cluster (or replicate another database) inherit these settings. */
function clusterMember(db: PolicyResource): boolean {
  return (
    db.type === "aws_db_instance" &&
    (isSet(db.values.cluster_identifier) || isSet(db.values.replicate_source_db))
  );
}

const DATABASES = ["aws_db_instance", "aws_rds_cluster"];

export const RDS_RULES: readonly PolicyRule[] = [
  {
    id: "MLOPS-RDS-001",
    title: "Database storage is encrypted",
    severity: "critical",
    resourceTypes: DATABASES,
    fix: "Set storage_encrypted = true and kms_key_id to a key of this stack (it can only be set when the database is created).",
    check(db) {
      if (clusterMember(db)) return "n/a";
      const encrypted = flag(db.values.storage_encrypted);
      return encrypted === true || encrypted === "unknown" ? [] : ["storage_encrypted is not true"];
    },
  },
  {
    id: "MLOPS-RDS-002",
    title: "Database is not publicly accessible",
    severity: "critical",
    resourceTypes: ["aws_db_instance", "aws_rds_cluster_instance"],
    fix: "Set publicly_accessible = false and place the database in private subnets.",
    check: (db) => (flag(db.values.publicly_accessible) === true ? ["publicly_accessible is true"] : []),
  },
  {
    id: "MLOPS-RDS-003",
    title: "Deletion protection is on in prod",
    severity: "critical",
    resourceTypes: DATABASES,
    tiers: ["prod"],
    fix: "Set deletion_protection = true.",
    check(db) {
      if (clusterMember(db)) return "n/a";
      const protectedDb = flag(db.values.deletion_protection);
      return protectedDb === true || protectedDb === "unknown" ? [] : ["deletion_protection is not true"];
    },
  },
  {
    id: "MLOPS-RDS-004",
    title: "Database is Multi-AZ in prod",
    severity: "high",
    resourceTypes: ["aws_db_instance"],
    tiers: ["prod"],
    fix: "Set multi_az = true so a zone outage fails over instead of taking the registry down.",
    check(db) {
      if (clusterMember(db)) return "n/a";
      const multiAz = flag(db.values.multi_az);
      return multiAz === true || multiAz === "unknown" ? [] : ["multi_az is not true"];
    },
  },
  {
    id: "MLOPS-RDS-005",
    title: "Automated backups are kept (at least 7 days in prod)",
    severity: "high",
    resourceTypes: DATABASES,
    fix: "Set backup_retention_period explicitly: at least 1 day, at least 7 in prod.",
    check(db, context) {
      if (clusterMember(db)) return "n/a";
      const days = numberOf(db.values.backup_retention_period);
      if (days === "unknown") return [];
      if (days === undefined) return ["backup_retention_period is not set"];
      const minimum = context.tier === "prod" ? 7 : 1;
      return days >= minimum ? [] : [`backup_retention_period is ${days}, less than ${minimum}`];
    },
  },
  {
    id: "MLOPS-RDS-006",
    title: "Database credentials are managed (Secrets Manager or IAM authentication)",
    severity: "high",
    resourceTypes: DATABASES,
    fix: "Set manage_master_user_password = true (the password lives in Secrets Manager, never in configuration or state), or use IAM database authentication.",
    check(db) {
      if (clusterMember(db)) return "n/a";
      const problems: string[] = [];
      const password = db.values.password;
      if (typeof password === "string" && password !== "" && !isToken(password))
        problems.push("a literal password is in the configuration");
      const managed = flag(db.values.manage_master_user_password);
      const iam = flag(db.values.iam_database_authentication_enabled);
      if (managed !== true && managed !== "unknown" && iam !== true && iam !== "unknown") {
        problems.push("neither manage_master_user_password nor iam_database_authentication_enabled is true");
      }
      return problems;
    },
  },
  {
    id: "MLOPS-RDS-007",
    title: "Database connections must use TLS",
    severity: "high",
    resourceTypes: DATABASES,
    fix: 'Use a parameter group that sets rds.force_ssl = "1" (PostgreSQL, SQL Server) or require_secure_transport = "1" (MySQL, MariaDB).',
    check(db, context) {
      if (clusterMember(db)) return "n/a";
      const engine = String(db.values.engine ?? "");
      if (isToken(engine) || engine === "") return [];
      const parameter = /mysql|mariadb/.test(engine) ? "require_secure_transport" : "rds.force_ssl";
      const groupType =
        db.type === "aws_rds_cluster" ? "aws_rds_cluster_parameter_group" : "aws_db_parameter_group";
      const groupName =
        db.type === "aws_rds_cluster"
          ? db.values.db_cluster_parameter_group_name
          : db.values.parameter_group_name;
      const group =
        context.resolve(groupName) ??
        context
          .resources(groupType)
          .find((g) => typeof groupName === "string" && g.values.name === groupName);
      const value = group && blocks(group.values.parameter).find((p) => p.name === parameter)?.value;
      if (value !== undefined) {
        return ["1", "on", "true"].includes(String(value).toLowerCase()) || isToken(value)
          ? []
          : [`${parameter} is ${JSON.stringify(value)}`];
      }
      if (!group && typeof groupName === "string" && groupName !== "" && !groupName.startsWith("default."))
        return [];
      // RDS for PostgreSQL 15 and later force TLS by default (rds.force_ssl = 1 in the default parameter group).
      const major = Number(String(db.values.engine_version ?? "").split(".")[0]);
      if (engine === "postgres" && major >= 15) return [];
      return [`no parameter group of this stack sets ${parameter} = 1`];
    },
  },
  {
    id: "MLOPS-RDS-008",
    title: "A final snapshot is taken on deletion in test and prod",
    severity: "high",
    resourceTypes: DATABASES,
    tiers: ["test", "prod"],
    fix: "Remove skip_final_snapshot (or set it to false) and set final_snapshot_identifier.",
    check(db) {
      if (clusterMember(db)) return "n/a";
      return flag(db.values.skip_final_snapshot) === true
        ? ["skip_final_snapshot is true: deleting the database would lose its data"]
        : [];
    },
  },
];

/**
 * SageMaker cannot take a KMS key for instance types with local NVMe storage (their volumes are encrypted by
 * the hardware) nor for serverless variants; CreateEndpointConfig fails if one is given.
 */
const LOCAL_STORAGE_INSTANCE =
  /^ml\.(g4dn|g5|g6|g6e|gr6|p3dn|p4d|p4de|p5|p5e|p5en|trn1|trn1n|[a-z]\d+[a-z]*d[a-z]*)\./;

function variants(config: PolicyResource): Record<string, unknown>[] {
  return blocks(config.values.production_variants);
}

export const SAGEMAKER_RULES: readonly PolicyRule[] = [
  {
    id: "MLOPS-SM-001",
    title: "Endpoint configuration encrypts instance volumes with KMS",
    severity: "high",
    resourceTypes: ["aws_sagemaker_endpoint_configuration"],
    fix: "Set kms_key_arn to a key of this stack (not possible, and not needed, for serverless variants and instance types with local NVMe storage).",
    check(config) {
      const all = variants(config);
      const needsKey = all.some(
        (v) => !isSet(v.serverless_config) && !LOCAL_STORAGE_INSTANCE.test(String(v.instance_type ?? "")),
      );
      if (!needsKey) return "n/a";
      return isSet(config.values.kms_key_arn) ? [] : ["kms_key_arn is not set"];
    },
  },
  {
    id: "MLOPS-SM-002",
    title: "Models run with network isolation",
    severity: "high",
    resourceTypes: ["aws_sagemaker_model"],
    fix: "Set enable_network_isolation = true; if the model must reach the network, suppress this rule on the endpoint construct with the reason.",
    check(model) {
      const isolated = flag(model.values.enable_network_isolation);
      return isolated === true || isolated === "unknown" ? [] : ["enable_network_isolation is not true"];
    },
  },
  {
    id: "MLOPS-SM-003",
    title: "Models run in the VPC",
    severity: "high",
    resourceTypes: ["aws_sagemaker_model"],
    fix: "Set vpc_config { subnets = <private subnets>, security_group_ids = [...] }.",
    check(model) {
      const vpc = block(model.values.vpc_config);
      if (!vpc) return ["vpc_config is not set"];
      const problems: string[] = [];
      if (!isSet(vpc.subnets)) problems.push("vpc_config.subnets is empty");
      if (!isSet(vpc.security_group_ids)) problems.push("vpc_config.security_group_ids is empty");
      return problems;
    },
  },
  {
    id: "MLOPS-SM-004",
    title: "Captured inference data is encrypted with KMS",
    severity: "high",
    resourceTypes: ["aws_sagemaker_endpoint_configuration"],
    fix: "Set data_capture_config.kms_key_id to the data key.",
    check(config) {
      const capture = block(config.values.data_capture_config);
      if (!capture || flag(capture.enable_capture) === false) return "n/a";
      return isSet(capture.kms_key_id) ? [] : ["data_capture_config.kms_key_id is not set"];
    },
  },
  {
    id: "MLOPS-SM-005",
    title: "Endpoints run at least 2 instances in prod",
    severity: "high",
    resourceTypes: ["aws_sagemaker_endpoint_configuration", "aws_appautoscaling_target"],
    tiers: ["prod"],
    fix: "Set initial_instance_count >= 2 and the autoscaling min_capacity >= 2, so one instance can fail or be replaced without downtime.",
    check(resource) {
      if (resource.type === "aws_appautoscaling_target") {
        if (resource.values.service_namespace !== "sagemaker") return "n/a";
        const min = numberOf(resource.values.min_capacity);
        return typeof min === "number" && min < 2 ? [`min_capacity is ${min}`] : [];
      }
      return variants(resource)
        .filter((v) => !isSet(v.serverless_config))
        .flatMap((v) => {
          const count = numberOf(v.initial_instance_count);
          return typeof count === "number" && count < 2
            ? [`variant ${String(v.variant_name ?? "")} has initial_instance_count ${count}`]
            : [];
        });
    },
  },
];
