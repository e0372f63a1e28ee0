import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../src/launcher.js';
import { call, jpegImage, newEmail, pngImage, startPlatform, upload, type RunningPlatform } from './helpers.js';

const chromiumTool = requireTool('chromium', 'apt-get install chromium');
const RESULTS_DIR = join(REPO_ROOT, 'test-results');

describe('the web app in real headless Chromium', { skip: chromiumTool.skip }, () => {
  let platform: RunningPlatform;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    platform = await startPlatform();
    profileDir = mkdtempSync(join(tmpdir(), 'sre-chromium-'));
    // A persistent context is how Playwright takes a fresh --user-data-dir of our choosing.
    context = await chromium.launchPersistentContext(profileDir, {
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
      viewport: { width: 1100, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  after(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await platform?.stop();
  });

  it('sign up → log in → upload two images → both thumbnails → open one → delete one → log out, plus a rejected text file', async () => {
    const email = newEmail('browser');
    const password = 'a long browser passphrase';
    await page.goto(platform.url);

    // Sign up (labels, as a screen reader user finds the fields).
    await page.getByLabel('Email').nth(1).fill(email);
    await page.getByLabel('Password', { exact: true }).nth(1).fill(password);
    await page.getByRole('button', { name: 'Sign up' }).click();
    // A new user lands in the app, signed in (issue 15).
    await page.getByRole('status').filter({ hasText: 'Your account is ready' }).waitFor();
    await page.getByText(`Signed in as ${email}`).waitFor();
    await page.getByText('No images yet').waitFor();

    // Keyboard: the (visually hidden) file picker is reachable with Tab.
    let reached = false;
    for (let i = 0; i < 10 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.id === 'file-input');
    }
    assert.ok(reached, 'the file input is reachable with the keyboard');

    // Record what the progress bar shows (XMLHttpRequest upload progress).
    await page.evaluate(() => {
      const bar = document.querySelector<HTMLProgressElement>('#upload-progress')!;
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => seen.push(bar.value)).observe(bar, { attributes: true, attributeFilter: ['value'] });
    });

    // Upload one by picking a file, one by dropping it on the drop zone.
    await page
      .locator('#file-input')
      .setInputFiles({ name: 'red-square.png', mimeType: 'image/png', buffer: await pngImage(120, 120, { r: 220, g: 30, b: 30 }) });
    await page.getByRole('status').filter({ hasText: 'Uploaded red-square.png' }).waitFor();
    const jpeg = (await jpegImage(160, 90)).toString('base64');
    const dataTransfer = await page.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'blue-wide.jpg', { type: 'image/jpeg' }));
      return transfer;
    }, jpeg);
    await page.dispatchEvent('#dropzone', 'drop', { dataTransfer });
    await page.getByRole('status').filter({ hasText: 'Uploaded blue-wide.jpg' }).waitFor();

    const progress = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    assert.ok(progress.includes(100), `the progress bar reached 100% (saw ${progress.join(', ')})`);

    // Both thumbnails, newest first, really rendered from blob: URLs.
    const thumbs = page.locator('#gallery img');
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll<HTMLImageElement>('#gallery img')).filter(
          (img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0,
        ).length === 2,
    );
    assert.deepEqual(await thumbs.evaluateAll((imgs) => imgs.map((img) => (img as HTMLImageElement).alt)), ['blue-wide.jpg', 'red-square.png']);

    // The error case: a text file is refused by the service and the message says why.
    await page.locator('#file-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('this is not an image') });
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: 'This file type is not supported' }).waitFor();
    assert.match((await alert.textContent()) ?? '', /notes\.txt: This file type is not supported/);
    assert.equal(await thumbs.count(), 2);

    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'browser-gallery.png'), fullPage: true });

    // Open the original of one image.
    await page.getByRole('button', { name: 'Open red-square.png' }).focus();
    await page.keyboard.press('Enter');
    const viewer = page.getByRole('dialog', { name: 'red-square.png' });
    await viewer.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#viewer-image');
      return !!img && img.src.startsWith('blob:') && img.complete && img.naturalWidth === 120;
    });
    await page.screenshot({ path: join(RESULTS_DIR, 'browser-viewer.png') });

    // Delete it, with confirmation.
    await viewer.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete this image?' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted red-square.png.' }).waitFor();
    assert.equal(await thumbs.count(), 1);
    assert.equal(await thumbs.first().getAttribute('alt'), 'blue-wide.jpg');

    // Paging: 12 more images (uploaded through the API) make two pages, newest first.
    const login = await call<{ accessToken: string }>(platform.url, 'POST', '/api/auth/login', { json: { email, password } });
    for (let i = 1; i <= 12; i++) {
      const res = await upload(platform.url, login.body.accessToken, await pngImage(8 + i, 8), `page-${String(i).padStart(2, '0')}.png`);
      assert.equal(res.status, 201);
    }

    // A reload keeps the session (refresh token renewal) and the gallery comes back from the API.
    await page.reload();
    await page.getByText(`Signed in as ${email}`).waitFor();
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll<HTMLImageElement>('#gallery img')).filter((img) => img.naturalWidth > 0).length === 12,
    );
    assert.equal(await thumbs.first().getAttribute('alt'), 'page-12.png');
    const loadMore = page.getByRole('button', { name: 'Load more' });
    await loadMore.click();
    await page.waitForFunction(() => document.querySelectorAll('#gallery img').length === 13);
    assert.equal(await thumbs.last().getAttribute('alt'), 'blue-wide.jpg');
    assert.equal(await loadMore.isVisible(), false, 'no more pages');

    // Log out.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('status').filter({ hasText: 'You have logged out.' }).waitFor();
    assert.equal(await page.locator('#gallery-view').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Log in' }).isVisible(), true);

    // Log back in with the keyboard: Enter in the password field submits.
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(password);
    await page.locator('#login-password').press('Enter');
    await page.getByText(`Signed in as ${email}`).waitFor();

    assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violations');
    assert.deepEqual(pageErrors, []);
  });
});
