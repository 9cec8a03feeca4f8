/**
 * A bare stack for the offline Terraform run: local state and an AWS provider that needs no account.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, TerraformStack, type App } from "cdktf";

/** A stack in `app` whose provider plans with mock credentials (no account id lookup, no metadata API). */
export function offlineBareStack(app: App, id: string, region: string): TerraformStack {
  const stack = new TerraformStack(app, id);
  new LocalBackend(stack, { path: "terraform.tfstate" });
  new AwsProvider(stack, "aws", {
    region,
    skipCredentialsValidation: true,
    skipRequestingAccountId: true,
    skipMetadataApiCheck: "true",
  });
  return stack;
}
