import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

/**
 * A local stand-in for Slack's incoming webhooks: accepts what Alertmanager's slack_configs post
 * (JSON: channel, username, text, attachments…), answers "ok" like Slack, prints a line per
 * message, keeps every message for drills (GET /notifications) and appends it to a JSONL file.
 * It checks what it receives: a body that is not a JSON object, or has neither text nor
 * attachments, is refused with 400 (Alertmanager then counts a failed notification).
 */

export interface StoredNotification {
  receivedAt: string;
  path: string;
  payload: Record<string, unknown>;
}

export interface SlackSink {
  readonly url: string;
  readonly webhookUrl: string;
  readonly notifications: StoredNotification[];
  close(): Promise<void>;
}

export interface SinkOptions {
  host?: string;
  port?: number;
  /** Append each message here (JSON lines). */
  file?: string;
  print?: (line: string) => void;
}

/** A one-line summary of a Slack message, for the terminal. */
export function summarizeSlack(payload: Record<string, unknown>): string {
  const attachments = (payload.attachments as Array<Record<string, unknown>> | undefined) ?? [];
  const title = String(attachments[0]?.title ?? payload.text ?? '').split('\n')[0];
  const all = JSON.stringify(payload);
  const runbook = /https?:\/\/[^"\s\\]*runbooks\/[A-Za-z0-9_-]+\.md/.exec(all)?.[0];
  return `${payload.channel ? `${String(payload.channel)} ` : ''}${title}${runbook ? ` — runbook ${runbook}` : ''}`;
}

export async function startSlackSink(options: SinkOptions = {}): Promise<SlackSink> {
  const notifications: StoredNotification[] = [];
  const print = options.print ?? ((line: string) => console.log(line));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    if (req.method === 'GET' && url.pathname === '/notifications') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(notifications));
      return;
    }
    if (req.method === 'DELETE' && url.pathname === '/notifications') {
      notifications.length = 0;
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/-/ready') {
      res.writeHead(200).end('ok');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end('method not allowed');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1024 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end('invalid_payload');
        return;
      }
      if (
        typeof payload !== 'object' ||
        payload === null ||
        Array.isArray(payload) ||
        (!('text' in payload) && !('attachments' in payload) && !('blocks' in payload))
      ) {
        res.writeHead(400).end('no_text');
        return;
      }
      const stored: StoredNotification = { receivedAt: new Date().toISOString(), path: url.pathname, payload: payload as Record<string, unknown> };
      notifications.push(stored);
      if (options.file) appendFileSync(options.file, `${JSON.stringify(stored)}\n`);
      print(`[slack sink] ${summarizeSlack(stored.payload)}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    url,
    webhookUrl: `${url}/services/local-sink`,
    notifications,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
