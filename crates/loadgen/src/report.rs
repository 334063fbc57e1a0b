//! The result of a run: one serialisable [`Report`] (written with `--out`) and the summary
//! table printed at the end.

use std::fmt::Write as _;

use serde::Serialize;

use crate::echo::EchoReport;
use crate::stats::{ErrorCounts, Summary, ms};

/// The options a run was made with, so a result file says what it measured.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub candidates: usize,
    pub answers: Option<usize>,
    pub think_ms: f64,
    pub synchronized_start: bool,
    pub login_before_start: bool,
    pub ramp_secs: f64,
    pub change_rate: f64,
    pub flag_rate: f64,
    pub reconnect_rate: f64,
    pub get_questions: bool,
    pub viewers: usize,
    pub measured_viewers: usize,
    /// When the server was to be killed, after the candidates' spawn (empty: never).
    pub crash_at_secs: Vec<f64>,
    /// `sqlite`, `postgres` or `external` (a server this run did not start).
    pub database: String,
    pub seed: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TimeCheck {
    /// Welcomes after an ack whose `remaining_ms` was compared with the ack's.
    pub checks: u64,
    /// Of those, how many showed more time than the ack had: must be 0.
    pub grew: u64,
    pub max_growth_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BoardReport {
    pub viewers: usize,
    pub measured_viewers: usize,
    /// Ack → receipt by a measured viewer of the row showing that answer.
    pub latency: Summary,
    pub snapshots: u64,
    pub deltas: u64,
    pub bytes: u64,
    /// Rows a viewer saw before the candidate had the ack.
    pub early: u64,
    /// Acknowledged counts a measured viewer never saw (summed over measured viewers).
    pub missed: u64,
    pub reconnects: u64,
    pub errors: ErrorCounts,
    /// Viewers that never got their first snapshot.
    pub never_connected: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerReport {
    pub pid: u32,
    pub rss_start_kb: u64,
    /// Before the first candidate connected (viewers are already connected).
    pub rss_before_candidates_kb: u64,
    /// At the last sample before the first WebSocket connected (after the logins, when
    /// candidates log in before a synchronized start).
    pub rss_before_connecting_kb: u64,
    pub rss_max_kb: u64,
    pub rss_end_kb: u64,
    /// With the most candidates connected at once, and how many that was.
    pub rss_connected_kb: u64,
    pub connected: usize,
    /// (rss_connected − rss_before_connecting) / connected.
    pub kb_per_connected_candidate: f64,
    /// The slope of RSS over the connected count while it grew: the cost of one more
    /// connected candidate without one-time costs (see `run::connection_slope`).
    pub kb_per_connection_slope: Option<f64>,
    /// utime + stime over the run, summed over restarts.
    pub cpu_secs: f64,
    /// cpu_secs / wall seconds: 1.0 is one core busy all the time.
    pub cores_busy: f64,
    /// A synchronized start alone, from the candidates' spawn until the last got their
    /// first question (none if some never did, or the server restarted in between).
    pub start: Option<PhaseCost>,
    /// The viewers joining, from their spawn until the last had its first snapshot (none
    /// if some never did).
    pub viewers_join: Option<PhaseCost>,
}

/// What one phase of a run cost each side (a room's start, the viewers joining): on a
/// box that both share, the server's part of the CPU is what a server of its own would
/// have had to do.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PhaseCost {
    /// The candidates or viewers the phase was for.
    pub clients: usize,
    pub secs: f64,
    pub server_cpu_secs: f64,
    pub loadgen_cpu_secs: f64,
}

impl PhaseCost {
    /// CPU microseconds a client: (server, load generator).
    pub fn per_client_us(&self) -> (f64, f64) {
        let n = self.clients.max(1) as f64;
        (self.server_cpu_secs * 1e6 / n, self.loadgen_cpu_secs * 1e6 / n)
    }

    /// `NAME (spawn → all N DONE, T s): server CPU … µs a CLIENT, loadgen CPU … µs a CLIENT`.
    fn write_line(&self, out: &mut String, name: &str, done: &str, client: &str) {
        let (server_us, loadgen_us) = self.per_client_us();
        let _ = writeln!(
            out,
            "{name} (spawn → all {} {done}, {:.1} s): server CPU {:.1} s = {server_us:.0} µs a {client}, \
             loadgen CPU {:.1} s = {loadgen_us:.0} µs a {client}",
            self.clients, self.secs, self.server_cpu_secs, self.loadgen_cpu_secs
        );
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CrashReport {
    pub at_secs: f64,
    /// kill -9 → the restarted server listening.
    pub down_ms: u64,
    /// Of that, the restarted server's own start (loading unfinished sessions).
    pub startup_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckSummary {
    pub acks_checked: usize,
    pub sessions: usize,
    pub lost: usize,
    pub mismatched: usize,
    /// A few lost or mismatched acks, to start an investigation from.
    pub examples: Vec<String>,
    pub sessions_finished_in_db: usize,
    pub sessions_in_db: usize,
    /// Sessions a candidate was told are finished but the database does not hold as
    /// finished: must be 0.
    pub finished_contradicted: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: Scenario,
    pub wall_secs: f64,
    pub login: Summary,
    pub login_to_first_question: Summary,
    pub question: Summary,
    pub answer_ack: Summary,
    /// Flags and finishes.
    pub other_ack: Summary,
    /// A finish sent → its `finished` (the score) received on the same connection.
    pub finish_to_score: Summary,
    pub answers_acked: u64,
    pub messages_acked: u64,
    /// Acked answers over the time from the first candidate's start to the last one's end.
    pub answers_per_sec: f64,
    /// Acked answers per second while every candidate was past its first question and
    /// none had finished (closed-loop throughput without the login ramp and the tail).
    pub steady_answers_per_sec: Option<f64>,
    pub errors: ErrorCounts,
    pub reconnects: u64,
    pub recoveries: u64,
    pub resent: u64,
    pub relogins: u64,
    /// Sessions the clients saw finish.
    pub finished: usize,
    pub gave_up: usize,
    pub gave_up_examples: Vec<String>,
    pub time: TimeCheck,
    pub board: Option<BoardReport>,
    pub server: Option<ServerReport>,
    pub loadgen_cpu_secs: f64,
    /// CPU time the whole machine was busy during the run (all cores, kernel included).
    pub machine_cpu_secs: f64,
    /// Of that, what was neither the server nor the load generator: other work on the box
    /// (and kernel work not charged to either) that the figures shared the cores with.
    /// Meaningful only with a server this run started and monitored.
    pub other_cpu_secs: f64,
    /// Handshakes the kernel dropped for a full accept queue during the run, and the SYNs
    /// and SYN-ACKs it sent again (machine-wide; on a loopback run, this run's). `None` off
    /// Linux.
    pub accept_queue: Option<crate::process::AcceptQueue>,
    /// One for each kill -9, in order.
    pub crashes: Vec<CrashReport>,
    pub check: Option<CheckSummary>,
    pub echo: Option<EchoReport>,
    /// Closed-loop answers/s (steady if measured, else overall) ÷ echo round trips/s.
    pub echo_ratio: Option<f64>,
}

impl Report {
    /// Whether the run met every correctness condition it could check.
    pub fn passed(&self) -> bool {
        let check_ok = self.check.as_ref().is_none_or(|c| {
            c.lost == 0
                && c.mismatched == 0
                && c.finished_contradicted == 0
                && (self.scenario.crash_at_secs.is_empty() || c.sessions_finished_in_db == c.sessions_in_db)
        });
        check_ok && self.time.grew == 0 && self.crashes.len() == self.scenario.crash_at_secs.len()
    }

    /// The summary table.
    pub fn table(&self) -> String {
        let s = &self.scenario;
        let mut out = String::new();
        let answers = s.answers.map_or_else(|| "all".to_owned(), |a| a.to_string());
        let _ = writeln!(
            out,
            "ujian-loadgen: {} candidates × {answers} answers, think {} ms{}{}, {} viewers, {} — {:.1} s",
            s.candidates,
            s.think_ms,
            match (s.synchronized_start, s.login_before_start) {
                (true, true) => ", all logged in, then synchronized start".to_owned(),
                (true, false) => ", synchronized start".to_owned(),
                (false, true) => format!(", all logged in, then starts over {} s", s.ramp_secs),
                (false, false) => format!(", starts over {} s", s.ramp_secs),
            },
            if s.crash_at_secs.is_empty() {
                String::new()
            } else {
                let at: Vec<String> = s.crash_at_secs.iter().map(|c| format!("{c:.1}")).collect();
                format!(", kill -9 at {} s", at.join(", "))
            },
            s.viewers,
            s.database,
            self.wall_secs
        );
        let _ = writeln!(out);
        let _ =
            writeln!(out, "{:<28} {:>8} {:>9} {:>9} {:>9} {:>9}", "latency (ms)", "count", "p50", "p95", "p99", "max");
        let mut row = |name: &str, x: &Summary| {
            let _ = writeln!(
                out,
                "{name:<28} {:>8} {:>9} {:>9} {:>9} {:>9}",
                x.count,
                ms(x.p50_us),
                ms(x.p95_us),
                ms(x.p99_us),
                ms(x.max_us)
            );
        };
        row("login", &self.login);
        row(
            if s.login_before_start { "start → first question" } else { "login → first question" },
            &self.login_to_first_question,
        );
        row("question (get)", &self.question);
        row("answer ack", &self.answer_ack);
        row("flag/finish ack", &self.other_ack);
        row("finish → score", &self.finish_to_score);
        if let Some(b) = &self.board {
            row("board: ack → viewer", &b.latency);
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "throughput: {:.0} answers/s acked{} ({} answers, {} messages)",
            self.answers_per_sec,
            self.steady_answers_per_sec.map_or_else(String::new, |x| format!(", {x:.0}/s with everyone answering")),
            self.answers_acked,
            self.messages_acked
        );
        let _ = writeln!(
            out,
            "sessions: {} finished, {} gave up; reconnects: {} dropped on purpose, {} after failures, {} messages resent, {} re-logins",
            self.finished, self.gave_up, self.reconnects, self.recoveries, self.resent, self.relogins
        );
        for g in &self.gave_up_examples {
            let _ = writeln!(out, "  gave up: {g}");
        }
        let errors = if self.errors.0.is_empty() {
            "none".to_owned()
        } else {
            self.errors.0.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        };
        let _ = writeln!(out, "errors: {errors}");
        let _ = writeln!(
            out,
            "time: {} welcomes after an ack checked, {} showed more time than the ack (max +{} ms)",
            self.time.checks, self.time.grew, self.time.max_growth_ms
        );
        if let Some(b) = &self.board {
            let _ = writeln!(
                out,
                "board: {} viewers ({} measured), {} snapshots, {} deltas, {:.1} MiB, {} early rows, {} counts never seen, {} feed reconnects{}",
                b.viewers,
                b.measured_viewers,
                b.snapshots,
                b.deltas,
                b.bytes as f64 / 1_048_576.0,
                b.early,
                b.missed,
                b.reconnects,
                if b.never_connected > 0 { format!(", {} never connected", b.never_connected) } else { String::new() }
            );
        }
        if let Some(v) = &self.server {
            let _ = writeln!(
                out,
                "server: RSS {:.1} MiB at start, {:.1} before candidates, {:.1} before connecting, {:.1} with {} connected, max {:.1}, end {:.1}; {:.1} KiB per connected candidate (difference), {} (slope)",
                mib(v.rss_start_kb),
                mib(v.rss_before_candidates_kb),
                mib(v.rss_before_connecting_kb),
                mib(v.rss_connected_kb),
                v.connected,
                mib(v.rss_max_kb),
                mib(v.rss_end_kb),
                v.kb_per_connected_candidate,
                v.kb_per_connection_slope.map_or_else(|| "n/a".to_owned(), |k| format!("{k:.1} KiB"))
            );
            let _ = writeln!(out, "server CPU: {:.1} s = {:.2} cores busy on average", v.cpu_secs, v.cores_busy);
            if let Some(c) = &v.viewers_join {
                c.write_line(&mut out, "viewers", "with a first snapshot", "viewer");
            }
            if let Some(c) = &v.start {
                c.write_line(&mut out, "start", "with a first question", "candidate");
            }
        }
        if let Some(q) = &self.accept_queue {
            let _ = writeln!(
                out,
                "accept queue: {} overflows (handshakes dropped at a full queue), {} SYN or SYN-ACK retransmits \
                 (each a connect waiting 1 s or more)",
                q.listen_overflows, q.syn_retransmits
            );
        }
        if self.server.is_some() {
            let _ = writeln!(
                out,
                "loadgen CPU: {:.1} s; whole machine busy {:.1} s, of which {:.1} s neither server nor loadgen",
                self.loadgen_cpu_secs, self.machine_cpu_secs, self.other_cpu_secs
            );
        } else {
            let _ = writeln!(
                out,
                "loadgen CPU: {:.1} s; whole machine busy {:.1} s (the server, if here, is not monitored)",
                self.loadgen_cpu_secs, self.machine_cpu_secs
            );
        }
        for c in &self.crashes {
            let _ = writeln!(
                out,
                "crash: kill -9 at {:.1} s, down {} ms (restart took {} ms)",
                c.at_secs, c.down_ms, c.startup_ms
            );
        }
        for at in s.crash_at_secs.iter().skip(self.crashes.len()) {
            let _ = writeln!(out, "crash: MISSED the kill -9 planned at {at:.1} s: the candidates had finished");
        }
        if let Some(e) = &self.echo {
            let _ = writeln!(
                out,
                "echo baseline: {} clients, {:.0} round trips/s (p99 {} ms){}",
                e.clients,
                e.round_trips_per_sec,
                ms(e.latency.p99_us),
                self.echo_ratio.map_or_else(String::new, |r| format!("; ujian answers/s ÷ echo = {r:.2}"))
            );
        }
        if let Some(c) = &self.check {
            let _ = writeln!(
                out,
                "lost acked answers: {} ({} acks checked in {} sessions, {} stored differently)",
                c.lost, c.acks_checked, c.sessions, c.mismatched
            );
            for e in &c.examples {
                let _ = writeln!(out, "  {e}");
            }
            let _ = writeln!(
                out,
                "sessions finished in the database: {}/{}; told finished but not finished in the database: {}",
                c.sessions_finished_in_db, c.sessions_in_db, c.finished_contradicted
            );
        } else {
            let _ = writeln!(out, "lost acked answers: not checked (no database to read)");
        }
        out
    }
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}
