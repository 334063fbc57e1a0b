// Headless-browser test of the supervisor console for a big room (../console.*).
//
// Run by a Rust test that owns the server, with a sitting of ROOM candidates (200), some
// of them not checked in. Drives Debian's chromium through playwright-core at 1366x768.
//
// Environment:
//   BASE_URL        e.g. http://127.0.0.1:8080 (required)
//   STAFF_USER      supervisor (or admin) username (required)
//   STAFF_PASSWORD  its password (required)
//   SITTING         sitting id, e.g. T-1 (required; supervised by STAFF_USER)
//   ROOM            how many candidates SITTING has (required)
//   NAMED           how many of them (P-0001 up) this script checks in with a PC name (required)
//   CHROMIUM        browser binary (default /usr/bin/chromium)
//   STEP_TIMEOUT    ms to wait for each step (default 15000)
//
// Steps (one `ok` line each): the supervisor logs in and checks NAMED candidates in through
// the API with PC names in reverse order (P-0001 sits at the last PC); the big room opens in
// the table, the page at most two screens tall; every seat action is in each row; sorting
// by participant and by PC orders the rows, pressing again reverses; the map lays the
// named PCs out in their natural order with the unnamed seats in a tail row (a seat named
// while the map is open moves to its place), and a tile opens its row in the table; a
// bulk check-in of ticked and scanned numbers refuses a list with wrong numbers, naming
// each, then checks the rest in; the view is remembered after a reload; axe-core finds no
// WCAG 2.1 A/AA violation on the login, the sitting list, the table, the map, the cards
// and the bulk check-in dialog. Screenshots out/console-table.png, console-map.png.

import assert from 'node:assert/strict';
import { axeViolations, env as envOf, expectNoError, run, screenshot, tid } from './lib.mjs';

const env = (n) => envOf('console-room.mjs', n);

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const STAFF_USER = env('STAFF_USER');
const STAFF_PASSWORD = env('STAFF_PASSWORD');
const SITTING = env('SITTING');
const ROOM = Number(env('ROOM'));
const NAMED = Number(env('NAMED'));
const SCREEN = { width: 1366, height: 768 };
const ACTIONS = ['checkin', 'allow-move', 'pause', 'resume', 'extend', 'unlock', 'terminate'];

const noise = { ignore: /Failed to load resource|WebSocket connection to .* failed|\b401\b/i };
const pno = (i) => `P-${String(i).padStart(4, '0')}`;
const pcOf = (i) => `PC-${NAMED + 1 - i}`;

let sup;

// The participant numbers of the seats in page order (visible ones).
const order = () => sup.$$eval('#seat-grid > .seat:not([hidden])', (els) => els.map((e) => e.dataset.participant));

async function expectNoViolations(where) {
  const found = await axeViolations(sup);
  assert.deepEqual(found, [], `axe-core on the console (${where}):\n  ${found.join('\n  ')}`);
}

await run('supervisor console for a big room', async ({ step, newPage }) => {
  sup = await newPage('console-room', { ...noise, viewport: SCREEN });

  await step(`the supervisor logs in and checks ${NAMED} of ${ROOM} candidates in with PC names`, async () => {
    await sup.goto(`${BASE_URL}/console`, { waitUntil: 'domcontentloaded' });
    await sup.evaluate(() => localStorage.clear());
    await sup.waitForSelector(tid('staff-login-form'), { state: 'visible' });
    await expectNoViolations('login');
    await sup.fill(tid('staff-username'), STAFF_USER);
    await sup.fill(tid('staff-password'), STAFF_PASSWORD);
    await sup.click(tid('staff-login-submit'));
    await expectNoError(sup, tid(`sitting-link-${SITTING}`), tid('staff-login-error'), 'staff login refused');
    await expectNoViolations('sitting list');
    const refused = await sup.evaluate(async ({ sitting, named }) => {
      const bad = [];
      for (let i = 1; i <= named; i++) {
        const no = `P-${String(i).padStart(4, '0')}`;
        const res = await fetch(`/api/v1/sessions/${sitting}.${no}/checkin`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ reason: 'Check-in uji otomatis', seat: `PC-${named + 1 - i}` }),
        });
        if (!res.ok) bad.push(`${no}: ${res.status} ${await res.text()}`);
      }
      return bad;
    }, { sitting: SITTING, named: NAMED });
    assert.deepEqual(refused, [], 'every check-in is accepted');
  });

  await step(`${SITTING} with ${ROOM} seats opens in the table, at most two screens tall`, async () => {
    await sup.click(tid(`sitting-link-${SITTING}`));
    await sup.waitForSelector(`${tid('monitor-status')}[data-state="connected"]`);
    await sup.waitForFunction((n) => document.querySelectorAll('#seat-grid > .seat').length === n, ROOM);
    assert.equal(await sup.getAttribute(tid('seats-grid'), 'data-view'), 'table', 'a big room starts in the table');
    assert.equal(await sup.getAttribute(tid('view-table'), 'aria-pressed'), 'true');
    const tall = await sup.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(tall <= 2 * SCREEN.height, `the page is ${tall} px tall, more than two screens`);
    // Every action a card offers is in the row, with its reason prompt.
    for (const a of ACTIONS) assert.ok(await sup.isVisible(tid(`seat-action-${a}-${pno(ROOM)}`)), `${a} is in the row`);
    await sup.click(tid(`seat-action-extend-${pno(2)}`));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'visible' });
    assert.match(await sup.textContent(tid('reason-target')), new RegExp(pno(2)));
    await sup.click(tid('reason-cancel'));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'hidden' });
    const first = await sup.$eval(`${tid(`seat-${pno(1)}`)}`, (e) => e.getBoundingClientRect().height);
    assert.ok(first <= 48, `a row is ${first} px tall`);
    console.log(`   page ${tall} px, a row ${first} px`);
    await screenshot(sup, 'console-table.png');
  });

  await step('sorting by participant and by PC orders the rows; pressing again reverses', async () => {
    let got = await order();
    assert.deepEqual(got.slice(0, 3), [pno(1), pno(2), pno(3)], 'by participant at first');
    await sup.click(tid('sort-participant'));
    got = await order();
    assert.deepEqual(got.slice(0, 2), [pno(ROOM), pno(ROOM - 1)], 'by participant, descending');
    await sup.click(tid('sort-seat'));
    got = await order();
    // PC-1, PC-2, ... PC-10 in natural order: PC-1 is the last candidate checked in.
    assert.deepEqual(got.slice(0, 3), [pno(NAMED), pno(NAMED - 1), pno(NAMED - 2)], 'by PC, natural order');
    assert.equal(got[9], pno(NAMED - 9), 'PC-10 after PC-9');
    assert.equal(got[NAMED], pno(NAMED + 1), 'the unnamed seats after the named ones');
    await sup.click(tid('sort-seat'));
    got = await order();
    assert.equal(got[0], pno(NAMED + 1), 'descending: the unnamed seats first');
    await sup.click(tid('sort-status'));
    await sup.click(tid('sort-remaining'));
    await sup.click(tid('sort-progress'));
    await sup.click(tid('sort-attention'));
    assert.equal((await order()).length, ROOM, 'every sort keeps every seat');
    await expectNoViolations('table');
  });

  await step('the map lays out the named PCs in order, the unnamed in a tail row; a tile opens its row', async () => {
    await sup.click(tid('view-map'));
    assert.equal(await sup.getAttribute(tid('seats-grid'), 'data-view'), 'map');
    const got = await order();
    assert.deepEqual(got.slice(0, 2), [pno(NAMED), pno(NAMED - 1)], 'PC-1 first');
    const tail = await sup.$eval(tid('map-unnamed'), (e) => e.nextElementSibling.dataset.participant);
    assert.equal(tail, pno(NAMED + 1), 'the tail row starts with the first unnamed seat');
    const below = await sup.evaluate(({ last, unnamed }) => {
      const a = document.querySelector(`[data-participant="${last}"]`).getBoundingClientRect();
      const b = document.querySelector(`[data-participant="${unnamed}"]`).getBoundingClientRect();
      return b.top > a.bottom;
    }, { last: pno(1), unnamed: pno(NAMED + 1) });
    assert.ok(below, 'the unnamed seats start a row of their own');
    const tall = await sup.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(tall <= 2 * SCREEN.height, `the page is ${tall} px tall, more than two screens`);
    await screenshot(sup, 'console-map.png');
    // A seat checked in at PC-0 while the map is open moves to the front.
    const moved = pno(NAMED + 10);
    const status = await sup.evaluate(async ({ sitting, no }) => (await fetch(`/api/v1/sessions/${sitting}.${no}/checkin`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ reason: 'Pindah ke PC-0 (uji otomatis)', seat: 'PC-0' }),
    })).status, { sitting: SITTING, no: moved });
    assert.equal(status, 200);
    await sup.waitForFunction((no) => document.querySelector('#seat-grid > .seat')?.dataset.participant === no, moved);
    await expectNoViolations('map');
    await sup.click(tid(`seat-open-${pno(5)}`));
    assert.equal(await sup.getAttribute(tid('seats-grid'), 'data-view'), 'table', 'the tile opens the table');
    await sup.waitForFunction((no) => document.activeElement?.dataset.participant === no, pno(5));
  });

  await step('bulk check-in: ticked seats and a scanned list; a wrong number names itself and checks in nobody', async () => {
    await sup.click(tid('sort-participant'));
    if ((await order())[0] !== pno(1)) await sup.click(tid('sort-participant'));
    await sup.check(tid(`seat-pick-${pno(NAMED + 1)}`));
    await sup.check(tid(`seat-pick-${pno(NAMED + 2)}`));
    await sup.click(tid('action-bulk-checkin'));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'visible' });
    assert.equal(await sup.inputValue(tid('reason-list')), `${pno(NAMED + 1)}\n${pno(NAMED + 2)}\n`, 'the ticked seats are listed');
    await expectNoViolations('bulk check-in dialog');
    await sup.fill(tid('reason-list'), `${pno(NAMED + 1)}\n${pno(NAMED + 2)}\nP-9999\n${pno(NAMED + 3)}\nZZ-1\n`);
    await sup.fill(tid('reason-input'), 'Absen di pintu (uji otomatis)');
    await sup.click(tid('reason-confirm'));
    await sup.waitForSelector(tid('reason-error'), { state: 'visible' });
    const error = await sup.textContent(tid('reason-error'));
    assert.ok(error.includes('P-9999') && error.includes('ZZ-1'), `every wrong number is named: ${error}`);
    assert.equal(await sup.getAttribute(`${tid(`seat-${pno(NAMED + 3)}`)} .checkin`, 'data-checked'), 'false', 'nobody checked in');
    await sup.fill(tid('reason-list'), `${pno(NAMED + 1)}\n${pno(NAMED + 2)}\n${pno(NAMED + 3)}\n`);
    await sup.click(tid('reason-confirm'));
    await sup.waitForSelector(tid('reason-dialog'), { state: 'hidden' });
    for (const i of [1, 2, 3]) {
      await sup.waitForSelector(`${tid(`seat-${pno(NAMED + i)}`)} .checkin[data-checked="true"]`);
    }
    assert.equal(await sup.isChecked(tid(`seat-pick-${pno(NAMED + 1)}`)), false, 'the ticks are cleared');
  });

  await step('the chosen view is remembered after a reload; the cards pass axe-core too', async () => {
    await sup.click(tid('view-map'));
    await sup.reload({ waitUntil: 'domcontentloaded' });
    await sup.waitForFunction((n) => document.querySelectorAll('#seat-grid > .seat').length === n, ROOM);
    assert.equal(await sup.getAttribute(tid('seats-grid'), 'data-view'), 'map', 'the map again after a reload');
    await sup.click(tid('view-cards'));
    assert.equal(await sup.getAttribute(tid('seats-grid'), 'data-view'), 'cards');
    await expectNoViolations('cards');
  });
});
