// Headless-browser check of the public scoreboard's results (../board.*): codes, who is
// ranked, the sitting's time left, a phone and a video-stream layout.
//
// Run by a Rust test that owns the server and has set the board up before starting this:
// FINISHED finished (and has a score), DISQUALIFIED was disqualified with a higher score,
// WORKING is still working, ABSENT never started.
//
// Environment:
//   BASE_URL      e.g. http://127.0.0.1:8080 (required)
//   BOARD_PATH    e.g. /board/sitting/T-1 (required)
//   FINISHED, DISQUALIFIED, WORKING, ABSENT   participant numbers (required)
//   QUESTIONS     questions on a paper (required)
//   CHROMIUM, STEP_TIMEOUT as in lib.mjs
//
// Steps (one `ok` line each): only FINISHED is ranked, with the code TL or P; DISQUALIFIED
// shows DIS, listed last; WORKING shows answered/QUESTIONS; ABSENT is neither ranked nor
// red; the time left counts down; in big mode the codes are whole words; at 390 px the
// page does not scroll sideways and rank, participant, total and status are on screen;
// ?layout=stream is one 16:9 frame. Screenshots: out/board-results.png, board-phone.png,
// board-stream.png.

import assert from 'node:assert/strict';
import { env as envOf, run, screenshot, tid } from './lib.mjs';

const env = (n) => envOf('board-results.mjs', n);
const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const BOARD = `${BASE_URL}${env('BOARD_PATH')}`;
const FINISHED = env('FINISHED');
const DISQUALIFIED = env('DISQUALIFIED');
const WORKING = env('WORKING');
const ABSENT = env('ABSENT');
const QUESTIONS = env('QUESTIONS');

const noise = { ignore: /Failed to load resource|EventSource/i, warnings: /board: rank of/ };

async function rowsOf(page) {
  return page.evaluate(() => [...document.querySelectorAll('[data-testid^="board-row-"]')].map((tr) => {
    const no = tr.dataset.testid.slice('board-row-'.length);
    const q = (id) => document.querySelector(`[data-testid="${id}-${CSS.escape(no)}"]`);
    const status = q('board-status');
    const badge = status.querySelector('.pass');
    return {
      no,
      rank: q('board-rank').textContent.trim(),
      code: tr.dataset.code || null,
      badge: badge.textContent.trim(),
      badgeColor: getComputedStyle(badge).backgroundColor,
      status: status.textContent.trim(),
      answered: q('board-answered')?.textContent.trim() ?? null,
      redCells: [...tr.querySelectorAll('td')].filter((td) => td.dataset.below === 'true').length,
    };
  }));
}

async function openBoard(page, url) {
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector(`${tid('board-live')}[data-state="connected"]`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid^="board-row-"]').length === 4);
}

await run('board results', async ({ step, newPage }) => {
  const page = await newPage('board-results', noise);

  await step(`only ${FINISHED} is ranked; ${DISQUALIFIED} shows DIS, last; ${ABSENT} is not red`, async () => {
    await openBoard(page, BOARD);
    const rows = await rowsOf(page);
    assert.deepEqual(rows.map((r) => r.no), [FINISHED, WORKING, ABSENT, DISQUALIFIED], 'the order');
    const by = Object.fromEntries(rows.map((r) => [r.no, r]));
    assert.equal(by[FINISHED].rank, '1', 'the finished candidate is ranked first');
    assert.match(by[FINISHED].code, /^(P|TL)$/, `a finished code: ${by[FINISHED].code}`);
    assert.equal(by[FINISHED].badge, by[FINISHED].code, 'the badge is the code');
    assert.equal(by[DISQUALIFIED].rank, '', 'the disqualified candidate is not ranked');
    assert.equal(by[DISQUALIFIED].badge, 'DIS');
    assert.equal(by[WORKING].rank, '');
    assert.equal(by[WORKING].answered, `1/${QUESTIONS}`, 'progress is answered/total');
    assert.match(by[WORKING].status, /Mengerjakan/);
    assert.equal(by[ABSENT].rank, '', 'a candidate not started is not ranked');
    assert.equal(by[ABSENT].code, null);
    assert.equal(by[ABSENT].redCells, 0, 'nothing of a candidate not started is red');
    assert.equal(by[ABSENT].badgeColor, 'rgba(0, 0, 0, 0)', 'no badge for a candidate not started');
    assert.match(by[ABSENT].status, /Belum mulai/);
  });

  await step('the sitting\'s time left counts down', async () => {
    const read = async () => Number(await page.getAttribute(tid('board-time-left'), 'data-ms'));
    const first = await read();
    assert.ok(first > 0, `time left ${first} ms`);
    const text = (await page.textContent(tid('board-time-left'))).trim();
    assert.match(text, /^(\d+:)?\d{2}:\d{2}$/, `time left "${text}"`);
    await page.waitForFunction((before) => Number(document.querySelector('[data-testid="board-time-left"]').dataset.ms) < before, first);
    await screenshot(page, 'board-results.png', { fullPage: true });
  });

  await step('big mode writes the codes as whole words', async () => {
    await page.click(tid('board-big-toggle'));
    await page.waitForFunction(() => document.documentElement.classList.contains('big'));
    const by = Object.fromEntries((await rowsOf(page)).map((r) => [r.no, r]));
    assert.equal(by[DISQUALIFIED].badge, 'Didiskualifikasi');
    const word = { P: 'Lolos ambang batas', TL: 'Tidak lolos' }[by[FINISHED].code];
    assert.equal(by[FINISHED].badge, word, `the code ${by[FINISHED].code} in words`);
  });

  await step('a phone (390 px): no sideways scroll; rank, participant, total and status on screen', async () => {
    const phone = await newPage('board-phone', { ...noise, viewport: { width: 390, height: 844 } });
    await openBoard(phone, BOARD);
    const fit = await phone.evaluate((no) => {
      const box = (id) => document.querySelector(`[data-testid="${id}-${CSS.escape(no)}"]`).getBoundingClientRect();
      const cells = ['board-rank', 'board-row', 'board-total', 'board-status'].map((id) => {
        const r = id === 'board-row' ? document.querySelector(`[data-testid="board-row-${CSS.escape(no)}"] th`).getBoundingClientRect() : box(id);
        return { id, left: r.left, right: r.right, width: r.width };
      });
      return { scrollWidth: document.documentElement.scrollWidth, width: innerWidth, cells };
    }, FINISHED);
    assert.ok(fit.scrollWidth <= fit.width, `the page is ${fit.scrollWidth} px wide in a ${fit.width} px window`);
    for (const c of fit.cells) {
      assert.ok(c.width > 0 && c.left >= 0 && c.right <= fit.width, `${c.id} is on screen: ${JSON.stringify(c)}`);
    }
    await screenshot(phone, 'board-phone.png', { fullPage: true });
  });

  await step('?layout=stream is one 16:9 frame that does not scroll', async () => {
    const stream = await newPage('board-stream', { ...noise, viewport: { width: 1600, height: 1000 } });
    await openBoard(stream, `${BOARD}?layout=stream`);
    const frame = await stream.evaluate(() => {
      const r = document.body.getBoundingClientRect();
      return { w: r.width, h: r.height, scroll: document.documentElement.scrollHeight > innerHeight + 1 };
    });
    assert.ok(Math.abs(frame.w / frame.h - 16 / 9) < 0.02, `the frame is ${frame.w}x${frame.h}`);
    assert.equal(frame.scroll, false, 'the stream frame does not scroll');
    await screenshot(stream, 'board-stream.png');
  });
});
