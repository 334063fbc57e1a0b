//! `ujian candidates import`: read a candidate list, issue PINs, store both.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use std::collections::BTreeSet;
use std::io::Write as _;

use store::{NewCandidate, Store};

use super::{private_file, record, sha256_hex};
use crate::actions::LogAction;
use crate::config::Config;
use crate::credentials;

/// One candidate row as read from the CSV, before the PIN is hashed.
struct CandidateRow {
    participant_no: String,
    name: String,
    birth_date: Option<String>,
    pin: Option<String>,
    accommodation: Option<String>,
}

fn read_candidates(file: &str, text: &str) -> Result<Vec<CandidateRow>, Vec<String>> {
    let mut errors = Vec::new();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![format!("{file}:1: cannot read the header row: {e}")]),
    };
    const KNOWN: &[&str] = &["participant_no", "name", "birth_date", "pin", "accommodation"];
    for h in &headers {
        if !KNOWN.contains(&h.as_str()) {
            errors.push(format!("{file}:1: column {h}: unknown column (expected: {})", KNOWN.join(", ")));
        }
    }
    for required in ["participant_no", "name"] {
        if !headers.iter().any(|h| h == required) {
            errors.push(format!("{file}:1: column {required}: missing from the header row"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("{file}:{}: malformed row: {e}", e.position().map_or(0, |p| p.line())));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cell = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let no = cell("participant_no");
        match &no {
            None => errors.push(format!("{file}:{line}: column participant_no: missing")),
            Some(no) if !crate::auth::is_participant_no(no) => errors.push(format!(
                "{file}:{line}: column participant_no: {no:?} may only hold letters, digits, '-' and '_' (at most 32)"
            )),
            Some(no) if !seen.insert(no.clone()) => {
                errors.push(format!("{file}:{line}: column participant_no: {no} appears twice"))
            }
            Some(_) => {}
        }
        let name = cell("name");
        if name.is_none() {
            errors.push(format!("{file}:{line}: column name: missing"));
        }
        let birth_date = cell("birth_date");
        if let Some(d) = &birth_date
            && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
        {
            errors.push(format!("{file}:{line}: column birth_date: {d:?} is not a date like 1999-12-31"));
        }
        let pin = cell("pin");
        if let Some(p) = &pin
            && (p.len() < 6 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            errors.push(format!("{file}:{line}: column pin: a PIN is at least 6 digits"));
        }
        if let (Some(participant_no), Some(name)) = (no, name) {
            rows.push(CandidateRow { participant_no, name, birth_date, pin, accommodation: cell("accommodation") });
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(format!("{file}: the CSV holds no candidates"));
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

pub(crate) async fn candidates_import(
    config: &Config,
    csv: &Path,
    pins_out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(csv).with_context(|| format!("read {}", csv.display()))?;
    let rows = match read_candidates(&csv.display().to_string(), &text) {
        Ok(rows) => rows,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{} problem{} found; nothing imported", errors.len(), if errors.len() == 1 { "" } else { "s" });
            return Ok(ExitCode::FAILURE);
        }
    };
    let needs_pins = rows.iter().any(|r| r.pin.is_none());
    if needs_pins && pins_out.is_none() {
        anyhow::bail!("some rows have no pin: pass --pins-out FILE to generate PINs and write them there");
    }
    let store = Store::open(&config.database_url()).await?;

    let pins = credentials::PinKey::load_or_create(&config.data_dir)?;
    let mut generated = Vec::new();
    let rows: Vec<(CandidateRow, String)> = rows
        .into_iter()
        .map(|r| {
            let pin = r.pin.clone().unwrap_or_else(credentials::generate_pin);
            if r.pin.is_none() {
                generated.push((r.participant_no.clone(), pin.clone()));
            }
            let hash = pins.hash_pin(&r.participant_no, &pin);
            (r, hash)
        })
        .collect();

    let candidates: Vec<NewCandidate> = rows
        .into_iter()
        .map(|(r, pin_hash)| NewCandidate {
            pin_hash,
            participant_no: r.participant_no,
            name: r.name,
            birth_date: r.birth_date,
            accommodation: r.accommodation,
        })
        .collect();
    // Write the PIN slips before committing: if writing fails, nothing is imported and no
    // candidate is left with a PIN nobody knows.
    if let (Some(path), false) = (pins_out, generated.is_empty()) {
        let mut f = private_file(path).with_context(|| format!("create {}", path.display()))?;
        writeln!(f, "participant_no,pin")?;
        for (no, pin) in &generated {
            writeln!(f, "{no},{pin}")?;
        }
        f.sync_all()?;
        println!(
            "wrote {} generated PINs to {} (hand them out, then delete the file)",
            generated.len(),
            path.display()
        );
    }
    // A participant already registered whose PIN hash changes has had their PIN re-issued.
    let mut reissued = Vec::new();
    let mut added = 0;
    let bar = super::progress(candidates.len() as u64, "checking candidates");
    for c in &candidates {
        match store.candidate_pin_hash(&c.participant_no).await? {
            None => added += 1,
            Some(old) if old != c.pin_hash => reissued.push(c.participant_no.clone()),
            Some(_) => {}
        }
        bar.inc(1);
    }
    bar.set_message("storing");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    store.put_candidates(&candidates, chrono::Utc::now()).await?;
    bar.finish_and_clear();
    println!("imported {} candidates ({} in the database)", candidates.len(), store.candidate_count().await?);
    let detail = serde_json::json!({
        "file_sha256": sha256_hex(text.as_bytes()),
        "candidates": candidates.len(),
        "added": added,
        "pins_generated": generated.len(),
        "pins_reissued": reissued,
    });
    record(&store, LogAction::CandidatesImported, &csv.display().to_string(), detail).await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The public key to check signatures with: `--key`, or the key of the server whose data
/// dir is given.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_candidate_row_is_reported_with_its_line() {
        let csv = "participant_no,name,birth_date,pin\nP-1,Ani,1999-02-30,123456\nP-1,Budi,,12\n,Citra,,\n";
        let errors = read_candidates("c.csv", csv).err().expect("must fail");
        let joined = errors.join("\n");
        assert!(joined.contains("c.csv:2: column birth_date: \"1999-02-30\" is not a date"), "{joined}");
        assert!(joined.contains("c.csv:3: column participant_no: P-1 appears twice"), "{joined}");
        assert!(joined.contains("c.csv:3: column pin: a PIN is at least 6 digits"), "{joined}");
        assert!(joined.contains("c.csv:4: column participant_no: missing"), "{joined}");
    }

    #[test]
    fn good_candidate_rows_are_read() {
        let csv = "participant_no,name,accommodation\nP-1,Ani,\nP-2,Budi,tunanetra\n";
        let rows = read_candidates("c.csv", csv).expect("valid");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].accommodation.as_deref(), Some("tunanetra"));
        assert!(rows[0].pin.is_none());
    }
}
