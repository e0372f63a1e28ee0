import { EXIF_PREFIX, isIccProfile, isTurned, MalformedImageError, orientationTiff, TrailingDataError } from './common.js';

/**
 * WebP (RFC 9649, RIFF container) without metadata, losslessly: the VP8/VP8L/ALPH/ANIM/ANMF chunks
 * are copied as they are, ICCP kept when it is a valid profile, EXIF, "XMP " and unknown chunks
 * dropped, and the VP8X flags and RIFF size rewritten to match. Orientation, when not upright, comes
 * back as an EXIF chunk holding the Orientation tag only.
 */

const FLAG_ICC = 0x20;
const FLAG_EXIF = 0x08;
const FLAG_XMP = 0x04;
const KEPT = new Set(['VP8 ', 'VP8L', 'VP8X', 'ALPH', 'ANIM', 'ANMF', 'ICCP']);

export function stripWebp(b: Buffer, orientation: number | undefined): Buffer {
  if (b.length < 20 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WEBP') throw new MalformedImageError('no RIFF WEBP header');
  const riffEnd = 8 + b.readUInt32LE(4);
  if (riffEnd > b.length) throw new MalformedImageError('truncated: the RIFF size runs past the end of the file');
  if (riffEnd < b.length) throw new TrailingDataError(b.length - riffEnd);
  const chunks: Array<{ fourcc: string; bytes: Buffer }> = [];
  let pos = 12;
  while (pos < riffEnd) {
    if (pos + 8 > riffEnd) throw new MalformedImageError(`truncated chunk header at byte ${pos}`);
    const fourcc = b.toString('latin1', pos, pos + 4);
    const size = b.readUInt32LE(pos + 4);
    const end = pos + 8 + size + (size % 2);
    if (end > riffEnd) throw new MalformedImageError(`${fourcc} chunk at byte ${pos} runs past the end of the file`);
    chunks.push({ fourcc, bytes: b.subarray(pos, end) });
    pos = end;
  }
  const first = chunks[0]?.fourcc;
  if (first !== 'VP8 ' && first !== 'VP8L' && first !== 'VP8X') throw new MalformedImageError('no VP8, VP8L or VP8X chunk first');
  if (!chunks.some((c) => c.fourcc === 'VP8 ' || c.fourcc === 'VP8L' || c.fourcc === 'ANMF')) throw new MalformedImageError('no image data');

  // The simple format (one VP8/VP8L chunk) cannot carry metadata; anything after it is dropped.
  if (first !== 'VP8X') return riff([chunks[0]!.bytes]);

  const kept = chunks.filter((c) => KEPT.has(c.fourcc) && (c.fourcc !== 'ICCP' || isIccProfile(c.bytes.subarray(8, 8 + c.bytes.readUInt32LE(4)))));
  const vp8x = Buffer.from(kept[0]!.bytes);
  if (vp8x.length < 18) throw new MalformedImageError('VP8X chunk too short');
  let flags = vp8x[8]! & ~(FLAG_EXIF | FLAG_XMP | FLAG_ICC);
  if (kept.some((c) => c.fourcc === 'ICCP')) flags |= FLAG_ICC;
  const parts = [vp8x, ...kept.slice(1).map((c) => c.bytes)];
  if (isTurned(orientation)) {
    // EXIF goes after the image data (RFC 9649 §2.7.1.4); libvips writes it with the "Exif\0\0" prefix.
    flags |= FLAG_EXIF;
    parts.push(riffChunk('EXIF', Buffer.concat([EXIF_PREFIX, orientationTiff(orientation)])));
  }
  vp8x[8] = flags;
  return riff(parts);
}

function riffChunk(fourcc: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(8 + data.length + (data.length % 2));
  chunk.write(fourcc, 0, 'latin1');
  chunk.writeUInt32LE(data.length, 4);
  data.copy(chunk, 8);
  return chunk;
}

function riff(chunks: Buffer[]): Buffer {
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + chunks.reduce((n, c) => n + c.length, 0), 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, ...chunks]);
}
