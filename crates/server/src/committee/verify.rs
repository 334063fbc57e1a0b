//! `ujian audit verify` and `ujian receipt verify`: check the audit chain and a
//! receipt against a signed head, the database and the public key.

use std::process::ExitCode;

use anyhow::Context as _;
use store::Store;

use crate::actions::LogAction;
use crate::config::Config;

fn public_key(config: &Config, key: Option<&str>) -> anyhow::Result<String> {
    Ok(match key {
        Some(k) => k.trim().to_owned(),
        None => crate::receipt::Signer::load_or_create(&config.data_dir)?.public_hex,
    })
}

/// Reads a signed head from a file or an `http://` address (for `https://`, save it with
/// a client that speaks TLS, e.g. `curl -o head.json`, and give the file).
async fn read_head(source: &str) -> anyhow::Result<crate::signed_head::SignedHead> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let response = reqwest::get(source).await.with_context(|| {
            format!("fetch {source} (only http:// is fetched here; save an https:// head to a file first)")
        })?;
        if !response.status().is_success() {
            anyhow::bail!("fetch {source}: {}", response.status());
        }
        response.text().await.with_context(|| format!("read {source}"))?
    } else {
        std::fs::read_to_string(source).with_context(|| format!("read {source}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{source}: not a signed audit head"))
}

pub(crate) async fn audit_verify(config: &Config, head: Option<&str>, key: Option<&str>) -> anyhow::Result<ExitCode> {
    // The signed head is checked before the database is read: a forged one says nothing.
    let signed = match head {
        Some(source) => {
            let signed = read_head(source).await?;
            let public = public_key(config, key)?;
            if let Err(e) = signed.verify(&public) {
                eprintln!("signed head {source}: {e}");
                return Ok(ExitCode::FAILURE);
            }
            Some(signed)
        }
        None => None,
    };
    let store = Store::open(&config.database_url()).await?;
    let rows = store.audit_log().await?;
    store.close().await;
    let n = match crate::audit::verify(&rows) {
        Ok(n) => n,
        Err(b) => {
            eprintln!("audit log broken at entry {}: {}", b.seq, b.reason);
            if let Some(r) = rows.iter().find(|r| r.seq == b.seq) {
                eprintln!("  entry {}: {} {} {} {} {}", r.seq, r.at, r.actor, r.action, r.subject, r.detail);
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let head_hash = rows.last().map_or(crate::audit::GENESIS, |r| r.hash.as_str());
    println!("ok: {n} audit entries, chain intact; head {head_hash}");
    if let Some(signed) = signed {
        let at = crate::audit::ChainHead { seq: signed.seq, hash: signed.hash.clone() };
        match at.check_in(&rows) {
            Ok(()) => println!(
                "ok: the chain extends the head signed at {} (entry {}, {})",
                signed.signed_at, signed.seq, signed.hash
            ),
            Err(e) => {
                eprintln!(
                    "tampered: the chain does not extend the head signed at {} (entry {}, {}): {e}",
                    signed.signed_at, signed.seq, signed.hash
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn receipt_verify(
    config: &Config,
    receipt: &str,
    key: Option<&str>,
    server: Option<&str>,
) -> anyhow::Result<ExitCode> {
    // A short code stands for the receipt it was cut from: fetch that one, then check it
    // like any other (and that it is the code's).
    let short = crate::receipt::parse_short_code(receipt);
    let (receipt, public) = match (&short, server) {
        (Some(code), Some(url)) => {
            let url = url.trim_end_matches('/');
            let found: serde_json::Value = fetch_json(&format!("{url}/api/v1/receipts/{code}")).await?;
            let full = found["receipt"].as_str().context("the server's answer holds no receipt")?.to_owned();
            let public = match key {
                Some(k) => k.trim().to_owned(),
                None => server_key(url).await?,
            };
            (full, public)
        }
        (Some(code), None) => {
            if config.database_url.is_none() && !config.data_dir.join("ujian.db").exists() {
                anyhow::bail!(
                    "{code} is a short code: give --server URL, or --data-dir/--database of the server that made it"
                );
            }
            let store = Store::open(&config.database_url()).await?;
            let found = crate::receipt::find(&store, code).await;
            store.close().await;
            let Some(full) = found? else {
                eprintln!("no result in the database has the receipt code {code}");
                return Ok(ExitCode::FAILURE);
            };
            (full, public_key(config, key)?)
        }
        (None, _) => (receipt.trim().to_owned(), public_key(config, key)?),
    };
    let receipt = receipt.as_str();
    let (p, code) = match crate::receipt::verify(receipt, &public) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("invalid receipt: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(asked) = short.filter(|asked| *asked != code) {
        eprintln!("the receipt found for {asked} has the code {code}");
        return Ok(ExitCode::FAILURE);
    }
    println!("valid receipt {code}");
    println!("  session {} (participant {}), exam {}", p.session, p.participant_no, p.exam);
    let scores: Vec<String> = p.scores.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("  scores {}; total {}; {}", scores.join(", "), p.total, if p.passed { "passed" } else { "not passed" });
    println!("  finished {} ({})", p.finished_at, p.reason);
    println!("  bank sha256 {}", p.bank_sha256);
    println!("  paper sha256 {}", p.paper_sha256);
    println!("  answers sha256 {}", p.answers_sha256);
    let Some(head) = &p.audit_head else {
        println!("  audit head: none (a receipt from before receipts named one); the chain is not checked");
        return Ok(ExitCode::SUCCESS);
    };
    println!("  audit head entry {} {}", head.seq, head.hash);
    // The chain is checked where there is a database to check: --database, or a data dir
    // holding one (opening would make an empty one).
    if config.database_url.is_none() && !config.data_dir.join("ujian.db").exists() {
        println!("  chain not checked: no database at {}", config.data_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let store = Store::open(&config.database_url()).await?;
    let rows = store.audit_log().await?;
    store.close().await;
    let mut problems = Vec::new();
    if let Err(b) = crate::audit::verify(&rows) {
        problems.push(format!("the audit log is broken at entry {}: {}", b.seq, b.reason));
    }
    if let Err(e) = head.check_in(&rows) {
        problems.push(format!("the chain does not hold the receipt's audit head (entry {}): {e}", head.seq));
    }
    // The finish's own entry follows the head and publishes this very result.
    let finishes: Vec<&store::AuditRow> =
        rows.iter().filter(|r| r.action == LogAction::SessionFinished.as_str() && r.subject == p.session).collect();
    match finishes.iter().find(|r| recorded_receipt(&r.detail).as_deref() == Some(receipt.trim())) {
        None => problems.push(format!(
            "none of the {} session.finished entries of {} holds this receipt",
            finishes.len(),
            p.session
        )),
        Some(r) => {
            if r.seq <= head.seq {
                problems.push(format!("entry {} holds this receipt but comes before its head {}", r.seq, head.seq));
            }
            if let Some(differs) = recorded_result_differs(&r.detail, &p) {
                problems.push(format!("the session.finished entry {} of {} records {differs}", r.seq, p.session));
            }
        }
    }
    if problems.is_empty() {
        println!("  ok: the audit chain holds the receipt's head and records this result");
        Ok(ExitCode::SUCCESS)
    } else {
        for problem in &problems {
            eprintln!("tampered: {problem}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// A JSON document from an `http://` address (as `read_head` fetches).
async fn fetch_json(url: &str) -> anyhow::Result<serde_json::Value> {
    let response = reqwest::get(url).await.with_context(|| format!("fetch {url}"))?;
    let status = response.status();
    let body = response.text().await.with_context(|| format!("read {url}"))?;
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        anyhow::bail!("fetch {url}: {status} {message}");
    }
    serde_json::from_str(&body).with_context(|| format!("{url}: not JSON"))
}

/// The receipt key a server publishes (`/api/v1/keys`), for a receipt fetched from it.
async fn server_key(url: &str) -> anyhow::Result<String> {
    let keys = fetch_json(&format!("{url}/api/v1/keys")).await?;
    keys["keys"][0]["public_key_hex"].as_str().map(str::to_owned).context("the server publishes no receipt key")
}

/// The receipt a `session.finished` entry's detail holds.
fn recorded_receipt(detail: &str) -> Option<String> {
    let detail: serde_json::Value = serde_json::from_str(detail).ok()?;
    detail["result"]["receipt_full"].as_str().map(str::to_owned)
}

/// What a `session.finished` entry publishes that the receipt does not say, if anything.
fn recorded_result_differs(detail: &str, receipt: &crate::receipt::ReceiptPayload) -> Option<String> {
    let Ok(detail) = serde_json::from_str::<serde_json::Value>(detail) else {
        return Some("a detail that is not JSON".to_owned());
    };
    let result = &detail["result"];
    let scores: Option<std::collections::BTreeMap<String, i64>> = serde_json::from_value(result["scores"].clone()).ok();
    if result["total"].as_i64() != Some(receipt.total) {
        Some(format!("total {}, the receipt {}", result["total"], receipt.total))
    } else if scores.as_ref() != Some(&receipt.scores) {
        Some(format!("scores {}, the receipt others", result["scores"]))
    } else if result["passed"].as_bool() != Some(receipt.passed) {
        Some(format!("passed {}, the receipt {}", result["passed"], receipt.passed))
    } else {
        None
    }
}
