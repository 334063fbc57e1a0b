//! The final ranking per formation and track: scoring's 40/60 final score and its
//! tie-breaks, openings filled in that order; and, as a separate step, who is eligible
//! for the optimisation of formations left unfilled.

use scoring::{FinalKey, FinalScore, Milli, ResultCode};
use thiserror::Error;

use crate::applicants::{Applicants, ParticipantNo};
use crate::definition::{FormationCode, Selection, Track};
use crate::skb::{Hold, SkbOutcome, SkbResult};
use crate::skd::{SkdResult, SkdRules};
use scoring::FinalError;

/// Why the final ranking cannot be made yet, or at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FinalRankingError {
    #[error("{participant} {component}: held, {hold}; the final ranking waits for it")]
    Held { participant: ParticipantNo, component: String, hold: Hold },
    #[error("{participant}: {error}")]
    Score { participant: ParticipantNo, error: FinalError },
}

/// How an applicant who went on from the SKD ends the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Within the openings in the final order.
    Appointed,
    /// Has a final score but ranks after the openings.
    NotAppointed,
    /// No final score: the SKB's code (TH, TL at a gate, DIS).
    NoScore(ResultCode),
}

/// One line of a track's final announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalLine {
    pub participant: ParticipantNo,
    pub score: Option<FinalScore>,
    /// SKB on 0..100, as it went into the final score.
    pub skb: Option<Milli>,
    /// Competition rank among those with a final score.
    pub rank: Option<usize>,
    pub outcome: Outcome,
    key: Option<FinalKey>,
}

/// The final announcement of one formation's track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalTrack {
    pub formation: FormationCode,
    pub track: Track,
    pub openings: u32,
    /// Ranked lines first (by final order, then participant number), then those without
    /// a score (by participant number).
    pub lines: Vec<FinalLine>,
    /// The applicants at the last opening and the first one after it are equal on every
    /// tie-break: the regulation's text for that case could not be confirmed, so ujian
    /// fills by participant number and raises this for the committee to decide.
    pub tie_at_last_opening: bool,
}

impl FinalTrack {
    pub fn appointed(&self) -> usize {
        self.lines.iter().filter(|l| l.outcome == Outcome::Appointed).count()
    }
    pub fn unfilled(&self) -> u32 {
        self.openings - self.appointed() as u32
    }
}

/// The final ranking of every track of every formation, in stage 1's order. Refused
/// while any SKB component is held.
pub fn final_ranking(
    selection: &Selection,
    applicants: &Applicants,
    rules: &SkdRules,
    skd: &SkdResult,
    skb: &SkbResult,
) -> Result<Vec<FinalTrack>, Vec<FinalRankingError>> {
    let mut errors: Vec<FinalRankingError> = skb
        .held()
        .into_iter()
        .map(|(p, c, h)| FinalRankingError::Held { participant: p.clone(), component: c.to_string(), hold: h.clone() })
        .collect();
    let mut out = Vec::new();
    for t in &skd.tracks {
        let mut scored = Vec::new();
        let mut unscored = Vec::new();
        for l in t.going_on() {
            let p = &l.participant;
            let (Some(applicant), Some(skd_score)) = (applicants.get(p), &l.score) else {
                // Going on without a sheet cannot happen: select gives P/L only to those who sat.
                continue;
            };
            match skb.outcome(p) {
                Some(SkbOutcome::Scored { skb: skb_score, .. }) => {
                    match FinalScore::compute(selection.weights(), skd_score.total, rules.max(), *skb_score) {
                        Ok(score) => {
                            let key =
                                FinalKey::new(&score, skd_score.key.clone(), applicant.education(), applicant.born());
                            scored.push((key, p.clone(), score, *skb_score));
                        }
                        Err(error) => errors.push(FinalRankingError::Score { participant: p.clone(), error }),
                    }
                }
                Some(o) => {
                    if let Some(code) = o.code() {
                        unscored.push((p.clone(), code));
                    }
                }
                None => unscored.push((p.clone(), ResultCode::TH)),
            }
        }
        scored.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        unscored.sort_by(|a, b| a.0.cmp(&b.0));
        let openings = t.openings as usize;
        let tie_at_last_opening =
            openings > 0 && scored.len() > openings && scored[openings - 1].0 == scored[openings].0;
        let mut lines = Vec::with_capacity(scored.len() + unscored.len());
        let mut rank = 0;
        for (i, (key, participant, score, skb_score)) in scored.iter().enumerate() {
            if i == 0 || scored[i - 1].0 != *key {
                rank = i + 1;
            }
            lines.push(FinalLine {
                participant: participant.clone(),
                score: Some(*score),
                skb: Some(*skb_score),
                rank: Some(rank),
                outcome: if i < openings { Outcome::Appointed } else { Outcome::NotAppointed },
                key: Some(key.clone()),
            });
        }
        lines.extend(unscored.into_iter().map(|(participant, code)| FinalLine {
            participant,
            score: None,
            skb: None,
            rank: None,
            outcome: Outcome::NoScore(code),
            key: None,
        }));
        out.push(FinalTrack {
            formation: t.formation.clone(),
            track: t.track,
            openings: t.openings,
            lines,
            tie_at_last_opening,
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// An applicant who may fill an opening left in another formation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptimisationCandidate {
    pub participant: ParticipantNo,
    /// The formation they applied to and were not appointed in.
    pub from: FormationCode,
    pub score: FinalScore,
}

/// A track with unfilled openings and who is eligible to fill them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vacancy {
    pub formation: FormationCode,
    pub track: Track,
    pub unfilled: u32,
    /// In the final order across their formations (final score, then its tie-breaks).
    pub candidates: Vec<OptimisationCandidate>,
}

/// For every track left with openings after the final ranking, who may fill them, as the
/// optimisation was reported for the 2019 intake (see docs/selection.md): applicants with
/// a final score who were not appointed, who applied for the same position with the same
/// education requirement, and who meet the SKD thresholds of the vacant track; from the
/// same track in another unit, and for a special track also from the general track of
/// any unit. In final order across their formations. The committee decides; this lists.
pub fn optimisation(selection: &Selection, rules: &SkdRules, skd: &SkdResult, finals: &[FinalTrack]) -> Vec<Vacancy> {
    let formation = |code: &FormationCode| selection.formation(code.as_str());
    let mut out = Vec::new();
    for t in finals.iter().filter(|t| t.unfilled() > 0) {
        let (Some(vacant), Some(slot)) =
            (formation(&t.formation), formation(&t.formation).and_then(|f| f.track(t.track)))
        else {
            continue;
        };
        let mut pool: Vec<(&FinalKey, OptimisationCandidate)> = Vec::new();
        for o in finals {
            let Some(from) = formation(&o.formation) else { continue };
            let same_job = from.position() == vacant.position() && from.education() == vacant.education();
            let same_track_elsewhere = o.track == t.track && from.unit() != vacant.unit();
            let general_to_special = t.track != Track::General && o.track == Track::General;
            if !same_job || !(same_track_elsewhere || general_to_special) {
                continue;
            }
            for l in o.lines.iter().filter(|l| l.outcome == Outcome::NotAppointed) {
                let meets = skd
                    .line(&l.participant)
                    .and_then(|(_, s)| s.score.as_ref())
                    .is_some_and(|s| rules.passed(slot, &s.sections));
                if let (Some(key), Some(score), true) = (l.key.as_ref(), l.score, meets) {
                    let c =
                        OptimisationCandidate { participant: l.participant.clone(), from: o.formation.clone(), score };
                    pool.push((key, c));
                }
            }
        }
        pool.sort_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.participant.cmp(&b.1.participant)));
        out.push(Vacancy {
            formation: t.formation.clone(),
            track: t.track,
            unfilled: t.unfilled(),
            candidates: pool.into_iter().map(|(_, c)| c).collect(),
        });
    }
    out
}
