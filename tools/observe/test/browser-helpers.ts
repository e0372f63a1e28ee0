import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from '@sre/testkit';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { stringify } from 'yaml';

/** Chromium as the project's browser tests run it (see tools/launcher/test/browser.test.ts). */
export async function launchChromium(profileDir: string): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  // A persistent context is how Playwright takes a fresh --user-data-dir of our choosing.
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1600, height: 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) pageErrors.push(msg.text());
  });
  return { context, page, pageErrors };
}

export interface PanelState {
  title: string;
  state: string;
  text: string;
}

/** Opens a dashboard and waits until no panel is loading; screenshots the whole page. */
export async function openDashboard(page: Page, baseUrl: string, uid: string, query: string, screenshot: string): Promise<PanelState[]> {
  await page.goto(`${baseUrl}/d/${uid}?${query}`);
  await page.locator('section.panel').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('section.panel[data-state="loading"]').length === 0, undefined, { timeout: 60_000 });
  await page.screenshot({ path: screenshot, fullPage: true });
  return page.$$eval('section.panel', (sections) =>
    sections.map((s) => ({
      title: s.getAttribute('data-title') ?? '',
      state: s.getAttribute('data-state') ?? '',
      text: (s.querySelector('.body')?.textContent ?? '').slice(0, 200),
    })),
  );
}

/** A real Prometheus (Debian) with exemplar storage, scraping the given jobs every second. */
export async function startReplayPrometheus(
  dir: string,
  jobs: Array<{ job: string; address: string; path: string; labels?: Record<string, string> }>,
): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: jobs.map((j) => ({
      job_name: j.job,
      metrics_path: j.path,
      static_configs: [{ targets: [j.address], ...(j.labels ? { labels: j.labels } : {}) }],
    })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  let output = '';
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
        return (await fetch(`${url}/-/ready`)).ok;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'replay Prometheus ready' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/**
 * Uploads through the gateway every `everyMs` until stopped (at most `max`): the drill traffic only
 * reads, and the image-processing panels need pictures being processed while they are looked at.
 */
export async function startUploads(gatewayUrl: string, picture: Buffer, everyMs = 2000, max = 300): Promise<{ stop(): Promise<void> }> {
  const email = `observe-${Date.now()}@observe.example`;
  const password = 'a long observe test passphrase';
  const json = { 'content-type': 'application/json' };
  const register = await fetch(`${gatewayUrl}/api/auth/register`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
  if (register.status !== 201) throw new Error(`register: ${register.status} ${await register.text()}`);
  const login = (await (await fetch(`${gatewayUrl}/api/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) })).json()) as {
    accessToken?: string;
  };
  if (!login.accessToken) throw new Error('login gave no access token');
  let sent = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    if (sent++ >= max) return clearInterval(timer);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(picture)], { type: 'image/png' }), 'observe.png');
    inFlight = fetch(`${gatewayUrl}/api/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.accessToken}` },
      body: form,
      signal: AbortSignal.timeout(10_000),
    }).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
