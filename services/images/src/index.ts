export { buildApp, type AppDeps, type ImagesApp } from './app.js';
export { configSchema, type Config } from './config.js';
export { imagesErrors } from './errors.js';
