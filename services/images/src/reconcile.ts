import type { Logger } from '@sre/platform';
import type { ImageRepository } from './repository.js';
import { objectKeys, type ObjectStorage } from './storage/index.js';

export interface ReconcileOptions {
  repository: ImageRepository;
  storage: ObjectStorage;
  logger: Logger;
  /** Objects and tombstones younger than this are left alone: an upload or delete may be in flight. */
  graceMs: number;
  dryRun?: boolean;
  now?: () => Date;
}

export interface ReconcileReport {
  objectsScanned: number;
  rowsScanned: number;
  /** Objects with no row (an upload that died before its commit, a lost cleanup). */
  orphanObjectsRemoved: string[];
  /** Visible rows whose objects are missing: removed with whatever object remains. */
  danglingRowsRemoved: string[];
  /** Deletes that stopped half-way (row marked deleting): finished. */
  tombstonesFinished: string[];
  /** Keys under the bucket this service did not write; never touched. */
  foreignObjects: number;
  dryRun: boolean;
}

/**
 * Brings storage and the database back into agreement after crashes (README.md#consistency-model).
 * Safe to run while the service serves: only things older than the grace period are touched, rows
 * created after the object listing started are not judged, and a row is only called dangling after
 * a second, direct existence check of its objects.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const { repository, storage, logger } = options;
  const dryRun = options.dryRun ?? false;
  const startedAt = (options.now ?? (() => new Date()))();
  const cutoff = new Date(startedAt.getTime() - options.graceMs);
  const report: ReconcileReport = {
    objectsScanned: 0,
    rowsScanned: 0,
    orphanObjectsRemoved: [],
    danglingRowsRemoved: [],
    tombstonesFinished: [],
    foreignObjects: 0,
    dryRun,
  };

  // 1. Everything in the bucket, grouped by image id.
  const objects = new Map<string, { keys: string[]; newest: Date }>();
  for await (const object of storage.list('users/')) {
    report.objectsScanned++;
    const parsed = objectKeys.parse(object.key);
    if (!parsed) {
      report.foreignObjects++;
      continue;
    }
    const entry = objects.get(parsed.imageId) ?? { keys: [], newest: new Date(0) };
    entry.keys.push(object.key);
    if (object.lastModified > entry.newest) entry.newest = object.lastModified;
    objects.set(parsed.imageId, entry);
  }
  const listed = new Set([...objects.values()].flatMap((o) => o.keys));

  // 2. Rows that existed before the listing started.
  const seen = new Set<string>();
  for await (const row of repository.scan(startedAt)) {
    report.rowsScanned++;
    seen.add(row.id);
    const keys = [row.original_key, row.thumbnail_key];
    if (row.deleting_at) {
      if (row.deleting_at > cutoff) continue;
      if (!dryRun) {
        for (const key of keys) await storage.delete(key);
        await repository.remove(row.id);
      }
      report.tombstonesFinished.push(row.id);
      logger.info({ imageId: row.id }, 'reconcile: finished interrupted delete');
      continue;
    }
    if (keys.every((k) => listed.has(k))) continue;
    // Confirm directly: the listing may be older than an object written since.
    const present = await Promise.all(keys.map((k) => storage.exists(k)));
    if (present.every(Boolean)) continue;
    if (!dryRun) {
      const marked = await repository.markDeleting(row.owner_id, row.id);
      if (marked) {
        for (const key of keys) await storage.delete(key);
        await repository.remove(row.id);
      }
    }
    report.danglingRowsRemoved.push(row.id);
    logger.warn({ imageId: row.id, missing: keys.filter((_, i) => !present[i]) }, 'reconcile: removed row whose objects are missing');
  }

  // 3. Objects without a row, old enough that no upload can still be committing them.
  const candidates = [...objects.entries()].filter(([id, o]) => !seen.has(id) && o.newest <= cutoff);
  for (let i = 0; i < candidates.length; i += 500) {
    const batch = candidates.slice(i, i + 500);
    const withRows = await repository.existingIds(batch.map(([id]) => id));
    for (const [id, o] of batch) {
      if (withRows.has(id)) continue;
      if (!dryRun) for (const key of o.keys) await storage.delete(key);
      report.orphanObjectsRemoved.push(...o.keys);
      logger.warn({ imageId: id, keys: o.keys }, 'reconcile: removed orphan objects');
    }
  }
  return report;
}
