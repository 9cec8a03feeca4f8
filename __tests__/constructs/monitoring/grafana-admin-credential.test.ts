import { Testing, TerraformStack } from "cdktf";
import { GrafanaAdminCredential } from "../../../constructs/monitoring/grafana-admin-credential";
import { onlyResource, synthStack, type StackJson } from "../../helpers/synth";

describe("GrafanaAdminCredential", () => {
  let json: StackJson;
  let text: string;
  beforeAll(() => {
    const stack = new TerraformStack(Testing.app(), "test");
    new GrafanaAdminCredential(stack, "GrafanaAdmin", {
      secretName: "mlops-dev/grafana-admin",
      kmsKeyId: "alias/mlops-dev-secrets",
      revision: 2,
    });
    text = Testing.synth(stack);
    json = synthStack(stack);
  });

  it("has Secrets Manager generate the password during apply (ephemeral, never stored)", () => {
    const passwords = Object.values(
      (json.ephemeral as Record<string, Record<string, unknown>>).aws_secretsmanager_random_password,
    );
    expect(passwords).toEqual([expect.objectContaining({ password_length: 32, exclude_punctuation: true })]);
  });

  it("stores it in a KMS-encrypted secret through a write-only attribute", () => {
    expect(onlyResource(json, "aws_secretsmanager_secret")).toMatchObject({
      name: "mlops-dev/grafana-admin",
      kms_key_id: "alias/mlops-dev-secrets",
      recovery_window_in_days: 30,
    });
    const version = onlyResource(json, "aws_secretsmanager_secret_version");
    expect(version).toMatchObject({ secret_string_wo_version: 2 });
    expect(version.secret_string_wo).toMatch(
      /ephemeral\.aws_secretsmanager_random_password\.\w+\.random_password/,
    );
    expect(version.secret_string).toBeUndefined();
  });

  it("writes the same value into the Kubernetes Secret Grafana reads, write-only too", () => {
    const secret = onlyResource(json, "kubernetes_secret_v1");
    expect(secret).toMatchObject({
      metadata: { name: "grafana-admin", namespace: "monitoring" },
      data_wo_revision: 2,
      data_wo: {
        "admin-user": "admin",
        "admin-password": expect.stringMatching(
          /^\$\{ephemeral\.aws_secretsmanager_random_password\.\w+\.random_password\}$/,
        ),
      },
    });
    expect(secret.data).toBeUndefined();
  });

  it("puts no password literal into the synthesized configuration", () => {
    expect(text).not.toMatch(/"(secret_string|password|admin-password)"\s*:\s*"(?!\$\{)/);
  });

  it("owns a rotated key when none is given", () => {
    const stack = new TerraformStack(Testing.app(), "owned");
    new GrafanaAdminCredential(stack, "G", { secretName: "mlops-dev/grafana-admin" });
    const owned = synthStack(stack);
    expect(onlyResource(owned, "aws_kms_key")).toMatchObject({ enable_key_rotation: true });
    expect(onlyResource(owned, "aws_kms_alias").name).toBe("alias/mlops-dev-grafana-admin");
    expect(onlyResource(owned, "aws_secretsmanager_secret").kms_key_id).toMatch(
      /aws_kms_key\.G_Key_\w+\.arn/,
    );
  });

  it("rejects a deletion window of its own key that KMS would refuse, and ignores it with a key given", () => {
    const stack = new TerraformStack(Testing.app(), "window");
    expect(
      () => new GrafanaAdminCredential(stack, "G", { secretName: "s", keyDeletionWindowDays: 45 }),
    ).toThrow(/G: keyDeletionWindowDays is 45; KMS accepts a whole number of days from 7 to 30/);
    expect(
      () =>
        new GrafanaAdminCredential(stack, "Given", {
          secretName: "s",
          kmsKeyId: "alias/k",
          keyDeletionWindowDays: 45,
        }),
    ).not.toThrow();
  });

  it("rejects a password shorter than 20 characters", () => {
    const stack = new TerraformStack(Testing.app(), "short");
    expect(
      () =>
        new GrafanaAdminCredential(stack, "G", { secretName: "s", kmsKeyId: "alias/k", passwordLength: 8 }),
    ).toThrow(/passwordLength must be a whole number from 20 to 4096, got 8/);
  });
});
