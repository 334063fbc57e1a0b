// ujian — public scoreboard. Plain JS, no framework, no build step, no external requests.
//
// /board                      index of boards (GET /api/v1/boards)
// /board/{kind}/{id}[?exam=]  one board: Server-Sent Events from /api/v1/boards/{kind}/{id}/feed
//                             (a snapshot, then deltas; a snapshot again after lagging)
// ?big=1                      big-screen mode for a waiting-room TV (auto-scrolls page by page)
//
// The page keeps its own order: total descending, then the exam's tie-break sections
// descending, then the row id ascending (byte order, as the server's Rust strings); equal
// total and tie-break scores share a competition rank (1, 2, 2, 4). That is the server's
// order, so after any delta the page equals a fresh snapshot.
//
// Server data is only ever put into the page with textContent / attributes, never innerHTML.
// Rows are keyed by id and updated in place; changes are applied to the model as frames
// arrive and drawn at most once per animation frame.
(function () {
  'use strict';

  // ------------------------------------------------------------------ strings
  const I18N = {
    id: {
      brand: 'Papan Skor CAT · Hasil Langsung',
      page_title: 'Papan Skor CAT',
      index_title: 'Papan Skor',
      index_heading: 'Papan skor yang tersedia',
      index_intro: 'Kemajuan peserta tampil langsung selama ujian; nilai tampil saat peserta selesai. Pilih papan per sesi, per lokasi, atau untuk seluruh ujian.',
      index_loading: 'Memuat daftar papan skor…',
      index_empty: 'Belum ada papan skor. Papan muncul setelah sesi ujian disiapkan.',
      index_error: 'Daftar papan skor tidak dapat dimuat. Mencoba lagi…',
      index_updated: 'Daftar diperbarui {time}',
      group_sitting: 'Per sesi',
      group_venue: 'Per lokasi',
      group_exam: 'Seluruh ujian',
      link_exam: 'Semua peserta',
      n_candidates: '{n} peserta',
      big_link: 'Layar besar',
      big_link_label: '{name}, layar besar',
      sub_sitting: 'Sesi {id}',
      sub_venue: 'Lokasi {id}',
      sub_exam: 'Seluruh peserta · {id}',
      live_connecting: 'Menghubungkan…',
      live_connected: 'Langsung',
      live_reconnecting: 'Menyambung ulang…',
      last_update: 'Pembaruan terakhir {time}',
      no_update: 'Belum ada data',
      version: 'versi {v}',
      banner_reconnecting: 'Sambungan ke server terputus. Menyambung ulang… Nilai yang tampil adalah keadaan pukul {time}.',
      banner_reconnecting_nodata: 'Belum tersambung ke server. Mencoba lagi…',
      banner_not_found: 'Papan skor ini belum ada di server (belum ada peserta yang terdaftar?). Mencoba lagi…',
      big_on: 'Layar besar',
      big_off: 'Tampilan biasa',
      count_total: 'Peserta',
      count_finished: 'Selesai',
      count_active: 'Sedang mengerjakan',
      count_passed: 'Memenuhi ambang batas',
      counts_label: 'Ringkasan papan skor',
      page: 'Halaman',
      col_rank: 'Peringkat',
      col_rank_short: '#',
      col_no: 'Nomor Peserta',
      col_name: 'Nama',
      col_sitting: 'Sesi',
      col_venue: 'Lokasi',
      col_total: 'Total',
      col_answered: 'Dijawab',
      col_answered_title: 'Jumlah soal yang sudah dijawab',
      col_status: 'Status',
      threshold: '≥ {n}',
      threshold_title: '{name} — ambang batas {n}',
      caption: 'Peringkat peserta: {title}, {board}',
      passed: 'Memenuhi ambang batas',
      not_yet_passed: 'Belum memenuhi',
      not_passed: 'Tidak memenuhi',
      passed_short: 'Memenuhi',
      not_yet_passed_short: 'Belum',
      not_passed_short: 'Tidak',
      st_ready: 'Belum mulai',
      st_active: 'Sedang mengerjakan',
      st_active_short: 'Mengerjakan',
      st_paused: 'Dijeda',
      st_finished: 'Selesai',
      st_time_up: 'Selesai (waktu habis)',
      st_time_up_short: 'Waktu habis',
      st_terminated: 'Didiskualifikasi',
      code_P: 'P',
      code_TL: 'TL',
      code_DIS: 'DIS',
      code_P_long: 'Lolos ambang batas',
      code_TL_long: 'Tidak lolos',
      code_DIS_long: 'Didiskualifikasi',
      code_P_title: 'P: memenuhi ambang batas setiap bagian',
      code_TL_title: 'TL: tidak memenuhi ambang batas',
      code_DIS_title: 'DIS: didiskualifikasi pengawas',
      count_time_left: 'Sisa waktu',
      time_left_none: '–',
      moved_up: 'naik {n}',
      moved_down: 'turun {n}',
      below: 'di bawah ambang batas',
      empty: 'Belum ada peserta di papan ini.',
      truncated: 'Menampilkan {shown} peringkat teratas dari {total} peserta.',
      foot_rule: 'Urutan: nilai total, lalu nilai bagian sesuai aturan seri; nilai sama berbagi peringkat.',
      policy_progress: 'Nilai peserta yang masih mengerjakan tidak ditampilkan: nilai tampil saat peserta selesai. Yang masih mengerjakan tercantum sesudah yang selesai, menurut jumlah soal dijawab, tanpa peringkat.',
      policy_interval: 'Nilai sementara peserta yang masih mengerjakan diperbarui setiap {n} menit; nilai akhir tampil saat peserta selesai.',
      hidden_score: 'Nilai tampil saat peserta selesai',
      answered_of: '{n}/{total}',
      unranked: 'Tanpa peringkat',
      all_boards: 'Semua papan skor',
      audit_head: 'Kepala rantai audit #{seq} {hash}… ditandatangani {time}',
      bad_address: 'Alamat papan skor tidak dikenal',
      bad_address_body: 'Papan skor berada di /board/sitting/ID, /board/venue/NAMA?exam=KODE atau /board/exam/KODE.',
      venue_needs_exam: 'Papan per lokasi memerlukan kode ujian: /board/venue/NAMA?exam=KODE.',
    },
    en: {
      brand: 'CAT Scoreboard · Live results',
      page_title: 'CAT Scoreboard',
      index_title: 'Scoreboards',
      index_heading: 'Available scoreboards',
      index_intro: 'Candidates\' progress shows live during the exam; scores show as each candidate finishes. Choose a board per sitting, per venue, or for the whole exam.',
      index_loading: 'Loading the list of scoreboards…',
      index_empty: 'No scoreboards yet. A board appears once an exam sitting is prepared.',
      index_error: 'The list of scoreboards could not be loaded. Retrying…',
      index_updated: 'List updated {time}',
      group_sitting: 'Per sitting',
      group_venue: 'Per venue',
      group_exam: 'Whole exam',
      link_exam: 'All candidates',
      n_candidates: '{n} candidates',
      big_link: 'Big screen',
      big_link_label: '{name}, big screen',
      sub_sitting: 'Sitting {id}',
      sub_venue: 'Venue {id}',
      sub_exam: 'All candidates · {id}',
      live_connecting: 'Connecting…',
      live_connected: 'Live',
      live_reconnecting: 'Reconnecting…',
      last_update: 'Last update {time}',
      no_update: 'No data yet',
      version: 'version {v}',
      banner_reconnecting: 'Lost the connection to the server. Reconnecting… The scores shown are as of {time}.',
      banner_reconnecting_nodata: 'Not connected to the server yet. Retrying…',
      banner_not_found: 'This scoreboard does not exist on the server yet (no candidates registered?). Retrying…',
      big_on: 'Big screen',
      big_off: 'Normal view',
      count_total: 'Candidates',
      count_finished: 'Finished',
      count_active: 'Working',
      count_passed: 'Meet the thresholds',
      counts_label: 'Scoreboard summary',
      page: 'Page',
      col_rank: 'Rank',
      col_rank_short: '#',
      col_no: 'Participant no.',
      col_name: 'Name',
      col_sitting: 'Sitting',
      col_venue: 'Venue',
      col_total: 'Total',
      col_answered: 'Answered',
      col_answered_title: 'Questions answered so far',
      col_status: 'Status',
      threshold: '≥ {n}',
      threshold_title: '{name} — passing threshold {n}',
      caption: 'Candidate ranking: {title}, {board}',
      passed: 'Meets thresholds',
      not_yet_passed: 'Not yet met',
      not_passed: 'Does not meet',
      passed_short: 'Meets',
      not_yet_passed_short: 'Not yet',
      not_passed_short: 'Fails',
      st_ready: 'Not started',
      st_active: 'Working',
      st_active_short: 'Working',
      st_paused: 'Paused',
      st_finished: 'Finished',
      st_time_up: 'Finished (time up)',
      st_time_up_short: 'Time up',
      st_terminated: 'Disqualified',
      code_P: 'P',
      code_TL: 'TL',
      code_DIS: 'DIS',
      code_P_long: 'Passes thresholds',
      code_TL_long: 'Below threshold',
      code_DIS_long: 'Disqualified',
      code_P_title: 'P: meets every section\'s threshold',
      code_TL_title: 'TL: below a threshold',
      code_DIS_title: 'DIS: disqualified by a supervisor',
      count_time_left: 'Time left',
      time_left_none: '–',
      moved_up: 'up {n}',
      moved_down: 'down {n}',
      below: 'below the threshold',
      empty: 'No candidates on this board yet.',
      truncated: 'Showing the top {shown} of {total} candidates.',
      foot_rule: 'Order: total score, then section scores by the tie-break rule; equal scores share a rank.',
      policy_progress: 'Scores of candidates still working are not shown: each score appears the moment the candidate finishes. Those still working are listed after the finished ones by questions answered, unranked.',
      policy_interval: 'Running scores of candidates still working are updated every {n} minutes; final scores appear the moment each candidate finishes.',
      hidden_score: 'The score shows when the candidate finishes',
      answered_of: '{n}/{total}',
      unranked: 'Unranked',
      all_boards: 'All scoreboards',
      audit_head: 'Audit chain head #{seq} {hash}… signed {time}',
      bad_address: 'Unknown scoreboard address',
      bad_address_body: 'Scoreboards live at /board/sitting/ID, /board/venue/NAME?exam=CODE or /board/exam/CODE.',
      venue_needs_exam: 'A venue board needs the exam code: /board/venue/NAME?exam=CODE.',
    },
  };

  Ujian.strings(I18N);
  const { $, t, make, setText, setAttr, setHidden, hms } = Ujian;

  // ------------------------------------------------------------------ dom helpers
  const el = {
    body: document.body,
    title: $('board-title'),
    subtitle: $('board-subtitle'),
    live: $('board-live'),
    liveText: $('live-text'),
    lastUpdate: $('last-update'),
    version: $('board-version'),
    clock: $('clock'),
    bigToggle: $('big-toggle'),
    langToggle: $('lang-toggle'),
    banner: $('banner'),
    screens: { boot: $('screen-boot'), index: $('screen-index'), board: $('screen-board'), error: $('screen-error') },
    index: $('board-index'),
    indexStatus: $('index-status'),
    counts: $('counts'),
    countTotal: $('count-total'),
    countFinished: $('count-finished'),
    countActive: $('count-active'),
    countPassed: $('count-passed'),
    timeLeft: $('time-left'),
    pageNo: $('page-no'),
    note: $('board-note'),
    policy: $('board-policy'),
    wrap: $('table-wrap'),
    table: $('board-table'),
    caption: $('table-caption'),
    colgroup: $('colgroup'),
    headRow: $('head-row'),
    tbody: $('board-body'),
    empty: $('board-empty'),
    progressBar: $('page-progress-bar'),
    errorTitle: $('error-title'),
    errorBody: $('error-body'),
  };

  const motionQuery = window.matchMedia ? window.matchMedia('(prefers-reduced-motion: reduce)') : null;
  const reducedMotion = () => !!(motionQuery && motionQuery.matches);

  // ------------------------------------------------------------------ constants
  const KINDS = ['sitting', 'venue', 'exam'];
  const PAGE_MS = 8000; // big screen: time per page
  const FLASH_MS = 2000; // a changed row stays highlighted this long,
  const FADE_MS = 900; // then lightly highlighted this long
  const MOVE_MARK_MS = 10000; // the ▲/▼ mark next to a rank stays this long
  const FLIP_MS = 650; // a row slides to its new place in this time
  const FLIP_MAX = 200; // at most this many rows slide at once (only rows in view slide)
  const INDEX_REFRESH_MS = 15000;

  // ------------------------------------------------------------------ route
  function parseRoute() {
    const params = new URLSearchParams(location.search);
    const bigParam = params.get('big');
    // A 16:9 frame for a video stream of the room's board: the big screen's type and paging.
    const stream = params.get('layout') === 'stream';
    const big = stream || bigParam === '1' || bigParam === 'true';
    const path = location.pathname.replace(/\/+$/, '') || '/';
    if (path === '/board' || path === '/') return { view: 'index', big };
    const m = /^\/board\/([^/]+)\/([^/]+)$/.exec(path);
    if (!m) return { view: 'error', error: 'bad_address', big };
    let kind;
    let id;
    try {
      kind = decodeURIComponent(m[1]);
      id = decodeURIComponent(m[2]);
    } catch (_) {
      return { view: 'error', error: 'bad_address', big };
    }
    if (!KINDS.includes(kind) || !id) return { view: 'error', error: 'bad_address', big };
    const exam = params.get('exam') || '';
    if (kind === 'venue' && !exam) return { view: 'error', error: 'venue_needs_exam', big };
    return { view: 'board', kind, id, exam, big, stream };
  }

  function boardHref(kind, id, exam, bigScreen) {
    const q = new URLSearchParams();
    if (kind === 'venue') q.set('exam', exam);
    if (bigScreen) q.set('big', '1');
    const qs = q.toString();
    return `/board/${encodeURIComponent(kind)}/${encodeURIComponent(id)}${qs ? '?' + qs : ''}`;
  }

  function apiPath(kind, id, exam, suffix) {
    const base = `/api/v1/boards/${encodeURIComponent(kind)}/${encodeURIComponent(id)}${suffix || ''}`;
    return kind === 'venue' ? `${base}?exam=${encodeURIComponent(exam)}` : base;
  }

  const route = parseRoute();

  function showScreen(name) {
    el.body.dataset.view = name;
    for (const [key, node] of Object.entries(el.screens)) node.hidden = key !== name;
  }

  // ------------------------------------------------------------------ language
  function applyLanguage() {
    Ujian.translatePage(el.langToggle);
    renderAuditHead();
    el.counts.setAttribute('aria-label', t('counts_label'));
    if (route.view === 'index') {
      setText(el.title, t('index_title'));
      document.title = `${t('index_title')} — ${t('page_title')}`;
      renderIndex();
    } else if (route.view === 'error') {
      setText(el.title, t('index_title'));
      document.title = t('page_title');
      el.errorTitle.textContent = t('bad_address');
      el.errorBody.textContent = t(route.error === 'venue_needs_exam' ? 'venue_needs_exam' : 'bad_address_body');
    } else if (route.view === 'board') {
      applyBigLabels();
      renderTitles();
      renderHeader();
      for (const rec of B.rows.values()) {
        if (rec.tr) updateRowDom(rec, true);
      }
      renderLive();
      renderMeta();
    }
  }

  Ujian.languageSwitch(el.langToggle, applyLanguage);

  // ------------------------------------------------------------------ clock & sweeps
  function tickSecond() {
    setText(el.clock, hms(new Date()));
    if (route.view === 'board') renderTimeLeft();
  }

  // The sitting's time left: until the last running session's time is up, on the server's
  // clock (each frame says when it was made; the freshest frame gives the offset, since a
  // shared first page may be older than it looks).
  function noteServerTime(serverMs) {
    if (serverMs == null || !Number.isFinite(Number(serverMs))) return;
    const offset = Number(serverMs) - Date.now();
    B.serverOffset = B.serverOffset == null ? offset : Math.max(B.serverOffset, offset);
  }

  function renderTimeLeft() {
    if (!el.timeLeft) return;
    // One value for the whole board, the sitting's scheduled end: rows carry no deadline
    // of their own, so the page cannot tell who has extra time.
    const end = B.endsMs;
    const left = end == null ? null : Math.max(0, end - (Date.now() + (B.serverOffset || 0)));
    setText(el.timeLeft, left == null ? t('time_left_none') : mmss(left));
    setAttr(el.timeLeft, 'data-ms', left == null ? '' : String(left));
  }

  function mmss(ms) {
    const s = Math.ceil(ms / 1000);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, '0');
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
  }

  // ================================================================== index
  const IX = { list: null, json: '', error: false, updated: null, timer: 0 };

  async function loadIndex() {
    clearTimeout(IX.timer);
    try {
      const res = await fetch('/api/v1/boards', { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const text = await res.text();
      const list = JSON.parse(text);
      if (!Array.isArray(list)) throw new Error('not a list');
      IX.error = false;
      IX.updated = new Date();
      if (text !== IX.json) {
        IX.json = text;
        IX.list = list;
        renderIndex();
      } else {
        renderIndexStatus();
      }
    } catch (e) {
      console.warn('board index:', e);
      IX.error = true;
      renderIndexStatus();
    }
    IX.timer = setTimeout(loadIndex, IX.error ? 5000 : INDEX_REFRESH_MS);
  }

  function renderIndexStatus() {
    let s;
    if (IX.error) s = t('index_error');
    else if (!IX.list) s = t('index_loading');
    else if (IX.list.length === 0) s = t('index_empty');
    else s = t('index_updated', { time: hms(IX.updated) });
    setText(el.indexStatus, s);
    el.indexStatus.classList.toggle('error', IX.error);
  }

  function renderIndex() {
    renderIndexStatus();
    const list = IX.list;
    el.index.textContent = '';
    if (!list) return;
    // Group by exam, keeping the server's order (exam, kind, id).
    const exams = new Map();
    for (const b of list) {
      if (!b || typeof b !== 'object' || !KINDS.includes(b.kind)) continue;
      const code = String(b.exam || '');
      if (!exams.has(code)) exams.set(code, { title: String(b.title || code), boards: { sitting: [], venue: [], exam: [] } });
      exams.get(code).boards[b.kind].push(b);
    }
    for (const [code, ex] of exams) {
      const section = make('section', 'index-exam card');
      section.dataset.exam = code;
      const h = make('h3', 'index-exam-title');
      h.append(make('span', null, ex.title), make('span', 'code', code));
      section.append(h);
      const groups = make('div', 'index-groups');
      for (const kind of KINDS) {
        const boards = ex.boards[kind];
        if (!boards.length) continue;
        const g = make('div', 'index-group');
        g.dataset.kind = kind;
        g.append(make('h4', null, t(`group_${kind}`)));
        const ul = make('ul');
        for (const b of boards) {
          const id = String(b.id);
          const name = kind === 'exam' ? t('link_exam') : id;
          const li = make('li');
          const a = make('a', 'board-link', name);
          a.href = boardHref(kind, id, code, false);
          a.dataset.testid = `board-link-${kind}-${id}`;
          const n = Number(b.candidates) || 0;
          const count = make('span', 'muted board-link-count', t('n_candidates', { n }));
          const bigA = make('a', 'board-link-big', t('big_link'));
          bigA.href = boardHref(kind, id, code, true);
          bigA.setAttribute('aria-label', t('big_link_label', { name }));
          li.append(a, count, bigA);
          ul.append(li);
        }
        g.append(ul);
        groups.append(g);
      }
      section.append(groups);
      el.index.append(section);
    }
  }

  // ================================================================== board
  const B = {
    exam: null, // board.exam of the last snapshot
    kind: route.kind,
    id: route.id,
    sig: '', // sections, thresholds, tie-breaks and kind: a change rebuilds the table
    sections: [],
    tieIdx: [], // index into scores of each tie-break section (-1: not in the exam)
    extraCol: null, // 'sitting' or 'venue' column on venue and exam boards
    answeredCol: false, // the server sends how many questions each candidate answered
    version: -1,
    totalRows: 0,
    rows: new Map(), // id -> record
    order: [], // records in the order of the last render (= DOM order)
    dirty: new Set(), // ids whose data changed since the last render
    scoreChanged: new Set(), // ids whose score changed by a delta since the last render
    removed: [], // records to take out of the DOM
    structural: true, // header and rows must be rebuilt
    fromSnapshot: false, // the pending render includes a snapshot (no flash, no move marks)
    frame: 0,
    lastUpdate: null,
    everSnapshot: false,
    liveState: 'connecting',
    notFound: false,
    es: null,
    retry: new Ujian.Backoff(1000, 15000, 300),
    marked: new Set(), // records with a flash or move mark to clear later
    noWidth: 0, // width of the participant number column, in ch
    rankWarned: false,
    // big screen paging
    big: route.big,
    page: 0,
    pages: 1,
    perPage: 0,
    pagedRows: -1,
    rowH: 0,
    pageTimer: 0,
    progressAnim: null,
    serverOffset: null, // server time minus this page's clock, ms (from the frames)
    endsMs: null, // when the board's running sitting is scheduled to end, server ms (from the frames)
  };

  // ---------------------------------------------------------------- model
  function num(v) {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }

  function normRow(r) {
    if (!r || typeof r !== 'object' || typeof r.id !== 'string' || !r.id) return null;
    return {
      id: r.id,
      participant_no: String(r.participant_no == null ? '' : r.participant_no),
      name: String(r.name == null ? '' : r.name),
      sitting: String(r.sitting == null ? '' : r.sitting),
      venue: String(r.venue == null ? '' : r.venue),
      // No score while the exam's policy hides it (a running session) or before the start.
      scored: r.total != null,
      scores: Array.isArray(r.scores) ? r.scores.map(num) : [],
      total: r.total == null ? null : num(r.total),
      answered: r.answered == null ? null : num(r.answered),
      passed: r.passed === true,
      status: String(r.status || ''),
      reason: r.reason == null ? null : String(r.reason),
      rank: r.rank == null ? null : num(r.rank),
    };
  }

  // A disqualified candidate's score is no result: never ranked, listed last.
  function disqualified(row) {
    return row.status === 'finished' && row.reason === 'terminated';
  }

  // The result code of the committee's export (without formations: P, not P/L), once a
  // session is finished; none while it runs or before it starts.
  function codeOf(row) {
    if (row.status !== 'finished') return null;
    if (disqualified(row)) return 'DIS';
    if (!row.scored) return null;
    return row.passed ? 'P' : 'TL';
  }

  // As the server orders: rows with a score (by total, then the tie-break sections), then
  // running rows without one (most answered first), then rows not started, then the
  // disqualified. Larger first.
  function keyOf(row) {
    const tier = disqualified(row) ? -1 : row.scored ? 2 : row.status === 'ready' ? 0 : 1;
    const k = [tier, row.scored ? row.total : tier === 1 ? (row.answered || 0) : 0];
    for (const i of B.tieIdx) k.push(row.scored && i >= 0 && i < row.scores.length ? row.scores[i] : 0);
    return k;
  }

  function sameKey(a, b) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // Rust compares Strings by UTF-8 bytes, i.e. by code point. JS compares UTF-16 code
  // units; the two differ only between a surrogate (a code point >= U+10000) and a code
  // unit >= U+E000.
  function cmpId(a, b) {
    if (a === b) return 0;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a.charCodeAt(i);
      const y = b.charCodeAt(i);
      if (x !== y) {
        if (x >= 0xd800 && y >= 0xd800) {
          const xs = x <= 0xdfff;
          const ys = y <= 0xdfff;
          if (xs !== ys) return xs ? 1 : -1;
        }
        return x < y ? -1 : 1;
      }
    }
    return a.length - b.length;
  }

  function cmpRec(a, b) {
    const ka = a.key;
    const kb = b.key;
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return kb[i] - ka[i];
    return cmpId(a.id, b.id);
  }

  function upsert(row) {
    let rec = B.rows.get(row.id);
    if (!rec) {
      rec = { id: row.id, data: row, key: null, tr: null, cells: null, shown: null, pos: -1, rank: 0, flashUntil: 0, fadeUntil: 0, moveUntil: 0, anim: null, slideFrom: 0 };
      B.rows.set(row.id, rec);
    }
    const prev = rec.data === row ? null : rec.data;
    rec.data = row;
    rec.key = keyOf(row);
    B.dirty.add(row.id);
    return prev;
  }

  function scoresDiffer(a, b) {
    if (a.total !== b.total || a.scores.length !== b.scores.length) return true;
    for (let i = 0; i < a.scores.length; i++) if (a.scores[i] !== b.scores[i]) return true;
    return false;
  }

  function onSnapshot(snap) {
    if (!snap || typeof snap !== 'object' || !snap.board || !snap.board.exam || !Array.isArray(snap.rows)) {
      throw new Error('malformed snapshot');
    }
    const exam = snap.board.exam;
    const sections = Array.isArray(exam.sections)
      ? exam.sections.map((s) => ({ code: String(s.code), name: String(s.name || s.code), threshold: num(s.threshold) }))
      : [];
    const tie = Array.isArray(exam.tie_break) ? exam.tie_break.map(String) : [];
    const kind = KINDS.includes(snap.board.kind) ? snap.board.kind : route.kind;
    const answeredCol = snap.rows.some((r) => r && typeof r.answered === 'number');
    const sig = JSON.stringify([kind, sections, tie, answeredCol]);
    B.exam = {
      code: String(exam.code || ''),
      title: String(exam.title || ''),
      names: String(exam.names || ''),
      questions: exam.questions == null ? null : num(exam.questions),
      running: String(exam.running || 'live'),
      interval: exam.interval_minutes == null ? null : num(exam.interval_minutes),
    };
    B.kind = kind;
    B.id = String(snap.board.id == null ? route.id : snap.board.id);
    if (sig !== B.sig) {
      B.sig = sig;
      B.sections = sections;
      B.tieIdx = tie.map((code) => sections.findIndex((s) => s.code === code));
      B.extraCol = kind === 'exam' ? 'venue' : kind === 'venue' ? 'sitting' : null;
      B.answeredCol = answeredCol;
      B.structural = true;
    }
    // Replace all state: rows not in the snapshot go.
    const seen = new Set();
    for (const raw of snap.rows) {
      const row = normRow(raw);
      if (!row || seen.has(row.id)) continue;
      seen.add(row.id);
      upsert(row);
    }
    for (const [id, rec] of B.rows) {
      if (!seen.has(id)) {
        B.rows.delete(id);
        B.dirty.delete(id);
        B.removed.push(rec);
      }
    }
    if (B.structural) for (const rec of B.rows.values()) rec.key = keyOf(rec.data);
    B.scoreChanged.clear();
    B.version = num(snap.version);
    B.endsMs = snap.ends_ms == null ? null : num(snap.ends_ms);
    noteServerTime(snap.server_ms);
    B.totalRows = num(snap.total_rows);
    B.fromSnapshot = true;
    B.everSnapshot = true;
    noteUpdate();
  }

  function onDelta(delta) {
    if (!delta || typeof delta !== 'object' || !Array.isArray(delta.rows)) throw new Error('malformed delta');
    if (!B.everSnapshot) return; // a feed always starts with a snapshot
    const version = num(delta.version);
    if (version <= B.version) return;
    for (const raw of delta.rows) {
      const row = normRow(raw);
      if (!row) continue;
      row.rank = null; // ranks come with snapshots only; the page ranks by itself
      const prev = upsert(row);
      if (!prev || scoresDiffer(prev, row)) B.scoreChanged.add(row.id);
    }
    B.version = version;
    B.endsMs = delta.ends_ms == null ? null : num(delta.ends_ms);
    noteServerTime(delta.server_ms);
    noteUpdate();
  }

  function noteUpdate() {
    B.lastUpdate = new Date();
    schedule();
  }

  function schedule() {
    if (!B.frame) B.frame = requestAnimationFrame(render);
  }

  // ---------------------------------------------------------------- header and rows
  function renderTitles() {
    const title = B.exam ? B.exam.title : t('index_title');
    const sub = t(`sub_${B.kind}`, { id: B.id });
    setText(el.title, title);
    setText(el.subtitle, sub);
    const docTitle = `${sub} — ${B.exam ? B.exam.title : t('page_title')}`;
    if (document.title !== docTitle) document.title = docTitle;
    setText(el.caption, t('caption', { title, board: sub }));
  }

  function renderHeader() {
    const cols = [];
    const ths = [];
    const th = (cls, key) => {
      const n = make('th', cls, key ? t(key) : null);
      n.scope = 'col';
      ths.push(n);
      return n;
    };
    const col = (cls) => {
      const c = make('col', cls);
      cols.push(c);
      return c;
    };
    // A phone shows the short heading (board.css).
    col('c-rank');
    th('c-rank num').append(make('span', 'head-long', t('col_rank')), make('span', 'head-short', t('col_rank_short')));
    col('c-no'); th('c-no', 'col_no');
    col('c-name'); th('c-name', 'col_name');
    if (B.extraCol) { col('c-place'); th('c-place', B.extraCol === 'venue' ? 'col_venue' : 'col_sitting'); }
    for (const s of B.sections) {
      col('c-sec');
      const h = th('c-sec num');
      h.dataset.section = s.code;
      h.title = t('threshold_title', { name: s.name, n: s.threshold });
      h.append(make('span', 'sec-code', s.code), make('span', 'sec-threshold', t('threshold', { n: s.threshold })));
    }
    col('c-total'); th('c-total num', 'col_total');
    if (B.answeredCol) { col('c-ans'); th('c-ans num', 'col_answered').title = t('col_answered_title'); }
    col('c-status'); th('c-status', 'col_status');
    el.colgroup.replaceChildren(...cols);
    el.headRow.replaceChildren(...ths);
    applyNoWidth(true);
  }

  // The participant number column is as wide as the longest number (numbers are never cut).
  function applyNoWidth(force) {
    let longest = 6;
    for (const rec of B.rows.values()) if (rec.data.participant_no.length > longest) longest = rec.data.participant_no.length;
    const width = Math.min(longest, 28);
    if (!force && width === B.noWidth) return;
    B.noWidth = width;
    el.table.style.setProperty('--no-ch', String(width + 1));
  }

  function createRowDom(rec) {
    const tr = make('tr', 'row');
    const pno = rec.data.participant_no;
    tr.dataset.testid = `board-row-${pno}`;
    tr.dataset.id = rec.id;
    const rank = make('td', 'c-rank num');
    rank.dataset.testid = `board-rank-${pno}`;
    const rankN = make('span', 'rank-n');
    const move = make('span', 'move');
    move.setAttribute('aria-hidden', 'true');
    rank.append(rankN, move);
    const no = make('th', 'c-no');
    no.scope = 'row';
    const name = make('td', 'c-name');
    tr.append(rank, no, name);
    let place = null;
    if (B.extraCol) { place = make('td', 'c-place'); tr.append(place); }
    const secs = [];
    for (const s of B.sections) {
      const td = make('td', 'c-sec num');
      td.dataset.testid = `board-cell-${pno}-${s.code}`;
      td.dataset.section = s.code;
      secs.push(td);
      tr.append(td);
    }
    const total = make('td', 'c-total num');
    total.dataset.testid = `board-total-${pno}`;
    tr.append(total);
    let answered = null;
    if (B.answeredCol) {
      answered = make('td', 'c-ans num');
      answered.dataset.testid = `board-answered-${pno}`;
      tr.append(answered);
    }
    const status = make('td', 'c-status');
    status.dataset.testid = `board-status-${pno}`;
    const pass = make('span', 'pass');
    const prog = make('span', 'prog');
    status.append(pass, prog);
    tr.append(status);
    rec.tr = tr;
    rec.cells = { rank, rankN, move, no, name, place, secs, total, answered, status, pass, prog };
    rec.shown = { rank: null, pno: null, name: null, place: null, scores: [], total: undefined, answered: null, status: null };
  }

  // The badge is the finished session's result code: nothing for a session still running
  // or not started (a hidden or running score is not a failing one).
  function passKey(row) {
    const code = codeOf(row);
    return code && `code_${code}`;
  }

  function progKey(row) {
    switch (row.status) {
      case 'ready': return 'st_ready';
      case 'active': return 'st_active';
      case 'paused': return 'st_paused';
      case 'finished':
        if (row.reason === 'terminated') return 'st_terminated';
        if (row.reason === 'time_up') return 'st_time_up';
        return 'st_finished';
      default: return null;
    }
  }

  // Short labels: always for the progress word (the full one is in the cell's title), and
  // for the pass badge on the big screen.
  function shortOr(key, always) {
    return (always || B.big) && I18N.id[`${key}_short`] ? `${key}_short` : key;
  }

  function updateRowDom(rec, relabel) {
    const row = rec.data;
    const c = rec.cells;
    const sh = rec.shown;
    if (sh.pno !== row.participant_no) { sh.pno = row.participant_no; c.no.textContent = row.participant_no; }
    if (sh.name !== row.name) { sh.name = row.name; c.name.textContent = row.name; c.name.title = row.name; }
    if (c.place) {
      const place = B.extraCol === 'venue' ? row.venue : row.sitting;
      if (sh.place !== place) { sh.place = place; c.place.textContent = place; }
    }
    for (let i = 0; i < B.sections.length; i++) {
      const v = !row.scored ? null : i < row.scores.length ? row.scores[i] : 0;
      if (sh.scores[i] === v && !relabel) continue;
      sh.scores[i] = v;
      const td = c.secs[i];
      if (v == null) {
        setText(td, '–');
        td.classList.remove('below');
        td.dataset.below = 'false';
        td.title = t('hidden_score');
        continue;
      }
      const below = v < B.sections[i].threshold;
      setText(td, String(v));
      td.classList.toggle('below', below);
      td.dataset.below = below ? 'true' : 'false';
      if (below) td.title = `${B.sections[i].code} ${v}: ${t('below')} (${B.sections[i].threshold})`;
      else td.removeAttribute('title');
    }
    if (sh.total !== row.total) {
      sh.total = row.total;
      c.total.textContent = row.total == null ? '–' : String(row.total);
      c.total.title = row.total == null ? t('hidden_score') : '';
      if (row.total == null) delete rec.tr.dataset.total;
      else rec.tr.dataset.total = String(row.total);
    }
    if (c.answered) {
      const q = B.exam && B.exam.questions;
      const a = row.answered == null ? '' : q ? t('answered_of', { n: row.answered, total: q }) : String(row.answered);
      if (sh.answered !== a) { sh.answered = a; c.answered.textContent = a; }
    }
    const statusSig = `${row.passed}|${row.status}|${row.reason}`;
    if (sh.status !== statusSig || relabel) {
      sh.status = statusSig;
      const pk = passKey(row);
      const prk = progKey(row);
      // Codes in the table, whole words on the big screen (read from across a room).
      c.pass.textContent = pk ? t(B.big ? `${pk}_long` : pk) : '';
      if (pk) c.pass.dataset.pass = pk;
      else delete c.pass.dataset.pass;
      if (pk) c.pass.dataset.code = codeOf(row);
      else delete c.pass.dataset.code;
      // A finished row's code says it all; the progress word is for the others.
      setHidden(c.prog, !!pk);
      c.prog.textContent = prk ? t(shortOr(prk, true)) : row.status;
      c.status.dataset.passed = row.passed ? 'true' : 'false';
      c.status.dataset.status = row.status;
      if (row.reason) c.status.dataset.reason = row.reason;
      else delete c.status.dataset.reason;
      c.status.title = pk ? t(`${pk}_title`) : prk ? t(prk) : row.status;
      rec.tr.dataset.status = row.status;
      rec.tr.dataset.passed = row.passed ? 'true' : 'false';
      const code = codeOf(row);
      if (code) rec.tr.dataset.code = code;
      else delete rec.tr.dataset.code;
    }
    if (relabel && rec.moveUntil) setMoveLabel(rec);
  }

  function setMoveLabel(rec) {
    const d = rec.tr.dataset.move;
    const n = Number(rec.cells.move.dataset.n || 0);
    rec.cells.move.textContent = d === 'up' ? `▲${n}` : d === 'down' ? `▼${n}` : '';
    rec.cells.rank.title = d ? t(d === 'up' ? 'moved_up' : 'moved_down', { n }) : '';
  }

  // ---------------------------------------------------------------- render (once per frame)
  function render() {
    B.frame = 0;
    const now = performance.now();
    const snapshot = B.fromSnapshot;
    B.fromSnapshot = false;
    const view = B.structural ? null : measureView();

    if (B.structural) {
      B.structural = false;
      renderHeader();
      for (const rec of B.order) if (rec.tr) rec.tr.remove();
      el.tbody.textContent = '';
      for (const rec of B.rows.values()) { rec.tr = null; rec.pos = -1; rec.anim = null; }
      B.order = [];
      B.marked.clear();
      for (const id of B.rows.keys()) B.dirty.add(id);
    }
    renderTitles();

    for (const rec of B.removed) {
      if (rec.anim) rec.anim.cancel();
      if (rec.tr) rec.tr.remove();
      rec.tr = null;
      B.marked.delete(rec);
    }
    B.removed = [];

    for (const id of B.dirty) {
      const rec = B.rows.get(id);
      if (!rec) continue;
      if (!rec.tr) createRowDom(rec);
      updateRowDom(rec, false);
    }
    B.dirty.clear();

    // Order and competition ranks.
    // Only rows with a score are ranked; the others (sorted after them) show no rank.
    const sorted = Array.from(B.rows.values()).sort(cmpRec);
    let rank = 0;
    let mismatch = null;
    for (let i = 0; i < sorted.length; i++) {
      const rec = sorted[i];
      if (!rec.data.scored || disqualified(rec.data)) {
        rec.rank = 0;
        if (snapshot && rec.data.rank != null && !mismatch) mismatch = rec;
        if (rec.shown.rank !== 0) {
          rec.shown.rank = 0;
          rec.cells.rankN.textContent = '';
          rec.cells.rank.title = t('unranked');
          delete rec.tr.dataset.rank;
        }
        continue;
      }
      if (i === 0 || !sameKey(sorted[i - 1].key, rec.key)) rank = i + 1;
      const before = rec.rank;
      rec.rank = rank;
      if (snapshot && rec.data.rank != null && rec.data.rank !== rank && !mismatch) mismatch = rec;
      if (rec.shown.rank !== rank) {
        rec.shown.rank = rank;
        rec.cells.rankN.textContent = String(rank);
        rec.cells.rank.title = '';
        rec.tr.dataset.rank = String(rank);
      }
      // A row whose own score changed shows how far it moved.
      if (!snapshot && B.scoreChanged.has(rec.id) && before && before !== rank) {
        rec.tr.dataset.move = rank < before ? 'up' : 'down';
        rec.cells.move.dataset.n = String(Math.abs(before - rank));
        setMoveLabel(rec);
        rec.moveUntil = now + MOVE_MARK_MS;
        B.marked.add(rec);
      }
    }
    if (mismatch && !B.rankWarned) {
      B.rankWarned = true;
      console.warn(`board: rank of ${mismatch.id} is ${mismatch.rank} here, ${mismatch.data.rank} on the server`);
    }

    const animate = !snapshot && !!view && !reducedMotion() && typeof el.tbody.animate === 'function';
    reorder(sorted, animate ? view : null);
    B.order = sorted;

    // Highlight rows whose score changed: a class for FLASH_MS, then a paler one for
    // FADE_MS (discrete steps: an animated background would restyle and repaint the
    // table on every frame).
    if (!snapshot) {
      for (const id of B.scoreChanged) {
        const rec = B.rows.get(id);
        if (!rec || !rec.tr) continue;
        rec.tr.classList.remove('faded');
        rec.tr.classList.add('changed');
        rec.flashUntil = now + FLASH_MS;
        rec.fadeUntil = 0;
        B.marked.add(rec);
      }
    }
    B.scoreChanged.clear();

    applyNoWidth(false);
    renderMeta();
    // Big screen: the number of pages follows the number of rows.
    if (B.big && B.rows.size !== B.pagedRows) layoutPages(false);
  }

  // Where the rows are on screen, read at the start of a frame (the layout is still clean,
  // so this costs no extra layout): the first row in view, the last, and the row height.
  // Rows all have the same height (one line, no wrapping).
  function measureView() {
    const first = el.tbody.firstElementChild;
    if (!first) return null;
    const rowH = first.getBoundingClientRect().height;
    if (!(rowH > 0)) return null;
    const top = el.tbody.getBoundingClientRect().top;
    const bottom = B.big ? el.wrap.getBoundingClientRect().bottom : window.innerHeight;
    return {
      rowH,
      lo: Math.max(0, Math.floor(-top / rowH) - 1),
      hi: Math.ceil((bottom - top) / rowH) + 1,
    };
  }

  // Puts the rows in their new order with as few DOM moves as possible (rows on a longest
  // increasing run of old positions stay), then slides the rows that moved within view
  // from where they were (FLIP, computed from positions: no layout is read).
  function reorder(sorted, view) {
    const n = sorted.length;
    const stable = stableSet(sorted);
    let next = null;
    for (let i = n - 1; i >= 0; i--) {
      const rec = sorted[i];
      const tr = rec.tr;
      if (rec.pos === -1 || !stable[i] || tr.parentNode !== el.tbody) {
        if (tr.nextSibling !== next || tr.parentNode !== el.tbody) el.tbody.insertBefore(tr, next);
      }
      next = tr;
    }
    const now = performance.now();
    let slides = 0;
    for (let i = 0; i < n; i++) {
      const rec = sorted[i];
      const old = rec.pos;
      rec.pos = i;
      if (old === i) continue;
      const inView = !!view && ((i >= view.lo && i <= view.hi) || (old >= view.lo && old <= view.hi));
      if (old === -1) {
        if (inView) {
          rec.tr.classList.add('entering');
          rec.flashUntil = now + FLASH_MS;
          B.marked.add(rec);
        }
        continue;
      }
      // Where the row is seen now: its old place plus what is left of a running slide.
      let dy = (old - i) * (view ? view.rowH : 0);
      if (rec.anim) {
        const p = rec.anim.effect ? rec.anim.effect.getComputedTiming().progress : null;
        if (p != null) dy += rec.slideFrom * (1 - p);
        const a = rec.anim;
        rec.anim = null;
        a.cancel();
      }
      if (!inView || Math.abs(dy) < 1 || slides >= FLIP_MAX) {
        rec.tr.classList.remove('sliding');
        continue;
      }
      slides++;
      const anim = rec.tr.animate(
        [{ transform: `translateY(${dy}px)` }, { transform: 'translateY(0)' }],
        { duration: FLIP_MS, easing: 'cubic-bezier(.2,.7,.25,1)' },
      );
      rec.anim = anim;
      rec.slideFrom = dy;
      rec.tr.classList.add('sliding');
      anim.onfinish = () => {
        if (rec.anim === anim) { rec.anim = null; rec.tr.classList.remove('sliding'); }
      };
    }
  }

  // stable[i] is true for rows that keep their place relative to each other: a longest
  // increasing subsequence of the old positions (O(n log n)).
  function stableSet(sorted) {
    const n = sorted.length;
    const stable = new Array(n).fill(false);
    const tails = []; // index into sorted of the smallest tail of each length
    const prev = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const p = sorted[i].pos;
      if (p === -1) continue;
      let lo = 0;
      let hi = tails.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[tails[mid]].pos < p) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0) prev[i] = tails[lo - 1];
      tails[lo] = i;
    }
    let k = tails.length ? tails[tails.length - 1] : -1;
    while (k !== -1) {
      stable[k] = true;
      k = prev[k];
    }
    return stable;
  }

  // Clears highlights and move marks whose time is up (once a second).
  function sweepMarks() {
    const now = performance.now();
    for (const rec of B.marked) {
      let keep = false;
      if (rec.flashUntil) {
        if (now >= rec.flashUntil) {
          rec.flashUntil = 0;
          if (rec.tr) {
            if (rec.tr.classList.contains('changed')) { rec.fadeUntil = now + FADE_MS; keep = true; }
            rec.tr.classList.remove('changed', 'entering');
            if (rec.fadeUntil) rec.tr.classList.add('faded');
          }
        } else keep = true;
      } else if (rec.fadeUntil) {
        if (now >= rec.fadeUntil) {
          rec.fadeUntil = 0;
          if (rec.tr) rec.tr.classList.remove('faded');
        } else keep = true;
      }
      if (rec.moveUntil) {
        if (now >= rec.moveUntil) {
          rec.moveUntil = 0;
          if (rec.tr) {
            delete rec.tr.dataset.move;
            rec.cells.move.textContent = '';
            rec.cells.rank.removeAttribute('title');
          }
        } else keep = true;
      }
      if (!keep) B.marked.delete(rec);
    }
  }

  function renderMeta() {
    let finished = 0;
    let active = 0;
    let passed = 0;
    for (const rec of B.rows.values()) {
      const r = rec.data;
      if (r.status === 'finished') finished++;
      else if (r.status === 'active') active++;
      if (codeOf(r) === 'P') passed++;
    }
    renderTimeLeft();
    const shown = B.rows.size;
    const truncated = B.totalRows > shown;
    setText(el.countTotal, String(truncated ? B.totalRows : shown));
    setText(el.countFinished, String(finished));
    setText(el.countActive, String(active));
    setText(el.countPassed, String(passed));
    if (el.policy) {
      const running = B.exam ? B.exam.running : 'live';
      setText(el.policy, running === 'live' ? '' : t(`policy_${running}`, { n: B.exam.interval }));
    }
    setHidden(el.note, !truncated);
    if (truncated) setText(el.note, t('truncated', { shown, total: B.totalRows }));
    setAttr(el.table, 'data-rows', String(shown));
    setHidden(el.empty, !(B.everSnapshot && shown === 0));
    const v = Math.max(B.version, 0);
    setAttr(el.version, 'data-version', String(v));
    setText(el.version, B.everSnapshot ? t('version', { v }) : '');
    setText(el.lastUpdate, B.lastUpdate ? t('last_update', { time: hms(B.lastUpdate) }) : t('no_update'));
    renderBanner();
  }

  // ---------------------------------------------------------------- live feed
  function setLive(state) {
    if (B.liveState === state) return;
    B.liveState = state;
    renderLive();
  }

  function renderLive() {
    Ujian.showLive(el.live, el.liveText, B.liveState, 'live_');
    renderBanner();
  }

  function renderBanner() {
    let text = '';
    if (B.liveState === 'reconnecting') {
      if (B.notFound) text = t('banner_not_found');
      else if (B.lastUpdate) text = t('banner_reconnecting', { time: hms(B.lastUpdate) });
      else text = t('banner_reconnecting_nodata');
    }
    setHidden(el.banner, !text);
    setText(el.banner, text);
  }

  function connect() {
    B.retry.cancel();
    if (B.es) B.es.close();
    let es;
    try {
      es = new EventSource(apiPath(route.kind, route.id, route.exam, '/feed'));
    } catch (e) {
      console.warn('board feed:', e);
      retryLater();
      return;
    }
    B.es = es;
    const handle = (fn) => (ev) => {
      if (B.es !== es) return;
      let data;
      try {
        data = JSON.parse(ev.data);
        fn(data);
      } catch (e) {
        // A frame we cannot apply: start again from a fresh snapshot.
        console.warn('board feed: bad frame, reconnecting:', e);
        connect();
        return;
      }
      B.retry.reset();
      B.notFound = false;
      setLive('connected');
    };
    es.addEventListener('snapshot', handle(onSnapshot));
    es.addEventListener('delta', handle(onDelta));
    es.addEventListener('error', () => {
      if (B.es !== es) return;
      setLive('reconnecting');
      if (es.readyState === EventSource.CLOSED) {
        // An HTTP error (e.g. 404 before the board exists): EventSource gives up, we do not.
        es.close();
        B.es = null;
        probe();
        retryLater();
      }
    });
  }

  function retryLater() {
    B.retry.schedule(connect);
  }

  // Why did the feed fail? A 404 means the board does not exist (yet).
  async function probe() {
    try {
      const res = await fetch(apiPath(route.kind, route.id, route.exam), { cache: 'no-store', headers: { Accept: 'application/json' } });
      B.notFound = res.status === 404;
    } catch (_) {
      B.notFound = false;
    }
    renderBanner();
  }

  window.addEventListener('online', () => {
    if (route.view === 'board' && !B.es) { B.retry.reset(); connect(); }
  });

  // ---------------------------------------------------------------- big screen
  function applyBigLabels() {
    el.bigToggle.textContent = t(B.big ? 'big_off' : 'big_on');
    el.bigToggle.setAttribute('aria-pressed', B.big ? 'true' : 'false');
  }

  function setBig(on) {
    B.big = on;
    el.body.dataset.big = on ? 'true' : 'false';
    document.documentElement.classList.toggle('big', on);
    applyBigLabels();
    const url = new URL(location.href);
    if (on) url.searchParams.set('big', '1');
    else url.searchParams.delete('big');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    // Short or long status labels.
    for (const rec of B.rows.values()) if (rec.tr) updateRowDom(rec, true);
    el.wrap.scrollTop = 0;
    window.scrollTo(0, 0);
    B.page = 0;
    if (on) layoutPages(true);
    else stopPaging();
  }

  el.bigToggle.addEventListener('click', () => setBig(!B.big));

  document.addEventListener('keydown', (ev) => {
    if (route.view !== 'board' || ev.ctrlKey || ev.altKey || ev.metaKey) return;
    if (Ujian.typing(ev.target)) return;
    if (ev.key === 'b' || ev.key === 'B') { ev.preventDefault(); setBig(!B.big); return; }
    if (!B.big) return;
    if (ev.key === 'Escape') { setBig(false); return; }
    if (ev.key === 'PageDown' || ev.key === 'ArrowDown' || ev.key === ' ') { ev.preventDefault(); showPage(B.page + 1); return; }
    if (ev.key === 'PageUp' || ev.key === 'ArrowUp') { ev.preventDefault(); showPage(B.page - 1); return; }
    if (ev.key === 'Home') { ev.preventDefault(); showPage(0); }
  });

  // Measures how many rows fit in the window; keeps the current page; (re)starts the timer.
  function layoutPages(restart) {
    if (!B.big) return;
    const first = el.tbody.firstElementChild;
    const head = el.table.tHead;
    const rowH = first ? first.getBoundingClientRect().height : 0;
    const headH = head ? head.getBoundingClientRect().height : 0;
    // Room from the top of the table to the page progress bar at the bottom of the window.
    const bar = el.progressBar.parentNode.getBoundingClientRect().height;
    const avail = window.innerHeight - el.wrap.getBoundingClientRect().top - bar - headH - 4;
    const perPage = rowH > 0 ? Math.max(1, Math.floor((avail + 0.5) / rowH)) : 1;
    // The table shows whole rows only: no half row of the next page at the bottom.
    el.wrap.style.maxHeight = rowH > 0 ? `${Math.ceil(headH + perPage * rowH + 2)}px` : '';
    const pages = Math.max(1, Math.ceil(B.rows.size / perPage));
    const changed = perPage !== B.perPage || pages !== B.pages || Math.abs(rowH - B.rowH) > 0.5;
    B.perPage = perPage;
    B.pages = pages;
    B.pagedRows = B.rows.size;
    B.rowH = rowH;
    if (B.page >= pages) B.page = 0;
    if (changed || restart) scrollToPage(false);
    if (restart || !B.pageTimer) startPageTimer();
    setText(el.pageNo, `${B.page + 1}/${B.pages}`);
  }

  function scrollToPage(fade) {
    const target = Math.round(B.page * B.perPage * B.rowH);
    if (el.wrap.scrollTop !== target) {
      el.wrap.scrollTop = target;
      if (fade && !reducedMotion() && el.tbody.animate) {
        el.tbody.animate([{ opacity: 0.15 }, { opacity: 1 }], { duration: 350, easing: 'ease-out' });
      }
    }
    setText(el.pageNo, `${B.page + 1}/${B.pages}`);
  }

  function showPage(p) {
    if (!B.big) return;
    B.page = ((p % B.pages) + B.pages) % B.pages;
    scrollToPage(true);
    startPageTimer();
  }

  function startPageTimer() {
    clearTimeout(B.pageTimer);
    B.pageTimer = setTimeout(() => {
      B.pageTimer = 0;
      layoutPages(false);
      showPage(B.page + 1);
    }, PAGE_MS);
    if (B.progressAnim) B.progressAnim.cancel();
    B.progressAnim = null;
    if (B.pages > 1 && el.progressBar.animate) {
      B.progressAnim = el.progressBar.animate(
        [{ transform: 'scaleX(0)' }, { transform: 'scaleX(1)' }],
        { duration: PAGE_MS, easing: 'linear', fill: 'forwards' },
      );
    }
    el.body.dataset.pages = String(B.pages);
  }

  function stopPaging() {
    el.wrap.style.maxHeight = '';
    clearTimeout(B.pageTimer);
    B.pageTimer = 0;
    if (B.progressAnim) B.progressAnim.cancel();
    B.progressAnim = null;
  }

  let resizeFrame = 0;
  window.addEventListener('resize', () => {
    if (route.view !== 'board' || !B.big || resizeFrame) return;
    resizeFrame = requestAnimationFrame(() => { resizeFrame = 0; layoutPages(false); });
  });

  // ------------------------------------------------------------------ audit head
  // The audit chain's latest signed head, linked to its JSON: anyone can keep it and later
  // check that the stored chain still passes through it (`ujian audit verify --head`).
  let auditHead = null;
  function renderAuditHead() {
    const node = $('audit-head');
    if (!node) return;
    node.textContent = auditHead
      ? t('audit_head', { seq: auditHead.seq, hash: String(auditHead.hash).slice(0, 16), time: auditHead.signed_at })
      : '';
  }
  function loadAuditHead() {
    fetch('/api/v1/audit/head', { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : null))
      .then((h) => { auditHead = h; renderAuditHead(); })
      .catch(() => { /* the footer keeps the last head it had */ });
  }

  // ================================================================== start
  if (route.view === 'board') {
    el.body.dataset.big = B.big ? 'true' : 'false';
    document.documentElement.classList.toggle('big', B.big);
    el.body.dataset.kind = route.kind;
    document.documentElement.classList.toggle('stream', !!route.stream);
    showScreen('board');
    applyLanguage();
    renderLive();
    renderMeta();
    connect();
    loadAuditHead();
    setInterval(loadAuditHead, 60000);
    if (B.big) requestAnimationFrame(() => layoutPages(true));
  } else if (route.view === 'index') {
    showScreen('index');
    applyLanguage();
    loadIndex();
  } else {
    showScreen('error');
    applyLanguage();
  }
  tickSecond();
  setInterval(tickSecond, 1000);
  if (route.view === 'board') setInterval(sweepMarks, 250);
})();
