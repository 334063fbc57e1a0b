//! `ujian demo`: one command from a fresh clone to a running exam. Prepares a data
//! directory on SQLite with the SKD sample, demo candidates, a supervisor and an admin,
//! opens a sitting and serves. Running it again reuses what is there. The sample banks
//! are built into the binary, so it runs from any directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use item_bank::Exam;
use store::{NewCandidate, NewSupervisor, Store};

use crate::config::Config;
use crate::credentials;
use crate::sitting::{self, SittingSpec};
use crate::sittings::SittingStatus;
use crate::staff::Role;
use crate::startup::App;

pub const DEMO_SITTING: &str = "DEMO-1";

/// The repository's `question-banks/`, built into the binary.
static SAMPLES: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../question-banks");

/// The built-in exam the demo sits when no `--exam` is given.
const SAMPLE_EXAM: &str = "exams/skd.toml";

pub struct DemoOptions {
    /// The exam file to sit; `None` means the built-in SKD sample.
    pub exam: Option<PathBuf>,
    pub candidates: u32,
}

/// Writes the built-in sample banks and exams into `dir` (over an older copy, so that a
/// newer binary's samples win) and returns the path of the SKD sample exam there.
pub fn unpack_samples(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    SAMPLES.extract(dir).with_context(|| format!("write the sample banks to {}", dir.display()))?;
    Ok(dir.join(SAMPLE_EXAM))
}

/// Credentials the demo made, kept in the data directory so a second run can print them.
fn read_credentials(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(',').map(|(a, b)| (a.to_owned(), b.to_owned())))
        .collect()
}

fn write_credentials(path: &Path, creds: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let mut text = String::from("login,secret\n");
    for (k, v) in creds {
        text.push_str(&format!("{k},{v}\n"));
    }
    std::fs::write(path, text).with_context(|| format!("write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Prepares everything and returns the sitting's token and the credentials.
pub async fn prepare(config: &Config, opts: &DemoOptions) -> anyhow::Result<(String, BTreeMap<String, String>)> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| format!("create {}", config.data_dir.display()))?;
    let store = Store::open(&config.database_url()).await?;
    let pins = credentials::PinKey::load_or_create(&config.data_dir)?;
    let now = chrono::Utc::now();
    let exam_path = match &opts.exam {
        Some(path) => path.clone(),
        None => unpack_samples(&config.data_dir.join("question-banks"))?,
    };
    let (exam, bank, _) = Exam::load(&exam_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    store.put_exam(&exam, &bank, now).await?;

    let creds_path = config.data_dir.join("demo-credentials.csv");
    let mut creds = read_credentials(&creds_path);
    let mut new = Vec::new();
    let numbers: Vec<String> = (1..=opts.candidates).map(|i| format!("DEMO-{i:04}")).collect();
    for no in &numbers {
        if creds.contains_key(no) && store.candidate_pin_hash(no).await?.is_some() {
            continue;
        }
        let pin = credentials::generate_pin();
        new.push(NewCandidate {
            participant_no: no.clone(),
            name: demo_name(new.len() + creds.len()),
            birth_date: None,
            pin_hash: pins.hash_pin(no, &pin),
            accommodation: None,
        });
        creds.insert(no.clone(), pin);
    }
    if !new.is_empty() {
        store.put_candidates(&new, now).await?;
    }
    if !creds.contains_key("pengawas") {
        let password = format!("{}{}", credentials::generate_pin(), credentials::generate_pin());
        store
            .put_supervisor(
                &NewSupervisor {
                    username: "pengawas".into(),
                    name: "Pengawas Demo".into(),
                    password_hash: credentials::hash_secret(&password)?,
                    role: Role::Supervisor.as_str().into(),
                },
                now,
            )
            .await?;
        creds.insert("pengawas".into(), password);
    }
    if !creds.contains_key("panitia") {
        let password = format!("{}{}", credentials::generate_pin(), credentials::generate_pin());
        store
            .put_supervisor(
                &NewSupervisor {
                    username: "panitia".into(),
                    name: "Panitia Demo".into(),
                    password_hash: credentials::hash_secret(&password)?,
                    role: Role::Admin.as_str().into(),
                },
                now,
            )
            .await?;
        creds.insert("panitia".into(), password);
    }
    write_credentials(&creds_path, &creds)?;

    let spec = SittingSpec {
        id: DEMO_SITTING.into(),
        exam_code: exam.code().to_owned(),
        venue: "Demo".into(),
        starts_at: now,
        candidates: numbers,
    };
    let sitting = sitting::prepare(&store, &spec, now).await?;
    store.assign_supervisor(&sitting.id, "pengawas").await?;
    if sitting.status.parse() != Ok(SittingStatus::Open) {
        store.set_sitting_status(&sitting.id, SittingStatus::Open.as_str()).await?;
    }
    store.close().await;
    Ok((sitting.token, creds))
}

fn demo_name(i: usize) -> String {
    const FIRST: &[&str] =
        &["Ani", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gilang", "Hana", "Irfan", "Joko", "Kartika", "Lukman"];
    const LAST: &[&str] = &["Lestari", "Santoso", "Wijaya", "Rahmawati", "Saputra", "Nasution", "Siregar", "Pratama"];
    format!("{} {}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len() + i) % LAST.len()])
}

pub async fn run(config: &Config, opts: &DemoOptions) -> anyhow::Result<()> {
    let (token, creds) = prepare(config, opts).await?;
    let app = App::build(config).await?;
    let addr = app.local_addr();
    println!();
    println!("ujian demo is running (data in {})", config.data_dir.display());
    println!();
    println!("  exam page (candidates):  http://{addr}/");
    println!("  public board:            http://{addr}/board/sitting/{DEMO_SITTING}   (big screen: add ?big=1)");
    println!("  all boards:              http://{addr}/board");
    println!("  supervisor console:      http://{addr}/console");
    println!("  health:                  http://{addr}/health");
    println!();
    println!("  sitting {DEMO_SITTING}, token: {token}");
    println!();
    println!("  participant   PIN");
    for (login, secret) in creds.iter().filter(|(k, _)| k.starts_with("DEMO-")) {
        println!("  {login:<12}  {secret}");
    }
    println!();
    if let Some(p) = creds.get("pengawas") {
        println!("  supervisor (this sitting): pengawas / {p}");
    }
    if let Some(p) = creds.get("panitia") {
        println!("  admin (every sitting):     panitia / {p}");
    }
    println!();
    println!("  credentials are also in {}", config.data_dir.join("demo-credentials.csv").display());
    println!("  stop with ctrl-c; run again to continue where it stopped");
    app.run_until(crate::shutdown::signal()).await
}
