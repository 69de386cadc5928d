import { useEffect, useState } from 'preact/hooks';
import { streamEvents } from './api.ts';
import { BASE, linkClick } from './router.ts';
import { type ImageView, STAGE_NAMES, type StageReport, TERMINAL } from './types.ts';

interface Progress {
  status: string;
  stages: Record<string, Partial<StageReport>>;
  /** The opt-in features stage, reported with the result (ImageView.featuresStage), not stage by stage. */
  featuresStage?: Partial<StageReport>;
  error?: string;
}

/**
 * One uploaded image's live progress, stage by stage, from its event stream: `image` (status and stages), `stage`
 * (one stage changed) and `result` (finished; the stream ends). A dropped stream is opened again until the image is
 * finished; each new stream starts with the image as it is, so nothing is missed.
 */
export function ProgressRow({ imageId, name, features }: { imageId: string; name: string; features?: boolean }) {
  const [progress, setProgress] = useState<Progress>({ status: 'pending', stages: {} });
  useEffect(() => {
    const abort = new AbortController();
    let finished = false;
    const onEvent = (event: string, data: unknown) => {
      if (event === 'image') {
        const image = data as { status: string; stages?: Record<string, StageReport> };
        setProgress((was) => ({ ...was, status: image.status, stages: image.stages ?? was.stages }));
      } else if (event === 'stage') {
        const change = data as { status: string; stage: string; stageStatus?: StageReport['status'] };
        setProgress((was) => ({
          ...was,
          status: change.status,
          stages: { ...was.stages, [change.stage]: { ...was.stages[change.stage], status: change.stageStatus } },
        }));
      } else if (event === 'result') {
        const view = data as ImageView;
        finished = true;
        setProgress({
          status: view.status,
          stages: view.stages,
          ...(view.featuresStage ? { featuresStage: view.featuresStage } : {}),
          ...(view.error ? { error: view.error.code } : {}),
        });
      }
    };
    void (async () => {
      for (let attempt = 0; !finished && !abort.signal.aborted; attempt++) {
        try {
          await streamEvents(imageId, onEvent, abort.signal);
        } catch {
          if (abort.signal.aborted) return;
        }
        if (!finished) await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** attempt, 15_000)));
      }
    })();
    return () => abort.abort();
  }, [imageId]);
  const done = TERMINAL.has(progress.status);
  return (
    <li class="progress" data-image-id={imageId} data-status={progress.status}>
      <a href={`${BASE}/images/${imageId}`} onClick={linkClick} class="name">
        {name}
      </a>
      <span class={`badge ${progress.status}`} aria-live="polite">
        {progress.status}
        {progress.error ? ` (${progress.error})` : ''}
      </span>
      <ol class="stages" aria-label={`Stages of ${name}`}>
        {[...STAGE_NAMES, ...(features ? ['features'] : [])].map((stage) => {
          const report = stage === 'features' ? progress.featuresStage : progress.stages[stage];
          const status = report?.status ?? 'pending';
          return (
            <li key={stage} class={`stage ${status}`} data-stage={stage}>
              {stage}: {status}
              {report?.error ? ` ${report.error.code}` : ''}
            </li>
          );
        })}
      </ol>
      {done ? null : <progress aria-label={`Progress of ${name}`} />}
    </li>
  );
}
