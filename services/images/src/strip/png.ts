import { crc32, inflateSync } from 'node:zlib';
import { isIccProfile, isTurned, MalformedImageError, orientationTiff, TrailingDataError } from './common.js';

/**
 * PNG (ISO/IEC 15948, PNG 3rd edition for cICP/mDCV/cLLI/eXIf) without metadata, losslessly: chunks
 * are copied as they are (CRCs checked) when they carry pixels or colour, and dropped otherwise —
 * tEXt, zTXt, iTXt (where XMP lives), eXIf, tIME and every unknown ancillary chunk. Orientation, when
 * not upright, comes back as an eXIf chunk holding the Orientation tag only.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Chunks that change what is displayed (pixels, transparency, colour, animation) or its size on paper. */
const KEPT = new Set([
  'IHDR',
  'PLTE',
  'IDAT',
  'IEND',
  'tRNS',
  'cHRM',
  'gAMA',
  'iCCP',
  'sBIT',
  'sRGB',
  'cICP',
  'mDCV',
  'cLLI',
  'pHYs',
  'bKGD',
  'acTL',
  'fcTL',
  'fdAT',
]);
const CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);
/** iCCP profiles that inflate beyond this are dropped (a decompression bomb in a colour chunk). */
const MAX_ICC_BYTES = 4 * 1024 * 1024;

export function stripPng(b: Buffer, orientation: number | undefined): Buffer {
  if (b.length < 8 || !b.subarray(0, 8).equals(SIGNATURE)) throw new MalformedImageError('no PNG signature');
  const parts: Buffer[] = [SIGNATURE];
  let pos = 8;
  let sawData = false;
  for (;;) {
    if (pos + 12 > b.length) throw new MalformedImageError('truncated: no IEND chunk');
    const length = b.readUInt32BE(pos);
    const end = pos + 12 + length;
    if (length > 0x7fffffff || end > b.length) throw new MalformedImageError(`chunk at byte ${pos} runs past the end of the file`);
    const type = b.toString('latin1', pos + 4, pos + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new MalformedImageError(`invalid chunk type at byte ${pos}`);
    if (crc32(b.subarray(pos + 4, pos + 8 + length)) !== b.readUInt32BE(pos + 8 + length)) throw new MalformedImageError(`${type} chunk CRC mismatch`);
    if (pos === 8 && (type !== 'IHDR' || length !== 13)) throw new MalformedImageError('IHDR is not the first chunk');
    const chunk = b.subarray(pos, end);
    const data = b.subarray(pos + 8, pos + 8 + length);
    pos = end;

    // An upper-case first letter marks a critical chunk: one we do not know cannot be skipped (§5.4).
    if (type.charCodeAt(0) < 0x61 && !CRITICAL.has(type)) throw new MalformedImageError(`unknown critical chunk ${type}`);
    if ((type === 'IDAT' || type === 'fdAT' || type === 'IEND') && !sawData && isTurned(orientation)) {
      // eXIf must precede the image data (PNG 3rd edition §11.3.3.6).
      parts.push(pngChunk('eXIf', orientationTiff(orientation)));
    }
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') {
      if (!sawData) throw new MalformedImageError('no image data');
      if (length !== 0) throw new MalformedImageError('IEND carries data');
      parts.push(chunk);
      if (pos < b.length) throw new TrailingDataError(b.length - pos);
      return Buffer.concat(parts);
    }
    if (type === 'iCCP') {
      const compressed = iccpProfile(data);
      // The profile name is free text (up to 79 bytes): replaced, so it cannot carry anything.
      if (compressed) parts.push(pngChunk('iCCP', Buffer.concat([Buffer.from('ICC profile\0\0', 'latin1'), compressed])));
    } else if (KEPT.has(type)) {
      parts.push(chunk);
    }
  }
}

/** iCCP: name (1–79 bytes), NUL, method 0, zlib data; the data when it inflates to a valid profile. */
function iccpProfile(data: Buffer): Buffer | undefined {
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79 || data[nul + 1] !== 0) return undefined;
  const compressed = data.subarray(nul + 2);
  try {
    return isIccProfile(inflateSync(compressed, { maxOutputLength: MAX_ICC_BYTES })) ? compressed : undefined;
  } catch {
    return undefined;
  }
}

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}
