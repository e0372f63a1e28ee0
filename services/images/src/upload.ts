import type { FastifyRequest } from 'fastify';
import { imagesErrors } from './errors.js';

/** Headroom for the multipart envelope (boundaries, part headers, a long filename) over the file. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const closeConnection = { headers: { connection: 'close' } };

/**
 * Reads exactly one part, a file named "file", into memory while counting: the body is cut off
 * with 413 as soon as the file passes `maxBytes`, so at most `maxBytes` are ever held. Any other
 * part (a field, a second file) is refused before it is read. The early answers close the
 * connection, since the rest of the body is never read.
 */
export async function receiveSingleFile(request: FastifyRequest, maxBytes: number): Promise<{ filename: string; bytes: Buffer }> {
  if (!request.isMultipart()) throw imagesErrors.IMAGES_MULTIPART_REQUIRED();
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD_BYTES) {
    throw imagesErrors.IMAGES_TOO_LARGE(undefined, closeConnection);
  }
  const parts = request.parts({
    limits: { fileSize: maxBytes + 1, files: 1, fields: 0, parts: 1, headerPairs: 20, fieldNameSize: 100 },
  });
  let received: { filename: string; bytes: Buffer } | undefined;
  try {
    for await (const part of parts) {
      if (part.type !== 'file' || part.fieldname !== 'file' || received) {
        throw imagesErrors.IMAGES_UNEXPECTED_PART(undefined, closeConnection);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) throw imagesErrors.IMAGES_TOO_LARGE(undefined, closeConnection);
        chunks.push(chunk);
      }
      received = { filename: part.filename, bytes: Buffer.concat(chunks, size) };
    }
  } catch (err) {
    throw classifyMultipartError(err);
  }
  if (!received) throw imagesErrors.IMAGES_FILE_MISSING();
  return received;
}

export function classifyMultipartError(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_PROTO_VIOLATION':
      return imagesErrors.IMAGES_UNEXPECTED_PART(undefined, closeConnection);
    case 'FST_REQ_FILE_TOO_LARGE':
      return imagesErrors.IMAGES_TOO_LARGE(undefined, closeConnection);
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return imagesErrors.IMAGES_MULTIPART_REQUIRED();
    case 'FST_MP_PREMATURE_CLOSE':
      return imagesErrors.IMAGES_MALFORMED_UPLOAD(undefined, closeConnection);
    default:
      break;
  }
  if (
    err instanceof Error &&
    !('statusCode' in err && (err as { statusCode?: number }).statusCode) &&
    /multipart|boundary|part|unexpected end|malformed/i.test(err.message)
  ) {
    return imagesErrors.IMAGES_MALFORMED_UPLOAD(undefined, closeConnection);
  }
  return err;
}
