import sharp from 'sharp';
import * as f from '../test/fixtures/generate.ts';
import { sniffImageType } from '../src/sniff.ts';
import { processImage } from '../src/processing.ts';
const cases: Record<string, () => Promise<Buffer> | Buffer> = {
  jpeg: () => f.validImage.jpeg(), png: () => f.validImage.png(), webp: () => f.validImage.webp(), gif: () => f.validImage.gif(), avif: () => f.validImage.avif(),
  exif: f.jpegWithGpsAndOrientation, bomb: () => f.pngBomb(), trunc: f.truncatedJpeg, text: f.textAsJpeg, svg: f.svgWithScript, poly: f.gifJsPolyglot, pnghtml: f.pngWithHtmlTail, pdf: f.pdfDocument, html: f.htmlPage,
};
for (const [name, gen] of Object.entries(cases)) {
  const b = await gen();
  const s = await sniffImageType(b);
  let r: string = JSON.stringify(s);
  if (s.ok) {
    try { const p = await processImage(b, s.type, { maxPixels: 40e6, thumbnailMaxEdgePx: 256 }); const m = await sharp(p.original).metadata(); const t = await sharp(p.thumbnail).metadata();
      r += ` -> ${p.width}x${p.height} orig ${m.format} exif=${!!m.exif} icc=${!!m.icc} thumb ${t.width}x${t.height} ${t.format} exif=${!!t.exif}`; }
    catch (e) { r += ` -> ${(e as Error).name}: ${(e as Error).message} / ${((e as Error).cause as Error)?.message}`; }
  }
  console.log(name, b.length, r);
}
const e = await f.jpegWithGpsAndOrientation(); const m = await sharp(e).metadata(); console.log('exif fixture', m.orientation, m.width, m.height, m.exif?.length, f.exifHasGps(m.exif));
