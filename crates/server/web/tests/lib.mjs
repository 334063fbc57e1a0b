// The runner the browser tests share: required environment, Debian's Chromium started for
// this machine, numbered steps with one `ok` line each, page errors collected, screenshots
// in out/ (a failure screenshot of every page the test opened), and the exit code.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');

/** How long a step may wait for the page (STEP_TIMEOUT, default 15 s). */
export const STEP_TIMEOUT = Number(process.env.STEP_TIMEOUT || 15000);

/** A `data-testid` selector. */
export const tid = (id) => `[data-testid="${id}"]`;

/** A required environment variable; exits 2 naming the script when it is missing. */
export function env(script, name) {
  const v = process.env[name];
  if (!v) usage(script, `environment variable ${name} is required`);
  return v;
}

/** Exits 2: the script was called wrongly. */
export function usage(script, message) {
  console.error(`${script}: ${message}`);
  process.exit(2);
}

// No sandbox as root, no background networking on a closed network.
function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a screenshot of `page` as out/`file`. */
export async function screenshot(page, file, options) {
  mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, file), ...options });
}

/** Waits for `ok` or for `error` (both selectors); throws with the error's text, prefixed
 * by `what`, when the error shows first. */
export async function expectNoError(page, ok, error, what) {
  const outcome = await Promise.race([
    page.waitForSelector(ok, { state: 'visible' }).then(() => 'ok'),
    page.waitForSelector(error, { state: 'visible' }).then(() => 'error'),
  ]);
  if (outcome === 'error') throw new Error(`${what}: ${(await page.textContent(error)).trim()}`);
}

/** Logs a candidate in on the candidate page, already open, and waits for the exam. */
export async function candidateLogin(page, participant, pin, token) {
  await page.waitForSelector(tid('login-form'), { state: 'visible' });
  await page.fill(tid('login-participant'), participant);
  await page.fill(tid('login-pin'), pin);
  assert.equal(await page.getAttribute(tid('login-pin'), 'type'), 'password', 'the PIN field is a password field');
  await page.fill(tid('login-token'), token);
  await page.click(tid('login-submit'));
  await expectNoError(page, tid('exam-screen'), tid('login-error'), 'login refused');
}

/**
 * Runs a browser test: `body({ step, newPage })` drives the pages; `title` names the test in
 * the last line. `newPage(name, { viewport, ignore, warnings })` opens a page in a context
 * of its own (cookies never mix); console errors matching `ignore` are expected noise,
 * console warnings matching `warnings` count as errors. Exits 0 when every step passed,
 * else 1 naming the failing step, with out/`name`-failure.png of every page opened.
 */
export async function run(title, body) {
  const browser = await launch();
  const pages = [];
  const pageErrors = [];
  let stepNo = 0;
  let currentStep = '(start)';
  let exitCode = 0;

  async function step(name, fn) {
    stepNo += 1;
    currentStep = `${stepNo}. ${name}`;
    const t0 = Date.now();
    await fn();
    console.log(`ok ${currentStep} (${Date.now() - t0} ms)`);
  }

  async function newPage(name, { viewport = { width: 1366, height: 768 }, ignore = null, warnings = null } = {}) {
    const context = await browser.newContext({ viewport, locale: 'id-ID' });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('pageerror', (err) => pageErrors.push(`${name}: ${String(err && err.stack ? err.stack : err)}`));
    page.on('console', (msg) => {
      const text = msg.text();
      const counts = msg.type() === 'error' ? !(ignore && ignore.test(text)) : msg.type() === 'warning' && !!warnings && warnings.test(text);
      if (counts) pageErrors.push(`${name} console: ${text}`);
    });
    pages.push({ name, page });
    return page;
  }

  try {
    await body({ step, newPage });
    if (pageErrors.length) {
      currentStep = 'page errors';
      throw new Error('the pages reported errors:\n  ' + pageErrors.join('\n  '));
    }
    console.log(`${title}: all ${stepNo} steps passed`);
  } catch (err) {
    exitCode = 1;
    console.error(`FAILED at step ${currentStep}: ${err && err.message ? err.message : err}`);
    if (pageErrors.length) console.error('page errors:\n  ' + pageErrors.join('\n  '));
    for (const { name, page } of pages) {
      try {
        await screenshot(page, `${name}-failure.png`, { fullPage: true });
        console.error(`screenshot: ${path.join(outDir, `${name}-failure.png`)}`);
      } catch { /* the page may be gone */ }
    }
  } finally {
    await browser.close().catch(() => {});
  }
  process.exit(exitCode);
}

/**
 * The WCAG 2.1 A and AA violations axe-core finds on `page` as it is now, one line each
 * (rule, impact, the first few elements). Empty when the page passes.
 */
export async function axeViolations(page) {
  const axePath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules/axe-core/axe.min.js');
  // Evaluated, not added as a <script>: the pages' Content-Security-Policy forbids inline
  // scripts, and the test must not loosen it.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(readFileSync(axePath, 'utf8'));
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.map((v) => `${v.id} (${v.impact}, ${v.nodes.length}×): ${v.help} — ${v.nodes.slice(0, 3).join(', ')}`);
}
