import type { AcceptedType } from '../accepted-type.js';
import { stripGif } from './gif.js';
import { stripJpeg } from './jpeg.js';
import { stripPng } from './png.js';
import { stripWebp } from './webp.js';

export { MalformedImageError, TrailingDataError } from './common.js';
export { parseJpeg } from './jpeg.js';

/**
 * The upload with every metadata block removed at the container level, the pixel data untouched, or
 * `undefined` where that cannot be done here and the caller must re-encode: AVIF, whose metadata
 * items are referenced by offset from the `meta` box (removing one means rewriting iloc/iinf/iref).
 * `orientation` (EXIF 1–8, as the decoder read it) is written back as the only tag when not 1.
 */
export function stripMetadata(bytes: Buffer, type: AcceptedType, orientation: number | undefined): Buffer | undefined {
  switch (type) {
    case 'image/jpeg':
      return stripJpeg(bytes, orientation);
    case 'image/png':
      return stripPng(bytes, orientation);
    case 'image/webp':
      return stripWebp(bytes, orientation);
    case 'image/gif':
      return stripGif(bytes);
    case 'image/avif':
      return undefined;
  }
}
