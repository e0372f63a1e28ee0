import { isIP } from 'node:net';
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run load -- [options]

Realistic user flows against the platform at an arrival rate (open model: flows start on schedule
whether or not earlier ones finished, so a slow server shows as latency and dropped starts, not as
less load). Stops by itself after --duration or --max-flows.

  --target URL        where the web app/API is (default http://127.0.0.1:8080, what npm start serves)
  --rate N            flows started per second (default 2; fractions allowed, e.g. 0.5)
  --duration D        how long to start flows: 30s, 5m, 1h (default 1m; at most 24h)
  --mix LIST          flow weights, e.g. signup=1,browse=9 (the default)
                        signup: register, log in, list, upload, view, thumbnail, delete, refresh, log out
                        browse: with an existing session: list, upload, view, thumbnail, delete, refresh
  --max-in-flight N   cap on flows running at once; a start over the cap is dropped and counted (default 200)
  --max-flows N       stop after starting this many flows (default: rate × duration)
  --out DIR           write load-report.json and load-report.html there (default .data/load)
  --allow-remote      allow a target that is not loopback (an Ingress URL, a cluster Service)
  --help              print this and exit`;

export type FlowName = 'signup' | 'browse';

export interface LoadOptions {
  target: URL;
  ratePerSec: number;
  durationMs: number;
  mix: Record<FlowName, number>;
  maxInFlight: number;
  maxFlows: number;
  outDir: string;
}

export class UsageError extends Error {}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new UsageError(`--duration: "${text}" is not a duration such as 30s, 5m or 1h`);
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  if (ms < 1000 || ms > 24 * 3_600_000) throw new UsageError('--duration must be between 1s and 24h');
  return ms;
}

export function parseMix(text: string): Record<FlowName, number> {
  const mix: Record<FlowName, number> = { signup: 0, browse: 0 };
  for (const part of text.split(',')) {
    const [name, weight] = part.split('=').map((s) => s.trim());
    if (name !== 'signup' && name !== 'browse') throw new UsageError(`--mix: unknown flow "${name}" (known: signup, browse)`);
    const w = Number(weight);
    if (!Number.isFinite(w) || w < 0) throw new UsageError(`--mix: weight of ${name} must be a number >= 0`);
    mix[name] = w;
  }
  if (mix.signup + mix.browse <= 0) throw new UsageError('--mix: at least one flow needs a weight above 0');
  return mix;
}

/** Loopback names and addresses only, unless --allow-remote (the network rule: load stays local). */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

function positive(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`${name} must be a number above 0 and at most ${max}`);
  return n;
}

/** Parses argv; `undefined` means --help was asked (usage printed by the caller, nothing run). */
export function parseOptions(argv: string[]): LoadOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string', default: 'http://127.0.0.1:8080' },
      rate: { type: 'string', default: '2' },
      duration: { type: 'string', default: '1m' },
      mix: { type: 'string', default: 'signup=1,browse=9' },
      'max-in-flight': { type: 'string', default: '200' },
      'max-flows': { type: 'string' },
      out: { type: 'string', default: '.data/load' },
      'allow-remote': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  let target: URL;
  try {
    target = new URL(values.target);
  } catch {
    throw new UsageError(`--target: "${values.target}" is not a URL`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new UsageError('--target must be an http or https URL');
  if (!values['allow-remote'] && !isLoopback(target)) {
    throw new UsageError(`--target ${target.host} is not loopback; pass --allow-remote to load an Ingress or a remote cluster (docs/load.md)`);
  }
  const ratePerSec = positive('--rate', values.rate, 1000);
  const durationMs = parseDuration(values.duration);
  const maxFlows = values['max-flows']
    ? Math.floor(positive('--max-flows', values['max-flows'], 10_000_000))
    : Math.max(1, Math.floor((ratePerSec * durationMs) / 1000));
  return {
    target,
    ratePerSec,
    durationMs,
    mix: parseMix(values.mix),
    maxInFlight: Math.floor(positive('--max-in-flight', values['max-in-flight'], 100_000)),
    maxFlows,
    outDir: values.out,
  };
}
