import { errorResponses, z } from '@sre/platform';
import { decodeCursor, isUuid } from './http-utils.js';

/**
 * Request and response schemas of the Images routes: the one place their shapes are written
 * (handlers take their types from them; tools/openapi turns them into the OpenAPI document, from
 * which the web app's client types are generated). Invalid ids and queries answer Images' own codes
 * (IMAGES_INVALID_ID, IMAGES_INVALID_QUERY) through `invalidRequestAs` in routes.ts.
 */

export const imageView = z
  .object({
    id: z.uuid(),
    filename: z.string().meta({ description: 'Display name only (sanitised); object keys never derive from it.' }),
    contentType: z.string().meta({ examples: ['image/png'] }),
    width: z.number().int(),
    height: z.number().int(),
    sizeBytes: z.number().int(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Image' });
export type ImageView = z.infer<typeof imageView>;

export const imagePage = z
  .object({ items: z.array(imageView), nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }) })
  .meta({ id: 'ImagePage' });

export const imageIdParams = z.object({
  id: z
    .string()
    .refine(isUuid, 'must be a UUID')
    .transform((id) => id.toLowerCase()),
});

export function listQuery(maxLimit: number) {
  return z.object({
    limit: z
      .string()
      .regex(/^\d{1,4}$/, 'must be an integer')
      .transform(Number)
      .pipe(z.number().min(1, `must be between 1 and ${maxLimit}`).max(maxLimit, `must be between 1 and ${maxLimit}`))
      .optional()
      .meta({ description: `Page size, 1 to ${maxLimit}.` }),
    cursor: z
      .string()
      .transform((raw, ctx) => {
        const after = decodeCursor(raw);
        if (!after) ctx.addIssue({ code: 'custom', message: 'The cursor is invalid' });
        return after ?? z.NEVER;
      })
      .optional()
      .meta({ description: 'The `nextCursor` of the previous page.' }),
  });
}

const bearer = [{ bearerAuth: [] }];
const binary = (description: string) => ({
  description,
  content: {
    'application/octet-stream': { schema: z.string().meta({ format: 'binary', description: 'The stored bytes; Content-Type says the image type.' }) },
  },
});
const notModified = z.null().meta({ description: 'Not modified (If-None-Match matched the ETag).' });

export function routeSchemas(maxLimit: number) {
  return {
    upload: {
      tags: ['images'],
      summary: 'Upload an image (multipart/form-data, one part named "file")',
      description: 'Body: multipart/form-data with exactly one file part named `file` (JPEG, PNG, WebP, GIF or AVIF).',
      security: bearer,
      response: { 201: imageView, ...errorResponses },
    },
    list: {
      tags: ['images'],
      summary: "The caller's images, newest first",
      security: bearer,
      querystring: listQuery(maxLimit),
      response: { 200: imagePage, ...errorResponses },
    },
    get: { tags: ['images'], summary: 'One image', security: bearer, params: imageIdParams, response: { 200: imageView, ...errorResponses } },
    content: {
      tags: ['images'],
      summary: 'The original bytes',
      security: bearer,
      params: imageIdParams,
      response: { 200: binary('The original image'), 304: notModified, ...errorResponses },
    },
    thumbnail: {
      tags: ['images'],
      summary: 'The WebP thumbnail',
      security: bearer,
      params: imageIdParams,
      response: { 200: binary('The thumbnail (image/webp)'), 304: notModified, ...errorResponses },
    },
    delete: {
      tags: ['images'],
      summary: 'Delete an image',
      security: bearer,
      params: imageIdParams,
      response: { 204: z.null().meta({ description: 'Deleted.' }), ...errorResponses },
    },
  } as const;
}
