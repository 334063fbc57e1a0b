//! Papers: which items a candidate gets, in which order, with options in which order.
//!
//! The seed is HMAC-SHA256(sitting secret, candidate id): the same inputs always give the
//! same paper, and nobody without the secret can predict one (docs/design-rules.md,
//! "Papers are random but reproducible").

use item_bank::{Bank, Exam, Item, ItemId, Label, SectionCode};
use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;
use rand_chacha::ChaCha20Rng;
use ring::hmac;

/// The per-candidate seed of a paper.
pub fn seed(sitting_secret: &[u8], candidate: &str) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, sitting_secret);
    let tag = hmac::sign(&key, candidate.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// One position of a paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperEntry {
    pub section: SectionCode,
    pub item: ItemId,
    /// `order[i]` is the item's own label shown at position `i` (shown as `A + i`).
    pub order: Vec<Label>,
}

impl PaperEntry {
    /// The item's own label for the label the candidate saw, if it is one of them.
    pub fn to_item_label(&self, shown: Label) -> Option<Label> {
        self.order.get(shown.index()).copied()
    }

    /// The label the candidate sees for one of the item's own labels.
    pub fn to_shown_label(&self, own: Label) -> Option<Label> {
        self.order.iter().position(|l| *l == own).and_then(Label::from_index)
    }

    /// The order as a compact string of the item's labels, e.g. `"CAEBD"`, for storage.
    pub fn order_string(&self) -> String {
        self.order.iter().map(|l| l.as_char()).collect()
    }

    pub fn parse_order(s: &str) -> Option<Vec<Label>> {
        s.chars().map(|c| Label::parse(c.encode_utf8(&mut [0; 4]))).collect()
    }
}

/// A candidate's paper: sections in blueprint order, items shuffled within each section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paper {
    pub entries: Vec<PaperEntry>,
}

impl Paper {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PaperError {
    #[error("section {section}: {wanted} items wanted from {topics} but the bank has {available}")]
    NotEnoughItems { section: SectionCode, topics: String, wanted: u32, available: usize },
}

/// Draws a paper: for each section, each quota's items at random from its topics; then the
/// section's items are shuffled, and each item's options unless the exam keeps them as
/// written or the item pins them.
pub fn assemble(exam: &Exam, bank: &Bank, seed: [u8; 32]) -> Result<Paper, PaperError> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    let mut entries = Vec::with_capacity(exam.total_items() as usize);
    for section in exam.sections() {
        let mut drawn: Vec<&Item> = Vec::with_capacity(section.count as usize);
        for quota in &section.draw {
            let mut pool: Vec<&Item> = bank
                .items()
                .iter()
                .filter(|i| *i.section() == section.code && quota.topics.contains(i.topic()))
                .collect();
            if pool.len() < quota.count as usize {
                return Err(PaperError::NotEnoughItems {
                    section: section.code.clone(),
                    topics: quota.topics.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" or "),
                    wanted: quota.count,
                    available: pool.len(),
                });
            }
            let (chosen, _) = pool.partial_shuffle(&mut rng, quota.count as usize);
            drawn.extend_from_slice(chosen);
        }
        drawn.shuffle(&mut rng);
        for item in drawn {
            let mut order: Vec<Label> = item.options().iter().map(|o| o.label()).collect();
            if exam.shuffle_options() && !item.pin_options() {
                order.shuffle(&mut rng);
            }
            entries.push(PaperEntry { section: section.code.clone(), item: item.id().clone(), order });
        }
    }
    Ok(Paper { entries })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn tiny() -> (Exam, Bank) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../item-bank/tests/fixtures/tiny-exam.toml");
        let (exam, bank, _) = Exam::load(&dir).expect("tiny exam");
        (exam, bank)
    }

    fn skd() -> (Exam, Bank) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../question-banks/exams/skd.toml");
        let (exam, bank, _) = Exam::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        (exam, bank)
    }

    #[test]
    fn the_same_inputs_give_the_same_paper() {
        let (exam, bank) = skd();
        let a = assemble(&exam, &bank, seed(b"secret", "P-0001")).expect("paper");
        let b = assemble(&exam, &bank, seed(b"secret", "P-0001")).expect("paper");
        assert_eq!(a, b);
    }

    #[test]
    fn different_candidates_or_secrets_get_different_papers() {
        let (exam, bank) = skd();
        let a = assemble(&exam, &bank, seed(b"secret", "P-0001")).expect("paper");
        let b = assemble(&exam, &bank, seed(b"secret", "P-0002")).expect("paper");
        let c = assemble(&exam, &bank, seed(b"other", "P-0001")).expect("paper");
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_paper_follows_the_blueprint() {
        let (exam, bank) = skd();
        let paper = assemble(&exam, &bank, seed(b"secret", "P-0001")).expect("paper");
        assert_eq!(paper.len(), 110);
        // Sections in blueprint order, each with its count, no item twice.
        let mut pos = 0;
        for section in exam.sections() {
            let part = &paper.entries[pos..pos + section.count as usize];
            assert!(part.iter().all(|e| e.section == section.code));
            for quota in &section.draw {
                let n =
                    part.iter().filter(|e| quota.topics.contains(bank.item(&e.item).expect("item").topic())).count();
                assert_eq!(n, quota.count as usize, "{} {:?}", section.code, quota.topics);
            }
            pos += section.count as usize;
        }
        let mut ids: Vec<_> = paper.entries.iter().map(|e| e.item.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 110);
    }

    #[test]
    fn pinned_items_keep_their_option_order_and_others_are_permutations() {
        let (exam, bank) = tiny();
        for n in 0..20 {
            let paper = assemble(&exam, &bank, seed(b"s", &format!("P-{n}"))).expect("paper");
            for e in &paper.entries {
                let item = bank.item(&e.item).expect("item");
                let mut sorted = e.order.clone();
                sorted.sort();
                assert_eq!(sorted, item.options().iter().map(|o| o.label()).collect::<Vec<_>>());
                if item.pin_options() {
                    assert_eq!(e.order_string(), "AB");
                }
                for (i, own) in e.order.iter().enumerate() {
                    let shown = Label::from_index(i).expect("label");
                    assert_eq!(e.to_item_label(shown), Some(*own));
                    assert_eq!(e.to_shown_label(*own), Some(shown));
                }
                assert_eq!(PaperEntry::parse_order(&e.order_string()), Some(e.order.clone()));
            }
        }
    }

    #[test]
    fn option_orders_vary_across_candidates() {
        let (exam, bank) = skd();
        let orders: std::collections::BTreeSet<String> = (0..10)
            .map(|n| assemble(&exam, &bank, seed(b"s", &format!("P-{n}"))).expect("paper"))
            .flat_map(|p| p.entries.into_iter().map(|e| e.order_string()))
            .collect();
        assert!(orders.len() > 20, "only {} distinct option orders", orders.len());
    }
}
