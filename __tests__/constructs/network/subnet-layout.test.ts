import { cidrSubnet, networkOf, subnetLayout, zoneIndex } from "../../../constructs/network/subnet-layout";

describe("subnetLayout", () => {
  it("gives each zone a /19 private and a /24 public subnet of a /16, chosen by the zone's letter", () => {
    expect(subnetLayout("10.10.0.0/16", ["eu-west-1a", "eu-west-1b"])).toEqual([
      {
        availabilityZone: "eu-west-1a",
        zoneIndex: 0,
        privateCidr: "10.10.0.0/19",
        publicCidr: "10.10.224.0/24",
      },
      {
        availabilityZone: "eu-west-1b",
        zoneIndex: 1,
        privateCidr: "10.10.32.0/19",
        publicCidr: "10.10.225.0/24",
      },
    ]);
  });

  it("keeps a zone's subnets when another zone is removed", () => {
    const [, withTwo] = subnetLayout("10.0.0.0/16", ["eu-west-1a", "eu-west-1c"]);
    const [, , withThree] = subnetLayout("10.0.0.0/16", ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(withTwo).toEqual(withThree);
  });

  it("scales the blocks with the VPC: a /20 gets /23 private and /28 public subnets", () => {
    expect(subnetLayout("10.1.16.0/20", ["us-east-1a"])[0]).toMatchObject({
      privateCidr: "10.1.16.0/23",
      publicCidr: "10.1.30.0/28",
    });
  });

  it("refuses VPCs outside /16 to /20", () => {
    expect(() => subnetLayout("10.0.0.0/24", ["eu-west-1a"])).toThrow(/between \/16 and \/20/);
  });

  it("refuses zone letters after g, which would collide with the public block", () => {
    expect(() => subnetLayout("10.0.0.0/16", ["us-east-1h"])).toThrow(/beyond the 7 zones/);
  });
});

describe("cidrSubnet", () => {
  it("matches Terraform's cidrsubnet", () => {
    expect(cidrSubnet("10.0.0.0/16", 8, 3)).toBe("10.0.3.0/24");
    expect(cidrSubnet("172.16.0.0/12", 4, 15)).toBe("172.31.0.0/16");
  });

  it("refuses a CIDR that does not start at a network boundary", () => {
    expect(() => cidrSubnet("10.0.1.0/16", 3, 0)).toThrow(/network boundary/);
  });

  it("refuses a block number beyond the range", () => {
    expect(() => cidrSubnet("10.0.0.0/16", 3, 8)).toThrow(/block 8 does not exist/);
  });
});

describe("networkOf", () => {
  it("clears the host bits, keeping the prefix", () => {
    expect(networkOf("10.20.0.7/16")).toBe("10.20.0.0/16");
    expect(networkOf("203.0.113.7/24")).toBe("203.0.113.0/24");
    expect(networkOf("10.20.0.0/16")).toBe("10.20.0.0/16");
    expect(networkOf("192.168.1.9/32")).toBe("192.168.1.9/32");
  });

  it("refuses what is not a CIDR block", () => {
    expect(() => networkOf("10.0.0.300/16")).toThrow(/not an IPv4 CIDR block/);
  });
});

describe("zoneIndex", () => {
  it("counts from zone a", () => {
    expect(zoneIndex("eu-west-1a")).toBe(0);
    expect(zoneIndex("eu-west-1c")).toBe(2);
  });
});
