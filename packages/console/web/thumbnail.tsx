import { useEffect, useState } from 'preact/hooks';
import { pictureUrl } from './api.ts';

/** A small cover-cropped rendition of a stored image (GET /v1/images/{id}/renditions/{recipe}). */
export const THUMBNAIL_RECIPE = 'resize:160x120:cover/format:jpeg:70';

export function Thumbnail({ imageId, name }: { imageId: string; name: string }) {
  const [url, setUrl] = useState<string | undefined>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const abort = new AbortController();
    let made: string | undefined;
    pictureUrl(
      `/v1/images/${encodeURIComponent(imageId)}/renditions/${encodeURIComponent(THUMBNAIL_RECIPE)}`,
      abort.signal,
    )
      .then((created) => {
        made = created;
        setUrl(created);
      })
      .catch(() => setFailed(true));
    return () => {
      abort.abort();
      if (made) URL.revokeObjectURL(made);
    };
  }, [imageId]);
  if (url) return <img class="thumb" src={url} alt={`Thumbnail of ${name}`} width={160} height={120} />;
  return (
    <span
      class="thumb none"
      role="img"
      aria-label={failed ? `No thumbnail of ${name}` : `Loading the thumbnail of ${name}`}
    >
      {failed ? 'no picture' : '…'}
    </span>
  );
}
