import { ImgpipeError } from '@imgpipe/core';
import { commandLine, listeningPid } from '../processes.ts';
import { tcpOpen } from '../probes.ts';
import type { HostPort } from '../settings.ts';

/** Refuses to start a service on a port that something else already holds, naming the holder. */
export async function assertPortFree(service: string, endpoint: HostPort, variable: string): Promise<void> {
  if (!(await tcpOpen(endpoint))) return;
  const pid = listeningPid(endpoint.port);
  const holder = pid === undefined ? 'another process' : `pid ${pid} (${commandLine(pid)?.slice(0, 160) ?? '?'})`;
  throw new ImgpipeError(
    'STACK_SERVICE_FAILED',
    `${service}: port ${endpoint.port} is taken by ${holder}, which does not answer as ${service}; ` +
      `stop it or point ${variable} at another port`,
  );
}
