export { type AccountConfig, accountSettings } from './account-settings.ts';
export {
  type AccountServiceOptions,
  type AccountUser,
  AccountService,
  type Actor,
  type AuditEntry,
  type AuditEvent,
  type IssuedSession,
  type UserRef,
} from './account-service.ts';
export { hashPassword, verifyPassword } from './password-hasher.ts';
export {
  checkPassword,
  checkUsername,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  normaliseUsername,
  USERNAME_PATTERN,
} from './password-policy.ts';
export { REFRESH_TOKEN_PATTERN } from './refresh-token.ts';
export { type AccountDatabase, type AccountRole, type AccountTables, withAccountTables } from './tables.ts';
