//! How often the similarity test finds a copier: 40 rooms of 50 simulated candidates, one
//! copier pair in each, at two copying shares and three ability set-ups
//! (docs/analytics.md).
//!
//! `cargo run --release -p analytics --example power`

use analytics::{Comparison, SimilarityOptions};

#[allow(dead_code, reason = "the tests' simulation; this example uses part of it")]
#[path = "../tests/it/sim.rs"]
mod sim;

const ROOMS: usize = 40;
const ROOM: usize = 50;

fn main() {
    let options = SimilarityOptions::default();
    let setups = [
        ("average (θ = 0) from average", Some(0.0), Some(0.0)),
        ("weaker (θ = −1) from stronger (θ = 0.5)", Some(0.5), Some(-1.0)),
        ("random abilities", None, None),
    ];
    for (label, source_ability, copier_ability) in setups {
        for share in [0.4, 0.6] {
            let mut r = sim::rng(7);
            let exam = sim::Exam::new(&mut r, 110, 0);
            // Candidates k*ROOM and k*ROOM+1 of every room are the source and the copier.
            let mut sheets: Vec<_> = (0..ROOMS * ROOM)
                .map(|c| {
                    let paper = exam.full_paper(&mut r);
                    let ability = match c % ROOM {
                        0 => source_ability,
                        1 => copier_ability,
                        _ => None,
                    };
                    exam.sit(&mut r, ability, String::new(), 0, paper)
                })
                .collect();
            for k in 0..ROOMS {
                let source = sheets[k * ROOM].clone();
                sim::copy_answers(&mut r, &source, &mut sheets[k * ROOM + 1], share);
            }
            let comparison = Comparison::new(&exam.items, &sheets, options);
            let (mut found, mut top, mut false_flags) = (0, 0, 0);
            let mut p_values = Vec::new();
            for k in 0..ROOMS {
                let copiers = (k * ROOM, k * ROOM + 1);
                let report = comparison.room(&(k * ROOM..(k + 1) * ROOM).collect::<Vec<_>>());
                found += report.flagged.iter().filter(|p| (p.a, p.b) == copiers).count();
                false_flags += report.flagged.iter().filter(|p| (p.a, p.b) != copiers).count();
                top += usize::from(report.most_similar.first().is_some_and(|p| (p.a, p.b) == copiers));
                p_values.push(report.most_similar.iter().find(|p| (p.a, p.b) == copiers).map_or(1.0, |p| p.p_value));
            }
            p_values.sort_by(f64::total_cmp);
            println!(
                "{label}, copies {:.0}%: flagged {found}/{ROOMS}, most similar {top}/{ROOMS}, \
                 median p {:.1e}, other flags {false_flags}",
                share * 100.0,
                p_values[ROOMS / 2]
            );
        }
    }
}
