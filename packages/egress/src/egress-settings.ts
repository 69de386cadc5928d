import { type ConfigEnv, list, loadConfig } from '@imgpipe/core';
import { SsrfGuard } from './ssrf-guard.ts';

export const egressSettings = {
  allow: list('IMGPIPE_EGRESS_ALLOW', {
    default: [],
    description:
      'addresses or CIDR blocks that URL ingest and webhooks may reach although private (tests, a trusted internal ' +
      'receiver); empty refuses every private, loopback, link-local and reserved range',
  }),
};

/** The SSRF guard as configured by IMGPIPE_EGRESS_ALLOW. */
export function ssrfGuardFromEnv(env?: ConfigEnv): SsrfGuard {
  const { allow } = loadConfig(egressSettings, env);
  return new SsrfGuard({ allow });
}
