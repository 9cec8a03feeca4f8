/** Networking (security groups, VPC), CloudWatch Logs, SNS and the data-loss guard on stateful resources. */
import {
  block,
  blocks,
  flag,
  isSet,
  numberOf,
  strings,
  type PolicyResource,
  type PolicyRule,
  type RuleContext,
} from "../engine";
import { STATEFUL_RESOURCE_TYPES } from "../stateful";

const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];

interface IngressSource {
  readonly cidrs: string[];
  readonly from: number | "unknown" | undefined;
  readonly to: number | "unknown" | undefined;
  readonly protocol: string;
}

function ingressOf(resource: PolicyResource): IngressSource[] {
  const v = resource.values;
  if (resource.type === "aws_security_group") {
    return blocks(v.ingress).map((rule) => ({
      cidrs: [...strings(rule.cidr_blocks), ...strings(rule.ipv6_cidr_blocks)],
      from: numberOf(rule.from_port),
      to: numberOf(rule.to_port),
      protocol: String(rule.protocol ?? ""),
    }));
  }
  if (resource.type === "aws_security_group_rule") {
    if (v.type !== "ingress") return [];
    return [
      {
        cidrs: [...strings(v.cidr_blocks), ...strings(v.ipv6_cidr_blocks)],
        from: numberOf(v.from_port),
        to: numberOf(v.to_port),
        protocol: String(v.protocol ?? ""),
      },
    ];
  }
  return [
    {
      cidrs: [...strings(v.cidr_ipv4), ...strings(v.cidr_ipv6)],
      from: numberOf(v.from_port),
      to: numberOf(v.to_port),
      protocol: String(v.ip_protocol ?? ""),
    },
  ];
}

/** The security group a rule belongs to (the group itself for inline rules), when it is in the stack. */
function groupOf(resource: PolicyResource, context: RuleContext): PolicyResource | undefined {
  return resource.type === "aws_security_group"
    ? resource
    : context.resolve(resource.values.security_group_id);
}

function onPublicLoadBalancer(group: PolicyResource | undefined, context: RuleContext): boolean {
  if (!group) return false;
  return ["aws_lb", "aws_alb"].some((type) =>
    context.referencing(group, type, "security_groups").some((lb) => flag(lb.values.internal) !== true),
  );
}

const PROTECTED_TIERS = ["test", "prod"] as const;

export const OPERATIONS_RULES: readonly PolicyRule[] = [
  {
    id: "MLOPS-SG-001",
    title: "No ingress from the internet, except HTTPS to a public load balancer",
    severity: "critical",
    resourceTypes: ["aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule"],
    fix: "Allow ingress from the VPC CIDR or from other security groups; only an internet-facing load balancer's group may allow 0.0.0.0/0 on port 443.",
    check(resource, context) {
      return ingressOf(resource)
        .filter((rule) => rule.cidrs.some((cidr) => OPEN_CIDRS.includes(cidr)))
        .filter((rule) => {
          const https =
            rule.from === 443 && rule.to === 443 && ["tcp", "6"].includes(rule.protocol.toLowerCase());
          return !(https && onPublicLoadBalancer(groupOf(resource, context), context));
        })
        .map((rule) => {
          const ports =
            rule.protocol === "-1" ? "all ports" : `ports ${String(rule.from)}-${String(rule.to)}`;
          return `ingress from ${rule.cidrs.filter((c) => OPEN_CIDRS.includes(c)).join(", ")} on ${ports}`;
        });
    },
  },
  {
    id: "MLOPS-VPC-001",
    title: "VPC flow logs are on",
    severity: "medium",
    resourceTypes: ["aws_vpc"],
    fix: "Add an aws_flow_log for the VPC to an encrypted log group with retention (MlopsNetwork does this).",
    check(vpc, context) {
      const logs = [...context.referencing(vpc, "aws_flow_log", ["vpc_id", "resource_id"])];
      return logs.length > 0 ? [] : ["no aws_flow_log refers to the VPC"];
    },
  },
  {
    id: "MLOPS-VPC-002",
    title: "The VPC's default security group allows nothing",
    severity: "medium",
    resourceTypes: ["aws_vpc"],
    fix: "Add an aws_default_security_group for the VPC with no ingress and no egress, so nothing that falls back to it is reachable.",
    check(vpc, context) {
      const defaults = context.referencing(vpc, "aws_default_security_group", "vpc_id");
      if (defaults.length === 0) return ["no aws_default_security_group takes over the VPC's default group"];
      const group = defaults[0];
      const problems: string[] = [];
      if (isSet(group.values.ingress) || isSet(group.values.egress))
        problems.push("the default security group has rules");
      const extra = [
        "aws_security_group_rule",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
      ].flatMap((type) => context.referencing(group, type, "security_group_id"));
      if (extra.length > 0)
        problems.push(`${extra.map((r) => r.address).join(", ")} add rules to the default security group`);
      return problems;
    },
  },
  {
    id: "MLOPS-LOG-001",
    title: "Log groups have a retention period",
    severity: "medium",
    resourceTypes: ["aws_cloudwatch_log_group"],
    fix: "Set retention_in_days from the environment's logs.retentionDays.",
    check(group) {
      const days = numberOf(group.values.retention_in_days);
      if (days === "unknown") return [];
      return days === undefined || days === 0
        ? ["retention_in_days is not set, so logs are kept (and paid for) forever"]
        : [];
    },
  },
  {
    id: "MLOPS-LOG-002",
    title: "Log groups are encrypted with KMS",
    severity: "high",
    resourceTypes: ["aws_cloudwatch_log_group"],
    fix: "Set kms_key_id to a key of this stack whose policy lets logs.<region>.amazonaws.com use it.",
    check: (group) => (isSet(group.values.kms_key_id) ? [] : ["kms_key_id is not set"]),
  },
  {
    id: "MLOPS-SNS-001",
    title: "Topics are encrypted with a customer-managed KMS key",
    severity: "high",
    resourceTypes: ["aws_sns_topic"],
    fix: "Set kms_master_key_id to a customer-managed key whose policy lets CloudWatch and Budgets publish (they cannot use alias/aws/sns).",
    check(topic) {
      const key = topic.values.kms_master_key_id;
      if (!isSet(key)) return ["kms_master_key_id is not set"];
      return key === "alias/aws/sns"
        ? ["the AWS-managed key alias/aws/sns cannot be used by CloudWatch alarms and Budgets to publish"]
        : [];
    },
  },
  {
    id: "MLOPS-DATA-001",
    title: "Stateful resources have prevent_destroy in test and prod",
    severity: "critical",
    resourceTypes: STATEFUL_RESOURCE_TYPES,
    tiers: PROTECTED_TIERS,
    fix: "Set lifecycle { prevent_destroy = true } (config.protection.preventDestroy); to delete on purpose, remove it in a reviewed pull request first.",
    check(resource) {
      const prevent = flag(block(resource.values.lifecycle)?.prevent_destroy);
      return prevent === true
        ? []
        : ["lifecycle.prevent_destroy is not true, so a plan can destroy it and its data"];
    },
  },
];
