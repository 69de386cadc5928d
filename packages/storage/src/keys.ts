/**
 * Object keys. Originals are content-addressed within a tenant so an identical upload reuses the object;
 * derivatives sit beside the image id that produced them.
 */
export function originalKey(tenantId: string, sha256: string): string {
  return `tenants/${tenantId}/originals/${sha256.slice(0, 2)}/${sha256}`;
}

export function derivativeKey(tenantId: string, imageId: string, name: string): string {
  return `tenants/${tenantId}/images/${imageId}/${name}`;
}

/**
 * A rendition of an original: beside nothing but the original's content, so every image of the tenant with the same
 * bytes shares it. `variant` is a digest of what decides the output (the normalised recipe, the format chosen for
 * `format:auto`, the detections a crop used), lowercase hex.
 */
export function renditionKey(tenantId: string, sha256: string, variant: string): string {
  return `tenants/${tenantId}/renditions/${sha256.slice(0, 2)}/${sha256}/${variant}`;
}

/**
 * An image's stored keypoints and descriptors (the IPKF record): beside nothing but the original's content, as
 * renditions are, so every image of the tenant with the same bytes shares it. `variant` is a digest of the canonical
 * detector options and the detection size, lowercase hex.
 */
export function featuresKey(tenantId: string, sha256: string, variant: string): string {
  return `tenants/${tenantId}/features/${sha256.slice(0, 2)}/${sha256}/${variant}.ipkf`;
}
