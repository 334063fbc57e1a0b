// Headless-browser check of the public scoreboard (../board.*).
//
// Run by a Rust test that owns the server: it waits for the line `READY` on stdout, then
// makes WATCH_PARTICIPANT answer questions correctly and finish (the board shows a score
// at the finish unless the exam's policy shows running ones), and this script waits for the
// board to show it. Drives Debian's chromium through playwright-core, like candidate.mjs.
//
// Environment:
//   BASE_URL           e.g. http://127.0.0.1:8080 (required)
//   BOARD_PATH         e.g. /board/sitting/T-1 (required; /board/venue/NAME?exam=CODE works too)
//   WATCH_PARTICIPANT  participant number that will score, e.g. P-0001 (required)
//   EXPECT_ROWS        number of rows on the board (required)
//   CHROMIUM           browser binary (default /usr/bin/chromium)
//   STEP_TIMEOUT       ms to wait for each step (default 15000)
//   WATCH_TIMEOUT      ms to wait for WATCH_PARTICIPANT to lead after READY (default 20000)
//   COMPARE_TIMEOUT    ms to wait for the page to equal a fresh snapshot (default 20000)
//
// Steps (one `ok` line each): the board shows EXPECT_ROWS rows with competition ranks that
// equal a fresh JSON snapshot; `READY`; the watched participant gets a total > 0 and rank 1;
// the page's order and ranks equal a fresh snapshot again; the index links to the board;
// the big-screen toggle and ?big=1 work. Screenshots: out/board.png and board-big.png
// (1920x1080). Exit 0 when every step passed; otherwise 1 with the failing step and
// out/board-failure.png.

import assert from 'node:assert/strict';
import { env as envOf, run, screenshot, tid, usage } from './lib.mjs';

const env = (n) => envOf('board.mjs', n);

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const BOARD_PATH = env('BOARD_PATH');
const WATCH = env('WATCH_PARTICIPANT');
const EXPECT_ROWS = Number(env('EXPECT_ROWS'));
if (!Number.isInteger(EXPECT_ROWS) || EXPECT_ROWS < 1) usage('board.mjs', 'EXPECT_ROWS must be a positive integer');
const WATCH_TIMEOUT = Number(process.env.WATCH_TIMEOUT || 20000);
const COMPARE_TIMEOUT = Number(process.env.COMPARE_TIMEOUT || 20000);

// /board/{kind}/{id}[?query] -> /api/v1/boards/{kind}/{id}[?exam=...]
const boardUrl = new URL(BOARD_PATH, BASE_URL + '/');
const m = /^\/board\/([^/]+)\/([^/]+)\/?$/.exec(boardUrl.pathname);
if (!m) usage('board.mjs', `BOARD_PATH "${BOARD_PATH}" is not /board/{kind}/{id}`);
const examParam = boardUrl.searchParams.get('exam');
const SNAPSHOT_URL = `${BASE_URL}/api/v1/boards/${m[1]}/${m[2]}${examParam ? `?exam=${encodeURIComponent(examParam)}` : ''}`;
const bigUrl = new URL(boardUrl);
bigUrl.searchParams.set('big', '1');
const BIG_URL = bigUrl.toString();

async function fetchSnapshot() {
  const res = await fetch(SNAPSHOT_URL, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${SNAPSHOT_URL}: HTTP ${res.status}`);
  const snap = await res.json();
  assert.equal(snap.type, 'snapshot', 'the snapshot endpoint answers a snapshot');
  assert.ok(Array.isArray(snap.rows), 'the snapshot has rows');
  return snap;
}

// The board as the page shows it, top to bottom.
async function readBoard(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll('[data-testid="board-table"] tbody tr[data-testid^="board-row-"]')];
    return {
      version: Number(document.querySelector('[data-testid="board-version"]').dataset.version),
      live: document.querySelector('[data-testid="board-live"]').dataset.state,
      rows: rows.map((tr) => {
        const no = tr.dataset.testid.slice('board-row-'.length);
        const cells = {};
        for (const td of tr.querySelectorAll('[data-testid^="board-cell-"]')) {
          cells[td.dataset.section] = { text: td.textContent.trim(), below: td.dataset.below === 'true' };
        }
        return {
          id: tr.dataset.id,
          no,
          rank: tr.dataset.rank == null ? null : Number(tr.dataset.rank),
          total: tr.dataset.total == null ? null : Number(tr.dataset.total),
          rankText: document.querySelector(`[data-testid="board-rank-${CSS.escape(no)}"]`)?.textContent.trim() ?? '',
          totalText: document.querySelector(`[data-testid="board-total-${CSS.escape(no)}"]`)?.textContent.trim() ?? '',
          status: document.querySelector(`[data-testid="board-status-${CSS.escape(no)}"]`)?.textContent.trim() ?? '',
          cells,
        };
      }),
    };
  });
}

// Rows with a score come first, ranked by the competition rule: sorted by (total,
// tie-breaks) descending; equal keys share a rank, the next distinct key gets its
// position + 1. Rows without a score (hidden while running, or not started) follow,
// with no rank, no pass badge and a dash for every score.
function checkRanks(board, exam) {
  const codes = exam.sections.map((s) => s.code);
  const key = (r) => [r.total, ...exam.tie_break.map((c) => Number(r.cells[c]?.text ?? 0))];
  assert.ok(board.rows.length > 0, 'the board has rows');
  const scored = board.rows.filter((r) => r.total != null).length;
  for (let i = 0; i < board.rows.length; i++) {
    const r = board.rows[i];
    if (r.total == null) {
      assert.ok(i >= scored, `row ${r.no} without a score is listed after every row with one`);
      assert.equal(r.rank, null, `row ${r.no} without a score has no rank`);
      assert.equal(r.rankText, '', `row ${r.no}: no rank shown`);
      assert.equal(r.totalText, '–', `row ${r.no}: total shown as a dash`);
      for (const code of codes) assert.equal(r.cells[code]?.text, '–', `row ${r.no} ${code}: a dash, not a score`);
      assert.ok(r.status.length > 0, `row ${r.no}: status is shown`);
      continue;
    }
    assert.match(r.rankText, new RegExp(`^${r.rank}(\\D|$)`), `row ${r.no}: rank cell "${r.rankText}" shows data-rank ${r.rank}`);
    assert.equal(Number(r.totalText), r.total, `row ${r.no}: total cell "${r.totalText}" equals data-total ${r.total}`);
    assert.ok(r.status.length > 0, `row ${r.no}: status is shown`);
    for (const [j, code] of codes.entries()) {
      const cell = r.cells[code];
      assert.ok(cell, `row ${r.no}: a cell for section ${code}`);
      assert.match(cell.text, /^-?\d+$/, `row ${r.no} ${code}: "${cell.text}" is a number`);
      assert.equal(cell.below, Number(cell.text) < exam.sections[j].threshold, `row ${r.no} ${code}: below-threshold mark`);
    }
    const sum = codes.reduce((a, c) => a + Number(r.cells[c].text), 0);
    assert.equal(sum, r.total, `row ${r.no}: sections add up to the total`);
    if (i === 0) {
      assert.equal(r.rank, 1, `the first row (${r.no}) has rank 1`);
      continue;
    }
    const prev = board.rows[i - 1];
    const kp = key(prev);
    const kr = key(r);
    const cmp = kp.findIndex((v, k) => v !== kr[k]);
    if (cmp === -1) {
      assert.equal(r.rank, prev.rank, `rows ${prev.no} and ${r.no} have equal scores and share a rank`);
    } else {
      assert.ok(kp[cmp] > kr[cmp], `row ${prev.no} (${kp}) is above ${r.no} (${kr}) but scores lower`);
      assert.equal(r.rank, i + 1, `row ${r.no} at position ${i + 1} after a better row has rank ${i + 1}, not ${r.rank}`);
    }
  }
}

// The page equals the snapshot: the same ids in the same order with the same ranks and totals.
function diffSnapshot(board, snap) {
  if (board.rows.length !== snap.rows.length) return `page has ${board.rows.length} rows, snapshot ${snap.rows.length}`;
  for (let i = 0; i < snap.rows.length; i++) {
    const p = board.rows[i];
    const s = snap.rows[i];
    if (p.id !== s.id) return `position ${i + 1}: page ${p.id}, snapshot ${s.id}`;
    if (p.rank !== (s.rank ?? null)) return `${s.id}: page rank ${p.rank}, snapshot rank ${s.rank}`;
    if (p.total !== (s.total ?? null)) return `${s.id}: page total ${p.total}, snapshot total ${s.total}`;
  }
  return null;
}

// Scores may still be moving: the feed sends at most 4 frames a second, and a snapshot may
// hold changes the next frame brings. So each snapshot is compared with the page for a
// while (the page reaches it within a frame or two once answers pause), until they agree.
async function expectSameAsSnapshot(page, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let board;
  let snap;
  for (;;) {
    snap = await fetchSnapshot();
    const until = Date.now() + 1500;
    do {
      board = await readBoard(page);
      const diff = diffSnapshot(board, snap);
      if (!diff) return { board, snap };
      last = diff;
      await page.waitForTimeout(100);
    } while (Date.now() < until);
    if (Date.now() > deadline) break;
  }
  throw new Error(`the page does not match a fresh snapshot (snapshot version ${snap.version}, page version ${board.version}): ${last}`);
}

// Expected noise: a feed refused while the board does not exist yet. A rank the page
// computes differently from the server is a warning that fails the test.
const noise = { ignore: /Failed to load resource|EventSource/i, warnings: /board: rank of/ };

await run('board page', async ({ step, newPage }) => {
  const page = await newPage('board', noise);
  let exam;

  await step(`open ${BOARD_PATH} and see ${EXPECT_ROWS} rows`, async () => {
    await page.goto(boardUrl.toString(), { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(tid('board-table'), { state: 'visible' });
    try {
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="board-table"] tbody tr[data-testid^="board-row-"]').length === n,
        EXPECT_ROWS,
      );
    } catch {
      const got = await page.locator('[data-testid^="board-row-"]').count();
      throw new Error(`expected ${EXPECT_ROWS} rows, the board shows ${got}`);
    }
    await page.waitForSelector(`${tid('board-live')}[data-state="connected"]`);
    const title = (await page.textContent(tid('board-title'))).trim();
    assert.ok(title.length > 0, 'the board has a title');
    console.log(`   "${title}", ${EXPECT_ROWS} rows`);
  });

  await step('ranks are 1..n by the competition rule and equal a fresh snapshot', async () => {
    const { board, snap } = await expectSameAsSnapshot(page, 5000);
    exam = snap.board.exam;
    checkRanks(board, exam);
    assert.ok(board.rows.some((r) => r.no === WATCH), `${WATCH} is on the board`);
    const heads = await page.$$eval('[data-testid="board-table"] thead th', (ths) => ths.map((th) => th.textContent.trim()));
    for (const s of exam.sections) {
      assert.ok(heads.some((h) => h.includes(s.code) && h.includes(String(s.threshold))), `a column header names ${s.code} and its threshold ${s.threshold}`);
    }
    console.log(`   version ${board.version}, ranks ${board.rows.map((r) => r.rank).join(',')}`);
  });

  await step('the footer shows the audit chain head the server signed, linked to it', async () => {
    const res = await fetch(`${BASE_URL}/api/v1/audit/head`);
    assert.ok(res.ok, `GET /api/v1/audit/head: HTTP ${res.status}`);
    const head = await res.json();
    const node = page.locator(tid('board-audit-head'));
    await page.waitForFunction((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent.includes('#'), 'board-audit-head');
    const text = await node.textContent();
    assert.ok(text.includes(`#${head.seq} ${head.hash.slice(0, 16)}`), `footer "${text}" names head ${head.seq} ${head.hash}`);
    assert.equal(await node.getAttribute('href'), '/api/v1/audit/head');
  });

  // The Rust test waits for this exact line, then makes WATCH answer.
  console.log('READY');

  await step(`${WATCH} gets a total > 0 and rank 1 (within ${WATCH_TIMEOUT / 1000} s)`, async () => {
    try {
      await page.waitForFunction(
        (no) => {
          const row = document.querySelector(`[data-testid="board-row-${CSS.escape(no)}"]`);
          const total = document.querySelector(`[data-testid="board-total-${CSS.escape(no)}"]`);
          return !!row && !!total && Number(total.textContent.trim()) > 0 && row.dataset.rank === '1';
        },
        WATCH,
        { timeout: WATCH_TIMEOUT },
      );
    } catch {
      const total = await page.textContent(tid(`board-total-${WATCH}`)).catch(() => '(missing)');
      const rank = await page.getAttribute(tid(`board-row-${WATCH}`), 'data-rank').catch(() => '(missing)');
      const live = await page.getAttribute(tid('board-live'), 'data-state').catch(() => '(missing)');
      throw new Error(`${WATCH} did not reach rank 1 with a total > 0: total "${total}", rank ${rank}, feed ${live}`);
    }
    const total = (await page.textContent(tid(`board-total-${WATCH}`))).trim();
    console.log(`   ${WATCH}: total ${total}, rank 1`);
  });

  await step('after the update the order and ranks equal a fresh snapshot', async () => {
    const { board, snap } = await expectSameAsSnapshot(page, COMPARE_TIMEOUT);
    checkRanks(board, exam);
    const watched = board.rows.find((r) => r.no === WATCH);
    assert.ok(watched && watched.rank === 1 && watched.total > 0, `${WATCH} has rank 1 and a total > 0 in the snapshot too`);
    assert.ok(board.version >= 1, 'the page has a version');
    if (snap.board.exam.running !== 'live') {
      const policy = (await page.textContent(tid('board-policy'))).trim();
      assert.ok(policy.length > 0, `the page says why running scores are not shown (${snap.board.exam.running})`);
    }
    console.log(`   snapshot version ${snap.version}, page version ${board.version}, top ${board.rows.slice(0, 3).map((r) => `${r.no}=${r.total}`).join(' ')}`);
  });

  await step('save a screenshot to out/board.png', async () => {
    await page.waitForTimeout(700); // let slides and highlights settle
    await screenshot(page, 'board.png', { fullPage: true });
  });

  await step('the big-screen toggle switches to big mode and back', async () => {
    await page.click(tid('board-big-toggle'));
    await page.waitForFunction(() => document.documentElement.classList.contains('big') && /[?&]big=1/.test(location.search));
    const live = await page.getAttribute(tid('board-live'), 'data-state');
    assert.equal(live, 'connected', 'the feed stays connected when switching');
    await page.click(tid('board-big-toggle'), { force: true });
    await page.waitForFunction(() => !document.documentElement.classList.contains('big') && !/[?&]big=1/.test(location.search));
  });

  await step('the index at /board links to this board', async () => {
    await page.goto(`${BASE_URL}/board`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(`${tid('board-index')} a`);
    const hrefs = await page.$$eval(`${tid('board-index')} a`, (as) => as.map((a) => a.getAttribute('href')));
    const want = decodeURIComponent(boardUrl.pathname) + (examParam ? `?exam=${examParam}` : '');
    assert.ok(hrefs.some((h) => decodeURIComponent(h) === want), `the index links to ${want}; it has ${hrefs.join(', ')}`);
  });

  await step('?big=1 at 1920x1080: large type, the same order; screenshot board-big.png', async () => {
    const bp = await newPage('board-big', { ...noise, viewport: { width: 1920, height: 1080 } });
    await bp.goto(BIG_URL, { waitUntil: 'domcontentloaded' });
    await bp.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="board-table"] tbody tr[data-testid^="board-row-"]').length === n,
      EXPECT_ROWS,
    );
    await bp.waitForSelector(`${tid('board-live')}[data-state="connected"]`);
    assert.ok(await bp.evaluate(() => document.documentElement.classList.contains('big')), 'big mode is on');
    const sizes = await bp.evaluate((no) => {
      const px = (sel) => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize);
      return { total: px(`[data-testid="board-total-${CSS.escape(no)}"]`), title: px('[data-testid="board-title"]'), scrollbars: document.documentElement.scrollHeight > innerHeight + 1 };
    }, WATCH);
    assert.ok(sizes.total >= 30, `scores are large on a TV (font-size ${sizes.total}px >= 30px)`);
    assert.ok(sizes.title >= 30, `the title is large on a TV (font-size ${sizes.title}px >= 30px)`);
    assert.equal(sizes.scrollbars, false, 'the big screen does not scroll the window');
    const { board } = await expectSameAsSnapshot(bp, COMPARE_TIMEOUT);
    checkRanks(board, exam);
    await bp.waitForTimeout(700);
    await screenshot(bp, 'board-big.png');
    console.log(`   score font ${sizes.total}px, title font ${sizes.title}px`);
    await bp.context().close();
  });
});
