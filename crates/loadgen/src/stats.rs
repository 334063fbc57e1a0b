//! Latency summaries (nearest-rank percentiles over microsecond samples) and error counts.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// Microseconds as a `u32`: an hour and more saturates, which no latency here reaches.
pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of sorted samples; 0 when there are none.
///
/// Nearest rank (the smallest sample with at least p% of samples at or below it) always
/// returns a measured value, never an interpolation between two.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len();
    // The float product is exact for the sample counts a run produces (< 2^53).
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// p50/p95/p99/max of one kind of latency, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub mean_us: u32,
    pub p50_us: u32,
    pub p95_us: u32,
    pub p99_us: u32,
    pub max_us: u32,
}

impl Summary {
    /// Summarises samples in any order (they are sorted here, once).
    pub fn of(mut samples: Vec<u32>) -> Summary {
        samples.sort_unstable();
        let count = samples.len() as u64;
        let sum: u64 = samples.iter().map(|&s| u64::from(s)).sum();
        Summary {
            count,
            mean_us: sum.checked_div(count).map_or(0, |m| u32::try_from(m).unwrap_or(u32::MAX)),
            p50_us: percentile(&samples, 50.0),
            p95_us: percentile(&samples, 95.0),
            p99_us: percentile(&samples, 99.0),
            max_us: samples.last().copied().unwrap_or(0),
        }
    }
}

/// Errors by code: the server's wire codes (`bad_seq`, `internal`, …) and the client's own
/// (`login_http_503`, `ws_connect`, `reply_timeout`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ErrorCounts(pub BTreeMap<String, u64>);

impl ErrorCounts {
    pub fn add(&mut self, code: &str) {
        *self.0.entry(code.to_owned()).or_default() += 1;
    }

    pub fn merge(&mut self, other: &ErrorCounts) {
        for (code, n) in &other.0 {
            *self.0.entry(code.clone()).or_default() += n;
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// Formats microseconds as milliseconds for the summary table.
pub fn ms(us: u32) -> String {
    if us >= 100_000 { format!("{:.0}", f64::from(us) / 1000.0) } else { format!("{:.1}", f64::from(us) / 1000.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(samples: &[u32], expected: (u32, u32, u32, u32)) {
        let s = Summary::of(samples.to_vec());
        assert_eq!((s.p50_us, s.p95_us, s.p99_us, s.max_us), expected, "{samples:?}");
        assert_eq!(s.count, samples.len() as u64);
    }

    #[test]
    fn percentiles_are_nearest_rank_of_the_sorted_samples() {
        let hundred: Vec<u32> = (1..=100).rev().collect();
        check(&hundred, (50, 95, 99, 100));
        let thousand: Vec<u32> = (1..=1000).collect();
        check(&thousand, (500, 950, 990, 1000));
        check(&[7], (7, 7, 7, 7));
        check(&[3, 1], (1, 3, 3, 3));
        check(&[], (0, 0, 0, 0));
    }

    #[test]
    fn one_slow_sample_in_a_hundred_shows_at_p99_only_at_its_rank() {
        let mut samples = vec![1_000u32; 99];
        samples.push(900_000);
        let s = Summary::of(samples);
        assert_eq!(s.p99_us, 1_000, "the 99th of 100 samples is still fast");
        assert_eq!(s.max_us, 900_000);
        assert_eq!(s.mean_us, (99 * 1_000 + 900_000) / 100);
        let mut samples = vec![1_000u32; 98];
        samples.extend([900_000, 900_000]);
        assert_eq!(Summary::of(samples).p99_us, 900_000);
    }

    #[test]
    fn durations_become_saturating_microseconds() {
        assert_eq!(micros(Duration::from_millis(3)), 3_000);
        assert_eq!(micros(Duration::from_secs(10_000)), u32::MAX);
    }

    #[test]
    fn error_counts_add_and_merge_by_code() {
        let mut a = ErrorCounts::default();
        a.add("bad_seq");
        a.add("bad_seq");
        let mut b = ErrorCounts::default();
        b.add("internal");
        b.add("bad_seq");
        a.merge(&b);
        assert_eq!(a.0.get("bad_seq"), Some(&3));
        assert_eq!(a.0.get("internal"), Some(&1));
        assert_eq!(a.total(), 4);
    }

    #[test]
    fn milliseconds_keep_one_decimal_below_100() {
        assert_eq!(ms(1_234), "1.2");
        assert_eq!(ms(123_456), "123");
    }
}
