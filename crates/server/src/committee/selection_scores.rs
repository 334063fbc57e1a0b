//! `ujian selection scores import`: assessors' scores for an assessed SKB component, from
//! a CSV file, checked whole (every mistake with its line, nothing written), stored in one
//! transaction and audited score by score with the assessor's name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use item_bank::{Diagnostic, Diagnostics};
use selection::ComponentRule;
use store::{AssessorScoreRow, Store};

use super::selection::problems;
use crate::actions::LogAction;
use crate::announcements::{Signed, StoredSelection};
use crate::config::Config;

pub(crate) async fn import(config: &Config, id: &str, component: &str, file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let store = Store::open(&config.database_url()).await?;
    let checked = check(&store, id, component, &file.display().to_string(), &bytes).await;
    let scores = match checked {
        Ok(Ok(scores)) => scores,
        Ok(Err(diags)) => {
            store.close().await;
            return Ok(problems(&diags));
        }
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    };
    store.put_assessor_scores(id, &scores, chrono::Utc::now()).await?;
    let at = store::ts(chrono::Utc::now());
    let actor = super::committee_actor();
    for s in &scores {
        let subject = format!("{id}/{}/{}", s.component, s.participant_no);
        let detail = serde_json::json!({ "assessor": s.assessor, "criteria": s.criteria });
        crate::audit::append(&store, &at, &actor, LogAction::AssessorScored.as_str(), &subject, &detail)
            .await
            .with_context(|| format!("write the audit entry of {subject}"))?;
    }
    store.close().await;
    println!("stored {} scores of {component} for selection {id}, each with its audit entry", scores.len());
    Ok(ExitCode::SUCCESS)
}

/// Every row checked against the selection, its rubric, the SKD announcement in force
/// (only P/L applicants sit the SKB) and the scores already stored.
async fn check(
    store: &Store,
    id: &str,
    component: &str,
    file: &str,
    bytes: &[u8],
) -> anyhow::Result<Result<Vec<AssessorScoreRow>, Diagnostics>> {
    let stored = StoredSelection::load(store, id).await?;
    let Some(c) = stored.selection.component(component) else {
        let known: Vec<&str> = stored.selection.skb().iter().map(|c| c.id().as_str()).collect();
        anyhow::bail!("selection {id} has no SKB component {component:?} (it has {})", known.join(", "));
    };
    let ComponentRule::Assessed { rubric, .. } = c.rule() else {
        anyhow::bail!("component {component} is not scored by assessors on a rubric; nothing was changed");
    };
    let announcements = store.announcements_of(id).await?;
    let Some(skd) = announcements.iter().rev().find(|a| a.stage == "skd") else {
        anyhow::bail!("stage skd of {id} is not announced yet: only its P/L applicants sit the SKB");
    };
    let skd = Signed::from_row(skd)?.announcement;
    let eligible: BTreeSet<&str> = skd
        .tracks
        .iter()
        .flat_map(|t| &t.lines)
        .filter(|l| l.code == "P/L")
        .map(|l| l.participant_no.as_str())
        .collect();
    let already: BTreeSet<(String, String)> =
        store.assessor_scores(id, component).await?.into_iter().map(|s| (s.participant_no, s.assessor)).collect();

    let mut diags = Vec::new();
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first.contains(&b';') && !first.contains(&b',') { b';' } else { b',' };
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(bytes);
    let mut records = Vec::new();
    for r in reader.records() {
        match r {
            Ok(r) => records.push((r.position().map_or(0, |p| p.line() as usize), r)),
            Err(e) => {
                diags.push(diag(
                    file,
                    e.position().map(|p| p.line() as usize),
                    None,
                    format!("not readable as CSV: {e}"),
                ));
                return Ok(Err(Diagnostics(diags)));
            }
        }
    }
    let Some((_, header)) = records.first() else {
        diags.push(diag(file, None, None, "the file is empty".to_owned()));
        return Ok(Err(Diagnostics(diags)));
    };
    let columns: BTreeMap<String, usize> =
        header.iter().enumerate().map(|(i, h)| (h.trim().to_lowercase(), i)).collect();
    let mut wanted = vec!["nomor_peserta".to_owned(), "penilai".to_owned()];
    wanted.extend(rubric.criteria().iter().map(|c| c.id.to_lowercase()));
    for w in &wanted {
        if !columns.contains_key(w) {
            diags.push(diag(file, Some(1), None, format!("missing column {w} (columns: {})", wanted.join(", "))));
        }
    }
    for h in columns.keys().filter(|h| !wanted.contains(h)) {
        diags.push(diag(file, Some(1), None, format!("unknown column {h:?} (columns: {})", wanted.join(", "))));
    }
    if !diags.is_empty() {
        return Ok(Err(Diagnostics(diags)));
    }
    let cell = |r: &csv::StringRecord, name: &str| r.get(columns[name]).unwrap_or("").trim().to_owned();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut scores = Vec::new();
    for (row, r) in records.iter().skip(1) {
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = Some(*row);
        let no = cell(r, "nomor_peserta");
        let assessor = cell(r, "penilai");
        if selection::ParticipantNo::parse(&no).is_none_or(|p| stored.applicants.get(&p).is_none()) {
            diags.push(diag(file, line, Some("nomor_peserta"), format!("{no:?} is not an applicant of {id}")));
        } else if !eligible.contains(no.as_str()) {
            diags.push(diag(
                file,
                line,
                Some("nomor_peserta"),
                format!("{no} did not go on from the SKD ({}): not P/L", skd.no),
            ));
        }
        if assessor.is_empty() {
            diags.push(diag(file, line, Some("penilai"), "the assessor's name is empty".to_owned()));
        } else if already.contains(&(no.clone(), assessor.clone())) {
            diags.push(diag(
                file,
                line,
                Some("penilai"),
                format!("{assessor} already scored {no} on {component}; a score is never replaced"),
            ));
        } else if let Some(before) = seen.insert((no.clone(), assessor.clone()), *row) {
            diags.push(diag(file, line, Some("penilai"), format!("{assessor} scores {no} twice (also line {before})")));
        }
        let mut criteria = Vec::new();
        for c in rubric.criteria() {
            let text = cell(r, &c.id.to_lowercase());
            match text.parse::<i64>() {
                Ok(v) if (c.min..=c.max).contains(&v) => criteria.push(v),
                Ok(v) => diags.push(diag(
                    file,
                    line,
                    Some(&c.id),
                    format!("{v} is outside {}..={} ({})", c.min, c.max, c.name),
                )),
                Err(_) => diags.push(diag(
                    file,
                    line,
                    Some(&c.id),
                    format!("{text:?} is not a whole number ({}..={})", c.min, c.max),
                )),
            }
        }
        scores.push(AssessorScoreRow { component: component.to_owned(), participant_no: no, assessor, criteria });
    }
    if scores.is_empty() && diags.is_empty() {
        diags.push(diag(file, None, None, "no scores in the file".to_owned()));
    }
    Ok(if diags.is_empty() { Ok(scores) } else { Err(Diagnostics(diags)) })
}

fn diag(file: &str, line: Option<usize>, field: Option<&str>, message: String) -> Diagnostic {
    Diagnostic { file: file.to_owned(), line, item: None, field: field.map(str::to_owned), message }
}
