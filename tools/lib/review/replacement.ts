/**
 * Attributes whose change makes Terraform destroy and re-create the resource (`ForceNew` in the AWS
 * provider 5.100.0 schema, `ForceNew` or `RequiresReplace` in the Kubernetes provider 2.38.0 and the Helm
 * provider 3.1.1), for the resource types this project uses. `terraform providers schema -json` does not
 * expose ForceNew, so the table is curated from the provider's documentation and source; an unlisted type or
 * attribute is assumed to update in place, and a real plan (`npm run plan-summary`) has the last word. A type
 * listed with no attributes was checked and updates in place whatever changes. Paths are attribute names
 * joined with dots, without list indexes; inside `kubernetes_manifest`'s `manifest` they are the object's
 * own field names (`manifest.metadata.name`).
 */

/** Every attribute except these replaces the resource (the type's only updatable attributes are tags). */
const ALL_BUT_TAGS = "*";

/** Replacement-forcing attributes per resource type. */
export const REPLACEMENT_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  // Storage
  aws_s3_bucket: ["bucket", "bucket_prefix", "object_lock_enabled"],
  aws_s3_bucket_versioning: ["bucket", "expected_bucket_owner"],
  aws_s3_bucket_server_side_encryption_configuration: ["bucket", "expected_bucket_owner"],
  aws_s3_bucket_public_access_block: ["bucket"],
  aws_s3_bucket_policy: ["bucket"],
  aws_s3_bucket_lifecycle_configuration: ["bucket", "expected_bucket_owner"],
  aws_s3_bucket_ownership_controls: ["bucket"],
  aws_s3_bucket_logging: ["bucket", "expected_bucket_owner"],
  aws_s3_bucket_notification: ["bucket"],
  aws_s3_bucket_replication_configuration: ["bucket"],
  aws_s3_bucket_object_lock_configuration: ["bucket", "expected_bucket_owner", "object_lock_enabled"],
  // Keys
  aws_kms_key: ["customer_master_key_spec", "key_usage", "multi_region", "custom_key_store_id", "xks_key_id"],
  aws_kms_alias: ["name", "name_prefix"],
  // Container registry
  aws_ecr_repository: ["name", "encryption_configuration"],
  aws_ecr_lifecycle_policy: ["repository"],
  aws_ecr_repository_policy: ["repository"],
  aws_ecr_pull_through_cache_rule: [
    "ecr_repository_prefix",
    "upstream_registry_url",
    "upstream_repository_prefix",
  ],
  // The registry's one scanning configuration: every argument is put again in place.
  aws_ecr_registry_scanning_configuration: [],
  // Network
  aws_vpc: ["cidr_block", "ipv4_ipam_pool_id", "ipv4_netmask_length"],
  aws_subnet: ["vpc_id", "cidr_block", "availability_zone", "availability_zone_id", "outpost_arn"],
  aws_security_group: ["name", "name_prefix", "vpc_id", "description"],
  aws_default_security_group: ["vpc_id"],
  // A new vpc_id detaches the gateway and attaches it to the other VPC, in place.
  aws_internet_gateway: [],
  aws_vpc_security_group_ingress_rule: ["security_group_id"],
  aws_vpc_security_group_egress_rule: ["security_group_id"],
  aws_security_group_rule: [
    "type",
    "security_group_id",
    "protocol",
    "from_port",
    "to_port",
    "cidr_blocks",
    "ipv6_cidr_blocks",
    "prefix_list_ids",
    "self",
    "source_security_group_id",
  ],
  aws_route_table: ["vpc_id"],
  aws_route: [
    "route_table_id",
    "destination_cidr_block",
    "destination_ipv6_cidr_block",
    "destination_prefix_list_id",
  ],
  aws_route_table_association: ["subnet_id", "gateway_id"],
  aws_nat_gateway: ["allocation_id", "subnet_id", "connectivity_type", "private_ip"],
  aws_eip: ["domain", "network_border_group", "public_ipv4_pool", "address"],
  aws_flow_log: [
    "iam_role_arn",
    "log_destination",
    "log_destination_type",
    "log_group_name",
    "traffic_type",
    "vpc_id",
    "subnet_id",
    "eni_id",
    "log_format",
    "max_aggregation_interval",
    "destination_options",
  ],
  aws_vpc_endpoint: ["vpc_id", "service_name", "vpc_endpoint_type"],
  // Kubernetes on AWS
  aws_eks_cluster: [
    "name",
    "role_arn",
    "kubernetes_network_config.service_ipv4_cidr",
    "kubernetes_network_config.ip_family",
    "outpost_config",
    "bootstrap_self_managed_addons",
    "access_config.bootstrap_cluster_creator_admin_permissions",
    "encryption_config.provider.key_arn",
  ],
  aws_eks_node_group: [
    "cluster_name",
    "node_group_name",
    "node_group_name_prefix",
    "node_role_arn",
    "subnet_ids",
    "instance_types",
    "capacity_type",
    "ami_type",
    "disk_size",
    "remote_access",
    "launch_template.id",
    "launch_template.name",
  ],
  aws_eks_addon: ["cluster_name", "addon_name"],
  aws_eks_access_entry: ["cluster_name", "principal_arn", "type"],
  aws_eks_access_policy_association: ["cluster_name", "principal_arn", "policy_arn", "access_scope"],
  aws_eks_pod_identity_association: ["cluster_name", "namespace", "service_account"],
  aws_launch_template: ["name", "name_prefix"],
  aws_autoscaling_group_tag: ["autoscaling_group_name", "tag.key"],
  // Databases
  aws_db_instance: [
    "identifier",
    "identifier_prefix",
    "engine",
    "db_name",
    "username",
    "storage_encrypted",
    "kms_key_id",
    "availability_zone",
    "character_set_name",
    "nchar_character_set_name",
    "timezone",
    "snapshot_identifier",
    "restore_to_point_in_time",
    "custom_iam_instance_profile",
  ],
  aws_db_subnet_group: ["name", "name_prefix"],
  aws_db_parameter_group: ["name", "name_prefix", "family"],
  aws_secretsmanager_secret: ["name", "name_prefix"],
  // A version's value never changes: a new secret_string_wo_version puts a new version in place of this one.
  aws_secretsmanager_secret_version: [
    "secret_id",
    "secret_string",
    "secret_binary",
    "secret_string_wo_version",
  ],
  // SageMaker: endpoint configurations and models are immutable.
  aws_sagemaker_endpoint_configuration: [ALL_BUT_TAGS],
  aws_sagemaker_model: [ALL_BUT_TAGS],
  aws_sagemaker_endpoint: ["name"],
  aws_sagemaker_model_package_group: ["model_package_group_name", "model_package_group_description"],
  aws_sagemaker_mlflow_tracking_server: ["tracking_server_name", "role_arn", "mlflow_version"],
  // Every argument but role_arn, which is not ForceNew: its change is planned as an update, which the
  // provider's update (tags only) leaves undone (internal/service/sagemaker/data_quality_job_definition.go).
  aws_sagemaker_data_quality_job_definition: [
    "name",
    "data_quality_app_specification",
    "data_quality_baseline_config",
    "data_quality_job_input",
    "data_quality_job_output_config",
    "job_resources",
    "network_config",
    "stopping_condition",
  ],
  aws_sagemaker_monitoring_schedule: ["name"],
  aws_appautoscaling_target: ["resource_id", "scalable_dimension", "service_namespace"],
  aws_appautoscaling_policy: ["name", "resource_id", "scalable_dimension", "service_namespace"],
  // Identity
  aws_iam_role: ["name", "name_prefix", "path"],
  aws_iam_policy: ["name", "name_prefix", "path", "description"],
  aws_iam_role_policy: ["name", "name_prefix", "role"],
  aws_iam_role_policy_attachment: ["role", "policy_arn"],
  aws_iam_instance_profile: ["name", "name_prefix", "path"],
  aws_iam_openid_connect_provider: ["url"],
  // Operations
  aws_cloudwatch_log_group: ["name", "name_prefix", "log_group_class"],
  aws_cloudwatch_metric_alarm: ["alarm_name"],
  aws_cloudwatch_dashboard: ["dashboard_name"],
  // Also replaced when alias goes from set to unset (a CustomizeDiff in internal/service/amp/workspace.go),
  // which a table of attributes cannot express.
  aws_prometheus_workspace: ["kms_key_arn"],
  aws_sns_topic: ["name", "name_prefix", "fifo_topic"],
  aws_sns_topic_subscription: ["topic_arn", "protocol", "endpoint", "endpoint_auto_confirms"],
  aws_sns_topic_policy: ["arn"],
  aws_budgets_budget: ["name", "name_prefix", "account_id"],
  aws_ce_anomaly_monitor: ["monitor_type", "monitor_dimension", "monitor_specification"],
  aws_ce_anomaly_subscription: ["name", "account_id"],
  // Kubernetes: a new name or namespace is another object (metadata.name, metadata.namespace and
  // metadata.generate_name are ForceNew in the provider's metadata schemas); labels and annotations update
  // in place.
  kubernetes_namespace_v1: ["metadata.name", "metadata.generate_name"],
  kubernetes_service_account_v1: ["metadata.name", "metadata.generate_name", "metadata.namespace"],
  // Also replaced when data changes while immutable is true (a CustomizeDiff), which a table cannot express.
  kubernetes_config_map_v1: ["metadata.name", "metadata.generate_name", "metadata.namespace"],
  // Also replaced when data changes while immutable is true, as a config map; a new data_wo_revision updates.
  kubernetes_secret_v1: ["metadata.name", "metadata.generate_name", "metadata.namespace", "type"],
  // The pod template updates in place (a rollout); the selector cannot change.
  kubernetes_deployment_v1: [
    "metadata.name",
    "metadata.generate_name",
    "metadata.namespace",
    "spec.selector",
  ],
  kubernetes_service_v1: [
    "metadata.name",
    "metadata.generate_name",
    "metadata.namespace",
    "spec.cluster_ip",
    "spec.cluster_ips",
    "spec.load_balancer_class",
    "spec.health_check_node_port",
  ],
  kubernetes_ingress_v1: ["metadata.name", "metadata.generate_name", "metadata.namespace"],
  kubernetes_network_policy_v1: ["metadata.name", "metadata.generate_name", "metadata.namespace"],
  kubernetes_horizontal_pod_autoscaler_v2: ["metadata.name", "metadata.generate_name", "metadata.namespace"],
  // The whole spec is ForceNew: the provider's update patches metadata only.
  kubernetes_pod_disruption_budget_v1: [
    "metadata.name",
    "metadata.generate_name",
    "metadata.namespace",
    "spec",
  ],
  kubernetes_limit_range_v1: ["metadata.name", "metadata.generate_name", "metadata.namespace"],
  kubernetes_resource_quota_v1: [
    "metadata.name",
    "metadata.generate_name",
    "metadata.namespace",
    "spec.scopes",
  ],
  kubernetes_priority_class_v1: ["metadata.name", "metadata.generate_name", "value", "preemption_policy"],
  // reclaim_policy is not ForceNew: its change is planned as an update, which the provider's update (of
  // allow_volume_expansion and metadata only) leaves undone
  // (kubernetes/resource_kubernetes_storage_class_v1.go).
  kubernetes_storage_class_v1: [
    "metadata.name",
    "metadata.generate_name",
    "storage_provisioner",
    "parameters",
    "volume_binding_mode",
    "mount_options",
    "allowed_topologies",
  ],
  // RequiresReplace from PlanResourceChange (manifest/provider/plan.go): the object's API version, kind and
  // name, and its namespace when the kind is namespaced. A custom resource without an OpenAPI schema is
  // replaced on any change, which a table cannot express.
  kubernetes_manifest: [
    "manifest.apiVersion",
    "manifest.kind",
    "manifest.metadata.name",
    "manifest.metadata.namespace",
  ],
  // Helm: a new chart, version or values upgrades the release in place.
  helm_release: ["name", "namespace"],
};

/** Meta-arguments and tags never force a replacement. */
const NEVER_REPLACES = new Set([
  "tags",
  "tags_all",
  "lifecycle",
  "depends_on",
  "provider",
  "count",
  "for_each",
  "timeouts",
]);

/**
 * Replacement-forcing attributes that are also computed: taking one out of the configuration keeps the value
 * the resource has (Terraform plans no change), so only setting or changing it replaces the resource. A
 * bucket that Object Lock was turned on for at creation reads back `object_lock_enabled = true` however it was
 * turned on, and `VersionedDataBucket` no longer sets it.
 */
export const KEPT_WHEN_REMOVED: Readonly<Record<string, readonly string[]>> = {
  aws_s3_bucket: ["object_lock_enabled"],
};

/** Whether removing `schemaPath` from a `type`'s configuration keeps the resource's value. */
export function keptWhenRemoved(type: string, schemaPath: string): boolean {
  return KEPT_WHEN_REMOVED[type]?.includes(schemaPath) ?? false;
}

/**
 * Provider defaults of replacement-forcing attributes: writing the default where the configuration said
 * nothing, or taking it out, changes nothing. `VersionedDataBucket` now writes the Object Lock
 * configuration's `object_lock_enabled = "Enabled"`, which is the provider's default.
 */
export const PROVIDER_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  aws_s3_bucket_object_lock_configuration: { object_lock_enabled: "Enabled" },
};

/** Whether a change between `before` and `after` at `schemaPath` only spells out, or drops, the default. */
export function onlyTheDefault(type: string, schemaPath: string, before: unknown, after: unknown): boolean {
  const defaults = PROVIDER_DEFAULTS[type];
  if (!defaults || !(schemaPath in defaults)) return false;
  const value = defaults[schemaPath];
  return (before === undefined && after === value) || (before === value && after === undefined);
}

/**
 * The table entry that makes a change at `schemaPath` (`vpc_config.subnet_ids`) replace a `type`, or
 * undefined when the change updates in place.
 */
export function replacementAttribute(type: string, schemaPath: string): string | undefined {
  const attributes = REPLACEMENT_ATTRIBUTES[type];
  if (!attributes || schemaPath === "") return undefined;
  const top = schemaPath.split(".")[0];
  if (NEVER_REPLACES.has(top)) return undefined;
  if (attributes.includes(ALL_BUT_TAGS)) return top;
  return attributes.find((attribute) => schemaPath === attribute || schemaPath.startsWith(`${attribute}.`));
}
