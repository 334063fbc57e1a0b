//! Answer similarity between the candidates of a room: pairs who chose the same options far
//! more often than candidates of their scores do independently.
//!
//! For a pair, on the items both answered, each of b's answers matches a's under
//! independence with the chance that candidates of b's score group pick a's option (so two
//! strong candidates agreeing on keys is expected). The counts of identical answers, and of
//! identical answers on the items a got wrong, then have Poisson-binomial distributions;
//! their upper tails, both ways round, give the pair's p-value, compared with
//! `alpha / pairs` (Bonferroni), so the chance of any false flag in a room is at most
//! `alpha`.

use item_bank::Label;

use crate::input::{ItemInfo, Sheet};
use crate::stats::poisson_binomial_tail;

/// How the similarity test is run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilarityOptions {
    /// The chance, for one room of honest candidates, of flagging any pair at all.
    pub alpha: f64,
    /// Candidates per score group that popularity is counted in (quantiles of the exam's
    /// scores): small enough that a group's abilities are alike, large enough that its
    /// shares are well estimated. At most [`MAX_GROUPS`] groups are made.
    pub group_size: usize,
    /// Pairs who both answered fewer shared items than this are not judged.
    pub min_compared: usize,
}

impl Default for SimilarityOptions {
    fn default() -> SimilarityOptions {
        SimilarityOptions { alpha: 0.001, group_size: 50, min_compared: 20 }
    }
}

/// The evidence on one improbable pair.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarPair {
    /// Indexes into the sheets given.
    pub a: usize,
    pub b: usize,
    /// Items both papers held.
    pub shared: usize,
    /// Shared items both answered: the items compared.
    pub compared: usize,
    pub identical: usize,
    /// Identical answers that were not the key (or not a top weight).
    pub identical_wrong: usize,
    /// The candidate (`a` or `b`) whose answers the other's are most improbably close to;
    /// the figures below are for that direction. It does not say who copied.
    pub source: usize,
    /// What independence expects of each count, given the source's answers.
    pub expected_identical: f64,
    pub expected_identical_wrong: f64,
    /// P(at least `identical` identical answers) under independence.
    pub p_identical: f64,
    /// P(at least `identical_wrong` identical wrong answers) under independence.
    pub p_identical_wrong: f64,
    /// The pair's p-value: the smallest of the four tails (two counts, two directions)
    /// times four, at most 1.
    pub p_value: f64,
}

/// The result for one room.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarityReport {
    /// Pairs compared (those with at least `min_compared` items both answered).
    pub pairs: usize,
    /// The p-value below which a pair is listed: `alpha / pairs`.
    pub threshold: f64,
    /// Improbable pairs, most improbable first.
    pub flagged: Vec<SimilarPair>,
    /// The room's [`SHOWN`] least probable pairs, flagged or not, most improbable first:
    /// what a reviewer looks at next when copying is suspected but nothing crossed the
    /// threshold (the test is conservative by design).
    pub most_similar: Vec<SimilarPair>,
}

/// How many pairs [`SimilarityReport::most_similar`] keeps.
pub const SHOWN: usize = 10;

/// Option popularity per score group, from every sheet of the exam.
struct Popularity {
    group_of: Vec<usize>,
    /// `p[(item * groups + g) * MAX + o]`: the smoothed share choosing option o.
    p: Vec<f64>,
    groups: usize,
}

/// The most score groups: beyond this, groups of a big exam add little and cost memory.
pub const MAX_GROUPS: usize = 50;

const MAX: usize = Label::MAX_OPTIONS;
/// Dense answer codes besides an option's index.
const NOT_DRAWN: u8 = u8::MAX;
const OMITTED: u8 = u8::MAX - 1;

impl Popularity {
    fn new(items: &[ItemInfo], answers: &[Vec<u8>], sheets: &[Sheet], group_size: usize) -> Popularity {
        let groups = (sheets.len() / group_size.max(1)).clamp(1, MAX_GROUPS);
        // Score as a share of the paper's best possible, so papers of different sizes compare.
        let share: Vec<f64> = sheets
            .iter()
            .zip(answers)
            .map(|(sheet, dense)| {
                let (mut got, mut best) = (0i64, 0i64);
                for &i in &sheet.paper {
                    got += items[i].score(Label::from_index(usize::from(dense[i])));
                    best += (0..items[i].options()).map(|o| items[i].score(Label::from_index(o))).max().unwrap_or(0);
                }
                if best > 0 { got as f64 / best as f64 } else { 0.0 }
            })
            .collect();
        let mut order: Vec<usize> = (0..sheets.len()).collect();
        order.sort_by(|&x, &y| share[x].total_cmp(&share[y]).then(x.cmp(&y)));
        let mut group_of = vec![0; sheets.len()];
        for (rank, &c) in order.iter().enumerate() {
            group_of[c] = rank * groups / sheets.len().max(1);
        }
        let mut counts = vec![0u32; items.len() * groups * MAX];
        for (c, dense) in answers.iter().enumerate() {
            for (i, &o) in dense.iter().enumerate() {
                if o < OMITTED {
                    counts[(i * groups + group_of[c]) * MAX + usize::from(o)] += 1;
                }
            }
        }
        let mut p = vec![0.0; counts.len()];
        for (i, item) in items.iter().enumerate() {
            let k = item.options().max(1);
            for g in 0..groups {
                let base = (i * groups + g) * MAX;
                let n: u32 = counts[base..base + k].iter().sum();
                for o in 0..k {
                    p[base + o] = (f64::from(counts[base + o]) + 0.5) / (f64::from(n) + 0.5 * k as f64);
                }
            }
        }
        Popularity { group_of, p, groups }
    }

    fn shares(&self, item: usize, candidate: usize) -> &[f64] {
        let base = (item * self.groups + self.group_of[candidate]) * MAX;
        &self.p[base..base + MAX]
    }
}

/// Each sheet's final choice on every item of the list, or `NOT_DRAWN` or `OMITTED`.
fn dense_answers(items: &[ItemInfo], sheets: &[Sheet]) -> Vec<Vec<u8>> {
    sheets
        .iter()
        .map(|sheet| {
            let mut dense = vec![NOT_DRAWN; items.len()];
            for (pos, choice) in sheet.replay().choices.into_iter().enumerate() {
                dense[sheet.paper[pos]] = choice.map_or(OMITTED, |label| label.index() as u8);
            }
            dense
        })
        .collect()
}

/// Compares every pair of the room (`room` indexes into `sheets`); popularity is counted
/// over all `sheets`, which should be the whole exam so that small rooms still have
/// well-estimated shares. For many rooms of one exam, build a [`Comparison`] once.
pub fn similarity(
    items: &[ItemInfo],
    sheets: &[Sheet],
    room: &[usize],
    options: SimilarityOptions,
) -> SimilarityReport {
    Comparison::new(items, sheets, options).room(room)
}

/// An exam's answers and option popularity, ready to compare the pairs of any room.
pub struct Comparison<'a> {
    items: &'a [ItemInfo],
    answers: Vec<Vec<u8>>,
    popularity: Popularity,
    options: SimilarityOptions,
}

impl<'a> Comparison<'a> {
    pub fn new(items: &'a [ItemInfo], sheets: &[Sheet], options: SimilarityOptions) -> Comparison<'a> {
        let answers = dense_answers(items, sheets);
        let popularity = Popularity::new(items, &answers, sheets, options.group_size);
        Comparison { items, answers, popularity, options }
    }

    /// Compares every pair of `room` (indexes into the sheets given to [`Comparison::new`]).
    pub fn room(&self, room: &[usize]) -> SimilarityReport {
        let (items, answers, popularity, options) = (self.items, &self.answers, &self.popularity, self.options);
        let mut scratch = Scratch::default();
        let mut judged = Vec::new();
        for (x, &a) in room.iter().enumerate() {
            for &b in &room[x + 1..] {
                let (mut shared, mut identical, mut identical_wrong) = (0, 0, 0);
                scratch.compared.clear();
                for (i, (&oa, &ob)) in answers[a].iter().zip(&answers[b]).enumerate() {
                    if oa == NOT_DRAWN {
                        continue;
                    }
                    if ob == NOT_DRAWN {
                        continue;
                    }
                    shared += 1;
                    if oa >= OMITTED || ob >= OMITTED {
                        continue;
                    }
                    scratch.compared.push(i);
                    if oa == ob {
                        identical += 1;
                        identical_wrong += usize::from(!is_right(&items[i], oa));
                    }
                }
                let compared = scratch.compared.len();
                if compared < options.min_compared {
                    continue;
                }
                let ab = judge(items, popularity, answers, (a, b), (identical, identical_wrong), &mut scratch);
                let ba = judge(items, popularity, answers, (b, a), (identical, identical_wrong), &mut scratch);
                let (source, d) = if ab.smallest() <= ba.smallest() { (a, ab) } else { (b, ba) };
                judged.push(SimilarPair {
                    a,
                    b,
                    shared,
                    compared,
                    identical,
                    identical_wrong,
                    source,
                    expected_identical: d.expected_identical,
                    expected_identical_wrong: d.expected_identical_wrong,
                    p_identical: d.p_identical,
                    p_identical_wrong: d.p_identical_wrong,
                    p_value: (TESTS * d.smallest()).min(1.0),
                });
            }
        }
        let pairs = judged.len();
        let threshold = options.alpha / pairs.max(1) as f64;
        judged.sort_by(|x, y| x.p_value.total_cmp(&y.p_value).then((x.a, x.b).cmp(&(y.a, y.b))));
        let flagged = judged.iter().take_while(|ev| ev.p_value < threshold).cloned().collect();
        judged.truncate(SHOWN);
        SimilarityReport { pairs, threshold, flagged, most_similar: judged }
    }
}

/// Two counts in two directions: a pair's p-value is the smallest of the four tails times
/// four (Bonferroni within the pair, before the correction over pairs).
const TESTS: f64 = 4.0;

fn is_right(item: &ItemInfo, code: u8) -> bool {
    Label::from_index(usize::from(code)).is_some_and(|l| item.is_right(l))
}

#[derive(Default)]
struct Scratch {
    compared: Vec<usize>,
    all: Vec<f64>,
    wrong: Vec<f64>,
    buf: Vec<f64>,
}

/// One direction of a pair: `copier`'s answers against `source`'s actual ones.
struct Direction {
    expected_identical: f64,
    expected_identical_wrong: f64,
    p_identical: f64,
    p_identical_wrong: f64,
}

impl Direction {
    fn smallest(&self) -> f64 {
        self.p_identical.min(self.p_identical_wrong)
    }
}

/// Under independence, the copier matches the source's answer on an item with the chance
/// that a candidate of the copier's score group picks that option (the idea of Frary,
/// Tideman and Watts' g2 and Wollack's ω, with observed shares in place of a model). The
/// identical wrong answers are counted over the items the source got wrong.
fn judge(
    items: &[ItemInfo],
    popularity: &Popularity,
    answers: &[Vec<u8>],
    (source, copier): (usize, usize),
    (identical, identical_wrong): (usize, usize),
    s: &mut Scratch,
) -> Direction {
    s.all.clear();
    s.wrong.clear();
    for &i in &s.compared {
        let o = answers[source][i];
        let p = popularity.shares(i, copier)[usize::from(o)];
        s.all.push(p);
        if !is_right(&items[i], o) {
            s.wrong.push(p);
        }
    }
    let (expected_identical, expected_identical_wrong) = (s.all.iter().sum::<f64>(), s.wrong.iter().sum::<f64>());
    Direction {
        expected_identical,
        expected_identical_wrong,
        p_identical: tail(&s.all, identical, expected_identical, &mut s.buf),
        p_identical_wrong: tail(&s.wrong, identical_wrong, expected_identical_wrong, &mut s.buf),
    }
}

/// The Poisson-binomial tail, skipped (read as 1) when the count is no more than its
/// expectation rounded down: the distribution's median is within one of its mean, so such a
/// tail is at least one half and could never be flagged.
fn tail(ps: &[f64], count: usize, expected: f64, buf: &mut Vec<f64>) -> f64 {
    if count as f64 <= expected.floor() { 1.0 } else { poisson_binomial_tail(ps, count, buf) }
}
