import { diffValues, schemaPath } from "../../../tools/lib/review/diff";
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
    // AWS provider 5.100.0 source (internal/service/...).
    ["aws_default_security_group", "vpc_id"],
    ["aws_ecr_pull_through_cache_rule", "ecr_repository_prefix"],
    ["aws_ecr_pull_through_cache_rule", "upstream_registry_url"],
    ["aws_secretsmanager_secret_version", "secret_string_wo_version"],
    ["aws_secretsmanager_secret_version", "secret_id"],
    ["aws_autoscaling_group_tag", "autoscaling_group_name"],
    ["aws_autoscaling_group_tag", "tag.key"],
    ["aws_sns_topic_policy", "arn"],
    ["aws_ce_anomaly_monitor", "monitor_dimension"],
    ["aws_ce_anomaly_monitor", "monitor_type"],
    ["aws_ce_anomaly_subscription", "name"],
    ["aws_ce_anomaly_subscription", "account_id"],
    // Kubernetes provider 2.38.0: the metadata schemas and each resource's ForceNew.
    ["kubernetes_namespace_v1", "metadata.name"],
    ["kubernetes_service_account_v1", "metadata.namespace"],
    ["kubernetes_config_map_v1", "metadata.name"],
    ["kubernetes_secret_v1", "type"],
    ["kubernetes_deployment_v1", "metadata.namespace"],
    ["kubernetes_deployment_v1", "spec.selector.match_labels.app.kubernetes.io/name"],
    ["kubernetes_service_v1", "spec.cluster_ip"],
    ["kubernetes_pod_disruption_budget_v1", "spec.min_available"],
    ["kubernetes_resource_quota_v1", "spec.scopes"],
    ["kubernetes_priority_class_v1", "value"],
    ["kubernetes_storage_class_v1", "parameters.type"],
    ["kubernetes_storage_class_v1", "volume_binding_mode"],
    ["kubernetes_manifest", "manifest.kind"],
    ["kubernetes_manifest", "manifest.metadata.name"],
    // Helm provider 3.1.1: RequiresReplace on the release's name and namespace.
    ["helm_release", "name"],
    ["helm_release", "namespace"],
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
    // Not ForceNew in the provider; an internet gateway is detached from one VPC and attached to the other.
    ["aws_internet_gateway", "vpc_id"],
    ["aws_ecr_registry_scanning_configuration", "rule.scan_frequency"],
    ["aws_default_security_group", "ingress.cidr_blocks"],
    ["aws_secretsmanager_secret_version", "version_stages"],
    ["aws_autoscaling_group_tag", "tag.value"],
    ["aws_sns_topic_policy", "policy"],
    ["aws_ce_anomaly_monitor", "name"],
    ["aws_ce_anomaly_subscription", "threshold_expression.dimension.values"],
    ["kubernetes_namespace_v1", "metadata.labels.pod-security.kubernetes.io/enforce"],
    ["kubernetes_config_map_v1", "data.gpu.json"],
    ["kubernetes_secret_v1", "data_wo_revision"],
    ["kubernetes_deployment_v1", "spec.replicas"],
    ["kubernetes_deployment_v1", "spec.template.spec.container.image"],
    ["kubernetes_horizontal_pod_autoscaler_v2", "spec.max_replicas"],
    ["kubernetes_service_v1", "metadata.annotations.service.beta.kubernetes.io/aws-load-balancer-scheme"],
    ["kubernetes_storage_class_v1", "allow_volume_expansion"],
    // Not ForceNew: planned as an update, which the provider does not apply.
    ["kubernetes_storage_class_v1", "reclaim_policy"],
    ["kubernetes_manifest", "manifest.spec.cohort"],
    ["kubernetes_manifest", "manifest.metadata.labels.team"],
    ["helm_release", "version"],
    ["helm_release", "values"],
    ["helm_release", "timeout"],
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
    for (const [type, attributes] of Object.entries(REPLACEMENT_ATTRIBUTES)) {
      for (const attribute of attributes) {
        // A Kubernetes manifest's fields keep the object's own names (apiVersion).
        if (type === "kubernetes_manifest") expect(attribute).toMatch(/^manifest(\.[a-zA-Z0-9]+)+$/);
        else expect(attribute).toMatch(/^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*)$/);
      }
    }
  });

  describe("paths into an object-valued attribute, as the review diffs the synthesized bodies", () => {
    const clusterQueue = (name: string, cohort: string) => ({
      manifest: {
        apiVersion: "kueue.x-k8s.io/v1beta1",
        kind: "ClusterQueue",
        metadata: { name },
        spec: { cohort, resourceGroups: [{ coveredResources: ["cpu"] }] },
      },
    });
    const forcing = (type: string, before: unknown, after: unknown) =>
      diffValues(before, after)
        .map((change) => replacementAttribute(type, schemaPath(change.segments)))
        .filter((attribute) => attribute !== undefined);

    test("renaming a manifest's object replaces it", () => {
      expect(
        forcing("kubernetes_manifest", clusterQueue("research", "dev"), clusterQueue("science", "dev")),
      ).toEqual(["manifest.metadata.name"]);
    });

    test("changing a manifest's spec updates it in place", () => {
      expect(
        forcing("kubernetes_manifest", clusterQueue("research", "dev"), clusterQueue("research", "prod")),
      ).toEqual([]);
    });

    test("renaming a namespace replaces it, whether metadata is written as a block or a list of one", () => {
      const before = { metadata: { name: "mlflow", labels: { team: "a" } } };
      const after = { metadata: [{ name: "mlflow-v2", labels: { team: "a" } }] };
      expect(forcing("kubernetes_namespace_v1", before, after)).toEqual(["metadata.name"]);
    });

    test("a new write-only version of a secret version replaces it", () => {
      const before = { secret_id: "${aws_secretsmanager_secret.Admin.id}", secret_string_wo_version: 1 };
      const after = { secret_id: "${aws_secretsmanager_secret.Admin.id}", secret_string_wo_version: 2 };
      expect(forcing("aws_secretsmanager_secret_version", before, after)).toEqual([
        "secret_string_wo_version",
      ]);
    });
  });
});
