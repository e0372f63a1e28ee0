import sharp, { type Sharp } from 'sharp';

/**
 * The two pictures of issue 11, generated deterministically (a seeded generator, no files committed):
 * smooth colour fields plus grain, so they compress like photos rather than like flat colour (too
 * small) or white noise (too big).
 */

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 16) & 0xff;
  };
}

async function photoLike(width: number, height: number, seed: number, grain: number): Promise<Sharp> {
  const next = random(seed);
  const cw = Math.ceil(width / 24);
  const ch = Math.ceil(height / 24);
  const coarse = Buffer.alloc(cw * ch * 3);
  for (let i = 0; i < coarse.length; i++) coarse[i] = next();
  const smooth = await sharp(coarse, { raw: { width: cw, height: ch, channels: 3 } })
    .resize(width, height, { kernel: 'cubic' })
    .raw()
    .toBuffer();
  for (let i = 0; i < smooth.length; i++) smooth[i] = Math.max(0, Math.min(255, smooth[i]! + ((next() * grain) >> 8) - (grain >> 1)));
  return sharp(smooth, { raw: { width, height, channels: 3 } });
}

/** About 3.4 MB, 2725×2225, like the camera JPEG of issue 11. */
export async function largeJpeg(): Promise<Buffer> {
  return (await photoLike(2725, 2225, 11, 80)).jpeg({ quality: 90 }).toBuffer();
}

/** 1200×800 with camera EXIF and a GPS position (Berlin) that must not be stored. */
export async function smallJpegWithGps(): Promise<Buffer> {
  return (await photoLike(1200, 800, 12, 40))
    .withExif({
      IFD0: { Make: 'BenchCam', Model: 'Issue 11' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 31/1 12/1', GPSLongitudeRef: 'E', GPSLongitude: '13/1 24/1 36/1' },
    })
    .jpeg({ quality: 90 })
    .toBuffer();
}
