// ujian — supervisor console (pengawas). Plain JS, no framework, no build step.
// Uses the staff API (docs/protocol.md, "Staff"): the HttpOnly cookie `ujian_staff` set by
// POST /api/v1/staff/login, JSON POSTs for every action (each with a reason), and the seat
// monitor WebSocket /ws/monitor/{sitting}.
// Server data is only ever put into the page with textContent / attributes, never as HTML.
(function () {
  'use strict';

  // ------------------------------------------------------------------ strings
  const I18N = {
    id: {
      page_title: 'Konsol Pengawas · Ujian CAT',
      brand: 'Ujian CAT · Konsol Pengawas',
      skip_to_seats: 'Langsung ke daftar kursi',
      all_sittings: 'Semua sesi',
      role_admin: 'Panitia (admin)',
      role_supervisor: 'Pengawas',

      login_title: 'Masuk Konsol Pengawas',
      login_intro: 'Masuk dengan akun pengawas atau panitia ujian.',
      username: 'Nama pengguna',
      password: 'Kata sandi',
      fill_all: 'Isi nama pengguna dan kata sandi.',
      err_bad_credentials: 'Nama pengguna atau kata sandi salah.',
      err_too_many_attempts: 'Terlalu banyak percobaan masuk yang gagal. Tunggu beberapa menit, lalu coba lagi, atau minta panitia (admin) membuka kunci akun Anda.',
      err_forbidden: 'Akun ini tidak memiliki akses ke konsol pengawas.',
      err_session_expired: 'Sesi login Anda sudah berakhir. Silakan masuk lagi.',
      err_login_generic: 'Gagal masuk (kode {status}). Coba lagi.',

      list_title: 'Sesi ujian',
      list_intro: 'Pilih sesi yang Anda awasi.',
      list_empty: 'Tidak ada sesi yang ditugaskan kepada Anda.',
      list_count: '{n} sesi',
      list_error: 'Daftar sesi tidak dapat dimuat: {message}',
      col_sitting: 'Sesi',
      col_exam: 'Ujian',
      col_venue: 'Lokasi',
      col_starts: 'Mulai',
      col_status: 'Status',

      sitting_prepared: 'Disiapkan',
      sitting_open: 'Dibuka',
      sitting_paused: 'Dijeda',
      sitting_closed: 'Ditutup',
      token: 'Token sesi',
      token_hidden_label: 'Token disembunyikan',
      show_token: 'Tampilkan',
      hide_token: 'Sembunyikan',
      rotate_token: 'Ganti token',
      sitting_actions: 'Tindakan sesi',
      integrity_report: 'Laporan integritas',
      open: 'Buka sesi',
      pause_all: 'Jeda semua',
      resume_all: 'Lanjutkan semua',
      close: 'Tutup sesi',
      count_seats: 'peserta',
      count_online: 'tersambung',
      count_active: 'mengerjakan',
      count_paused: 'dijeda',
      count_finished: 'selesai',
      count_alerts: 'perlu perhatian',

      seats_title: 'Kursi peserta',
      filter_label: 'Cari peserta',
      filter_placeholder: 'Cari nomor, nama, atau PC',
      alerts_only: 'Hanya yang perlu perhatian',
      no_seats: 'Belum ada peserta di sesi ini.',
      no_match: 'Tidak ada peserta yang cocok dengan filter.',
      seat_ready: 'Belum mulai',
      seat_active: 'Mengerjakan',
      seat_paused: 'Dijeda',
      seat_finished: 'Selesai',
      seat_time_up: 'Selesai (waktu habis)',
      seat_terminated: 'Didiskualifikasi',
      online: 'Online',
      offline: 'Offline',
      checked_in: '✓ Hadir',
      not_checked_in: 'Belum check-in',
      pc: 'PC {seat}',
      no_pc: 'PC belum dicatat',
      answered: 'Dijawab',
      remaining: 'Sisa waktu',
      score: 'Nilai',
      progress_label: '{answered} dari {total} soal dijawab',
      alert_badge: '⚠ {kind}',
      alert_badge_n: '⚠ {kind} (+{more})',
      alert_aria: 'Perhatian: {list}. Terakhir {time}. Tekan untuk menandai sudah dilihat.',
      act_checkin: 'Check-in',
      act_pause: 'Jeda',
      act_resume: 'Lanjutkan',
      act_extend: '+ Waktu',
      act_allow_move: 'Pindah PC',
      act_unlock: 'Buka kunci masuk',
      act_terminate: 'Diskualifikasi',
      act_aria: '{action} — {no}',
      view_label: 'Tampilan',
      bulk_checkin: 'Check-in massal',
      bulk_list_label: 'Nomor peserta, satu per baris (ketik atau pindai)',
      pick_aria: 'Pilih {no} untuk check-in massal',
      dlg_bulk_title: 'Check-in massal',
      dlg_bulk_desc: 'Semua nomor diperiksa dulu: jika ada yang tidak terdaftar di sesi ini, tidak ada yang di-check-in dan semua nomor yang salah disebutkan.',
      dlg_bulk_confirm: 'Check-in semua',
      toast_bulk: '{n} peserta di-check-in',
      view_cards: 'Kartu',
      view_table: 'Tabel',
      view_map: 'Denah',
      sort_label: 'Urutkan:',
      sort_seat: 'PC',
      sort_participant: 'Peserta',
      sort_status: 'Status',
      sort_progress: 'Kemajuan',
      sort_remaining: 'Sisa waktu',
      sort_attention: 'Perhatian',
      sort_asc: 'naik',
      sort_desc: 'turun',
      map_unnamed: 'Tanpa nama PC',
      map_open: 'Buka baris {no} di tabel',

      log_title: 'Log kejadian',
      log_note: 'Terbaru di atas. Hanya kejadian sejak halaman ini dibuka.',
      log_empty: 'Belum ada kejadian.',
      log_count: '{n} kejadian',
      log_seat_button: 'Tampilkan kursi {no}',
      ev_connected: 'Tersambung',
      ev_disconnected: 'Terputus',
      ev_taken_over: 'Diambil alih komputer lain',
      ev_focus_lost: 'Keluar dari jendela ujian',
      ev_focus_gained: 'Kembali ke jendela ujian',
      ev_fullscreen_exit: 'Keluar dari layar penuh',
      ev_fullscreen_enter: 'Masuk layar penuh',
      ev_page_hidden: 'Halaman ujian disembunyikan',
      ev_page_visible: 'Halaman ujian tampil lagi',
      ev_copy: 'Menyalin teks',
      ev_paste: 'Menempel teks',
      ev_print: 'Mencoba mencetak',
      ev_answer_cycling: 'Mencoba pilihan satu per satu',
      by_candidate: 'laporan halaman peserta',
      detail_cycling: 'soal {n} dijawab dengan beberapa pilihan berbeda dalam semenit',
      score_hidden: 'Nilai tampil saat peserta selesai',
      ev_fast_answer: 'Menjawab terlalu cepat',
      ev_irregularity: 'Ketidakwajaran menjawab',
      ev_answer_while_paused: 'Menjawab saat dijeda',
      ev_paused: 'Dijeda',
      ev_resumed: 'Dilanjutkan',
      ev_extended: 'Waktu ditambah',
      ev_finished: 'Selesai',
      ev_lagged: 'Kejadian terlewat',
      ev_local_open: 'Sesi dibuka',
      ev_local_pause: 'Semua dijeda',
      ev_local_resume: 'Semua dilanjutkan',
      ev_local_close: 'Sesi ditutup',
      ev_local_rotate_token: 'Token diganti',
      ev_local_checkin: 'Check-in',
      ev_local_allow_move: 'Izin pindah komputer',
      ev_local_unlock: 'Kunci masuk dibuka',
      detail_fast: 'soal {n} dijawab {ms} ms setelah jawaban sebelumnya',
      detail_irregularity: '{fast} dari {answers} jawaban terlalu cepat (tercepat {ms} ms), {cycled} soal dicoba dengan beberapa pilihan · skor {score}',
      detail_question: 'soal {n}',
      detail_taken_over: 'sambungan baru mengambil alih kursi',
      detail_reason: 'alasan: {reason}',
      detail_lagged: '{n} kejadian tidak terkirim ke konsol ini (koneksi lambat)',
      detail_sessions: '{n} peserta',
      finish_submitted: 'diselesaikan peserta',
      finish_time_up: 'waktu habis',
      finish_terminated: 'didiskualifikasi pengawas',

      monitor_connecting: 'Menghubungkan…',
      monitor_connected: 'Pemantauan langsung',
      monitor_reconnecting: 'Menyambung ulang…',
      monitor_updated: 'diperbarui {time}',
      banner_reconnecting: 'Pemantauan langsung terputus. Menyambung ulang… Data kursi terakhir: {time}.',
      banner_reconnecting_nodata: 'Pemantauan langsung belum tersambung. Menyambung ulang…',

      err_title_forbidden: 'Anda tidak mengawasi sesi ini',
      err_body_forbidden: 'Sesi {id} tidak ditugaskan kepada akun Anda. Hubungi panitia jika ini keliru.',
      err_title_unknown: 'Sesi tidak ditemukan',
      err_body_unknown: 'Tidak ada sesi dengan kode {id}.',
      err_title_bad_address: 'Alamat tidak dikenal',
      err_body_bad_address: 'Konsol pengawas berada di /console dan /console/KODE-SESI.',
      err_title_load: 'Sesi tidak dapat dimuat',
      err_body_load: '{message}',

      cancel: 'Batal',
      sending: 'Mengirim…',
      reason_label: 'Alasan',
      required: '(wajib, minimal 3 karakter)',
      reason_hint: 'Alasan dicatat di log audit bersama nama Anda dan waktunya.',
      minutes_label: 'Tambahan waktu (menit, 1–240)',
      rotate_on_open: 'Buat token baru (token lama tidak berlaku lagi untuk masuk)',
      seat_label_checkin: 'Nama/nomor PC (komputer peserta)',
      seat_label_move: 'PC tujuan (opsional)',
      err_action: 'Ditolak oleh server ({code}): {message}',
      err_action_network: 'Tidak dapat menghubungi server. Tindakan belum tentu tercatat; periksa status, lalu coba lagi.',
      err_action_forbidden: 'Hanya panitia (admin) yang dapat melakukan ini, misalnya membuka kembali sesi yang sudah ditutup.',

      dlg_open_title: 'Buka sesi',
      dlg_open_desc: 'Setelah dibuka, peserta dapat masuk dengan token sesi.',
      dlg_open_confirm: 'Buka sesi',
      dlg_pause_title: 'Jeda semua peserta',
      dlg_pause_desc: 'Semua peserta yang sedang mengerjakan dijeda dan waktunya berhenti sampai dilanjutkan (misalnya listrik padam atau jaringan terganggu).',
      dlg_pause_confirm: 'Jeda semua',
      dlg_resume_title: 'Lanjutkan semua peserta',
      dlg_resume_desc: 'Semua peserta yang dijeda dapat mengerjakan lagi dan waktunya berjalan kembali.',
      dlg_resume_confirm: 'Lanjutkan semua',
      dlg_close_title: 'Tutup sesi',
      dlg_close_desc: 'Setelah ditutup, tidak ada peserta yang dapat masuk atau masuk ulang dengan token sesi ini, dan peserta yang sudah masuk tetapi belum mulai tidak dapat memulai ujian. Hanya panitia (admin) yang dapat membukanya lagi.',
      dlg_close_working: '{n} peserta masih mengerjakan ujian. Ujian mereka berlanjut sampai selesai atau waktunya habis.',
      dlg_close_confirm: 'Tutup sesi',
      dlg_rotate_title: 'Ganti token sesi',
      dlg_rotate_desc: 'Token lama tidak berlaku lagi untuk masuk. Peserta yang sudah masuk tidak terpengaruh.',
      dlg_rotate_confirm: 'Ganti token',
      dlg_checkin_title: 'Check-in peserta',
      dlg_checkin_desc: 'Catat kehadiran peserta dan komputer (PC) yang dipakainya.',
      dlg_checkin_confirm: 'Check-in',
      dlg_spause_title: 'Jeda peserta',
      dlg_spause_desc: 'Waktu peserta berhenti sampai dilanjutkan.',
      dlg_spause_confirm: 'Jeda',
      dlg_sresume_title: 'Lanjutkan peserta',
      dlg_sresume_desc: 'Peserta dapat mengerjakan lagi dan waktunya berjalan kembali.',
      dlg_sresume_confirm: 'Lanjutkan',
      dlg_extend_title: 'Tambah waktu',
      dlg_extend_desc: 'Sisa waktu peserta ditambah sebanyak menit yang diisi.',
      dlg_extend_confirm: 'Tambah waktu',
      dlg_move_title: 'Izinkan pindah komputer',
      dlg_move_desc: 'Peserta boleh masuk sekali lagi dari komputer lain (misalnya PC rusak). Jawaban dan sisa waktunya tetap.',
      dlg_move_confirm: 'Izinkan pindah',
      dlg_terminate_title: 'Diskualifikasi peserta',
      dlg_terminate_desc: 'Ujian peserta diakhiri sekarang dan dinilai dengan jawaban yang sudah tersimpan. Tindakan ini tidak dapat dibatalkan.',
      dlg_terminate_confirm: 'Diskualifikasi…',
      dlg_terminate_warning: 'Anda yakin? Ujian {no} ({name}) akan diakhiri dan tidak dapat dilanjutkan. Tekan tombol merah sekali lagi untuk memastikan.',
      dlg_terminate_confirm2: 'Ya, diskualifikasi {no}',
      dlg_unlock_title: 'Buka kunci masuk peserta',
      dlg_unlock_desc: 'Peserta yang terkunci karena terlalu sering salah memasukkan PIN dapat langsung mencoba masuk lagi. Periksa dulu identitasnya.',
      dlg_unlock_confirm: 'Buka kunci',

      toast_open: 'Sesi dibuka.',
      toast_pause: 'Sesi dijeda ({n} peserta dijeda).',
      toast_resume: 'Sesi dilanjutkan ({n} peserta dilanjutkan).',
      toast_close: 'Sesi ditutup.',
      toast_rotate: 'Token sesi sudah diganti.',
      toast_checkin: 'Check-in {no} tercatat.',
      toast_spause: '{no} dijeda.',
      toast_sresume: '{no} dilanjutkan.',
      toast_extend: 'Waktu {no} ditambah {m} menit.',
      toast_terminate: '{no} didiskualifikasi.',
      toast_move: '{no} boleh masuk sekali lagi dari komputer lain.',
      toast_unchanged: 'Tidak ada perubahan untuk {no}.',
      toast_unlock: '{no} dapat mencoba masuk lagi.',

      sug_open: ['Waktu ujian dimulai', 'Semua peserta sudah check-in'],
      sug_pause: ['Listrik padam', 'Gangguan jaringan', 'Gangguan server', 'Keadaan darurat di ruang ujian'],
      sug_resume: ['Gangguan sudah teratasi', 'Listrik kembali normal', 'Jaringan kembali normal'],
      sug_close: ['Waktu sesi berakhir', 'Semua peserta sudah selesai'],
      sug_rotate: ['Token diketahui pihak lain', 'Token terlihat dari luar ruangan', 'Pergantian token berkala'],
      sug_checkin: ['Identitas sudah diperiksa', 'Peserta hadir, KTP sesuai'],
      sug_spause: ['Peserta izin ke toilet', 'Peserta sakit', 'Gangguan komputer peserta'],
      sug_sresume: ['Peserta kembali ke tempat', 'Gangguan sudah teratasi'],
      sug_extend: ['Pengganti waktu gangguan teknis', 'Akomodasi peserta disabilitas', 'Komputer peserta bermasalah'],
      sug_move: ['Komputer rusak', 'Komputer mati', 'Layar atau keyboard bermasalah'],
      sug_terminate: ['Kedapatan menyontek', 'Membawa alat komunikasi', 'Bekerja sama dengan peserta lain', 'Bukan peserta yang terdaftar (joki)'],
      sug_unlock: ['Peserta lupa PIN, identitas sudah diperiksa', 'Salah ketik PIN, kartu ujian sudah diperiksa'],
    },
    en: {
      page_title: 'Supervisor console · CAT exam',
      brand: 'CAT exam · Supervisor console',
      skip_to_seats: 'Skip to the seats',
      all_sittings: 'All sittings',
      role_admin: 'Committee (admin)',
      role_supervisor: 'Supervisor',

      login_title: 'Supervisor console login',
      login_intro: 'Log in with a supervisor or exam committee account.',
      username: 'Username',
      password: 'Password',
      fill_all: 'Enter your username and password.',
      err_bad_credentials: 'The username or password is wrong.',
      err_too_many_attempts: 'Too many failed logins. Wait a few minutes, then try again, or ask the exam committee (admin) to unlock your account.',
      err_forbidden: 'This account has no access to the supervisor console.',
      err_session_expired: 'Your login has expired. Please log in again.',
      err_login_generic: 'Login failed (code {status}). Try again.',

      list_title: 'Exam sittings',
      list_intro: 'Choose the sitting you supervise.',
      list_empty: 'No sittings are assigned to you.',
      list_count: '{n} sittings',
      list_error: 'Cannot load the sittings: {message}',
      col_sitting: 'Sitting',
      col_exam: 'Exam',
      col_venue: 'Venue',
      col_starts: 'Starts',
      col_status: 'Status',

      sitting_prepared: 'Prepared',
      sitting_open: 'Open',
      sitting_paused: 'Paused',
      sitting_closed: 'Closed',
      token: 'Sitting token',
      token_hidden_label: 'Token hidden',
      show_token: 'Show',
      hide_token: 'Hide',
      rotate_token: 'New token',
      sitting_actions: 'Sitting actions',
      integrity_report: 'Integrity report',
      open: 'Open sitting',
      pause_all: 'Pause all',
      resume_all: 'Resume all',
      close: 'Close sitting',
      count_seats: 'candidates',
      count_online: 'connected',
      count_active: 'working',
      count_paused: 'paused',
      count_finished: 'finished',
      count_alerts: 'need attention',

      seats_title: 'Seats',
      filter_label: 'Find a candidate',
      filter_placeholder: 'Number, name or PC',
      alerts_only: 'Only those needing attention',
      no_seats: 'This sitting has no candidates yet.',
      no_match: 'No candidate matches the filter.',
      seat_ready: 'Not started',
      seat_active: 'Working',
      seat_paused: 'Paused',
      seat_finished: 'Finished',
      seat_time_up: 'Finished (time up)',
      seat_terminated: 'Disqualified',
      online: 'Online',
      offline: 'Offline',
      checked_in: '✓ Checked in',
      not_checked_in: 'Not checked in',
      pc: 'PC {seat}',
      no_pc: 'No PC recorded',
      answered: 'Answered',
      remaining: 'Time left',
      score: 'Score',
      progress_label: '{answered} of {total} questions answered',
      alert_badge: '⚠ {kind}',
      alert_badge_n: '⚠ {kind} (+{more})',
      alert_aria: 'Attention: {list}. Last at {time}. Press to mark as seen.',
      act_checkin: 'Check in',
      act_pause: 'Pause',
      act_resume: 'Resume',
      act_extend: '+ Time',
      act_allow_move: 'Move PC',
      act_unlock: 'Unlock login',
      act_terminate: 'Disqualify',
      act_aria: '{action} — {no}',
      view_label: 'View',
      bulk_checkin: 'Check in many',
      bulk_list_label: 'Participant numbers, one a line (typed or scanned)',
      pick_aria: 'Select {no} for checking in many',
      dlg_bulk_title: 'Check in many',
      dlg_bulk_desc: 'Every number is checked first: if any is not in this sitting, nobody is checked in and every wrong number is named.',
      dlg_bulk_confirm: 'Check in all',
      toast_bulk: '{n} candidates checked in',
      view_cards: 'Cards',
      view_table: 'Table',
      view_map: 'Room map',
      sort_label: 'Sort:',
      sort_seat: 'PC',
      sort_participant: 'Participant',
      sort_status: 'Status',
      sort_progress: 'Progress',
      sort_remaining: 'Time left',
      sort_attention: 'Attention',
      sort_asc: 'ascending',
      sort_desc: 'descending',
      map_unnamed: 'No PC name',
      map_open: 'Open row {no} in the table',

      log_title: 'Event log',
      log_note: 'Newest first. Only events since this page was opened.',
      log_empty: 'No events yet.',
      log_count: '{n} events',
      log_seat_button: 'Show seat {no}',
      ev_connected: 'Connected',
      ev_disconnected: 'Disconnected',
      ev_taken_over: 'Taken over by another PC',
      ev_focus_lost: 'Left the exam window',
      ev_focus_gained: 'Back in the exam window',
      ev_fullscreen_exit: 'Left full screen',
      ev_fullscreen_enter: 'Entered full screen',
      ev_page_hidden: 'Exam page hidden',
      ev_page_visible: 'Exam page shown again',
      ev_copy: 'Copied text',
      ev_paste: 'Pasted text',
      ev_print: 'Tried to print',
      ev_answer_cycling: 'Tried options one by one',
      by_candidate: 'reported by the candidate’s page',
      detail_cycling: 'question {n} answered with several different options within a minute',
      score_hidden: 'The score shows when the candidate finishes',
      ev_fast_answer: 'Implausibly fast answer',
      ev_irregularity: 'Answering irregularity',
      ev_answer_while_paused: 'Answered while paused',
      ev_paused: 'Paused',
      ev_resumed: 'Resumed',
      ev_extended: 'Time extended',
      ev_finished: 'Finished',
      ev_lagged: 'Events missed',
      ev_local_open: 'Sitting opened',
      ev_local_pause: 'All paused',
      ev_local_resume: 'All resumed',
      ev_local_close: 'Sitting closed',
      ev_local_rotate_token: 'Token changed',
      ev_local_checkin: 'Checked in',
      ev_local_allow_move: 'Move to another PC allowed',
      ev_local_unlock: 'Login unlocked',
      detail_fast: 'question {n} answered {ms} ms after the previous answer',
      detail_irregularity: '{fast} of {answers} answers too fast (fastest {ms} ms), {cycled} questions tried with several options · score {score}',
      detail_question: 'question {n}',
      detail_taken_over: 'a new connection took the seat',
      detail_reason: 'reason: {reason}',
      detail_lagged: '{n} events did not reach this console (slow connection)',
      detail_sessions: '{n} candidates',
      finish_submitted: 'submitted by the candidate',
      finish_time_up: 'time ran out',
      finish_terminated: 'disqualified by a supervisor',

      monitor_connecting: 'Connecting…',
      monitor_connected: 'Live monitor',
      monitor_reconnecting: 'Reconnecting…',
      monitor_updated: 'updated {time}',
      banner_reconnecting: 'The live monitor is disconnected. Reconnecting… Seat data as of {time}.',
      banner_reconnecting_nodata: 'The live monitor is not connected yet. Reconnecting…',

      err_title_forbidden: 'You do not supervise this sitting',
      err_body_forbidden: 'Sitting {id} is not assigned to your account. Ask the exam committee if this is wrong.',
      err_title_unknown: 'Sitting not found',
      err_body_unknown: 'There is no sitting {id}.',
      err_title_bad_address: 'Unknown address',
      err_body_bad_address: 'The supervisor console is at /console and /console/SITTING-ID.',
      err_title_load: 'Cannot load the sitting',
      err_body_load: '{message}',

      cancel: 'Cancel',
      sending: 'Sending…',
      reason_label: 'Reason',
      required: '(required, at least 3 characters)',
      reason_hint: 'The reason goes into the audit log with your name and the time.',
      minutes_label: 'Extra time (minutes, 1–240)',
      rotate_on_open: 'Make a new token (the old one stops working for logins)',
      seat_label_checkin: 'PC name or number (the candidate’s computer)',
      seat_label_move: 'New PC (optional)',
      err_action: 'Refused by the server ({code}): {message}',
      err_action_network: 'Cannot reach the server. The action may not have been recorded; check the status, then try again.',
      err_action_forbidden: 'Only the exam committee (admin) can do this, for example open a closed sitting again.',

      dlg_open_title: 'Open the sitting',
      dlg_open_desc: 'Once open, candidates can log in with the sitting token.',
      dlg_open_confirm: 'Open sitting',
      dlg_pause_title: 'Pause every candidate',
      dlg_pause_desc: 'Every candidate who is working is paused and their clock stops until resumed (a power cut, a network failure).',
      dlg_pause_confirm: 'Pause all',
      dlg_resume_title: 'Resume every candidate',
      dlg_resume_desc: 'Every paused candidate can work again and their clock runs again.',
      dlg_resume_confirm: 'Resume all',
      dlg_close_title: 'Close the sitting',
      dlg_close_desc: 'Once closed, nobody can log in or log in again with this sitting’s token, and candidates who logged in but have not started cannot start. Only the exam committee (admin) can open it again.',
      dlg_close_working: '{n} candidates are still working. Their exams go on until they finish or their time is up.',
      dlg_close_confirm: 'Close sitting',
      dlg_rotate_title: 'Change the sitting token',
      dlg_rotate_desc: 'The old token stops working for logins. Candidates already logged in are not affected.',
      dlg_rotate_confirm: 'Change token',
      dlg_checkin_title: 'Check a candidate in',
      dlg_checkin_desc: 'Record that the candidate is present and which PC they use.',
      dlg_checkin_confirm: 'Check in',
      dlg_spause_title: 'Pause the candidate',
      dlg_spause_desc: 'The candidate’s clock stops until resumed.',
      dlg_spause_confirm: 'Pause',
      dlg_sresume_title: 'Resume the candidate',
      dlg_sresume_desc: 'The candidate can work again and their clock runs again.',
      dlg_sresume_confirm: 'Resume',
      dlg_extend_title: 'Extend the time',
      dlg_extend_desc: 'The candidate’s remaining time grows by the given minutes.',
      dlg_extend_confirm: 'Extend',
      dlg_move_title: 'Allow a move to another PC',
      dlg_move_desc: 'The candidate may log in once more from another PC (e.g. a dead PC). Answers and remaining time are kept.',
      dlg_move_confirm: 'Allow move',
      dlg_terminate_title: 'Disqualify the candidate',
      dlg_terminate_desc: 'The candidate’s exam ends now and is scored with the answers stored so far. This cannot be undone.',
      dlg_terminate_confirm: 'Disqualify…',
      dlg_terminate_warning: 'Are you sure? The exam of {no} ({name}) ends and cannot be continued. Press the red button once more to confirm.',
      dlg_terminate_confirm2: 'Yes, disqualify {no}',
      dlg_unlock_title: 'Unlock a candidate\'s login',
      dlg_unlock_desc: 'A candidate locked out after too many wrong PINs may try to log in again at once. Check their identity first.',
      dlg_unlock_confirm: 'Unlock',

      toast_open: 'The sitting is open.',
      toast_pause: 'The sitting is paused ({n} candidates paused).',
      toast_resume: 'The sitting is resumed ({n} candidates resumed).',
      toast_close: 'The sitting is closed.',
      toast_rotate: 'The sitting token has been changed.',
      toast_checkin: '{no} is checked in.',
      toast_spause: '{no} is paused.',
      toast_sresume: '{no} is resumed.',
      toast_extend: '{no} got {m} more minutes.',
      toast_terminate: '{no} is disqualified.',
      toast_move: '{no} may log in once more from another PC.',
      toast_unchanged: 'Nothing changed for {no}.',
      toast_unlock: '{no} may try to log in again.',

      sug_open: ['The exam starts', 'Every candidate is checked in'],
      sug_pause: ['Power cut', 'Network failure', 'Server problem', 'Emergency in the room'],
      sug_resume: ['The problem is solved', 'Power is back', 'The network is back'],
      sug_close: ['The sitting is over', 'Every candidate has finished'],
      sug_rotate: ['The token leaked', 'The token was visible from outside the room', 'Routine token change'],
      sug_checkin: ['Identity checked', 'Present, ID card matches'],
      sug_spause: ['Toilet break', 'The candidate is unwell', 'PC problem'],
      sug_sresume: ['The candidate is back', 'The problem is solved'],
      sug_extend: ['Time lost to a technical problem', 'Accommodation for a disability', 'PC problem'],
      sug_move: ['PC broken', 'PC switched off', 'Screen or keyboard broken'],
      sug_terminate: ['Caught cheating', 'Has a communication device', 'Working with another candidate', 'Not the registered candidate (impersonation)'],
      sug_unlock: ['Forgot the PIN, identity checked', 'Mistyped the PIN, exam card checked'],
    },
  };

  Ujian.strings(I18N);
  const { $, t, has, errorText, h, setText, setAttr, setHidden, hms, mmss, timeOf, dateTimeOf } = Ujian;

  // ------------------------------------------------------------------ dom helpers
  const el = {
    body: document.body,
    app: $('app'),
    topbarSitting: $('topbar-sitting'),
    monitor: $('monitor-status'),
    monitorText: $('monitor-text'),
    monitorMeta: $('monitor-meta'),
    clock: $('clock'),
    staffName: $('staff-name'),
    staffRole: $('staff-role'),
    logout: $('logout-button'),
    langToggle: $('lang-toggle'),
    banner: $('banner'),
    screens: {
      boot: $('screen-boot'),
      login: $('screen-login'),
      list: $('screen-list'),
      sitting: $('screen-sitting'),
      error: $('screen-error'),
    },
    loginForm: $('login-form'),
    loginUsername: $('login-username'),
    loginPassword: $('login-password'),
    loginError: $('login-error'),
    loginSubmit: $('login-submit'),
    listStatus: $('list-status'),
    list: $('sitting-list'),
    title: $('sitting-title'),
    venue: $('sitting-venue'),
    status: $('sitting-status'),
    token: $('sitting-token'),
    tokenToggle: $('token-toggle'),
    actOpen: $('action-open'),
    actPause: $('action-pause-all'),
    actResume: $('action-resume-all'),
    actClose: $('action-close'),
    actRotate: $('action-rotate-token'),
    countSeats: $('count-seats'),
    countOnline: $('count-online'),
    countActive: $('count-active'),
    countPaused: $('count-paused'),
    countFinished: $('count-finished'),
    countAlerts: $('count-alerts'),
    filter: $('seat-filter'),
    alertsOnly: $('alerts-only'),
    seatEmpty: $('seat-empty'),
    grid: $('seat-grid'),
    log: $('event-log'),
    logCount: $('log-count'),
    logEmpty: $('log-empty'),
    errorTitle: $('error-title'),
    errorBody: $('error-body'),
    dialog: $('reason-dialog'),
    reasonForm: $('reason-form'),
    reasonTitle: $('reason-title'),
    reasonTarget: $('reason-target'),
    reasonDesc: $('reason-desc'),
    minutesField: $('reason-minutes-field'),
    minutes: $('reason-minutes'),
    seatField: $('reason-seat-field'),
    seatLabel: $('reason-seat-label'),
    seat: $('reason-seat'),
    rotateField: $('reason-rotate-field'),
    rotate: $('reason-rotate'),
    listField: $('reason-list-field'),
    bulkList: $('reason-list'),
    bulkCheckin: $('action-bulk-checkin'),
    reason: $('reason-input'),
    suggestions: $('reason-suggestions'),
    warning: $('reason-warning'),
    reasonError: $('reason-error'),
    confirm: $('reason-confirm'),
    cancel: $('reason-cancel'),
    toasts: $('toasts'),
    screenSitting: $('screen-sitting'),
    sortbar: $('seat-sortbar'),
    sortDir: $('sort-dir'),
    viewButtons: [...document.querySelectorAll('[data-seat-view]')],
    sortButtons: [...document.querySelectorAll('[data-sort]')],
    mapBreak: h('p', { class: 'map-break muted', 'data-testid': 'map-unnamed' }),
  };

  const chars = (s) => [...String(s || '').trim()].length;

  // ------------------------------------------------------------------ state
  const STALE_MS = 10000; // seats come every second: this long without a frame means a dead socket
  const DETAIL_EVERY_MS = 15000; // sitting status and token (another supervisor may act)
  const ALERT_TTL_MS = 5 * 60 * 1000;
  const LOW_TIME_MS = 5 * 60 * 1000;
  const LOG_MAX = 500;
  const ARM_MS = 800; // the second press of a two-step confirmation counts only after this
  const ALARM_KINDS = new Set(['focus_lost', 'fullscreen_exit', 'page_hidden', 'fast_answer', 'irregularity', 'answer_cycling', 'answer_while_paused', 'taken_over', 'disconnected']);
  // In card order: two columns, the disqualification last (bottom right, away from the rest).
  const SEAT_ACTIONS = ['checkin', 'allow-move', 'pause', 'resume', 'extend', 'unlock', 'terminate'];
  const SEAT_VIEWS = ['cards', 'table', 'map'];
  const VIEW_KEY = 'ujian.console.seatView';
  // Up to this many seats the cards fit a screen or two; a bigger room starts in the table.
  const CARDS_MAX = 30;
  // "PC-2" before "PC-10": PC names in their natural order.
  const natural = new Intl.Collator('id', { numeric: true, sensitivity: 'base' });

  // The view the supervisor chose last, in this browser.
  function storedView() {
    try {
      const v = localStorage.getItem(VIEW_KEY);
      return SEAT_VIEWS.includes(v) ? v : null;
    } catch { return null; }
  }

  const S = {
    me: null,
    view: 'boot',
    sittings: [],
    sittingId: null,
    sitting: null, // {id, exam, venue, status, token}
    tokenVisible: false,
    seats: new Map(), // participant_no -> seat record
    alerts: new Map(), // participant_no -> [{kind, at (ms), iso}]
    events: [], // newest first
    ws: null,
    monitorState: 'connecting',
    retry: new Ujian.Backoff(500, 10000, 300),
    detailTimer: 0,
    lastFrame: 0,
    lastSeatsAt: null, // Date of the last seat data
    dlg: null,
    seatView: storedView(), // 'cards' | 'table' | 'map', or null: chosen by the room's size
    sort: { key: 'participant', dir: 1 },
    picked: new Set(), // participant numbers ticked in the table for a bulk check-in
    loggingIn: false,
    routeSeq: 0,
  };

  // ------------------------------------------------------------------ HTTP
  async function api(method, path, body) {
    const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return { ok: false, status: 0, code: 'network', message: String(e && e.message ? e.message : e) };
    }
    const text = await res.text().catch(() => '');
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (res.ok) return { ok: true, status: res.status, data };
    const err = (data && data.error) || {};
    return {
      ok: false,
      status: res.status,
      code: typeof err.code === 'string' ? err.code : `http_${res.status}`,
      message: typeof err.message === 'string' ? err.message : (text.slice(0, 200) || res.statusText || ''),
    };
  }

  const enc = encodeURIComponent;

  // ------------------------------------------------------------------ language
  function applyLanguage() {
    Ujian.translatePage(el.langToggle);
    document.title = S.sitting && S.view === 'sitting' ? `${S.sitting.id} · ${t('page_title')}` : t('page_title');
    el.filter.placeholder = t('filter_placeholder');
    if (el.loginError.dataset.code) showLoginError(el.loginError.dataset.code, el.loginError.dataset.status);
    renderMe();
    if (S.view === 'list') renderList();
    if (S.view === 'sitting') {
      renderHeader();
      for (const rec of S.seats.values()) updateSeat(rec, performance.now(), true);
      renderCounts();
      applyFilter();
      arrangeSeats();
      renderLog();
      renderMonitor();
    }
    if (S.dlg) renderDialog();
  }

  Ujian.languageSwitch(el.langToggle, applyLanguage);

  // ------------------------------------------------------------------ screens and routes
  function showScreen(name) {
    S.view = name;
    el.body.dataset.view = name;
    for (const [key, node] of Object.entries(el.screens)) setHidden(node, key !== name);
    if (name !== 'sitting') {
      setText(el.topbarSitting, '');
      setHidden(el.banner, true);
      if (S.dlg) closeDialog();
    }
    document.title = name === 'sitting' && S.sitting ? `${S.sitting.id} · ${t('page_title')}` : t('page_title');
  }

  function parseRoute() {
    const p = location.pathname.replace(/\/+$/, '');
    if (p === '/console' || p === '') return { view: 'list' };
    const m = /^\/console\/([^/]+)$/.exec(p);
    if (m) {
      try { return { view: 'sitting', id: decodeURIComponent(m[1]) }; } catch (_) { /* bad escape */ }
    }
    return { view: 'bad' };
  }

  function go(path) {
    if (location.pathname !== path) history.pushState(null, '', path);
    route();
  }

  function route() {
    if (!S.me) { showLogin(); return; }
    const r = parseRoute();
    if (r.view === 'list') showList();
    else if (r.view === 'sitting') openSitting(r.id);
    else { closeSitting(); showError(t('err_title_bad_address'), t('err_body_bad_address')); }
  }

  window.addEventListener('popstate', route);

  // Same-page links (/console, /console/ID) without a reload.
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.target.closest && ev.target.closest('a[href]');
    if (!a || a.target) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !/^\/console(\/|$)/.test(url.pathname)) return;
    ev.preventDefault();
    go(url.pathname);
  });

  function showError(title, body) {
    showScreen('error');
    setText(el.errorTitle, title);
    setText(el.errorBody, body);
  }

  // ------------------------------------------------------------------ login
  function renderMe() {
    el.body.dataset.staff = S.me ? 'true' : 'false';
    if (!S.me) return;
    setText(el.staffName, S.me.name || S.me.username);
    setText(el.staffRole, `${S.me.username} · ${t(`role_${S.me.role}`)}`);
  }

  function showLogin(code) {
    closeSitting();
    S.me = null;
    renderMe();
    showScreen('login');
    if (code) showLoginError(code);
    setTimeout(() => (el.loginUsername.value ? el.loginPassword : el.loginUsername).focus(), 0);
  }

  function showLoginError(code, status) {
    el.loginError.dataset.code = code;
    if (status != null) el.loginError.dataset.status = String(status);
    else delete el.loginError.dataset.status;
    let text;
    if (code === 'fill_all') text = t('fill_all');
    else if (code !== 'login_generic') text = errorText(code);
    if (!text) text = t('err_login_generic', { status: status || '?' });
    setText(el.loginError, text);
    setHidden(el.loginError, false);
  }

  function hideLoginError() {
    delete el.loginError.dataset.code;
    delete el.loginError.dataset.status;
    setHidden(el.loginError, true);
  }

  // Any 401 after login: the staff token expired or was revoked.
  function sessionExpired() {
    showLogin('session_expired');
  }

  el.loginForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (S.loggingIn) return;
    const username = el.loginUsername.value.trim();
    const password = el.loginPassword.value;
    if (!username || !password) {
      showLoginError('fill_all');
      (username ? el.loginPassword : el.loginUsername).focus();
      return;
    }
    S.loggingIn = true;
    el.loginSubmit.disabled = true;
    el.loginSubmit.textContent = t('logging_in');
    try {
      const r = await api('POST', '/api/v1/staff/login', { username, password });
      if (!r.ok) {
        showLoginError(r.code, r.status);
        el.loginPassword.select();
        return;
      }
      const me = await api('GET', '/api/v1/staff/me');
      if (!me.ok) {
        showLoginError(me.code === 'unauthorized' ? 'login_generic' : me.code, me.status);
        return;
      }
      el.loginPassword.value = '';
      hideLoginError();
      S.me = me.data;
      renderMe();
      route();
    } finally {
      S.loggingIn = false;
      el.loginSubmit.disabled = false;
      el.loginSubmit.textContent = t('login_button');
    }
  });

  el.logout.addEventListener('click', async () => {
    await api('POST', '/api/v1/staff/logout', {});
    hideLoginError();
    el.loginUsername.value = '';
    history.replaceState(null, '', '/console');
    showLogin();
  });

  // ------------------------------------------------------------------ sitting list
  async function showList() {
    closeSitting();
    showScreen('list');
    el.listStatus.classList.remove('error');
    setText(el.listStatus, t('loading'));
    const seq = ++S.routeSeq;
    const r = await api('GET', '/api/v1/sittings');
    if (seq !== S.routeSeq || S.view !== 'list') return;
    if (!r.ok) {
      if (r.status === 401) { sessionExpired(); return; }
      el.listStatus.classList.add('error');
      setText(el.listStatus, t('list_error', { message: r.code === 'network' ? t('err_network') : r.message }));
      return;
    }
    S.sittings = Array.isArray(r.data) ? r.data : [];
    renderList();
  }

  function renderList() {
    el.list.replaceChildren();
    el.listStatus.classList.remove('error');
    setText(el.listStatus, S.sittings.length ? t('list_count', { n: S.sittings.length }) : t('list_empty'));
    for (const s of S.sittings) {
      const id = String(s.id);
      const link = h('a', {
        class: 'sitting-link',
        href: `/console/${enc(id)}`,
        'data-testid': `sitting-link-${id}`,
        text: id,
      });
      el.list.appendChild(h('tr', { 'data-sitting': id },
        h('td', null, link),
        h('td', { text: s.exam }),
        h('td', { text: s.venue }),
        h('td', { class: 'starts', text: dateTimeOf(s.starts_at) }),
        h('td', null, h('span', { class: 'status-pill', 'data-status': s.status, text: sittingStatusLabel(s.status) })),
      ));
    }
  }

  function sittingStatusLabel(status) {
    return has(`sitting_${status}`) ? t(`sitting_${status}`) : String(status || '');
  }

  // ------------------------------------------------------------------ one sitting
  async function openSitting(id) {
    if (S.sittingId !== id) {
      closeSitting();
      S.sittingId = id;
    }
    // The report is served to the staff cookie; it opens in a new tab.
    $('integrity-report').href = '/api/v1/sittings/' + encodeURIComponent(id) + '/reports/integrity';
    showScreen('sitting');
    renderHeader();
    renderCounts();
    applyFilter();
    renderLog();
    renderMonitor();
    const ok = await refreshDetail(true);
    if (!ok || S.sittingId !== id) return;
    if (!S.ws && !S.retry.waiting) connectMonitor();
    clearInterval(S.detailTimer);
    S.detailTimer = setInterval(() => { if (S.sittingId === id) refreshDetail(false); }, DETAIL_EVERY_MS);
  }

  function closeSitting() {
    S.routeSeq++;
    clearInterval(S.detailTimer);
    S.detailTimer = 0;
    S.retry.cancel();
    if (S.ws) {
      const ws = S.ws;
      S.ws = null;
      try { ws.close(); } catch (_) { /* ignore */ }
    }
    if (S.dlg) closeDialog();
    S.sittingId = null;
    S.sitting = null;
    S.tokenVisible = false;
    S.seats.clear();
    S.alerts.clear();
    S.events = [];
    S.lastSeatsAt = null;
    S.monitorState = 'connecting';
    S.retry.reset();
    el.grid.replaceChildren();
    el.log.replaceChildren();
    el.filter.value = '';
    el.alertsOnly.checked = false;
  }

  // Loads the sitting (status, token, seats). `first`: the page has nothing yet.
  async function refreshDetail(first) {
    const id = S.sittingId;
    if (!id) return false;
    const r = await api('GET', `/api/v1/sittings/${enc(id)}`);
    if (S.sittingId !== id) return false;
    if (!r.ok) {
      if (r.status === 401) { sessionExpired(); return false; }
      if (r.status === 403) { const i = id; closeSitting(); showError(t('err_title_forbidden'), t('err_body_forbidden', { id: i })); return false; }
      if (r.status === 404) { const i = id; closeSitting(); showError(t('err_title_unknown'), t('err_body_unknown', { id: i })); return false; }
      if (first) {
        closeSitting();
        showError(t('err_title_load'), t('err_body_load', { message: r.code === 'network' ? t('err_network') : `${r.code}: ${r.message}` }));
      }
      return false;
    }
    const d = r.data || {};
    S.sitting = { id: d.id, exam: d.exam, venue: d.venue, status: d.status, token: d.token };
    renderHeader();
    // While the monitor is live its frames are newer than this answer; otherwise use it.
    if (first || S.monitorState !== 'connected') {
      applySeats(Array.isArray(d.seats) ? d.seats : []);
    }
    return true;
  }

  function renderHeader() {
    const s = S.sitting;
    if (!s) {
      setText(el.title, S.sittingId || '');
      setText(el.venue, '');
      setText(el.status, t('loading'));
      setAttr(el.status, 'data-status', '');
      setText(el.token, '—');
      setAttr(el.token, 'data-visible', 'false');
      setText(el.tokenToggle, t('show_token'));
      for (const b of [el.actOpen, el.actPause, el.actResume, el.actClose, el.actRotate, el.tokenToggle]) b.disabled = true;
      return;
    }
    setText(el.title, `${s.id} · ${s.exam}`);
    setText(el.venue, s.venue);
    setText(el.topbarSitting, `${s.id} · ${s.exam}`);
    document.title = `${s.id} · ${t('page_title')}`;
    setAttr(el.status, 'data-status', s.status);
    setText(el.status, sittingStatusLabel(s.status));
    const token = s.token ? String(s.token) : '';
    const show = S.tokenVisible && !!token;
    setAttr(el.token, 'data-visible', show ? 'true' : 'false');
    setText(el.token, show ? token : (token ? '•'.repeat(Math.max(6, [...token].length)) : '—'));
    if (show) el.token.removeAttribute('aria-label');
    else setAttr(el.token, 'aria-label', t('token_hidden_label'));
    el.tokenToggle.disabled = !token;
    setText(el.tokenToggle, t(S.tokenVisible ? 'hide_token' : 'show_token'));
    setAttr(el.tokenToggle, 'aria-pressed', S.tokenVisible ? 'true' : 'false');
    const st = s.status;
    const buttons = [el.actPause, el.actResume, el.actOpen, el.actClose, el.actRotate];
    const focused = buttons.includes(document.activeElement) ? document.activeElement : null;
    el.actOpen.disabled = !(st === 'prepared' || st === 'closed');
    el.actPause.disabled = !(st === 'open' || st === 'paused');
    el.actResume.disabled = !(st === 'open' || st === 'paused');
    el.actClose.disabled = st === 'closed';
    el.actRotate.disabled = st === 'closed';
    if (focused && focused.disabled) {
      const next = buttons.find((b) => !b.disabled);
      if (next) next.focus();
    }
  }

  el.tokenToggle.addEventListener('click', () => {
    S.tokenVisible = !S.tokenVisible;
    renderHeader();
  });

  // ------------------------------------------------------------------ seats
  // "PC 12", but "PC-07" as it is (no "PC PC-07").
  function pcLabel(seat) {
    const s = String(seat);
    return /^(pc|komputer|computer)\b/i.test(s) ? s : t('pc', { seat: s });
  }

  // A finished seat says how it ended: a disqualification must not read like a finish.
  function seatStatusLabel(status, reason) {
    if (status === 'finished' && reason && has(`seat_${reason}`)) return t(`seat_${reason}`);
    return has(`seat_${status}`) ? t(`seat_${status}`) : String(status || '');
  }

  function makeSeat(no) {
    const rec = { no, data: null, at: 0, el: null, c: {}, btn: {} };
    const c = rec.c;
    const idBase = `seat-${Math.random().toString(36).slice(2, 10)}`;
    c.no = h('span', { class: 'seat-no', id: `${idBase}-no`, text: no });
    c.connText = h('span', { class: 'conn-text' });
    c.conn = h('span', { class: 'conn', 'data-connected': 'false' }, h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), c.connText);
    c.name = h('div', { class: 'seat-name' });
    c.checkin = h('span', { class: 'checkin', 'data-checked': 'false' });
    c.pc = h('span', { class: 'pc-name' });
    c.status = h('span', { class: 'status-pill seat-status', 'data-testid': `seat-status-${no}` });
    c.alert = h('button', { type: 'button', class: 'seat-alert', 'data-testid': `seat-alert-${no}`, hidden: true });
    c.alert.addEventListener('click', () => {
      S.alerts.delete(no);
      updateSeat(rec, performance.now(), true);
      renderCounts();
      applyFilter();
      rec.el.focus();
    });
    c.answeredLabel = h('span', { class: 'muted' });
    c.progressText = h('span', { class: 'seat-progress-text' });
    c.fill = h('span', { class: 'bar-fill' });
    c.bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0' }, c.fill);
    c.progress = h('div', { class: 'seat-progress', 'data-testid': `seat-progress-${no}` }, c.progressText);
    c.remainingLabel = h('dt');
    c.remaining = h('span', { class: 'remaining', 'data-testid': `seat-remaining-${no}`, role: 'timer', 'aria-live': 'off' });
    c.scoreLabel = h('dt');
    c.score = h('dd', { class: 'score', 'data-testid': `seat-score-${no}` });
    const actions = h('div', { class: 'seat-actions', role: 'group' });
    for (const a of SEAT_ACTIONS) {
      const b = h('button', { type: 'button', class: `btn act-${a}`, 'data-testid': `seat-action-${a}-${no}`, 'data-action': a });
      b.addEventListener('click', () => openSeatDialog(rec, a, b));
      rec.btn[a] = b;
      actions.appendChild(b);
    }
    c.actions = actions;
    // In the map a tile only locates the seat: pressing it opens the seat's row in the table,
    // where every action is.
    c.open = h('button', { type: 'button', class: 'seat-open', 'data-testid': `seat-open-${no}` });
    c.pick = h('input', { type: 'checkbox', class: 'seat-pick', 'data-testid': `seat-pick-${no}` });
    c.pick.addEventListener('change', () => { if (c.pick.checked) S.picked.add(no); else S.picked.delete(no); });
    c.open.addEventListener('click', () => { setSeatView('table'); focusSeat(no); });
    rec.el = h('article', {
      class: 'seat',
      'data-testid': `seat-${no}`,
      'data-participant': no,
      'data-status': '',
      'data-connected': 'false',
      'data-alert': 'false',
      tabindex: '-1',
      'aria-labelledby': `${idBase}-no`,
    },
    h('div', { class: 'seat-head' }, c.pick, c.no, c.conn, c.open),
    c.name,
    h('div', { class: 'seat-pc' }, c.checkin, c.pc),
    h('div', { class: 'seat-state' }, c.status, c.alert),
    h('div', { class: 'seat-progress-row' }, c.answeredLabel, c.progress),
    c.bar,
    h('dl', { class: 'seat-stats' },
      h('div', null, c.remainingLabel, h('dd', null, c.remaining)),
      h('div', null, c.scoreLabel, c.score)),
    actions);
    return rec;
  }

  function applySeats(list) {
    const now = performance.now();
    const seen = new Set();
    let reorder = false;
    let pcChanged = false;
    const order = [];
    for (const s of list) {
      if (!s || s.participant_no == null) continue;
      const no = String(s.participant_no);
      if (seen.has(no)) continue;
      seen.add(no);
      let rec = S.seats.get(no);
      if (!rec) {
        rec = makeSeat(no);
        S.seats.set(no, rec);
        reorder = true;
      }
      // A seat given a PC name moves in the map (and in the table sorted by PC).
      if (rec.data && (rec.data.seat || '') !== (s.seat || '')) pcChanged = true;
      rec.data = s;
      rec.at = now;
      order.push(rec);
      updateSeat(rec, now, false);
    }
    for (const [no, rec] of S.seats) {
      if (!seen.has(no)) {
        rec.el.remove();
        S.seats.delete(no);
      }
    }
    const byPc = currentSeatView() === 'map' || S.sort.key === 'seat';
    if (reorder || (pcChanged && byPc) || seatCount() !== order.length) arrangeSeats();
    S.lastSeatsAt = new Date();
    renderCounts();
    applyFilter();
    renderMonitorMeta();
  }

  function seatCount() {
    let n = 0;
    for (const c of el.grid.children) if (c.classList.contains('seat')) n++;
    return n;
  }

  const STATUS_ORDER = { active: 0, paused: 1, ready: 2, finished: 3 };
  const SORT_KEYS = {
    seat: (a, b) => pcOrder(a, b),
    participant: (a, b) => natural.compare(a.no, b.no),
    status: (a, b) => (STATUS_ORDER[a.data.status] ?? 4) - (STATUS_ORDER[b.data.status] ?? 4),
    progress: (a, b) => fraction(a) - fraction(b),
    remaining: (a, b, now) => timeLeft(a, now) - timeLeft(b, now),
    // Those needing attention first, then by how many alarms.
    attention: (a, b) => attentionOf(b) - attentionOf(a),
  };
  function fraction(rec) {
    const total = Number(rec.data.total) || 0;
    return total ? (Number(rec.data.answered) || 0) / total : 0;
  }
  function timeLeft(rec, now) {
    return rec.data.status === 'finished' ? Infinity : remainingOf(rec, now);
  }
  function attentionOf(rec) {
    return needsAttention(rec) ? 1 + (S.alerts.get(rec.no)?.length || 0) : 0;
  }
  // Named PCs in their natural order, then the seats without a PC name.
  function pcOrder(a, b) {
    const pa = a.data.seat ? String(a.data.seat) : '';
    const pb = b.data.seat ? String(b.data.seat) : '';
    if (!pa !== !pb) return pa ? -1 : 1;
    return natural.compare(pa, pb);
  }

  function currentSeatView() {
    return S.seatView || (S.seats.size > CARDS_MAX ? 'table' : 'cards');
  }

  function setSeatView(view) {
    S.seatView = view;
    try { localStorage.setItem(VIEW_KEY, view); } catch { /* private mode: this page only */ }
    arrangeSeats();
  }

  // Puts the seats in the order of the view (the map: by PC; otherwise the chosen sort) and
  // marks the view on the page.
  function arrangeSeats() {
    const view = currentSeatView();
    const now = performance.now();
    const recs = [...S.seats.values()].filter((r) => r.data);
    const { key, dir } = S.sort;
    const cmp = view === 'map' ? pcOrder : (a, b) => dir * SORT_KEYS[key](a, b, now);
    recs.sort((a, b) => cmp(a, b) || natural.compare(a.no, b.no));
    // The map's tail row: seats whose PC has no name.
    const firstUnnamed = view === 'map' ? recs.findIndex((r) => !r.data.seat) : -1;
    const items = recs.map((r) => r.el);
    if (firstUnnamed > 0) items.splice(firstUnnamed, 0, el.mapBreak);
    else el.mapBreak.remove();
    let i = 0;
    for (const item of items) {
      if (el.grid.children[i] !== item) el.grid.insertBefore(item, el.grid.children[i] || null);
      i++;
    }
    el.grid.dataset.view = view;
    el.screenSitting.dataset.seatView = view;
    for (const b of el.viewButtons) setAttr(b, 'aria-pressed', b.dataset.seatView === view ? 'true' : 'false');
    setHidden(el.sortbar, view === 'map');
    for (const b of el.sortButtons) setAttr(b, 'aria-pressed', b.dataset.sort === key ? 'true' : 'false');
    setText(el.sortDir, `${t(`sort_${key}`)} (${t(dir > 0 ? 'sort_asc' : 'sort_desc')})`);
    setText(el.mapBreak, t('map_unnamed'));
  }

  for (const b of document.querySelectorAll('[data-seat-view]')) {
    b.addEventListener('click', () => setSeatView(b.dataset.seatView));
  }
  for (const b of document.querySelectorAll('[data-sort]')) {
    b.addEventListener('click', () => {
      const key = b.dataset.sort;
      S.sort = { key, dir: S.sort.key === key ? -S.sort.dir : 1 };
      arrangeSeats();
    });
  }

  function remainingOf(rec, now) {
    const d = rec.data;
    const base = Number(d.remaining_ms) || 0;
    return d.status === 'active' ? Math.max(0, base - (now - rec.at)) : base;
  }

  function alertsOf(no) {
    const list = S.alerts.get(no);
    if (!list) return null;
    const cutoff = Date.now() - ALERT_TTL_MS;
    const fresh = list.filter((a) => a.at >= cutoff);
    if (!fresh.length) { S.alerts.delete(no); return null; }
    if (fresh.length !== list.length) S.alerts.set(no, fresh);
    return fresh;
  }

  function eventLabel(kind) {
    return has(`ev_${kind}`) ? t(`ev_${kind}`) : String(kind || '');
  }

  // Puts a seat's data into its card. `labels`: also the fixed labels (language change).
  function updateSeat(rec, now, labels) {
    const d = rec.data;
    if (!d) return;
    const c = rec.c;
    const no = rec.no;
    const status = String(d.status || '');
    setAttr(rec.el, 'data-status', status);
    setAttr(rec.el, 'data-connected', d.connected ? 'true' : 'false');
    setAttr(c.conn, 'data-connected', d.connected ? 'true' : 'false');
    setText(c.connText, t(d.connected ? 'online' : 'offline'));
    setText(c.name, d.name || '');
    setAttr(c.name, 'title', d.name || '');
    setAttr(c.checkin, 'data-checked', d.checked_in ? 'true' : 'false');
    setText(c.checkin, t(d.checked_in ? 'checked_in' : 'not_checked_in'));
    setText(c.pc, d.seat ? pcLabel(d.seat) : t('no_pc'));
    setAttr(c.status, 'data-status', status);
    setAttr(rec.el, 'data-reason', d.reason || '');
    setAttr(c.status, 'data-reason', d.reason || '');
    setText(c.status, seatStatusLabel(status, d.reason));

    const answered = Number(d.answered) || 0;
    const total = Number(d.total) || 0;
    setText(c.progressText, total ? `${answered}/${total}` : `${answered}/–`);
    setAttr(c.progress, 'data-answered', answered);
    setAttr(c.progress, 'data-total', total);
    setAttr(c.bar, 'aria-valuemax', String(total || 1));
    setAttr(c.bar, 'aria-valuenow', String(answered));
    setAttr(c.bar, 'aria-label', t('progress_label', { answered, total: total || '–' }));
    const frac = total ? Math.min(1, answered / total) : 0;
    const tf = `scaleX(${frac.toFixed(4)})`;
    if (c.fill.style.transform !== tf) c.fill.style.transform = tf;

    setAttr(c.remaining, 'data-remaining-ms', String(Number(d.remaining_ms) || 0));
    renderRemaining(rec, now);
    // The exam's policy may hide a running score from the monitor too (`null`).
    setText(c.score, d.score == null ? '–' : String(d.score));
    setAttr(c.score, 'title', d.score == null ? t('score_hidden') : '');

    const alerts = alertsOf(no);
    setAttr(rec.el, 'data-alert', alerts ? 'true' : 'false');
    setHidden(c.alert, !alerts);
    if (alerts) {
      const last = alerts[alerts.length - 1];
      const kinds = [...new Set(alerts.map((a) => a.kind))];
      const text = kinds.length > 1
        ? t('alert_badge_n', { kind: eventLabel(last.kind), more: kinds.length - 1 })
        : t('alert_badge', { kind: eventLabel(last.kind) }) + (alerts.length > 1 ? ` ×${alerts.length}` : '');
      setText(c.alert, text);
      setAttr(c.alert, 'data-kind', last.kind);
      const list = kinds.map((k) => {
        const n = alerts.filter((a) => a.kind === k).length;
        return n > 1 ? `${eventLabel(k)} (${n}×)` : eventLabel(k);
      }).join(', ');
      const aria = t('alert_aria', { list, time: timeOf(last.iso) });
      setAttr(c.alert, 'aria-label', aria);
      setAttr(c.alert, 'title', aria);
    }

    const finished = status === 'finished';
    const b = rec.btn;
    const focused = rec.c.actions.contains(document.activeElement) ? document.activeElement : null;
    b.checkin.disabled = finished;
    b.pause.disabled = status !== 'active';
    b.resume.disabled = status !== 'paused';
    b.extend.disabled = finished;
    b['allow-move'].disabled = finished;
    b.terminate.disabled = finished;
    // A focused button that just got disabled would drop the focus to the page: move it to
    // the counterpart (pause <-> resume) or to the card.
    if (focused && focused.disabled) {
      const alt = { pause: b.resume, resume: b.pause }[focused.dataset.action];
      (alt && !alt.disabled ? alt : rec.el).focus({ preventScroll: true });
    }

    if (labels || !rec.labelled) {
      rec.labelled = true;
      setText(c.answeredLabel, t('answered'));
      setText(c.remainingLabel, t('remaining'));
      setText(c.scoreLabel, t('score'));
      setAttr(c.actions, 'aria-label', no);
      setAttr(c.open, 'aria-label', t('map_open', { no }));
      setAttr(c.pick, 'aria-label', t('pick_aria', { no }));
      for (const a of SEAT_ACTIONS) {
        const label = t(`act_${a.replace('-', '_')}`);
        setText(b[a], label);
        setAttr(b[a], 'aria-label', t('act_aria', { action: label, no }));
      }
    }
  }

  function renderRemaining(rec, now) {
    const d = rec.data;
    const c = rec.c;
    const status = d.status;
    const ms = remainingOf(rec, now);
    const known = !(status === 'ready' && !Number(d.total) && !Number(d.remaining_ms));
    setText(c.remaining, status === 'finished' || !known ? '—' : mmss(ms));
    setAttr(c.remaining, 'data-running', status === 'active' ? 'true' : 'false');
    setAttr(c.remaining, 'data-low', status === 'active' && ms < LOW_TIME_MS ? 'true' : 'false');
  }

  // Candidates still working (their exam running or paused): closing the sitting does not
  // stop them, and the close dialog says how many there are.
  function workingCount() {
    let n = 0;
    for (const rec of S.seats.values()) if (rec.data && (rec.data.status === 'active' || rec.data.status === 'paused')) n++;
    return n;
  }

  function renderCounts() {
    let online = 0;
    let active = 0;
    let paused = 0;
    let finished = 0;
    let alerts = 0;
    for (const rec of S.seats.values()) {
      const d = rec.data;
      if (!d) continue;
      if (d.connected) online++;
      if (d.status === 'active') active++;
      else if (d.status === 'paused') paused++;
      else if (d.status === 'finished') finished++;
      if (needsAttention(rec)) alerts++;
    }
    setText(el.countSeats, String(S.seats.size));
    setText(el.countOnline, String(online));
    setText(el.countActive, String(active));
    setText(el.countPaused, String(paused));
    setText(el.countFinished, String(finished));
    setText(el.countAlerts, String(alerts));
    el.body.dataset.alerts = alerts ? 'true' : 'false';
  }

  // A seat needs attention: a recent alarming event, or working while its PC is offline.
  function needsAttention(rec) {
    const d = rec.data;
    return S.alerts.has(rec.no) || (!!d && !d.connected && (d.status === 'active' || d.status === 'paused'));
  }

  function applyFilter() {
    const q = el.filter.value.trim().toLowerCase();
    const onlyAlerts = el.alertsOnly.checked;
    let shown = 0;
    for (const rec of S.seats.values()) {
      const d = rec.data || {};
      let ok = true;
      if (q) {
        const hay = `${rec.no} ${d.name || ''} ${d.seat || ''}`.toLowerCase();
        ok = hay.includes(q);
      }
      if (ok && onlyAlerts) ok = needsAttention(rec);
      setHidden(rec.el, !ok);
      if (ok) shown++;
    }
    const empty = S.sitting && shown === 0;
    setHidden(el.seatEmpty, !empty);
    if (empty) setText(el.seatEmpty, S.seats.size ? t('no_match') : t('no_seats'));
  }

  el.filter.addEventListener('input', applyFilter);
  el.alertsOnly.addEventListener('change', applyFilter);

  function focusSeat(no) {
    const rec = S.seats.get(no);
    if (!rec) return;
    if (rec.el.hidden) {
      el.filter.value = '';
      el.alertsOnly.checked = false;
      applyFilter();
    }
    rec.el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    rec.el.focus({ preventScroll: true });
    rec.el.classList.add('flash');
    setTimeout(() => rec.el.classList.remove('flash'), 1500);
  }

  // ------------------------------------------------------------------ event log
  function eventDetail(e) {
    const kind = e.kind;
    const detail = e.detail == null ? '' : String(e.detail);
    if (e.local) return detail;
    if (kind === 'lagged') return t('detail_lagged', { n: e.n });
    // A kind the candidate's page reports is its own claim, not something the server saw.
    if (e.by === 'candidate') return detail ? `${t('by_candidate')} · ${detail}` : t('by_candidate');
    const g = e.irregularity;
    if (kind === 'irregularity' && g && typeof g === 'object') {
      return t('detail_irregularity', {
        fast: Number(g.fast_answers) || 0, answers: Number(g.answers) || 0, ms: Number(g.fastest_ms) || 0,
        cycled: Number(g.cycled_questions) || 0, score: Number(g.score) || 0,
      });
    }
    if (!detail) return '';
    let m;
    if (kind === 'answer_cycling' && (m = /^question (\d+) answered with several different options within a minute$/.exec(detail))) {
      return t('detail_cycling', { n: m[1] });
    }
    if (kind === 'finished' && /^(submitted|time_up|terminated)$/.test(detail)) return t(`finish_${detail}`);
    if (kind === 'fast_answer' && (m = /^question (\d+) answered (\d+) ms after the previous one$/.exec(detail))) {
      return t('detail_fast', { n: m[1], ms: m[2] });
    }
    if (kind === 'answer_while_paused' && (m = /^question (\d+)$/.exec(detail))) return t('detail_question', { n: m[1] });
    if (kind === 'taken_over' && detail === 'a new connection took the seat') return t('detail_taken_over');
    if (kind === 'paused' || kind === 'resumed' || kind === 'extended') return t('detail_reason', { reason: detail });
    return detail;
  }

  function eventNode(e) {
    const kindLabel = e.local ? t(`ev_local_${e.kind.replace('-', '_')}`) : eventLabel(e.kind);
    let who;
    if (e.no && S.seats.has(e.no)) {
      who = h('button', { type: 'button', class: 'event-who', text: e.no, 'aria-label': t('log_seat_button', { no: e.no }) });
      who.addEventListener('click', () => focusSeat(e.no));
    } else {
      who = h('span', { class: 'event-who-text', text: e.no || '' });
    }
    return h('li', {
      class: 'event',
      'data-testid': 'event-entry',
      'data-kind': e.kind,
      'data-participant': e.no || '',
      'data-alarm': e.alarm ? 'true' : 'false',
      'data-by': e.by || '',
      'data-local': e.local ? 'true' : 'false',
    },
    h('time', { class: 'event-time', datetime: e.iso, text: timeOf(e.iso) }),
    h('div', { class: 'event-main' }, who, h('span', { class: 'event-kind', text: kindLabel })),
    h('div', { class: 'event-detail', text: eventDetail(e) }));
  }

  function addEvent(e) {
    // A candidate's irregularity is one line, updated in place: the newest replaces the
    // earlier one (the server re-sends it with the grown counts).
    if (e.kind === 'irregularity' && e.no) {
      const before = S.events.length;
      S.events = S.events.filter((x) => !(x.kind === 'irregularity' && x.no === e.no));
      if (S.events.length !== before) {
        S.events.unshift(e);
        renderLog();
        return;
      }
    }
    S.events.unshift(e);
    el.log.insertBefore(eventNode(e), el.log.firstChild);
    while (S.events.length > LOG_MAX) {
      S.events.pop();
      if (el.log.lastChild) el.log.removeChild(el.log.lastChild);
    }
    renderLogMeta();
  }

  function renderLog() {
    el.log.replaceChildren(...S.events.map(eventNode));
    renderLogMeta();
  }

  function renderLogMeta() {
    setText(el.logCount, S.events.length ? t('log_count', { n: S.events.length }) : '');
    setHidden(el.logEmpty, S.events.length > 0);
  }

  function localEvent(kind, no, parts) {
    addEvent({ kind, no: no || (S.me ? S.me.username : ''), detail: parts.filter(Boolean).join(' · '), iso: new Date().toISOString(), local: true, alarm: false });
  }

  function onSeatEvent(ev) {
    if (!ev || typeof ev !== 'object') return;
    const no = ev.participant_no == null ? '' : String(ev.participant_no);
    const kind = String(ev.kind || '');
    const alarm = ALARM_KINDS.has(kind);
    const by = ev.by === 'candidate' ? 'candidate' : 'server';
    addEvent({ kind, no, by, detail: ev.detail, irregularity: ev.irregularity, iso: ev.at || new Date().toISOString(), alarm, local: false });
    if (alarm && no) {
      const list = (S.alerts.get(no) || []).filter((a) => !(kind === 'irregularity' && a.kind === kind));
      list.push({ kind, at: Date.now(), iso: ev.at || new Date().toISOString() });
      if (list.length > 50) list.splice(0, list.length - 50);
      S.alerts.set(no, list);
    }
    const rec = S.seats.get(no);
    if (rec && rec.data) {
      // Connection and status changes show at once; the next seats frame confirms them.
      const d = rec.data;
      if (kind === 'connected' || kind === 'taken_over') d.connected = true;
      else if (kind === 'disconnected') d.connected = false;
      else if (kind === 'finished') d.status = 'finished';
      else if (d.status !== 'finished' && (kind === 'paused' || kind === 'resumed')) {
        // Keep the clock where it is now: re-base the remaining time on this moment.
        const now = performance.now();
        d.remaining_ms = remainingOf(rec, now);
        rec.at = now;
        d.status = kind === 'paused' ? 'paused' : 'active';
      }
      updateSeat(rec, performance.now(), false);
      renderCounts();
      applyFilter();
    }
  }

  // ------------------------------------------------------------------ monitor socket
  function setMonitor(state) {
    if (S.monitorState === state) return;
    S.monitorState = state;
    renderMonitor();
  }

  function renderMonitor() {
    Ujian.showLive(el.monitor, el.monitorText, S.monitorState, 'monitor_');
    renderMonitorMeta();
    let text = '';
    if (S.view === 'sitting' && S.monitorState === 'reconnecting') {
      text = S.lastSeatsAt ? t('banner_reconnecting', { time: hms(S.lastSeatsAt) }) : t('banner_reconnecting_nodata');
    }
    setHidden(el.banner, !text);
    setText(el.banner, text);
  }

  function renderMonitorMeta() {
    setText(el.monitorMeta, S.lastSeatsAt ? t('monitor_updated', { time: hms(S.lastSeatsAt) }) : '');
  }

  function connectMonitor() {
    S.retry.cancel();
    const id = S.sittingId;
    if (!id || !S.me) return;
    const url = Ujian.wsUrl(`/ws/monitor/${enc(id)}`);
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      console.warn('monitor:', e);
      retryLater();
      return;
    }
    S.ws = ws;
    S.lastFrame = performance.now();
    ws.onmessage = (m) => {
      if (S.ws !== ws) return;
      S.lastFrame = performance.now();
      let msg;
      try { msg = JSON.parse(m.data); } catch (_) { return; }
      if (!msg || typeof msg !== 'object') return;
      if (S.monitorState !== 'connected') {
        S.retry.reset();
        setMonitor('connected');
      }
      if (msg.type === 'seats' && Array.isArray(msg.seats)) applySeats(msg.seats);
      else if (msg.type === 'event') onSeatEvent(msg.event);
      else if (msg.type === 'lagged') addEvent({ kind: 'lagged', n: Number(msg.missed) || 0, no: '', detail: '', iso: new Date().toISOString(), alarm: false, local: false });
    };
    ws.onclose = () => {
      if (S.ws !== ws) return;
      S.ws = null;
      setMonitor('reconnecting');
      retryLater();
    };
    ws.onerror = () => { /* a close follows */ };
  }

  // Waits (exponential backoff with jitter), checks the login and the sitting over HTTP
  // (an upgrade refused with 401/403 shows only as a close), refreshes the seats from that
  // answer, then reconnects.
  function retryLater() {
    const id = S.sittingId;
    S.retry.schedule(async () => {
      if (S.sittingId !== id || !id) return;
      const ok = await refreshDetail(false);
      if (S.sittingId !== id || S.ws) return;
      if (ok) connectMonitor();
      else if (S.view === 'sitting') retryLater();
    });
  }

  window.addEventListener('online', () => {
    if (S.view === 'sitting' && !S.ws) {
      S.retry.reset();
      connectMonitor();
    }
  });

  // ------------------------------------------------------------------ action dialog
  // key -> how the dialog looks and where it posts.
  const ACTIONS = {
    'sitting:open': { scope: 'sitting', action: 'open', dlg: 'open', sug: 'open', style: 'btn-primary', rotate: true, local: 'open', toast: 'open' },
    'sitting:pause': { scope: 'sitting', action: 'pause', dlg: 'pause', sug: 'pause', style: 'btn-warn', local: 'pause', toast: 'pause' },
    'sitting:resume': { scope: 'sitting', action: 'resume', dlg: 'resume', sug: 'resume', style: 'btn-ok', local: 'resume', toast: 'resume' },
    'sitting:close': { scope: 'sitting', action: 'close', dlg: 'close', sug: 'close', style: 'btn-danger', local: 'close', toast: 'close' },
    'sitting:checkin': { scope: 'sitting', action: 'checkin', dlg: 'bulk', sug: 'checkin', style: 'btn-primary', list: true, local: 'checkin', toast: 'bulk' },
    'sitting:rotate-token': { scope: 'sitting', action: 'rotate-token', dlg: 'rotate', sug: 'rotate', style: 'btn-primary', local: 'rotate-token', toast: 'rotate' },
    'seat:checkin': { scope: 'session', action: 'checkin', dlg: 'checkin', sug: 'checkin', style: 'btn-primary', seat: 'seat_label_checkin', local: 'checkin', toast: 'checkin' },
    'seat:pause': { scope: 'session', action: 'pause', dlg: 'spause', sug: 'spause', style: 'btn-warn', toast: 'spause' },
    'seat:resume': { scope: 'session', action: 'resume', dlg: 'sresume', sug: 'sresume', style: 'btn-ok', toast: 'sresume' },
    'seat:extend': { scope: 'session', action: 'extend', dlg: 'extend', sug: 'extend', style: 'btn-primary', minutes: true, toast: 'extend' },
    'seat:allow-move': { scope: 'session', action: 'allow-move', dlg: 'move', sug: 'move', style: 'btn-primary', seat: 'seat_label_move', local: 'allow-move', toast: 'move' },
    'seat:unlock': { scope: 'session', action: 'unlock', dlg: 'unlock', sug: 'unlock', style: 'btn-primary', local: 'unlock', toast: 'unlock' },
    'seat:terminate': { scope: 'session', action: 'terminate', dlg: 'terminate', sug: 'terminate', style: 'btn-danger', twoStep: true, toast: 'terminate' },
  };

  function openSittingDialog(action, opener) {
    if (!S.sitting) return;
    openDialog({ key: `sitting:${action}`, sittingId: S.sitting.id, opener });
  }

  function openSeatDialog(rec, action, opener) {
    if (!rec.data) return;
    openDialog({ key: `seat:${action}`, sittingId: S.sittingId, rec, session: String(rec.data.session), no: rec.no, name: rec.data.name || '', opener });
  }

  el.actOpen.addEventListener('click', () => openSittingDialog('open', el.actOpen));
  el.actPause.addEventListener('click', () => openSittingDialog('pause', el.actPause));
  el.actResume.addEventListener('click', () => openSittingDialog('resume', el.actResume));
  el.actClose.addEventListener('click', () => openSittingDialog('close', el.actClose));
  el.actRotate.addEventListener('click', () => openSittingDialog('rotate-token', el.actRotate));
  el.bulkCheckin.addEventListener('click', () => openSittingDialog('checkin', el.bulkCheckin));

  function openDialog(d) {
    if (S.dlg) closeDialog();
    const spec = ACTIONS[d.key];
    d.spec = spec;
    d.stage = 1;
    d.busy = false;
    d.armedAt = 0;
    S.dlg = d;
    el.reason.value = '';
    el.minutes.value = '';
    el.seat.value = spec.action === 'checkin' && d.rec && d.rec.data.seat ? String(d.rec.data.seat) : '';
    // The seats ticked in the table, to add to or scan more after.
    el.bulkList.value = spec.list && S.picked.size ? `${[...S.picked].sort(natural.compare).join('\n')}\n` : '';
    el.rotate.checked = false;
    setHidden(el.reasonError, true);
    setText(el.reasonError, '');
    el.dialog.dataset.action = d.key;
    renderDialog();
    if (!el.dialog.open) el.dialog.showModal();
    const first = spec.minutes ? el.minutes : spec.action === 'checkin' ? el.seat : el.reason;
    first.focus();
    validateDialog();
  }

  function renderDialog() {
    const d = S.dlg;
    if (!d) return;
    const spec = d.spec;
    setText(el.reasonTitle, t(`dlg_${spec.dlg}_title`));
    if (spec.scope === 'sitting') {
      const s = S.sitting || { id: d.sittingId, exam: '', venue: '' };
      setText(el.reasonTarget, [s.id, s.exam, s.venue].filter(Boolean).join(' · '));
    } else {
      const seat = d.rec && d.rec.data && d.rec.data.seat ? pcLabel(d.rec.data.seat) : '';
      setText(el.reasonTarget, [`${d.no} — ${d.name}`, seat].filter(Boolean).join(' · '));
    }
    setText(el.reasonDesc, t(`dlg_${spec.dlg}_desc`));
    setHidden(el.minutesField, !spec.minutes);
    setHidden(el.seatField, !spec.seat);
    if (spec.seat) setText(el.seatLabel, t(spec.seat));
    setHidden(el.rotateField, !spec.rotate);
    setHidden(el.listField, !spec.list);
    const sug = t(`sug_${spec.sug}`);
    el.suggestions.replaceChildren(...(Array.isArray(sug) ? sug : []).map((s) => h('option', { value: s })));
    const second = spec.twoStep && d.stage === 2;
    const working = spec.dlg === 'close' ? workingCount() : 0;
    const warning = second ? t(`dlg_${spec.dlg}_warning`, { no: d.no, name: d.name })
      : working ? t('dlg_close_working', { n: working }) : '';
    setHidden(el.warning, !warning);
    if (warning) setText(el.warning, warning);
    el.confirm.className = `btn ${spec.style}`;
    setText(el.confirm, d.busy ? t('sending') : second ? t(`dlg_${spec.dlg}_confirm2`, { no: d.no }) : t(`dlg_${spec.dlg}_confirm`));
    setAttr(el.confirm, 'data-stage', String(d.stage));
  }

  function minutesValue() {
    const v = el.minutes.value.trim();
    if (!/^\d{1,3}$/.test(v)) return null;
    const n = Number(v);
    return n >= 1 && n <= 240 ? n : null;
  }

  function validateDialog() {
    const d = S.dlg;
    if (!d) return false;
    const ok = chars(el.reason.value) >= 3 && (!d.spec.minutes || minutesValue() != null) && (!d.spec.list || listValue().length > 0);
    const armed = !(d.spec.twoStep && d.stage === 2) || performance.now() >= d.armedAt;
    el.confirm.disabled = !ok || d.busy || !armed;
    setAttr(el.reason, 'aria-invalid', chars(el.reason.value) >= 3 || !el.reason.value ? 'false' : 'true');
    if (d.spec.minutes) setAttr(el.minutes, 'aria-invalid', minutesValue() != null || !el.minutes.value ? 'false' : 'true');
    return ok && armed && !d.busy;
  }

  for (const input of [el.reason, el.minutes, el.seat, el.bulkList]) input.addEventListener('input', validateDialog);

  // The participant numbers typed or scanned (a scanner ends each with Enter).
  function listValue() {
    return el.bulkList.value.split(/[\s,;]+/).filter(Boolean);
  }

  function closeDialog() {
    const d = S.dlg;
    S.dlg = null;
    if (el.dialog.open) el.dialog.close();
    if (!d) return;
    if (d.opener && d.opener.isConnected && !d.opener.disabled) {
      d.opener.focus();
    } else if (d.rec && d.rec.el.isConnected) {
      // The seat already changed (the monitor event can beat the HTTP answer).
      const alt = d.opener && { pause: d.rec.btn.resume, resume: d.rec.btn.pause }[d.opener.dataset.action];
      (alt && !alt.disabled ? alt : d.rec.el).focus({ preventScroll: true });
    } else if (d.spec && d.spec.scope === 'sitting') {
      const next = [el.actPause, el.actResume, el.actOpen, el.actClose, el.actRotate].find((b) => !b.disabled);
      if (next) next.focus();
    }
  }

  el.cancel.addEventListener('click', () => closeDialog());
  el.dialog.addEventListener('cancel', (ev) => {
    // Escape: allowed unless a request is in flight.
    if (S.dlg && S.dlg.busy) { ev.preventDefault(); return; }
    ev.preventDefault();
    closeDialog();
  });

  el.reasonForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const d = S.dlg;
    if (!d || !validateDialog()) return;
    const spec = d.spec;
    if (spec.twoStep && d.stage === 1) {
      d.stage = 2;
      d.armedAt = performance.now() + ARM_MS;
      renderDialog();
      validateDialog();
      // The safe choice has the focus; the confirm button arms itself after a moment.
      el.cancel.focus();
      setTimeout(() => { if (S.dlg === d) validateDialog(); }, ARM_MS + 20);
      return;
    }
    const body = { reason: el.reason.value.trim() };
    if (spec.minutes) body.minutes = minutesValue();
    if (spec.seat && el.seat.value.trim()) body.seat = el.seat.value.trim();
    if (spec.rotate) body.rotate_token = el.rotate.checked;
    if (spec.list) body.participants = listValue();
    const path = spec.scope === 'sitting'
      ? `/api/v1/sittings/${enc(d.sittingId)}/${spec.action}`
      : `/api/v1/sessions/${enc(d.session)}/${spec.action}`;
    d.busy = true;
    setHidden(el.reasonError, true);
    renderDialog();
    validateDialog();
    const r = await api('POST', path, body);
    d.busy = false;
    if (S.dlg !== d) {
      // The dialog went away meanwhile (navigation): still report the outcome.
      if (r.ok) afterAction(d, body, r.data);
      return;
    }
    if (!r.ok) {
      if (r.status === 401) { closeDialog(); sessionExpired(); return; }
      const known = r.code === 'network' || r.code === 'extension_limit' || r.code === 'forbidden';
      setText(el.reasonError, known ? errorText(r.code, 'err_action_') : t('err_action', { code: r.code, message: r.message }));
      setHidden(el.reasonError, false);
      renderDialog();
      validateDialog();
      el.reason.focus();
      return;
    }
    closeDialog();
    afterAction(d, body, r.data);
  });

  function afterAction(d, body, data) {
    const spec = d.spec;
    if (spec.scope === 'sitting') {
      if (S.sitting && S.sittingId === d.sittingId && data) {
        const rotated = data.token && data.token !== S.sitting.token;
        if (typeof data.status === 'string') S.sitting.status = data.status;
        if (typeof data.token === 'string') S.sitting.token = data.token;
        if (rotated) S.tokenVisible = true; // a new token is there to be read out
        renderHeader();
      }
      const sessions = data && data.sessions;
      const n = Array.isArray(sessions) ? sessions.length : Number.isFinite(Number(sessions)) ? Number(sessions) : 0;
      if (spec.list) {
        S.picked.clear();
        for (const rec of S.seats.values()) rec.c.pick.checked = false;
      }
      toast(t(`toast_${spec.toast}`, { n }));
      if (S.sittingId === d.sittingId) {
        localEvent(spec.local, '', [body.reason, (spec.action === 'pause' || spec.action === 'resume') ? t('detail_sessions', { n }) : '']);
      }
    } else {
      const changed = !data || data.changed !== false;
      toast(changed ? t(`toast_${spec.toast}`, { no: d.no, m: body.minutes }) : t('toast_unchanged', { no: d.no }), changed ? '' : 'info');
      if (spec.local && S.sittingId === d.sittingId) {
        localEvent(spec.local, d.no, [body.seat ? pcLabel(body.seat) : '', body.reason]);
      }
    }
    if (S.sittingId === d.sittingId) refreshDetail(false);
  }

  // ------------------------------------------------------------------ toasts and ticks
  function toast(message, kind) {
    Ujian.toast(el.toasts, message, kind, 5000);
  }

  function tick() {
    setText(el.clock, hms(new Date()));
    if (S.view !== 'sitting') return;
    const now = performance.now();
    for (const rec of S.seats.values()) if (rec.data && rec.data.status === 'active') renderRemaining(rec, now);
    // A socket that says nothing for a while is dead even if the OS has not noticed yet.
    if (S.ws && S.monitorState === 'connected' && now - S.lastFrame > STALE_MS) {
      const ws = S.ws;
      S.ws = null;
      try { ws.close(); } catch (_) { /* ignore */ }
      setMonitor('reconnecting');
      retryLater();
    }
  }

  // Alerts expire after a while.
  function sweepAlerts() {
    if (S.view !== 'sitting' || !S.alerts.size) return;
    const cutoff = Date.now() - ALERT_TTL_MS;
    let changed = false;
    for (const [no, list] of S.alerts) {
      if (list.some((a) => a.at < cutoff)) {
        changed = true;
        const rec = S.seats.get(no);
        alertsOf(no);
        if (rec) updateSeat(rec, performance.now(), false);
      }
    }
    if (changed) { renderCounts(); applyFilter(); }
  }

  // ------------------------------------------------------------------ start
  async function boot() {
    applyLanguage();
    renderMonitor();
    tick();
    setInterval(tick, 500);
    setInterval(sweepAlerts, 10000);
    const r = await api('GET', '/api/v1/staff/me');
    if (r.ok && r.data) {
      S.me = r.data;
      renderMe();
      route();
      return;
    }
    showLogin(r.status === 401 ? null : r.status === 403 ? 'forbidden' : r.code === 'network' ? 'network' : null);
  }

  boot();
})();
