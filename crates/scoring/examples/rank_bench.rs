//! Times `RankIndex` at 1,000,000 candidates with SKD-like keys; prints, never asserts.
//!
//! Run with `cargo run --release -p scoring --example rank_bench`. The figures depend on
//! the machine; docs/scoring.md records one run.

use std::hint::black_box;
use std::time::Instant;

use scoring::{RankIndex, RankKey};

const N: u32 = 1_000_000;
const OPS: usize = 200_000;

/// splitmix64: repeatable keys without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }

    fn id(&mut self) -> u32 {
        self.below(u64::from(N)) as u32
    }

    /// An SKD result: TWK 0..=150 and TIU 0..=175 in steps of 5, TKP 45..=225 (every item
    /// answered), as `[total, TKP, TIU, TWK]`: total 45..=550 with many ties.
    fn skd(&mut self) -> [i64; 4] {
        let (twk, tiu, tkp) = (5 * self.below(31), 5 * self.below(36), 45 + self.below(181));
        [twk + tiu + tkp, tkp, tiu, twk]
    }

    fn key(&mut self) -> RankKey {
        let [total, tkp, tiu, twk] = self.skd();
        RankKey::from_parts(total, &[tkp, tiu, twk])
    }
}

/// The same order packed into one integer, smaller is better: what a fixed-width key costs.
fn packed([total, tkp, tiu, twk]: [i64; 4]) -> u64 {
    (((550 - total) as u64) << 24) | (((225 - tkp) as u64) << 16) | (((175 - tiu) as u64) << 8) | (150 - twk) as u64
}

/// Runs `f` for `0..n` and prints the mean time per call.
fn time(name: &str, n: usize, mut f: impl FnMut(usize)) {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{name:<44} {ns:>10.0} ns/op  ({n} ops)");
}

/// Resident memory of this process in KiB, where the OS tells it (Linux).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut rng = Rng(2026);
    println!("RankIndex<RankKey, u32>, {N} candidates, SKD-like keys (total + TKP, TIU, TWK)");

    let before = rss_kib();
    let mut index = RankIndex::new();
    let start = Instant::now();
    for id in 0..N {
        index.upsert(id, rng.key());
    }
    let fill = start.elapsed();
    println!(
        "{:<44} {:>10.0} ns/op  ({N} inserts, {:.2} s)",
        "fill (insert)",
        fill.as_nanos() as f64 / f64::from(N),
        fill.as_secs_f64()
    );
    if let (Some(a), Some(b)) = (before, rss_kib()) {
        println!(
            "{:<44} {:>10} MiB  (~{} bytes per candidate)",
            "resident memory of the filled index",
            (b - a) / 1024,
            (b - a) * 1024 / u64::from(N)
        );
    }

    let updates: Vec<(u32, RankKey)> = (0..OPS).map(|_| (rng.id(), rng.key())).collect();
    let mut updates = updates.into_iter();
    time("upsert (existing id, new key)", OPS, |_| {
        let (id, key) = updates.next().expect("one per op");
        black_box(index.upsert(id, key));
    });

    let ids: Vec<u32> = (0..OPS).map(|_| rng.id()).collect();
    time("rank(id)", OPS, |i| {
        black_box(index.rank(&ids[i]));
    });
    time("position(id)", OPS, |i| {
        black_box(index.position(&ids[i]));
    });
    let keys: Vec<RankKey> = (0..OPS).map(|_| rng.key()).collect();
    time("count_better(key)", OPS, |i| {
        black_box(index.count_better(&keys[i]));
    });
    time("top(10)", OPS, |_| {
        black_box(index.top(10));
    });
    time("page(500_000, 50)", OPS / 10, |_| {
        black_box(index.page(500_000, 50));
    });

    let updates: Vec<(u32, RankKey)> = (0..OPS).map(|_| (rng.id(), rng.key())).collect();
    let mut updates = updates.into_iter();
    time("upsert + rank of the same id", OPS, |_| {
        let (id, key) = updates.next().expect("one per op");
        index.upsert(id, key);
        black_box(index.rank(&id));
    });

    // The naive alternative: keep a Vec and sort it again.
    let mut all: Vec<(RankKey, u32)> = index.page(0, index.len()).into_iter().map(|(i, k)| (k.clone(), *i)).collect();
    let shuffled = {
        let mut v = all.clone();
        for i in (1..v.len()).rev() {
            v.swap(i, rng.below(i as u64 + 1) as usize);
        }
        v
    };
    let mut v = shuffled.clone();
    let start = Instant::now();
    v.sort_unstable();
    println!("{:<44} {:>10.1} ms", "naive: sort 1M shuffled keys", start.elapsed().as_secs_f64() * 1e3);
    all[N as usize / 2].0 = rng.key();
    let start = Instant::now();
    all.sort();
    println!("{:<44} {:>10.1} ms", "naive: re-sort 1M keys after one change", start.elapsed().as_secs_f64() * 1e3);
    drop((v, shuffled, all));

    // The same index with the key packed into a u64, for comparison.
    let mut packed_index: RankIndex<u64, u32> = RankIndex::new();
    for id in 0..N {
        packed_index.upsert(id, packed(rng.skd()));
    }
    let updates: Vec<(u32, u64)> = (0..OPS).map(|_| (rng.id(), packed(rng.skd()))).collect();
    time("packed u64 key: upsert + rank of the same id", OPS, |i| {
        let (id, key) = updates[i];
        packed_index.upsert(id, key);
        black_box(packed_index.rank(&id));
    });
}
