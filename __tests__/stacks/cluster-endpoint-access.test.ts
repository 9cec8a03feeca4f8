/**
 * `cluster.endpoint.privateAccessCidrs`: who can reach the cluster's private API endpoint. Without a rule on
 * the cluster security group (which admits only its own members), no CI runner, bastion or VPN could reach it
 * in test and prod, and the cluster stack could not be planned from anywhere.
 */
import { stringify } from "yaml";
import { parseEnvironment } from "../../environments/load";
import { endpointPrivateAccessCidrsOf } from "../../environments/sections/cluster";
import {
  configFor,
  rawEnvironment,
  resourcesOf,
  synthEnvironment,
  type Patch,
  type StackJson,
} from "../helpers/synth";

/** The problems of `environments/<name>.yaml` with `patch` merged over it, as `path: message`. */
const problemLines = (name: string, patch: Patch): string[] => {
  const result = parseEnvironment(stringify(rawEnvironment(name, patch)), `environments/${name}.yaml`);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};
const cidrs = (privateAccessCidrs: string[]) => ({ cluster: { endpoint: { privateAccessCidrs } } });

/** The private endpoint's ingress rules of a platform stack: CIDR → rule. */
function endpointRulesOf(platform: StackJson): Record<string, Record<string, unknown>> {
  const [clusterId] = Object.keys(resourcesOf(platform, "aws_eks_cluster"));
  const clusterGroup = `\${aws_eks_cluster.${clusterId}.vpc_config[0].cluster_security_group_id}`;
  return Object.fromEntries(
    Object.values(resourcesOf(platform, "aws_vpc_security_group_ingress_rule"))
      .filter((rule) => rule.security_group_id === clusterGroup)
      .map((rule) => [rule.cidr_ipv4 as string, rule]),
  );
}

describe("the cluster's private endpoint in the platform stack", () => {
  it.each([
    ["dev", "10.10.0.0/16"],
    ["test", "10.20.0.0/16"],
    ["prod", "10.30.0.0/16"],
  ])("is reachable on 443 from %s's VPC (%s) by default, through the cluster security group", (env, vpc) => {
    const config = configFor(env);
    expect(config.cluster.endpoint.privateAccessCidrs).toBeUndefined();
    const platform = synthEnvironment(config).json.platform;
    expect(endpointRulesOf(platform)).toEqual({
      [vpc]: {
        security_group_id: expect.stringContaining("vpc_config[0].cluster_security_group_id"),
        description: `Kubernetes API of mlops-${env}-eks (private endpoint) from ${vpc}`,
        ip_protocol: "tcp",
        from_port: 443,
        to_port: 443,
        cidr_ipv4: vpc,
      },
    });
  });

  it("takes the networks the file lists instead of the VPC, such as a VPN and a peered network", () => {
    const platform = synthEnvironment(configFor("prod", cidrs(["10.30.0.0/16", "192.168.0.0/20"]))).json
      .platform;
    expect(Object.keys(endpointRulesOf(platform))).toEqual(["10.30.0.0/16", "192.168.0.0/20"]);
  });

  it("creates no rule for an empty list: only the cluster's own nodes and pods reach the endpoint", () => {
    const platform = synthEnvironment(configFor("test", cidrs([]))).json.platform;
    expect(endpointRulesOf(platform)).toEqual({});
  });
});

describe("cluster.endpoint.privateAccessCidrs", () => {
  it("defaults to the environment's VPC, and an explicit list (even an empty one) replaces it", () => {
    const vpc = { network: { vpcCidr: "10.20.0.0/16" } };
    expect(endpointPrivateAccessCidrsOf({ ...vpc, cluster: { endpoint: {} } })).toEqual(["10.20.0.0/16"]);
    expect(
      endpointPrivateAccessCidrsOf({
        ...vpc,
        cluster: { endpoint: { privateAccessCidrs: ["10.99.0.0/16"] } },
      }),
    ).toEqual(["10.99.0.0/16"]);
    expect(
      endpointPrivateAccessCidrsOf({ ...vpc, cluster: { endpoint: { privateAccessCidrs: [] } } }),
    ).toEqual([]);
  });

  it.each(["dev", "test", "prod"])("takes network addresses of a /8 or longer in %s", (env) => {
    const accepted = ["10.0.0.0/8", "172.16.0.0/12", "192.168.8.0/24", "192.168.8.7/32"];
    expect(configFor(env, cidrs(accepted)).cluster.endpoint.privateAccessCidrs).toEqual(accepted);
  });

  it("refuses 0.0.0.0/0: the endpoint stays private", () => {
    expect(problemLines("prod", cidrs(["0.0.0.0/0"]))).toEqual([
      "cluster.endpoint.privateAccessCidrs[0]: must not let every address reach the API endpoint, which must stay private; list the networks that need it (the VPC, a VPN, a peered network)",
    ]);
  });

  it("refuses a prefix shorter than /8", () => {
    expect(problemLines("test", cidrs(["10.20.0.0/16", "0.0.0.0/1", "10.0.0.0/7"]))).toEqual(
      ["1", "7"].map(
        (prefix, index) =>
          `cluster.endpoint.privateAccessCidrs[${index + 1}]: must have a prefix of /8 or longer (got /${prefix}): the endpoint stays private to the networks that need it; list those (the VPC, a VPN, a peered network)`,
      ),
    );
  });

  it("refuses a CIDR with host bits set, naming the network address to write", () => {
    expect(problemLines("dev", cidrs(["10.20.0.7/16"]))).toEqual([
      "cluster.endpoint.privateAccessCidrs[0]: has host bits set: the /16 block it is in starts at 10.20.0.0; write 10.20.0.0/16 for the whole block, or 10.20.0.7/32 for that one address",
    ]);
  });

  it("refuses a CIDR listed twice, which would be a second rule for the same network", () => {
    expect(problemLines("prod", cidrs(["10.30.0.0/16", "10.99.0.0/16", "10.30.0.0/16"]))).toEqual([
      "cluster.endpoint.privateAccessCidrs[2]: lists 10.30.0.0/16 again (it is privateAccessCidrs[0] already): list each CIDR once (each gets one security group rule)",
    ]);
  });
});
