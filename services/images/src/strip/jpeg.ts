import { EXIF_PREFIX, isIccProfile, isTurned, MalformedImageError, orientationTiff, TrailingDataError } from './common.js';

/**
 * JPEG (ITU-T T.81 Annex B) without metadata, losslessly: the frame, tables and entropy-coded scans
 * are copied byte for byte; of the APPn segments only these stay:
 * - APP0 "JFIF" (rewritten without its embedded thumbnail): tells decoders the samples are YCbCr;
 * - APP2 "ICC_PROFILE" (all chunks, when they form a valid profile): the colours;
 * - APP14 "Adobe" (its 12 fixed bytes): the colour transform of RGB/CMYK files — dropping it would
 *   change the decoded pixels.
 * Gone: EXIF (APP1, incl. GPS and the EXIF thumbnail), XMP (APP1), IPTC/Photoshop (APP13), MPF and
 * other APPn, JFXX thumbnails, COM. Orientation, when not upright, comes back as a new APP1 that holds
 * the Orientation tag only (so viewers still turn the photo, and the pixels are not re-encoded).
 */

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP0 = 0xe0;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;
/** Frame headers: baseline, extended, progressive, lossless, arithmetic (not DHT C4, JPG C8, DAC CC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
/** Table and restart segments that decoding needs: DHT, DAC, DQT, DNL, DRI. */
const isTable = (m: number) => m === 0xc4 || m === 0xcc || m === 0xdb || m === 0xdc || m === 0xdd;

export interface JpegLayout {
  /** Offset just past EOI. */
  end: number;
  /** The file declares Multi-Picture Format (CIPA DC-007) secondary images, which live after EOI. */
  declaresMpf: boolean;
  kept: Buffer[];
  jfif?: Buffer;
  iccChunks: Buffer[];
}

/** Walks every segment and scan; throws MalformedImageError on anything out of place. */
export function parseJpeg(b: Buffer): JpegLayout {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== SOI) throw new MalformedImageError('no JPEG start-of-image marker');
  const layout: JpegLayout = { end: 0, declaresMpf: false, kept: [], iccChunks: [] };
  let pos = 2;
  let frames = 0;
  let scans = 0;
  for (;;) {
    // A marker is 0xFF then a code; any number of 0xFF fill bytes may precede it (T.81 B.1.1.2).
    if (b[pos] !== 0xff) throw new MalformedImageError(`expected a marker at byte ${pos}`);
    while (b[pos] === 0xff) pos++;
    if (pos >= b.length) throw new MalformedImageError('truncated before a marker');
    const marker = b[pos]!;
    const start = pos - 1;
    if (marker === EOI) {
      if (frames !== 1 || scans === 0) throw new MalformedImageError('end of image before any image data');
      layout.end = pos + 1;
      return layout;
    }
    if (pos + 3 > b.length) throw new MalformedImageError('truncated segment header');
    const length = b.readUInt16BE(pos + 1);
    const end = pos + 1 + length;
    if (length < 2 || end > b.length) throw new MalformedImageError(`segment 0x${marker.toString(16)} at byte ${start} runs past the end of the file`);
    const payload = b.subarray(pos + 3, end);
    const segment = b.subarray(start, end);
    if (isSof(marker)) {
      if (++frames > 1 || scans > 0) throw new MalformedImageError('more than one frame (hierarchical JPEG is not supported)');
      layout.kept.push(segment);
    } else if (isTable(marker)) {
      layout.kept.push(segment);
    } else if (marker === SOS) {
      if (frames !== 1) throw new MalformedImageError('scan before the frame header');
      scans++;
      const scanEnd = endOfEntropyData(b, end);
      layout.kept.push(b.subarray(start, scanEnd));
      pos = scanEnd;
      continue;
    } else if (marker === APP0) {
      if (!layout.jfif && payload.length >= 14 && payload.toString('latin1', 0, 5) === 'JFIF\0') layout.jfif = canonicalJfif(payload);
    } else if (marker === APP2) {
      if (payload.toString('latin1', 0, 12) === 'ICC_PROFILE\0') layout.iccChunks.push(payload);
      else if (payload.toString('latin1', 0, 4) === 'MPF\0') layout.declaresMpf = true;
    } else if (marker === APP14) {
      if (payload.length >= 12 && payload.toString('latin1', 0, 5) === 'Adobe') layout.kept.push(segmentOf(marker, payload.subarray(0, 12)));
    } else if ((marker > APP0 && marker < 0xf0) || marker === COM) {
      // Other APPn and comments: metadata, dropped.
    } else {
      throw new MalformedImageError(`unexpected marker 0x${marker.toString(16)} at byte ${start}`);
    }
    pos = end;
  }
}

/**
 * The end of a scan's entropy-coded data: the next 0xFF that is not a stuffed 0x00, a restart
 * marker or a fill byte. A scan that runs to the end of the file is a truncated file.
 */
function endOfEntropyData(b: Buffer, from: number): number {
  let pos = from;
  for (;;) {
    const ff = b.indexOf(0xff, pos);
    if (ff < 0 || ff + 1 >= b.length) throw new MalformedImageError('truncated: the image data has no end marker');
    const next = b[ff + 1]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) pos = ff + 2;
    else if (next === 0xff) pos = ff + 1;
    else return ff;
  }
}

function segmentOf(marker: number, payload: Buffer): Buffer {
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

/** JFIF 1.02 APP0 with the same version, units and density, and a 0×0 thumbnail. */
function canonicalJfif(payload: Buffer): Buffer {
  const jfif = Buffer.from(payload.subarray(0, 14));
  jfif[12] = 0;
  jfif[13] = 0;
  return segmentOf(APP0, jfif);
}

/** The ICC chunks, in sequence order, when they are complete and form a valid profile (ICC.1 Annex B.4). */
function iccSegments(chunks: Buffer[]): Buffer[] {
  if (chunks.length === 0) return [];
  const count = chunks[0]![13];
  const bySequence = new Map<number, Buffer>();
  for (const chunk of chunks) {
    if (chunk.length < 14 || chunk[13] !== count || bySequence.has(chunk[12]!)) return [];
    bySequence.set(chunk[12]!, chunk);
  }
  const ordered: Buffer[] = [];
  for (let seq = 1; seq <= (count ?? 0); seq++) {
    const chunk = bySequence.get(seq);
    if (!chunk) return [];
    ordered.push(chunk);
  }
  if (ordered.length !== bySequence.size) return [];
  if (!isIccProfile(Buffer.concat(ordered.map((c) => c.subarray(14))))) return [];
  return ordered.map((c) => segmentOf(APP2, c));
}

/**
 * The upload without metadata. Bytes after EOI are refused, except the secondary images an MPF
 * segment declares (phone cameras append depth maps, gain maps and previews there): those are
 * dropped with the MPF segment.
 */
export function stripJpeg(b: Buffer, orientation: number | undefined): Buffer {
  const layout = parseJpeg(b);
  const trailing = b.length - layout.end;
  if (trailing > 0 && !layout.declaresMpf) throw new TrailingDataError(trailing);
  const parts: Buffer[] = [Buffer.from([0xff, SOI])];
  if (layout.jfif) parts.push(layout.jfif);
  if (isTurned(orientation)) parts.push(segmentOf(0xe1, Buffer.concat([EXIF_PREFIX, orientationTiff(orientation)])));
  parts.push(...iccSegments(layout.iccChunks), ...layout.kept, Buffer.from([0xff, EOI]));
  return Buffer.concat(parts);
}
