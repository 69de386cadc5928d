import { list } from '@imgpipe/core';

/** What outbound requests (URL ingest, webhooks) may reach besides public addresses; build `new SsrfGuard({ allow })`. */
export const egressSettings = {
  allow: list('IMGPIPE_EGRESS_ALLOW', {
    default: [],
    description:
      'addresses or CIDR blocks that URL ingest and webhooks may reach although private (tests, a trusted internal ' +
      'receiver); empty refuses every private, loopback, link-local and reserved range',
  }),
};
