// ujian — candidate exam page. Plain JS, no framework, no build step.
// Speaks the candidate protocol v1 (docs/protocol.md): login over HTTP, then one WebSocket.
// Server data is only ever put into the page with textContent / attributes, never innerHTML.
(function () {
  'use strict';

  // ------------------------------------------------------------------ strings
  const I18N = {
    id: {
      app_name: 'Ujian CAT',
      page_title: 'Ujian CAT',
      connecting: 'Menghubungkan ke server ujian…',
      login_title: 'Masuk Ujian',
      login_intro: 'Masukkan nomor peserta, PIN, dan token sesi yang dibacakan pengawas.',
      participant_no: 'Nomor peserta',
      pin: 'PIN',
      token: 'Token sesi',
      fill_all: 'Isi nomor peserta, PIN, dan token sesi.',
      err_bad_credentials: 'Nomor peserta, PIN, atau token sesi salah.',
      err_too_many_attempts: 'Terlalu banyak percobaan masuk yang gagal. Tunggu beberapa menit, lalu coba lagi, atau minta pengawas membuka kunci masuk Anda.',
      err_login_generic: 'Gagal masuk (kode {status}). Coba lagi atau hubungi pengawas.',
      login_no_socket: 'Berhasil masuk, tetapi sambungan ujian gagal dibuka. Coba lagi.',
      time_left: 'Sisa waktu',
      question_actions: 'Navigasi soal',
      conn_connecting: 'Menghubungkan…',
      conn_online: 'Tersambung',
      conn_reconnecting: 'Menyambung ulang…',
      conn_offline: 'Terputus',
      reconnect_banner: 'Sambungan ke server terputus. Menyambung ulang… Jawaban yang belum tersimpan akan dikirim ulang otomatis.',
      reconnect_banner_long: 'Sambungan ke server belum pulih. Jawaban Anda tetap aman di komputer ini dan akan dikirim setelah tersambung. Jika berlangsung lama, hubungi pengawas.',
      relogin: 'Masuk ulang',
      saving: 'Menyimpan… ({n})',
      saved: 'Semua jawaban tersimpan',
      question_of: 'Soal {n} dari {total}',
      section_label: '{code} — {name}',
      flag: 'Ragu-ragu',
      prev: 'Sebelumnya',
      next: 'Berikutnya',
      clear: 'Hapus jawaban',
      finish: 'Selesai',
      nav_title: 'Nomor soal',
      nav_item_label: 'Soal {n}: {state}',
      state_answered: 'sudah dijawab',
      state_doubtful: 'ragu-ragu',
      state_unanswered: 'belum dijawab',
      legend_answered: 'Sudah dijawab',
      legend_doubtful: 'Ragu-ragu',
      legend_unanswered: 'Belum dijawab',
      legend_current: 'Soal saat ini',
      progress: '{answered} dari {total} soal dijawab · {flagged} ragu-ragu',
      loading_question: 'Memuat soal…',
      keyboard_help: 'Pintasan: A–E atau 1–5 pilih jawaban · ← → pindah soal · R ragu-ragu',
      question_image: 'Gambar soal {n}',
      option_image: 'Gambar pilihan {label}',
      paused_title: 'Ujian dijeda oleh pengawas',
      paused_body: 'Waktu ujian berhenti selama jeda. Tunggu instruksi pengawas.',
      not_started_title: 'Ujian belum dimulai',
      not_started_body: 'Tunggu instruksi pengawas.',
      takeover_title: 'Sesi dibuka di komputer lain',
      takeover_body: 'Sesi ujian Anda sekarang dibuka di komputer lain, sehingga halaman ini tidak lagi tersambung.',
      takeover_hint: 'Jika Anda tetap mengerjakan di komputer ini, tekan tombol di bawah. Komputer lain akan diputus.',
      takeover_button: 'Lanjutkan ujian di komputer ini',
      confirm_title: 'Selesaikan ujian?',
      confirm_unanswered_label: 'Belum dijawab',
      confirm_flagged_label: 'Ditandai ragu-ragu',
      confirm_numbers: 'Nomor soal yang belum dijawab: {list}',
      confirm_flag_numbers: 'Nomor soal yang ragu-ragu: {list}',
      confirm_all_answered: 'Semua soal sudah dijawab.',
      confirm_pending: 'Masih ada {n} jawaban yang sedang disimpan; jawaban itu dikirim lebih dulu.',
      confirm_warning: 'Setelah diselesaikan, jawaban tidak dapat diubah lagi.',
      confirm_ok: 'Ya, selesaikan',
      confirm_cancel: 'Kembali ke soal',
      finishing: 'Mengirim jawaban…',
      result_title: 'Hasil Ujian',
      result_total: 'Nilai total',
      result_section: 'Bagian',
      result_score: 'Nilai',
      reason: 'Keterangan',
      reason_submitted: 'Selesai',
      reason_time_up: 'Waktu habis',
      reason_terminated: 'Dihentikan',
      passed: 'Memenuhi ambang batas',
      not_passed: 'Tidak memenuhi ambang batas',
      receipt: 'Kode tanda terima',
      result_note: 'Catat kode tanda terima ini. Kode ini menunjuk hasil yang tersimpan di server.',
      result_threshold: 'Ambang batas',
      result_met: 'Keterangan',
      met: 'Memenuhi',
      not_met: 'Tidak memenuhi',
      receipt_full: 'Tanda terima lengkap (bertanda tangan)',
      receipt_qr: 'Kode QR tanda terima lengkap {code}',
      print_slip: 'Cetak bukti',
      time_up_waiting: 'Waktu habis. Menunggu hasil dari server…',
      e_internal: 'Server gagal menyimpan; mencoba lagi…',
      e_generic: 'Server menolak perubahan: {message}',
    },
    en: {
      app_name: 'CAT Exam',
      page_title: 'CAT Exam',
      connecting: 'Connecting to the exam server…',
      login_title: 'Exam login',
      login_intro: 'Enter your participant number, PIN and the session token read out by the supervisor.',
      participant_no: 'Participant number',
      pin: 'PIN',
      token: 'Session token',
      fill_all: 'Enter participant number, PIN and session token.',
      err_bad_credentials: 'Wrong participant number, PIN or session token.',
      err_too_many_attempts: 'Too many failed login attempts. Wait a few minutes, then try again, or ask the supervisor to unlock your login.',
      err_login_generic: 'Login failed (code {status}). Try again or ask the supervisor.',
      login_no_socket: 'Logged in, but the exam connection could not be opened. Try again.',
      time_left: 'Time left',
      question_actions: 'Question navigation',
      conn_connecting: 'Connecting…',
      conn_online: 'Connected',
      conn_reconnecting: 'Reconnecting…',
      conn_offline: 'Disconnected',
      reconnect_banner: 'Lost the connection to the server. Reconnecting… Unsaved answers will be sent again automatically.',
      reconnect_banner_long: 'The connection has not come back yet. Your answers are kept on this computer and will be sent once connected. If this lasts, ask the supervisor.',
      relogin: 'Log in again',
      saving: 'Saving… ({n})',
      saved: 'All answers saved',
      question_of: 'Question {n} of {total}',
      section_label: '{code} — {name}',
      flag: 'Not sure',
      prev: 'Previous',
      next: 'Next',
      clear: 'Clear answer',
      finish: 'Finish',
      nav_title: 'Questions',
      nav_item_label: 'Question {n}: {state}',
      state_answered: 'answered',
      state_doubtful: 'not sure',
      state_unanswered: 'not answered',
      legend_answered: 'Answered',
      legend_doubtful: 'Not sure',
      legend_unanswered: 'Not answered',
      legend_current: 'Current question',
      progress: '{answered} of {total} answered · {flagged} not sure',
      loading_question: 'Loading question…',
      keyboard_help: 'Shortcuts: A–E or 1–5 choose · ← → move · R not sure',
      question_image: 'Picture for question {n}',
      option_image: 'Picture for option {label}',
      paused_title: 'The exam was paused by the supervisor',
      paused_body: 'The clock is stopped during the pause. Wait for the supervisor.',
      not_started_title: 'The exam has not started',
      not_started_body: 'Wait for the supervisor.',
      takeover_title: 'Session opened on another computer',
      takeover_body: 'Your exam session is now open on another computer, so this page is no longer connected.',
      takeover_hint: 'If you are continuing on this computer, press the button below. The other computer will be disconnected.',
      takeover_button: 'Continue the exam on this computer',
      confirm_title: 'Finish the exam?',
      confirm_unanswered_label: 'Not answered',
      confirm_flagged_label: 'Marked not sure',
      confirm_numbers: 'Questions not answered: {list}',
      confirm_flag_numbers: 'Questions marked not sure: {list}',
      confirm_all_answered: 'All questions are answered.',
      confirm_pending: '{n} answers are still being saved; they are sent first.',
      confirm_warning: 'Once finished, answers can no longer be changed.',
      confirm_ok: 'Yes, finish',
      confirm_cancel: 'Back to the questions',
      finishing: 'Submitting…',
      result_title: 'Exam result',
      result_total: 'Total score',
      result_section: 'Section',
      result_score: 'Score',
      reason: 'Ended by',
      reason_submitted: 'Submitted',
      reason_time_up: 'Time is up',
      reason_terminated: 'Terminated',
      passed: 'Meets the passing thresholds',
      not_passed: 'Does not meet the passing thresholds',
      receipt: 'Receipt code',
      result_note: 'Write down this receipt code. It names the result stored on the server.',
      result_threshold: 'Threshold',
      result_met: 'Result',
      met: 'Met',
      not_met: 'Not met',
      receipt_full: 'Full signed receipt',
      receipt_qr: 'QR code of the full receipt {code}',
      print_slip: 'Print slip',
      time_up_waiting: 'Time is up. Waiting for the result from the server…',
      e_internal: 'The server could not save; retrying…',
      e_generic: 'The server refused the change: {message}',
    },
  };

  Ujian.strings(I18N);
  const { $, t, errorText, countdown: fmtTime } = Ujian;

  // ------------------------------------------------------------------ dom helpers
  const el = {
    body: document.body,
    examTitle: $('exam-title'),
    participantNo: $('participant-no'),
    candidateName: $('candidate-name'),
    connStatus: $('conn-status'),
    connText: $('conn-text'),
    saveStatus: $('save-status'),
    countdown: $('countdown'),
    langToggle: $('lang-toggle'),
    banner: $('reconnect-banner'),
    bannerText: $('reconnect-text'),
    relogin: $('relogin-button'),
    app: $('app'),
    screens: {
      boot: $('screen-boot'),
      login: $('screen-login'),
      exam: $('screen-exam'),
      result: $('screen-result'),
      takeover: $('screen-takeover'),
    },
    loginForm: $('login-form'),
    loginParticipant: $('login-participant'),
    loginPin: $('login-pin'),
    loginToken: $('login-token'),
    loginError: $('login-error'),
    loginSubmit: $('login-submit'),
    question: $('question'),
    questionSection: $('question-section'),
    questionNumber: $('question-number'),
    questionLoading: $('question-loading'),
    stem: $('question-stem'),
    image: $('question-image'),
    options: $('options'),
    flag: $('flag-toggle'),
    prev: $('prev-button'),
    next: $('next-button'),
    clear: $('clear-button'),
    navGrid: $('nav-grid'),
    progress: $('progress'),
    finish: $('finish-button'),
    confirm: $('confirm-dialog'),
    confirmUnanswered: $('confirm-unanswered'),
    confirmFlagged: $('confirm-flagged'),
    confirmNumbers: $('confirm-numbers'),
    confirmFlagNumbers: $('confirm-flag-numbers'),
    confirmOk: $('confirm-ok'),
    confirmCancel: $('confirm-cancel'),
    paused: $('paused-overlay'),
    pausedTitle: $('paused-title'),
    pausedBody: $('paused-body'),
    finishing: $('finishing-overlay'),
    resultWho: $('result-who'),
    resultReason: $('result-reason'),
    resultTotal: $('result-total'),
    resultScores: $('result-scores-body'),
    resultPassed: $('result-passed'),
    resultReceipt: $('result-receipt'),
    resultReceiptFull: $('result-receipt-full'),
    resultReceiptFullBox: $('result-receipt-full-box'),
    resultQr: $('result-qr'),
    print: $('print-button'),
    logout: $('logout-button'),
    takeoverReclaim: $('takeover-reclaim'),
    toasts: $('toasts'),
  };

  // ------------------------------------------------------------------ state
  const PING_MS = 20000;
  const STALE_MS = 50000; // no frame at all for this long: treat the socket as dead
  const LOW_TIME_MS = 5 * 60 * 1000;

  const retry = new Ujian.Backoff(500, 10000, 1000);

  const S = {
    screen: 'boot',
    ws: null,
    wsWelcomed: false, // the current socket got its welcome
    everWelcomed: false, // this page has had a welcome at least once (knows its seq)
    wantSocket: false, // reconnect automatically when the socket closes
    failedAttempts: 0,
    pingTimer: null,
    lastFrameAt: 0,

    session: null,
    exam: '',
    title: '',
    participantNo: '',
    name: '',
    sections: [],
    total: 0,
    status: 'active',
    result: null,

    serverAnswers: new Map(), // index -> label, as acknowledged by the server
    serverFlags: new Set(),
    pending: [], // unacknowledged state-changing messages: {seq, msg, sent}
    nextSeq: 1,

    current: 0,
    questions: new Map(), // index -> question message (cache)
    requested: new Set(), // indexes with a `get` in flight on the current socket
    refusals: 0, // messages the server refused for coming too fast (shown to tests)

    remainingMs: null,
    remainingAt: 0,
    clockRunning: false,
    timeUpSince: 0,

    focusState: 'focused',
    finishRequested: false,
    expiredWaitTimer: null,
    loginAttempt: false, // logged in just now: a failing socket is a network problem, not a bad cookie
  };

  // ------------------------------------------------------------------ language
  function applyLanguage() {
    Ujian.translatePage(el.langToggle);
    document.title = t('page_title');
    el.app.querySelector('#question-actions').setAttribute('aria-label', t('question_actions'));
    if (el.loginError.dataset.code) showLoginError(el.loginError.dataset.code, el.loginError.dataset.status);
    renderAll();
  }

  Ujian.languageSwitch(el.langToggle, applyLanguage);

  // ------------------------------------------------------------------ screens
  function showScreen(name) {
    S.screen = name;
    el.body.dataset.screen = name;
    for (const [key, node] of Object.entries(el.screens)) node.hidden = key !== name;
    if (name !== 'exam') {
      el.paused.hidden = true;
      el.finishing.hidden = true;
      if (el.confirm.open) el.confirm.close();
      el.app.inert = false;
    }
    updateBanner();
  }

  function clearToasts() {
    el.toasts.textContent = '';
  }

  function toast(message, kind) {
    Ujian.toast(el.toasts, message, kind, 6000);
  }

  // ------------------------------------------------------------------ login
  function showLogin(prefill) {
    stopSocket();
    showScreen('login');
    el.loginSubmit.disabled = false;
    el.loginSubmit.textContent = t('login_button');
    if (prefill && !el.loginParticipant.value) el.loginParticipant.value = prefill;
    (el.loginParticipant.value ? el.loginPin : el.loginParticipant).focus();
  }

  function showLoginError(code, status) {
    let msg;
    if (code === 'fill_all') msg = t('fill_all');
    else if (code === 'no_socket') msg = t('login_no_socket');
    else msg = errorText(code) || t('err_login_generic', { status: status || '?' });
    el.loginError.dataset.code = code;
    el.loginError.dataset.status = status || '';
    el.loginError.textContent = msg;
    el.loginError.hidden = false;
  }

  function clearLoginError() {
    delete el.loginError.dataset.code;
    el.loginError.hidden = true;
    el.loginError.textContent = '';
  }

  for (const input of [el.loginParticipant, el.loginToken]) {
    input.addEventListener('input', () => {
      const pos = input.selectionStart;
      const up = input.value.toUpperCase();
      if (up !== input.value) { input.value = up; input.setSelectionRange(pos, pos); }
    });
  }

  el.loginForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      participant_no: el.loginParticipant.value.trim(),
      pin: el.loginPin.value.trim(),
      token: el.loginToken.value.trim(),
    };
    if (!body.participant_no || !body.pin || !body.token) {
      showLoginError('fill_all');
      return;
    }
    clearLoginError();
    el.loginSubmit.disabled = true;
    el.loginSubmit.textContent = t('logging_in');
    let res;
    try {
      res = await fetch('/api/v1/candidate/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
        body: JSON.stringify(body),
      });
    } catch (_) {
      el.loginSubmit.disabled = false;
      el.loginSubmit.textContent = t('login_button');
      showLoginError('network');
      return;
    }
    if (!res.ok) {
      let code = '';
      try {
        const data = await res.json();
        code = (data && data.error && data.error.code) || '';
      } catch (_) { /* not JSON */ }
      if (!code) code = { 400: 'bad_request', 401: 'bad_credentials', 403: 'sitting_not_open', 429: 'too_many_attempts' }[res.status] || 'http';
      el.loginSubmit.disabled = false;
      el.loginSubmit.textContent = t('login_button');
      showLoginError(code, res.status);
      if (code === 'bad_credentials') { el.loginPin.value = ''; el.loginPin.focus(); }
      return;
    }
    el.loginPin.value = '';
    el.loginToken.value = '';
    el.loginSubmit.textContent = t('connecting');
    S.loginAttempt = true; // a socket that fails now is a network problem, not a bad cookie
    openSocket();
  });

  async function logout() {
    try {
      await fetch('/api/v1/candidate/logout', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
    } catch (_) { /* ignore */ }
    forgetSession();
    resetExamState();
    el.loginParticipant.value = '';
    showLogin();
  }
  el.logout.addEventListener('click', logout);
  // The slip: the result card alone, as the print style lays it out.
  el.print.addEventListener('click', () => window.print());
  el.relogin.addEventListener('click', () => showLogin(S.participantNo));

  // ------------------------------------------------------------------ socket
  function openSocket() {
    retry.cancel();
    if (S.ws) detachSocket();
    S.wantSocket = true;
    S.wsWelcomed = false;
    S.requested.clear();
    setConn(S.everWelcomed ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(Ujian.wsUrl('/ws/candidate'));
    } catch (_) {
      onSocketGone(null);
      return;
    }
    S.ws = ws;
    ws.onopen = () => { S.lastFrameAt = performance.now(); };
    ws.onmessage = (ev) => {
      if (S.ws !== ws) return;
      S.lastFrameAt = performance.now();
      let msg;
      try { msg = JSON.parse(ev.data); } catch (_) { return; }
      if (msg && typeof msg === 'object') handleMessage(msg);
    };
    ws.onclose = () => { if (S.ws === ws) onSocketGone(ws); };
    ws.onerror = () => { /* a close event follows */ };
  }

  function detachSocket() {
    const ws = S.ws;
    S.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try { ws.close(); } catch (_) { /* ignore */ }
  }

  function stopSocket() {
    S.wantSocket = false;
    retry.cancel();
    detachSocket();
    S.wsWelcomed = false;
  }

  function onSocketGone(ws) {
    const hadWelcome = S.wsWelcomed;
    S.ws = null;
    S.wsWelcomed = false;
    S.requested.clear();
    if (ws) { ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null; }
    if (!S.wantSocket) return;
    if (S.screen === 'result' || S.screen === 'takeover') { S.wantSocket = false; setConn('offline'); return; }
    if (!hadWelcome && !S.everWelcomed && !S.loginAttempt) {
      // First contact was refused: no valid session cookie (HTTP 401 on the upgrade shows as a close).
      S.wantSocket = false;
      showLogin();
      return;
    }
    if (!hadWelcome) S.failedAttempts++; else S.failedAttempts = 0;
    if (S.loginAttempt && !S.everWelcomed && S.failedAttempts >= 3) {
      // Logged in but the socket keeps failing before any welcome: let the candidate retry by hand.
      S.loginAttempt = false;
      S.wantSocket = false;
      showLogin();
      showLoginError('no_socket');
      return;
    }
    setConn('reconnecting');
    retry.schedule(() => { if (S.wantSocket) openSocket(); });
  }

  function sendRaw(obj) {
    if (!S.ws || S.ws.readyState !== WebSocket.OPEN) return false;
    try { S.ws.send(JSON.stringify(obj)); return true; } catch (_) { return false; }
  }

  function canSend() { return S.ws && S.wsWelcomed && S.ws.readyState === WebSocket.OPEN; }

  // Ping to keep NATs and proxies happy, and notice a socket that died silently.
  function startPing() {
    clearInterval(S.pingTimer);
    S.pingTimer = setInterval(() => {
      if (!S.ws || S.ws.readyState !== WebSocket.OPEN) return;
      if (S.wsWelcomed && performance.now() - S.lastFrameAt > STALE_MS) {
        const ws = S.ws;
        detachSocket();
        onSocketGone(ws);
        return;
      }
      sendRaw({ type: 'ping' });
    }, PING_MS);
  }

  function setConn(state) {
    el.connStatus.dataset.state = state;
    el.connText.textContent = t('conn_' + state);
    updateBanner();
  }

  function updateBanner() {
    const state = el.connStatus.dataset.state;
    const show = S.screen === 'exam' && S.everWelcomed && (state === 'reconnecting' || state === 'offline');
    el.banner.hidden = !show;
    if (show) {
      const long = S.failedAttempts >= 4;
      el.bannerText.textContent = t(long ? 'reconnect_banner_long' : 'reconnect_banner');
      el.relogin.hidden = !long;
    }
  }

  // ------------------------------------------------------------------ outbound state changes
  function storageKey() { return S.session ? 'ujian.pending.' + S.session : null; }

  function persistPending() {
    const key = storageKey();
    if (!key) return;
    try {
      if (S.pending.length) localStorage.setItem(key, JSON.stringify(S.pending));
      else localStorage.removeItem(key);
    } catch (_) { /* ignore */ }
  }

  function loadPending() {
    const key = storageKey();
    if (!key) return [];
    try {
      const list = JSON.parse(localStorage.getItem(key) || '[]');
      return Array.isArray(list) ? list.filter((p) => p && p.msg && typeof p.seq === 'number') : [];
    } catch (_) { return []; }
  }

  function forgetSession() {
    const key = storageKey();
    try {
      if (key) localStorage.removeItem(key);
      if (S.session) sessionStorage.removeItem('ujian.current.' + S.session);
    } catch (_) { /* ignore */ }
  }

  // Queue a state-changing message (answer, flag, finish, event) under the next seq.
  function enqueue(msg) {
    if (!S.everWelcomed) return; // seq unknown until the first welcome
    const item = { seq: S.nextSeq++, msg, sent: false };
    msg.seq = item.seq;
    S.pending.push(item);
    persistPending();
    if (canSend()) { sendRaw(msg); item.sent = true; persistPending(); }
    renderSaveStatus();
    return item;
  }

  function flushPending() {
    if (!canSend()) return;
    for (const item of S.pending) {
      item.msg.seq = item.seq;
      if (sendRaw(item.msg)) item.sent = true;
    }
    persistPending();
  }

  function applyToServerState(msg) {
    if (msg.type === 'answer') {
      if (msg.choice == null) S.serverAnswers.delete(msg.index); else S.serverAnswers.set(msg.index, msg.choice);
    } else if (msg.type === 'flag') {
      if (msg.flagged) S.serverFlags.add(msg.index); else S.serverFlags.delete(msg.index);
    }
  }

  // What the candidate sees: server state with unacknowledged changes on top.
  function shownAnswer(index) {
    let v = S.serverAnswers.has(index) ? S.serverAnswers.get(index) : null;
    for (const p of S.pending) if (p.msg.type === 'answer' && p.msg.index === index) v = p.msg.choice;
    return v;
  }
  function shownFlag(index) {
    let v = S.serverFlags.has(index);
    for (const p of S.pending) if (p.msg.type === 'flag' && p.msg.index === index) v = !!p.msg.flagged;
    return v;
  }
  function isPendingIndex(index) {
    return S.pending.some((p) => (p.msg.type === 'answer' || p.msg.type === 'flag') && p.msg.index === index);
  }

  function nowTs() { return new Date().toISOString(); }

  function interactive() {
    return S.screen === 'exam' && S.everWelcomed && S.status === 'active' && !S.finishRequested && !el.confirm.open;
  }

  // A change to the current question: queued for the server and shown at once.
  function change(msg) {
    enqueue(msg);
    renderQuestion();
    renderNav();
  }

  function choose(label) {
    if (!interactive()) return;
    if (shownAnswer(S.current) === label) { renderQuestion(); return; }
    change({ type: 'answer', seq: 0, index: S.current, choice: label, client_ts: nowTs() });
  }

  function clearAnswer() {
    if (!interactive() || shownAnswer(S.current) == null) return;
    change({ type: 'answer', seq: 0, index: S.current, choice: null, client_ts: nowTs() });
  }

  function toggleFlag() {
    if (!interactive()) return;
    change({ type: 'flag', seq: 0, index: S.current, flagged: !shownFlag(S.current) });
  }

  function sendEvent(kind) {
    if (S.screen !== 'exam' || S.status === 'finished' || S.finishRequested) return;
    enqueue({ type: 'event', seq: 0, kind, client_ts: nowTs() });
  }

  // ------------------------------------------------------------------ navigation
  function goTo(index, focusHeading) {
    if (!S.total) return;
    index = Math.max(0, Math.min(S.total - 1, index));
    S.current = index;
    try { if (S.session) sessionStorage.setItem('ujian.current.' + S.session, String(index)); } catch (_) { /* ignore */ }
    requestQuestion(index);
    if (index + 1 < S.total) requestQuestion(index + 1); // prefetch: next click is instant
    renderQuestion();
    renderNav();
    if (focusHeading) el.questionNumber.focus({ preventScroll: true });
    const cur = el.navGrid.querySelector('[aria-current="true"]');
    if (cur && cur.scrollIntoView) cur.scrollIntoView({ block: 'nearest' });
    window.scrollTo({ top: 0 });
  }

  function requestQuestion(index, force) {
    if (!force && S.questions.has(index)) return;
    if (S.requested.has(index)) return;
    // The server shows no question while paused; resuming asks again.
    if (!canSend() || S.status === 'paused') return;
    if (sendRaw({ type: 'get', index })) S.requested.add(index);
  }

  // ------------------------------------------------------------------ inbound
  function handleMessage(msg) {
    switch (msg.type) {
      case 'welcome': return onWelcome(msg);
      case 'question': return onQuestion(msg);
      case 'ack': return onAck(msg);
      case 'error': return onError(msg);
      case 'pong': return undefined;
      case 'paused': return onPaused(msg);
      case 'resumed':
      case 'extended': return onResumed(msg);
      case 'finished': return onFinished(msg);
      case 'taken_over': return onTakenOver();
      default: return undefined;
    }
  }

  function sectionsFrom(list, total) {
    const out = [];
    let start = 0;
    for (const s of Array.isArray(list) ? list : []) {
      const count = Number(s.count) || 0;
      const st = typeof s.start === 'number' ? s.start : start;
      out.push({ code: String(s.code || ''), name: String(s.name || ''), count, start: st });
      start = st + count;
    }
    if (!out.length && total) out.push({ code: '', name: '', count: total, start: 0 });
    return out;
  }

  function sectionOf(index) {
    for (const s of S.sections) if (index >= s.start && index < s.start + s.count) return s;
    return null;
  }

  function onWelcome(msg) {
    if (S.session && msg.session && S.session !== msg.session) {
      // A different session (another candidate logged in on this PC): start clean.
      resetExamState();
    }
    const firstForPage = !S.everWelcomed;
    S.session = msg.session || S.session;
    S.exam = msg.exam || '';
    S.title = msg.title || msg.exam || '';
    S.participantNo = msg.participant_no || '';
    S.name = msg.name || '';
    S.total = Number(msg.total) || 0;
    S.sections = sectionsFrom(msg.sections, S.total);
    S.status = msg.status || 'active';

    S.serverAnswers = new Map();
    if (msg.answers && typeof msg.answers === 'object') {
      for (const [k, v] of Object.entries(msg.answers)) if (v != null) S.serverAnswers.set(Number(k), String(v));
    }
    S.serverFlags = new Set(Array.isArray(msg.flags) ? msg.flags.map(Number) : []);

    // Unacknowledged changes: those already sent with seq <= last_seq were stored; the rest
    // are sent again with the SAME seq; ones never sent get fresh numbers after them.
    const lastSeq = Number(msg.last_seq) || 0;
    let pending = S.pending;
    if (firstForPage && !pending.length) pending = loadPending();
    const sent = pending.filter((p) => p.sent && p.seq > lastSeq).sort((a, b) => a.seq - b.seq);
    const unsent = pending.filter((p) => !p.sent);
    let next = Math.max(lastSeq, sent.length ? sent[sent.length - 1].seq : 0) + 1;
    for (const p of unsent) { p.seq = next++; p.msg.seq = p.seq; }
    S.pending = sent.concat(unsent);
    S.nextSeq = Math.max(next, S.nextSeq);

    S.wsWelcomed = true;
    S.everWelcomed = true;
    S.loginAttempt = false;
    S.failedAttempts = 0;
    retry.reset();
    S.requested.clear();
    setConn('online');
    startPing();
    setRemaining(msg.remaining_ms, S.status === 'active');

    if (S.status === 'finished') {
      S.pending = [];
      persistPending();
      if (msg.result) { onFinished(msg.result); } else { showScreen('result'); renderResult(); }
      return;
    }

    if (firstForPage) {
      let cur = 0;
      try {
        const saved = sessionStorage.getItem('ujian.current.' + S.session);
        if (saved != null) cur = Number(saved) || 0;
      } catch (_) { /* ignore */ }
      S.current = Math.max(0, Math.min(Math.max(S.total - 1, 0), cur));
    }
    if (S.screen !== 'exam') showScreen('exam');
    S.finishRequested = S.pending.some((p) => p.msg.type === 'finish');
    flushPending();
    persistPending();
    renderHeader();
    applyStatus();
    // Re-request the current question: the server state is the truth after a (re)connect.
    // The welcome that started the session already carries the first one.
    S.questions.delete(S.current);
    if (msg.question && Number(msg.question.index) === S.current) onQuestion(msg.question);
    else requestQuestion(S.current, true);
    if (S.current + 1 < S.total) requestQuestion(S.current + 1);
    renderAll();
    if (firstForPage) el.questionNumber.focus({ preventScroll: true });
    if (S.focusState === 'focused' && !document.hasFocus()) { S.focusState = 'lost'; sendEvent('focus_lost'); }
  }

  function onQuestion(msg) {
    const index = Number(msg.index);
    if (!Number.isInteger(index)) return;
    S.requested.delete(index);
    S.questions.set(index, msg);
    if (!isPendingIndex(index)) {
      if (msg.choice == null) S.serverAnswers.delete(index); else S.serverAnswers.set(index, String(msg.choice));
      if (msg.flagged) S.serverFlags.add(index); else S.serverFlags.delete(index);
      renderNav();
    }
    if (index === S.current) renderQuestion();
  }

  // Sends again what the server refused for coming too fast, and asks again for the
  // question on screen if it never came: after a wait that grows while refusals go on
  // (with jitter, so a room does not retry in step). A reconnect sends everything anyway.
  const slowDown = new Ujian.Backoff(500, 8000, 500);
  function retryRefused() {
    if (slowDown.waiting) return;
    slowDown.schedule(() => {
      if (!canSend()) return;
      for (const item of S.pending) {
        if (item.limited) { item.limited = false; sendRaw(item.msg); }
      }
      if (S.screen === 'exam' && !S.questions.has(S.current)) requestQuestion(S.current, true);
    });
  }

  function onAck(msg) {
    slowDown.reset();
    if (typeof msg.remaining_ms === 'number') setRemaining(msg.remaining_ms, S.status === 'active');
    const i = S.pending.findIndex((p) => p.seq === msg.seq);
    if (i < 0) return;
    const [item] = S.pending.splice(i, 1);
    applyToServerState(item.msg);
    persistPending();
    renderSaveStatus();
    if (item.msg.type === 'answer' || item.msg.type === 'flag') {
      renderNav();
      if (item.msg.index === S.current) renderQuestion();
    }
  }

  // Refusals of the connection itself: this login no longer opens the exam (the sitting
  // closed before it started, another login holds the seat, it expired).
  const LOGIN_ENDED = { sitting_closed: 1, seat_locked: 1, token_expired: 1 };

  function onError(msg) {
    const code = msg.code || '';
    if (LOGIN_ENDED[code] && msg.seq == null) {
      S.loginAttempt = false;
      showLogin(S.participantNo);
      showLoginError(code);
      return;
    }
    const item = msg.seq != null ? S.pending.find((p) => p.seq === msg.seq) : null;
    if (code === 'rate_limited') {
      // Sent faster than the server takes: the change was not applied, so it goes again
      // under the same seq after a wait. A refusal naming no change was a question asked for.
      S.refusals += 1;
      if (item) item.limited = true;
      else S.requested.clear();
      retryRefused();
      renderSaveStatus();
      return;
    }
    if (!item && msg.seq == null && S.requested.size) {
      // A question asked for did not come: ask again after a wait, not on the next click.
      S.requested.clear();
      retryRefused();
    }
    if (item && code === 'internal') {
      // Not stored: send the same seq again shortly.
      toast(t('e_internal'), 'error');
      setTimeout(() => { if (canSend() && S.pending.includes(item)) sendRaw(item.msg); }, 1000);
      return;
    }
    if (item) {
      S.pending.splice(S.pending.indexOf(item), 1);
      if (code === 'bad_seq' && (item.msg.type === 'answer' || item.msg.type === 'flag' || item.msg.type === 'finish')) {
        // Never stored under that number: send it again under a fresh one, unless a later
        // change to the same question already supersedes it.
        const superseded = item.msg.type !== 'finish' && S.pending.some((p) => p.msg.type === item.msg.type && p.msg.index === item.msg.index);
        if (!superseded) { const copy = Object.assign({}, item.msg); enqueue(copy); }
        persistPending();
        renderAll();
        return;
      }
      persistPending();
      if (item.msg.type === 'finish') { S.finishRequested = false; el.finishing.hidden = true; }
      renderAll();
      if (item.msg.type === 'event') return; // events are best effort; do not bother the candidate
    }
    if (code === 'time_expired' || code === 'finished') {
      toast(errorText(code, 'e_'), 'error');
      expectFinished();
      return;
    }
    if (code === 'paused') {
      // A question asked for while paused is not sent; it is asked for again on resume.
      S.requested.clear();
      if (S.status !== 'paused') { S.status = 'paused'; setRemaining(remainingNow(), false); applyStatus(); }
      toast(errorText(code, 'e_'), 'error');
      return;
    }
    toast(errorText(code, 'e_') || t('e_generic', { message: msg.message || code }), 'error');
  }

  // The session is over on the server; `finished` should follow. If it does not, reconnect:
  // the welcome of a finished session carries the result.
  function expectFinished() {
    S.finishRequested = true;
    el.finishing.hidden = false;
    if (S.expiredWaitTimer) return;
    S.expiredWaitTimer = setTimeout(() => {
      S.expiredWaitTimer = null;
      if (S.screen === 'exam') { const ws = S.ws; detachSocket(); onSocketGone(ws); }
    }, 4000);
  }

  function onPaused() {
    S.status = 'paused';
    setRemaining(remainingNow(), false);
    applyStatus();
  }

  function onResumed(msg) {
    if (S.status !== 'finished') S.status = 'active';
    if (typeof msg.remaining_ms === 'number') setRemaining(msg.remaining_ms, true);
    else setRemaining(remainingNow(), true);
    applyStatus();
    if (msg.type === 'extended') toast(t('time_left') + ': ' + fmtTime(remainingNow()));
    // Questions are not sent while paused: fetch the ones this page is waiting for.
    if (S.status === 'active' && S.screen === 'exam') {
      S.requested.clear();
      requestQuestion(S.current);
      if (S.current + 1 < S.total) requestQuestion(S.current + 1);
    }
  }

  function onFinished(msg) {
    // The result answers "Waktu habis. Menunggu hasil…": that toast goes with it.
    clearToasts();
    S.timeUpSince = 0;
    clearTimeout(S.expiredWaitTimer);
    S.expiredWaitTimer = null;
    S.status = 'finished';
    S.result = msg;
    S.pending = [];
    persistPending();
    S.clockRunning = false;
    S.finishRequested = false;
    stopSocket();
    clearInterval(S.pingTimer);
    setConn('offline');
    showScreen('result');
    renderResult();
    el.logout.focus();
  }

  function onTakenOver() {
    S.wantSocket = false;
    // Changes made here but not stored lose to the newer seat.
    S.pending = [];
    persistPending();
    detachSocket();
    S.wsWelcomed = false;
    clearInterval(S.pingTimer);
    S.clockRunning = false;
    setConn('offline');
    showScreen('takeover');
    el.takeoverReclaim.focus();
  }

  el.takeoverReclaim.addEventListener('click', () => {
    showScreen('boot');
    S.failedAttempts = 0;
    retry.reset();
    openSocket();
  });

  function applyStatus() {
    const blocked = S.screen === 'exam' && (S.status === 'paused' || S.status === 'not_started');
    if (blocked) {
      const ns = S.status === 'not_started';
      el.pausedTitle.textContent = t(ns ? 'not_started_title' : 'paused_title');
      el.pausedBody.textContent = t(ns ? 'not_started_body' : 'paused_body');
      if (el.confirm.open) el.confirm.close();
    }
    el.paused.hidden = !blocked;
    el.finishing.hidden = !(S.screen === 'exam' && S.finishRequested);
    el.app.inert = blocked || (S.screen === 'exam' && S.finishRequested);
    renderClock();
  }

  function resetExamState() {
    S.session = null;
    S.everWelcomed = false;
    S.serverAnswers = new Map();
    S.serverFlags = new Set();
    S.pending = [];
    S.nextSeq = 1;
    S.questions = new Map();
    S.requested = new Set();
    S.current = 0;
    S.result = null;
    S.status = 'active';
    S.finishRequested = false;
    S.remainingMs = null;
    S.clockRunning = false;
    el.navGrid.textContent = '';
    el.navGrid.dataset.built = '';
  }

  // ------------------------------------------------------------------ clock
  function setRemaining(ms, running) {
    if (typeof ms === 'number' && isFinite(ms)) {
      S.remainingMs = Math.max(0, ms);
      S.remainingAt = performance.now();
    }
    S.clockRunning = !!running;
    renderClock();
  }

  function remainingNow() {
    if (S.remainingMs == null) return null;
    if (!S.clockRunning) return S.remainingMs;
    return Math.max(0, S.remainingMs - (performance.now() - S.remainingAt));
  }

  function renderClock() {
    const ms = remainingNow();
    const text = fmtTime(ms);
    if (el.countdown.textContent !== text) el.countdown.textContent = text;
    el.countdown.classList.toggle('low', ms != null && ms < LOW_TIME_MS);
    el.countdown.classList.toggle('stopped', !S.clockRunning);
    el.countdown.dataset.remainingMs = ms == null ? '' : String(Math.round(ms));
    if (ms === 0 && S.clockRunning && S.screen === 'exam') {
      // The server owns time; give it a moment to send `finished`, then ask for a fresh welcome.
      if (!S.timeUpSince) { S.timeUpSince = performance.now(); toast(t('time_up_waiting')); }
      else if (performance.now() - S.timeUpSince > 5000) { S.timeUpSince = performance.now(); expectFinished(); }
    } else {
      S.timeUpSince = 0;
    }
  }
  setInterval(renderClock, 250);

  // ------------------------------------------------------------------ rendering
  function renderAll() {
    renderHeader();
    renderClock();
    if (S.screen === 'exam') { renderQuestion(); renderNav(); renderSaveStatus(); applyStatus(); }
    if (S.screen === 'result') renderResult();
    const state = el.connStatus.dataset.state;
    el.connText.textContent = t('conn_' + state);
    updateBanner();
  }

  function renderHeader() {
    el.examTitle.textContent = S.title || '';
    el.participantNo.textContent = S.participantNo || '';
    el.candidateName.textContent = S.name || '';
  }

  function renderSaveStatus() {
    const n = S.pending.filter((p) => p.msg.type !== 'event').length;
    el.saveStatus.dataset.pending = String(S.pending.length);
    // How many the server refused for coming too fast, waiting to go again.
    el.saveStatus.dataset.refused = String(S.pending.filter((p) => p.limited).length);
    el.saveStatus.dataset.refusals = String(S.refusals);
    el.saveStatus.textContent = n ? t('saving', { n }) : (S.everWelcomed ? t('saved') : '');
  }

  let renderedSig = ''; // what the question card shows now, to avoid needless rebuilds

  function renderQuestion() {
    if (S.screen !== 'exam' || !S.total) return;
    const idx = S.current;
    const q = S.questions.get(idx);
    const sec = sectionOf(idx);
    el.question.dataset.index = String(idx);
    el.questionNumber.textContent = t('question_of', { n: idx + 1, total: S.total });
    const code = (q && q.section) || (sec && sec.code) || '';
    const secInfo = S.sections.find((s) => s.code === code) || sec;
    el.questionSection.textContent = secInfo && secInfo.name ? t('section_label', { code: secInfo.code, name: secInfo.name }) : code;
    el.prev.disabled = idx <= 0;
    el.next.disabled = idx >= S.total - 1;
    const flagged = shownFlag(idx);
    el.flag.setAttribute('aria-pressed', flagged ? 'true' : 'false');
    const answer = shownAnswer(idx);
    el.clear.disabled = answer == null;

    if (!q) {
      el.question.dataset.loaded = 'false';
      renderedSig = '';
      el.questionLoading.hidden = false;
      el.stem.textContent = '';
      el.image.hidden = true;
      el.image.removeAttribute('src');
      el.options.textContent = '';
      return;
    }
    el.question.dataset.loaded = 'true';
    el.questionLoading.hidden = true;
    const sig = idx + '\u0000' + JSON.stringify([q.stem, q.image, q.options]);
    const fresh = renderedSig !== sig;
    renderedSig = sig;
    if (fresh) el.stem.textContent = String(q.stem || '').replace(/^\n+|\s+$/g, '');
    setImage(el.image, q.image, t('question_image', { n: idx + 1 }));

    const options = Array.isArray(q.options) ? q.options : [];
    const pendingIdx = isPendingIndex(idx) && S.pending.some((p) => p.msg.type === 'answer' && p.msg.index === idx);
    if (fresh) {
      el.options.textContent = '';
      options.forEach((opt, i) => {
        const label = String(opt.label || String.fromCharCode(65 + i));
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'option';
        b.dataset.label = label;
        b.setAttribute('data-testid', 'option-' + label);
        const letter = document.createElement('span');
        letter.className = 'option-letter';
        letter.textContent = label;
        letter.setAttribute('aria-hidden', 'true');
        const body = document.createElement('span');
        body.className = 'option-body';
        const text = document.createElement('span');
        text.className = 'option-text';
        text.textContent = String(opt.text || '');
        body.appendChild(text);
        if (opt.image) {
          const img = document.createElement('img');
          img.className = 'option-image';
          setImage(img, opt.image, t('option_image', { label }));
          body.appendChild(img);
        }
        b.setAttribute('aria-label', label + '. ' + String(opt.text || ''));
        b.append(letter, body);
        b.addEventListener('click', () => choose(label));
        el.options.appendChild(b);
      });
    }
    for (const b of el.options.children) {
      const sel = b.dataset.label === answer;
      b.setAttribute('aria-pressed', sel ? 'true' : 'false');
      b.dataset.selected = sel ? 'true' : 'false';
      b.classList.toggle('pending', sel && pendingIdx);
    }
  }

  // Only same-origin image URLs (the server serves them under /api/v1/assets/).
  function setImage(img, url, alt) {
    let ok = false;
    if (typeof url === 'string' && url) {
      try {
        const u = new URL(url, location.href);
        ok = u.origin === location.origin && (u.protocol === 'http:' || u.protocol === 'https:');
        if (ok && img.getAttribute('src') !== u.pathname + u.search) img.src = u.pathname + u.search;
      } catch (_) { ok = false; }
    }
    if (!ok) img.removeAttribute('src');
    img.alt = alt;
    img.hidden = !ok;
  }

  function buildNav() {
    el.navGrid.textContent = '';
    for (const sec of S.sections) {
      const group = document.createElement('div');
      group.className = 'nav-section';
      group.setAttribute('data-testid', 'nav-section-' + sec.code);
      group.setAttribute('role', 'group');
      const title = document.createElement('h3');
      title.className = 'nav-section-title';
      title.textContent = sec.name ? sec.code + ' — ' + sec.name : sec.code;
      title.title = title.textContent;
      const grid = document.createElement('div');
      grid.className = 'nav-section-grid';
      for (let i = sec.start; i < sec.start + sec.count && i < S.total; i++) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'nav-item';
        b.textContent = String(i + 1);
        b.dataset.index = String(i);
        b.setAttribute('data-testid', 'nav-q-' + (i + 1));
        grid.appendChild(b);
      }
      group.setAttribute('aria-label', title.textContent);
      group.append(title, grid);
      el.navGrid.appendChild(group);
    }
    el.navGrid.dataset.built = S.session + ':' + S.total + ':' + S.sections.map((s) => s.code + s.count).join(',');
  }

  el.navGrid.addEventListener('click', (ev) => {
    const b = ev.target.closest('.nav-item');
    if (!b || !interactiveNav()) return;
    goTo(Number(b.dataset.index), false);
  });

  function interactiveNav() {
    return S.screen === 'exam' && S.everWelcomed && !el.confirm.open && !S.finishRequested && S.status !== 'paused';
  }

  function renderNav() {
    if (S.screen !== 'exam' || !S.total) return;
    const key = S.session + ':' + S.total + ':' + S.sections.map((s) => s.code + s.count).join(',');
    if (el.navGrid.dataset.built !== key) buildNav();
    let answered = 0;
    let flagged = 0;
    for (const b of el.navGrid.querySelectorAll('.nav-item')) {
      const i = Number(b.dataset.index);
      const a = shownAnswer(i) != null;
      const f = shownFlag(i);
      if (a) answered++;
      if (f) flagged++;
      const state = f ? 'doubtful' : a ? 'answered' : 'unanswered';
      if (b.dataset.state !== state) b.dataset.state = state;
      b.dataset.answered = a ? 'true' : 'false';
      b.dataset.flagged = f ? 'true' : 'false';
      b.classList.toggle('pending', isPendingIndex(i));
      if (i === S.current) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
      b.setAttribute('aria-label', t('nav_item_label', { n: i + 1, state: t('state_' + state) }));
    }
    el.progress.textContent = t('progress', { answered, total: S.total, flagged });
  }

  const REASONS = { submitted: 'reason_submitted', time_up: 'reason_time_up', terminated: 'reason_terminated' };

  function renderResult() {
    const r = S.result || {};
    el.resultWho.textContent = [S.participantNo, S.name].filter(Boolean).join(' — ');
    el.resultReason.textContent = REASONS[r.reason] ? t(REASONS[r.reason]) : String(r.reason || '');
    el.resultReason.dataset.reason = String(r.reason || '');
    el.resultTotal.textContent = r.total != null ? String(r.total) : '–';
    el.resultScores.textContent = '';
    const scores = r.scores && typeof r.scores === 'object' ? r.scores : {};
    // Each section against its threshold, as the result's `sections` give them.
    const thresholds = {};
    if (Array.isArray(r.sections)) for (const s of r.sections) if (s && s.code != null) thresholds[s.code] = s;
    const codes = S.sections.map((s) => s.code).filter((c) => Object.prototype.hasOwnProperty.call(scores, c));
    for (const c of Object.keys(scores)) if (!codes.includes(c)) codes.push(c);
    for (const code of codes) {
      const tr = document.createElement('tr');
      tr.setAttribute('data-testid', 'result-score-' + code);
      tr.dataset.section = code;
      const th = document.createElement('th');
      th.scope = 'row';
      const codeSpan = document.createElement('span');
      codeSpan.className = 'code';
      codeSpan.textContent = code;
      th.appendChild(codeSpan);
      const sec = S.sections.find((s) => s.code === code);
      if (sec && sec.name) th.appendChild(document.createTextNode(sec.name));
      const td = document.createElement('td');
      td.className = 'num';
      td.textContent = String(scores[code]);
      const limit = document.createElement('td');
      limit.className = 'num threshold';
      const mark = document.createElement('td');
      mark.className = 'mark';
      const s = thresholds[code];
      if (s && typeof s.passed === 'boolean') {
        limit.textContent = String(s.threshold);
        mark.dataset.met = String(s.passed);
        const sign = document.createElement('span');
        sign.className = 'mark-sign';
        sign.setAttribute('aria-hidden', 'true');
        sign.textContent = s.passed ? '✓' : '✗';
        mark.append(sign, document.createTextNode(' ' + t(s.passed ? 'met' : 'not_met')));
      } else {
        limit.textContent = '–';
      }
      tr.append(th, td, limit, mark);
      el.resultScores.appendChild(tr);
    }
    if (typeof r.passed === 'boolean') {
      el.resultPassed.hidden = false;
      el.resultPassed.textContent = t(r.passed ? 'passed' : 'not_passed');
      el.resultPassed.className = 'result-passed ' + (r.passed ? 'passed' : 'failed');
      el.resultPassed.dataset.passed = String(r.passed);
    } else {
      el.resultPassed.hidden = true;
    }
    el.resultReceipt.textContent = String(r.receipt || '');
    // The signed receipt, as text and as a QR code (drawn by the server from it), for
    // `ujian receipt verify` and the printed slip.
    const full = String(r.receipt_full || '');
    el.resultReceiptFull.textContent = full;
    el.resultReceiptFullBox.hidden = !full;
    const qr = full ? '/api/v1/receipts/qr.svg?receipt=' + encodeURIComponent(full) : '';
    if (el.resultQr.dataset.src !== qr) {
      el.resultQr.dataset.src = qr;
      if (qr) el.resultQr.src = qr;
      else el.resultQr.removeAttribute('src');
    }
    el.resultQr.hidden = !qr;
    el.resultQr.alt = qr ? t('receipt_qr', { code: String(r.receipt || '') }) : '';
  }

  // ------------------------------------------------------------------ finish dialog
  function openConfirm() {
    if (!interactive()) return;
    const unanswered = [];
    const flagged = [];
    for (let i = 0; i < S.total; i++) {
      if (shownAnswer(i) == null) unanswered.push(i + 1);
      if (shownFlag(i)) flagged.push(i + 1);
    }
    el.confirmUnanswered.textContent = String(unanswered.length);
    el.confirmUnanswered.dataset.count = String(unanswered.length);
    el.confirmFlagged.textContent = String(flagged.length);
    el.confirmFlagged.dataset.count = String(flagged.length);
    el.confirmNumbers.textContent = unanswered.length ? t('confirm_numbers', { list: unanswered.join(', ') }) : t('confirm_all_answered');
    el.confirmFlagNumbers.textContent = flagged.length ? t('confirm_flag_numbers', { list: flagged.join(', ') }) : '';
    el.confirmFlagNumbers.hidden = !flagged.length;
    el.confirm.showModal();
    el.confirmCancel.focus();
  }

  el.finish.addEventListener('click', openConfirm);
  el.confirmCancel.addEventListener('click', () => el.confirm.close());
  el.confirmOk.addEventListener('click', () => {
    el.confirm.close();
    if (S.screen !== 'exam' || S.finishRequested) return;
    S.finishRequested = true;
    enqueue({ type: 'finish', seq: 0 });
    applyStatus();
  });

  // ------------------------------------------------------------------ controls & keyboard
  el.prev.addEventListener('click', () => { if (interactiveNav()) goTo(S.current - 1, false); });
  el.next.addEventListener('click', () => { if (interactiveNav()) goTo(S.current + 1, false); });
  el.clear.addEventListener('click', clearAnswer);
  el.flag.addEventListener('click', toggleFlag);

  document.addEventListener('keydown', (ev) => {
    if (S.screen !== 'exam' || ev.defaultPrevented) return;
    if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
    if (Ujian.typing(ev.target)) return;
    if (el.confirm.open || !interactiveNav()) return;
    const key = ev.key;
    if (key === 'ArrowLeft') { ev.preventDefault(); goTo(S.current - 1, false); return; }
    if (key === 'ArrowRight') { ev.preventDefault(); goTo(S.current + 1, false); return; }
    if (ev.repeat) return;
    if (key === 'r' || key === 'R') { ev.preventDefault(); toggleFlag(); return; }
    const q = S.questions.get(S.current);
    if (!q || !Array.isArray(q.options)) return;
    const labels = q.options.map((o, i) => String(o.label || String.fromCharCode(65 + i)));
    let label = null;
    if (/^[a-eA-E]$/.test(key)) {
      label = key.toUpperCase();
      if (!labels.includes(label)) label = null;
    } else if (/^[1-5]$/.test(key)) {
      label = labels[Number(key) - 1] || null;
    }
    if (label) { ev.preventDefault(); choose(label); }
  });

  // ------------------------------------------------------------------ focus events
  window.addEventListener('blur', () => {
    if (S.focusState === 'lost') return;
    S.focusState = 'lost';
    sendEvent('focus_lost');
  });
  window.addEventListener('focus', () => {
    if (S.focusState === 'focused') return;
    S.focusState = 'focused';
    sendEvent('focus_gained');
  });

  // Back online after the OS noticed a network change: try at once instead of waiting.
  window.addEventListener('online', () => {
    if (S.wantSocket && !S.ws && retry.waiting) { retry.reset(); openSocket(); }
  });

  // ------------------------------------------------------------------ start
  applyLanguage();
  showScreen('boot');
  openSocket(); // a valid cookie gets a welcome at once; otherwise the socket closes -> login
})();
