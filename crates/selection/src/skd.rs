//! Stage 1: every applicant's SKD result turned into the formation's announcement, per
//! formation and track, with scoring's multiplier cut.

use std::collections::BTreeMap;

use item_bank::{Exam, ExamSummary, Points, SectionCode};
use scoring::{Candidate, RankKey, ResultCode, Score, Standing, select};
use thiserror::Error;

use crate::applicants::{Applicants, ParticipantNo};
use crate::definition::{FormationCode, Selection, Shortfall, Track, TrackSlot};

/// What stage 1 needs of the SKD exam: its sections with their thresholds, the
/// tie-break order and the maximum (for the final score).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkdRules {
    code: String,
    sections: Vec<(SectionCode, Points)>,
    tie_break: Vec<SectionCode>,
    max: Points,
}

impl SkdRules {
    /// The rules of a checked exam (`Exam::check` gives the summary with each section's maximum).
    pub fn new(exam: &Exam, summary: &ExamSummary) -> SkdRules {
        SkdRules {
            code: exam.code().to_owned(),
            sections: exam.sections().iter().map(|s| (s.code.clone(), s.threshold)).collect(),
            tie_break: exam.tie_break().to_vec(),
            max: summary.sections.iter().map(|s| s.max_points).sum(),
        }
    }
    pub fn code(&self) -> &str {
        &self.code
    }
    /// The most a sheet can score: the final score's `skd_max`.
    pub fn max(&self) -> Points {
        self.max
    }
    pub fn tie_break(&self) -> &[SectionCode] {
        &self.tie_break
    }

    /// The ranking key of section points, the board's order.
    pub fn key(&self, sections: &[(SectionCode, Points)]) -> RankKey {
        let total: i64 = sections.iter().map(|(_, p)| p.0).sum();
        let parts: Vec<i64> = self
            .tie_break
            .iter()
            .map(|code| sections.iter().find(|(c, _)| c == code).map_or(0, |(_, p)| p.0))
            .collect();
        RankKey::from_parts(total, &parts)
    }

    /// Whether every section meets its threshold (a track's own threshold where it has
    /// one) and the total meets the track's minimum, if it has one.
    pub fn passed(&self, slot: &TrackSlot, sections: &[(SectionCode, Points)]) -> bool {
        let total: Points = sections.iter().map(|(_, p)| *p).sum();
        slot.min_total.is_none_or(|m| total >= m)
            && self.sections.iter().all(|(code, exam_threshold)| {
                let threshold = slot.thresholds.get(code).unwrap_or(exam_threshold);
                sections.iter().find(|(c, _)| c == code).is_some_and(|(_, p)| p >= threshold)
            })
    }
}

/// An applicant's SKD as the exam ended for them. An applicant with no sheet did not sit
/// it (TH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkdSheet {
    Sat(Score),
    Disqualified,
}

/// A sheet that stage 1 cannot use.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SkdError {
    #[error("{0}: not an applicant of this selection")]
    UnknownParticipant(ParticipantNo),
    #[error("{participant}: the sheet's sections ({got}) are not the exam's ({expected})")]
    Sections { participant: ParticipantNo, got: String, expected: String },
    #[error("the selection's SKD is exam {selection}, the results are of exam {exam}")]
    Exam { selection: String, exam: String },
    #[error(
        "formation {formation} track {track}: a threshold names section {section}, which exam {exam} does not have"
    )]
    ThresholdSection { formation: FormationCode, track: Track, section: SectionCode, exam: String },
}

/// An applicant's SKD numbers, for the announcement and the final tie-breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkdScore {
    pub sections: Vec<(SectionCode, Points)>,
    pub total: Points,
    pub key: RankKey,
}

/// One line of a track's SKD announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkdLine {
    pub participant: ParticipantNo,
    pub code: ResultCode,
    /// Competition rank among those who go on or passed; `None` otherwise.
    pub rank: Option<usize>,
    pub score: Option<SkdScore>,
    /// Goes on (P/L) though below a threshold: a place left by too few passers, given by
    /// the selection's `shortfall = "fill_by_total"`.
    pub below_threshold: bool,
}

/// The SKD announcement of one formation's track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkdTrack {
    pub formation: FormationCode,
    pub track: Track,
    pub openings: u32,
    /// `multiplier × openings`: the places in the SKB before ties at the cut.
    pub quota: u64,
    pub lines: Vec<SkdLine>,
}

impl SkdTrack {
    /// Those who go on to the SKB.
    pub fn going_on(&self) -> impl Iterator<Item = &SkdLine> {
        self.lines.iter().filter(|l| l.code == ResultCode::PL)
    }
}

/// Stage 1 for the whole selection: every formation's tracks in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkdResult {
    pub tracks: Vec<SkdTrack>,
}

impl SkdResult {
    pub fn line(&self, participant: &ParticipantNo) -> Option<(&SkdTrack, &SkdLine)> {
        self.tracks.iter().find_map(|t| t.lines.iter().find(|l| l.participant == *participant).map(|l| (t, l)))
    }
}

/// Decides every applicant's SKD code: per formation and track, those who met every
/// threshold (the track's own where it has one) ranked by the exam's order, the first
/// `multiplier × openings` P/L with every tie at the cut, the other passers P, then TL,
/// TH (no sheet) and DIS. Every unusable sheet is reported at once.
pub fn stage_one(
    selection: &Selection,
    applicants: &Applicants,
    rules: &SkdRules,
    sheets: &BTreeMap<ParticipantNo, SkdSheet>,
) -> Result<SkdResult, Vec<SkdError>> {
    let mut errors = Vec::new();
    if selection.skd().exam != rules.code {
        errors.push(SkdError::Exam { selection: selection.skd().exam.clone(), exam: rules.code.clone() });
    }
    let expected: Vec<&SectionCode> = rules.sections.iter().map(|(c, _)| c).collect();
    for formation in selection.formations() {
        for slot in formation.tracks() {
            for section in slot.thresholds.keys().filter(|s| !expected.contains(s)) {
                errors.push(SkdError::ThresholdSection {
                    formation: formation.code().clone(),
                    track: slot.track,
                    section: section.clone(),
                    exam: rules.code.clone(),
                });
            }
        }
    }
    for (participant, sheet) in sheets {
        if applicants.get(participant).is_none() {
            errors.push(SkdError::UnknownParticipant(participant.clone()));
            continue;
        }
        if let SkdSheet::Sat(score) = sheet {
            let got: Vec<&SectionCode> = score.sections.iter().map(|s| &s.code).collect();
            if got != expected {
                errors.push(SkdError::Sections {
                    participant: participant.clone(),
                    got: join(&got),
                    expected: join(&expected),
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let multiplier = selection.skd().multiplier;
    let mut tracks = Vec::new();
    for formation in selection.formations() {
        for slot in formation.tracks() {
            let mut scores: BTreeMap<ParticipantNo, SkdScore> = BTreeMap::new();
            let mut candidates = Vec::new();
            for a in applicants.of(formation.code(), slot.track) {
                let id = a.participant().clone();
                let standing = match sheets.get(&id) {
                    None => Standing::Absent,
                    Some(SkdSheet::Disqualified) => Standing::Disqualified,
                    Some(SkdSheet::Sat(score)) => {
                        let sections: Vec<(SectionCode, Points)> =
                            score.sections.iter().map(|s| (s.code.clone(), s.points)).collect();
                        let key = rules.key(&sections);
                        let passed = rules.passed(slot, &sections);
                        scores.insert(id.clone(), SkdScore { sections, total: score.total, key: key.clone() });
                        Standing::Sat { key, passed }
                    }
                };
                candidates.push(Candidate { id, standing });
            }
            let fill = selection.skd().shortfall == Shortfall::FillByTotal;
            let lines = cut(candidates, slot.openings, multiplier, fill)
                .into_iter()
                .map(|(s, below_threshold)| SkdLine {
                    score: scores.remove(&s.id),
                    participant: s.id,
                    code: s.code,
                    rank: s.rank,
                    below_threshold,
                })
                .collect();
            tracks.push(SkdTrack {
                formation: formation.code().clone(),
                track: slot.track,
                openings: slot.openings,
                quota: u64::from(slot.openings) * u64::from(multiplier),
                lines,
            });
        }
    }
    Ok(SkdResult { tracks })
}

/// scoring's cut, and for `fill_by_total` the places the passers left given to those
/// below a threshold by the same order, ties at the cut all through. The flag marks them.
fn cut(
    candidates: Vec<Candidate<ParticipantNo>>,
    openings: u32,
    multiplier: u32,
    fill: bool,
) -> Vec<(scoring::Selected<ParticipantNo>, bool)> {
    let below: Vec<Candidate<ParticipantNo>> = candidates
        .iter()
        .filter_map(|c| match &c.standing {
            Standing::Sat { key, passed: false } => {
                Some(Candidate { id: c.id.clone(), standing: Standing::Sat { key: key.clone(), passed: true } })
            }
            _ => None,
        })
        .collect();
    let lines = select(candidates, openings, multiplier);
    let quota = u64::from(openings) * u64::from(multiplier);
    let going_on = lines.iter().filter(|l| l.code == ResultCode::PL).count() as u64;
    if !fill || going_on >= quota || below.is_empty() {
        return lines.into_iter().map(|l| (l, false)).collect();
    }
    // The rest of the quota, as a cut of its own among those below a threshold.
    let rest = u32::try_from(quota - going_on).unwrap_or(u32::MAX);
    let passers = lines.iter().filter(|l| l.rank.is_some()).count();
    let filled: BTreeMap<ParticipantNo, usize> = select(below, rest, 1)
        .into_iter()
        .filter(|s| s.code == ResultCode::PL)
        .filter_map(|s| s.rank.map(|r| (s.id, passers + r)))
        .collect();
    let (mut ranked, mut others): (Vec<_>, Vec<_>) = lines.into_iter().partition(|l| l.rank.is_some());
    // Those filled keep the TL order among themselves, which is the key order.
    let mut moved = Vec::new();
    others.retain(|l| {
        if let Some(&rank) = filled.get(&l.id) {
            moved.push(scoring::Selected { id: l.id.clone(), code: ResultCode::PL, rank: Some(rank) });
            false
        } else {
            true
        }
    });
    ranked.extend(moved.iter().cloned());
    let mut out: Vec<_> = ranked
        .into_iter()
        .map(|l| {
            let below = filled.contains_key(&l.id);
            (l, below)
        })
        .collect();
    out.extend(others.into_iter().map(|l| (l, false)));
    out
}

fn join(codes: &[&SectionCode]) -> String {
    codes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}
