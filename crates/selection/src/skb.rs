//! Stage 2: the SKB of those who go on, each component normalised to 0..100 and weighed
//! into one SKB score in exact thousandths; assessed components by two assessors, held
//! when they disagree by more than the rubric's tolerance.

use std::collections::{BTreeMap, BTreeSet};

use item_bank::Points;
use scoring::{Milli, ResultCode};
use thiserror::Error;

use crate::applicants::ParticipantNo;
use crate::definition::{Component, ComponentId, ComponentRule, FormationCode, Rubric, Selection, Track};
use crate::skd::SkdResult;

/// One assessor's scores for one applicant's component, one per rubric criterion, in
/// the rubric's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessorScore {
    pub assessor: String,
    pub criteria: Vec<i64>,
}

/// How a held component was settled by the committee without a third assessor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// The agreed scores, one per criterion.
    pub criteria: Vec<i64>,
    /// Who settled it and why: part of the announcement's record.
    pub by: String,
    pub reason: String,
}

/// What was recorded for one applicant's component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentInput {
    /// The SKB-CAT exam's total.
    Cat(Points),
    /// Assessors' scores (two, or three when a third was called), and a reconciliation
    /// where the committee settled a disagreement instead.
    Assessed { scores: Vec<AssessorScore>, reconciliation: Option<Reconciliation> },
    /// A pass/fail component's outcome.
    PassFail(bool),
    /// Did not take the component.
    Absent,
}

/// One applicant's SKB record. A component not recorded counts as absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SkbSheet {
    pub components: BTreeMap<ComponentId, ComponentInput>,
    pub disqualified: bool,
}

/// A record stage 2 cannot use. Every one is reported at once.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SkbError {
    #[error("{0}: did not go on from the SKD (only P/L applicants sit the SKB)")]
    NotEligible(ParticipantNo),
    #[error("{participant}: the selection has no SKB component {component}")]
    UnknownComponent { participant: ParticipantNo, component: ComponentId },
    #[error("{participant} {component}: a {expected} component cannot take this record")]
    WrongKind { participant: ParticipantNo, component: ComponentId, expected: &'static str },
    #[error("{participant} {component}: CAT total {points} is outside 0..={max}")]
    CatOutOfRange { participant: ParticipantNo, component: ComponentId, points: Points, max: i64 },
    #[error("{participant} {component} {by}: {got} criterion scores for a rubric of {expected}")]
    CriteriaCount { participant: ParticipantNo, component: ComponentId, by: String, got: usize, expected: usize },
    #[error("{participant} {component} {by}: {criterion} score {score} is outside the rubric's {min}..={max}")]
    ScoreOutOfRange {
        participant: ParticipantNo,
        component: ComponentId,
        by: String,
        criterion: String,
        score: i64,
        min: i64,
        max: i64,
    },
    #[error("{participant} {component}: assessor {assessor} scored twice")]
    SameAssessor { participant: ParticipantNo, component: ComponentId, assessor: String },
    #[error("{participant} {component}: {got} assessor scores (one or two, a third only when the first two disagree)")]
    Assessors { participant: ParticipantNo, component: ComponentId, got: usize },
    #[error("{participant} {component}: a reconciliation settles only a held component (two scores that disagree)")]
    NothingToReconcile { participant: ParticipantNo, component: ComponentId },
    #[error("{participant} {component}: a reconciliation needs who settled it and a reason")]
    ReconciliationReason { participant: ParticipantNo, component: ComponentId },
}

/// Why an assessed component has no score yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// One assessor has scored; the second has not.
    AwaitingSecond,
    /// The two sums differ by more than the rubric's tolerance: a third assessor or a
    /// reconciliation settles it.
    Disagreement { first: i64, second: i64, tolerance: i64 },
}

impl std::fmt::Display for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hold::AwaitingSecond => f.write_str("awaiting the second assessor"),
            Hold::Disagreement { first, second, tolerance } => write!(
                f,
                "assessors' sums {first} and {second} differ by more than {tolerance}: a third assessor or a reconciliation settles it"
            ),
        }
    }
}

/// One applicant's SKB outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkbOutcome {
    /// Every component in: each weighed component's 0..100 score, and the SKB score.
    Scored {
        parts: Vec<(ComponentId, Milli)>,
        skb: Milli,
    },
    /// Some assessed component is not settled; no SKB score yet.
    Held(Vec<(ComponentId, Hold)>),
    /// Absent from a component (or from the whole SKB): TH.
    Absent(Option<ComponentId>),
    /// Failed a pass/fail component: TL.
    Failed(ComponentId),
    Disqualified,
}

impl SkbOutcome {
    /// The announcement's code for those who have no score; `None` for a score or a hold.
    pub fn code(&self) -> Option<ResultCode> {
        match self {
            SkbOutcome::Scored { .. } | SkbOutcome::Held(_) => None,
            SkbOutcome::Absent(_) => Some(ResultCode::TH),
            SkbOutcome::Failed(_) => Some(ResultCode::TL),
            SkbOutcome::Disqualified => Some(ResultCode::DIS),
        }
    }
}

/// Stage 2 for one formation's track: every applicant who went on, by participant number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkbTrack {
    pub formation: FormationCode,
    pub track: Track,
    pub outcomes: BTreeMap<ParticipantNo, SkbOutcome>,
}

/// Stage 2 for the whole selection, in the order of stage 1's tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkbResult {
    pub tracks: Vec<SkbTrack>,
}

impl SkbResult {
    pub fn outcome(&self, participant: &ParticipantNo) -> Option<&SkbOutcome> {
        self.tracks.iter().find_map(|t| t.outcomes.get(participant))
    }
    /// Every held component, for the committee's list of what is outstanding.
    pub fn held(&self) -> Vec<(&ParticipantNo, &ComponentId, &Hold)> {
        self.tracks
            .iter()
            .flat_map(|t| t.outcomes.iter())
            .flat_map(|(p, o)| match o {
                SkbOutcome::Held(h) => h.iter().map(|(c, hold)| (p, c, hold)).collect(),
                _ => Vec::new(),
            })
            .collect()
    }
}

/// Scores the SKB of every applicant who went on (P/L) from the SKD. Records of anyone
/// else, and every record that does not fit its component, are refused all at once.
pub fn stage_two(
    selection: &Selection,
    skd: &SkdResult,
    sheets: &BTreeMap<ParticipantNo, SkbSheet>,
) -> Result<SkbResult, Vec<SkbError>> {
    let eligible: BTreeSet<&ParticipantNo> =
        skd.tracks.iter().flat_map(|t| t.going_on()).map(|l| &l.participant).collect();
    let mut errors = Vec::new();
    for (participant, sheet) in sheets {
        if !eligible.contains(participant) {
            errors.push(SkbError::NotEligible(participant.clone()));
            continue;
        }
        for (id, input) in &sheet.components {
            match selection.component(id.as_str()) {
                None => {
                    errors.push(SkbError::UnknownComponent { participant: participant.clone(), component: id.clone() })
                }
                Some(c) => check(participant, c, input, &mut errors),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let tracks = skd
        .tracks
        .iter()
        .map(|t| SkbTrack {
            formation: t.formation.clone(),
            track: t.track,
            outcomes: t
                .going_on()
                .map(|l| {
                    let outcome = match sheets.get(&l.participant) {
                        None => SkbOutcome::Absent(None),
                        Some(sheet) => outcome(selection.skb(), sheet),
                    };
                    (l.participant.clone(), outcome)
                })
                .collect(),
        })
        .collect();
    Ok(SkbResult { tracks })
}

fn check(participant: &ParticipantNo, c: &Component, input: &ComponentInput, errors: &mut Vec<SkbError>) {
    let wrong =
        |expected| SkbError::WrongKind { participant: participant.clone(), component: c.id().clone(), expected };
    match (c.rule(), input) {
        (_, ComponentInput::Absent) => {}
        (ComponentRule::Cat { raw_max, .. }, ComponentInput::Cat(points)) => {
            if !(0..=*raw_max).contains(&points.0) {
                errors.push(SkbError::CatOutOfRange {
                    participant: participant.clone(),
                    component: c.id().clone(),
                    points: *points,
                    max: *raw_max,
                });
            }
        }
        (ComponentRule::Assessed { rubric, .. }, ComponentInput::Assessed { scores, reconciliation }) => {
            let id = || c.id().clone();
            let mut names = BTreeSet::new();
            for s in scores {
                if !names.insert(s.assessor.as_str()) {
                    errors.push(SkbError::SameAssessor {
                        participant: participant.clone(),
                        component: id(),
                        assessor: s.assessor.clone(),
                    });
                }
                in_range(participant, c.id(), &s.assessor, rubric, &s.criteria, errors);
            }
            let sums: Vec<i64> = scores.iter().map(|s| s.criteria.iter().sum()).collect();
            let disagree = sums.len() >= 2 && (sums[0] - sums[1]).abs() > rubric.tolerance();
            if scores.is_empty() || scores.len() > 3 || (scores.len() == 3 && !disagree) {
                errors.push(SkbError::Assessors {
                    participant: participant.clone(),
                    component: id(),
                    got: scores.len(),
                });
            }
            if let Some(r) = reconciliation {
                if !disagree || scores.len() != 2 {
                    errors.push(SkbError::NothingToReconcile { participant: participant.clone(), component: id() });
                }
                if r.reason.trim().is_empty() || r.by.trim().is_empty() {
                    errors.push(SkbError::ReconciliationReason { participant: participant.clone(), component: id() });
                }
                in_range(participant, c.id(), "reconciliation", rubric, &r.criteria, errors);
            }
        }
        (ComponentRule::PassFail, ComponentInput::PassFail(_)) => {}
        (ComponentRule::Cat { .. }, _) => errors.push(wrong("cat")),
        (ComponentRule::Assessed { .. }, _) => errors.push(wrong("assessed")),
        (ComponentRule::PassFail, _) => errors.push(wrong("pass/fail")),
    }
}

fn in_range(
    participant: &ParticipantNo,
    component: &ComponentId,
    by: &str,
    rubric: &Rubric,
    criteria: &[i64],
    errors: &mut Vec<SkbError>,
) {
    if criteria.len() != rubric.criteria().len() {
        errors.push(SkbError::CriteriaCount {
            participant: participant.clone(),
            component: component.clone(),
            by: by.to_owned(),
            got: criteria.len(),
            expected: rubric.criteria().len(),
        });
        return;
    }
    for (k, &score) in rubric.criteria().iter().zip(criteria) {
        if !(k.min..=k.max).contains(&score) {
            errors.push(SkbError::ScoreOutOfRange {
                participant: participant.clone(),
                component: component.clone(),
                by: by.to_owned(),
                criterion: k.id.clone(),
                score,
                min: k.min,
                max: k.max,
            });
        }
    }
}

/// `n / d` to the nearest integer, halves up, for non-negative `n` and positive `d`.
fn round_div(n: i128, d: i128) -> i64 {
    ((2 * n + d) / (2 * d)) as i64
}

/// One checked applicant's outcome. Disqualification comes first, then absence from any
/// component, then a failed gate, then holds; only a sheet with none of these is scored.
fn outcome(components: &[Component], sheet: &SkbSheet) -> SkbOutcome {
    if sheet.disqualified {
        return SkbOutcome::Disqualified;
    }
    let absent = ComponentInput::Absent;
    let input = |c: &Component| sheet.components.get(c.id()).unwrap_or(&absent);
    if let Some(c) = components.iter().find(|c| *input(c) == ComponentInput::Absent) {
        return SkbOutcome::Absent(Some(c.id().clone()));
    }
    if let Some(c) = components.iter().find(|c| *input(c) == ComponentInput::PassFail(false)) {
        return SkbOutcome::Failed(c.id().clone());
    }
    let mut parts = Vec::new();
    let mut held = Vec::new();
    for c in components {
        match (c.rule(), input(c)) {
            (ComponentRule::Cat { raw_max, .. }, ComponentInput::Cat(points)) => {
                parts.push((c.id().clone(), Milli(round_div(i128::from(points.0) * 100_000, i128::from(*raw_max)))));
            }
            (ComponentRule::Assessed { rubric, .. }, ComponentInput::Assessed { scores, reconciliation }) => {
                match assessed(rubric, scores, reconciliation.as_ref()) {
                    Ok(m) => parts.push((c.id().clone(), m)),
                    Err(h) => held.push((c.id().clone(), h)),
                }
            }
            _ => {}
        }
    }
    if !held.is_empty() {
        return SkbOutcome::Held(held);
    }
    let weighted: i128 = components
        .iter()
        .filter_map(|c| {
            parts.iter().find(|(id, _)| id == c.id()).map(|(_, m)| i128::from(m.0) * i128::from(c.weight()))
        })
        .sum();
    SkbOutcome::Scored { parts, skb: Milli(round_div(weighted, 100)) }
}

/// An assessed component on 0..100: the mean of two agreeing sums; with a third
/// assessor, the median of the three; a reconciliation's sum as agreed.
fn assessed(rubric: &Rubric, scores: &[AssessorScore], reconciliation: Option<&Reconciliation>) -> Result<Milli, Hold> {
    let max = i128::from(rubric.max());
    let sums: Vec<i64> = scores.iter().map(|s| s.criteria.iter().sum()).collect();
    let on_scale = |twice: i64| Milli(round_div(i128::from(twice) * 100_000, 2 * max));
    match sums.as_slice() {
        [_] => Err(Hold::AwaitingSecond),
        [a, b] if (a - b).abs() <= rubric.tolerance() => Ok(on_scale(a + b)),
        [a, b] => match reconciliation {
            Some(r) => Ok(on_scale(2 * r.criteria.iter().sum::<i64>())),
            None => Err(Hold::Disagreement { first: *a, second: *b, tolerance: rubric.tolerance() }),
        },
        [a, b, c] => {
            let mut v = [*a, *b, *c];
            v.sort_unstable();
            Ok(on_scale(2 * v[1]))
        }
        _ => Err(Hold::AwaitingSecond),
    }
}
