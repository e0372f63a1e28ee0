/**
 * Something a suite starts once in `before` (a whole platform, a browser) and its tests share.
 *
 * Why not throw from `before`: node:test then reports every test of the suite as "cancelled by
 * parent" and puts the hook's error after them, at the suite's end. CI shows the output around the
 * first failing test, so the cause was cut off (the local drills, CI of stop 18). Here `start()`
 * keeps the error, and each test that calls `get()` fails with it and with the last lines the
 * fixture printed while starting.
 *
 * Every test of the suite must call `get()`: a start failure no test asks about goes unreported.
 */
export interface SuiteFixture<T> {
  /** For `before(fixture.start)`: starts it, and keeps a failure for `get()` instead of throwing. */
  readonly start: () => Promise<void>;
  /** The started value; throws the start failure, with context, when it did not start. */
  get(): T;
  /** The value if it started, for `after()` (which runs whether or not it did). */
  readonly value: T | undefined;
}

export function suiteFixture<T>(what: string, start: () => Promise<T>, startOutput: () => readonly string[] = () => []): SuiteFixture<T> {
  let value: T | undefined;
  let failure: Error | undefined;
  let started = false;
  return {
    start: async () => {
      try {
        value = await start();
      } catch (err) {
        const output = startOutput().slice(-40);
        const said = output.length > 0 ? `\nlast lines it printed:\n${output.join('\n')}` : '';
        failure = new Error(`${what} did not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}${said}`, { cause: err });
      } finally {
        started = true;
      }
    },
    get() {
      if (failure) throw failure;
      if (!started || value === undefined) throw new Error(`${what} is not started: call before(fixture.start) in the suite`);
      return value;
    },
    get value() {
      return value;
    },
  };
}
