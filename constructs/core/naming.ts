import { createHash } from "node:crypto";

/**
 * The naming rules of the AWS services we name things in: the longest name each accepts and whether it
 * must be lower case. Names that would be longer are shortened with a stable hash suffix.
 */
export const NAME_LIMITS = {
  s3: { maxLength: 63, lowerCase: true },
  iamRole: { maxLength: 64, lowerCase: false },
  iamPolicy: { maxLength: 128, lowerCase: false },
  kmsAlias: { maxLength: 250, lowerCase: false },
  ecr: { maxLength: 256, lowerCase: true },
  eks: { maxLength: 100, lowerCase: false },
  eksNodeGroup: { maxLength: 63, lowerCase: false },
  launchTemplate: { maxLength: 125, lowerCase: false },
  rds: { maxLength: 63, lowerCase: true },
  sagemaker: { maxLength: 63, lowerCase: false },
  /**
   * The stem of a SageMaker endpoint configuration's name_prefix: the provider allows a prefix of 63 - 26 = 37
   * characters (it appends a 26-character suffix), and the prefix is this stem followed by `-`.
   */
  sagemakerPrefix: { maxLength: 36, lowerCase: false },
  logGroup: { maxLength: 512, lowerCase: false },
  sns: { maxLength: 256, lowerCase: false },
  securityGroup: { maxLength: 255, lowerCase: false },
  secret: { maxLength: 512, lowerCase: false },
  budget: { maxLength: 100, lowerCase: false },
  kubernetes: { maxLength: 63, lowerCase: true },
  generic: { maxLength: 255, lowerCase: false },
} as const;

/** A service whose naming rules {@link Naming} knows. */
export type NamedService = keyof typeof NAME_LIMITS;

/** Properties of a {@link Naming}. */
export interface NamingProps {
  /** Project prefix, such as `mlops`. */
  readonly project: string;
  /** Environment name, such as `dev`. */
  readonly environment: string;
}

/**
 * The one place resource names come from: `<project>-<environment>-<purpose>`, within each service's
 * limits. Names are deterministic, so other stacks can refer to a resource by name without a cross-stack
 * reference.
 *
 * @example
 * const naming = new Naming({ project: "mlops", environment: "dev" });
 * naming.name("s3", "raw"); // "mlops-dev-raw"
 */
export class Naming {
  readonly project: string;
  readonly environment: string;

  constructor(props: NamingProps) {
    this.project = props.project;
    this.environment = props.environment;
  }

  /** `<project>-<environment>`, the prefix of every name. */
  get prefix(): string {
    return `${this.project}-${this.environment}`;
  }

  /**
   * The name of a resource of `service` that serves `purpose` (`raw`, `gpu-a100`, ...). Characters the
   * service does not accept become hyphens; a name over the service's limit keeps its start and ends in an
   * 8-character hash of the full name, so two long names never collide.
   */
  name(service: NamedService, ...purpose: string[]): string {
    const { maxLength, lowerCase } = NAME_LIMITS[service];
    let name = [this.prefix, ...purpose].join("-");
    if (lowerCase) name = name.toLowerCase();
    name = name
      .replace(/[^A-Za-z0-9-]+/g, "-")
      .replace(/-{2,}/g, "-")
      .replace(/-$/, "");
    return shorten(name, maxLength);
  }
}

/** Shortens `name` to `maxLength` with a stable hash suffix; shorter names are returned as they are. */
export function shorten(name: string, maxLength: number): string {
  if (name.length <= maxLength) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  const head = name.slice(0, maxLength - hash.length - 1).replace(/-+$/, "");
  return `${head}-${hash}`;
}

/** `model-artifacts` → `ModelArtifacts`: a name from configuration as a construct id. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join("");
}
