import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface WebAppOptions {
  /** The built web app (packages/web/dist by default). */
  webRoot: string;
}

/**
 * The web app at `/`, from its build. Vite fingerprints everything under assets/, so those are cached for a
 * year; index.html must revalidate. Without a build, `/` says how to make one instead of a bare 404.
 */
async function webAppPlugin(app: FastifyInstance, { webRoot }: WebAppOptions): Promise<void> {
  if (!existsSync(join(webRoot, 'index.html'))) {
    app.log.warn({ webRoot }, 'web app not built; run `npm run build -w @sre/web` (npm start does it)');
    app.get('/', async (_request, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The web app is not built. Run `npm run build -w @sre/web` or `npm start`.\n'),
    );
    return;
  }
  const assets = join(webRoot, 'assets');
  await app.register(fastifyStatic, {
    root: webRoot,
    prefix: '/',
    index: ['index.html'],
    wildcard: true,
    setHeaders: (res, filePath) => {
      void res.header('cache-control', filePath.includes(assets) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}

/** Encapsulated: fastify-plugin only gives it a name. */
export const webApp = fp(webAppPlugin, { name: 'web-app', fastify: '5.x', encapsulate: true });
