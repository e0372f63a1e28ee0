import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../src/launcher.js';
import { call, pngImage, startPlatform, upload, type RunningPlatform } from './helpers.js';

const chromiumTool = requireTool('chromium', 'apt-get install chromium');
const RESULTS_DIR = join(REPO_ROOT, 'test-results');
const PHONE = { width: 390, height: 844 };

/** Elements whose box leaves the viewport horizontally (what a user cannot reach without panning). */
async function offscreen(page: Page, selectors: readonly string[]): Promise<string[]> {
  return page.evaluate((list) => {
    const out: string[] = [];
    for (const selector of list) {
      for (const el of Array.from(document.querySelectorAll(selector))) {
        const box = el.getBoundingClientRect();
        if (box.width > 0 && (box.left < -0.5 || box.right > window.innerWidth + 0.5))
          out.push(`${selector} [${Math.round(box.left)}, ${Math.round(box.right)}]`);
      }
    }
    return out;
  }, selectors);
}

/**
 * Issue 15, items 13 and 17: at 390 px with a long email the page grew to 436 px, "Log out" went
 * off-screen and the image viewer was clipped; and sign-up did not log the user in.
 */
describe('the web app at phone width with long names, in headless Chromium', { skip: chromiumTool.skip }, () => {
  let platform: RunningPlatform;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;

  before(async () => {
    platform = await startPlatform();
    profileDir = mkdtempSync(join(tmpdir(), 'sre-chromium-phone-'));
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
      viewport: PHONE,
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await platform?.stop();
  });

  it('signs up straight into the app, and keeps page, "Log out" and the viewer within 390 px with a 40-character email and filename', async () => {
    const email = `a.very.long.name.${Date.now()}@example-domain.test`;
    assert.ok(email.length >= 40, email);
    const password = 'a long phone passphrase';
    await page.goto(platform.url);

    await page.locator('#register-email').fill(email);
    await page.locator('#register-password').fill(password);
    await page.getByRole('button', { name: 'Sign up' }).click();
    // Sign-up logs in: the gallery shows without a log-in step.
    await page.getByText(`Signed in as ${email}`).waitFor();
    await page.getByText('No images yet').waitFor();

    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'phone-signed-in.png'), fullPage: true });
    assert.ok(width <= PHONE.width, `the page is ${width} px wide at a ${PHONE.width} px viewport`);
    assert.deepEqual(await offscreen(page, ['#logout', '#account', '.top h1', '#dropzone']), []);
    await page.getByRole('button', { name: 'Log out' }).click({ trial: true });

    // A picture with a long name, uploaded through the API, opened in the viewer.
    const login = await call<{ accessToken: string }>(platform.url, 'POST', '/api/auth/login', { json: { email, password } });
    const filename = `holiday-photo-${'x'.repeat(40)}-final-version.png`;
    assert.equal((await upload(platform.url, login.body.accessToken, await pngImage(1200, 300), filename)).status, 201);
    await page.reload();
    await page.getByRole('button', { name: `Open ${filename}` }).click();
    const viewer = page.getByRole('dialog', { name: filename });
    await viewer.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#viewer-image');
      return !!img && img.complete && img.naturalWidth === 1200;
    });
    await page.screenshot({ path: join(RESULTS_DIR, 'phone-viewer.png') });
    assert.deepEqual(await offscreen(page, ['#viewer', '#viewer-image', '#viewer-title', '#viewer-delete', '#viewer-close']), []);
    const clipped = await page.evaluate(() => {
      const dialog = document.querySelector<HTMLDialogElement>('#viewer')!;
      return dialog.scrollWidth - dialog.clientWidth;
    });
    assert.ok(clipped <= 0, `the viewer's content is ${clipped} px wider than the viewer`);
  });
});
