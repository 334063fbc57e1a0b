// Headless-browser test of the candidate exam page (../candidate.*).
//
// Drives Debian's chromium through playwright-core against a running ujian server:
// log in, answer with mouse and keyboard, flag, reload (the cookie resumes the session),
// check the answers survived, finish, check the score screen, and log out (the login ends
// on the server: its cookie, put back, opens nothing).
//
// Environment:
//   BASE_URL      e.g. http://127.0.0.1:8080 (required)
//   PARTICIPANT   participant number (required)
//   PIN           the participant's PIN (required)
//   TOKEN         the sitting token (required)
//   EXPECT_TOTAL  number of questions in the paper (required, >= 3)
//   CHROMIUM      browser binary (default /usr/bin/chromium)
//   STEP_TIMEOUT  ms to wait for each step (default 15000)
//
// Exit code 0 when every step passed; otherwise 1 with the failing step and a screenshot in
// out/candidate-failure.png. The final screen is saved to out/score.png.

import assert from 'node:assert/strict';
import { candidateLogin, env as envOf, run, screenshot, tid, usage } from './lib.mjs';

const env = (n) => envOf('candidate.mjs', n);

const BASE_URL = env('BASE_URL');
const PARTICIPANT = env('PARTICIPANT');
const PIN = env('PIN');
const TOKEN = env('TOKEN');
const EXPECT_TOTAL = Number(env('EXPECT_TOTAL'));
if (!Number.isInteger(EXPECT_TOTAL) || EXPECT_TOTAL < 3) usage('candidate.mjs', 'EXPECT_TOTAL must be an integer >= 3');

await run('candidate page', async ({ step, newPage }) => {
  // Expected noise: a socket refused before login, the 401 of a login that has ended.
  const page = await newPage('candidate', { ignore: /WebSocket connection to .* failed|401/i });

  // Wait until the question card shows question `index` (0-based), fully loaded.
  async function waitQuestion(index) {
    await page.waitForSelector(`${tid('question')}[data-index="${index}"][data-loaded="true"]`, { state: 'visible' });
    const text = await page.textContent(tid('question-number'));
    assert.match(text, new RegExp(`\\b${index + 1}\\b.*\\b${EXPECT_TOTAL}\\b`), `question header "${text}" should name question ${index + 1} of ${EXPECT_TOTAL}`);
  }

  async function expectSelected(label) {
    const opt = page.locator(tid(`option-${label}`));
    await opt.waitFor({ state: 'visible' });
    // Exactly this option is pressed.
    await page.waitForFunction(
      (l) => {
        const opts = [...document.querySelectorAll('[data-testid^="option-"]')];
        return opts.length > 0 && opts.every((o) => (o.getAttribute('aria-pressed') === 'true') === (o.dataset.label === l));
      },
      label,
    );
  }

  async function expectFlag(flagged) {
    await page.waitForSelector(`${tid('flag-toggle')}[aria-pressed="${flagged}"]`);
  }

  async function expectNavState(n, state) {
    const sel = `${tid(`nav-q-${n}`)}`;
    try {
      await page.waitForSelector(`${sel}[data-state="${state}"]`, { timeout: 5000 });
    } catch {
      const got = await page.getAttribute(sel, 'data-state').catch(() => '(missing)');
      throw new Error(`nav grid: question ${n} should be "${state}", is "${got}"`);
    }
  }

  async function waitSaved() {
    await page.waitForSelector(`${tid('save-status')}[data-pending="0"]`);
  }

  await step(`open ${BASE_URL} and see the login form`, async () => {
    await page.goto(BASE_URL, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(tid('login-form'), { state: 'visible' });
  });

  await step('log in with participant number, PIN and token', async () => {
    await candidateLogin(page, PARTICIPANT, PIN, TOKEN);
  });

  await step('question 1 is shown', async () => {
    await waitQuestion(0);
    const stem = (await page.textContent(tid('question-stem'))).trim();
    assert.ok(stem.length > 0, 'question 1 has a stem');
    const navCount = await page.locator('[data-testid^="nav-q-"]').count();
    assert.equal(navCount, EXPECT_TOTAL, `nav grid has ${EXPECT_TOTAL} questions`);
  });

  await step('answer question 1 with option B (mouse)', async () => {
    await page.click(tid('option-B'));
    await expectSelected('B');
  });

  await step('go to question 2 with the nav grid, answer A, flag ragu-ragu', async () => {
    await page.click(tid('nav-q-2'));
    await waitQuestion(1);
    await page.click(tid('option-A'));
    await expectSelected('A');
    await page.click(tid('flag-toggle'));
    await expectFlag(true);
  });

  await step('go to question 3 with ArrowRight and choose C with the keyboard', async () => {
    await page.keyboard.press('ArrowRight');
    await waitQuestion(2);
    await page.keyboard.press('C');
    await expectSelected('C');
  });

  await step('nav grid: q1 and q3 answered, q2 doubtful, the rest unanswered', async () => {
    await expectNavState(1, 'answered');
    await expectNavState(2, 'doubtful');
    await expectNavState(3, 'answered');
    for (let n = 4; n <= EXPECT_TOTAL; n++) await expectNavState(n, 'unanswered');
    await waitSaved();
  });

  await step('reload: the cookie resumes the session without logging in', async () => {
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector(tid('exam-screen'), { state: 'visible' });
    assert.equal(await page.isVisible(tid('login-form')), false, 'no login form after reload');
    await expectNavState(1, 'answered');
    await expectNavState(2, 'doubtful');
    await expectNavState(3, 'answered');
  });

  await step('after reload: q1 → B, q2 → A and flagged, q3 → C', async () => {
    await page.click(tid('nav-q-1'));
    await waitQuestion(0);
    await expectSelected('B');
    await expectFlag(false);
    await page.click(tid('nav-q-2'));
    await waitQuestion(1);
    await expectSelected('A');
    await expectFlag(true);
    await page.click(tid('nav-q-3'));
    await waitQuestion(2);
    await expectSelected('C');
    await expectFlag(false);
  });

  await step('the countdown shows a running time', async () => {
    const first = (await page.textContent(tid('countdown'))).trim();
    assert.match(first, /^\d{2}:\d{2}:\d{2}$/, `countdown "${first}" is HH:MM:SS`);
    assert.notEqual(first, '00:00:00', 'countdown is not at zero');
    await page.waitForFunction(
      (before) => document.querySelector('[data-testid="countdown"]').textContent.trim() !== before,
      first,
      { timeout: 3000 },
    );
  });

  await step(`finish: the confirmation lists ${EXPECT_TOTAL - 3} unanswered and 1 flagged`, async () => {
    await page.click(tid('finish-button'));
    await page.waitForSelector(tid('confirm-dialog'), { state: 'visible' });
    const unanswered = await page.getAttribute(tid('confirm-unanswered'), 'data-count');
    assert.equal(Number(unanswered), EXPECT_TOTAL - 3, 'unanswered count in the confirmation');
    assert.equal((await page.textContent(tid('confirm-unanswered'))).trim(), String(EXPECT_TOTAL - 3));
    const flagged = await page.getAttribute(tid('confirm-flagged'), 'data-count');
    assert.equal(Number(flagged), 1, 'flagged count in the confirmation');
    const numbers = await page.textContent(tid('confirm-numbers'));
    assert.ok(numbers.includes(String(EXPECT_TOTAL)), `unanswered list "${numbers}" names question ${EXPECT_TOTAL}`);
    await page.click(tid('confirm-ok'));
  });

  await step('the score screen shows a total and per-section scores', async () => {
    await page.waitForSelector(tid('result-screen'), { state: 'visible' });
    const total = (await page.textContent(tid('result-total'))).trim();
    assert.match(total, /^-?\d+(\.\d+)?$/, `total "${total}" is a number`);
    const rows = page.locator('[data-testid^="result-score-"]');
    const n = await rows.count();
    assert.ok(n >= 1, 'at least one section score');
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = (await rows.nth(i).locator('td').first().textContent()).trim();
      assert.match(v, /^-?\d+(\.\d+)?$/, `section score "${v}" is a number`);
      sum += Number(v);
    }
    assert.equal(sum, Number(total), 'section scores add up to the total');
    const passed = (await page.textContent(tid('result-passed'))).trim();
    assert.ok(passed.length > 0, 'pass / not-pass is shown');
    const receipt = (await page.textContent(tid('result-receipt'))).trim();
    assert.ok(receipt.length > 0, 'receipt code is shown');
    const reason = await page.getAttribute(tid('result-reason'), 'data-reason');
    assert.equal(reason, 'submitted', 'reason is submitted');
    console.log(`   total ${total}, ${n} sections, "${passed}", receipt ${receipt}`);
  });

  await step('each section shows its threshold with ✓ or ✗; the full receipt as text and a QR code', async () => {
    const rows = await page.$$eval('[data-testid^="result-score-"]', (trs) => trs.map((tr) => {
      const td = tr.querySelectorAll('td');
      return { score: Number(td[0].textContent), threshold: Number(td[1].textContent), mark: td[2].textContent.trim(), met: td[2].dataset.met };
    }));
    for (const r of rows) {
      assert.ok(Number.isFinite(r.threshold) && r.threshold > 0, `a threshold: ${JSON.stringify(r)}`);
      const met = r.score >= r.threshold;
      assert.equal(r.met, String(met), `met is score >= threshold: ${JSON.stringify(r)}`);
      assert.match(r.mark, met ? /^✓ Memenuhi$/ : /^✗ Tidak memenuhi$/, JSON.stringify(r));
    }
    const full = (await page.textContent(tid('result-receipt-full'))).trim();
    assert.match(full, /^UJ1\.[\w-]+\.[\w-]+\.[0-9a-f]{8}$/, `the full receipt "${full.slice(0, 40)}…"`);
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="result-qr"]');
      return img && img.complete && img.naturalWidth > 0;
    });
    const alt = await page.getAttribute(tid('result-qr'), 'alt');
    const code = (await page.textContent(tid('result-receipt'))).trim();
    assert.ok(alt.includes(code), `the QR code's alt text "${alt}" names the code ${code}`);
  });

  await step('save a screenshot to out/score.png', async () => {
    await screenshot(page, 'score.png', { fullPage: true });
  });

  await step('the printed slip is the result card alone: out/score-print.png', async () => {
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.isVisible(tid('result-screen')), true, 'the result prints');
    assert.equal(await page.isVisible(tid('print-button')), false, 'no buttons on the slip');
    assert.equal(await page.isVisible(tid('logout-button')), false, 'no buttons on the slip');
    assert.equal(await page.isVisible(tid('result-qr')), true, 'the QR code prints');
    assert.equal(await page.isVisible(tid('result-receipt-full')), true, 'the full receipt prints');
    assert.equal(await page.isVisible('#topbar'), false, 'no page header on the slip');
    await screenshot(page, 'score-print.png', { fullPage: true });
    await page.emulateMedia({ media: 'screen' });
  });

  await step('logout ends the login on the server: the cookie put back opens nothing', async () => {
    const context = page.context();
    const kept = (await context.cookies()).find((c) => c.name === 'ujian_candidate');
    assert.ok(kept, 'the login cookie is set');
    assert.equal(kept.expires, -1, 'the login cookie is a session cookie (gone when the browser closes)');
    await page.click(tid('logout-button'));
    await page.waitForSelector(tid('login-form'), { state: 'visible' });
    // The next person at this PC, with the previous candidate's cookie.
    await context.addCookies([kept]);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector(tid('login-form'), { state: 'visible' });
    assert.equal(await page.isVisible(tid('result-screen')), false, 'the previous result is not shown');
    assert.equal(await page.isVisible(tid('exam-screen')), false, 'the previous exam is not shown');
  });
});
