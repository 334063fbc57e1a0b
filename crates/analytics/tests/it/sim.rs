//! Simulated sittings: items with a difficulty, a discrimination and distractors of
//! unequal pull, and candidates answering them by a two-parameter logistic model, each
//! independently of the others given their ability. Shared by the tests and the benchmark.

use analytics::{ItemInfo, Line, Sheet};
use item_bank::{ItemId, Key, Label, Points, SectionCode};
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{RngExt as _, SeedableRng as _};

pub(crate) struct SimItem {
    difficulty: f64,
    discrimination: f64,
    /// Relative pull of each option when the candidate does not know the answer.
    pull: Vec<f64>,
    /// The typical seconds a candidate spends on it.
    seconds: f64,
}

pub(crate) struct Exam {
    pub(crate) items: Vec<ItemInfo>,
    sim: Vec<SimItem>,
}

pub(crate) fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub(crate) fn normal(rng: &mut StdRng) -> f64 {
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

impl Exam {
    /// `single` single-keyed items in section TWK and `weighted` items in TKP, 5 options each.
    pub(crate) fn new(rng: &mut StdRng, single: usize, weighted: usize) -> Exam {
        let mut items = Vec::new();
        let mut sim = Vec::new();
        for i in 0..single + weighted {
            let is_single = i < single;
            let (key, section) = if is_single {
                (Key::Single(Label::from_index(rng.random_range(0..5)).expect("label")), "TWK")
            } else {
                let mut w: Vec<Points> = (1..=5).map(Points).collect();
                w.shuffle(rng);
                (Key::Weighted(w), "TKP")
            };
            let id = ItemId::new_unchecked(format!("{section}-{i:04}"));
            items.push(ItemInfo::new(id, SectionCode::new_unchecked(section), key, 5));
            sim.push(SimItem {
                difficulty: rng.random_range(-1.5..1.5),
                discrimination: rng.random_range(0.8..2.0),
                pull: (0..5).map(|_| rng.random_range(0.2..1.0)).collect(),
                seconds: rng.random_range(20.0..90.0),
            });
        }
        Exam { items, sim }
    }

    /// The option an honest candidate of `ability` picks on item `i`.
    pub(crate) fn pick(&self, rng: &mut StdRng, i: usize, ability: f64) -> Label {
        let s = &self.sim[i];
        let knows = 1.0 / (1.0 + (-1.7 * s.discrimination * (ability - s.difficulty)).exp());
        let right = (0..5).filter_map(Label::from_index).find(|&l| self.items[i].is_right(l)).expect("a right option");
        if rng.random::<f64>() < knows {
            return right;
        }
        let wrong: Vec<(Label, f64)> =
            (0..5).filter_map(Label::from_index).filter(|&l| l != right).map(|l| (l, s.pull[l.index()])).collect();
        let mut x = rng.random::<f64>() * wrong.iter().map(|(_, p)| p).sum::<f64>();
        for (l, p) in &wrong {
            if x < *p {
                return *l;
            }
            x -= p;
        }
        wrong[wrong.len() - 1].0
    }

    /// An honest candidate's sheet: `paper` answered in order from `start_ms`, omitting 2%,
    /// at a personal speed around each item's typical time; the ability is drawn from a
    /// standard normal unless given.
    pub(crate) fn sit(
        &self,
        rng: &mut StdRng,
        ability: Option<f64>,
        name: String,
        start_ms: i64,
        paper: Vec<usize>,
    ) -> Sheet {
        let drawn = normal(rng);
        let ability = ability.unwrap_or(drawn);
        let speed = (0.3 * normal(rng)).exp();
        let mut at = start_ms;
        let mut lines = Vec::new();
        for (position, &i) in paper.iter().enumerate() {
            at += (1000.0 * self.sim[i].seconds * speed * (0.4 * normal(rng)).exp()) as i64;
            if rng.random::<f64>() < 0.02 {
                continue;
            }
            lines.push(Line { at_ms: at, position, choice: Some(self.pick(rng, i, ability)) });
        }
        Sheet { candidate: name, start_ms, paper, lines }
    }

    /// A paper of every item, shuffled.
    pub(crate) fn full_paper(&self, rng: &mut StdRng) -> Vec<usize> {
        let mut paper: Vec<usize> = (0..self.items.len()).collect();
        paper.shuffle(rng);
        paper
    }
}

/// Makes `copier` take `source`'s final answer on exactly `share` of the items both hold
/// (chosen at random), keeping the time the copier answered them.
pub(crate) fn copy_answers(rng: &mut StdRng, source: &Sheet, copier: &mut Sheet, share: f64) {
    let final_of =
        |sheet: &Sheet, pos: usize| sheet.lines.iter().rev().find(|l| l.position == pos).and_then(|l| l.choice);
    let mut both: Vec<(usize, usize)> = copier
        .paper
        .iter()
        .enumerate()
        .filter_map(|(pos, i)| source.paper.iter().position(|j| j == i).map(|src| (pos, src)))
        .collect();
    both.shuffle(rng);
    both.truncate((share * both.len() as f64).round() as usize);
    for (pos, src_pos) in both {
        let choice = final_of(source, src_pos);
        let at_ms = copier.lines.iter().find(|l| l.position == pos).map_or(copier.start_ms, |l| l.at_ms);
        copier.lines.retain(|l| l.position != pos);
        copier.lines.push(Line { at_ms, position: pos, choice });
    }
    copier.lines.sort_by_key(|l| l.at_ms);
}
