export { type AddressClass, addressList, classifyAddress, isPrivateAddress } from './address-ranges.ts';
export { type GuardedFetchOptions, type GuardedResponse, guardedFetch } from './guarded-fetch.ts';
export { hostOf, type Resolver, SsrfGuard, type SsrfGuardOptions } from './ssrf-guard.ts';
export { egressSettings } from './egress-settings.ts';
