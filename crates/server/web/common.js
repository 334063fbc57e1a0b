// ujian — what the candidate page, the board and the console share: translations and the
// language switch, DOM helpers, reconnect backoff, time formatting, and the texts of the
// server's error codes. Plain JS loaded before each page's own script, no build step; it
// defines one global, `Ujian`.
// Server data is only ever put into a page with textContent / attributes, never innerHTML.
(function () {
  'use strict';

  // ------------------------------------------------------------------ error codes
  // A text for every `code` the server sends (`{"error": {"code"}}` over HTTP, `error`
  // frames on the WebSockets), in Bahasa Indonesia and English. One code a line: a Rust
  // test reads this table and checks that every code the server knows has both texts.
  const ERROR_TEXTS = {
    bad_credentials: { id: 'Data masuk tidak cocok. Periksa kembali, lalu coba lagi.', en: 'The login details do not match. Check them, then try again.' },
    too_many_attempts: { id: 'Terlalu banyak percobaan masuk yang gagal. Tunggu beberapa menit sebelum mencoba lagi.', en: 'Too many failed logins. Wait a few minutes before trying again.' },
    sitting_not_open: { id: 'Sesi ujian belum dibuka atau sudah ditutup. Tanyakan kepada pengawas.', en: 'The exam session is not open yet, or is already closed. Ask the supervisor.' },
    sitting_closed: { id: 'Sesi ujian sudah ditutup; ujian yang belum dimulai tidak dapat dimulai lagi. Hubungi pengawas.', en: 'The exam session is closed; an exam that has not started cannot start any more. Ask the supervisor.' },
    seat_locked: { id: 'Ujian ini sedang berjalan di komputer lain. Minta pengawas mengizinkan pindah komputer, lalu masuk lagi.', en: 'This exam is running on another computer. Ask the supervisor to allow a move, then log in again.' },
    token_expired: { id: 'Masa berlaku login ini sudah habis. Silakan masuk lagi.', en: 'This login has expired. Please log in again.' },
    unauthorized: { id: 'Anda belum masuk, atau login Anda sudah berakhir. Silakan masuk lagi.', en: 'You are not logged in, or your login has ended. Please log in again.' },
    forbidden: { id: 'Akun ini tidak berwenang melakukan tindakan ini.', en: 'This account may not do this.' },
    cross_origin: { id: 'Permintaan ditolak karena tidak berasal dari halaman situs ini sendiri. Buka alamat resmi dari panitia, lalu coba lagi.', en: 'Refused: the request did not come from a page of this site. Open the address the committee gave, then try again.' },
    bad_request: { id: 'Isian tidak lengkap atau tidak valid.', en: 'The form is incomplete or invalid.' },
    too_large: { id: 'Data yang dikirim terlalu besar.', en: 'What was sent is too large.' },
    rate_limited: { id: 'Terlalu banyak permintaan dalam waktu singkat. Tunggu sebentar, lalu coba lagi.', en: 'Too many requests in a short time. Wait a moment, then try again.' },
    busy: { id: 'Jawaban sebelumnya masih disimpan. Coba lagi sebentar lagi.', en: 'An earlier answer is still being stored. Try again in a moment.' },
    internal: { id: 'Server mengalami gangguan. Coba lagi sebentar lagi.', en: 'The server ran into a problem. Try again shortly.' },
    unavailable: { id: 'Server ujian sedang tidak dapat menjangkau basis datanya. Coba lagi sebentar lagi.', en: 'The exam server cannot reach its database. Try again shortly.' },
    not_found: { id: 'Tidak ada apa pun di alamat ini.', en: 'There is nothing at this address.' },
    method_not_allowed: { id: 'Alamat ini tidak menerima jenis permintaan tersebut.', en: 'This address does not take this kind of request.' },
    bad_message: { id: 'Pesan ditolak server.', en: 'The server refused the message.' },
    bad_seq: { id: 'Perubahan dikirim ulang.', en: 'The change is being sent again.' },
    bad_choice: { id: 'Pilihan jawaban tidak dikenal.', en: 'Unknown answer option.' },
    unknown_index: { id: 'Nomor soal tidak dikenal.', en: 'Unknown question number.' },
    not_started: { id: 'Ujian belum dimulai.', en: 'The exam has not started.' },
    paused: { id: 'Ujian sedang dijeda; perubahan belum disimpan.', en: 'The exam is paused; the change was not saved.' },
    not_paused: { id: 'Ujian tidak sedang dijeda.', en: 'The exam is not paused.' },
    time_expired: { id: 'Waktu ujian telah habis.', en: 'The exam time is over.' },
    finished: { id: 'Ujian sudah selesai.', en: 'The exam is already finished.' },
    extension_limit: { id: 'Perpanjangan melebihi batas ujian ini untuk satu peserta (total). Hanya panitia (admin) yang dapat memberikannya.', en: 'This goes beyond the extension this exam allows one candidate in total. Only the exam committee (admin) can give it.' },
    reason_required: { id: 'Setiap tindakan memerlukan alasan, sekurang-kurangnya 3 karakter.', en: 'Every action needs a reason of at least 3 characters.' },
    unknown_action: { id: 'Tindakan ini tidak dikenal server.', en: 'The server does not know this action.' },
    unknown_sitting: { id: 'Sesi ujian tidak ditemukan.', en: 'No such exam sitting.' },
    unknown_session: { id: 'Ujian peserta ini tidak ditemukan.', en: 'No such candidate exam.' },
    unknown_board: { id: 'Papan skor tidak ditemukan.', en: 'No such scoreboard.' },
    unknown_receipt: { id: 'Kode tanda terima tidak dikenal.', en: 'No result has this receipt code.' },
  };

  // ------------------------------------------------------------------ translations
  // Strings more than one page uses; a page's own table comes first.
  const COMMON = {
    id: {
      lang_switch: 'English',
      loading: 'Memuat…',
      login_button: 'Masuk',
      logging_in: 'Memeriksa…',
      logout: 'Keluar',
      err_network: 'Tidak dapat menghubungi server ujian. Periksa jaringan, lalu coba lagi.',
    },
    en: {
      lang_switch: 'Bahasa Indonesia',
      loading: 'Loading…',
      login_button: 'Log in',
      logging_in: 'Checking…',
      logout: 'Log out',
      err_network: 'Cannot reach the exam server. Check the network, then try again.',
    },
  };

  // Bahasa Indonesia unless the reader chose English on any of the pages.
  const LANG_KEY = 'ujian.lang';
  let lang = 'id';
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved && COMMON[saved]) lang = saved;
  } catch (_) { /* storage may be disabled */ }

  let page = { id: {}, en: {} };

  /** The page's own strings, in both languages. */
  function strings(table) {
    page = table;
  }

  function lookup(key) {
    return page[lang]?.[key] ?? COMMON[lang][key] ?? page.id?.[key] ?? COMMON.id[key];
  }

  /** The text of `key` in the chosen language, with `{name}` replaced from `params`. */
  function t(key, params) {
    let s = lookup(key) ?? key;
    if (typeof s === 'string' && params) {
      s = s.replace(/\{(\w+)\}/g, (m, k) => (Object.prototype.hasOwnProperty.call(params, k) ? String(params[k]) : m));
    }
    return s;
  }

  const has = (key) => !!lookup(key);

  /** What to tell the reader about a server error code: the page's own text for it
   * (`prefix` + code) if it has one, else the shared one; null for an unknown code. */
  function errorText(code, prefix) {
    const own = `${prefix || 'err_'}${code}`;
    if (has(own)) return t(own);
    const known = Object.prototype.hasOwnProperty.call(ERROR_TEXTS, code) ? ERROR_TEXTS[code] : null;
    return known ? known[lang] : null;
  }

  /** Puts the chosen language into the page's fixed texts (`data-i18n`) and its switch. */
  function translatePage(toggle) {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll('[data-i18n]')) setText(node, t(node.getAttribute('data-i18n')));
    setText(toggle, t('lang_switch'));
    toggle.setAttribute('lang', lang === 'id' ? 'en' : 'id');
  }

  /** The language switch: flips between the two languages, remembers the choice for every
   * page, then lets the page redraw. */
  function languageSwitch(toggle, redraw) {
    toggle.addEventListener('click', () => {
      lang = lang === 'id' ? 'en' : 'id';
      try { localStorage.setItem(LANG_KEY, lang); } catch (_) { /* ignore */ }
      redraw();
    });
  }

  // ------------------------------------------------------------------ dom helpers
  const $ = (id) => document.getElementById(id);

  // Writes only what changed: an unchanged write still invalidates style or layout.
  function setText(node, text) {
    const s = String(text);
    if (node.textContent !== s) node.textContent = s;
  }

  function setAttr(node, name, value) {
    const s = String(value);
    if (node.getAttribute(name) !== s) node.setAttribute(name, s);
  }

  function setHidden(node, hidden) {
    if (node.hidden !== hidden) node.hidden = hidden;
  }

  // Builds an element; text only ever goes in through textContent.
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) if (c) node.appendChild(c);
    return node;
  }

  /** `h` for the common case: a tag, its class and its text. */
  const make = (tag, cls, text) => h(tag, { class: cls || null, text });

  /** Shows a connection state on a `.live` indicator: `data-state`, and the text of
   * `prefix` + state. */
  function showLive(node, textNode, state, prefix) {
    setAttr(node, 'data-state', state);
    setText(textNode, t(`${prefix}${state}`));
  }

  /** A key press meant for a form field, not for the page's shortcuts. */
  function typing(target) {
    return !!target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable);
  }

  /** A short message in `box`, the newest three kept, each gone after `ms`. */
  function toast(box, message, kind, ms) {
    const node = h('div', { class: `toast${kind ? ` ${kind}` : ''}`, 'data-testid': 'toast', text: message });
    node.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    box.appendChild(node);
    while (box.childElementCount > 3) box.firstElementChild.remove();
    setTimeout(() => node.remove(), ms);
  }

  /** The address of a WebSocket on this server. */
  function wsUrl(path) {
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
  }

  // ------------------------------------------------------------------ reconnect backoff
  /** Waits before a reconnect: from `min` ms, doubling up to `max`, plus a random part of at
   * most `jitter` ms (so a room of pages does not come back in the same instant). */
  class Backoff {
    constructor(min, max, jitter) {
      this.min = min;
      this.max = max;
      this.jitter = jitter;
      this.delay = min;
      this.timer = 0;
    }

    /** Runs `fn` after the next delay; a retry already waiting is dropped. */
    schedule(fn) {
      this.cancel();
      const wait = this.delay + Math.random() * Math.min(this.jitter, this.delay);
      this.delay = Math.min(this.max, this.delay * 2);
      this.timer = setTimeout(() => { this.timer = 0; fn(); }, wait);
    }

    cancel() {
      clearTimeout(this.timer);
      this.timer = 0;
    }

    /** A connection worked: the next failure waits the shortest time again. */
    reset() {
      this.delay = this.min;
    }

    get waiting() {
      return this.timer !== 0;
    }
  }

  // ------------------------------------------------------------------ time
  const pad2 = (n) => String(n).padStart(2, '0');

  /** A wall-clock time as HH:MM:SS. */
  const hms = (d) => `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;

  /** Time left as HH:MM:SS, rounded up to the second. */
  function countdown(ms) {
    if (ms == null) return '--:--:--';
    const s = Math.ceil(ms / 1000);
    return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor((s % 3600) / 60))}:${pad2(s % 60)}`;
  }

  /** Time left as mm:ss (minutes may exceed 59: 100:00 for a 100-minute exam). */
  function mmss(ms) {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return `${pad2(Math.floor(s / 60))}:${pad2(s % 60)}`;
  }

  /** The time of day of a server timestamp; the text as it is when it is not one. */
  function timeOf(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso || '') : hms(d);
  }

  /** Date and time of a server timestamp, written the way the chosen language does. */
  function dateTimeOf(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso || '');
    try {
      return d.toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
    } catch (_) {
      return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
    }
  }

  window.Ujian = Object.freeze({
    ERROR_TEXTS,
    strings,
    t,
    has,
    errorText,
    translatePage,
    languageSwitch,
    $,
    setText,
    setAttr,
    setHidden,
    h,
    make,
    showLive,
    typing,
    toast,
    wsUrl,
    Backoff,
    hms,
    countdown,
    mmss,
    timeOf,
    dateTimeOf,
  });
})();
