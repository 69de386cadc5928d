export { type ApiConfig, apiSettings, DEV_JWT_SECRET, loadApiConfig } from './api-settings.ts';
export { type ApiDeps, type ApiOptions, buildApp } from './app.ts';
export { API_KEY_PREFIX, type ApiKeyInfo, ApiKeyStore } from './auth/api-keys.ts';
export type { JwtOptions } from './auth/authenticator.ts';
export { type DevTokenRequest, mintDevToken, parseDuration } from './auth/dev-tokens.ts';
export { apiOptionsFrom, createApi, jwtOptionsFrom, type RunningApi } from './create-api.ts';
export { checkImage, parseAnalyses } from './image-intake.ts';
export { type Problem, PROBLEM_CONTENT_TYPE } from './problem-details.ts';
export { type BucketPolicy, RateLimiter } from './rate-limiter.ts';
export {
  DEFAULT_SIGNED_TTL_SECONDS,
  MAX_SIGNED_TTL_SECONDS,
  RenditionSigner,
  type SignedRendition,
  signRendition,
} from './rendition-signing.ts';
export { readRenditionRecipe } from './rendition-service.ts';
export { isRole, type Principal, ROLES, type Role, roleAtLeast } from './roles.ts';
