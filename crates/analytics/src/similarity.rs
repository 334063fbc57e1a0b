//! Answer similarity between the candidates of a room: pairs who chose the same options far
//! more often than candidates of their scores do independently.
//!
//! For a pair, on the items both answered, each of the copier's answers matches the
//! source's under independence with the chance `p` that candidates of the copier's score
//! group pick the source's option (so two strong candidates agreeing on keys is expected).
//! The statistic is the log-likelihood ratio of "the copier took a share γ of the source's
//! answers" against independence: each identical answer weighs `ln(1 + γ / ((1 − γ) p))`, so
//! a shared unpopular wrong answer weighs far more than a shared key. Its distribution under
//! independence is computed exactly (the weights rounded to a lattice, the sum convolved);
//! the smaller tail of the two directions, times two, is the pair's p-value, compared with
//! `alpha / pairs` (Bonferroni), so the chance of any false flag in a room is at most `alpha`.
//! docs/analytics.md gives the sources and the measured power.

use item_bank::Label;

use crate::input::{ItemInfo, Sheet};
use crate::stats::{approximate_tail, poisson_binomial_tail, weighted_tail};

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
        SimilarityOptions { alpha: 0.05, group_size: 50, min_compared: 20 }
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
    /// P(at least `identical` identical answers) under independence, in `source`'s direction.
    pub p_identical: f64,
    /// P(at least `identical_wrong` identical wrong answers) under independence.
    pub p_identical_wrong: f64,
    /// The pair's p-value: the smaller tail of the likelihood-ratio statistic over the two
    /// directions, times two, at most 1. The two tails above are evidence beside it.
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
    /// For a room of at most [`MATRIX_ROOM`] candidates, every pair compared: what a
    /// similarity matrix of the room draws. Empty for a larger room (its report shows only
    /// the pairs listed above).
    pub matrix: Vec<PairCell>,
}

/// One pair of a room's similarity matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairCell {
    pub a: usize,
    pub b: usize,
    pub compared: usize,
    pub identical: usize,
    /// The pair's p-value: exact for a pair listed in the report, else the screening
    /// estimate (within a few percent in the far tail, 1 at or below the mean).
    pub p_value: f64,
}

/// The largest room whose every pair is kept for the matrix.
pub const MATRIX_ROOM: usize = 60;

/// How many pairs [`SimilarityReport::most_similar`] keeps.
pub const SHOWN: usize = 10;

/// Option popularity per score group, from every sheet of the exam.
struct Popularity {
    group_of: Vec<usize>,
    /// `p[(item * groups + g) * MAX + o]`: the smoothed share choosing option o.
    p: Vec<f64>,
    /// The [`weight`] of a match on that option, beside its share.
    w: Vec<u32>,
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
        let w = p.iter().map(|&p| if p > 0.0 { weight(p) } else { 0 }).collect();
        Popularity { group_of, p, w, groups }
    }

    fn shares(&self, item: usize, candidate: usize) -> &[f64] {
        let base = (item * self.groups + self.group_of[candidate]) * MAX;
        &self.p[base..base + MAX]
    }

    /// The share and the match weight of option `o` of `item` in `candidate`'s group.
    fn share_and_weight(&self, item: usize, candidate: usize, o: u8) -> (f64, u32) {
        let at = (item * self.groups + self.group_of[candidate]) * MAX + usize::from(o);
        (self.p[at], self.w[at])
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
        let (items, answers, options) = (self.items, &self.answers, self.options);
        let mut scratch = Scratch::default();
        // First pass: every pair's counts and the screening estimate of its p-value.
        let mut judged: Vec<Judged> = Vec::new();
        for (x, &a) in room.iter().enumerate() {
            for &b in &room[x + 1..] {
                let (mut shared, mut identical, mut identical_wrong) = (0, 0, 0);
                scratch.compared.clear();
                for (i, (&oa, &ob)) in answers[a].iter().zip(&answers[b]).enumerate() {
                    if oa == NOT_DRAWN || ob == NOT_DRAWN {
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
                if scratch.compared.len() < options.min_compared {
                    continue;
                }
                let ab = self.screen((a, b), &mut scratch);
                let ba = self.screen((b, a), &mut scratch);
                let (source, estimate) = if ab <= ba { (a, ab) } else { (b, ba) };
                judged.push(Judged {
                    a,
                    b,
                    shared,
                    compared: scratch.compared.len(),
                    identical,
                    identical_wrong,
                    source,
                    estimate,
                });
            }
        }
        let pairs = judged.len();
        let threshold = options.alpha / pairs.max(1) as f64;
        // Second pass: the exact p-value for every pair the estimate puts near or below the
        // threshold, and for the least probable pairs, which the report shows either way.
        judged.sort_by(|x, y| x.estimate.total_cmp(&y.estimate).then((x.a, x.b).cmp(&(y.a, y.b))));
        let mut exact: Vec<SimilarPair> = judged
            .iter()
            .enumerate()
            .take_while(|&(rank, j)| rank < 2 * SHOWN || j.estimate < SCREEN * threshold)
            .map(|(_, j)| self.evidence(j, &mut scratch))
            .collect();
        exact.sort_by(|x, y| x.p_value.total_cmp(&y.p_value).then((x.a, x.b).cmp(&(y.a, y.b))));
        let flagged = exact.iter().take_while(|ev| ev.p_value < threshold).cloned().collect();
        let matrix = if room.len() <= MATRIX_ROOM {
            judged
                .iter()
                .map(|j| {
                    let listed = exact.iter().find(|e| (e.a, e.b) == (j.a, j.b)).map(|e| e.p_value);
                    let p_value = listed.unwrap_or((DIRECTIONS * j.estimate).min(1.0));
                    PairCell { a: j.a, b: j.b, compared: j.compared, identical: j.identical, p_value }
                })
                .collect()
        } else {
            Vec::new()
        };
        exact.truncate(SHOWN);
        SimilarityReport { pairs, threshold, flagged, most_similar: exact, matrix }
    }

    /// The items both of a pair answered, into `s.compared`.
    fn compared(&self, (a, b): (usize, usize), s: &mut Scratch) {
        s.compared.clear();
        for (i, (&oa, &ob)) in self.answers[a].iter().zip(&self.answers[b]).enumerate() {
            if oa < OMITTED && ob < OMITTED {
                s.compared.push(i);
            }
        }
    }

    /// One direction's weights into `s.weights` and chances into `s.all`, and the observed
    /// weighted count of identical answers.
    fn weigh(&self, (source, copier): (usize, usize), s: &mut Scratch) -> u32 {
        s.all.clear();
        s.weights.clear();
        let mut observed = 0;
        for &i in &s.compared {
            let o = self.answers[source][i];
            let (p, w) = self.popularity.share_and_weight(i, copier, o);
            s.all.push(p);
            s.weights.push(w);
            if self.answers[copier][i] == o {
                observed += w;
            }
        }
        observed
    }

    /// A quick estimate of one direction's p-value (`s.compared` holds the pair's items):
    /// 1 at or below the mean, else the Bahadur–Rao approximation of the tail, never above
    /// the Chernoff bound.
    fn screen(&self, pair: (usize, usize), s: &mut Scratch) -> f64 {
        let observed = self.weigh(pair, s);
        approximate_tail(&s.all, &s.weights, observed)
    }

    /// The full evidence on a pair, with its exact p-value.
    fn evidence(&self, j: &Judged, s: &mut Scratch) -> SimilarPair {
        self.compared((j.a, j.b), s);
        let mut p_value = 1.0_f64;
        for pair in [(j.a, j.b), (j.b, j.a)] {
            let observed = self.weigh(pair, s);
            p_value = p_value.min(weighted_tail(&s.all, &s.weights, observed, &mut s.buf));
        }
        let copier = if j.source == j.a { j.b } else { j.a };
        let d =
            judge(self.items, &self.popularity, &self.answers, (j.source, copier), (j.identical, j.identical_wrong), s);
        SimilarPair {
            a: j.a,
            b: j.b,
            shared: j.shared,
            compared: j.compared,
            identical: j.identical,
            identical_wrong: j.identical_wrong,
            source: j.source,
            expected_identical: d.expected_identical,
            expected_identical_wrong: d.expected_identical_wrong,
            p_identical: d.p_identical,
            p_identical_wrong: d.p_identical_wrong,
            p_value: (DIRECTIONS * p_value).min(1.0),
        }
    }
}

/// A pair after the first pass.
struct Judged {
    a: usize,
    b: usize,
    shared: usize,
    compared: usize,
    identical: usize,
    identical_wrong: usize,
    source: usize,
    estimate: f64,
}

/// Pairs whose estimated p-value is within this factor of the threshold get the exact
/// computation. The estimate's relative error in the far tail is a few percent, so a
/// hundredfold margin loses no flag to the screen.
const SCREEN: f64 = 100.0;

/// The share of answers copied that the likelihood ratio is built against. The test is the
/// most powerful against exactly this share and stays close to it for shares around it.
const GAMMA: f64 = 0.3;

/// Units of the lattice weights are rounded to, in nats: the statistic is the rounded sum,
/// so its exact distribution is a convolution over integers.
const STEP: f64 = 0.05;

/// An identical answer's weight: the log of how much likelier that match is when the copier
/// copies a share `GAMMA` of the source's answers than under independence, against a
/// non-match (`ln((γ + (1−γ)p) / p) − ln(1 − γ)`), in units of `STEP`.
fn weight(p: f64) -> u32 {
    let w = (1.0 + GAMMA / ((1.0 - GAMMA) * p)).ln();
    (w / STEP).round().max(1.0) as u32
}

/// Both directions are tested: the pair's p-value is the smaller tail times two.
const DIRECTIONS: f64 = 2.0;

fn is_right(item: &ItemInfo, code: u8) -> bool {
    Label::from_index(usize::from(code)).is_some_and(|l| item.is_right(l))
}

#[derive(Default)]
struct Scratch {
    compared: Vec<usize>,
    all: Vec<f64>,
    wrong: Vec<f64>,
    weights: Vec<u32>,
    buf: Vec<f64>,
}

/// One direction of a pair: `copier`'s answers against `source`'s actual ones.
struct Direction {
    expected_identical: f64,
    expected_identical_wrong: f64,
    p_identical: f64,
    p_identical_wrong: f64,
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
