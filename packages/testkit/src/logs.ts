import { Writable } from 'node:stream';

export type LogLine = Record<string, unknown>;

/** A pino destination that keeps every JSON log line, so tests can assert on what was logged. */
export function captureLogs(): { destination: Writable; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { destination, lines };
}
