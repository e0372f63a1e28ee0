/**
 * Shared pieces of the container-level metadata strippers (one file per format beside this one).
 * They rebuild a file from the segments/chunks that carry pixels and colour, dropping everything
 * else; the decoder never runs here, so the pixels are stored byte for byte as uploaded.
 */

/** The file's structure is broken: a length past the end, a missing end marker, an unknown block. */
export class MalformedImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedImageError';
  }
}

/** Bytes after the format's end marker (EOI, IEND, GIF trailer, RIFF size): where polyglot payloads hide. */
export class TrailingDataError extends Error {
  constructor(readonly trailingBytes: number) {
    super(`${trailingBytes} bytes after the end of the image`);
    this.name = 'TrailingDataError';
  }
}

/** EXIF Orientation values (TIFF 6.0 tag 0x0112): 1 is upright, 2–8 flip and/or rotate. */
export const isTurned = (orientation: number | undefined): orientation is number =>
  orientation !== undefined && Number.isInteger(orientation) && orientation >= 2 && orientation <= 8;

/**
 * A TIFF structure (big-endian) with one IFD holding one tag, Orientation, and nothing else. We
 * write our own instead of filtering the uploaded EXIF, so nothing of the original block (GPS,
 * maker notes, thumbnails, offsets pointing elsewhere) can survive by accident.
 */
export function orientationTiff(orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // offset of IFD0
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x0112, 10); // Orientation
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14); // count
  tiff.writeUInt16BE(orientation, 18); // value, left-justified in the 4-byte field
  tiff.writeUInt32BE(0, 22); // no next IFD
  return tiff;
}

/** "Exif\0\0": the prefix JPEG APP1 (and libvips' WebP EXIF chunk) put before the TIFF structure. */
export const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');

/**
 * A plausible ICC profile (ICC.1:2022 §7.2): the declared size matches and the 'acsp' signature is
 * at offset 36. A block that is not one is dropped, not kept: decoders ignore a broken profile, so
 * dropping it changes no colour, and a "profile" must not become a place to smuggle data through.
 */
export function isIccProfile(profile: Buffer): boolean {
  return profile.length >= 128 && profile.readUInt32BE(0) === profile.length && profile.toString('latin1', 36, 40) === 'acsp';
}
