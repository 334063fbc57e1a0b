//! The analytics benchmark of docs/benchmarks.md: item analysis of 30,000 candidates × 110
//! items with the per-candidate timing checks, and similarity, lockstep and change checks
//! over a room of 400.
//!
//! `cargo run --release -p analytics --example bench`

use std::time::Instant;

use analytics::{Comparison, SimilarityOptions, analyse, cycling, fast_answers, idle_bursts, lockstep, wrong_to_right};
use rand::seq::SliceRandom as _;

#[allow(dead_code, reason = "the tests' simulation; the benchmark uses part of it")]
#[path = "../tests/it/sim.rs"]
mod sim;

const CANDIDATES: usize = 30_000;
const ROOM: usize = 400;

fn main() {
    let mut rng = sim::rng(2026);
    // A bank of 195 single-keyed and 135 weighted items; each paper draws 65 and 45.
    let exam = sim::Exam::new(&mut rng, 195, 135);
    let t = Instant::now();
    let sheets: Vec<_> = (0..CANDIDATES)
        .map(|c| {
            let mut single: Vec<usize> = (0..195).collect();
            let mut weighted: Vec<usize> = (195..330).collect();
            single.shuffle(&mut rng);
            weighted.shuffle(&mut rng);
            let mut paper: Vec<usize> = single[..65].iter().chain(&weighted[..45]).copied().collect();
            paper.shuffle(&mut rng);
            exam.sit(&mut rng, None, format!("P-{c:05}"), 0, paper)
        })
        .collect();
    println!("simulated {CANDIDATES} candidates × 110 items in {:.2} s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let analysis = analyse(&exam.items, &sheets);
    println!(
        "item analysis: {:.2} s ({} items, {} sections)",
        t.elapsed().as_secs_f64(),
        analysis.items.len(),
        analysis.sections.len()
    );

    let t = Instant::now();
    let medians = analysis.item_medians(exam.items.len());
    let flagged: usize = sheets
        .iter()
        .map(|s| fast_answers(&exam.items, s, &medians).len() + idle_bursts(&exam.items, s).len() + cycling(s).len())
        .sum();
    println!(
        "fast answers, idle bursts and cycling, every candidate: {:.2} s ({flagged} found)",
        t.elapsed().as_secs_f64()
    );

    let room: Vec<usize> = (0..ROOM).collect();
    let t = Instant::now();
    let comparison = Comparison::new(&exam.items, &sheets, SimilarityOptions::default());
    let popularity = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = comparison.room(&room);
    println!(
        "similarity, room of {ROOM}: {:.2} s for {} pairs ({} flagged), after {popularity:.2} s of popularity over the exam",
        t.elapsed().as_secs_f64(),
        report.pairs,
        report.flagged.len()
    );

    let t = Instant::now();
    let steps = lockstep(&exam.items, &sheets, &room);
    let changes = wrong_to_right(&exam.items, &sheets, &room, 0.001);
    println!(
        "lockstep and changes, room of {ROOM}: {:.3} s ({} pairs, {} candidates)",
        t.elapsed().as_secs_f64(),
        steps.len(),
        changes.len()
    );
}
