import { fileTypeFromBuffer } from 'file-type';
import { MalformedImageError, parseJpeg } from './strip/index.js';
import type { AcceptedType } from './accepted-type.js';

export type { AcceptedType };
const ACCEPTED = new Set<string>(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif']);

/**
 * Markup and script markers that have no business in a raster image. Browsers that sniff, old
 * plugins and careless proxies can execute a file that is "also" HTML/JS/PDF (a polyglot); we
 * refuse such files instead of hoping every consumer honours Content-Type and nosniff.
 * XMP metadata is XML (`<?xpacket`, `<x:xmpmeta`), so XML itself is not a marker.
 */
// Markers are five bytes or longer so that a 10 MiB compressed image hits one by chance with
// probability well below 1e-3 (a four-byte case-insensitive marker would be ~1 in 60).
// Same set as /<script|<html|<body|<svg[\s/>]|<iframe|<object|<embed|<\?php|<!doctype|javascript:|%PDF-/i.
const ACTIVE_MARKERS = ['<script', '<html', '<body', '<svg', '<iframe', '<object', '<embed', '<?php', '<!doctype', 'javascript:', '%pdf-'];
/** What may follow `<svg` for it to count (JavaScript's \s within Latin-1, `/`, `>`). */
const AFTER_SVG = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x2f, 0x3e]);
const upper = (byte: number) => (byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte);
/** Markers grouped by the first byte they can start with (either case). */
const MARKERS_BY_FIRST_BYTE = new Map<number, Array<{ bytes: Buffer; svg: boolean }>>();
for (const text of ACTIVE_MARKERS) {
  const marker = { bytes: Buffer.from(text, 'latin1'), svg: text === '<svg' };
  for (const first of new Set([marker.bytes[0]!, upper(marker.bytes[0]!)])) {
    MARKERS_BY_FIRST_BYTE.set(first, [...(MARKERS_BY_FIRST_BYTE.get(first) ?? []), marker]);
  }
}

/** ASCII letters compared case-insensitively, everything else exactly (like a non-Unicode /i regex). */
function markerAt(b: Buffer, pos: number, marker: Buffer): boolean {
  if (pos + marker.length > b.length) return false;
  for (let i = 0; i < marker.length; i++) {
    const byte = b[pos + i]!;
    if ((byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte) !== marker[i]) return false;
  }
  return true;
}

/**
 * True when `b` contains an active-content marker. Searches with Buffer#indexOf for each marker's
 * first byte (a native scan) instead of decoding the upload to a string and running a regex over it:
 * on a 3.4 MB upload that was tens of milliseconds of event-loop time per upload (issue 11).
 */
export function containsActiveContent(b: Buffer): boolean {
  for (const [first, markers] of MARKERS_BY_FIRST_BYTE) {
    for (let pos = b.indexOf(first); pos >= 0; pos = b.indexOf(first, pos + 1)) {
      for (const marker of markers) {
        if (!markerAt(b, pos, marker.bytes)) continue;
        if (marker.svg && !AFTER_SVG.has(b[pos + marker.bytes.length] ?? -1)) continue;
        return true;
      }
    }
  }
  return false;
}

export type SniffResult = { ok: true; type: AcceptedType } | { ok: false; reason: string };

/**
 * The type comes from the bytes only: the declared Content-Type and the filename are ignored.
 * Accepts JPEG, PNG, WebP, GIF and AVIF; refuses everything else and anything carrying active
 * content or bytes after the image's end (where polyglot payloads usually hide).
 */
export async function sniffImageType(bytes: Buffer): Promise<SniffResult> {
  const detected = await fileTypeFromBuffer(bytes);
  if (!detected || !ACCEPTED.has(detected.mime)) return { ok: false, reason: `detected ${detected?.mime ?? 'unknown'}` };
  const type = detected.mime as AcceptedType;
  // "GIF89a/*": the logical-screen width bytes open a JavaScript comment, the classic GIF/JS polyglot.
  if (type === 'image/gif' && bytes[6] === 0x2f && bytes[7] === 0x2a) return { ok: false, reason: 'GIF header opens a script comment' };
  if (containsActiveContent(bytes)) return { ok: false, reason: 'contains markup or script' };
  const trailing = trailingBytes(type, bytes);
  if (trailing > 0) return { ok: false, reason: `${trailing} bytes after the end of the image` };
  return { ok: true, type };
}

/**
 * Bytes after the format's own end marker. For JPEG, the secondary images a Multi-Picture Format
 * segment declares (phone cameras' depth and gain maps) are allowed after EOI: stripping drops them.
 * AVIF/ISO-BMFF is left to its re-encode (boxes are length-prefixed and re-encoding drops unknown
 * boxes). A structure too broken to walk is left to processing, which refuses it as invalid.
 */
function trailingBytes(type: AcceptedType, b: Buffer): number {
  switch (type) {
    case 'image/jpeg':
      return jpegTrailing(b);
    case 'image/png':
      return pngTrailing(b);
    case 'image/gif':
      return gifTrailing(b);
    case 'image/webp':
      return b.length >= 8 ? Math.max(0, b.length - (8 + b.readUInt32LE(4) + (b.readUInt32LE(4) % 2))) : 0;
    default:
      return 0;
  }
}

function jpegTrailing(b: Buffer): number {
  try {
    const layout = parseJpeg(b);
    return layout.declaresMpf ? 0 : b.length - layout.end;
  } catch (err) {
    if (err instanceof MalformedImageError) return 0;
    throw err;
  }
}

function pngTrailing(b: Buffer): number {
  let pos = 8;
  while (pos + 12 <= b.length) {
    const length = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    pos += 12 + length;
    if (type === 'IEND') return Math.max(0, b.length - pos);
  }
  return 0; // truncated: the decoder reports it
}

/** Walks GIF blocks (GIF89a spec §17–27) to the trailer byte 0x3B. */
function gifTrailing(b: Buffer): number {
  if (b.length < 13) return 0;
  let pos = 13;
  const flags = b[10]!;
  if (flags & 0x80) pos += 3 * (1 << ((flags & 0x07) + 1));
  const skipSubBlocks = () => {
    while (pos < b.length) {
      const size = b[pos]!;
      pos += 1;
      if (size === 0) return;
      pos += size;
    }
  };
  while (pos < b.length) {
    const introducer = b[pos]!;
    if (introducer === 0x3b) return b.length - (pos + 1);
    if (introducer === 0x21) {
      pos += 2; // introducer + label
      skipSubBlocks();
    } else if (introducer === 0x2c) {
      const localFlags = b[pos + 9] ?? 0;
      pos += 10;
      if (localFlags & 0x80) pos += 3 * (1 << ((localFlags & 0x07) + 1));
      pos += 1; // LZW minimum code size
      skipSubBlocks();
    } else {
      return 0; // malformed: the decoder reports it
    }
  }
  return 0;
}
