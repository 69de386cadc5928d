import type { ImageStatus, StageStatus } from '@imgpipe/contracts';

/**
 * Statuses only move forward, so a replayed or late event cannot undo newer news: a late 'running' never
 * overwrites 'completed' or 'failed'. 'failed' may still become 'completed' (a dead-lettered message redriven
 * successfully); 'completed' is final. Equal ranks with different statuses (failed vs skipped) keep the first.
 */
const STAGE_RANK: Readonly<Record<StageStatus, number>> = {
  pending: 0,
  running: 1,
  skipped: 2,
  failed: 2,
  completed: 3,
};

export function stageStatusMayBecome(current: StageStatus | undefined, next: StageStatus): boolean {
  if (current === undefined || current === next) return true;
  return STAGE_RANK[next] > STAGE_RANK[current];
}

export function isStageFinished(status: StageStatus): boolean {
  return STAGE_RANK[status] >= 2;
}

/** An image's joined outcome may improve (a timed-out image later analysed in full), never degrade. */
const IMAGE_RANK: Readonly<Record<ImageStatus, number>> = {
  pending: 0,
  failed: 1,
  partial: 2,
  completed: 3,
};

export function imageStatusMayBecome(current: ImageStatus, next: ImageStatus): boolean {
  return IMAGE_RANK[next] >= IMAGE_RANK[current];
}
