export { buildApp, type Gateway, type GatewayDeps } from './app.js';
export { configSchema, type Config } from './config.js';
