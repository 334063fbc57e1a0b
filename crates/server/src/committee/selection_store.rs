//! `ujian selection import`, `ujian selection announce` and `ujian announcement verify`:
//! a selection stored, its stages announced (signed, immutable), announcements checked.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use store::{SelectionRow, Store};

use super::selection::{problems, read};
use crate::actions::LogAction;
use crate::announcements::{Signed, Stage, applicant_row, is_selection_id};
use crate::config::Config;

pub(crate) async fn import(config: &Config, path: &Path, id: &str, applicants: &Path) -> anyhow::Result<ExitCode> {
    if !is_selection_id(id) {
        anyhow::bail!("--id holds letters, digits, '-' and '_' (at most 64), not {id:?}; nothing was changed");
    }
    // Both files are checked before the database is opened: a refused import writes nothing.
    let (selection, list) = match read(path, Some(applicants))? {
        Ok((s, Some(list))) => (s, list),
        Ok((_, None)) => anyhow::bail!("no applicant list read"),
        Err(d) => return Ok(problems(&d)),
    };
    let source = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let row = SelectionRow {
        id: id.to_owned(),
        name: selection.name().to_owned(),
        source: source.clone(),
        stored_at: String::new(),
    };
    let rows: Vec<_> = list.iter().map(applicant_row).collect();
    let store = Store::open(&config.database_url()).await?;
    let replaced = store.put_selection(&row, &rows, chrono::Utc::now()).await?;
    let detail = serde_json::json!({
        "name": selection.name(),
        "selection_sha256": super::sha256_hex(source.as_bytes()),
        "applicants": rows.len(),
        "replaced": replaced,
    });
    super::record(&store, LogAction::SelectionImported, id, detail).await?;
    store.close().await;
    let verb = if replaced { "replaced" } else { "stored" };
    println!(
        "{verb} selection {id} ({}): {} formations, {} applicants",
        selection.name(),
        selection.formations().len(),
        rows.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn announce(
    config: &Config,
    id: &str,
    stage: &str,
    reason: Option<&str>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let stage = Stage::parse(stage).ok_or_else(|| anyhow::anyhow!("--stage must be skd, not {stage:?}"))?;
    if reason.is_some_and(|r| r.trim().is_empty()) {
        anyhow::bail!("--reason is empty: say why the announcement is corrected");
    }
    let signer = crate::receipt::Signer::load_or_create(&config.data_dir)?;
    let store = Store::open(&config.database_url()).await?;
    let signed = match crate::announcements::announce(&store, &signer, id, stage, reason, chrono::Utc::now()).await {
        Ok(signed) => signed,
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    };
    let a = &signed.announcement;
    let json = serde_json::to_string_pretty(&signed)?;
    let detail = serde_json::json!({
        "stage": a.stage,
        // Ties the entry to exactly this signed document.
        "signature": signed.signature,
        "supersedes": a.supersedes,
        "reason": a.reason,
        "audit_head": a.audit_head,
    });
    super::record(&store, LogAction::AnnouncementPublished, &a.no, detail).await?;
    store.close().await;
    std::fs::create_dir_all(out).with_context(|| format!("create {}", out.display()))?;
    let json_path = out.join(format!("{}.json", a.no));
    let csv_path = out.join(format!("{}.csv", a.no));
    std::fs::write(&json_path, json).with_context(|| format!("write {}", json_path.display()))?;
    std::fs::write(&csv_path, csv(&signed)?).with_context(|| format!("write {}", csv_path.display()))?;
    let printed = printable(&signed, out)?;
    let lines: usize = a.tracks.iter().map(|t| t.lines.len()).sum();
    println!("announcement {} ({} of {}): {} tracks, {lines} lines", a.no, a.stage, a.selection, a.tracks.len());
    if let Some(old) = &a.supersedes {
        println!("supersedes {old}: {} lines changed", a.changes.len());
    }
    println!("wrote {} and {}", json_path.display(), csv_path.display());
    println!("wrote {printed} XLSX and PDF lists (one per formation and track) to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// The announcement as a spreadsheet reads it: one row per line, with its formation and
/// track. Unsigned: the JSON is what `ujian announcement verify` checks.
fn csv(signed: &Signed) -> anyhow::Result<String> {
    use crate::results::text_cell;
    let a = &signed.announcement;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["announcement", "formation", "track", "rank", "participant_no", "name"];
    header.extend(a.sections.iter().map(String::as_str));
    header.extend(["total", "code", "below_threshold"]);
    w.write_record(&header)?;
    for t in &a.tracks {
        for l in &t.lines {
            let mut rec = vec![
                a.no.clone(),
                text_cell(&t.formation),
                t.track.clone(),
                l.rank.map(|r| r.to_string()).unwrap_or_default(),
                text_cell(&l.participant_no),
                text_cell(&l.name),
            ];
            rec.extend(a.sections.iter().map(|s| l.scores.get(s).map(i64::to_string).unwrap_or_default()));
            rec.extend([
                l.total.map(|t| t.to_string()).unwrap_or_default(),
                l.code.clone(),
                l.below_threshold.to_string(),
            ]);
            w.write_record(&rec)?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The list a committee publishes, one XLSX and one PDF per formation and track, laid
/// out by `committee/announcement.rs` as the results export's are. Returns how many
/// tracks were written.
fn printable(signed: &Signed, out: &Path) -> anyhow::Result<usize> {
    use super::announcement::{Heading, pdf, xlsx};
    use crate::results::{Export, ResultLine};
    let a = &signed.announcement;
    for t in &a.tracks {
        let lines = t
            .lines
            .iter()
            .map(|l| ResultLine {
                rank: l.rank,
                participant_no: l.participant_no.clone(),
                name: l.name.clone(),
                sitting: String::new(),
                venue: String::new(),
                scores: l.scores.clone(),
                total: l.total.unwrap_or(0),
                passed: matches!(l.code.as_str(), "P/L" | "P"),
                status: String::new(),
                code: l.code.clone(),
                answer_cycling: 0,
                irregularities: String::new(),
                mismatch: None,
            })
            .collect();
        let export = Export {
            exam: a.exam.clone(),
            sections: a.sections.clone(),
            openings: Some(t.openings),
            provisional: Vec::new(),
            lines,
        };
        let scope = match &a.supersedes {
            Some(old) => format!("Pengumuman {} (menggantikan {old}), {}", a.no, a.selection_name),
            None => format!("Pengumuman {}, {}", a.no, a.selection_name),
        };
        let heading = Heading {
            title: format!("PENGUMUMAN HASIL SELEKSI KOMPETENSI DASAR {}", a.selection_name.to_uppercase()),
            scope,
            date: a.date.clone(),
            formation: format!("{} ({}) {} - {}", t.formation, t.track, t.position, t.unit),
        };
        let stem = out.join(format!("{}-{}-{}", a.no, t.formation, t.track));
        let (x, p) = (stem.with_extension("xlsx"), stem.with_extension("pdf"));
        std::fs::write(&x, xlsx(&export, &heading)?).with_context(|| format!("write {}", x.display()))?;
        std::fs::write(&p, pdf(&export, &heading)).with_context(|| format!("write {}", p.display()))?;
    }
    Ok(a.tracks.len())
}

pub(crate) fn announcement_verify(config: &Config, file: &Path, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("read {}", file.display()))?;
    let signed: Signed = match serde_json::from_str(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: not a ujian announcement: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let public = match key {
        Some(k) => k.trim().to_owned(),
        None => crate::receipt::Signer::load_or_create(&config.data_dir)?.public_hex,
    };
    if let Err(e) = crate::announcements::verify(&signed, &public) {
        eprintln!("{}: {e}", file.display());
        return Ok(ExitCode::FAILURE);
    }
    let a = &signed.announcement;
    let lines: usize = a.tracks.iter().map(|t| t.lines.len()).sum();
    println!("ok: announcement {} signed by key {}", a.no, signed.key_id);
    println!("  selection {} ({}), stage {}, {} ({})", a.selection, a.selection_name, a.stage, a.date, a.issued_at);
    println!("  exam {}, sections {}", a.exam, a.sections.join(", "));
    println!("  {} formation tracks, {lines} lines", a.tracks.len());
    println!("  computed at audit entry {} ({})", a.audit_head.seq, a.audit_head.hash);
    if let Some(old) = &a.supersedes {
        println!(
            "  supersedes {old}: {} lines changed; reason: {}",
            a.changes.len(),
            a.reason.as_deref().unwrap_or("-")
        );
    }
    Ok(ExitCode::SUCCESS)
}
