import { MalformedImageError, TrailingDataError } from './common.js';

/**
 * GIF (GIF89a specification) without metadata, losslessly: the screen descriptor, colour tables,
 * image blocks and graphic control extensions are copied as they are; comment extensions, plain-text
 * extensions and application extensions other than animation looping (NETSCAPE2.0, ANIMEXTS1.0) and
 * the ICC profile (ICCRGBG1012) are dropped — that is where XMP ("XMP DataXMP") and comments live.
 * GIF has no orientation.
 */

const KEPT_APPLICATIONS = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0', 'ICCRGBG1012']);

export function stripGif(b: Buffer): Buffer {
  const version = b.toString('latin1', 0, 6);
  if (b.length < 14 || (version !== 'GIF87a' && version !== 'GIF89a')) throw new MalformedImageError('no GIF header');
  let pos = 13;
  const flags = b[10]!;
  if (flags & 0x80) pos += 3 * (1 << ((flags & 0x07) + 1));
  const parts: Buffer[] = [b.subarray(0, pos)];
  let images = 0;

  /** Offset after a chain of data sub-blocks (size byte, data) ending with a zero-size block. */
  const afterSubBlocks = (from: number): number => {
    let p = from;
    for (;;) {
      if (p >= b.length) throw new MalformedImageError('truncated data sub-blocks');
      const size = b[p]!;
      p += 1 + size;
      if (size === 0) return p;
    }
  };

  for (;;) {
    if (pos >= b.length) throw new MalformedImageError('truncated: no GIF trailer');
    const introducer = b[pos]!;
    if (introducer === 0x3b) {
      if (images === 0) throw new MalformedImageError('no image');
      parts.push(b.subarray(pos, pos + 1));
      if (pos + 1 < b.length) throw new TrailingDataError(b.length - pos - 1);
      return Buffer.concat(parts);
    }
    if (introducer === 0x21) {
      const label = b[pos + 1];
      const end = afterSubBlocks(pos + 2);
      if (label === 0xf9 || (label === 0xff && b[pos + 2] === 11 && KEPT_APPLICATIONS.has(b.toString('latin1', pos + 3, pos + 14)))) {
        parts.push(b.subarray(pos, end));
      }
      pos = end;
    } else if (introducer === 0x2c) {
      if (pos + 11 > b.length) throw new MalformedImageError('truncated image descriptor');
      const localFlags = b[pos + 9]!;
      let data = pos + 10;
      if (localFlags & 0x80) data += 3 * (1 << ((localFlags & 0x07) + 1));
      const end = afterSubBlocks(data + 1); // + LZW minimum code size
      parts.push(b.subarray(pos, end));
      images++;
      pos = end;
    } else {
      throw new MalformedImageError(`unknown block 0x${introducer.toString(16)} at byte ${pos}`);
    }
  }
}
