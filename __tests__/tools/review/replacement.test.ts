import { REPLACEMENT_ATTRIBUTES, replacementAttribute } from "../../../tools/lib/review/replacement";

describe("replacement-forcing attributes", () => {
  test.each([
    ["aws_s3_bucket", "bucket"],
    ["aws_s3_bucket", "object_lock_enabled"],
    ["aws_kms_key", "customer_master_key_spec"],
    ["aws_kms_key", "multi_region"],
    ["aws_ecr_repository", "name"],
    ["aws_ecr_repository", "encryption_configuration.encryption_type"],
    ["aws_eks_cluster", "name"],
    ["aws_eks_cluster", "kubernetes_network_config.service_ipv4_cidr"],
    ["aws_eks_node_group", "node_group_name"],
    ["aws_eks_node_group", "subnet_ids"],
    ["aws_eks_node_group", "instance_types"],
    ["aws_eks_node_group", "capacity_type"],
    ["aws_eks_node_group", "launch_template.id"],
    ["aws_db_instance", "identifier"],
    ["aws_db_instance", "storage_encrypted"],
    ["aws_db_instance", "kms_key_id"],
    ["aws_db_instance", "username"],
    ["aws_iam_role", "name"],
    ["aws_cloudwatch_log_group", "name"],
    ["aws_vpc", "cidr_block"],
    ["aws_subnet", "availability_zone"],
    ["aws_sagemaker_model", "primary_container.image"],
    ["aws_sagemaker_endpoint_configuration", "production_variants.initial_instance_count"],
    // Checked against a plan of the AWS provider 5.100.0.
    ["aws_sagemaker_mlflow_tracking_server", "mlflow_version"],
    ["aws_sagemaker_mlflow_tracking_server", "role_arn"],
    ["aws_sagemaker_mlflow_tracking_server", "tracking_server_name"],
    ["aws_sagemaker_data_quality_job_definition", "job_resources.cluster_config.instance_type"],
    ["aws_sagemaker_data_quality_job_definition", "data_quality_app_specification.image_uri"],
    ["aws_sagemaker_monitoring_schedule", "name"],
    ["aws_prometheus_workspace", "kms_key_arn"],
  ])("%s.%s forces a replacement", (type, path) => {
    expect(replacementAttribute(type, path)).toBeDefined();
  });

  test.each([
    ["aws_s3_bucket", "force_destroy"],
    ["aws_kms_key", "enable_key_rotation"],
    ["aws_ecr_repository", "image_tag_mutability"],
    // Updatable in place since AWS provider 5.25 (terraform-provider-aws#34209).
    ["aws_eks_cluster", "vpc_config.subnet_ids"],
    ["aws_eks_cluster", "version"],
    ["aws_eks_node_group", "scaling_config.max_size"],
    ["aws_eks_node_group", "launch_template.version"],
    ["aws_db_instance", "instance_class"],
    ["aws_db_instance", "deletion_protection"],
    ["aws_iam_role", "assume_role_policy"],
    ["aws_cloudwatch_log_group", "retention_in_days"],
    ["aws_sagemaker_endpoint", "endpoint_config_name"],
    ["aws_sagemaker_endpoint_configuration", "tags"],
    ["aws_s3_bucket", "lifecycle.prevent_destroy"],
    ["aws_sagemaker_mlflow_tracking_server", "tracking_server_size"],
    ["aws_sagemaker_mlflow_tracking_server", "artifact_store_uri"],
    // Not ForceNew in the provider: planned as an update (checked against a plan of 5.100.0).
    ["aws_sagemaker_data_quality_job_definition", "role_arn"],
    ["aws_sagemaker_monitoring_schedule", "monitoring_schedule_config.schedule_config.schedule_expression"],
    ["aws_prometheus_workspace", "alias"],
    ["aws_prometheus_workspace", "logging_configuration.log_group_arn"],
  ])("%s.%s updates in place", (type, path) => {
    expect(replacementAttribute(type, path)).toBeUndefined();
  });

  test("a type missing from the table is assumed to update in place", () => {
    expect(replacementAttribute("aws_unknown_thing", "name")).toBeUndefined();
  });

  test("a longer attribute that only starts with a listed name does not match it", () => {
    expect(replacementAttribute("aws_s3_bucket", "bucket_domain_name")).toBeUndefined();
  });

  test("every entry of the table names attributes in snake_case", () => {
    for (const attributes of Object.values(REPLACEMENT_ATTRIBUTES)) {
      for (const attribute of attributes) expect(attribute).toMatch(/^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*)$/);
    }
  });
});
