/**
 * The `network` section of an environment file: the VPC that the platform's workloads run in.
 */
import { z } from "zod";
import { networkOf } from "../../constructs/network/subnet-layout";
import { cidrBlock, logRetentionDays } from "../schema";
import { byTier, type Tier } from "../tier";

/** AWS services the VPC can reach through interface endpoints instead of the NAT gateways. */
export const INTERFACE_ENDPOINT_SERVICES = [
  "ecr.api",
  "ecr.dkr",
  "sts",
  "logs",
  "sagemaker.runtime",
  "sagemaker.api",
  "eks",
  "eks-auth",
  "ec2",
  "elasticloadbalancing",
  "autoscaling",
  "kms",
  "ssm",
  "secretsmanager",
  "monitoring",
] as const;

/** The smallest and largest VPC the subnet layout supports (see `constructs/network/subnet-layout.ts`). */
export const VPC_PREFIX_RANGE = { min: 16, max: 20 } as const;

/** The schema of the `network` section, with the defaults of `tier`. */
export function networkSection(tier: Tier) {
  const t = byTier(tier);
  return z
    .strictObject({
      /** The VPC's address range; private subnets get /19s of a /16, public ones /24s. */
      vpcCidr: cidrBlock.default("10.0.0.0/16"),
      /** One NAT gateway for the whole VPC (cheap) or one per availability zone (no cross-zone outage). */
      natGateways: z.enum(["single", "per-az"]).default(t({ dev: "single", test: "single", prod: "per-az" })),
      /** VPC flow logs to an encrypted CloudWatch log group. */
      flowLogs: z
        .strictObject({
          /** Which traffic to record: every flow, or only rejected ones (cheaper). */
          trafficType: z
            .enum(["ALL", "ACCEPT", "REJECT"])
            .default(t({ dev: "REJECT", test: "ALL", prod: "ALL" })),
          /** @default logs.retentionDays */
          retentionDays: logRetentionDays.optional(),
        })
        .prefault({}),
      /**
       * Services reached through interface endpoints with private DNS, so their traffic stays in the VPC. None
       * in dev: five endpoints in two zones cost about twice its NAT gateway, and save little NAT traffic
       * (image layers come from S3, through the free gateway endpoint); the calls go through the NAT instead.
       */
      interfaceEndpoints: z.array(z.enum(INTERFACE_ENDPOINT_SERVICES)).default(
        t<(typeof INTERFACE_ENDPOINT_SERVICES)[number][]>({
          dev: [],
          test: ["ecr.api", "ecr.dkr", "sts", "logs", "sagemaker.runtime"],
          prod: ["ecr.api", "ecr.dkr", "sts", "logs", "sagemaker.runtime"],
        }),
      ),
    })
    .prefault({})
    .superRefine((network, ctx) => {
      if (new Set(network.interfaceEndpoints).size !== network.interfaceEndpoints.length) {
        ctx.addIssue({
          code: "custom",
          path: ["interfaceEndpoints"],
          message: "must not list a service twice",
        });
      }
      // An invalid CIDR has its own message already.
      if (!cidrBlock.safeParse(network.vpcCidr).success) return;
      const prefix = Number(network.vpcCidr.split("/")[1]);
      if (prefix < VPC_PREFIX_RANGE.min || prefix > VPC_PREFIX_RANGE.max) {
        ctx.addIssue({
          code: "custom",
          path: ["vpcCidr"],
          message: `must have a prefix length between /${VPC_PREFIX_RANGE.min} and /${VPC_PREFIX_RANGE.max} (got /${prefix})`,
        });
        return;
      }
      const boundary = networkOf(network.vpcCidr);
      if (boundary !== network.vpcCidr) {
        ctx.addIssue({
          code: "custom",
          path: ["vpcCidr"],
          message: `must start at a network boundary: did you mean ${boundary}?`,
        });
      }
    });
}
