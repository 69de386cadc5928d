import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, request } from '../api.ts';
import { ProgressRow } from '../progress.tsx';
import { ANALYSES, DEFAULT_ANALYSES } from '../types.ts';

interface Accepted {
  imageId: string;
  sourceName?: string;
  deduplicated: boolean;
}

interface Upload {
  imageId: string;
  name: string;
  /** Whether the upload asked for features: the opt-in stage gets a progress row of its own. */
  features: boolean;
}

/**
 * The deployment's rendition presets, as the API's OpenAPI document lists them (the `renditions` an upload may name
 * are an enum of exactly the configured presets).
 */
async function renditionPresets(): Promise<string[]> {
  const response = await request('/openapi.json');
  if (!response.ok) return [];
  const found = (node: unknown): string[] | undefined => {
    if (!node || typeof node !== 'object') return undefined;
    const renditions = (node as { renditions?: { items?: { enum?: unknown } } }).renditions;
    const names = renditions?.items?.enum;
    if (Array.isArray(names) && names.every((name) => typeof name === 'string')) return names as string[];
    for (const child of Object.values(node)) {
      const names = found(child);
      if (names) return names;
    }
    return undefined;
  };
  return found(await response.json()) ?? [];
}

const ANALYSIS_LABELS: Record<(typeof ANALYSES)[number], string> = {
  detect: 'Objects',
  faces: 'Faces',
  ocr: 'Text (OCR)',
  features: 'Keypoints (features)',
};

/**
 * Several files at once by drag and drop or the picker, the analyses to run and the rendition presets to render, then
 * each image's live progress.
 */
export function UploadPage({ setTitle }: { setTitle: (title: string) => void }) {
  const [files, setFiles] = useState<File[]>([]);
  const [analyses, setAnalyses] = useState<Set<string>>(new Set(DEFAULT_ANALYSES));
  const [presets, setPresets] = useState<string[]>([]);
  const [renditions, setRenditions] = useState<Set<string>>(new Set());
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setTitle('Upload');
    renditionPresets()
      .then(setPresets)
      .catch(() => setPresets([]));
  }, []);

  const add = (list: FileList | null | undefined) => {
    if (list) setFiles((was) => [...was, ...Array.from(list)]);
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    if (files.length === 0 || analyses.size === 0) return;
    setBusy(true);
    setError(undefined);
    try {
      const form = new FormData();
      form.append('analyses', ANALYSES.filter((name) => analyses.has(name)).join(','));
      const chosen = presets.filter((name) => renditions.has(name));
      if (chosen.length > 0) form.append('renditions', chosen.join(','));
      for (const file of files) form.append('files', file, file.name);
      const response = await request('/v1/batches', { method: 'POST', body: form });
      if (!response.ok) {
        const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
        throw new ApiError({
          status: response.status,
          code: problem.code ?? `HTTP_${response.status}`,
          ...(problem.detail ? { detail: problem.detail } : {}),
        });
      }
      const answer = (await response.json()) as {
        images: Accepted[];
        failed?: { index: number; problem: { code: string } }[];
      };
      setUploads((was) => [
        ...answer.images.map((image, index) => ({
          imageId: image.imageId,
          name: image.sourceName ?? files[index]?.name ?? image.imageId,
          features: analyses.has('features'),
        })),
        ...was,
      ]);
      if (answer.failed?.length)
        setError(
          `${answer.failed.length} file(s) could not be stored: ${answer.failed.map((f) => f.problem.code).join(', ')}`,
        );
      setFiles([]);
      if (picker.current) picker.current.value = '';
    } catch (caught) {
      setError(caught instanceof ApiError ? `${caught.code}: ${caught.message}` : 'The upload failed.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>Upload images</h1>
      <form onSubmit={submit} class="upload">
        {/* biome-ignore lint/a11y/noStaticElementInteractions: a drop target for a mouse; its file input is the keyboard's way */}
        <div
          class={`drop${dragging ? ' over' : ''}`}
          onDragOver={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(event) => {
            event.preventDefault();
            setDragging(false);
            add(event.dataTransfer?.files);
          }}
        >
          <label for="files">Drop images here, or choose files</label>
          <input
            id="files"
            ref={picker}
            type="file"
            accept="image/*"
            multiple
            onChange={(event) => add((event.currentTarget as HTMLInputElement).files)}
          />
        </div>
        {files.length > 0 ? (
          <ul class="chosen" aria-label="Chosen files">
            {files.map((file, index) => (
              <li key={`${file.name}-${index}`}>
                {file.name} ({Math.ceil(file.size / 1024)} KiB)
              </li>
            ))}
          </ul>
        ) : null}
        <fieldset>
          <legend>Analyses</legend>
          {ANALYSES.map((name) => (
            <label key={name} class="check">
              <input
                type="checkbox"
                name="analyses"
                value={name}
                checked={analyses.has(name)}
                onChange={(event) => {
                  const next = new Set(analyses);
                  if ((event.currentTarget as HTMLInputElement).checked) next.add(name);
                  else next.delete(name);
                  setAnalyses(next);
                }}
              />
              {ANALYSIS_LABELS[name]}
            </label>
          ))}
        </fieldset>
        {presets.length > 0 ? (
          <fieldset>
            <legend>Renditions</legend>
            {presets.map((name) => (
              <label key={name} class="check">
                <input
                  type="checkbox"
                  name="renditions"
                  value={name}
                  checked={renditions.has(name)}
                  onChange={(event) => {
                    const next = new Set(renditions);
                    if ((event.currentTarget as HTMLInputElement).checked) next.add(name);
                    else next.delete(name);
                    setRenditions(next);
                  }}
                />
                {name}
              </label>
            ))}
          </fieldset>
        ) : null}
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy || files.length === 0 || analyses.size === 0}>
          {busy ? 'Uploading…' : `Upload ${files.length || ''} image${files.length === 1 ? '' : 's'}`}
        </button>
      </form>
      {uploads.length > 0 ? (
        <section aria-labelledby="progress-heading">
          <h2 id="progress-heading">Progress</h2>
          <ul class="uploads">
            {uploads.map((upload) => (
              <ProgressRow
                key={upload.imageId}
                imageId={upload.imageId}
                name={upload.name}
                features={upload.features}
              />
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}
