import { withSpan } from '@sre/platform';
import sharp, { type Sharp } from 'sharp';
import type { AcceptedType } from './sniff.js';
import { MalformedImageError, stripMetadata, TrailingDataError } from './strip/index.js';

export class TooManyPixelsError extends Error {
  constructor(readonly pixels: number) {
    super(`image has ${pixels} pixels`);
    this.name = 'TooManyPixelsError';
  }
}
export class InvalidImageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidImageError';
  }
}

export interface ProcessingOptions {
  maxPixels: number;
  thumbnailMaxEdgePx: number;
  /** Called with each step's duration in seconds (metrics). */
  observe?: (operation: 'probe' | 'original' | 'thumbnail', seconds: number) => void;
}

export interface ProcessedImage {
  readonly contentType: AcceptedType;
  readonly width: number;
  readonly height: number;
  readonly original: Buffer;
  readonly thumbnail: Buffer;
}

/**
 * Everything done to one upload. libvips works in libuv threads, so the event loop only schedules;
 * the caller bounds how many of these run at once.
 *
 * 1. probe: read the header only (no pixel decoding) and refuse more than `maxPixels` — a 30-byte
 *    PNG can claim 20000×20000 and decode to 1.6 GB.
 * 2. original: remove metadata at the container level (src/strip/): JPEG, PNG, WebP and GIF keep
 *    their pixel data byte for byte (no generation loss, a few milliseconds instead of a full decode
 *    and encode), their ICC profile, and their orientation as a one-tag EXIF block; EXIF, XMP, IPTC,
 *    comments and text chunks are gone. A malformed structure is refused. AVIF is the exception: it
 *    is decoded, turned upright and re-encoded (see src/strip/index.ts for why).
 * 3. thumbnail: decoded from the stored original (so what is stored is proven to decode; JPEG is
 *    shrunk while decoding), longest edge `thumbnailMaxEdgePx`, first frame, upright, WebP, sRGB,
 *    no metadata at all.
 */
export async function processImage(bytes: Buffer, type: AcceptedType, options: ProcessingOptions): Promise<ProcessedImage> {
  const { maxPixels } = options;
  const timed = async <T>(operation: 'probe' | 'original' | 'thumbnail', fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      // A span per step: sharp's work runs on libvips threads no instrumentation sees (docs/tracing.md).
      return await withSpan(`images.${operation}`, { 'image.type': type, 'image.bytes': bytes.length }, fn);
    } finally {
      options.observe?.(operation, (performance.now() - started) / 1000);
    }
  };

  const meta = await timed('probe', async () => {
    try {
      return await sharp(bytes, { limitInputPixels: false, animated: true }).metadata();
    } catch (err) {
      throw new InvalidImageError('cannot read image header', { cause: err });
    }
  });
  if (!meta.width || !meta.height) throw new InvalidImageError('image header has no dimensions');
  const frames = Math.max(1, meta.pages ?? 1);
  const frameHeight = meta.pageHeight ?? meta.height;
  const pixels = meta.width * frameHeight * frames;
  if (pixels > maxPixels || meta.width * frameHeight > maxPixels) throw new TooManyPixelsError(pixels);
  const animated = frames > 1 && (type === 'image/gif' || type === 'image/webp');
  const swapsAxes = (meta.orientation ?? 1) >= 5;

  // Per frame; the total was checked above.
  const decoderOptions = { limitInputPixels: maxPixels, failOn: 'truncated', sequentialRead: true } as const;

  try {
    const original = await timed('original', async () => {
      let stripped: Buffer | undefined;
      try {
        stripped = stripMetadata(bytes, type, meta.orientation);
      } catch (err) {
        if (err instanceof MalformedImageError || err instanceof TrailingDataError) throw new InvalidImageError(err.message, { cause: err });
        throw err;
      }
      return stripped ?? reencodeAvif(sharp(bytes, decoderOptions));
    });
    const thumbnail = await timed('thumbnail', () =>
      sharp(original, decoderOptions)
        .autoOrient()
        .resize(options.thumbnailMaxEdgePx, options.thumbnailMaxEdgePx, { fit: 'inside', withoutEnlargement: true, fastShrinkOnLoad: true })
        .toColourspace('srgb')
        .webp({ quality: 80 })
        .toBuffer(),
    );
    return {
      contentType: type,
      width: swapsAxes && !animated ? frameHeight : meta.width,
      height: swapsAxes && !animated ? meta.width : frameHeight,
      original,
      thumbnail,
    };
  } catch (err) {
    if (err instanceof InvalidImageError) throw err;
    if (err instanceof Error && /pixel limit/i.test(err.message)) throw new TooManyPixelsError(pixels);
    throw new InvalidImageError('cannot decode image', { cause: err });
  }
}

/** AVIF cannot be stripped in place here: decode, turn upright, re-encode with the ICC profile only. */
function reencodeAvif(pipeline: Sharp): Promise<Buffer> {
  return pipeline.autoOrient().keepIccProfile().avif({ quality: 60, effort: 2 }).toBuffer();
}
