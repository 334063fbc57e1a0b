// Headless-browser check of the candidate page against the server's message limit
// (../candidate.*): changes refused for coming too fast are sent again, and the question
// on screen comes, instead of the page staying at "Menyimpan…" or "Memuat soal…".
//
// Run by a Rust test that owns the server and holds its clock still, so the server's
// burst allowance is all there is: this script answers ANSWERS questions as fast as keys
// go, sees some changes refused, prints `LIMITED`; the Rust test moves the server's clock
// on (the allowance refills), and the page must get everything stored.
//
// Environment: BASE_URL, PARTICIPANT, PIN, TOKEN, ANSWERS (required); CHROMIUM, STEP_TIMEOUT.

import assert from 'node:assert/strict';
import { candidateLogin, env as envOf, run, tid } from './lib.mjs';

const env = (n) => envOf('candidate-ratelimit.mjs', n);
const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const ANSWERS = Number(env('ANSWERS'));

await run('candidate rate limit', async ({ step, newPage }) => {
  // Expected noise: the 401 of the login check before logging in.
  const page = await newPage('candidate-ratelimit', { ignore: /Failed to load resource|WebSocket connection to .* failed|\b401\b/i });

  await step('log in and see question 1', async () => {
    await page.goto(BASE_URL, { waitUntil: 'domcontentloaded' });
    await candidateLogin(page, env('PARTICIPANT'), env('PIN'), env('TOKEN'));
    await page.waitForSelector(`${tid('question')}[data-index="0"][data-loaded="true"]`, { state: 'visible' });
  });

  let answered = 0;
  await step(`answer up to ${ANSWERS} questions as fast as they come: the server refuses some`, async () => {
    const refusals = () => page.evaluate(() => Number(document.querySelector('[data-testid="save-status"]').dataset.refusals || 0));
    for (let i = 0; i < ANSWERS; i++) {
      // The question comes, or the server refuses something (an answer or the question).
      await page.waitForFunction((n) => document.querySelector(`[data-testid="question"][data-index="${n}"][data-loaded="true"]`)
        || Number(document.querySelector('[data-testid="save-status"]').dataset.refusals || 0) > 0, i);
      if (await refusals() > 0) break;
      await page.keyboard.press('A');
      answered += 1;
      await page.keyboard.press('ArrowRight');
    }
    assert.ok(await refusals() > 0, `the server refused nothing in ${answered} answers`);
    console.log(`LIMITED after ${answered} answers`);
  });

  await step('once the server takes them, every answer is stored and the question shows', async () => {
    await page.waitForSelector(`${tid('save-status')}[data-pending="0"]`, { timeout: 30000 });
    await page.waitForSelector(`${tid('question')}[data-index="${answered}"][data-loaded="true"]`, { timeout: 30000 });
    const shown = await page.$$eval('[data-testid^="nav-q-"][data-state="answered"]', (ns) => ns.length);
    assert.equal(shown, answered, 'the nav grid shows every answer stored');
    console.log(`ANSWERED ${answered}`);
  });
});
