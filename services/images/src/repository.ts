import { sql, type Kysely } from 'kysely';
import type { ImagesDatabase, ImagesTable } from './db.js';

export type ImageRow = Omit<ImagesTable, 'deleting_at'> & { deleting_at: Date | null };
export type NewImage = Omit<ImagesTable, 'deleting_at'>;

const T = 'images.images' as const;

/** Data access for image rows. Visible rows are those without a delete in progress. */
export class ImageRepository {
  constructor(private readonly db: Kysely<ImagesDatabase>) {}

  /** The commit point of an upload: once this row exists the image is visible. */
  async insert(image: NewImage): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto(T).values(image).execute();
    });
  }

  async findVisible(ownerId: string, id: string): Promise<ImageRow | undefined> {
    return this.db.selectFrom(T).selectAll().where('id', '=', id).where('owner_id', '=', ownerId).where('deleting_at', 'is', null).executeTakeFirst();
  }

  async listVisible(ownerId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<ImageRow[]> {
    let q = this.db.selectFrom(T).selectAll().where('owner_id', '=', ownerId).where('deleting_at', 'is', null);
    if (after) q = q.where(sql<boolean>`(created_at, id) < (${after.createdAt}, ${after.id}::uuid)`);
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /**
   * Starts a delete: marks the row so it disappears from reads before any object is removed.
   * Returns the row (a tombstone left by an earlier failed delete included) and whether this call
   * hid it, or undefined when the caller has no such image.
   */
  async markDeleting(ownerId: string, id: string): Promise<{ row: ImageRow; hidNow: boolean } | undefined> {
    const hidden = await this.db
      .updateTable(T)
      .set({ deleting_at: new Date() })
      .where('id', '=', id)
      .where('owner_id', '=', ownerId)
      .where('deleting_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (hidden) return { row: hidden, hidNow: true };
    const tombstone = await this.db.selectFrom(T).selectAll().where('id', '=', id).where('owner_id', '=', ownerId).executeTakeFirst();
    return tombstone ? { row: tombstone, hidNow: false } : undefined;
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom(T).where('id', '=', id).execute();
  }

  async countVisible(): Promise<number> {
    const r = await this.db
      .selectFrom(T)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('deleting_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom(T).select('id').where('id', 'in', ids).execute();
    return new Set(rows.map((r) => r.id));
  }

  /** All rows (visible and tombstones) created before `before`, in id order, a page at a time. */
  async *scan(before: Date, pageSize = 500): AsyncIterable<ImageRow> {
    let lastId: string | undefined;
    for (;;) {
      let q = this.db.selectFrom(T).selectAll().where('created_at', '<', before);
      if (lastId) q = q.where('id', '>', lastId);
      const page = await q.orderBy('id').limit(pageSize).execute();
      yield* page;
      if (page.length < pageSize) return;
      lastId = page[page.length - 1]!.id;
    }
  }
}
