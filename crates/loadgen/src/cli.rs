//! The `ujian-loadgen` command line: `run` (candidates and viewers against a server it
//! starts, or one already running), `prepare` (data for a server started by hand) and
//! `echo` (the bare WebSocket baseline).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::candidate::Behaviour;
use crate::check::{finished_sessions, verify_store};
use crate::echo::run_echo;
use crate::error::LoadgenError;
use crate::prepare::{PrepareSpec, participant_no, prepare};
use crate::process::{ServerProcess, ServerSpec, default_ujian, free_port, raise_nofile};
use crate::report::{CheckSummary, Report};
use crate::run::{RunOptions, RunOutcome, ServerHandle, Target, drive};

#[derive(Debug, Parser)]
#[command(
    name = "ujian-loadgen",
    version,
    about = "Load generator for ujian: simulated candidates and public board viewers",
    long_about = "Simulates candidates sitting an exam end to end (login, WebSocket, think time, \
                  answers, changed answers, flags, dropped connections, finish) and public board \
                  viewers, against a ujian server it starts on fresh data or one already running. \
                  Prints latency percentiles, throughput, errors, server memory and CPU, and checks \
                  that every acknowledged answer is in the database.\n\n\
                  Build first: cargo build --release -p server -p loadgen\n\
                  Example: target/release/ujian-loadgen run --candidates 2000 --answers 20 --think-ms 5000 --viewers 50"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run simulated candidates and viewers against a ujian server.
    Run(Box<RunArgs>),
    /// Prepare data for a server you start yourself (then `run --url … --token …`): the
    /// exam, N candidates PREFIX00001… with one PIN, and an open sitting LG-1. Prints the
    /// sitting token.
    Prepare {
        #[arg(long, short = 'n', default_value_t = 100)]
        candidates: usize,
        /// Data directory (new or empty) for SQLite; or give --database.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Database URL (must hold no candidates yet).
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value = "question-banks/exams/skd.toml")]
        exam: PathBuf,
        #[arg(long, default_value = "LG-")]
        prefix: String,
        #[arg(long, default_value = "246810")]
        pin: String,
    },
    /// A bare WebSocket echo baseline: closed-loop clients against an in-process echo server.
    Echo {
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Write the result as JSON here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Simulated candidates (each is one login and one WebSocket).
    #[arg(long, short = 'n', default_value_t = 100)]
    pub candidates: usize,
    /// New answers per candidate before finishing (default: every question).
    #[arg(long)]
    pub answers: Option<usize>,
    /// Mean think time before each answer, exponentially distributed (capped at 5× the
    /// mean); 0 is a closed loop.
    #[arg(long, default_value_t = 1000.0)]
    pub think_ms: f64,
    /// Probability that a step changes an earlier answer instead of answering a new one.
    #[arg(long, default_value_t = 0.1)]
    pub change_rate: f64,
    /// Probability that an answer is followed by flagging it (ragu-ragu).
    #[arg(long, default_value_t = 0.05)]
    pub flag_rate: f64,
    /// Probability, after each answer, of dropping the WebSocket and reconnecting.
    #[arg(long, default_value_t = 0.01)]
    pub reconnect_rate: f64,
    /// Every candidate logs in and opens the first question at the same instant.
    #[arg(long)]
    pub synchronized_start: bool,
    /// Log everyone in first (a check-in period), then start (at once with
    /// --synchronized-start, else along --ramp-secs): keeps argon2's CPU out of the answer path.
    #[arg(long)]
    pub login_before_start: bool,
    /// Spread candidate starts evenly over this many seconds (without --synchronized-start).
    #[arg(long, default_value_t = 0.0)]
    pub ramp_secs: f64,
    /// Public board viewers (SSE clients of the sitting's feed).
    #[arg(long, default_value_t = 0)]
    pub viewers: usize,
    /// Of the viewers, how many parse every frame to measure ack → viewer latency.
    #[arg(long, default_value_t = 50)]
    pub measured_viewers: usize,
    /// Answer without fetching each question first (choices A/B); one round trip per answer.
    #[arg(long)]
    pub no_get: bool,
    /// Seed for think times and choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seconds to wait for a reply before treating the connection as dead.
    #[arg(long, default_value_t = 30.0)]
    pub reply_timeout: f64,
    /// Stop the whole run after this many seconds and report what it got.
    #[arg(long, default_value_t = 1800.0)]
    pub timeout: f64,
    /// kill -9 the server this many seconds after candidates start, restart it on the same
    /// data, and check that nothing acknowledged was lost and no time was given back.
    /// `A-B` is a moment drawn between A and B seconds from `--seed`; a comma-separated
    /// list (`30,60-90`) crashes it once for each.
    #[arg(long, value_parser = parse_crashes)]
    pub crash_at: Option<CrashPlan>,
    /// First run the echo baseline with the same client count and report the ratio.
    #[arg(long)]
    pub echo_baseline: bool,
    /// Seconds the echo baseline runs.
    #[arg(long, default_value_t = 10.0)]
    pub echo_seconds: f64,
    /// Write the result as JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write every acknowledgement as CSV here (session, seq, action, index, choice,
    /// at_us, latency_us) for plotting latency against time.
    #[arg(long)]
    pub acks_out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,

    /// The exam to prepare (relative to the working directory or the repository root).
    #[arg(long, default_value = "question-banks/exams/skd.toml")]
    pub exam: PathBuf,
    /// Data directory for the started server (must be new or empty; default: a temporary one).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Database URL for the started server, e.g. postgres://postgres@127.0.0.1/ujian_lg (must be empty).
    #[arg(long)]
    pub database: Option<String>,
    /// The ujian binary (default: `ujian` next to this executable).
    #[arg(long)]
    pub ujian: Option<PathBuf>,
    /// UJIAN_LOG for the started server; its log goes to DATA_DIR/server.log.
    #[arg(long, default_value = "warn")]
    pub server_log: String,
    /// Keep the temporary data directory after the run.
    #[arg(long)]
    pub keep_data: bool,

    /// Target a running server instead of starting one, e.g. http://10.0.0.5:8080.
    #[arg(long, requires = "token")]
    pub url: Option<String>,
    /// The sitting token (with --url).
    #[arg(long)]
    pub token: Option<String>,
    /// Participant numbers are PREFIX + five digits (LG-00001…); with --url, they must exist.
    #[arg(long, default_value = "LG-")]
    pub prefix: String,
    /// Every simulated candidate's PIN.
    #[arg(long, default_value = "246810")]
    pub pin: String,
    /// The sitting whose board viewers watch (with --url; the started server's is LG-1).
    #[arg(long)]
    pub sitting: Option<String>,
}

/// Runs the command line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // As the server does: the load generator's connections grow its heap as fast as the
    // server's, on the same cores (and the server it starts inherits the setting).
    server::cli::without_huge_pages();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Echo { clients, seconds, out } => {
            raise_limit(clients * 2);
            let echo = run_echo(clients, seconds).await?;
            println!(
                "echo: {} clients, {} round trips in {:.1} s = {:.0}/s; latency p50 {} ms, p99 {} ms, max {} ms{}",
                echo.clients,
                echo.round_trips,
                echo.seconds,
                echo.round_trips_per_sec,
                crate::stats::ms(echo.latency.p50_us),
                crate::stats::ms(echo.latency.p99_us),
                crate::stats::ms(echo.latency.max_us),
                if echo.failed > 0 { format!(" ({} clients failed)", echo.failed) } else { String::new() }
            );
            if let Some(out) = out {
                write_json(&out, &echo)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => run(*args).await,
        Command::Prepare { candidates, data_dir, database, exam, prefix, pin } => {
            let database_url = database.unwrap_or_else(|| store::sqlite_url_in(&data_dir));
            let prepared = prepare(&PrepareSpec {
                data_dir: data_dir.clone(),
                database_url,
                exam,
                candidates,
                prefix: prefix.clone(),
                pin: pin.clone(),
                sitting: "LG-1".into(),
            })
            .await?;
            println!(
                "prepared sitting {} ({}, {} questions) with {} candidates {}… PIN {pin}",
                prepared.sitting,
                prepared.exam_code,
                prepared.questions,
                prepared.participants.len(),
                participant_no(&prefix, 1)
            );
            println!("sitting token: {}", prepared.token);
            println!(
                "next: ujian --data-dir {} serve, then ujian-loadgen run --url http://HOST:PORT --token {} -n {candidates} --sitting {}",
                data_dir.display(),
                prepared.token,
                prepared.sitting
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn raise_limit(needed: usize) {
    match raise_nofile() {
        Some(limit) if (limit as usize) < needed => eprintln!(
            "warning: open-files limit {limit} is below the ~{needed} this run needs; raise it with `ulimit -n {needed}`"
        ),
        Some(_) => {}
        None => eprintln!("warning: cannot read the open-files limit"),
    }
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("write {}", path.display()))
}

fn write_acks(path: &Path, acks: &[crate::check::AckRecord]) -> anyhow::Result<()> {
    use crate::check::Acked;
    use std::io::Write as _;
    let file = std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    writeln!(w, "session,seq,action,index,choice,at_us,latency_us")?;
    for a in acks {
        let (action, index, choice) = match &a.acked {
            Acked::Answer { index, choice } => ("answer", index.to_string(), choice.clone().unwrap_or_default()),
            Acked::Flag { index, flagged } => ("flag", index.to_string(), flagged.to_string()),
            Acked::Finish => ("finish", String::new(), String::new()),
        };
        writeln!(w, "{},{},{action},{index},{choice},{},{}", a.session, a.seq, a.at_us, a.latency_us)?;
    }
    w.flush().with_context(|| format!("write {}", path.display()))
}

/// When `--crash-at` kills the server: each a moment or a window to draw one from.
#[derive(Debug, Clone, PartialEq)]
pub struct CrashPlan(Vec<(f64, f64)>);

impl CrashPlan {
    /// The moments after the candidates' spawn, in order: a window's drawn from `seed`, so
    /// a run can be repeated.
    pub fn moments(&self, seed: u64) -> Vec<Duration> {
        use rand::{RngExt as _, SeedableRng as _};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0xC4A5_u64);
        let mut at: Vec<Duration> = self
            .0
            .iter()
            .map(|&(from, to)| Duration::from_secs_f64(if to > from { rng.random_range(from..=to) } else { from }))
            .collect();
        at.sort();
        at
    }
}

/// A week: far beyond any run's `--timeout`, far below what a `Duration` can hold.
const MAX_CRASH_SECS: f64 = 604_800.0;

/// `S`, `A-B`, or a comma-separated list of them, in seconds (plain decimals).
pub fn parse_crashes(text: &str) -> Result<CrashPlan, String> {
    let number = |s: &str| -> Result<f64, String> {
        match s.trim().parse::<f64>() {
            Ok(v) if (0.0..=MAX_CRASH_SECS).contains(&v) => Ok(v),
            _ => Err(format!("{s:?} is not a number of seconds from 0 to {MAX_CRASH_SECS}")),
        }
    };
    let mut plan = Vec::new();
    for part in text.split(',') {
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let at = number(part)?;
                (at, at)
            }
        };
        if to < from {
            return Err(format!("{part:?}: the window ends before it begins"));
        }
        plan.push((from, to));
    }
    Ok(CrashPlan(plan))
}

fn options(args: &RunArgs, database: String) -> RunOptions {
    RunOptions {
        behaviour: Behaviour {
            answers: args.answers,
            think_ms: args.think_ms.max(0.0),
            change_rate: args.change_rate.clamp(0.0, 1.0),
            flag_rate: args.flag_rate.clamp(0.0, 1.0),
            reconnect_rate: args.reconnect_rate.clamp(0.0, 1.0),
            get_questions: !args.no_get,
            reply_timeout: Duration::from_secs_f64(args.reply_timeout.max(0.1)),
        },
        synchronized_start: args.synchronized_start,
        login_before_start: args.login_before_start,
        ramp: Duration::from_secs_f64(args.ramp_secs.max(0.0)),
        viewers: args.viewers,
        measured_viewers: args.measured_viewers,
        seed: args.seed,
        timeout: Duration::from_secs_f64(args.timeout.max(1.0)),
        crashes: args.crash_at.as_ref().map_or_else(Vec::new, |plan| plan.moments(args.seed)),
        progress: !args.quiet,
        database,
    }
}

/// A data directory: the one given (new or empty) or a temporary one.
enum DataDir {
    Given(PathBuf),
    Temp(tempfile::TempDir),
}

impl DataDir {
    fn path(&self) -> &Path {
        match self {
            DataDir::Given(p) => p,
            DataDir::Temp(t) => t.path(),
        }
    }
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let n = args.candidates;
    raise_limit(n + args.viewers + 256);
    let echo = if args.echo_baseline {
        eprintln!("echo baseline: {n} clients for {} s…", args.echo_seconds);
        Some(run_echo(n, args.echo_seconds).await?)
    } else {
        None
    };
    let mut report = match &args.url {
        Some(url) => run_external(&args, url).await?,
        None => run_started(&args).await?,
    };
    if let Some(e) = echo {
        let ujian = report.steady_answers_per_sec.unwrap_or(report.answers_per_sec);
        report.echo_ratio = (e.round_trips_per_sec > 0.0).then(|| ujian / e.round_trips_per_sec);
        report.echo = Some(e);
    }
    print!("{}", report.table());
    if let Some(out) = &args.out {
        write_json(out, &report)?;
        println!("result written to {}", out.display());
    }
    Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn run_external(args: &RunArgs, url: &str) -> anyhow::Result<Report> {
    let authority = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    if authority.contains('/') || url.starts_with("https://") {
        anyhow::bail!("--url takes http://HOST:PORT (no path, no TLS), not {url}");
    }
    let target = Target {
        authority,
        sitting_token: args.token.clone().unwrap_or_default(),
        sitting: args.sitting.clone(),
        participants: (1..=args.candidates).map(|i| participant_no(&args.prefix, i)).collect(),
        pin: args.pin.clone(),
    };
    if args.viewers > 0 && args.sitting.is_none() {
        eprintln!("warning: no --sitting given, so no viewers");
    }
    let database = if args.database.is_some() { "external (checked)" } else { "external" };
    let outcome = drive(&options(args, database.into()), &target, None).await?;
    if let Some(path) = &args.acks_out {
        write_acks(path, &outcome.acks)?;
    }
    let checked = match &args.database {
        Some(db) => Some(check(db, &outcome).await?),
        None => None,
    };
    let mut report = outcome.report;
    report.check = checked;
    Ok(report)
}

async fn run_started(args: &RunArgs) -> anyhow::Result<Report> {
    let data = match &args.data_dir {
        Some(dir) => {
            if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
                return Err(LoadgenError::DataDirNotEmpty(dir.clone()).into());
            }
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
            DataDir::Given(dir.clone())
        }
        None => DataDir::Temp(tempfile::Builder::new().prefix("ujian-loadgen-").tempdir()?),
    };
    let database_url = args.database.clone().unwrap_or_else(|| store::sqlite_url_in(data.path()));
    let backend = if database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let began = Instant::now();
    let prepared = prepare(&PrepareSpec {
        data_dir: data.path().to_owned(),
        database_url: database_url.clone(),
        exam: args.exam.clone(),
        candidates: args.candidates,
        prefix: args.prefix.clone(),
        pin: args.pin.clone(),
        sitting: "LG-1".into(),
    })
    .await?;
    eprintln!(
        "prepared {} candidates with {}-question papers of {} on {backend} in {:.1} s",
        prepared.participants.len(),
        prepared.questions,
        prepared.exam_code,
        began.elapsed().as_secs_f64()
    );
    let spec = ServerSpec {
        ujian: args.ujian.clone().unwrap_or_else(default_ujian),
        data_dir: data.path().to_owned(),
        database_url: args.database.clone(),
        listen: free_port()?,
        log_level: args.server_log.clone(),
        log_file: data.path().join("server.log"),
    };
    let process = ServerProcess::start(&spec).await?;
    eprintln!(
        "ujian serve (pid {}) listening on {} after {} ms",
        process.pid(),
        process.addr,
        process.startup.as_millis()
    );
    let target = Target {
        authority: process.addr.to_string(),
        sitting_token: prepared.token.clone(),
        sitting: Some(prepared.sitting.clone()),
        participants: prepared.participants.clone(),
        pin: args.pin.clone(),
    };
    let server = Arc::new(ServerHandle::new(process));
    let outcome = drive(&options(args, backend.into()), &target, Some(server.clone())).await;
    // Stop the server gracefully whatever happened, then read what it stored.
    let stopped = match Arc::try_unwrap(server) {
        Ok(handle) => handle.process.into_inner().terminate(Duration::from_secs(60)).await?,
        Err(_) => anyhow::bail!("the server handle is still shared after the run"),
    };
    if !stopped {
        eprintln!("warning: the server did not stop within 60 s of SIGTERM and was killed");
    }
    let outcome = outcome?;
    if let Some(path) = &args.acks_out {
        write_acks(path, &outcome.acks)?;
    }
    let checked = check(&database_url, &outcome).await?;
    let mut report = outcome.report;
    report.check = Some(checked);
    match data {
        DataDir::Temp(t) if args.keep_data => eprintln!("data kept in {}", t.keep().display()),
        _ => {}
    }
    Ok(report)
}

/// Compares every acknowledgement with the stored answer log, and counts finished sessions.
async fn check(database_url: &str, outcome: &RunOutcome) -> anyhow::Result<CheckSummary> {
    let (acks, sessions, seen_finished) = (&outcome.acks, &outcome.sessions, &outcome.finished_sessions);
    let store = store::Store::open(database_url).await.context("open the database to check it")?;
    let result = verify_store(&store, acks).await?;
    let finished = finished_sessions(&store, sessions, seen_finished).await?;
    store.close().await;
    let mut examples: Vec<String> =
        result.lost.iter().take(5).map(|(s, seq)| format!("lost: session {s} seq {seq}")).collect();
    examples.extend(
        finished.contradicted.iter().take(5).map(|s| format!("told finished, not finished in the database: {s}")),
    );
    examples.extend(result.mismatched.iter().take(5).map(|m| {
        format!("stored differently: session {} seq {}: acked {:?}, stored {}", m.session, m.seq, m.expected, m.stored)
    }));
    Ok(CheckSummary {
        acks_checked: result.acks_checked,
        sessions: result.sessions,
        lost: result.lost.len(),
        mismatched: result.mismatched.len(),
        examples,
        sessions_finished_in_db: finished.finished,
        sessions_in_db: finished.stored,
        finished_contradicted: finished.contradicted.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_moments_are_seconds_or_windows_drawn_from_the_seed() {
        let secs =
            |plan: &CrashPlan, seed| -> Vec<f64> { plan.moments(seed).iter().map(Duration::as_secs_f64).collect() };
        assert_eq!(secs(&parse_crashes("75").expect("one moment"), 1), [75.0]);
        // Listed in any order, killed in time order.
        assert_eq!(secs(&parse_crashes("90, 30").expect("two moments"), 1), [30.0, 90.0]);
        let window = parse_crashes("40-110").expect("a window");
        let drawn = secs(&window, 7);
        assert!((40.0..=110.0).contains(&drawn[0]), "{drawn:?}");
        assert_eq!(secs(&window, 7), drawn, "the same seed draws the same moment");
        let draws: std::collections::BTreeSet<u64> =
            (0..20).map(|seed| window.moments(seed)[0].as_millis() as u64).collect();
        assert!(draws.len() > 10, "different seeds draw different moments: {draws:?}");
        assert_eq!(secs(&parse_crashes("5-5").expect("an empty window"), 3), [5.0]);

        for (bad, says) in [
            ("", "not a number"),
            ("x", "not a number"),
            ("-3", "not a number"),
            ("10-x", "not a number"),
            ("30-20", "ends before it begins"),
            ("inf", "not a number"),
            ("1e300", "not a number"),
            ("10,", "not a number"),
        ] {
            let e = parse_crashes(bad).expect_err(bad);
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }
}
