/**
 * `@sre/platform`: everything a service needs except database code. The database (Kysely, `pg`,
 * PGlite, migrations) is `@sre/platform/db`, so a service without a database (the gateway) never
 * loads it (issue 11: it cost the gateway memory and start time).
 */
export {
  ConfigError,
  baseConfigShape,
  envBool,
  envInt,
  envOptionalSecret,
  envOptionalString,
  isPlaceholder,
  envSecret,
  envTrustProxy,
  envUrl,
  loadConfigOrExit,
  parseConfig,
  pgliteConfigShape,
  trustProxyConfigShape,
  z,
  type BaseConfig,
  type TrustProxy,
} from './config.js';
export {
  AppError,
  defineErrorCatalogue,
  errorBody,
  errors,
  installErrorHandling,
  platformErrors,
  type ErrorBody,
  type ErrorClassifier,
  type ErrorDefinition,
  type ErrorFactory,
} from './errors.js';
export { createLogger, requestIdFrom, traceIdFrom, type Logger } from './logging.js';
export { activeTraceIds, activeTraceparent, withSpan, type ActiveTraceIds } from './tracing/active.js';
export { createMetrics, Counter, Gauge, Histogram, Registry, HTTP_DURATION_BUCKETS, type PlatformMetrics } from './metrics.js';
export { HealthRegistry, type ReadinessCheck, type ReadinessReport, type CheckResult } from './health.js';
export { createPlatform, type Platform, type PlatformOptions } from './platform.js';
export { createHttpApp, type HttpAppOptions } from './http.js';
export { FRAMEWORK_ERROR_HEADERS } from './raw-errors.js';
export { createManagementApp, type ManagementOptions } from './management.js';
export { createShutdown, type ShutdownOptions, type ShutdownStep } from './shutdown.js';
export { startService, type RunningService, type StartServiceOptions } from './server.js';
export {
  ACCESS_TOKEN_ALGORITHMS,
  TokenVerificationError,
  bearerToken,
  createAccessTokenVerifier,
  remoteKeySource,
  staticKeySource,
  type AccessTokenClaims,
  type AccessTokenVerifier,
  type KeySource,
  type RemoteKeySourceOptions,
  type TokenFailure,
  type VerifierOptions,
} from './access-tokens.js';
export {
  CHAOS_FAULTS,
  CHAOS_TOKEN_HEADER,
  chaosErrors,
  chaosSettingsSchemas,
  type ActiveFault,
  type ChaosController,
  type ChaosFault,
  type ChaosFaultSettings,
} from './chaos-contract.js';
export { CHAOS_READINESS_CHECK, chaosConfigShape, installChaos, type ChaosConfig, type ChaosOptions } from './chaos.js';
export { CHAOS_ADMIN_TOKEN_MIN_LENGTH, refineChaosConfig } from './chaos-config.js';
export { errorResponseSchema, errorResponses, invalidRequestAs, routesOf, withZod, type ZodFastifyInstance, type ZodTypeProvider } from './route-schemas.js';
export { bearerAuth, registerOpenApi, type OpenApiInfo } from './openapi.js';
export { authenticate, KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS, tokenFailureError, type AuthenticateOptions, type TokenErrorCodes } from './authenticate.js';
