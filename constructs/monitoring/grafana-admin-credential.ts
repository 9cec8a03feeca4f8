import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { Fn, ref, TerraformElement, Token, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { recordPackageVersion } from "../core/package-info";
import { keyDeletionWindow } from "../core/key-deletion-window";

/** Properties of a {@link GrafanaAdminCredential}. */
export interface GrafanaAdminCredentialProps {
  /** Secrets Manager secret name, such as `mlops-dev/grafana-admin`. */
  readonly secretName: string;
  /**
   * Customer-managed KMS key of the secret: key ARN, alias (`alias/mlops-dev-secrets`) or alias ARN.
   * @default - the credential owns a key (rotation on, alias `alias/<secretName with / as ->`)
   */
  readonly kmsKeyId?: string;
  /**
   * Days a scheduled deletion of the owned key waits (7-30). Ignored with `kmsKeyId`.
   * @default 30
   */
  readonly keyDeletionWindowDays?: number;
  /**
   * Terraform `prevent_destroy` on the owned key (the secret cannot be read without it).
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * Namespace of Grafana, where the Kubernetes Secret is written.
   * @default "monitoring"
   */
  readonly namespace?: string;
  /**
   * Name of the Kubernetes Secret Grafana reads (`admin.existingSecret`).
   * @default "grafana-admin"
   */
  readonly kubernetesSecretName?: string;
  /**
   * Grafana admin user name.
   * @default "admin"
   */
  readonly username?: string;
  /**
   * Bump to rotate: the next apply generates a new password and writes it to both places.
   * @default 1
   */
  readonly revision?: number;
  /**
   * Days a deleted secret can still be restored (0 deletes at once; otherwise 7-30).
   * @default 30
   */
  readonly recoveryWindowDays?: number;
  /** @default 32 */
  readonly passwordLength?: number;
  /**
   * Resources the Kubernetes Secret waits for, such as the namespace it is written to.
   * @default - none
   */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * An ephemeral `aws_secretsmanager_random_password`: Secrets Manager generates the password during apply.
 * cdktf 0.21 has no binding for ephemeral resources, so this element writes the block itself.
 */
class EphemeralRandomPassword extends TerraformElement {
  static readonly TYPE = "aws_secretsmanager_random_password";

  constructor(
    scope: Construct,
    id: string,
    private readonly passwordLength: number,
  ) {
    super(scope, id, `ephemeral.${EphemeralRandomPassword.TYPE}`);
  }

  /** The generated password: usable only in write-only attributes, never stored in plan or state. */
  get randomPassword(): string {
    return Token.asString(
      ref(
        `ephemeral.${EphemeralRandomPassword.TYPE}.${this.friendlyUniqueId}.random_password`,
        this.cdktfStack,
      ),
    );
  }

  override toTerraform(): Record<string, unknown> {
    return {
      ephemeral: {
        [EphemeralRandomPassword.TYPE]: {
          [this.friendlyUniqueId]: {
            password_length: this.passwordLength,
            // Punctuation breaks naive shell and URL handling of the password; length makes up for it.
            exclude_punctuation: true,
            require_each_included_type: true,
          },
        },
      },
    };
  }
}

/**
 * Grafana's admin credential, generated and never written down: during apply, Secrets Manager generates a
 * random password (an ephemeral resource), which goes through write-only attributes into
 *
 * - a Secrets Manager secret (KMS-encrypted), where people retrieve it, and
 * - the Kubernetes Secret that Grafana reads through `admin.existingSecret`.
 *
 * The value never appears in `cdktf.out`, in a plan, or in Terraform state (write-only attributes need
 * Terraform 1.11). It is written once per `revision`: bump the revision to rotate both copies in one apply.
 * The construct needs the AWS and Kubernetes providers, so it belongs in the cluster stack.
 *
 * @example
 * const credential = new GrafanaAdminCredential(this, "GrafanaAdmin", {
 *   secretName: "mlops-dev/grafana-admin", kmsKeyId: "alias/mlops-dev-secrets",
 * });
 * // kube-prometheus-stack: grafana.admin.existingSecret = credential.kubernetesSecretName
 */
export class GrafanaAdminCredential extends Construct {
  /** The Secrets Manager secret. */
  readonly secret: SecretsmanagerSecret;
  /** The Kubernetes Secret Grafana reads. */
  readonly kubernetesSecret: SecretV1;
  readonly kubernetesSecretName: string;
  readonly secretName: string;
  /** The key the credential owns; undefined when it uses the `kmsKeyId` it was given. */
  readonly key?: KmsKey;

  constructor(scope: Construct, id: string, props: GrafanaAdminCredentialProps) {
    super(scope, id);
    recordPackageVersion(this);
    const where = `GrafanaAdminCredential ${this.node.path}`;
    const revision = props.revision ?? 1;
    if (!Number.isInteger(revision) || revision < 1)
      throw new Error(`${where}: revision must be a whole number, at least 1`);
    const length = props.passwordLength ?? 32;
    if (!Number.isInteger(length) || length < 20 || length > 4096) {
      throw new Error(`${where}: passwordLength must be a whole number from 20 to 4096, got ${length}`);
    }
    const recovery = props.recoveryWindowDays ?? 30;
    if (recovery !== 0 && (recovery < 7 || recovery > 30)) {
      throw new Error(`${where}: recoveryWindowDays must be 0 or 7-30, got ${recovery}`);
    }
    this.secretName = props.secretName;
    this.kubernetesSecretName = props.kubernetesSecretName ?? "grafana-admin";
    const username = props.username ?? "admin";

    let kmsKeyId = props.kmsKeyId;
    if (!kmsKeyId) {
      // IAM policies of the account decide who reads the secret; Secrets Manager uses the key on their behalf.
      this.key = new KmsKey(this, "Key", {
        description: `Encrypts the Secrets Manager secret ${props.secretName}`,
        enableKeyRotation: true,
        deletionWindowInDays: keyDeletionWindow(
          props.keyDeletionWindowDays ?? 30,
          `GrafanaAdminCredential ${this.node.path}`,
        ),
        lifecycle: { preventDestroy: props.preventDestroy ?? true },
      });
      new KmsAlias(this, "KeyAlias", {
        name: `alias/${props.secretName.replace(/[^A-Za-z0-9_-]/g, "-")}`,
        targetKeyId: this.key.keyId,
      });
      kmsKeyId = this.key.arn;
    }

    const password = new EphemeralRandomPassword(this, "Password", length);
    this.secret = new SecretsmanagerSecret(this, "Resource", {
      name: props.secretName,
      description: "Grafana admin credential (generated; also in the Kubernetes Secret Grafana reads)",
      kmsKeyId,
      recoveryWindowInDays: recovery,
    });
    new SecretsmanagerSecretVersion(this, "Value", {
      secretId: this.secret.id,
      secretStringWo: Fn.jsonencode({ username, password: password.randomPassword }),
      secretStringWoVersion: revision,
    });
    this.kubernetesSecret = new SecretV1(this, "KubernetesSecret", {
      metadata: {
        name: this.kubernetesSecretName,
        namespace: props.namespace ?? "monitoring",
        labels: { "app.kubernetes.io/part-of": "mlops-platform" },
        annotations: { "mlops.platform/secrets-manager-secret": props.secretName },
      },
      type: "Opaque",
      dataWo: { "admin-user": username, "admin-password": password.randomPassword },
      dataWoRevision: revision,
      dependsOn: props.dependsOn,
    });
  }
}
