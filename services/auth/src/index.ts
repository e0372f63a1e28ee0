export { buildApp, SERVICE_NAME, type AuthDeps, type AuthService } from './app.js';
export { configSchema, ARGON2_OWASP_MINIMUM, type Config } from './config.js';
export { authErrors } from './errors.js';
export { generateSigningKeyPair, publicKeyPemFromPrivate, type SigningKeyPair } from './keys.js';
export { migrations } from './db/migrations.js';
