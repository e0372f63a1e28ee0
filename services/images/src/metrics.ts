import { Counter, Gauge, Histogram, type Registry } from '@sre/platform';

export type UploadResult =
  | 'success'
  | 'too_large'
  | 'unsupported_type'
  | 'too_many_pixels'
  | 'invalid_image'
  | 'bad_request'
  | 'busy'
  | 'storage_unavailable'
  | 'db_unavailable'
  | 'error';

const UPLOAD_RESULTS: readonly UploadResult[] = [
  'success',
  'too_large',
  'unsupported_type',
  'too_many_pixels',
  'invalid_image',
  'bad_request',
  'busy',
  'storage_unavailable',
  'db_unavailable',
  'error',
];

export function createImagesMetrics(registry: Registry) {
  const metrics = {
    uploadsTotal: new Counter({
      name: 'images_uploads_total',
      help: 'Upload attempts by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    uploadBytes: new Histogram({
      name: 'images_upload_bytes',
      help: 'Size of received upload files in bytes (accepted or not).',
      buckets: [1024, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024, 2 * 1024 * 1024, 5 * 1024 * 1024, 10 * 1024 * 1024, 20 * 1024 * 1024],
      registers: [registry],
    }),
    processingDuration: new Histogram({
      name: 'images_processing_duration_seconds',
      help: 'Time spent in image work (probe, original = metadata stripping, thumbnail).',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    storageDuration: new Histogram({
      name: 'images_storage_operation_duration_seconds',
      help: 'Object storage operations by operation and result (ok, not_found, error).',
      labelNames: ['operation', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    storedTotal: new Gauge({
      name: 'images_stored',
      help: 'Images currently stored (visible rows), as last counted by this instance.',
      registers: [registry],
    }),
    processingActive: new Gauge({ name: 'images_processing_active', help: 'Image jobs running now.', registers: [registry] }),
    processingQueued: new Gauge({ name: 'images_processing_queued', help: 'Image jobs waiting for a slot.', registers: [registry] }),
    uploadsInFlight: new Gauge({ name: 'images_uploads_in_flight', help: 'Uploads being received or processed.', registers: [registry] }),
    cleanupPending: new Gauge({
      name: 'images_cleanup_pending',
      help: 'Objects whose deletion failed and is being retried in the background.',
      registers: [registry],
    }),
  };
  // Every result series exists from the start, so rate() and ratio alerts see 0 rather than nothing.
  for (const result of UPLOAD_RESULTS) metrics.uploadsTotal.inc({ result }, 0);
  return metrics;
}

export type ImagesMetrics = ReturnType<typeof createImagesMetrics>;
