import type { IncomingMessage } from 'node:http';

export interface DrainBounds {
  /** Bytes read and discarded at most after the decision to refuse. */
  maxBytes: number;
  timeoutMs: number;
}

/**
 * Reads and discards the rest of a refused request body, then calls `then` — like nginx's lingering close.
 * Answering while the client is still sending and then closing makes the kernel reset the connection, and
 * most clients (curl, browsers) report the reset (EPIPE/ECONNRESET) instead of the answer. Past either bound
 * `then` runs anyway: the answer goes out with `Connection: close` and the connection is cut as before.
 */
export function drainThen(raw: IncomingMessage, bounds: DrainBounds, then: (drained: boolean) => void): void {
  if (raw.complete || raw.destroyed) return then(raw.complete);
  let read = 0;
  let finished = false;
  const finish = (drained: boolean) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    raw.off('data', onData);
    raw.off('end', onEnd);
    raw.off('close', onClose);
    raw.off('error', onClose);
    if (!drained) raw.pause();
    then(drained);
  };
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > bounds.maxBytes) finish(false);
  };
  const onEnd = () => finish(true);
  const onClose = () => finish(false);
  const timer = setTimeout(() => finish(false), bounds.timeoutMs);
  // A body piped into the (failed) byte limiter is taken back from it first.
  raw.unpipe();
  raw.on('data', onData);
  raw.on('end', onEnd);
  raw.on('close', onClose);
  raw.on('error', onClose);
  raw.resume();
}
