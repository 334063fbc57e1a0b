//! The timing detectors on a simulated room of honest candidates who all start together.

use analytics::{analyse, fast_answers, idle_bursts, lockstep};

use crate::sim::{Exam, rng};

#[test]
fn an_honest_room_starting_together_answers_in_step_nowhere() {
    let mut r = rng(4);
    let exam = Exam::new(&mut r, 110, 0);
    let sheets: Vec<_> = (0..400)
        .map(|c| {
            let paper = exam.full_paper(&mut r);
            exam.sit(&mut r, None, format!("P-{c:04}"), 0, paper)
        })
        .collect();
    let room: Vec<usize> = (0..400).collect();
    assert_eq!(lockstep(&exam.items, &sheets, &room), []);
    // Honest work at a steady pace never idles five minutes.
    assert!(sheets.iter().all(|s| idle_bursts(&exam.items, s).is_empty()));
    // A fast right answer happens to honest candidates, but rarely more than a few each.
    let medians = analyse(&exam.items, &sheets).item_medians(exam.items.len());
    let most = sheets.iter().map(|s| fast_answers(&exam.items, s, &medians).len()).max().unwrap_or(0);
    assert!(most <= 3, "an honest candidate with {most} fast answers");
}
