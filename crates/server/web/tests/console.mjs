// Headless-browser test of the supervisor console (../console.*) together with the
// candidate page (../candidate.*).
//
// Run by a Rust test that owns the server (like board.mjs). Two browser contexts, so the
// candidate's and the supervisor's cookies never mix: A is the candidate, B the supervisor.
// Drives Debian's chromium through playwright-core, like candidate.mjs.
//
// Environment:
//   BASE_URL        e.g. http://127.0.0.1:8080 (required)
//   STAFF_USER      supervisor (or admin) username (required)
//   STAFF_PASSWORD  its password (required)
//   SITTING         sitting id, e.g. T-1 (required; open, and supervised by STAFF_USER)
//   PARTICIPANT     participant number in SITTING, e.g. P-0001 (required)
//   PIN             the participant's PIN (required)
//   TOKEN           the sitting token (required)
//   CHROMIUM        browser binary (default /usr/bin/chromium)
//   STEP_TIMEOUT    ms to wait for each step (default 15000)
//
// Steps (one `ok` line each): A logs in and sees question 1; B logs in, opens SITTING and
// sees PARTICIPANT connected; B pauses the room (the confirm button stays disabled until a
// reason is typed) and the sitting shows paused; A shows the paused overlay; B resumes and
// the overlay goes; B extends PARTICIPANT by 5 minutes and the event log shows it while the
// remaining time grows on both pages; B opens the close dialog, which warns how many
// candidates are still working, and cancels; B disqualifies PARTICIPANT and the seat reads
// "Didiskualifikasi"; screenshots out/console.png and
// console-candidate.png. Exit 0 when every step passed; otherwise 1 with the failing step
// and out/console-failure.png (and console-candidate-failure.png).

import assert from 'node:assert/strict';
import { candidateLogin, env as envOf, expectNoError, run, screenshot, tid } from './lib.mjs';

const env = (n) => envOf('console.mjs', n);

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const STAFF_USER = env('STAFF_USER');
const STAFF_PASSWORD = env('STAFF_PASSWORD');
const SITTING = env('SITTING');
const PARTICIPANT = env('PARTICIPANT');
const PIN = env('PIN');
const TOKEN = env('TOKEN');
const EXTEND_MINUTES = 5;

const seat = (suffix) => tid(`${suffix}${PARTICIPANT}`);

// Expected noise: the 401 of "who am I?" before login, a socket refused during a reconnect.
const noise = { ignore: /Failed to load resource|WebSocket connection to .* failed|\b401\b/i };

let cand; // page A
let sup; // page B

// The candidate's countdown (HH:MM:SS) in seconds, or null.
async function candidateSeconds() {
  const text = (await cand.textContent(tid('countdown')).catch(() => '')) || '';
  const m = /^(\d+):(\d{2}):(\d{2})$/.exec(text.trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

// Opens the reason dialog with `opener`, checks that the confirm button is disabled until a
// reason of at least 3 characters is typed (after `fill` has filled any other field), then
// confirms and waits for the dialog to close without an error.
async function confirmWithReason(opener, reason, fill) {
  await sup.click(opener);
  await sup.waitForSelector(tid('reason-dialog'), { state: 'visible' });
  if (fill) await fill();
  assert.equal(await sup.isDisabled(tid('reason-confirm')), true, 'the confirm button is disabled without a reason');
  await sup.fill(tid('reason-input'), 'ab');
  assert.equal(await sup.isDisabled(tid('reason-confirm')), true, 'the confirm button is disabled with a 2-character reason');
  await sup.fill(tid('reason-input'), reason);
  await sup.waitForSelector(`${tid('reason-confirm')}:not([disabled])`);
  await sup.click(tid('reason-confirm'));
  // The dialog closes, or its error shows: then the server refused.
  const outcome = await Promise.race([
    sup.waitForSelector(tid('reason-dialog'), { state: 'hidden' }).then(() => 'closed'),
    sup.waitForSelector(tid('reason-error'), { state: 'visible' }).then(() => 'error'),
  ]);
  if (outcome === 'error') throw new Error(`the server refused: ${(await sup.textContent(tid('reason-error'))).trim()}`);
}

await run('supervisor console', async ({ step, newPage }) => {
  // ---------------------------------------------------------------- A: candidate
  cand = await newPage('console-candidate', noise);

  await step(`A: candidate ${PARTICIPANT} logs in and sees question 1`, async () => {
    await cand.goto(`${BASE_URL}/`, { waitUntil: 'domcontentloaded' });
    await candidateLogin(cand, PARTICIPANT, PIN, TOKEN);
    await cand.waitForSelector(`${tid('question')}[data-index="0"][data-loaded="true"]`, { state: 'visible' });
    assert.equal(await cand.isVisible(tid('paused-overlay')), false, 'the exam is not paused at the start');
  });

  // ---------------------------------------------------------------- B: supervisor
  sup = await newPage('console', noise);

  await step(`B: supervisor ${STAFF_USER} logs in, opens ${SITTING} and sees ${PARTICIPANT} connected`, async () => {
    await sup.goto(`${BASE_URL}/console`, { waitUntil: 'domcontentloaded' });
    await sup.waitForSelector(tid('staff-login-form'), { state: 'visible' });
    assert.equal(await sup.getAttribute(tid('staff-password'), 'type'), 'password', 'the password field is a password field');
    await sup.fill(tid('staff-username'), STAFF_USER);
    await sup.fill(tid('staff-password'), STAFF_PASSWORD);
    await sup.click(tid('staff-login-submit'));
    await expectNoError(sup, tid(`sitting-link-${SITTING}`), tid('staff-login-error'), 'staff login refused');
    assert.ok(await sup.isVisible(tid('sitting-list')), 'the sitting list is shown');
    await sup.click(tid(`sitting-link-${SITTING}`));
    await sup.waitForFunction(
      (id) => (document.querySelector('[data-testid="sitting-title"]')?.textContent || '').includes(id),
      SITTING,
    );
    assert.match(new URL(sup.url()).pathname, new RegExp(`^/console/${SITTING.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), 'the address names the sitting');
    await sup.waitForSelector(`${tid('monitor-status')}[data-state="connected"]`);
    try {
      await sup.waitForSelector(`${seat('seat-')}[data-connected="true"]`);
    } catch {
      const got = await sup.getAttribute(seat('seat-'), 'data-connected').catch(() => '(no card)');
      throw new Error(`seat ${PARTICIPANT} should show connected, data-connected is ${got}`);
    }
    const status = await sup.getAttribute(tid('sitting-status'), 'data-status');
    assert.equal(status, 'open', 'the sitting is open');
    const progress = (await sup.textContent(seat('seat-progress-'))).trim();
    assert.match(progress, /^\d+\/\d+$/, `progress "${progress}" is answered/total`);
    const remaining = (await sup.textContent(seat('seat-remaining-'))).trim();
    assert.match(remaining, /^\d{2,}:\d{2}$/, `remaining "${remaining}" is mm:ss`);
    console.log(`   ${PARTICIPANT}: ${progress} answered, ${remaining} left`);
  });

  await step('B: "Jeda semua" needs a reason; after confirming, the sitting is paused', async () => {
    // Cancel first: nothing happens.
    await sup.click(tid('action-pause-all'));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'visible' });
    assert.equal(await sup.isDisabled(tid('reason-confirm')), true, 'the confirm button is disabled without a reason');
    await sup.click(tid('reason-cancel'));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'hidden' });
    assert.equal(await sup.getAttribute(tid('sitting-status'), 'data-status'), 'open', 'cancel changes nothing');

    await confirmWithReason(tid('action-pause-all'), 'Listrik padam (uji otomatis)');
    await sup.waitForSelector(`${tid('sitting-status')}[data-status="paused"]`);
    await sup.waitForSelector(`${seat('seat-')}[data-status="paused"]`);
  });

  await step('A: the candidate page shows the paused overlay', async () => {
    await cand.waitForSelector(tid('paused-overlay'), { state: 'visible' });
  });

  await step('B: "Lanjutkan semua" with a reason; A: the overlay goes away', async () => {
    await confirmWithReason(tid('action-resume-all'), 'Listrik kembali normal (uji otomatis)');
    await sup.waitForSelector(`${tid('sitting-status')}[data-status="open"]`);
    await cand.waitForSelector(tid('paused-overlay'), { state: 'hidden' });
    await sup.waitForSelector(`${seat('seat-')}[data-status="active"]`);
  });

  await step(`B: extend ${PARTICIPANT} by ${EXTEND_MINUTES} minutes; the event log shows it and the time grows`, async () => {
    // Seat data arrives every second: take the newest server value as the baseline.
    const before = Number(await sup.getAttribute(seat('seat-remaining-'), 'data-remaining-ms'));
    assert.ok(before > 0, `remaining time before is positive (${before} ms)`);
    const candBefore = await candidateSeconds();
    await confirmWithReason(seat('seat-action-extend-'), 'Pengganti waktu gangguan listrik (uji otomatis)', async () => {
      await sup.fill(tid('reason-minutes'), String(EXTEND_MINUTES));
    });
    const entry = `${tid('event-log')} li[data-kind="extended"][data-participant="${PARTICIPANT}"]`;
    await sup.waitForSelector(entry);
    const text = (await sup.textContent(entry)).trim();
    assert.ok(text.includes(PARTICIPANT), `the log entry "${text}" names ${PARTICIPANT}`);
    // At least 4 of the 5 minutes show up (the clock keeps running meanwhile).
    try {
      await sup.waitForFunction(
        ([sel, min]) => Number(document.querySelector(sel)?.dataset.remainingMs) > min,
        [seat('seat-remaining-'), before + (EXTEND_MINUTES - 1) * 60000],
      );
    } catch {
      const after = await sup.getAttribute(seat('seat-remaining-'), 'data-remaining-ms');
      throw new Error(`remaining time did not grow by the extension: ${before} ms before, ${after} ms after`);
    }
    if (candBefore != null) {
      await cand.waitForFunction(
        (min) => {
          const m = /^(\d+):(\d{2}):(\d{2})$/.exec((document.querySelector('[data-testid="countdown"]')?.textContent || '').trim());
          return !!m && Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) > min;
        },
        candBefore + (EXTEND_MINUTES - 1) * 60,
      );
    }
    const after = Number(await sup.getAttribute(seat('seat-remaining-'), 'data-remaining-ms'));
    console.log(`   remaining ${Math.round(before / 1000)} s -> ${Math.round(after / 1000)} s; candidate ${candBefore} s -> ${await candidateSeconds()} s`);
  });

  await step(`A answers three questions in quick succession; B's log shows one irregularity line for ${PARTICIPANT}, updated in place`, async () => {
    const entries = `${tid('event-log')} li[data-kind="irregularity"][data-participant="${PARTICIPANT}"]`;
    for (const [i, label] of [[0, 'B'], [1, 'C'], [2, 'A']]) {
      await cand.click(tid(`nav-q-${i + 1}`));
      await cand.waitForSelector(`${tid('question')}[data-index="${i}"][data-loaded="true"]`, { state: 'visible' });
      await cand.click(tid(`option-${label}`));
    }
    // The second and third answers came sooner after the one before than the server's limit.
    await sup.waitForFunction(
      (sel) => /^\s*2 dari 3 jawaban/.test(document.querySelector(`${sel} [data-testid], ${sel} .event-detail`)?.textContent || ''),
      entries,
    ).catch(async () => {
      const got = await sup.locator(entries).allTextContents();
      throw new Error(`expected one irregularity line counting 2 of 3 fast answers, got ${JSON.stringify(got)}`);
    });
    assert.equal(await sup.locator(entries).count(), 1, 'one line per candidate, not one per answer');
  });

  await step('B: the close dialog warns that 1 candidate is still working; B cancels', async () => {
    await sup.click(tid('action-close'));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'visible' });
    await sup.waitForSelector(tid('reason-warning'), { state: 'visible' });
    const warning = (await sup.textContent(tid('reason-warning'))).trim();
    assert.match(warning, /^1 (peserta|candidates) /, `the warning "${warning}" counts the one candidate working`);
    await sup.click(tid('reason-cancel'));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'hidden' });
  });

  await step(`B: disqualifies ${PARTICIPANT}; the seat reads "Didiskualifikasi", not a normal finish`, async () => {
    await sup.click(seat('seat-action-terminate-'));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'visible' });
    await sup.fill(tid('reason-input'), 'Membawa catatan (uji otomatis)');
    // A disqualification asks twice: the first press shows the warning.
    await sup.click(tid('reason-confirm'));
    await sup.waitForSelector(tid('reason-warning'), { state: 'visible' });
    await sup.click(tid('reason-confirm'));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'hidden' });
    await sup.waitForSelector(`${seat('seat-')}[data-status="finished"][data-reason="terminated"]`);
    const label = (await sup.textContent(seat('seat-status-'))).trim();
    assert.equal(label, 'Didiskualifikasi', `the seat status "${label}" names the disqualification`);
  });

  await step('screenshots: out/console.png and console-candidate.png', async () => {
    await sup.waitForTimeout(300); // let toasts and focus settle
    await screenshot(sup, 'console.png', { fullPage: true });
    await screenshot(cand, 'console-candidate.png', { fullPage: true });
  });
});
