/**
 * The uploads suite's load driver, run in its own process (so its work never shares a core's event
 * loop with what it measures): `concurrency` loops each POST a multipart upload and wait for the
 * answer, for `durationMs` after `warmupMs`, against a loopback URL. Prints one JSON line
 * (DriverResult) and exits. Bounded: every request times out, and the run stops at its deadline.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

export interface DriverOptions {
  url: string;
  file: string;
  filename: string;
  headers: Record<string, string>;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Uploads to measure at least, even past `durationMs` (bounded by a hard cap). */
  minCompleted: number;
}

export interface DriverResult {
  completed: number;
  failed: number;
  statuses: Record<string, number>;
  seconds: number;
  /** Latency of each completed upload in ms (measured ones only, not the warm-up). */
  latenciesMs: number[];
}

const REQUEST_TIMEOUT_MS = 60_000;

function post(agent: Agent, url: URL, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) }, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(-1));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(-1));
    // A server that answers early and closes (413, 503, a timeout) resets our write: a failed upload, not a crash.
    req.on('socket', (socket) => socket.on('error', () => resolve(-1)));
    req.end(body);
  });
}

async function drive(options: DriverOptions): Promise<DriverResult> {
  const url = new URL(options.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`the upload driver only targets loopback, not ${url.hostname}`);
  const boundary = `----bench-${randomUUID()}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${options.filename}"\r\nContent-Type: image/jpeg\r\n\r\n`),
    readFileSync(options.file),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const headers = { ...options.headers, 'content-type': `multipart/form-data; boundary=${boundary}` };
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const result: DriverResult = { completed: 0, failed: 0, statuses: {}, seconds: 0, latenciesMs: [] };
  const begin = performance.now();
  const measureFrom = begin + options.warmupMs;
  const deadline = measureFrom + options.durationMs;
  // On a loaded machine the window may hold too few uploads: go on until `minCompleted`, within a hard cap.
  const hardDeadline = deadline + 2 * options.durationMs + 60_000;
  const more = () => performance.now() < deadline || (result.completed < options.minCompleted && performance.now() < hardDeadline);
  let measuredEnd = measureFrom;
  const loop = async () => {
    while (more()) {
      const started = performance.now();
      const status = await post(agent, url, body, headers);
      const ended = performance.now();
      if (started < measureFrom) continue;
      measuredEnd = Math.max(measuredEnd, ended);
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        result.completed++;
        result.latenciesMs.push(ended - started);
      } else {
        result.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  agent.destroy();
  // Uploads started before the deadline finish after it: count the time they took.
  result.seconds = (measuredEnd - measureFrom) / 1000;
  return result;
}

// A script: the suite imports only its types (erased), and runs it as a child process.
const result = await drive(JSON.parse(process.argv[2] ?? '{}') as DriverOptions);
process.stdout.write(`${JSON.stringify(result)}\n`);
