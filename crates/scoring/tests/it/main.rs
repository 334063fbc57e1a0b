//! Integration tests of scoring against the shipped SKD exam and the tiny fixture exam.

mod final_score;
mod incremental;
mod rank_props;
mod selection;
mod skd_rules;

use std::path::PathBuf;
use std::sync::LazyLock;

use item_bank::{Bank, Exam, ExamSummary, Item, Key, Label, SectionCode};
use scoring::{Answer, Score, score_sheet};

pub(crate) struct Fixture {
    pub(crate) exam: Exam,
    pub(crate) bank: Bank,
    pub(crate) summary: ExamSummary,
}

fn load(path: &str) -> Fixture {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    let (exam, bank, summary) = Exam::load(&p).unwrap_or_else(|e| panic!("{e}"));
    Fixture { exam, bank, summary }
}

pub(crate) static SKD: LazyLock<Fixture> = LazyLock::new(|| load("question-banks/exams/skd.toml"));
pub(crate) static TINY: LazyLock<Fixture> = LazyLock::new(|| load("crates/item-bank/tests/fixtures/tiny-exam.toml"));

/// One position of a paper.
#[derive(Clone, Copy)]
pub(crate) struct Slot<'a> {
    pub(crate) item: &'a Item,
    pub(crate) section: &'a SectionCode,
}

impl Fixture {
    /// The paper every test candidate sits: for each quota in exam order, the bank's first
    /// `count` items of its topics. Order does not change a score, so no shuffle is needed.
    pub(crate) fn paper(&self) -> Vec<Slot<'_>> {
        let mut out = Vec::new();
        for sec in self.exam.sections() {
            for q in &sec.draw {
                let items =
                    self.bank.items().iter().filter(|i| *i.section() == sec.code && q.topics.contains(i.topic()));
                out.extend(items.take(q.count as usize).map(|item| Slot { item, section: &sec.code }));
            }
        }
        out
    }

    pub(crate) fn score(&self, paper: &[Slot<'_>], choices: &[Option<Label>]) -> Score {
        score_sheet(
            &self.exam,
            paper.iter().zip(choices).map(|(s, c)| Answer { item: s.item, section: s.section, choice: *c }),
        )
    }
}

/// The option of `item` worth `points` (weighted items), the key (`Some(5)` on keyed items)
/// or a wrong option (`Some(0)`); `None` leaves it blank.
pub(crate) fn choose(item: &Item, points: Option<i64>) -> Option<Label> {
    let points = points?;
    let found = match item.key() {
        Key::Single(l) if points > 0 => Some(*l),
        Key::Single(l) => Label::from_index((l.index() + 1) % item.options().len()),
        Key::Weighted(w) => w.iter().position(|p| p.0 == points).and_then(Label::from_index),
    };
    Some(found.unwrap_or_else(|| panic!("item {} has no option worth {points}", item.id())))
}

/// An SKD sheet: TWK and TIU as (right, wrong) with the rest blank; TKP as how many
/// answers are worth 5, 4, 3, 2 and 1 point, the rest blank.
pub(crate) fn skd_choices(
    paper: &[Slot<'_>],
    twk: (usize, usize),
    tiu: (usize, usize),
    tkp: [usize; 5],
) -> Vec<Option<Label>> {
    let tkp: Vec<i64> = tkp.iter().zip([5, 4, 3, 2, 1]).flat_map(|(&n, p)| std::iter::repeat_n(p, n)).collect();
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    paper
        .iter()
        .map(|slot| {
            let at = seen.entry(slot.section.as_str()).or_default();
            let i = *at;
            *at += 1;
            let points = match slot.section.as_str() {
                "TWK" => keyed(twk, i),
                "TIU" => keyed(tiu, i),
                "TKP" => tkp.get(i).copied(),
                other => panic!("not an SKD section: {other}"),
            };
            choose(slot.item, points)
        })
        .collect()
}

fn keyed((right, wrong): (usize, usize), i: usize) -> Option<i64> {
    if i < right {
        Some(5)
    } else if i < right + wrong {
        Some(0)
    } else {
        None
    }
}

/// An SKD sheet in the terms of [`skd_choices`]: TWK (right, wrong), TIU (right, wrong),
/// TKP answers at 5, 4, 3, 2 and 1 point.
pub(crate) type SkdSheet = ((usize, usize), (usize, usize), [usize; 5]);

/// Scores an SKD sheet described as for [`skd_choices`].
pub(crate) fn skd_score(twk: (usize, usize), tiu: (usize, usize), tkp: [usize; 5]) -> Score {
    let paper = SKD.paper();
    SKD.score(&paper, &skd_choices(&paper, twk, tiu, tkp))
}
