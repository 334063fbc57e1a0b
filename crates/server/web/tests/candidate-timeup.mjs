// Headless-browser check of the candidate page when time runs out (../candidate.*): the
// "Waktu habis" toast shows while the page waits for the server, and goes when the result
// arrives.
//
// Run by a Rust test that owns the server and its clock: this script logs in, runs the
// page's own clock to the end of the exam (Playwright's clock), sees the toast, prints
// `TIME_UP`; the Rust test then moves the server's clock past the deadline, and the
// server finishes the session and sends the result.
//
// Environment: BASE_URL, PARTICIPANT, PIN, TOKEN (required); CHROMIUM, STEP_TIMEOUT.

import assert from 'node:assert/strict';
import { candidateLogin, env as envOf, run, screenshot, tid } from './lib.mjs';

const env = (n) => envOf('candidate-timeup.mjs', n);
const BASE_URL = env('BASE_URL').replace(/\/+$/, '');

await run('candidate time up', async ({ step, newPage }) => {
  const page = await newPage('candidate-timeup', { ignore: /Failed to load resource|WebSocket/i });
  await page.clock.install();

  await step('log in and see question 1', async () => {
    await page.goto(BASE_URL, { waitUntil: 'domcontentloaded' });
    await candidateLogin(page, env('PARTICIPANT'), env('PIN'), env('TOKEN'));
    await page.waitForSelector(`${tid('question')}[data-index="0"][data-loaded="true"]`, { state: 'visible' });
  });

  await step('the page\'s clock runs out: the "Waktu habis" toast shows', async () => {
    const left = Number(await page.getAttribute(tid('countdown'), 'data-remaining-ms'));
    assert.ok(left > 0, `time left ${left} ms`);
    await page.clock.fastForward(left + 1000);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="toast"]')].some((n) => /Waktu habis/.test(n.textContent)));
    console.log('TIME_UP');
  });

  await step('the result arrives and the toast is gone', async () => {
    await page.waitForSelector(tid('result-screen'), { state: 'visible' });
    const toasts = await page.$$eval('[data-testid="toast"]', (ns) => ns.map((n) => n.textContent));
    assert.deepEqual(toasts.filter((t) => /Waktu habis/.test(t)), [], 'no "Waktu habis" toast over the result');
    assert.equal(await page.getAttribute(tid('result-reason'), 'data-reason'), 'time_up');
    await screenshot(page, 'timeup-result.png', { fullPage: true });
  });
});
