//! Spotting answer cycling: one question answered with [`CYCLING_OPTIONS`] or more
//! different options within [`CYCLING_WINDOW_MS`]. That is what probing a board or any
//! other observable for the key looks like (answer A, look, answer B, look, …), so the
//! supervisor is told, once per question, and the results export counts it.

use std::collections::VecDeque;

use item_bank::Label;

use crate::timer::Tick;

/// How many different options on one question make cycling.
pub const CYCLING_OPTIONS: usize = 3;
/// Within how long, in milliseconds.
pub const CYCLING_WINDOW_MS: u64 = 60_000;

/// How many recent answers are kept: a session holds at most this many, whatever its
/// answer rate, so a candidate costs a few hundred bytes at most. Cycling hidden behind
/// this many other answers within the minute goes unreported.
const RECENT: usize = 32;

/// The recent answers of one session.
#[derive(Debug, Clone, Default)]
pub struct AnswerCycling {
    /// Answers of the last [`CYCLING_WINDOW_MS`] (at most [`RECENT`]), oldest first.
    recent: VecDeque<(Tick, usize, Label)>,
    /// Positions already reported: one report a question, not one an answer.
    reported: Vec<usize>,
}

impl AnswerCycling {
    pub fn new() -> AnswerCycling {
        AnswerCycling::default()
    }

    /// Notes an answer (`None`: cleared) to `position` at `now`; true when this answer
    /// makes the position cycling for the first time. Answers come in time order.
    pub fn observe(&mut self, now: Tick, position: usize, choice: Option<Label>) -> bool {
        let Some(choice) = choice else { return false };
        while self.recent.front().is_some_and(|(at, ..)| now.saturating_sub(*at) >= CYCLING_WINDOW_MS)
            || self.recent.len() >= RECENT
        {
            self.recent.pop_front();
        }
        self.recent.push_back((now, position, choice));
        if self.reported.contains(&position) {
            return false;
        }
        let mut seen = [false; Label::MAX_OPTIONS];
        for (_, p, label) in &self.recent {
            if let Some(s) = seen.get_mut(label.index()).filter(|_| *p == position) {
                *s = true;
            }
        }
        if seen.iter().filter(|s| **s).count() < CYCLING_OPTIONS {
            return false;
        }
        self.reported.push(position);
        true
    }

    /// How many questions were reported as cycling.
    pub fn questions(&self) -> usize {
        self.reported.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(c: &str) -> Option<Label> {
        Label::parse(c)
    }

    /// Feeds `(ms, position, choice)` answers in; returns the positions reported, in order.
    #[track_caller]
    fn check(answers: &[(u64, usize, &str)], expected: &[usize]) {
        let mut c = AnswerCycling::new();
        let reported: Vec<usize> =
            answers.iter().filter(|(at, p, choice)| c.observe(*at, *p, l(choice))).map(|(_, p, _)| *p).collect();
        assert_eq!(reported, expected);
        assert_eq!(c.questions(), expected.len());
    }

    #[test]
    fn three_different_options_within_a_minute_are_cycling_once() {
        check(&[(0, 4, "A"), (1_000, 4, "B"), (2_000, 4, "C")], &[4]);
        // Every further option of the same question is the same cycling, not a new report.
        check(&[(0, 4, "A"), (1_000, 4, "B"), (2_000, 4, "C"), (3_000, 4, "D"), (4_000, 4, "E")], &[4]);
        // Another question cycled is reported on its own.
        check(&[(0, 1, "A"), (1, 1, "B"), (2, 1, "C"), (3, 2, "A"), (4, 2, "B"), (5, 2, "C")], &[1, 2]);
    }

    #[test]
    fn changing_ones_mind_is_not_cycling() {
        // Two options back and forth, however often.
        check(&[(0, 0, "A"), (1, 0, "B"), (2, 0, "A"), (3, 0, "B"), (4, 0, "A")], &[]);
        // Three options, but over more than a minute.
        check(&[(0, 0, "A"), (30_000, 0, "B"), (60_000, 0, "C")], &[]);
        // Three options on three questions.
        check(&[(0, 0, "A"), (1, 1, "B"), (2, 2, "C")], &[]);
        // A clear is not an option.
        check(&[(0, 0, "A"), (1, 0, ""), (2, 0, "B")], &[]);
    }

    #[test]
    fn only_the_most_recent_answers_are_kept() {
        let mut c = AnswerCycling::new();
        for i in 0..1_000 {
            c.observe(i, (i % 100) as usize, l("A"));
        }
        assert!(c.recent.len() <= RECENT);
    }

    #[test]
    fn the_window_counts_from_each_options_latest_choice() {
        // A at 0 and again at 50 s: with B at 55 s and C at 100 s, A's latest choice is
        // within the minute.
        check(&[(0, 0, "A"), (50_000, 0, "A"), (55_000, 0, "B"), (100_000, 0, "C")], &[0]);
    }
}
