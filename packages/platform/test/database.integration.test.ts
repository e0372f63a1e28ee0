import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Kysely, sql, type Migration } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { captureLogs, createTestDatabase, freePort, testPostgresUrl, waitFor } from '@sre/testkit';
import { PGliteDialect, isDatabaseUnavailable, migrateToLatest, openDatabase, runMigrationsWithRetry } from '../src/db.js';
import { createLogger } from '../src/index.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
interface CounterDb {
  counters: { name: string; value: number };
}

const migrations: Record<string, Migration> = {
  '0001_counters': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('counters')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  '0002_seed': {
    async up(db: Kysely<any>) {
      await db.insertInto('counters').values({ name: 'c', value: 0 }).execute();
    },
  },
};

function capturingLogger() {
  const { lines, destination } = captureLogs();
  return { lines, logger: createLogger({ service: 'test', level: 'info', destination }) };
}

const logger = createLogger({ service: 'test', level: 'silent' });

describe('PGlite through Kysely (embedded database, no server)', () => {
  it('opens in memory, migrates once, and answers ping', async () => {
    const database = openDatabase<CounterDb>({ logger });
    try {
      assert.equal(database.kind, 'pglite');
      await database.ping();
      assert.deepEqual(await migrateToLatest(database.db, migrations), ['0001_counters', '0002_seed']);
      assert.deepEqual(await migrateToLatest(database.db, migrations), [], 'second run applies nothing');
      assert.equal((await database.db.selectFrom('counters').select('value').executeTakeFirstOrThrow()).value, 0);
    } finally {
      await database.close();
    }
  });

  it('serialises concurrent transactions on its single connection (no lost updates)', async () => {
    const database = openDatabase<CounterDb>({ logger });
    try {
      await migrateToLatest(database.db, migrations);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          database.db.transaction().execute(async (trx) => {
            const { value } = await trx.selectFrom('counters').select('value').where('name', '=', 'c').executeTakeFirstOrThrow();
            await new Promise((r) => setTimeout(r, 1)); // let others try to interleave
            await trx
              .updateTable('counters')
              .set({ value: value + 1 })
              .where('name', '=', 'c')
              .execute();
          }),
        ),
      );
      assert.equal((await database.db.selectFrom('counters').select('value').executeTakeFirstOrThrow()).value, 20);
    } finally {
      await database.close();
    }
  });

  it('rolls back a failed transaction, releases the connection, and reports affected rows', async () => {
    const database = openDatabase<CounterDb>({ logger });
    try {
      await migrateToLatest(database.db, migrations);
      await assert.rejects(
        database.db.transaction().execute(async (trx) => {
          await trx.updateTable('counters').set({ value: 99 }).execute();
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal((await database.db.selectFrom('counters').select('value').executeTakeFirstOrThrow()).value, 0, 'rolled back');
      const result = await database.db.updateTable('counters').set({ value: 5 }).where('name', '=', 'c').executeTakeFirst();
      assert.equal(result.numUpdatedRows, 1n);
      const none = await database.db.updateTable('counters').set({ value: 6 }).where('name', '=', 'nope').executeTakeFirst();
      assert.equal(none.numUpdatedRows, 0n);
      const inserted = await database.db.insertInto('counters').values({ name: 'd', value: 1 }).returning('name').executeTakeFirst();
      assert.equal(inserted?.name, 'd');
      await assert.rejects(database.db.insertInto('counters').values({ name: 'd', value: 1 }).execute(), (err: unknown) => !isDatabaseUnavailable(err));
    } finally {
      await database.close();
    }
  });

  it('keeps data across restarts in PGLITE data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pglite-test-'));
    try {
      const first = openDatabase<CounterDb>({ logger, pgliteDataDir: join(dir, 'nested') });
      await migrateToLatest(first.db, migrations);
      await first.db.updateTable('counters').set({ value: 42 }).execute();
      await first.close();
      const second = openDatabase<CounterDb>({ logger, pgliteDataDir: join(dir, 'nested') });
      assert.deepEqual(await migrateToLatest(second.db, migrations), []);
      assert.equal((await second.db.selectFrom('counters').select('value').executeTakeFirstOrThrow()).value, 42);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runMigrationsWithRetry finishes on PGlite', async () => {
    const database = openDatabase<CounterDb>({ logger });
    try {
      const runner = runMigrationsWithRetry(database, migrations, { logger });
      await runner.done;
      assert.equal(runner.isDone(), true);
      assert.equal(runner.lastError(), undefined);
    } finally {
      await database.close();
    }
  });

  it('the dialect also works on a PGlite instance handed in directly', async () => {
    const db = new Kysely<CounterDb>({ dialect: new PGliteDialect(new PGlite()) });
    try {
      await migrateToLatest(db, migrations);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from counters`.execute(db);
      assert.equal(rows[0]?.n, 1);
    } finally {
      await db.destroy();
    }
  });
});

const adminUrl = testPostgresUrl();
describe('PostgreSQL through Kysely', { skip: adminUrl ? false : 'TEST_POSTGRES_URL is not set (run through tools/test/run.sh)' }, () => {
  it('three instances migrating one fresh database at once apply each migration exactly once', async () => {
    const database = await createTestDatabase(adminUrl!, 'plat');
    const instances = Array.from({ length: 3 }, () => openDatabase<CounterDb>({ url: database.url, logger }));
    try {
      assert.equal(instances[0]!.kind, 'postgres');
      const applied = await Promise.all(instances.map((i) => migrateToLatest(i.db, migrations)));
      assert.deepEqual(applied.map((a) => a.length).sort(), [0, 0, 2]);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from counters`.execute(instances[0]!.db);
      assert.equal(rows[0]?.n, 1, 'the seed ran once');
    } finally {
      await Promise.all(instances.map((i) => i.close()));
      await database.drop();
    }
  });

  it('a connection lost while checked out of the pool is logged, not a crash, and the pool serves again', async () => {
    // Without a listener on the client, the error event crashes the process: the test runner then
    // reports it as an uncaught exception, and the log line below never comes.
    const database = await createTestDatabase(adminUrl!, 'lost');
    const { lines, logger: captured } = capturingLogger();
    const app = openDatabase<CounterDb>({ url: database.url, logger: captured });
    const admin = openDatabase<CounterDb>({ url: database.url, logger });
    try {
      await app.db.connection().execute(async (conn) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn);
        await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(admin.db);
        await waitFor(() => lines.some((l) => l.msg === 'database connection lost'), { what: 'the lost connection logged' });
      });
      await app.ping();
    } finally {
      await app.close();
      await admin.close();
      await database.drop();
    }
  });

  it('isDatabaseUnavailable: true for refused connections, false for query errors', async () => {
    const closedPort = await freePort();
    const down = openDatabase<CounterDb>({ url: `postgres://postgres@127.0.0.1:${closedPort}/x`, logger, connectTimeoutMs: 1000 });
    try {
      const err = await down.ping().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err, 'ping must fail');
      assert.equal(isDatabaseUnavailable(err), true, String(err));
    } finally {
      await down.close();
    }
    const up = openDatabase<CounterDb>({ url: adminUrl!, logger });
    try {
      const syntax = await sql`selec 1`.execute(up.db).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal(isDatabaseUnavailable(syntax), false);
    } finally {
      await up.close();
    }
    assert.equal(isDatabaseUnavailable(new Error('wrapper', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) })), true);
    assert.equal(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '57P01' })), true, 'admin_shutdown');
    assert.equal(isDatabaseUnavailable(Object.assign(new Error('dup'), { code: '23505' })), false, 'unique violation is not an outage');
    assert.equal(isDatabaseUnavailable(undefined), false);
  });

  it('runMigrationsWithRetry keeps retrying with back-off while the database is unreachable, and stops on request', async () => {
    const closedPort = await freePort();
    const database = openDatabase<CounterDb>({ url: `postgres://postgres@127.0.0.1:${closedPort}/x`, logger, connectTimeoutMs: 500 });
    const { lines, logger: captured } = capturingLogger();
    const runner = runMigrationsWithRetry(database, migrations, { logger: captured, initialDelayMs: 20, maxDelayMs: 200 });
    try {
      await waitFor(() => lines.filter((l) => l.msg === 'database not ready for migrations; retrying').length >= 3, { what: 'three retries' });
      assert.equal(runner.isDone(), false);
      assert.match(runner.lastError() ?? '', /ECONNREFUSED|connect/i);
    } finally {
      runner.stop();
      await runner.done;
      await database.close();
    }
    assert.equal(runner.isDone(), false);
    assert.ok(!lines.some((l) => l.msg === 'migrations failed'), 'stopping is not a failure');
  });
});
