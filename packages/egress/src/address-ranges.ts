import { BlockList, isIP } from 'node:net';

/**
 * Which addresses a fetch on a caller's behalf may reach. Deny by default: an address is public only when it is
 * IPv4 outside every special-purpose block (IANA's IPv4 special-purpose registry, multicast and reserved), or IPv6
 * global unicast (2000::/3) outside every special-purpose block. IPv6 forms that carry an IPv4 address (IPv4-mapped
 * `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`) are judged by the IPv4 address they embed; Teredo (2001::/32) and local-use NAT64 (64:ff9b:1::/48)
 * are refused whatever they embed.
 */

interface Range {
  network: string;
  prefix: number;
  /** What the block is, for the refusal's message. */
  what: string;
}

const SPECIAL_V4: readonly Range[] = [
  { network: '0.0.0.0', prefix: 8, what: '"this network"' },
  { network: '10.0.0.0', prefix: 8, what: 'private' },
  { network: '100.64.0.0', prefix: 10, what: 'carrier-grade NAT' },
  { network: '127.0.0.0', prefix: 8, what: 'loopback' },
  { network: '169.254.0.0', prefix: 16, what: 'link-local (cloud metadata)' },
  { network: '172.16.0.0', prefix: 12, what: 'private' },
  { network: '192.0.0.0', prefix: 24, what: 'IETF protocol assignments' },
  { network: '192.0.2.0', prefix: 24, what: 'documentation' },
  { network: '192.88.99.0', prefix: 24, what: '6to4 relay anycast' },
  { network: '192.168.0.0', prefix: 16, what: 'private' },
  { network: '198.18.0.0', prefix: 15, what: 'benchmarking' },
  { network: '198.51.100.0', prefix: 24, what: 'documentation' },
  { network: '203.0.113.0', prefix: 24, what: 'documentation' },
  { network: '224.0.0.0', prefix: 4, what: 'multicast' },
  { network: '240.0.0.0', prefix: 4, what: 'reserved' },
];

/** Blocks that are not public. Everything outside 2000::/3 is refused anyway; these give the reason. */
const SPECIAL_V6: readonly Range[] = [
  { network: '::', prefix: 128, what: 'unspecified' },
  { network: '::1', prefix: 128, what: 'loopback' },
  { network: '64:ff9b:1::', prefix: 48, what: 'local-use NAT64' },
  { network: '100::', prefix: 64, what: 'discard-only' },
  { network: '2001::', prefix: 32, what: 'Teredo' },
  { network: '2001::', prefix: 23, what: 'IETF protocol assignments' },
  { network: '2001:db8::', prefix: 32, what: 'documentation' },
  { network: '3fff::', prefix: 20, what: 'documentation' },
  { network: '5f00::', prefix: 16, what: 'segment routing' },
  { network: 'fc00::', prefix: 7, what: 'unique local (private)' },
  { network: 'fe80::', prefix: 10, what: 'link-local' },
  { network: 'fec0::', prefix: 10, what: 'site-local' },
  { network: 'ff00::', prefix: 8, what: 'multicast' },
];

/** Public, or not with the reason ("loopback (::1/128)", "IPv4-mapped 127.0.0.1: loopback (127.0.0.0/8)"). */
export type AddressClass =
  | { public: true /** The IPv4 address an IPv6 form carries, when it carries one. */; embedded?: string }
  | { public: false; reason: string; embedded?: string };

/** Classifies an IP address; anything that is not an IP address is not public. */
export function classifyAddress(address: string): AddressClass {
  const text = address.split('%')[0]!;
  const family = isIP(text);
  if (family === 4) return classifyV4(ipv4Value(text));
  if (family === 6) return classifyV6(ipv6Value(text));
  return { public: false, reason: 'not an IP address' };
}

/** True when the address is not known to be public (see classifyAddress). */
export function isPrivateAddress(address: string): boolean {
  return !classifyAddress(address).public;
}

function classifyV4(value: number): AddressClass {
  const range = SPECIAL_V4.find((r) => inV4(value, r));
  return range ? { public: false, reason: `${range.what} (${range.network}/${range.prefix})` } : { public: true };
}

const V4_MASK = 0xffffffffn;

function classifyV6(value: bigint): AddressClass {
  const embedded = embeddedIpv4(value);
  if (embedded) {
    const v4 = classifyV4(embedded.value);
    const dotted = ipv4Text(embedded.value);
    return v4.public
      ? { public: true, embedded: dotted }
      : { public: false, reason: `${embedded.form} ${dotted}: ${v4.reason}`, embedded: dotted };
  }
  const range = SPECIAL_V6.find((r) => inV6(value, r));
  if (range?.what === 'Teredo') {
    // The client's IPv4 address is the last 32 bits inverted; refused whatever it is (the tunnel goes anywhere).
    const client = ipv4Text(Number(~value & V4_MASK));
    return { public: false, reason: `Teredo tunnel (2001::/32, client ${client})`, embedded: client };
  }
  if (range) return { public: false, reason: `${range.what} (${range.network}/${range.prefix})` };
  if (value >> 125n !== 1n) return { public: false, reason: 'not global unicast (outside 2000::/3)' };
  return { public: true };
}

/** The IPv4 address an IPv6 address carries by one of the translation or tunnelling forms that embed one. */
function embeddedIpv4(value: bigint): { form: string; value: number } | undefined {
  const low32 = Number(value & V4_MASK);
  const high96 = value >> 32n;
  // :: and ::1 are the unspecified and loopback addresses, not IPv4-compatible ones.
  if (high96 === 0n && low32 > 1) return { form: 'IPv4-compatible', value: low32 };
  if (high96 === 0xffffn) return { form: 'IPv4-mapped', value: low32 };
  if (high96 === 0xffff0000n) return { form: 'IPv4-translated', value: low32 };
  if (high96 === 0x64ff9b0000000000000000n) return { form: 'NAT64', value: low32 };
  if (value >> 112n === 0x2002n) return { form: '6to4', value: Number((value >> 80n) & V4_MASK) };
  return undefined;
}

/** Same leading `prefix` bits (prefixes 1-32). */
function inV4(value: number, range: Range): boolean {
  return (value ^ ipv4Value(range.network)) >>> (32 - range.prefix) === 0;
}

function inV6(value: bigint, range: Range): boolean {
  const shift = BigInt(128 - range.prefix);
  return value >> shift === ipv6Value(range.network) >> shift;
}

function ipv4Value(text: string): number {
  const octets = text.split('.').map(Number);
  return octets[0]! * 2 ** 24 + octets[1]! * 2 ** 16 + octets[2]! * 2 ** 8 + octets[3]!;
}

function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** The 128-bit value of a valid IPv6 address (isIP says 6), a trailing dotted IPv4 part included. */
function ipv6Value(text: string): bigint {
  let address = text.toLowerCase();
  const dotted = /\d+\.\d+\.\d+\.\d+$/.exec(address);
  if (dotted) {
    const v4 = ipv4Value(dotted[0]);
    address = `${address.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((sum, group) => (sum << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

/** A list of addresses and CIDR blocks ("127.0.0.1", "10.0.0.0/8", "::1/128") as a BlockList. */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [network = '', prefixText] = entry.trim().split('/');
    const family = isIP(network);
    if (family === 0) throw new TypeError(`"${entry}" is not an IP address or CIDR block`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(network, type);
    } else {
      const prefix = Number(prefixText);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new TypeError(`"${entry}" has an invalid prefix length`);
      }
      list.addSubnet(network, prefix, type);
    }
  }
  return list;
}

export function listContains(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
