//! Classical item analysis: per item difficulty, discrimination, distractors and time; per
//! section reliability, SEM and the score distribution (docs/analytics.md has the formulas).
//!
//! Papers are drawn at random, so each item is seen by its own subset of candidates: every
//! item statistic is over the candidates whose paper held the item (`drawn` says how many),
//! with the section score each of them earned on their own paper.

use std::collections::BTreeMap;

use item_bank::{Key, Label, SectionCode};

use crate::input::{ItemInfo, Sheet};
use crate::stats::{mean, pearson, quantile, variance};

/// The share of candidates in each of the upper and lower groups (Kelley's 27%).
pub const GROUP_SHARE: f64 = 0.27;

/// One item's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemReport {
    /// Index into the analysed item list.
    pub item: usize,
    /// Candidates whose paper held the item: the population of every figure below.
    pub drawn: usize,
    pub answered: usize,
    pub omitted: usize,
    pub scoring: ItemScoring,
    /// Correlation of the item score with the section score without this item.
    pub item_rest: Option<f64>,
    /// One row per option of the item, in label order.
    pub options: Vec<OptionShare>,
    /// The size of each of the upper and lower groups.
    pub group_size: usize,
    pub flags: Vec<ItemFlag>,
    /// Time spent on the item by those who answered it.
    pub time: Option<TimeSpent>,
}

/// The statistics that depend on how the item is scored.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemScoring {
    Single {
        /// Difficulty: the proportion correct (an omission counts as not correct).
        p: f64,
        /// Upper–lower discrimination: p in the upper group minus p in the lower.
        discrimination: Option<f64>,
    },
    Weighted {
        mean_points: f64,
        /// How many candidates earned each number of points (omissions earn 0).
        distribution: BTreeMap<i64, usize>,
    },
}

/// Who chose one option: shares of the whole, of the upper and of the lower group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionShare {
    pub label: Label,
    pub overall: f64,
    pub upper: f64,
    pub lower: f64,
}

/// Something in an item's figures a reviewer should look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemFlag {
    /// A distractor the upper group chose more often than the key: the key may be wrong.
    PossibleWrongKey(Label),
    /// An option nobody chose: it distracts no one.
    UnusedOption(Label),
    /// The item favours weaker candidates (negative item–rest or upper–lower figure).
    NegativeDiscrimination,
}

/// Median and quartiles of the milliseconds spent on an item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSpent {
    pub median_ms: f64,
    pub q1_ms: f64,
    pub q3_ms: f64,
}

/// One section's score distribution and reliability.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionReport {
    pub section: SectionCode,
    /// Candidates whose paper held at least one item of the section.
    pub candidates: usize,
    /// Items of the section a paper held, on average.
    pub items_per_paper: f64,
    pub mean: f64,
    /// Standard deviation of the section score (population form).
    pub sd: f64,
    pub reliability: Option<Reliability>,
    /// Standard error of measurement: sd × √(1 − reliability).
    pub sem: Option<f64>,
    /// Candidates per section score.
    pub histogram: BTreeMap<i64, usize>,
}

/// Internal consistency: KR-20 when every item of the section is single-keyed (it is α for
/// items scored 0 or 1), Cronbach's α otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reliability {
    Kr20(f64),
    Alpha(f64),
}

impl Reliability {
    pub fn value(self) -> f64 {
        match self {
            Reliability::Kr20(v) | Reliability::Alpha(v) => v,
        }
    }
}

/// The whole item analysis of a set of sheets.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// One report per item drawn at least once, in item order.
    pub items: Vec<ItemReport>,
    pub sections: Vec<SectionReport>,
}

impl Analysis {
    /// Each item's median time spent, indexed like the analysed item list, for
    /// [`crate::timing::fast_answers`].
    pub fn item_medians(&self, items: usize) -> Vec<Option<f64>> {
        let mut medians = vec![None; items];
        for r in &self.items {
            if let Some(m) = medians.get_mut(r.item) {
                *m = r.time.map(|t| t.median_ms);
            }
        }
        medians
    }
}

/// One candidate's encounter with one item.
struct Entry {
    score: i64,
    /// The candidate's score on the item's section, this item included.
    total: i64,
    /// Breaks ties in the group split the same way every time.
    candidate: u32,
    choice: Option<Label>,
    spent_ms: Option<i64>,
}

/// Analyses `sheets` over `items` (each sheet's paper indexes into `items`).
pub fn analyse(items: &[ItemInfo], sheets: &[Sheet]) -> Analysis {
    let mut sections: Vec<SectionCode> = Vec::new();
    let section_of: Vec<usize> = items
        .iter()
        .map(|it| match sections.iter().position(|s| s == it.section()) {
            Some(i) => i,
            None => {
                sections.push(it.section().clone());
                sections.len() - 1
            }
        })
        .collect();

    let mut entries: Vec<Vec<Entry>> = (0..items.len()).map(|_| Vec::new()).collect();
    // Per candidate and section: the score, or None when the paper held none of it.
    let mut totals: Vec<Vec<Option<i64>>> = Vec::with_capacity(sheets.len());
    for (c, sheet) in sheets.iter().enumerate() {
        let replayed = sheet.replay();
        let mut total = vec![None; sections.len()];
        let scores: Vec<i64> = sheet
            .paper
            .iter()
            .zip(&replayed.choices)
            .map(|(&i, &choice)| {
                let s = items[i].score(choice);
                *total[section_of[i]].get_or_insert(0) += s;
                s
            })
            .collect();
        for (pos, &i) in sheet.paper.iter().enumerate() {
            entries[i].push(Entry {
                score: scores[pos],
                total: total[section_of[i]].unwrap_or(0),
                candidate: c as u32,
                choice: replayed.choices[pos],
                spent_ms: replayed.spent_ms[pos],
            });
        }
        totals.push(total);
    }

    let mut item_variance = vec![0.0; items.len()];
    let mut reports = Vec::new();
    for (i, list) in entries.iter_mut().enumerate() {
        if list.is_empty() {
            continue;
        }
        let report = item_report(i, &items[i], list);
        item_variance[i] = variance(&list.iter().map(|e| e.score as f64).collect::<Vec<_>>());
        reports.push(report);
    }

    let section_reports = sections
        .iter()
        .enumerate()
        .map(|(s, code)| section_report(s, code, items, &section_of, sheets, &totals, &item_variance))
        .collect();
    Analysis { items: reports, sections: section_reports }
}

fn item_report(index: usize, item: &ItemInfo, list: &mut [Entry]) -> ItemReport {
    let n = list.len();
    let answered = list.iter().filter(|e| e.choice.is_some()).count();
    let x: Vec<f64> = list.iter().map(|e| e.score as f64).collect();
    let rest: Vec<f64> = list.iter().map(|e| (e.total - e.score) as f64).collect();
    let item_rest = pearson(&x, &rest);

    list.sort_by_key(|e| (e.total, e.candidate));
    let g = (GROUP_SHARE * n as f64).round() as usize;
    let (lower, upper) = (&list[..g], &list[n - g..]);
    let share = |group: &[Entry], label: Label| {
        let hits = group.iter().filter(|e| e.choice == Some(label)).count();
        if group.is_empty() { 0.0 } else { hits as f64 / group.len() as f64 }
    };
    let options: Vec<OptionShare> = (0..item.options())
        .filter_map(Label::from_index)
        .map(|label| OptionShare {
            label,
            overall: share(list, label),
            upper: share(upper, label),
            lower: share(lower, label),
        })
        .collect();

    let scoring = match item.key() {
        Key::Single(_) => {
            let p_of = |group: &[Entry]| mean(&group.iter().map(|e| e.score as f64).collect::<Vec<_>>());
            ItemScoring::Single { p: mean(&x), discrimination: (g > 0).then(|| p_of(upper) - p_of(lower)) }
        }
        Key::Weighted(_) => {
            let mut distribution = BTreeMap::new();
            for e in list.iter() {
                *distribution.entry(e.score).or_insert(0) += 1;
            }
            ItemScoring::Weighted { mean_points: mean(&x), distribution }
        }
    };

    let mut flags = Vec::new();
    if let Key::Single(key) = item.key() {
        let key_upper = options.get(key.index()).map_or(0.0, |o| o.upper);
        flags.extend(
            options
                .iter()
                .filter(|o| o.label != *key && o.upper > key_upper)
                .map(|o| ItemFlag::PossibleWrongKey(o.label)),
        );
    }
    flags.extend(options.iter().filter(|o| o.overall == 0.0).map(|o| ItemFlag::UnusedOption(o.label)));
    let negative_d = matches!(scoring, ItemScoring::Single { discrimination: Some(d), .. } if d < 0.0);
    if negative_d || item_rest.is_some_and(|r| r < 0.0) {
        flags.push(ItemFlag::NegativeDiscrimination);
    }

    let mut spent: Vec<f64> = list.iter().filter_map(|e| e.spent_ms).map(|ms| ms as f64).collect();
    spent.sort_by(f64::total_cmp);
    let time = (!spent.is_empty()).then(|| TimeSpent {
        median_ms: quantile(&spent, 0.5),
        q1_ms: quantile(&spent, 0.25),
        q3_ms: quantile(&spent, 0.75),
    });

    ItemReport {
        item: index,
        drawn: n,
        answered,
        omitted: n - answered,
        scoring,
        item_rest,
        options,
        group_size: g,
        flags,
        time,
    }
}

/// Reliability with random papers: KR-20 and α compare the sum of item variances with the
/// score variance. With every candidate holding the same items this is the textbook form;
/// with random papers the sum of item variances becomes its mean over candidates (each
/// summing the variances of the items on their own paper) and k the mean items a paper.
fn section_report(
    s: usize,
    code: &SectionCode,
    items: &[ItemInfo],
    section_of: &[usize],
    sheets: &[Sheet],
    totals: &[Vec<Option<i64>>],
    item_variance: &[f64],
) -> SectionReport {
    let mut scores = Vec::new();
    let mut variance_sums = Vec::new();
    let mut item_counts = Vec::new();
    for (sheet, total) in sheets.iter().zip(totals) {
        let Some(score) = total[s] else { continue };
        let mine: Vec<usize> = sheet.paper.iter().copied().filter(|&i| section_of[i] == s).collect();
        scores.push(score as f64);
        variance_sums.push(mine.iter().map(|&i| item_variance[i]).sum::<f64>());
        item_counts.push(mine.len() as f64);
    }
    let mut histogram = BTreeMap::new();
    for &x in &scores {
        *histogram.entry(x as i64).or_insert(0) += 1;
    }
    let var_x = variance(&scores);
    let k = mean(&item_counts);
    let all_single = items.iter().zip(section_of).filter(|(_, sec)| **sec == s).all(|(it, _)| it.is_single());
    let reliability = (k > 1.0 && var_x > 0.0).then(|| {
        let r = k / (k - 1.0) * (1.0 - mean(&variance_sums) / var_x);
        if all_single { Reliability::Kr20(r) } else { Reliability::Alpha(r) }
    });
    let sd = var_x.sqrt();
    SectionReport {
        section: code.clone(),
        candidates: scores.len(),
        items_per_paper: k,
        mean: mean(&scores),
        sd,
        sem: reliability.map(|r| sd * (1.0 - r.value()).max(0.0).sqrt()),
        reliability,
        histogram,
    }
}

#[cfg(test)]
mod tests {
    use item_bank::{ItemId, Points};

    use super::*;
    use crate::input::Line;

    fn single(id: &str, key: &str) -> ItemInfo {
        let key = Key::Single(Label::parse(key).expect("label"));
        ItemInfo::new(ItemId::new_unchecked(id), SectionCode::new_unchecked("TWK"), key, 4)
    }

    /// Everyone holds every item; `answers[c]` is candidate c's string of choices ('-' omits),
    /// each answered 10 s after the previous.
    fn sheets(answers: &[&str]) -> Vec<Sheet> {
        answers
            .iter()
            .enumerate()
            .map(|(c, row)| Sheet {
                candidate: format!("P-{c}"),
                start_ms: 0,
                paper: (0..row.len()).collect(),
                lines: row
                    .chars()
                    .enumerate()
                    .filter(|(_, ch)| *ch != '-')
                    .map(|(pos, ch)| Line {
                        at_ms: 10_000 * (pos as i64 + 1),
                        position: pos,
                        choice: Label::parse(&ch.to_string()),
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn a_key_the_strong_candidates_avoid_is_flagged() {
        // Item 1's key is A but the strongest candidates (on items 0 and 2) answer B.
        let items = [single("a", "A"), single("b", "A"), single("c", "C")];
        let rows = ["ABC", "ABC", "ABC", "ABD", "BAD", "BA-", "-AD", "DAB"];
        let analysis = analyse(&items, &sheets(&rows));
        let b = &analysis.items[1];
        assert_eq!((b.drawn, b.answered, b.omitted), (8, 8, 0));
        assert!(b.flags.contains(&ItemFlag::PossibleWrongKey(Label::parse("B").expect("label"))));
        assert!(b.flags.contains(&ItemFlag::NegativeDiscrimination));
        assert!(b.flags.contains(&ItemFlag::UnusedOption(Label::parse("C").expect("label"))));
        let c = &analysis.items[2];
        assert_eq!((c.answered, c.omitted), (7, 1));
        assert!(!c.flags.contains(&ItemFlag::NegativeDiscrimination));
        let ItemScoring::Single { p, discrimination } = c.scoring else { panic!("single") };
        assert_eq!(p, 0.375);
        assert_eq!(discrimination, Some(1.0));
        assert_eq!(c.time.map(|t| t.median_ms), Some(10_000.0));
        assert_eq!(analysis.item_medians(3)[2], Some(10_000.0));
        assert_eq!(analysis.sections[0].histogram.values().sum::<usize>(), 8);
    }

    #[test]
    fn an_item_is_measured_over_those_given_it() {
        let weighted = ItemInfo::new(
            ItemId::new_unchecked("w"),
            SectionCode::new_unchecked("TKP"),
            Key::Weighted(vec![Points(1), Points(5), Points(3)]),
            3,
        );
        let items = [single("a", "A"), weighted];
        let mut s = sheets(&["AB", "BC", "A"]);
        s[2].paper = vec![0];
        let analysis = analyse(&items, &s);
        assert_eq!(analysis.items[1].drawn, 2);
        let ItemScoring::Weighted { mean_points, distribution } = &analysis.items[1].scoring else {
            panic!("weighted")
        };
        assert_eq!(*mean_points, 4.0);
        assert_eq!(distribution.iter().map(|(p, n)| (*p, *n)).collect::<Vec<_>>(), [(3, 1), (5, 1)]);
        assert_eq!(analysis.sections[1].candidates, 2);
        assert_eq!(analysis.sections[0].candidates, 3);
    }
}
