export { requireTool, requireEnv, hasCommand } from './tools.js';
export { freePort, tryListen, waitFor } from './net.js';
export {
  createTestDatabase,
  defaultTestDatabase,
  pgliteSuiteSkip,
  startEphemeralPostgres,
  testPostgresUrl,
  type DefaultTestDatabase,
  type EphemeralPostgres,
  type TestDatabase,
} from './postgres.js';
export { captureLogs, type LogLine } from './logs.js';
export { suiteFixture, type SuiteFixture } from './fixture.js';
export { fuzzRequests, describeRequest, seededRandom, sendRaw, type FuzzRequest, type FuzzOptions, type RawResponse } from './fuzz.js';
