import type { WireError } from './wire-error.ts';

export interface TaskMessage {
  id: number;
  module: string;
  name: string;
  args: unknown[];
}

export type TaskReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };
