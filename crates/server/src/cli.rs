//! The `ujian` command line. Committee members use it to check banks and exams, import
//! candidates and run the server; `--help` on every command says what it does and how.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::committee;
use crate::config::Config;
use crate::http::Limits;
use crate::http::TrustedProxies;
use crate::startup::App;

#[derive(Debug, Parser)]
#[command(
    name = "ujian",
    version,
    about = "ujian: computer-assisted testing with live public scores",
    long_about = crate::welcome::LONG_ABOUT
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Folder for the database and keys (SQLite is used unless --database is given).
    #[arg(long, global = true, env = "UJIAN_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Database URL, e.g. postgres://user@host/db (default: SQLite in --data-dir).
    #[arg(long, global = true, env = "UJIAN_DATABASE_URL")]
    pub database: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check and convert item banks.
    #[command(subcommand)]
    Bank(BankCommand),
    /// Check exam blueprints and store them.
    #[command(subcommand)]
    Exam(ExamCommand),
    /// Register candidates.
    #[command(subcommand)]
    Candidates(CandidatesCommand),
    /// Check a selection (formations, stages) and its applicants.
    #[command(subcommand)]
    Selection(committee::SelectionCommand),
    /// Prepare a demo exam (SKD sample, demo candidates, an open sitting) and serve it.
    ///
    /// Prints the exam page URL, the sitting token and every demo login. Running it again
    /// keeps the data directory and continues where it stopped.
    Demo {
        /// How many demo candidates to create.
        #[arg(long, default_value_t = 20)]
        candidates: u32,
        /// Address to listen on.
        #[arg(long, env = "UJIAN_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The exam file to sit; without it, the SKD sample built into ujian (written to
        /// DATA_DIR/question-banks).
        #[arg(long)]
        exam: Option<PathBuf>,
        #[command(flatten)]
        serve: ServeOptions,
        #[command(flatten)]
        proxies: Proxies,
    },
    /// Prepare sittings (every paper drawn in advance); open, pause, resume, close and
    /// read them on the day through the running server.
    #[command(subcommand)]
    Sitting(committee::SittingCommand),
    /// Export results.
    #[command(subcommand)]
    Results(committee::ResultsCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check result receipts.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// Check a selection's signed announcements.
    #[command(subcommand)]
    Announcement(AnnouncementCommand),
    /// Report how the items worked and the irregularities in a sitting's logs.
    #[command(subcommand)]
    Analyze(committee::AnalyzeCommand),
    /// Manage staff accounts (committee admins and supervisors).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Run the HTTP and WebSocket server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "UJIAN_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        serve: ServeOptions,
        #[command(flatten)]
        proxies: Proxies,
    },
}

/// How the server meets the network: its public address, timeouts and caps.
#[derive(Debug, Args)]
pub struct ServeOptions {
    /// The address users open, e.g. https://cat.example.go.id. Only pages of this origin
    /// may post to the server or open its WebSockets. Without it, a request's Origin must
    /// match its Host header (behind a proxy: pass the Host through, or set this).
    #[arg(long, env = "UJIAN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds a client may take to send a request's headers, counted from the connection's
    /// start or its previous response; also how long a kept-alive connection may wait for
    /// its next request.
    #[arg(long, env = "UJIAN_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout: u64,
    /// Seconds a connection that is not a WebSocket may move no byte before it is closed
    /// (a body sent slowly, a response nobody reads). Keep it above 15: a quiet board feed
    /// sends a keep-alive every 15 seconds.
    #[arg(long, env = "UJIAN_IDLE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Connections open at once, WebSockets included; more are refused as they arrive.
    /// Keep it below the process's file limit (LimitNOFILE in deploy/ujian.service).
    #[arg(long, env = "UJIAN_MAX_CONNECTIONS", default_value_t = 50_000)]
    pub max_connections: usize,
    /// Connections open at once from one peer address. A test center's PCs often share one
    /// address; behind a reverse proxy every connection comes from the proxy, so there set
    /// it as high as --max-connections.
    #[arg(long, env = "UJIAN_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 5_000)]
    pub max_connections_per_address: usize,
    /// Board pages chosen with ?offset= or ?limit= (built for each request) one peer
    /// address may fetch per second. A board's first page is cached and not counted.
    #[arg(long, env = "UJIAN_BOARD_PAGES_PER_SECOND", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub board_pages_per_second: u32,
}

impl ServeOptions {
    fn apply(&self, config: &mut Config) {
        config.public_url.clone_from(&self.public_url);
        config.connections = Limits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections: self.max_connections,
            max_connections_per_address: self.max_connections_per_address,
        };
        config.board_pages_per_second = self.board_pages_per_second;
    }
}

#[derive(Debug, Args)]
pub struct Proxies {
    /// A reverse proxy in front of ujian (an address or a CIDR block; repeat it, or separate
    /// with commas, for several). Only requests from these take the client's address from
    /// `X-Forwarded-For`, read from the right; without it every client behind nginx is
    /// nginx's address, and failed logins from anyone lock out everyone.
    #[arg(
        long = "trusted-proxy",
        env = "UJIAN_TRUSTED_PROXY",
        value_delimiter = ',',
        value_parser = crate::http::client_ip::parse_proxy
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Debug, Subcommand)]
pub enum BankCommand {
    /// Check a bank folder: every mistake is listed with file, line and field.
    ///
    /// Prints the item count per section and topic and the bank's SHA-256 content hash.
    /// Exits with status 1 if anything is wrong.
    Validate {
        /// The bank folder (the one holding bank.toml).
        path: PathBuf,
    },
    /// Find item-writing flaws: testwiseness cues, pasted or look-alike options, and more.
    ///
    /// Reports, with file, line and item: how often the key (or best weighted option) is
    /// the longest option, the one with most clauses or the one most like the stem, against
    /// chance; with --exam, the expected score of a candidate who never reads a stem on the
    /// exam's blueprint, against each section's threshold; identical, pasted and cut-short
    /// options; "semua benar" style options; label-like options; figural topics without
    /// images; duplicate stems; weighted points that are not a spread. Each check is
    /// documented in docs/bank-format.md, with how an item silences it (lint_allow).
    /// Exits with status 1 if the bank is invalid or, with --strict, on any finding other
    /// than a reading-free score within the margin below a threshold.
    Lint {
        /// The bank folder (the one holding bank.toml).
        path: PathBuf,
        /// An exam file whose blueprint draws from this bank, for the reading-free scores
        /// and the option shuffling.
        #[arg(long)]
        exam: Option<PathBuf>,
        /// Fail on findings instead of warning.
        #[arg(long)]
        strict: bool,
    },
    /// Start a new bank: writes DIR/NAME/bank.toml and an items.toml with one example item
    /// of each kind, which `bank validate` accepts. Refuses a folder that exists.
    New {
        /// The bank's name: lower case letters, digits and '-'.
        name: String,
        /// Where to create the bank's folder.
        #[arg(long, default_value = "question-banks")]
        dir: PathBuf,
    },
    /// Write the sample banks and exams built into ujian (the SKD sample in Indonesian, a
    /// short English exam) to start from. Refuses a folder that holds anything.
    Samples {
        /// Where to write them.
        #[arg(long, default_value = "question-banks")]
        dir: PathBuf,
    },
    /// Turn a spreadsheet (CSV, XLSX or ODS) of items into an item file for a bank.
    ///
    /// Columns: id, section, topic, kind, difficulty, stem, image, answer, pin_options,
    /// a..e (option texts), a_points..e_points (weighted items). See docs/bank-format.md.
    /// Nothing is written if any row is wrong.
    ImportCsv {
        /// The CSV file (UTF-8, header row; comma or semicolon separated, detected), or a
        /// spreadsheet (.xlsx, .ods: its first sheet).
        csv: PathBuf,
        /// The item file to write, e.g. question-banks/mybank/items.toml (its folder is
        /// created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Overwrite --out if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Turn a question bank exported from another system into a ujian bank folder.
    ///
    /// Formats: aiken, gift, moodle-xml, qti (see docs/bank-format.md for what maps to what). Every problem
    /// is listed with file and line and nothing is written if there is one, unless
    /// --skip-bad is given. Question types ujian cannot deliver yet are listed and skipped.
    /// Ends with a summary: items imported per topic, questions skipped per reason.
    Import {
        /// The format; guessed from the file when left out.
        #[arg(value_name = "FORMAT")]
        format_or_file: String,
        /// The file to import (when FORMAT is given).
        file: Option<PathBuf>,
        /// The bank folder to write (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
        /// Import the good questions and list the bad ones instead of writing nothing.
        #[arg(long)]
        skip_bad: bool,
        /// The section code of the imported items (the formats have no sections).
        #[arg(long, default_value = "UMUM")]
        section: String,
        /// The bank's name (default: from the --out folder's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Write a bank for another system: a QTI 3.0 package (zip) or Moodle XML.
    ///
    /// `ujian bank import FILE` reads the file back to the same bank hash. See
    /// docs/bank-format.md for what goes where.
    Export {
        /// qti3 or moodle-xml.
        format: String,
        /// The bank folder.
        bank: PathBuf,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExamCommand {
    /// Check an exam file against its bank and print a summary per section and topic.
    Check {
        /// The exam file, e.g. question-banks/exams/skd.toml.
        exam: PathBuf,
    },
    /// Check an exam and store it, with the exact bank text it draws from, in the database.
    Import { exam: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum CandidatesCommand {
    /// Import candidates from a CSV file.
    ///
    /// Columns: participant_no, name, birth_date (optional, YYYY-MM-DD), pin (optional),
    /// accommodation (optional, a name from the exam's [accommodations]). Rows without a
    /// PIN get a generated six-digit one, written to --pins-out for printing on slips.
    /// PINs are stored only as keyed hashes (HMAC-SHA256 under DATA_DIR/keys/pin-hmac.key).
    /// Re-importing a participant updates them.
    Import {
        csv: PathBuf,
        /// Where to write generated PINs (participant_no,pin). Required if any row lacks a PIN.
        #[arg(long)]
        pins_out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit log's hash chain end to end and name the first broken entry.
    ///
    /// Every login, answer log (by its hash), supervisor action, score publication and
    /// committee change is an entry. Exits with status 1 if any entry was edited, removed
    /// or reordered.
    ///
    /// With --head, also checks that the stored chain passes through a head the server
    /// signed earlier (from /api/v1/audit/head or the board's footer, kept as a file):
    /// a chain rebuilt from genesis by someone with database access verifies on its own,
    /// but not against a head published before the rebuild.
    Verify {
        /// A signed head: a file, or an http:// address such as
        /// http://HOST/api/v1/audit/head.
        #[arg(long)]
        head: Option<String>,
        /// Ed25519 public key, hex (as /api/v1/keys gives it); default: the key in --data-dir.
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AnnouncementCommand {
    /// Check an announcement's signature (the NO.json `ujian selection announce` writes,
    /// or /api/v1/announcements/NO saved to a file) and say what it covers.
    ///
    /// Uses the public key in --key (hex, from /api/v1/keys) or, without it, the key of
    /// the server whose --data-dir is given. Exits 1 when the signature does not match.
    Verify {
        file: PathBuf,
        /// Ed25519 public key, hex (as /api/v1/keys gives it).
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Check a result receipt: the `UJ1.…` string under the candidate's score (and in its
    /// QR code), or the short code (`K7QD-2MXA-P9TR`) the result screen shows.
    ///
    /// A short code is looked up in the database (--database, or the one in --data-dir),
    /// or with --server at that server's `/api/v1/receipts/{code}`. Uses the public key in
    /// --key (hex, from /api/v1/keys) or, without it, the key of the server whose
    /// --data-dir is given (with --server: the key that server publishes). Where there is
    /// a database it also says whether the audit chain still holds the head the receipt
    /// names and the entry that published this result; exits 1 if not.
    Verify {
        receipt: String,
        /// Ed25519 public key, hex (as /api/v1/keys gives it).
        #[arg(long)]
        key: Option<String>,
        /// Look a short code up at this server (http://HOST:PORT) instead of the database.
        #[arg(long)]
        server: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create or update a staff account; prints a new password.
    Add {
        username: String,
        /// admin (the committee: every sitting) or supervisor (only assigned sittings).
        #[arg(long, default_value = "supervisor")]
        role: String,
        /// Full name, shown in the console and the audit log.
        #[arg(long)]
        name: Option<String>,
        /// Sittings this supervisor may see and control (repeatable).
        #[arg(long = "sitting")]
        sittings: Vec<String>,
    },
}

/// Runs the command line; the exit code is 0 on success, 1 on a reported problem.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    private_files();
    init_tracing();
    without_huge_pages();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Turns transparent huge pages off for this process (and the processes it starts), as
/// Redis does for the same reason. With THP the first touch of a fresh 2 MiB region backs
/// and zeroes all of it: when a room connects at once, the connections' buffers land in
/// fresh regions and the exam start waits on page zeroing (perf: 16% of the server's CPU
/// while 10,000 logged in, 3.2 s p99 to the first question against 2.8 s without THP),
/// and regions used sparsely stay resident (peak RSS 450 MiB against 360 MiB). What THP
/// saves in TLB misses this heap of small objects does not notice.
pub fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::warn!(error = %e, "cannot turn transparent huge pages off");
    }
}

/// Everything ujian creates is readable by its user only (umask 077): the data dir holds
/// the banks with their keys, the sittings' tokens and the PIN hashes, and the command line
/// writes PIN slips and result exports. The store and the key files set their modes
/// themselves too, for programs that use the library without this binary.
fn private_files() {
    #[cfg(target_os = "linux")]
    rustix::process::umask(rustix::fs::Mode::from_bits_truncate(0o077));
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("UJIAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Bank(BankCommand::Validate { path }) => Ok(committee::bank_validate(&path)),
        Command::Bank(BankCommand::Lint { path, exam, strict }) => {
            Ok(committee::bank_lint(&path, exam.as_deref(), strict))
        }
        Command::Bank(BankCommand::New { name, dir }) => committee::bank_new(&dir, &name),
        Command::Bank(BankCommand::Samples { dir }) => committee::bank_samples(&dir),
        Command::Bank(BankCommand::ImportCsv { csv, out, force }) => committee::bank_import_csv(&csv, &out, force),
        Command::Bank(BankCommand::Import { format_or_file, file, out, skip_bad, section, name }) => {
            let (format, file) = match file {
                Some(file) => (Some(format_or_file), file),
                None => (None, PathBuf::from(format_or_file)),
            };
            committee::bank_import(&bank_formats::command::ImportArgs { format, file, out, skip_bad, section, name })
        }
        Command::Bank(BankCommand::Export { format, bank, out }) => {
            committee::bank_export(&bank_formats::command::ExportArgs { format, bank, out })
        }
        Command::Exam(ExamCommand::Check { exam }) => Ok(committee::exam_check(&exam)),
        Command::Selection(command) => committee::selection(&config(g, None), &command).await,
        Command::Exam(ExamCommand::Import { exam }) => committee::exam_import(&config(g, None), &exam).await,
        Command::Candidates(CandidatesCommand::Import { csv, pins_out }) => {
            committee::candidates_import(&config(g, None), &csv, pins_out.as_deref()).await
        }
        Command::Demo { candidates, listen, exam, serve, proxies } => {
            let mut config =
                Config { trusted_proxies: TrustedProxies::new(proxies.trusted_proxies), ..config(g, Some(listen)) };
            serve.apply(&mut config);
            crate::demo::run(&config, &crate::demo::DemoOptions { exam, candidates }).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sitting(command) => committee::sitting(&config(g, None), command).await,
        Command::Results(command) => committee::results(&config(g, None), command).await,
        Command::Audit(AuditCommand::Verify { head, key }) => {
            committee::audit_verify(&config(g, None), head.as_deref(), key.as_deref()).await
        }
        Command::Announcement(AnnouncementCommand::Verify { file, key }) => {
            committee::announcement_verify(&config(g, None), &file, key.as_deref())
        }
        Command::Receipt(ReceiptCommand::Verify { receipt, key, server }) => {
            committee::receipt_verify(&config(g, None), &receipt, key.as_deref(), server.as_deref()).await
        }
        Command::Analyze(command) => committee::analyze(&config(g, None), command).await,
        Command::Staff(StaffCommand::Add { username, role, name, sittings }) => {
            committee::staff_add(&config(g, None), &username, &role, name.as_deref(), &sittings).await
        }
        Command::Serve { listen, serve, proxies } => {
            let mut config =
                Config { trusted_proxies: TrustedProxies::new(proxies.trusted_proxies), ..config(g, Some(listen)) };
            serve.apply(&mut config);
            let app = App::build(&config).await?;
            let has_admin = app.state().registry.store().has_admin().await?;
            crate::welcome::print(&crate::welcome::serve_banner(app.local_addr(), has_admin));
            app.run_until(crate::shutdown::signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn config(g: &Global, listen: Option<SocketAddr>) -> Config {
    Config::new(g.data_dir.clone(), g.database.clone(), listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))))
}
