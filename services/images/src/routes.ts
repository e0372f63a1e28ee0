import { invalidRequestAs, type AccessTokenVerifier, type ZodTypeProvider } from '@sre/platform';
import type { MigrationRunner } from '@sre/platform/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from './auth.js';
import type { Config } from './config.js';
import { imagesErrors } from './errors.js';
import { contentDisposition, encodeCursor, ifNoneMatchHits, sanitiseFilename } from './http-utils.js';
import type { AdmissionLimit } from './limiter.js';
import type { ImagesMetrics } from './metrics.js';
import type { ImageRepository, ImageRow } from './repository.js';
import { routeSchemas } from './schemas.js';
import { toView, type ImageService } from './service.js';
import { ObjectNotFoundError, type ObjectStorage } from './storage/index.js';
import { receiveSingleFile } from './upload.js';
import { uploadResult } from './classify-error.js';

export interface ImagesRouteDeps {
  config: Config;
  verifier: AccessTokenVerifier;
  migrations: MigrationRunner;
  admission: AdmissionLimit;
  service: ImageService;
  repository: ImageRepository;
  storage: ObjectStorage;
  metrics: ImagesMetrics;
}

const CACHE_CONTROL = 'private, no-cache';

/** A malformed id or query answers Images' own codes, with the schema's message. */
const schemaErrorFormatter = invalidRequestAs({ params: imagesErrors.IMAGES_INVALID_ID, querystring: imagesErrors.IMAGES_INVALID_QUERY });

/** The public API: every route needs a verified access token (auth.ts) and a migrated database. */
export function imagesRoutes(deps: ImagesRouteDeps) {
  const { config, admission, service, repository, storage, metrics } = deps;
  const schemas = routeSchemas(config.LIST_MAX_LIMIT);

  return async function imageRoutes(scope: FastifyInstance): Promise<void> {
    const api = scope.withTypeProvider<ZodTypeProvider>();
    api.addHook('onRequest', authenticate(deps.verifier));
    api.addHook('preHandler', async () => {
      if (!deps.migrations.isDone()) throw imagesErrors.IMAGES_DB_UNAVAILABLE(undefined, { headers: { 'retry-after': '5' } });
    });

    api.post('/', { schema: schemas.upload }, async (request, reply) => {
      const release = admission.tryAcquire();
      if (!release) {
        metrics.uploadsTotal.inc({ result: 'busy' });
        throw imagesErrors.IMAGES_BUSY(undefined, { headers: { 'retry-after': '1', connection: 'close' } });
      }
      metrics.uploadsInFlight.set(admission.inFlight);
      try {
        const { filename, bytes } = await receiveSingleFile(request, config.UPLOAD_MAX_BYTES);
        metrics.uploadBytes.observe(bytes.length);
        if (bytes.length === 0) throw imagesErrors.IMAGES_EMPTY_FILE();
        const row = await service.upload(request.ownerId, sanitiseFilename(filename), bytes);
        metrics.uploadsTotal.inc({ result: 'success' });
        request.log.info({ imageId: row.id, sizeBytes: row.size_bytes, contentType: row.content_type }, 'image stored');
        return reply.code(201).send(toView(row));
      } catch (err) {
        metrics.uploadsTotal.inc({ result: uploadResult(err) });
        throw err;
      } finally {
        release();
        metrics.uploadsInFlight.set(admission.inFlight);
      }
    });

    api.get('/', { schema: schemas.list, schemaErrorFormatter }, async (request) => {
      const limit = request.query.limit ?? config.LIST_DEFAULT_LIMIT;
      const rows = await repository.listVisible(request.ownerId, limit + 1, request.query.cursor);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page.map(toView), nextCursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null };
    });

    const findOwn = async (request: FastifyRequest, id: string): Promise<ImageRow> => {
      // Another user's image is "not found": never 403, which would confirm that it exists.
      const row = await repository.findVisible(request.ownerId, id);
      if (!row) throw imagesErrors.IMAGES_NOT_FOUND();
      return row;
    };

    api.get('/:id', { schema: schemas.get, schemaErrorFormatter }, async (request) => toView(await findOwn(request, request.params.id)));

    const serveObject = async (which: 'original' | 'thumbnail', request: FastifyRequest, id: string, reply: FastifyReply) => {
      const row = await findOwn(request, id);
      const etag = which === 'original' ? row.etag : row.thumbnail_etag;
      void reply.header('etag', etag).header('cache-control', CACHE_CONTROL).header('vary', 'Authorization');
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send();
      let object;
      try {
        object = await storage.get(which === 'original' ? row.original_key : row.thumbnail_key);
      } catch (err) {
        if (!(err instanceof ObjectNotFoundError)) throw err;
        request.log.error({ imageId: row.id, which }, 'visible image is missing its object; run reconcile');
        throw imagesErrors.IMAGES_NOT_FOUND();
      }
      const filename = which === 'original' ? row.filename : `${row.filename.replace(/\.[^.]*$/, '')}.thumbnail.webp`;
      return reply
        .header('content-type', which === 'original' ? row.content_type : 'image/webp')
        .header('content-length', String(which === 'original' ? row.size_bytes : row.thumbnail_size_bytes))
        .header('content-disposition', contentDisposition('inline', filename))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(object.body);
    };
    // Binary answers are not serialised, so the response schema only documents them.
    api.get('/:id/content', { schema: schemas.content, schemaErrorFormatter }, async (request, reply) =>
      serveObject('original', request, request.params.id, reply as FastifyReply),
    );
    api.get('/:id/thumbnail', { schema: schemas.thumbnail, schemaErrorFormatter }, async (request, reply) =>
      serveObject('thumbnail', request, request.params.id, reply as FastifyReply),
    );

    api.delete('/:id', { schema: schemas.delete, schemaErrorFormatter }, async (request, reply) => {
      await service.delete(request.ownerId, request.params.id);
      return reply.code(204).send(null);
    });
  };
}
