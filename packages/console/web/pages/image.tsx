import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, pictureUrl, streamEvents, type User } from '../api.ts';
import { COLOURS, type Layers, Overlay } from '../overlay.tsx';
import { BASE, linkClick } from '../router.ts';
import { Thumbnail } from '../thumbnail.tsx';
import { type ImageView, STAGE_NAMES, TERMINAL } from '../types.ts';

/** The picture's rendition: the stored original, upright, as JPEG (the overlay's coordinates are its pixels). */
export const PICTURE_RECIPE = 'format:jpeg:90';

function Facts({ view }: { view: ImageView }) {
  const info = view.image;
  if (!info) return null;
  const exif = Object.entries(info.exif ?? {}).filter(([, value]) => value !== undefined && value !== null);
  return (
    <section aria-labelledby="facts-heading">
      <h2 id="facts-heading">Image</h2>
      <dl class="facts">
        <dt>Size</dt>
        <dd>
          {info.width} × {info.height} px, {info.format}, {Math.ceil(info.bytes / 1024)} KiB
        </dd>
        {Object.entries(info.quality ?? {}).map(([name, value]) => (
          <Fragment key={`q-${name}`}>
            <dt>{name}</dt>
            <dd>{typeof value === 'number' ? value.toFixed(3) : String(value)}</dd>
          </Fragment>
        ))}
        {sceneFacts(info.scene).map(([name, value]) => (
          <Fragment key={`s-${name}`}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </Fragment>
        ))}
        {exif.map(([name, value]) => (
          <Fragment key={`e-${name}`}>
            <dt>EXIF {name}</dt>
            <dd>{typeof value === 'object' ? JSON.stringify(value) : String(value)}</dd>
          </Fragment>
        ))}
      </dl>
      {info.colors?.length ? (
        <ul class="colours" aria-label="Dominant colours">
          {info.colors.map((colour) => (
            <li key={colour.hex}>
              <svg width="16" height="16" aria-hidden="true">
                <rect width="16" height="16" fill={colour.hex} stroke="#444" />
              </svg>{' '}
              {colour.hex} {Math.round(colour.share * 100)}%
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/** Texture and composition as label and value, in the order docs/results.md explains them; none when absent. */
function sceneFacts(scene: NonNullable<ImageView['image']>['scene']): [string, string][] {
  if (!scene) return [];
  const { texture, composition } = scene;
  const facts: [string, string][] = [
    ['texture contrast', texture.contrast.toFixed(4)],
    ['homogeneity', texture.homogeneity.toFixed(3)],
    ['energy', texture.energy.toFixed(3)],
    ['entropy', `${texture.entropy.toFixed(2)} bits`],
    ['edge density', texture.edgeDensity.toFixed(3)],
  ];
  if (composition.weightCenter) {
    const { x, y } = composition.weightCenter;
    facts.push(['visual weight at', `${Math.round(x * 100)}% across, ${Math.round(y * 100)}% down`]);
  }
  if (composition.thirdsDistance !== undefined) {
    facts.push(['from a thirds point', composition.thirdsDistance.toFixed(3)]);
  }
  facts.push(['left-right symmetry', composition.symmetry.toFixed(3)]);
  if (composition.horizonTilt !== undefined) facts.push(['horizon tilt', `${composition.horizonTilt.toFixed(2)}°`]);
  return facts;
}

/** One image: the picture with toggleable overlays, its text with copy, stage statuses with codes, the raw JSON. */
interface SimilarAnswer {
  similar: { imageId: string; distance: number; sourceName?: string }[];
}

/**
 * The tenant's images that look like this one (GET /v1/images/{id}/similar: perceptual-hash distance, nearest
 * first), once its preprocess has given it a hash.
 */
function Similar({ id, ready }: { id: string; ready: boolean }) {
  const [items, setItems] = useState<SimilarAnswer['similar'] | undefined>();
  const [note, setNote] = useState<string | undefined>();
  useEffect(() => {
    if (!ready) return;
    const abort = new AbortController();
    getJson<SimilarAnswer>(`/v1/images/${encodeURIComponent(id)}/similar?limit=8`, { signal: abort.signal })
      .then((answer) => setItems(answer.similar))
      .catch((caught: unknown) => {
        if (abort.signal.aborted) return;
        setNote(
          caught instanceof ApiError && caught.code === 'IMAGE_HASH_UNAVAILABLE'
            ? 'This image has no perceptual hash (its preprocess did not complete), so none can be compared.'
            : caught instanceof ApiError
              ? `${caught.code}: ${caught.message}`
              : 'Could not load similar images.',
        );
      });
    return () => abort.abort();
  }, [id, ready]);
  return (
    <section aria-labelledby="similar-heading" data-testid="similar">
      <h2 id="similar-heading">Similar images</h2>
      {note ? <p>{note}</p> : null}
      {items?.length === 0 ? <p>No similar images.</p> : null}
      {items?.length ? (
        <ul class="results">
          {items.map((item) => {
            const name = item.sourceName ?? item.imageId;
            return (
              <li key={item.imageId} class="result" data-image-id={item.imageId}>
                <a href={`${BASE}/images/${item.imageId}`} onClick={linkClick}>
                  <Thumbnail imageId={item.imageId} name={name} />
                  <span class="name">{name}</span>
                </a>
                <span>distance {item.distance} of 64 bits</span>
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}

export function ImagePage({ id, setTitle }: { id: string; user: User; setTitle: (title: string) => void }) {
  const [view, setView] = useState<ImageView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [picture, setPicture] = useState<string | undefined>();
  const [pictureError, setPictureError] = useState<string | undefined>();
  const [layers, setLayers] = useState<Layers>({ objects: true, faces: true, text: true, keypoints: true });
  const [copied, setCopied] = useState('');

  useEffect(() => {
    const abort = new AbortController();
    setView(undefined);
    setError(undefined);
    getJson<ImageView>(`/v1/images/${encodeURIComponent(id)}`, { signal: abort.signal })
      .then(async (first) => {
        setView(first);
        setTitle(first.sourceName ?? first.imageId);
        if (TERMINAL.has(first.status)) return;
        // Still running: follow it until the result arrives.
        await streamEvents(
          id,
          (event, data) => {
            if (event === 'result') setView(data as ImageView);
          },
          abort.signal,
        );
      })
      .catch((caught: unknown) => {
        if (!abort.signal.aborted)
          setError(caught instanceof ApiError ? `${caught.code}: ${caught.message}` : 'Could not load the image.');
      });
    return () => abort.abort();
  }, [id]);

  const hasInfo = Boolean(view?.image);
  useEffect(() => {
    if (!hasInfo) return;
    const abort = new AbortController();
    let url: string | undefined;
    pictureUrl(`/v1/images/${encodeURIComponent(id)}/renditions/${encodeURIComponent(PICTURE_RECIPE)}`, abort.signal)
      .then((made) => {
        url = made;
        setPicture(made);
      })
      .catch((caught: unknown) => {
        if (!abort.signal.aborted) setPictureError(caught instanceof ApiError ? caught.code : 'unavailable');
      });
    return () => {
      abort.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [id, hasInfo]);

  if (error) {
    return (
      <>
        <h1>Image</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </>
    );
  }
  if (!view) return <p class="loading">Loading…</p>;
  const name = view.sourceName ?? view.imageId;
  const toggle = (layer: keyof Layers, label: string, count: number) => (
    <label class="check">
      <input
        type="checkbox"
        checked={layers[layer]}
        onChange={() => setLayers({ ...layers, [layer]: !layers[layer] })}
      />
      <svg width="12" height="12" aria-hidden="true">
        <rect width="12" height="12" fill={COLOURS[layer]} />
      </svg>{' '}
      {label} ({count})
    </label>
  );
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(view.text.fullText);
      setCopied('Copied.');
    } catch {
      setCopied('The browser refused to copy; select the text instead.');
    }
  };
  return (
    <>
      <h1 class="image-name" data-testid="image-name">
        {name}
      </h1>
      <p>
        <span class={`badge ${view.status}`} data-testid="image-status">
          {view.status}
        </span>{' '}
        {view.error ? (
          <span class="error-code">
            {view.error.code}: {view.error.message}
          </span>
        ) : null}
      </p>
      <section aria-labelledby="picture-heading">
        <h2 id="picture-heading">Picture</h2>
        <fieldset class="layers">
          <legend>Overlays</legend>
          {toggle('objects', 'Objects', view.objects.length)}
          {toggle('faces', 'Faces', view.faces.length)}
          {toggle('text', 'Text', view.text.lines.length)}
          {view.features ? toggle('keypoints', 'Keypoints', view.features.keypoints.length) : null}
        </fieldset>
        {picture ? (
          <div class="picture" data-testid="picture">
            <img src={picture} alt={name} width={view.image?.width} height={view.image?.height} />
            <Overlay view={view} layers={layers} />
          </div>
        ) : (
          <p>
            {pictureError
              ? `No picture (${pictureError}).`
              : view.image
                ? 'Loading the picture…'
                : 'No picture: preprocessing did not finish.'}
          </p>
        )}
      </section>
      {view.objects.length ? (
        <section aria-labelledby="objects-heading">
          <h2 id="objects-heading">Objects</h2>
          <ul class="objects">
            {view.objects.map((object, index) => (
              <li key={index} data-label={object.label}>
                {object.label} {Math.round(object.confidence * 100)}% at {Math.round(object.box.x)},
                {Math.round(object.box.y)} {Math.round(object.box.width)}×{Math.round(object.box.height)}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {view.features || view.featuresStage ? (
        <section aria-labelledby="features-heading" data-testid="features">
          <h2 id="features-heading">Keypoints</h2>
          {view.features ? (
            <p>
              {view.features.count} keypoints ({view.features.detector}), the strongest {view.features.keypoints.length}{' '}
              drawn
            </p>
          ) : (
            <p>
              Features {view.featuresStage?.status}
              {view.featuresStage?.error
                ? `: ${view.featuresStage.error.code}: ${view.featuresStage.error.message}`
                : ''}
            </p>
          )}
        </section>
      ) : null}
      <section aria-labelledby="text-heading">
        <h2 id="text-heading">Text</h2>
        {view.text.fullText ? (
          <>
            <pre class="text" data-testid="ocr-text">
              {view.text.fullText}
            </pre>
            <button type="button" onClick={copy}>
              Copy text
            </button>{' '}
            <span role="status">{copied}</span>
          </>
        ) : (
          <p>No text found.</p>
        )}
      </section>
      <section aria-labelledby="stages-heading">
        <h2 id="stages-heading">Stages</h2>
        <div class="scroll">
          <table class="stages-table">
            <thead>
              <tr>
                <th scope="col">Stage</th>
                <th scope="col">Status</th>
                <th scope="col">Error</th>
                <th scope="col">Time</th>
                <th scope="col">Model</th>
              </tr>
            </thead>
            <tbody>
              {STAGE_NAMES.map((stage) => {
                const report = view.stages[stage];
                return (
                  <tr key={stage} data-stage={stage}>
                    <th scope="row">{stage}</th>
                    <td>{report?.status ?? '—'}</td>
                    <td>{report?.error ? `${report.error.code}: ${report.error.message}` : ''}</td>
                    <td>{report?.durationMs !== undefined ? `${Math.round(report.durationMs)} ms` : ''}</td>
                    <td>{report?.model ? `${report.model.name} ${report.model.version}` : ''}</td>
                  </tr>
                );
              })}
              {view.featuresStage ? (
                <tr data-stage="features">
                  <th scope="row">features</th>
                  <td>{view.featuresStage.status}</td>
                  <td>
                    {view.featuresStage.error
                      ? `${view.featuresStage.error.code}: ${view.featuresStage.error.message}`
                      : ''}
                  </td>
                  <td>
                    {view.featuresStage.durationMs !== undefined
                      ? `${Math.round(view.featuresStage.durationMs)} ms`
                      : ''}
                  </td>
                  <td>
                    {view.featuresStage.model
                      ? `${view.featuresStage.model.name} ${view.featuresStage.model.version}`
                      : ''}
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      </section>
      {Object.keys(view.attributes ?? {}).length ? (
        <section aria-labelledby="attributes-heading">
          <h2 id="attributes-heading">Attributes</h2>
          <dl class="facts">
            {Object.entries(view.attributes).map(([key, value]) => (
              <Fragment key={`a-${key}`}>
                <dt>{key}</dt>
                <dd>{value}</dd>
              </Fragment>
            ))}
          </dl>
        </section>
      ) : null}
      <Facts view={view} />
      <Similar id={view.imageId} ready={TERMINAL.has(view.status)} />
      <details>
        <summary>Raw JSON</summary>
        <pre class="json">{JSON.stringify(view, null, 2)}</pre>
      </details>
    </>
  );
}
