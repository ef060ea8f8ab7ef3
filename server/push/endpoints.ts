import { lookup as dnsLookup } from 'node:dns/promises';
import { Agent } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Errors } from '../errors.js';

/**
 * A push subscription's endpoint is a URL a guest chose, and the server POSTs to it: without these
 * checks any guest could make the server call its own admin port, the bar's router or the cloud's
 * metadata service. The check is on the addresses the name resolves to, not the name, and a send
 * connects only to an address that passed it (see pinnedAgent), so DNS rebinding gets nothing.
 */

/** Everything that is not the public internet. BlockList also matches IPv4-mapped IPv6 (::ffff:a.b.c.d) against the IPv4 rules. */
const notPublic = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT (and Alibaba's metadata at 100.100.100.200)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, with the metadata service of AWS, GCP and Azure at 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255
] as const) {
  notPublic.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback ::1 and the old IPv4-compatible form
  ['64:ff9b::', 96], // NAT64, which can reach any IPv4 address behind it
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 32], // Teredo
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4 embeds an IPv4 address, private ones included
  ['fc00::', 7], // unique local, with AWS's IPv6 metadata at fd00:ec2::254
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8], // multicast
] as const) {
  notPublic.addSubnet(net, prefix, 'ipv6');
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const familyName = (family: number) => (family === 6 ? 'ipv6' : 'ipv4');

/** Whether the server may send to this address: public, or loopback when tests and development allow it. */
export function isAllowedAddress(address: string, allowLoopback: boolean): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (allowLoopback && loopback.check(address, familyName(family))) return true;
  return !notPublic.check(address, familyName(family));
}

export interface CheckedEndpoint {
  url: URL;
  /** The address that passed the check: the one a send connects to. */
  address: string;
  family: 4 | 6;
}

export interface EndpointPolicy {
  allowLoopback: boolean;
  /** For tests: what a name resolves to. */
  resolve?: (hostname: string) => Promise<{ address: string; family: number }[]>;
}

const MAX_ENDPOINT_LENGTH = 2048;
const LOOKUP_TIMEOUT_MS = 5000;

const systemResolve = (hostname: string) => dnsLookup(hostname, { all: true, verbatim: true });

/** Checks an endpoint and resolves its name; throws `push_endpoint_refused` (400) saying why not. */
export async function checkEndpoint(raw: string, policy: EndpointPolicy): Promise<CheckedEndpoint> {
  if (raw.length > MAX_ENDPOINT_LENGTH || !URL.canParse(raw)) throw Errors.pushEndpointRefused('the endpoint is not a URL');
  const url = new URL(raw);
  if (url.protocol !== 'https:') throw Errors.pushEndpointRefused('the endpoint must be an https: URL');
  if (url.username || url.password) throw Errors.pushEndpointRefused('the endpoint must not carry a user name or password');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
  else {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('lookup timed out')), LOOKUP_TIMEOUT_MS);
    });
    try {
      addresses = await Promise.race([(policy.resolve ?? systemResolve)(host), timeout]);
    } catch {
      throw Errors.pushEndpointRefused('the endpoint\'s host name does not resolve');
    } finally {
      clearTimeout(timer);
    }
  }
  // Every address must pass: a name that also points inside would let a retry land there.
  if (addresses.length === 0 || !addresses.every((a) => isAllowedAddress(a.address, policy.allowLoopback))) {
    throw Errors.pushEndpointRefused('the endpoint must be on a public internet address, not a private, loopback or link-local one');
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/**
 * An agent whose every connection goes to the checked address, whatever DNS says by then. TLS
 * still verifies the certificate against the endpoint's host name (the request's `servername`).
 */
export function pinnedAgent(checked: CheckedEndpoint): Agent {
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: checked.address, family: checked.family }]);
    else callback(null, checked.address, checked.family);
  };
  return new Agent({ lookup, keepAlive: false, maxSockets: 1 });
}
