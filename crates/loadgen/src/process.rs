//! The spawned `ujian serve` process (start, SIGTERM, kill -9, restart on the same data and
//! port) and what `/proc` says about a process: resident memory and CPU time.
//!
//! Signals go through the `kill` command and the file-descriptor limit through `prlimit`,
//! so that this crate needs no `unsafe` (the workspace forbids it).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::error::LoadgenError;

/// How to start the server.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub ujian: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// A fixed port, so a restarted server is found where clients left it.
    pub listen: SocketAddr,
    /// `UJIAN_LOG` for the server: logging every login at `info` costs CPU the benchmark
    /// would otherwise measure as server work.
    pub log_level: String,
    pub log_file: PathBuf,
}

/// A running `ujian serve`.
pub struct ServerProcess {
    spec: ServerSpec,
    child: Child,
    pid: u32,
    pub addr: SocketAddr,
    /// How long the last start took, from spawn to the "listening" line.
    pub startup: Duration,
}

/// The default `ujian` binary: next to this executable (both live in `target/release`).
pub fn default_ujian() -> PathBuf {
    let here = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_owned));
    here.unwrap_or_default().join("ujian")
}

/// A free port on 127.0.0.1 below the kernel's ephemeral range (32768 and up), so that no
/// client's outgoing connection can be given it while the server is down for a restart
/// (a client connecting to a free ephemeral port can connect to itself).
pub fn free_port() -> anyhow::Result<SocketAddr> {
    let start = 20_000 + (std::process::id() % 5_000) as u16;
    for port in (start..32_000).chain(20_000..start) {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpListener::bind(addr).is_ok() {
            return Ok(addr);
        }
    }
    anyhow::bail!("no free port between 20000 and 32000 on 127.0.0.1")
}

impl ServerProcess {
    pub async fn start(spec: &ServerSpec) -> anyhow::Result<ServerProcess> {
        if !spec.ujian.is_file() {
            return Err(LoadgenError::NoServerBinary(spec.ujian.clone()).into());
        }
        let began = Instant::now();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log_file)
            .with_context(|| format!("open {}", spec.log_file.display()))?;
        let mut cmd = Command::new(&spec.ujian);
        cmd.arg("--data-dir").arg(&spec.data_dir);
        if let Some(url) = &spec.database_url {
            cmd.arg("--database").arg(url);
        }
        cmd.args(["serve", "--listen", &spec.listen.to_string()])
            .env("UJIAN_LOG", &spec.log_level)
            // The viewers all connect from one address, thousands of them in some runs.
            .env("UJIAN_MAX_CONNECTIONS_PER_ADDRESS", "50000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let mut child = cmd.spawn().with_context(|| format!("spawn {}", spec.ujian.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let wait = Duration::from_secs(300);
        let found = tokio::time::timeout(wait, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.strip_prefix("ujian listening on http://") {
                    return rest.trim().parse::<SocketAddr>().ok();
                }
            }
            None
        })
        .await;
        let addr = match found {
            Ok(Some(addr)) => addr,
            Ok(None) => {
                let status = child.wait().await.map_or_else(|e| e.to_string(), |s| s.to_string());
                return Err(LoadgenError::ServerExited { status, log: spec.log_file.clone() }.into());
            }
            Err(_) => {
                return Err(LoadgenError::ServerSilent { secs: wait.as_secs(), log: spec.log_file.clone() }.into());
            }
        };
        // The server prints nothing more on stdout, but a full pipe must never block it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ServerProcess { spec: spec.clone(), child, pid, addr, startup: began.elapsed() })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// kill -9, and wait for the process to be gone.
    pub async fn kill9(&mut self) -> anyhow::Result<()> {
        signal(self.pid, "KILL")?;
        self.child.wait().await.context("wait for the killed server")?;
        Ok(())
    }

    /// Starts the server again on the same data and address.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let mut spec = self.spec.clone();
        spec.listen = self.addr;
        let next = ServerProcess::start(&spec).await?;
        *self = next;
        Ok(())
    }

    /// SIGTERM (graceful: in-flight commits finish), waiting up to `grace`, then kill -9.
    /// Returns whether it stopped by itself.
    pub async fn terminate(mut self, grace: Duration) -> anyhow::Result<bool> {
        signal(self.pid, "TERM")?;
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => {
                status.context("wait for the server")?;
                Ok(true)
            }
            Err(_) => {
                self.kill9().await?;
                Ok(false)
            }
        }
    }
}

/// Sends a signal with the `kill` command.
pub fn signal(pid: u32, signal: &'static str) -> anyhow::Result<()> {
    let out = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .output()
        .map_err(|e| LoadgenError::Signal { signal, pid, message: e.to_string() })?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(LoadgenError::Signal { signal, pid, message }.into());
    }
    Ok(())
}

/// Resident memory and CPU time of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcSample {
    pub rss_kb: u64,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
}

/// `VmRSS` from `/proc/PID/status` and utime + stime from `/proc/PID/stat`; `None` once the
/// process is gone.
pub fn read_proc(pid: &str) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(ProcSample { rss_kb: parse_vm_rss(&status)?, cpu_ticks: parse_cpu_ticks(&stat)? })
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime (field 14) + stime (field 15). The command name (field 2) may hold spaces and
/// parentheses, so fields are counted from the last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy clock ticks of the whole machine so far (all cores: everything but idle and
/// iowait), from `/proc/stat`: with the server's and the load generator's own ticks it
/// tells whether something else was using the box during a run.
pub fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_machine_busy(stat.lines().next()?)
}

fn parse_machine_busy(cpu_line: &str) -> Option<u64> {
    let fields: Vec<u64> = cpu_line.strip_prefix("cpu ")?.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    let total: u64 = fields.iter().take(8).sum();
    Some(total - fields.get(3)? - fields.get(4)?)
}

/// The kernel's TCP accept-queue counters (machine-wide, from `/proc/net/netstat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AcceptQueue {
    /// Handshakes dropped because the listener's accept queue was full (`ListenOverflows`,
    /// counted per dropped packet: a client that retries is counted again).
    pub listen_overflows: u64,
    /// SYNs and SYN-ACKs sent again after no answer (`TCPSynRetrans`): each is a connect
    /// waiting a second or more.
    pub syn_retransmits: u64,
}

impl AcceptQueue {
    pub fn read() -> Option<AcceptQueue> {
        parse_netstat(&std::fs::read_to_string("/proc/net/netstat").ok()?)
    }

    /// What happened between `self` and `later`.
    pub fn since(self, later: AcceptQueue) -> AcceptQueue {
        AcceptQueue {
            listen_overflows: later.listen_overflows.saturating_sub(self.listen_overflows),
            syn_retransmits: later.syn_retransmits.saturating_sub(self.syn_retransmits),
        }
    }
}

/// `/proc/net/netstat` holds pairs of lines: `TcpExt: Name…` then `TcpExt: value…`.
fn parse_netstat(text: &str) -> Option<AcceptQueue> {
    let mut lines = text.lines();
    while let Some(names) = lines.next() {
        let values = lines.next()?;
        if !names.starts_with("TcpExt:") {
            continue;
        }
        let pairs: HashMap<&str, u64> = names
            .split_whitespace()
            .skip(1)
            .zip(values.split_whitespace().skip(1))
            .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
            .collect();
        return Some(AcceptQueue {
            listen_overflows: *pairs.get("ListenOverflows")?,
            syn_retransmits: *pairs.get("TCPSynRetrans")?,
        });
    }
    None
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on).
pub fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// The open-files limit (soft, hard) of this process, from `/proc/self/limits`.
pub fn nofile_limit() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut nums = line["Max open files".len()..].split_whitespace().map(|v| v.parse::<u64>().ok());
    Some((nums.next()??, nums.next()??))
}

/// Raises the soft open-files limit to the hard one with `prlimit` (children, such as the
/// spawned server, inherit it). Returns the limit in force afterwards.
pub fn raise_nofile() -> Option<u64> {
    let (soft, hard) = nofile_limit()?;
    if soft < hard {
        let _ = std::process::Command::new("prlimit")
            .arg("--pid")
            .arg(std::process::id().to_string())
            .arg(format!("--nofile={hard}:{hard}"))
            .output();
    }
    nofile_limit().map(|(soft, _)| soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_queue_counters_are_read_from_the_tcpext_lines() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPSynRetrans\n\
                    TcpExt: 757 3440 3440 2448\n\
                    IpExt: InNoRoutes ListenOverflows\n\
                    IpExt: 0 9\n";
        let q = parse_netstat(text).expect("parse");
        assert_eq!(q, AcceptQueue { listen_overflows: 3440, syn_retransmits: 2448 });
        assert_eq!(q.since(AcceptQueue { listen_overflows: 3500, syn_retransmits: 2450 }).listen_overflows, 60);
        assert_eq!(parse_netstat("IpExt: A\nIpExt: 1\n"), None);
    }

    #[test]
    fn proc_files_parse() {
        let status = "Name:\tujian\nVmPeak:\t  9000 kB\nVmRSS:\t  123456 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(123_456));
        let stat = "4242 (uj ian) (x) S 1 4242 4242 0 -1 4194304 500 0 0 0 1500 250 0 0 20 0 3 0 100 1000 50";
        assert_eq!(parse_cpu_ticks(stat), Some(1_750));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
        assert_eq!(parse_machine_busy("cpu  100 5 50 1000 20 3 2 0 0 0"), Some(160));
    }

    #[test]
    fn this_process_can_be_read() {
        let me = read_proc("self").expect("/proc/self");
        assert!(me.rss_kb > 0);
        assert!(nofile_limit().is_some_and(|(soft, hard)| soft <= hard));
    }
}
