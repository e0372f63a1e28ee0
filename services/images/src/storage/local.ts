import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { BucketMissingError, ObjectNotFoundError, StorageUnavailableError, type ListedObject, type ObjectStorage, type StoredObject } from './types.js';

/**
 * The embedded default for one machine: objects are files under one directory ("the bucket"), keys
 * map to relative paths. Writes go to a temporary file, are fsynced, then renamed into place, so a
 * crash never leaves a half-written object under a real key. Keys come only from the service
 * (never from user input); `#path` still refuses anything that would leave the directory.
 */
export class LocalDirectoryStorage implements ObjectStorage {
  readonly kind = 'local' as const;
  readonly location: string;
  readonly #root: string;

  /** Crash tests only (FAULT_INJECTION): awaited after a `.part` file is written, before its rename. */
  readonly #afterTempWritten: (() => Promise<void>) | undefined;

  constructor(directory: string, hooks: { afterTempWritten?: () => Promise<void> } = {}) {
    this.#afterTempWritten = hooks.afterTempWritten;
    this.#root = resolve(directory);
    this.location = `file://${this.#root}`;
  }

  #path(key: string): string {
    const full = resolve(this.#root, key);
    if (!full.startsWith(this.#root + sep) || key.includes('\0')) throw new Error(`invalid object key: ${key}`);
    return full;
  }

  async ensureBucket(create: boolean): Promise<void> {
    if (create) {
      await wrap(() => mkdir(join(this.#root, '.tmp'), { recursive: true }));
      return;
    }
    await this.check();
  }

  async check(): Promise<void> {
    const info = await stat(this.#root).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new BucketMissingError(this.location);
      throw new StorageUnavailableError(`storage directory not usable: ${err.code ?? err.message}`, { cause: err });
    });
    if (!info.isDirectory()) throw new BucketMissingError(this.location);
  }

  async put(key: string, body: Buffer): Promise<void> {
    const target = this.#path(key);
    const tmpDir = join(this.#root, '.tmp');
    const tmp = join(tmpDir, `${randomBytes(8).toString('hex')}.part`);
    await wrap(async () => {
      await mkdir(tmpDir, { recursive: true });
      await mkdir(resolve(target, '..'), { recursive: true });
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.#afterTempWritten?.();
      await rename(tmp, target);
    }).catch(async (err: unknown) => {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    });
  }

  async get(key: string): Promise<StoredObject> {
    const path = this.#path(key);
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new ObjectNotFoundError(key);
      throw new StorageUnavailableError(`cannot read object: ${err.code ?? err.message}`, { cause: err });
    });
    return { body: createReadStream(path), contentLength: info.size };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.#path(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new StorageUnavailableError('cannot stat object', { cause: err });
    }
  }

  async delete(key: string): Promise<void> {
    await wrap(() => rm(this.#path(key), { force: true }));
  }

  async *list(prefix = ''): AsyncIterable<ListedObject> {
    yield* this.#walk(this.#root, prefix);
  }

  async *#walk(dir: string, prefix: string): AsyncIterable<ListedObject> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new StorageUnavailableError('cannot list storage directory', { cause: err });
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (dir === this.#root && entry.name === '.tmp') continue;
      const key = relative(this.#root, full).split(sep).join('/');
      if (entry.isDirectory()) {
        if (prefix.startsWith(key + '/') || key.startsWith(prefix) || prefix === '') yield* this.#walk(full, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await stat(full).catch(() => undefined);
        if (info) yield { key, lastModified: info.mtime };
      }
    }
  }

  async close(): Promise<void> {}
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StorageUnavailableError) throw err;
    throw new StorageUnavailableError(`local storage failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/**
 * Deletes `.tmp/*.part` files older than `cutoff`: what a crash (SIGKILL, OOM kill) between opening
 * a temporary file and renaming it into place leaves behind (issue 15, item 8). Younger ones may
 * belong to a write in flight. Returns how many were removed; a missing directory is zero.
 */
export async function purgeStaleTempFiles(directory: string, cutoff: Date): Promise<number> {
  const tmpDir = join(resolve(directory), '.tmp');
  const names = await readdir(tmpDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith('.part')) continue;
    const path = join(tmpDir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && info.mtime < cutoff) {
      await rm(path, { force: true });
      removed += 1;
    }
  }
  return removed;
}
