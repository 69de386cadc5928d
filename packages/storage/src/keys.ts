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
