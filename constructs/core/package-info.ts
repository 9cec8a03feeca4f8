import { TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import packageJson from "../../package.json";

/** The name of this package, as published. */
export const PACKAGE_NAME: string = packageJson.name;

/** The version of this package (semantic versioning; see CHANGELOG.md). */
export const PACKAGE_VERSION: string = packageJson.version;

/**
 * Records the package's name and version in the synthesized stack's metadata (`//.metadata.mlopsPlatform`
 * in `cdk.tf.json`), so deployed infrastructure can be traced to the release that made it. Every public
 * construct calls it; calling it again is harmless.
 */
export function recordPackageVersion(scope: IConstruct): void {
  TerraformStack.of(scope).addOverride("//.metadata.mlopsPlatform", {
    package: PACKAGE_NAME,
    version: PACKAGE_VERSION,
  });
}
