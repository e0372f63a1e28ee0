/**
 * A counting semaphore with a FIFO queue. sharp runs libvips in libuv's thread pool (4 threads by
 * default) which file system and DNS work share: without a bound, twenty uploads would take every
 * thread and every core, and /livez, fs reads and S3 lookups would wait behind them.
 */
export class Semaphore {
  #active = 0;
  #highWater = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  get active(): number {
    return this.#active;
  }
  get queued(): number {
    return this.#waiting.length;
  }
  /** Most jobs ever seen running at once (tests assert the bound). */
  get highWater(): number {
    return this.#highWater;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#active >= this.capacity) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    this.#highWater = Math.max(this.#highWater, this.#active);
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter so a newcomer cannot overtake the queue.
      if (next) next();
      else this.#active--;
    }
  }
}

/** A non-waiting admission counter: over capacity, callers are refused at once (→ 503 IMAGES_BUSY). */
export class AdmissionLimit {
  #inFlight = 0;
  constructor(readonly capacity: number) {}
  get inFlight(): number {
    return this.#inFlight;
  }
  tryAcquire(): (() => void) | undefined {
    if (this.#inFlight >= this.capacity) return undefined;
    this.#inFlight++;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.#inFlight--;
      }
    };
  }
}
