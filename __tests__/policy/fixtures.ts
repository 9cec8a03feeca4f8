/**
 * Small synthesized-stack fixtures for the rule tests: resources keyed by address, as cdktf writes them.
 */
import type { SynthesizedStackJson } from "../../constructs/policy/engine";
import type { Tier } from "../../environments/tier";

/** Resources keyed by address (`aws_s3_bucket.Data`, `data.aws_iam_policy_document.Trust`). */
export type Resources = Record<string, Record<string, unknown>>;

/** A synthesized stack holding `resources`, stamped with a tier like the policy pack stamps it. */
export function stackJson(resources: Resources, tier: Tier = "prod"): SynthesizedStackJson {
  const resource: Record<string, Record<string, Record<string, unknown>>> = {};
  const data: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const [address, values] of Object.entries(resources)) {
    const parts = address.split(".");
    const [target, type, name] =
      parts[0] === "data" ? [data, parts[1], parts[2]] : [resource, parts[0], parts[1]];
    target[type] ??= {};
    target[type][name] = { "//": { metadata: { path: `fixture/${name}`, uniqueId: name } }, ...values };
  }
  return {
    "//": { metadata: { stackName: "fixture" }, policy: { environment: tier, tier } },
    resource,
    data,
  };
}

const bucketRef = "${aws_s3_bucket.Data.id}";
const bucketArn = "${aws_s3_bucket.Data.arn}";

/** A bucket that passes every S3 rule. */
export const GOOD_BUCKET: Resources = {
  "aws_s3_bucket.Data": {
    bucket: "mlops-prod-data",
    force_destroy: false,
    lifecycle: { prevent_destroy: true },
  },
  "aws_s3_bucket_versioning.DataVersioning": {
    bucket: bucketRef,
    versioning_configuration: { status: "Enabled" },
  },
  "aws_s3_bucket_server_side_encryption_configuration.DataEncryption": {
    bucket: bucketRef,
    rule: [
      {
        apply_server_side_encryption_by_default: {
          sse_algorithm: "aws:kms",
          kms_master_key_id: "${aws_kms_key.Data.arn}",
        },
      },
    ],
  },
  "aws_s3_bucket_public_access_block.DataPab": {
    bucket: bucketRef,
    block_public_acls: true,
    block_public_policy: true,
    ignore_public_acls: true,
    restrict_public_buckets: true,
  },
  "aws_s3_bucket_policy.DataPolicy": {
    bucket: bucketRef,
    policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucketArn, `${bucketArn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    }),
  },
  "aws_s3_bucket_logging.DataLogging": {
    bucket: bucketRef,
    target_bucket: "mlops-prod-logs",
    target_prefix: "data/",
  },
  "aws_s3_bucket_lifecycle_configuration.DataLifecycle": {
    bucket: bucketRef,
    rule: [
      {
        id: "abort",
        status: "Enabled",
        filter: [{ prefix: "" }],
        abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
      },
    ],
  },
  "aws_s3_bucket_ownership_controls.DataOwnership": {
    bucket: bucketRef,
    rule: { object_ownership: "BucketOwnerEnforced" },
  },
};

/** `base` without the resources at `addresses`. */
export function without(base: Resources, ...addresses: string[]): Resources {
  return Object.fromEntries(Object.entries(base).filter(([address]) => !addresses.includes(address)));
}

/** `base` with the values of `address` merged with `values`. */
export function patched(base: Resources, address: string, values: Record<string, unknown>): Resources {
  return { ...base, [address]: { ...(base[address] ?? {}), ...values } };
}

/** A container that passes every Kubernetes rule. */
export const GOOD_CONTAINER = {
  name: "server",
  image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/inference:1.4.2",
  liveness_probe: [{ http_get: [{ path: "/health", port: "8080" }] }],
  readiness_probe: [{ http_get: [{ path: "/ready", port: "8080" }] }],
  resources: [{ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } }],
  security_context: [
    { allow_privilege_escalation: false, privileged: false, run_as_non_root: true, run_as_user: "10001" },
  ],
};

/** A Deployment whose containers are `containers`. */
export function deployment(...containers: Record<string, unknown>[]): Resources {
  return {
    "kubernetes_deployment_v1.Server": {
      metadata: [{ name: "server", namespace: "serving" }],
      spec: [{ template: [{ spec: [{ container: containers }] }] }],
    },
  };
}
