//! A board kept up to date answer by answer equals one recomputed from scratch at the end.

use item_bank::Label;
use proptest::prelude::*;
use proptest::sample::Index;
use scoring::{RankIndex, RankKey};

use crate::{Fixture, SKD, TINY};

#[derive(Debug, Clone)]
enum Step {
    /// Sets (or with `None` clears) the answer at a position of the paper.
    Answer {
        who: usize,
        at: Index,
        choice: Option<Index>,
    },
    Finish {
        who: usize,
    },
}

fn steps(candidates: usize, max: usize) -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        12 => (0..candidates, any::<Index>(), prop::option::weighted(0.85, any::<Index>()))
            .prop_map(|(who, at, choice)| Step::Answer { who, at, choice }),
        1 => (0..candidates).prop_map(|who| Step::Finish { who }),
    ];
    prop::collection::vec(step, 0..max)
}

/// One candidate's seat as the live side keeps it: answers, and section points kept by
/// adding each change's difference rather than rescoring the sheet.
struct Seat {
    choices: Vec<Option<Label>>,
    points: Vec<i64>,
    finished: bool,
}

fn simulate(fx: &Fixture, candidates: usize, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let exam = &fx.exam;
    let sections = exam.sections();
    let paper = fx.paper();
    let section_of: Vec<usize> = paper
        .iter()
        .map(|slot| sections.iter().position(|s| s.code == *slot.section).expect("a section of the exam"))
        .collect();
    let tie_break: Vec<usize> = exam
        .tie_break()
        .iter()
        .map(|c| sections.iter().position(|s| s.code == *c).expect("a section of the exam"))
        .collect();
    let key = |points: &[i64]| {
        let parts: Vec<i64> = tie_break.iter().map(|&i| points[i]).collect();
        RankKey::from_parts(points.iter().sum(), &parts)
    };
    let mut blank = vec![0; sections.len()];
    for (slot, &s) in paper.iter().zip(&section_of) {
        blank[s] += sections[s].scoring.points(slot.item, None).0;
    }
    let mut seats: Vec<Seat> = (0..candidates)
        .map(|_| Seat { choices: vec![None; paper.len()], points: blank.clone(), finished: false })
        .collect();
    let mut board = RankIndex::new();

    for step in steps {
        let who = match step {
            Step::Answer { who, at, choice } => {
                let seat = &mut seats[who];
                if seat.finished {
                    continue; // refused: the sheet is closed
                }
                let i = at.index(paper.len());
                let item = paper[i].item;
                let choice = choice.map(|c| Label::from_index(c.index(item.options().len())).expect("a label"));
                let rule = &sections[section_of[i]].scoring;
                seat.points[section_of[i]] += rule.points(item, choice).0 - rule.points(item, seat.choices[i]).0;
                seat.choices[i] = choice;
                who
            }
            Step::Finish { who } => {
                seats[who].finished = true;
                who
            }
        };
        board.upsert(who, key(&seats[who].points));
        let fresh = fx.score(&paper, &seats[who].choices);
        prop_assert_eq!(board.key_of(&who), Some(&RankKey::of(exam, &fresh)));
    }

    // From scratch: score every sheet on the board again and sort.
    let mut expected: Vec<(RankKey, usize)> = Vec::new();
    for (who, seat) in seats.iter().enumerate().filter(|(who, _)| board.key_of(who).is_some()) {
        let score = fx.score(&paper, &seat.choices);
        let points: Vec<i64> = score.sections.iter().map(|s| s.points.0).collect();
        prop_assert_eq!(&seat.points, &points, "section points of {}", who);
        let passed = sections.iter().zip(&seat.points).all(|(s, p)| *p >= s.threshold.0);
        prop_assert_eq!(passed, score.passed, "pass of {}", who);
        expected.push((RankKey::of(exam, &score), who));
    }
    expected.sort();
    let live: Vec<(RankKey, usize)> = board.page(0, board.len()).into_iter().map(|(i, k)| (k.clone(), *i)).collect();
    prop_assert_eq!(&live, &expected);
    for (key, who) in &expected {
        let rank = expected.iter().filter(|(k, _)| k < key).count() + 1;
        prop_assert_eq!(board.rank(who), Some(rank), "rank of {}", who);
    }
    Ok(())
}

proptest! {
    #[test]
    fn a_live_board_of_the_tiny_exam_equals_a_recomputed_one(steps in steps(6, 80)) {
        simulate(&TINY, 6, steps)?;
    }

    #[test]
    fn a_live_board_of_the_skd_exam_equals_a_recomputed_one(steps in steps(5, 400)) {
        simulate(&SKD, 5, steps)?;
    }
}
