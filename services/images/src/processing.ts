import sharp, { type Sharp } from 'sharp';
import type { AcceptedType } from './sniff.js';

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
 * Everything sharp does for one upload. libvips works in libuv threads, so the event loop only
 * schedules; the caller bounds how many of these run at once.
 *
 * 1. probe: read the header only (no pixel decoding) and refuse more than `maxPixels` — a 30-byte
 *    PNG can claim 20000×20000 and decode to 1.6 GB.
 * 2. original: decode (limitInputPixels again, fail on truncation), apply EXIF orientation, and
 *    re-encode in the same format with no EXIF, XMP or IPTC; only the ICC colour profile is kept.
 *    Re-encoding also drops anything hidden in comments or after the image data.
 * 3. thumbnail: longest edge `thumbnailMaxEdgePx`, first frame, WebP, sRGB, no metadata at all.
 */
export async function processImage(bytes: Buffer, type: AcceptedType, options: ProcessingOptions): Promise<ProcessedImage> {
  const { maxPixels } = options;
  const timed = async <T>(operation: 'probe' | 'original' | 'thumbnail', fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await fn();
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

  const input = (pipelineOptions: { animated: boolean }): Sharp =>
    sharp(bytes, {
      // Per frame; the total was checked above.
      limitInputPixels: maxPixels,
      failOn: 'truncated',
      animated: pipelineOptions.animated,
      sequentialRead: true,
    });

  try {
    const original = await timed('original', async () => {
      let pipeline = input({ animated });
      if (!animated) pipeline = pipeline.autoOrient();
      pipeline = pipeline.keepIccProfile();
      switch (type) {
        case 'image/jpeg':
          return pipeline.jpeg({ quality: 90, mozjpeg: true }).toBuffer();
        case 'image/png':
          return pipeline.png({ compressionLevel: 6 }).toBuffer();
        case 'image/webp':
          return pipeline.webp({ quality: 90 }).toBuffer();
        case 'image/gif':
          return pipeline.gif().toBuffer();
        case 'image/avif':
          return pipeline.avif({ quality: 60, effort: 2 }).toBuffer();
      }
    });
    const thumbnail = await timed('thumbnail', () =>
      input({ animated: false })
        .autoOrient()
        .resize(options.thumbnailMaxEdgePx, options.thumbnailMaxEdgePx, { fit: 'inside', withoutEnlargement: true })
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
    if (err instanceof Error && /pixel limit/i.test(err.message)) throw new TooManyPixelsError(pixels);
    throw new InvalidImageError('cannot decode image', { cause: err });
  }
}
