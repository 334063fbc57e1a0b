//! Session events against the room: a candidate who lost the exam window's focus, logged in
//! again or moved PC far more often than the others of the room did.
//!
//! If every candidate of a room produced events of one kind at the same rate (a Poisson
//! process each), then given the room's total N of n candidates, one candidate's count is
//! Binomial(N, 1/n), whatever the rate: the conditional test of equal Poisson rates, so no
//! rate has to be estimated or assumed. A count whose upper tail is below `alpha / n`
//! (Bonferroni over the room) is reported. Incrementally: keep the counts and the room's
//! total; re-judge a candidate when one of their events arrives.

use crate::stats::poisson_binomial_tail;

/// One candidate's improbably high count of one kind of event.
#[derive(Debug, Clone, PartialEq)]
pub struct UnusualCount {
    /// As given in the counts.
    pub candidate: usize,
    pub count: usize,
    /// The room's mean count of that kind.
    pub room_mean: f64,
    /// P(a count at least this high) if everyone had the room's rate.
    pub p_value: f64,
}

/// The candidates whose count stands out from the room's: `counts` holds one
/// `(candidate, count)` for every candidate of the room, zeros included. Counts below
/// `min_count` are never reported (two focus losses are a sneeze, however quiet the room).
pub fn unusual_counts(counts: &[(usize, usize)], alpha: f64, min_count: usize) -> Vec<UnusualCount> {
    let n = counts.len();
    let total: usize = counts.iter().map(|&(_, c)| c).sum();
    if n < 2 || total == 0 {
        return Vec::new();
    }
    let threshold = alpha / n as f64;
    let share = 1.0 / n as f64;
    let ps = vec![share; total];
    let mut buf = Vec::new();
    let mut out: Vec<UnusualCount> = counts
        .iter()
        .filter(|&&(_, count)| count >= min_count.max(1))
        .filter_map(|&(candidate, count)| {
            let p_value = poisson_binomial_tail(&ps, count, &mut buf);
            (p_value < threshold).then_some(UnusualCount { candidate, count, room_mean: total as f64 * share, p_value })
        })
        .collect();
    out.sort_by(|x, y| x.p_value.total_cmp(&y.p_value).then(x.candidate.cmp(&y.candidate)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_candidate_far_above_the_room_is_reported_and_an_even_room_is_not() {
        // 40 candidates with 0 to 2 focus losses each, one with 15.
        let mut counts: Vec<(usize, usize)> = (0..40).map(|c| (c, c % 3)).collect();
        counts[17].1 = 15;
        let found = unusual_counts(&counts, 0.001, 3);
        assert_eq!(found.iter().map(|u| (u.candidate, u.count)).collect::<Vec<_>>(), [(17, 15)]);
        assert!(found[0].room_mean < 1.5 && found[0].p_value < 1e-8, "{found:?}");
        // Everyone lost focus 15 times: the room's rate, nobody stands out.
        let even: Vec<(usize, usize)> = (0..40).map(|c| (c, 15)).collect();
        assert!(unusual_counts(&even, 0.001, 3).is_empty());
    }

    #[test]
    fn small_counts_and_lone_candidates_are_never_reported() {
        // One candidate with 2 events in a room of 0s: improbable, but below the minimum.
        let mut counts: Vec<(usize, usize)> = (0..200).map(|c| (c, 0)).collect();
        counts[3].1 = 2;
        assert!(unusual_counts(&counts, 0.05, 3).is_empty());
        counts[3].1 = 3;
        assert_eq!(unusual_counts(&counts, 0.05, 3).len(), 1);
        assert!(unusual_counts(&[(0, 50)], 0.05, 3).is_empty());
    }
}
