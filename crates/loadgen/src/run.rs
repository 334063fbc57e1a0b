//! One run against one server: viewers first, then candidates (ramped or all at once), the
//! memory and CPU monitor of a spawned server, the optional kill -9 and restart, and the
//! figures gathered into a [`Report`].

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::{Barrier, Notify, watch};

use crate::candidate::{Behaviour, CandidateResult, Progress, Shared, run_candidate};
use crate::check::{AckRecord, Acked};
use crate::process::{AcceptQueue, ProcSample, ServerProcess, machine_busy_ticks, read_proc, ticks_per_second};
use crate::report::{BoardReport, CrashReport, PhaseCost, Report, Scenario, ServerReport, TimeCheck};
use crate::stats::{ErrorCounts, Summary};
use crate::viewer::{BoardTracker, ViewerResult, run_viewer};

/// How the run behaves (everything but where the server is).
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub behaviour: Behaviour,
    pub synchronized_start: bool,
    /// Log everyone in first (as in a check-in period), then start (all at once, or along
    /// the ramp); the first-question latency then starts at the start, not the login.
    pub login_before_start: bool,
    /// Candidates start evenly spread over this (ignored with a synchronized start).
    pub ramp: Duration,
    pub viewers: usize,
    /// Viewers that parse every frame and measure latency; the rest only read bytes, so
    /// that thousands of viewers load the server without the load generator choking on JSON.
    pub measured_viewers: usize,
    pub seed: u64,
    /// The whole run stops (and reports) after this.
    pub timeout: Duration,
    /// kill -9 the server this long after candidates start (needs a spawned server).
    /// Moments after the candidates' spawn at which to kill -9 and restart the server.
    pub crashes: Vec<Duration>,
    pub progress: bool,
    /// What the report's scenario says about the database.
    pub database: String,
}

/// Where the server is and who may log in.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`.
    pub authority: String,
    pub sitting_token: String,
    /// The sitting whose board the viewers watch; no viewers without it.
    pub sitting: Option<String>,
    pub participants: Vec<String>,
    pub pin: String,
}

/// The report and the raw acknowledgements (for the durability check).
pub struct RunOutcome {
    pub report: Report,
    pub acks: Vec<AckRecord>,
    /// Every session a candidate logged into.
    pub sessions: Vec<String>,
    /// Sessions whose candidate was told they are finished.
    pub finished_sessions: Vec<String>,
}

/// The spawned server as the run sees it: the process (for kill -9 and restart) and its
/// current pid (for the monitor, which must not wait on a restart in progress).
pub struct ServerHandle {
    pub process: tokio::sync::Mutex<ServerProcess>,
    pub pid: AtomicU32,
}

impl ServerHandle {
    pub fn new(process: ServerProcess) -> ServerHandle {
        let pid = AtomicU32::new(process.pid());
        ServerHandle { process: tokio::sync::Mutex::new(process), pid }
    }
}

#[derive(Default)]
struct Monitor {
    samples: Vec<(u64, usize)>,
    /// CPU ticks last seen per server pid (a restart is a new process).
    cpu: std::collections::BTreeMap<u32, u64>,
    first: Option<ProcSample>,
    connected_peak: Option<(u64, usize)>,
    /// RSS at the last sample before the first candidate connected: "before connecting".
    before_connecting: Option<u64>,
    /// When the viewers were spawned (all had their first snapshot at `spawned`).
    viewers_spawned: Option<Mark>,
    /// When the candidates were spawned, and when the last one got their first question.
    spawned: Option<Mark>,
    all_started: Option<Mark>,
}

#[derive(Clone, Copy)]
struct Mark {
    at: Instant,
    pid: u32,
    server_ticks: u64,
    loadgen_ticks: u64,
}

impl Mark {
    /// Now, with the server's reading just taken and the load generator's own.
    fn now(pid: u32, server: Option<ProcSample>) -> Option<Mark> {
        let loadgen_ticks = read_proc("self")?.cpu_ticks;
        Some(Mark { at: Instant::now(), pid, server_ticks: server?.cpu_ticks, loadgen_ticks })
    }

    /// The CPU both sides spent from this mark to `end`, if the same server process saw
    /// both (a restarted server counts its ticks from zero).
    fn cost_until(self, end: Mark, clients: usize, ticks: f64) -> Option<PhaseCost> {
        (self.pid == end.pid).then(|| PhaseCost {
            clients,
            secs: end.at.duration_since(self.at).as_secs_f64(),
            server_cpu_secs: end.server_ticks.saturating_sub(self.server_ticks) as f64 / ticks,
            loadgen_cpu_secs: end.loadgen_ticks.saturating_sub(self.loadgen_ticks) as f64 / ticks,
        })
    }
}

impl Monitor {
    /// From the candidates' spawn until everyone had their first question.
    fn start_cost(&self, candidates: usize, ticks: f64) -> Option<PhaseCost> {
        self.spawned?.cost_until(self.all_started?, candidates, ticks)
    }

    /// From the viewers' spawn until every one had its first snapshot.
    fn viewers_cost(&self, viewers: usize, ticks: f64) -> Option<PhaseCost> {
        self.viewers_spawned?.cost_until(self.spawned?, viewers, ticks)
    }

    /// A sample, and a mark at it.
    fn sample_marked(&mut self, pid: u32, connected: usize) -> (Option<ProcSample>, Option<Mark>) {
        let sample = self.sample(pid, connected);
        (sample, Mark::now(pid, sample))
    }

    fn sample(&mut self, pid: u32, connected: usize) -> Option<ProcSample> {
        let s = read_proc(&pid.to_string())?;
        self.first.get_or_insert(s);
        self.cpu.insert(pid, s.cpu_ticks);
        self.samples.push((s.rss_kb, connected));
        if connected == 0 && self.connected_peak.is_none() {
            self.before_connecting = Some(s.rss_kb);
        }
        if connected > 0 && self.connected_peak.is_none_or(|(_, c)| connected > c) {
            self.connected_peak = Some((s.rss_kb, connected));
        }
        Some(s)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs candidates and viewers against `target` and gathers the figures.
pub async fn drive(
    opts: &RunOptions,
    target: &Target,
    server: Option<Arc<ServerHandle>>,
) -> anyhow::Result<RunOutcome> {
    let n = target.participants.len();
    let t0 = Instant::now();
    let me_before = read_proc("self");
    let machine_before = machine_busy_ticks();
    let queue_before = AcceptQueue::read();
    // The viewers' client (candidates log in with `http1`, a connection each).
    let http = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(8)
        .build()?;
    let sources = crate::candidate::source_ips(&target.authority);
    let board = Arc::new(BoardTracker::new(&target.participants));
    let shared = Arc::new(Shared {
        sources,
        authority: target.authority.clone(),
        sitting_token: target.sitting_token.clone(),
        pin: target.pin.clone(),
        behaviour: opts.behaviour.clone(),
        t0,
        deadline: t0 + opts.timeout,
        progress: Progress::default(),
        board: board.clone(),
        barrier: (opts.synchronized_start || opts.login_before_start).then(|| Barrier::new(n)),
        synchronized: opts.synchronized_start,
        login_before_start: opts.login_before_start,
        ramp: if opts.synchronized_start { Duration::ZERO } else { opts.ramp },
        all_connected: Notify::new(),
        all_started: Notify::new(),
        candidates: n,
    });

    // The monitor samples the spawned server's memory and CPU every second.
    let monitor = Arc::new(Mutex::new(Monitor::default()));
    let monitor_stop = Arc::new(AtomicBool::new(false));
    let monitor_task = server.clone().map(|server| {
        let (monitor, stop, shared) = (monitor.clone(), monitor_stop.clone(), shared.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.load(Ordering::Relaxed) {
                let all_started = tokio::select! {
                    _ = every.tick() => false,
                    () = shared.all_connected.notified() => false,
                    () = shared.all_started.notified() => true,
                };
                let connected = shared.progress.connected.load(Ordering::Relaxed);
                let pid = server.pid.load(Ordering::Relaxed);
                let mut m = lock(&monitor);
                if all_started {
                    m.all_started = m.sample_marked(pid, connected).1;
                } else {
                    m.sample(pid, connected);
                }
            }
        })
    });
    if let Some(s) = &server {
        lock(&monitor).sample(s.pid.load(Ordering::Relaxed), 0);
    }

    // Viewers connect first and the candidates wait for their first snapshots, so every
    // acknowledged answer has someone watching for it.
    let (stop_viewers, stop_rx) = watch::channel(false);
    let mut viewer_tasks = Vec::new();
    let viewers = if target.sitting.is_some() { opts.viewers } else { 0 };
    let mut viewers_ready = 0;
    if let Some(sitting) = target.sitting.as_ref().filter(|_| viewers > 0) {
        let url = format!("http://{}/api/v1/boards/sitting/{sitting}/feed", target.authority);
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(viewers.max(1));
        if let Some(s) = &server {
            let mut m = lock(&monitor);
            m.viewers_spawned = m.sample_marked(s.pid.load(Ordering::Relaxed), 0).1;
        }
        for v in 0..viewers {
            viewer_tasks.push(tokio::spawn(run_viewer(
                http.clone(),
                url.clone(),
                board.clone(),
                v < opts.measured_viewers,
                t0,
                stop_rx.clone(),
                ready_tx.clone(),
            )));
        }
        drop(ready_tx);
        let wait = tokio::time::sleep(Duration::from_secs(60));
        tokio::pin!(wait);
        while viewers_ready < viewers {
            tokio::select! {
                r = ready_rx.recv() => match r { Some(()) => viewers_ready += 1, None => break },
                () = &mut wait => break,
            }
        }
    }
    let rss_before = server.as_ref().and_then(|s| {
        let mut m = lock(&monitor);
        let (sample, mark) = m.sample_marked(s.pid.load(Ordering::Relaxed), 0);
        m.spawned = mark;
        sample
    });

    let bar = if opts.progress { ProgressBar::new(n as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} finished  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (i, participant) in target.participants.iter().enumerate() {
        let shared = shared.clone();
        let participant = participant.clone();
        let seed = opts.seed;
        tasks.push(tokio::spawn(run_candidate(shared, i, participant, seed)));
    }

    let candidates_over = tokio::sync::watch::Sender::new(false);
    let crash_task = match (opts.crashes.is_empty(), server.clone()) {
        (true, _) => None,
        (false, Some(server)) => {
            let moments = opts.crashes.clone();
            let mut done = candidates_over.subscribe();
            Some(tokio::spawn(async move {
                let mut crashes = Vec::with_capacity(moments.len());
                for at in moments {
                    // A moment that a slow restart already passed comes at once; one after
                    // the candidates are done is not a crash under load, and the report
                    // fails it as missed.
                    tokio::select! {
                        () = tokio::time::sleep_until((started + at).into()) => {}
                        _ = done.wait_for(|over| *over) => break,
                    }
                    let mut p = server.process.lock().await;
                    let killed = Instant::now();
                    let at_secs = started.elapsed().as_secs_f64();
                    p.kill9().await?;
                    p.restart().await?;
                    server.pid.store(p.pid(), Ordering::Relaxed);
                    crashes.push(CrashReport {
                        at_secs,
                        down_ms: killed.elapsed().as_millis() as u64,
                        startup_ms: p.startup.as_millis() as u64,
                    });
                }
                anyhow::Ok(crashes)
            }))
        }
        (false, None) => anyhow::bail!("--crash-at needs a server this run started"),
    };

    // Into a log file (stderr not a terminal) the bar would draw nothing: a plain line
    // every ten seconds says how the run is going instead.
    let plain = opts.progress && !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let ticker = {
        let (bar, shared) = (bar.clone(), shared.clone());
        tokio::spawn(async move {
            let period = if plain { Duration::from_secs(10) } else { Duration::from_millis(500) };
            let mut last = (Instant::now(), 0u64);
            loop {
                tokio::time::sleep(period).await;
                let p = &shared.progress;
                let answers = p.answers.load(Ordering::Relaxed);
                let rate = (answers - last.1) as f64 / last.0.elapsed().as_secs_f64().max(0.001);
                last = (Instant::now(), answers);
                let finished = p.finished.load(Ordering::Relaxed);
                let message = format!(
                    "{} connected, {answers} answers ({rate:.0}/s), {} reconnects, {} errors",
                    p.connected.load(Ordering::Relaxed),
                    p.reconnects.load(Ordering::Relaxed) + p.recoveries.load(Ordering::Relaxed),
                    p.errors.load(Ordering::Relaxed),
                );
                if plain {
                    eprintln!("{:>6.0} s  {finished}/{n} finished  {message}", started.elapsed().as_secs_f64());
                } else {
                    bar.set_position(finished as u64);
                    bar.set_message(message);
                }
            }
        })
    };

    let mut results: Vec<CandidateResult> = Vec::with_capacity(n);
    let mut panicked = 0;
    for t in tasks {
        match t.await {
            Ok(r) => results.push(r),
            Err(_) => panicked += 1,
        }
    }
    let candidates_done = started.elapsed();
    candidates_over.send_replace(true);
    ticker.abort();
    bar.finish_and_clear();
    let crashes = match crash_task {
        Some(t) => t.await.map_err(|e| anyhow::anyhow!("crash task: {e}"))??,
        None => Vec::new(),
    };

    // A few board ticks for the last rows to reach the viewers.
    if !viewer_tasks.is_empty() {
        tokio::time::sleep(server::board::TICK * 4).await;
    }
    let _ = stop_viewers.send(true);
    let mut viewer_results = Vec::new();
    for t in viewer_tasks {
        if let Ok(r) = t.await {
            viewer_results.push(r);
        }
    }
    monitor_stop.store(true, Ordering::Relaxed);
    let end = server.as_ref().and_then(|s| lock(&monitor).sample(s.pid.load(Ordering::Relaxed), 0));
    if let Some(t) = monitor_task {
        t.abort();
    }
    let wall = t0.elapsed();
    let me_after = read_proc("self");
    let machine_after = machine_busy_ticks();
    let queue_after = AcceptQueue::read();
    let ticks = ticks_per_second() as f64;

    let mut report = summarise(opts, n, &results, candidates_done);
    report.wall_secs = wall.as_secs_f64();
    if panicked > 0 {
        report.errors.0.insert("candidate_panicked".into(), panicked);
    }
    report.loadgen_cpu_secs = match (me_before, me_after) {
        (Some(a), Some(b)) => b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64 / ticks,
        _ => 0.0,
    };
    if viewers > 0 {
        report.board = Some(board_report(viewers, opts.measured_viewers.min(viewers), viewer_results));
    }
    if let Some(s) = &server {
        let m = lock(&monitor);
        let first = m.first.unwrap_or_default();
        let before = rss_before.unwrap_or(first);
        let before_connecting = m.before_connecting.unwrap_or(before.rss_kb);
        let (rss_connected, connected) = m.connected_peak.unwrap_or((before_connecting, 0));
        // Every process's last reading, less where the first one stood when sampling began
        // (a restarted server starts from zero).
        let cpu_ticks = m.cpu.values().sum::<u64>().saturating_sub(first.cpu_ticks);
        let cpu_secs = cpu_ticks as f64 / ticks;
        report.server = Some(ServerReport {
            pid: s.pid.load(Ordering::Relaxed),
            rss_start_kb: first.rss_kb,
            rss_before_candidates_kb: before.rss_kb,
            rss_before_connecting_kb: before_connecting,
            rss_max_kb: m.samples.iter().map(|(r, _)| *r).max().unwrap_or(0),
            rss_end_kb: end.map_or(0, |e| e.rss_kb),
            rss_connected_kb: rss_connected,
            connected,
            kb_per_connected_candidate: if connected > 0 {
                rss_connected.saturating_sub(before_connecting) as f64 / connected as f64
            } else {
                0.0
            },
            kb_per_connection_slope: connection_slope(&m.samples),
            cpu_secs,
            cores_busy: cpu_secs / wall.as_secs_f64().max(0.001),
            // With a ramp the window holds the answering of those who started early.
            start: if opts.synchronized_start { m.start_cost(n, ticks) } else { None },
            viewers_join: if viewers > 0 && viewers_ready == viewers { m.viewers_cost(viewers, ticks) } else { None },
        });
    }
    if let (Some(a), Some(b)) = (machine_before, machine_after) {
        let busy = b.saturating_sub(a) as f64 / ticks;
        report.machine_cpu_secs = busy;
        let ours = report.loadgen_cpu_secs + report.server.as_ref().map_or(0.0, |s| s.cpu_secs);
        report.other_cpu_secs = (busy - ours).max(0.0);
    }
    report.accept_queue = queue_before.zip(queue_after).map(|(a, b)| a.since(b));
    report.crashes = crashes;
    let sessions: Vec<String> = results.iter().filter_map(|r| r.session.clone()).collect();
    let finished_sessions = results.iter().filter(|r| r.finished).filter_map(|r| r.session.clone()).collect();
    let acks = results.into_iter().flat_map(|r| r.acks).collect();
    Ok(RunOutcome { report, acks, sessions, finished_sessions })
}

/// KiB of server RSS per connected candidate, as the least-squares slope of RSS against the
/// connected count while connections grew (from a tenth of the peak up to the peak).
///
/// The plain difference (RSS connected − RSS before) also holds one-time costs that arrive
/// with the first logins, above all the allocator arenas that keep argon2's 19 MiB working
/// memory per hashing thread; the slope leaves fixed costs out. `None` without enough
/// distinct samples.
pub fn connection_slope(samples: &[(u64, usize)]) -> Option<f64> {
    let (peak_at, peak) = samples.iter().enumerate().max_by_key(|(i, (_, c))| (*c, std::cmp::Reverse(*i)))?;
    let peak = peak.1;
    let points: Vec<(f64, f64)> = samples[..=peak_at]
        .iter()
        .filter(|(_, c)| *c * 10 >= peak && *c > 0)
        .map(|(rss, c)| (*c as f64, *rss as f64))
        .collect();
    let distinct: std::collections::BTreeSet<usize> = points.iter().map(|(c, _)| *c as usize).collect();
    let span = distinct.last()? - distinct.first()?;
    if distinct.len() < 3 || span * 4 < peak {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

fn board_report(viewers: usize, measured: usize, results: Vec<ViewerResult>) -> BoardReport {
    let mut b = BoardReport { viewers, measured_viewers: measured, ..BoardReport::default() };
    let mut latencies = Vec::new();
    for r in results {
        latencies.extend(r.latencies_us);
        b.snapshots += r.snapshots;
        b.deltas += r.deltas;
        b.bytes += r.bytes;
        b.early += r.early;
        b.missed += r.missed;
        b.reconnects += r.reconnects;
        b.errors.merge(&r.errors);
        if !r.connected {
            b.never_connected += 1;
        }
    }
    b.latency = Summary::of(latencies);
    b
}

/// The candidate-side figures of a run.
fn summarise(opts: &RunOptions, n: usize, results: &[CandidateResult], span: Duration) -> Report {
    let mut login = Vec::new();
    let mut first_q = Vec::new();
    let mut question = Vec::new();
    let mut answer_ack = Vec::new();
    let mut other_ack = Vec::new();
    let mut finish_to_score = Vec::new();
    let mut errors = ErrorCounts::default();
    let mut time = TimeCheck::default();
    let (mut reconnects, mut recoveries, mut resent, mut relogins) = (0, 0, 0, 0);
    let mut gave_up = Vec::new();
    let mut answers_acked = 0u64;
    let mut messages_acked = 0u64;
    for r in results {
        login.extend(&r.login_us);
        first_q.extend(r.first_question_us);
        question.extend(&r.question_us);
        finish_to_score.extend(r.score_us);
        for a in &r.acks {
            messages_acked += 1;
            if matches!(a.acked, Acked::Answer { .. }) {
                answers_acked += 1;
                answer_ack.push(a.latency_us);
            } else {
                other_ack.push(a.latency_us);
            }
        }
        errors.merge(&r.errors);
        time.checks += r.time_checks;
        time.grew += r.time_grew;
        time.max_growth_ms = time.max_growth_ms.max(r.max_time_growth_ms);
        reconnects += r.reconnects;
        recoveries += r.recoveries;
        resent += r.resent;
        relogins += r.relogins;
        if let Some(g) = &r.gave_up {
            gave_up.push(format!("{}: {g}", r.participant));
        }
    }
    let steady = steady_rate(results);
    let b = &opts.behaviour;
    Report {
        scenario: Scenario {
            candidates: n,
            answers: b.answers,
            think_ms: b.think_ms,
            synchronized_start: opts.synchronized_start,
            login_before_start: opts.login_before_start,
            ramp_secs: if opts.synchronized_start { 0.0 } else { opts.ramp.as_secs_f64() },
            change_rate: b.change_rate,
            flag_rate: b.flag_rate,
            reconnect_rate: b.reconnect_rate,
            get_questions: b.get_questions,
            viewers: opts.viewers,
            measured_viewers: opts.measured_viewers.min(opts.viewers),
            crash_at_secs: opts.crashes.iter().map(Duration::as_secs_f64).collect(),
            database: opts.database.clone(),
            seed: opts.seed,
        },
        wall_secs: 0.0,
        login: Summary::of(login),
        login_to_first_question: Summary::of(first_q),
        question: Summary::of(question),
        answer_ack: Summary::of(answer_ack),
        other_ack: Summary::of(other_ack),
        finish_to_score: Summary::of(finish_to_score),
        answers_acked,
        messages_acked,
        answers_per_sec: answers_acked as f64 / span.as_secs_f64().max(0.001),
        steady_answers_per_sec: steady,
        errors,
        reconnects,
        recoveries,
        resent,
        relogins,
        finished: results.iter().filter(|r| r.finished).count(),
        gave_up: gave_up.len(),
        gave_up_examples: gave_up.into_iter().take(5).collect(),
        time,
        board: None,
        server: None,
        loadgen_cpu_secs: 0.0,
        machine_cpu_secs: 0.0,
        other_cpu_secs: 0.0,
        accept_queue: None,
        crashes: Vec::new(),
        check: None,
        echo: None,
        echo_ratio: None,
    }
}

/// Answers acked per second between the moment the last candidate got its first question
/// and the moment the first one finished; `None` if that window is under a second.
pub fn steady_rate(results: &[CandidateResult]) -> Option<f64> {
    let from = results.iter().map(|r| r.first_question_at_us).collect::<Option<Vec<u64>>>()?.into_iter().max()?;
    let to = results.iter().filter_map(|r| r.finished_at_us.or_else(|| r.acks.last().map(|a| a.at_us))).min()?;
    if to <= from + 1_000_000 {
        return None;
    }
    let count = results
        .iter()
        .flat_map(|r| &r.acks)
        .filter(|a| matches!(a.acked, Acked::Answer { .. }) && a.at_us >= from && a.at_us <= to)
        .count();
    Some(count as f64 / ((to - from) as f64 / 1e6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_costs_each_sides_cpu_between_the_marks_of_one_server() {
        let t0 = Instant::now();
        let mark = |secs: u64, pid: u32, server_ticks: u64, loadgen_ticks: u64| Mark {
            at: t0 + Duration::from_secs(secs),
            pid,
            server_ticks,
            loadgen_ticks,
        };
        let mut m = Monitor { spawned: Some(mark(0, 7, 1_000, 50)), ..Monitor::default() };
        assert!(m.start_cost(4, 100.0).is_none(), "no cost before everyone started");
        m.all_started = Some(mark(3, 7, 1_200, 90));
        let c = m.start_cost(4, 100.0).expect("both marks");
        assert_eq!((c.secs, c.server_cpu_secs, c.loadgen_cpu_secs), (3.0, 2.0, 0.4));
        assert_eq!(c.per_client_us(), (500_000.0, 100_000.0));
        // A restarted server counts its ticks from zero: no figure rather than a wrong one.
        m.all_started = Some(mark(3, 8, 10, 90));
        assert!(m.start_cost(4, 100.0).is_none());
        // The viewers' phase ends where the candidates' begins.
        assert!(m.viewers_cost(2, 100.0).is_none(), "no cost without the viewers' mark");
        m.viewers_spawned = Some(mark(0, 7, 900, 40));
        let v = m.viewers_cost(2, 100.0).expect("both marks");
        assert_eq!((v.clients, v.server_cpu_secs, v.loadgen_cpu_secs), (2, 1.0, 0.1));
        assert_eq!(v.per_client_us(), (500_000.0, 50_000.0));
    }

    #[test]
    fn the_connection_slope_ignores_fixed_costs_and_the_tail() {
        // 50 MiB of one-time cost at the start, then 16 KiB per connection, then candidates
        // finishing (connected falls, RSS stays).
        let mut samples = vec![(10_000u64, 0usize), (61_200, 10)];
        for c in (100..=1_000).step_by(100) {
            samples.push((61_200 + 16 * c as u64, c));
        }
        samples.extend([(77_200, 600), (77_200, 0)]);
        let slope = connection_slope(&samples).expect("slope");
        assert!((slope - 16.0).abs() < 1e-9, "{slope}");
    }

    #[test]
    fn no_slope_without_growth_to_fit() {
        assert_eq!(connection_slope(&[]), None);
        assert_eq!(connection_slope(&[(1, 0), (5, 1_000), (6, 1_000)]), None);
    }
}
