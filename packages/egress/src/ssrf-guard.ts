import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { BlockList } from 'node:net';
import { isIP } from 'node:net';
import { ImgpipeError } from '@imgpipe/core';
import { addressList, classifyAddress, listContains } from './address-ranges.ts';

/** dns.lookup with `all: true`, as a promise: injectable so tests can make a name resolve wherever they need. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface SsrfGuardOptions {
  /**
   * Addresses or CIDR blocks exempt from the private-range refusal. Empty by default, which refuses every private,
   * loopback, link-local and reserved range: production leaves it empty; tests allow the loopback receiver they run.
   */
  allow?: readonly string[];
  resolver?: Resolver;
}

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Decides which URLs imgpipe may fetch on a caller's behalf (URL ingest, webhooks): http or https only, no
 * credentials in the URL, and every address the host resolves to must be known to be public (classifyAddress:
 * IPv6 forms that embed an IPv4 address are judged by that address). The check runs again inside the
 * socket's own DNS lookup (`lookupFunction`), so a name cannot resolve to a public address for the check and a
 * private one for the connection (DNS rebinding).
 */
export class SsrfGuard {
  readonly #allow: BlockList;
  readonly #resolver: Resolver;

  constructor(options: SsrfGuardOptions = {}) {
    this.#allow = addressList(options.allow ?? []);
    this.#resolver = options.resolver ?? systemResolver;
  }

  /** Parses and checks a URL's form (scheme, credentials) without resolving it. */
  parse(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ImgpipeError('URL_FORBIDDEN', `"${truncate(raw)}" is not an absolute URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ImgpipeError('URL_FORBIDDEN', `only http and https URLs may be fetched (got ${url.protocol})`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new ImgpipeError('URL_FORBIDDEN', 'URLs with credentials may not be fetched');
    }
    return url;
  }

  /** Resolves the URL's host and refuses it unless every address is allowed. Returns the addresses. */
  async check(raw: string | URL): Promise<LookupAddress[]> {
    const url = typeof raw === 'string' ? this.parse(raw) : raw;
    return this.resolve(hostOf(url));
  }

  async resolve(hostname: string): Promise<LookupAddress[]> {
    const literal = isIP(hostname);
    let addresses: LookupAddress[];
    if (literal !== 0) {
      addresses = [{ address: hostname, family: literal }];
    } else {
      try {
        addresses = await this.#resolver(hostname);
      } catch (error) {
        throw new ImgpipeError('URL_FETCH_FAILED', `${hostname} could not be resolved`, { cause: error });
      }
      if (addresses.length === 0) throw new ImgpipeError('URL_FETCH_FAILED', `${hostname} has no addresses`);
    }
    for (const { address } of addresses) {
      const verdict = classifyAddress(address);
      if (verdict.public || listContains(this.#allow, address)) continue;
      const via = literal === 0 ? `${hostname} resolves to ${address}, ` : '';
      throw new ImgpipeError(
        'URL_FORBIDDEN',
        `the URL points to a private or reserved address (${via}${verdict.reason})`,
        { details: { host: hostname, address, reason: verdict.reason } },
      );
    }
    return addresses;
  }

  /** A `lookup` for http.request/net.connect that applies the same check to the addresses the socket will use. */
  lookupFunction() {
    return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback) => {
      this.resolve(hostname).then(
        (addresses) => {
          const wanted = familyFilter(options.family);
          const usable = wanted === 0 ? addresses : addresses.filter((entry) => entry.family === wanted);
          if (usable.length === 0) {
            callback(Object.assign(new Error(`${hostname} has no IPv${wanted} address`), { code: 'ENOTFOUND' }), []);
          } else if (options.all) {
            callback(null, usable);
          } else {
            callback(null, usable[0]!.address, usable[0]!.family);
          }
        },
        (error: unknown) => callback(error as NodeJS.ErrnoException, []),
      );
    };
  }
}

/** The URL's host as a resolver or net.connect wants it: IPv6 literals without their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function familyFilter(family: number | string | undefined): number {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function truncate(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
