//! How often the similarity test finds a copier: 20 rooms of 50 simulated candidates, one
//! copier pair in each, at two copying shares and two ability set-ups (docs/analytics.md).
//!
//! `cargo run --release -p analytics --example power`

use analytics::{Comparison, SimilarityOptions};

#[allow(dead_code, reason = "the tests' simulation; this example uses part of it")]
#[path = "../tests/it/sim.rs"]
mod sim;
fn main() {
    for (label, src_ab, cop_ab) in [("weaker from stronger", Some(0.5), Some(-1.0)), ("random abilities", None, None)] {
        for share in [0.4, 0.6] {
            let mut r = sim::rng(99);
            let exam = sim::Exam::new(&mut r, 110, 0);
            // 20 rooms of 50 with one copier pair each (candidates k*50 and k*50+1).
            let mut sheets: Vec<_> = (0..1_000)
                .map(|c| {
                    let paper = exam.full_paper(&mut r);
                    let ab = match c % 50 {
                        0 => src_ab,
                        1 => cop_ab,
                        _ => None,
                    };
                    exam.sit(&mut r, ab, String::new(), 0, paper)
                })
                .collect();
            for k in 0..20 {
                let src = sheets[k * 50].clone();
                sim::copy_answers(&mut r, &src, &mut sheets[k * 50 + 1], share);
            }
            let cmp = Comparison::new(&exam.items, &sheets, SimilarityOptions::default());
            let (mut found, mut top, mut false_flags) = (0, 0, 0);
            for k in 0..20 {
                let room: Vec<usize> = (k * 50..(k + 1) * 50).collect();
                let rep = cmp.room(&room);
                found += rep.flagged.iter().filter(|p| (p.a, p.b) == (k * 50, k * 50 + 1)).count();
                false_flags += rep.flagged.iter().filter(|p| (p.a, p.b) != (k * 50, k * 50 + 1)).count();
                top += usize::from(rep.most_similar.first().is_some_and(|p| (p.a, p.b) == (k * 50, k * 50 + 1)));
            }
            println!("{label}, {share}: flagged {found}/20, most similar {top}/20, other flags {false_flags}");
        }
    }
}
