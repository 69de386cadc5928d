/** Roles in order of power: each includes what the ones before it may do. */
export const ROLES = ['viewer', 'uploader', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/** The most powerful known role among a token's roles, if any. */
export function highestRole(roles: readonly unknown[]): Role | undefined {
  let best: Role | undefined;
  for (const role of roles) if (isRole(role) && (!best || roleAtLeast(role, best))) best = role;
  return best;
}

/** Tenant ids end up in object keys and cache keys, so they are kept to a safe alphabet. */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface Principal {
  tenantId: string;
  role: Role;
  /** Token subject or `apikey:<id>`. */
  subject: string;
  via: 'jwt' | 'api-key';
}
