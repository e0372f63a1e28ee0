import { sql, type Generated, type Kysely, type Migration } from 'kysely';

/** The service's own schema: it shares a PostgreSQL server with Auth but never its tables. */
export const DB_SCHEMA = 'images';

export interface ImagesTable {
  id: string;
  owner_id: string;
  filename: string;
  content_type: string;
  width: number;
  height: number;
  size_bytes: number;
  etag: string;
  original_key: string;
  thumbnail_key: string;
  thumbnail_size_bytes: number;
  thumbnail_etag: string;
  created_at: Date;
  /** Set when a delete has started: the row is invisible from then on (tombstone). */
  deleting_at: Generated<Date | null>;
}

export interface ImagesDatabase {
  'images.images': ImagesTable;
}

export const migrations: Record<string, Migration> = {
  '0001_images': {
    async up(db: Kysely<unknown>) {
      await db.schema.createSchema(DB_SCHEMA).ifNotExists().execute();
      await db.schema
        .withSchema(DB_SCHEMA)
        .createTable('images')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('owner_id', 'uuid', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('width', 'integer', (c) => c.notNull())
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('size_bytes', 'integer', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('original_key', 'text', (c) => c.notNull())
        .addColumn('thumbnail_key', 'text', (c) => c.notNull())
        .addColumn('thumbnail_size_bytes', 'integer', (c) => c.notNull())
        .addColumn('thumbnail_etag', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('deleting_at', 'timestamptz')
        .execute();
      // Listing is "the caller's images, newest first, keyset-paginated".
      await db.schema.withSchema(DB_SCHEMA).createIndex('images_owner_created_idx').on('images').columns(['owner_id', 'created_at desc', 'id desc']).execute();
    },
  },
};
