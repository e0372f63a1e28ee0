import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { InvalidImageError, processImage } from '../src/processing.js';
import { sniffImageType, type AcceptedType } from '../src/sniff.js';
import { MalformedImageError, stripMetadata, TrailingDataError } from '../src/strip/index.js';
import * as fixtures from './fixtures/generate.js';
import * as tagged from './fixtures/metadata.js';

const options = { maxPixels: 40_000_000, thumbnailMaxEdgePx: 256 };

/** Decoded samples exactly as stored (no orientation applied, no colour conversion). */
const pixels = async (bytes: Buffer) => sharp(bytes).raw().toBuffer({ resolveWithObject: true });

async function assertSamePixels(upload: Buffer, stored: Buffer): Promise<void> {
  const [a, b] = await Promise.all([pixels(upload), pixels(stored)]);
  assert.deepEqual(b.info, a.info);
  assert.ok(a.data.equals(b.data), 'stored bytes decode to exactly the uploaded pixels');
}

function assertNoSecrets(bytes: Buffer, where: string): void {
  for (const secret of tagged.SECRETS) assert.ok(!bytes.includes(Buffer.from(secret)), `${where} still contains "${secret}"`);
}

async function assertThumbnailBare(thumbnail: Buffer, size: [number, number]): Promise<void> {
  const t = await sharp(thumbnail).metadata();
  assert.equal(t.format, 'webp');
  assert.deepEqual([t.width, t.height], size, 'thumbnail upright, longest edge 256');
  assert.equal(t.exif, undefined);
  assert.equal(t.xmp, undefined);
  assert.equal(t.icc, undefined);
  assertNoSecrets(thumbnail, 'thumbnail');
}

describe('metadata stripping', () => {
  const lossless: Array<[string, tagged.TaggedFormat, AcceptedType]> = [
    ['JPEG', 'jpeg', 'image/jpeg'],
    ['PNG', 'png', 'image/png'],
    ['WebP', 'webp', 'image/webp'],
  ];
  for (const [name, format, type] of lossless) {
    it(`${name}: removes GPS, camera EXIF, XMP and comments losslessly, keeps the ICC profile and the orientation`, async () => {
      const upload = await tagged.taggedPhoto(format);
      const before = await sharp(upload).metadata();
      assert.equal(before.orientation, 6, 'fixture is stored sideways');
      assert.ok(fixtures.exifHasGps(before.exif), 'fixture carries GPS');
      assert.ok(before.xmp, 'fixture carries XMP');
      assert.ok(before.icc, 'fixture carries an ICC profile');

      const processed = await processImage(upload, type, options);
      assert.deepEqual([processed.width, processed.height], [400, 600], 'dimensions as displayed');
      const stored = await sharp(processed.original).metadata();
      assert.equal(stored.format, format);
      assert.equal(stored.orientation, 6, 'orientation kept');
      assert.deepEqual(exifReader(stored.exif!), { bigEndian: true, Image: { Orientation: 6 } }, 'the only EXIF tag left is Orientation');
      assert.equal(stored.xmp, undefined);
      assert.ok(stored.icc?.equals(before.icc), 'ICC profile kept byte for byte');
      assert.equal(stored.comments, undefined);
      assertNoSecrets(processed.original, 'stored original');
      await assertSamePixels(upload, processed.original);
      // Viewers that honour EXIF show it upright.
      const upright = await sharp(processed.original).autoOrient().metadata();
      assert.deepEqual([upright.autoOrient.width, upright.autoOrient.height], [400, 600]);

      await assertThumbnailBare(processed.thumbnail, [171, 256]);
    });
  }

  it('AVIF cannot be stripped in place: re-encoded upright with the ICC profile and nothing else', async () => {
    const upload = await tagged.taggedPhoto('avif');
    assert.ok(fixtures.exifHasGps((await sharp(upload).metadata()).exif), 'fixture carries GPS');
    const processed = await processImage(upload, 'image/avif', options);
    const stored = await sharp(processed.original).metadata();
    assert.deepEqual([stored.width, stored.height], [400, 600], 'turned upright');
    assert.ok(!fixtures.exifHasGps(stored.exif));
    assert.equal(stored.xmp, undefined);
    assert.ok(stored.icc, 'ICC profile kept');
    assertNoSecrets(processed.original, 'stored original');
    await assertThumbnailBare(processed.thumbnail, [171, 256]);
  });

  it('GIF: removes comment and XMP extensions losslessly', async () => {
    const upload = await tagged.gifWithComments();
    assert.ok(upload.includes(Buffer.from('secret-xmp')));
    const processed = await processImage(upload, 'image/gif', options);
    assertNoSecrets(processed.original, 'stored original');
    await assertSamePixels(upload, processed.original);
    await assertThumbnailBare(processed.thumbnail, [120, 90]);
  });

  it('an upright photo gets no EXIF block at all', async () => {
    const upload = await sharp(await fixtures.validImage.png(300, 200))
      .withExif({ IFD0: { Make: 'TestCam' } })
      .jpeg()
      .toBuffer();
    const processed = await processImage(upload, 'image/jpeg', options);
    assert.equal((await sharp(processed.original).metadata()).exif, undefined);
    await assertSamePixels(upload, processed.original);
  });

  it('keeps the Adobe segment of a CMYK JPEG, so its samples decode the same', async () => {
    const upload = await tagged.cmykJpeg();
    const processed = await processImage(upload, 'image/jpeg', options);
    assert.ok(processed.original.includes(Buffer.from('Adobe')));
    await assertSamePixels(upload, processed.original);
  });

  it('drops a whole JPEG (with GPS) nested in an APP segment', async () => {
    const upload = await tagged.jpegNestedInApp();
    assert.ok(fixtures.exifHasGps(upload));
    const processed = await processImage(upload, 'image/jpeg', options);
    assert.equal(processed.original.indexOf(Buffer.from([0xff, 0xd8]), 2), -1, 'one start-of-image marker only');
    assert.ok(!processed.original.includes(Buffer.from('TestCam')));
    await assertSamePixels(upload, processed.original);
  });

  it('drops 4 MB of APP segments around a small picture', async () => {
    const upload = await tagged.jpegWithHugeAppSegments();
    const processed = await processImage(upload, 'image/jpeg', options);
    assert.ok(upload.length > 4_000_000 && processed.original.length < 100_000, `${upload.length} → ${processed.original.length} bytes`);
    assertNoSecrets(processed.original, 'stored original');
    await assertSamePixels(upload, processed.original);
  });

  it('drops the secondary images an MPF segment declares after EOI', async () => {
    const upload = await tagged.jpegWithMpfSecondary();
    assert.deepEqual(await sniffImageType(upload), { ok: true, type: 'image/jpeg' });
    const processed = await processImage(upload, 'image/jpeg', options);
    assert.equal(processed.original.indexOf(Buffer.from([0xff, 0xd9])), processed.original.length - 2, 'ends at the primary image');
    await assertSamePixels(upload, processed.original);
  });

  it('refuses bytes after a JPEG EOI (a JPEG/ZIP or JPEG/HTML polyglot) in the sniffer', async () => {
    const upload = Buffer.concat([await fixtures.validImage.jpeg(64, 64), Buffer.from('PK\x03\x04 payload')]);
    const sniffed = await sniffImageType(upload);
    assert.equal(sniffed.ok, false);
    assert.throws(() => stripMetadata(upload, 'image/jpeg', 1), TrailingDataError);
  });

  const malformed: Array<[string, () => Promise<Buffer>, AcceptedType]> = [
    [
      'a JPEG segment whose length runs past the end',
      async () => (await tagged.jpegWith(tagged.jpegSegment(0xe1, Buffer.from('Exif\0\0'), 0xfff0))).subarray(0, 2000),
      'image/jpeg',
    ],
    ['a JPEG segment length below 2', async () => tagged.jpegWith(tagged.jpegSegment(0xe1, Buffer.alloc(0), 1)), 'image/jpeg'],
    ['a truncated JPEG (no EOI)', () => fixtures.truncatedJpeg(), 'image/jpeg'],
    ['a JPEG with only headers', async () => Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 'image/jpeg'],
    [
      'a PNG chunk whose length runs past the end',
      async () => tagged.insertPngChunks(await fixtures.validImage.png(32, 32), [Buffer.from([0x7f, 0, 0, 0, 0x74, 0x45, 0x58, 0x74])]),
      'image/png',
    ],
    [
      'a PNG chunk with a wrong CRC',
      async () => {
        const png = Buffer.from(await fixtures.validImage.png(32, 32));
        png[png.length - 20] = png[png.length - 20]! ^ 0xff;
        return png;
      },
      'image/png',
    ],
    [
      'an unknown critical PNG chunk',
      async () => tagged.insertPngChunks(await fixtures.validImage.png(32, 32), [tagged.pngChunk('ZZZZ', Buffer.from('x'))]),
      'image/png',
    ],
    [
      'a WebP chunk whose size runs past the end',
      async () => {
        const webp = Buffer.from(await fixtures.validImage.webp(32, 32));
        webp.writeUInt32LE(0x7ffffff0, 16);
        return webp;
      },
      'image/webp',
    ],
    [
      'a GIF cut inside its image data',
      async () => {
        const gif = await fixtures.validImage.gif(64, 64);
        return gif.subarray(0, gif.length - 40);
      },
      'image/gif',
    ],
  ];
  for (const [name, make, type] of malformed) {
    it(`refuses ${name}`, async () => {
      const upload = await make();
      assert.throws(() => stripMetadata(upload, type, 1), MalformedImageError);
      await assert.rejects(processImage(upload, type, options), InvalidImageError);
    });
  }
});
