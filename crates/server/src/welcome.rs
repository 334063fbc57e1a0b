//! What the command line tells a committee without being asked: `ujian --help` lists the
//! exam day's commands in the order they are run, and `serve` prints where its pages are
//! and, while nobody can log in to the console, how to make the first admin.

use std::net::SocketAddr;

/// `ujian --help`'s long text. Every `ujian …` line names a real command (a test runs each
/// with `--help`), so the list cannot drift from the commands it describes.
pub const LONG_ABOUT: &str = "ujian runs computer-assisted exams: randomized papers, a server-owned \
timer, durable answers and a live public scoreboard.

The committee's day, in order:
   0. ujian bank samples                            the SKD sample to start from, in question-banks/
   1. ujian bank validate question-banks/skd         check a bank, list every mistake
   2. ujian bank lint question-banks/skd --exam question-banks/exams/skd.toml
                                                    find item-writing flaws (a pass without reading)
   3. ujian exam check question-banks/exams/skd.toml  check an exam can be drawn
   4. ujian exam import question-banks/exams/skd.toml  store it in the database
   5. ujian candidates import peserta.csv --pins-out pin.csv
                                                    register candidates, write their PIN slips
   6. ujian sitting prepare --id SESI-1 --exam SKD-2026 --venue \"Aula BKD\" \\
          --starts-at 2026-11-24T08:00:00+07:00 --candidates peserta.csv
                                                    draw every paper; prints the sitting's token
   7. ujian staff add panitia --role admin          the committee's login (every sitting)
      ujian staff add pengawas1 --role supervisor --sitting SESI-1
                                                    a room's supervisor; each prints a password
   8. ujian serve --listen 0.0.0.0:8080             prints the candidate, board and console URLs
   9. ujian sitting open SESI-1 --reason \"sesi dimulai\" --user panitia
                                                    open it through the running server (or in
                                                    the console, http://HOST/console); reveal
                                                    the token it prints in the room
      ujian sitting status SESI-1 --user panitia    who is ready, working, finished
      ujian sitting close SESI-1 --reason \"waktu habis\" --user panitia
  10. ujian results export --sitting SESI-1 --out hasil.csv
                                                    ranked results with P/L, P, TL, TH, DIS
      ujian results export --sitting SESI-1 --format pdf --out pengumuman.pdf
                                                    the list to publish (or --format xlsx)
      ujian analyze items --exam SKD-2026 --out laporan
                                                    how the items worked (and `analyze integrity`)
  11. ujian audit verify                            recompute the audit log's hash chain
      ujian receipt verify 'UJ1.…'                  check a candidate's signed receipt";

/// Printed when `serve` starts: the addresses to hand out, and the command that makes the
/// first admin when there is none (without one nobody can open a sitting).
pub fn serve_banner(addr: SocketAddr, has_admin: bool) -> String {
    let mut text = format!(
        "ujian listening on http://{addr}\n\
         \x20 exam page (candidates):  http://{addr}/\n\
         \x20 public board:            http://{addr}/board\n"
    );
    if !has_admin {
        text.push_str(
            "  no admin account yet: make one with `ujian staff add NAME --role admin` \
             (it prints the password), then log in to the console\n",
        );
    }
    text.push_str(&format!("  supervisor console:      http://{addr}/console"));
    text
}

/// Prints `text` to standard output, ignoring a reader that has gone: whoever started the
/// server may read the listening line and close the pipe (loadgen and the crash tests do),
/// and `println!` would then panic and take the server down with it.
pub fn print(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}
