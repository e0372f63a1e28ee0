import sharp from 'sharp';
const base = () => sharp({ create: { width: 60, height: 40, channels: 3, background: '#f00' } });
const show = async (label: string, b: Buffer) => { const m = await sharp(b).metadata(); console.log(label, m.orientation, m.exif?.length, m.exif ? m.exif.toString('latin1').replace(/[^\x20-\x7e]/g, '.') : ''); };
await show('a', await base().withExif({ IFD0: { Make: 'TestCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 31/1 12/1' } }).withMetadata({ orientation: 6 }).jpeg().toBuffer());
await show('b', await base().withMetadata({ orientation: 6 }).withExifMerge({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 31/1 12/1' } }).jpeg().toBuffer());
await show('c', await base().keepExif().withExif({ IFD0: { Make: 'TestCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 31/1 12/1', GPSLongitudeRef: 'E' } }).jpeg().toBuffer());
