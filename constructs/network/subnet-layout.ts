/**
 * The deterministic subnet layout of a VPC, computed here rather than by Terraform so that a plan shows
 * real CIDRs and a subnet's range depends only on its zone.
 *
 * The VPC (a /16 to a /20) is cut into eight equal blocks. Blocks 0-6 are the private subnets, one per zone,
 * chosen by the zone's letter (`a` → 0, `b` → 1 ...), so adding or removing a zone never moves another
 * zone's subnet. Block 7 is cut into /24s (for a /16) holding the public subnets, again by zone letter:
 * public subnets only hold load balancers and NAT gateways, so they stay small.
 *
 * | VPC        | private (x7 max)   | public            |
 * |------------|--------------------|-------------------|
 * | 10.0.0.0/16 | 10.0.0.0/19 ...   | 10.0.224.0/24 ... |
 */

/** Where a zone's subnets go. */
export interface ZoneSubnets {
  readonly availabilityZone: string;
  /** 0 for zone `a`, 1 for `b` ... */
  readonly zoneIndex: number;
  readonly privateCidr: string;
  readonly publicCidr: string;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Bits added to the VPC prefix for a private subnet (eight blocks). */
const PRIVATE_NEW_BITS = 3;
/** Bits added to the VPC prefix for a public subnet (a /24 of a /16). */
const PUBLIC_NEW_BITS = 8;
/** The block that holds the public subnets. */
const PUBLIC_BLOCK = 2 ** PRIVATE_NEW_BITS - 1;

/** Parses `10.0.0.0/16` into its address (as a number) and prefix length; throws on anything else. */
export function parseCidr(cidr: string): { address: number; prefix: number } {
  const match = CIDR.exec(cidr);
  if (!match) throw new Error(`"${cidr}" is not an IPv4 CIDR block such as 10.0.0.0/16`);
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) {
    throw new Error(`"${cidr}" is not an IPv4 CIDR block: octets must be 0-255 and the prefix 0-32`);
  }
  return { address: octets.reduce((sum, octet) => sum * 256 + octet, 0), prefix };
}

function formatCidr(address: number, prefix: number): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256);
  return `${octets.join(".")}/${prefix}`;
}

/**
 * The block `cidr` is in, written from its network address (`10.20.0.7/16` → `10.20.0.0/16`); throws as
 * {@link parseCidr} does.
 */
export function networkOf(cidr: string): string {
  const { address, prefix } = parseCidr(cidr);
  return formatCidr(address - (address % 2 ** (32 - prefix)), prefix);
}

/**
 * Terraform's `cidrsubnet(prefix, newbits, netnum)`: the `netNumber`th block of `cidr` when it is cut into
 * blocks with `newBits` more prefix bits.
 */
export function cidrSubnet(cidr: string, newBits: number, netNumber: number): string {
  const { address, prefix } = parseCidr(cidr);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) throw new Error(`"${cidr}" does not start at a network boundary`);
  const newPrefix = prefix + newBits;
  if (newPrefix > 32) throw new Error(`cannot cut "${cidr}" into /${newPrefix} blocks`);
  if (netNumber < 0 || netNumber >= 2 ** newBits) {
    throw new Error(
      `"${cidr}" has ${2 ** newBits} blocks of /${newPrefix}; block ${netNumber} does not exist`,
    );
  }
  return formatCidr(address + netNumber * 2 ** (32 - newPrefix), newPrefix);
}

/** 0 for `eu-west-1a`, 1 for `eu-west-1b` ... */
export function zoneIndex(availabilityZone: string): number {
  const letter = /[a-z]$/.exec(availabilityZone)?.[0];
  if (!letter) throw new Error(`"${availabilityZone}" is not an availability zone such as eu-west-1a`);
  return letter.charCodeAt(0) - "a".charCodeAt(0);
}

/** The private and public subnet CIDRs of each zone of a VPC. */
export function subnetLayout(vpcCidr: string, availabilityZones: readonly string[]): ZoneSubnets[] {
  const { prefix } = parseCidr(vpcCidr);
  if (prefix < 16 || prefix > 20) {
    throw new Error(
      `VPC CIDR "${vpcCidr}" must have a prefix length between /16 and /20 for the subnet layout`,
    );
  }
  const seen = new Set<number>();
  return availabilityZones.map((availabilityZone) => {
    const index = zoneIndex(availabilityZone);
    if (index >= PUBLIC_BLOCK) {
      throw new Error(
        `availability zone "${availabilityZone}" is beyond the ${PUBLIC_BLOCK} zones (a-${String.fromCharCode(96 + PUBLIC_BLOCK)}) the subnet layout supports`,
      );
    }
    if (seen.has(index)) throw new Error(`availability zone "${availabilityZone}" is listed twice`);
    seen.add(index);
    const publicBlock = cidrSubnet(vpcCidr, PRIVATE_NEW_BITS, PUBLIC_BLOCK);
    return {
      availabilityZone,
      zoneIndex: index,
      privateCidr: cidrSubnet(vpcCidr, PRIVATE_NEW_BITS, index),
      publicCidr: cidrSubnet(publicBlock, PUBLIC_NEW_BITS - PRIVATE_NEW_BITS, index),
    };
  });
}
