//! Stage 1 from the store: the SKD exam's results rescored as the results export does
//! (refused while a sitting is not closed), turned into sheets for the selection crate.

use std::collections::BTreeMap;

use item_bank::{Points, SectionCode};
use scoring::{Score, SectionScore};
use selection::{ParticipantNo, SkdRules, SkdSheet, stage_one};
use store::Store;

use super::signed::{Line, TrackLines};
use super::stored::StoredSelection;
use crate::results::{Options, Scope};

/// The SKD exam's code and sections, and every formation's track ranked as stage 1 decides.
pub struct SkdTracks {
    pub exam: String,
    pub sections: Vec<String>,
    pub tracks: Vec<TrackLines>,
}

/// Stage 1 of a stored selection from the stored results of its SKD exam. Everything that
/// makes the results unusable is reported at once.
pub async fn skd_tracks(store: &Store, stored: &StoredSelection) -> anyhow::Result<SkdTracks> {
    let code = &stored.selection.skd().exam;
    let exam = store.get_exam(code).await?.ok_or_else(|| anyhow::anyhow!("exam {code} is not stored"))?;
    let summary = exam.exam.check(&exam.bank).map_err(|d| anyhow::anyhow!("stored exam {code} does not check: {d}"))?;
    let rules = SkdRules::new(&exam.exam, &summary);
    let options = Options { openings: None, multiplier: 1, provisional: false };
    let export = crate::results::export(store, Scope::Exam(code), options).await?;
    let sections: Vec<(SectionCode, Points)> =
        exam.exam.sections().iter().map(|s| (s.code.clone(), s.threshold)).collect();

    let mut sheets: BTreeMap<ParticipantNo, SkdSheet> = BTreeMap::new();
    let mut problems = Vec::new();
    for line in &export.lines {
        let Some(no) = ParticipantNo::parse(&line.participant_no) else { continue };
        // Candidates of the exam who did not apply to this selection sit it for another.
        if stored.applicants.get(&no).is_none() {
            continue;
        }
        let sheet = match line.code.as_str() {
            "TH" => continue,
            "DIS" => SkdSheet::Disqualified,
            _ => SkdSheet::Sat(Score {
                sections: sections
                    .iter()
                    .map(|(code, threshold)| {
                        let points = Points(line.scores.get(code.as_str()).copied().unwrap_or(0));
                        SectionScore { code: code.clone(), points, threshold: *threshold, passed: points >= *threshold }
                    })
                    .collect(),
                total: Points(line.total),
                passed: line.passed,
            }),
        };
        if sheets.insert(no.clone(), sheet).is_some() {
            problems.push(format!("{no}: sat exam {code} more than once (an applicant sits the SKD once)"));
        }
    }
    let result = stage_one(&stored.selection, &stored.applicants, &rules, &sheets).map_err(|errors| {
        problems.extend(errors.iter().map(ToString::to_string));
        anyhow::anyhow!("{}", problems.join("\n"))
    })?;
    if !problems.is_empty() {
        anyhow::bail!("{}", problems.join("\n"));
    }

    let mut tracks = Vec::new();
    for t in result.tracks {
        let Some(formation) = stored.selection.formation(t.formation.as_str()) else { continue };
        let Some(slot) = formation.track(t.track) else { continue };
        let thresholds = sections
            .iter()
            .map(|(code, exam_threshold)| (code.to_string(), slot.thresholds.get(code).unwrap_or(exam_threshold).0))
            .collect();
        let lines = t
            .lines
            .iter()
            .map(|l| Line {
                rank: l.rank,
                participant_no: l.participant.to_string(),
                name: stored.applicants.get(&l.participant).map(|a| a.name().to_owned()).unwrap_or_default(),
                scores: l
                    .score
                    .as_ref()
                    .map(|s| s.sections.iter().map(|(c, p)| (c.to_string(), p.0)).collect())
                    .unwrap_or_default(),
                total: l.score.as_ref().map(|s| s.total.0),
                code: l.code.as_str().to_owned(),
                below_threshold: l.below_threshold,
            })
            .collect();
        tracks.push(TrackLines {
            formation: t.formation.to_string(),
            position: formation.position().to_owned(),
            unit: formation.unit().to_owned(),
            track: t.track.as_str().to_owned(),
            openings: t.openings,
            quota: t.quota,
            thresholds,
            min_total: slot.min_total.map(|p| p.0),
            lines,
        });
    }
    Ok(SkdTracks { exam: code.clone(), sections: sections.iter().map(|(c, _)| c.to_string()).collect(), tracks })
}
