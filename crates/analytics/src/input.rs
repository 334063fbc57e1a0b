//! What the analyses read: the items as drawn and each candidate's paper and answer lines.

use item_bank::{Item, ItemId, Key, Label, SectionCode};

/// One item as the analyses need it: which section it counts for and how it is scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInfo {
    id: ItemId,
    section: SectionCode,
    key: Key,
    /// How many options the item has, so an option nobody chose still gets a row.
    options: usize,
}

impl ItemInfo {
    /// Builds the record from plain values, for items that come back from storage rather
    /// than from a bank folder.
    pub fn new(id: ItemId, section: SectionCode, key: Key, options: usize) -> ItemInfo {
        let options = options.min(Label::MAX_OPTIONS);
        ItemInfo { id, section, key, options }
    }

    pub fn id(&self) -> &ItemId {
        &self.id
    }
    pub fn section(&self) -> &SectionCode {
        &self.section
    }
    pub fn key(&self) -> &Key {
        &self.key
    }
    pub fn options(&self) -> usize {
        self.options
    }
    pub fn is_single(&self) -> bool {
        matches!(self.key, Key::Single(_))
    }

    /// The item score the statistics use: 1 or 0 for a single key (number right, whatever
    /// the section's scoring rule awards), the option's weight for a weighted item. An
    /// omission scores 0.
    pub fn score(&self, choice: Option<Label>) -> i64 {
        match (&self.key, choice) {
            (_, None) => 0,
            (Key::Single(key), Some(c)) => i64::from(*key == c),
            (Key::Weighted(w), Some(c)) => w.get(c.index()).map_or(0, |p| p.0),
        }
    }

    /// True when `choice` earns the item's best score: the key, or a top-weighted option.
    pub fn is_right(&self, choice: Label) -> bool {
        match &self.key {
            Key::Single(key) => *key == choice,
            Key::Weighted(w) => {
                let best = w.iter().map(|p| p.0).max().unwrap_or(0);
                w.get(choice.index()).is_some_and(|p| p.0 == best)
            }
        }
    }
}

impl From<&Item> for ItemInfo {
    fn from(item: &Item) -> ItemInfo {
        ItemInfo::new(item.id().clone(), item.section().clone(), item.key().clone(), item.options().len())
    }
}

/// One answer line of a session's log, reduced to what the analyses read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The line's server timestamp in milliseconds (any epoch, the same for a whole
    /// sitting: the analyses only compare and subtract them).
    pub at_ms: i64,
    /// The question's place in the candidate's paper.
    pub position: usize,
    /// The option chosen, in the item's own labels (the caller undoes the paper's option
    /// shuffle); `None` clears the answer.
    pub choice: Option<Label>,
}

/// One candidate's session: the paper drawn and its answer lines in seq order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// Who sat it, as the caller names candidates in its reports.
    pub candidate: String,
    /// When the session started, so the first answer's time can be measured.
    pub start_ms: i64,
    /// The items of the paper in position order, as indexes into the analysed item list.
    pub paper: Vec<usize>,
    /// Answer lines only (flags and session events carry no choice), in seq order.
    pub lines: Vec<Line>,
}

/// A sheet replayed: the final choice on every position and the time spent on it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Replayed {
    pub(crate) choices: Vec<Option<Label>>,
    /// Milliseconds charged to each position: every line's gap since the previous line
    /// (the first since the start) goes to the line's position. `None` if never answered.
    pub(crate) spent_ms: Vec<Option<i64>>,
}

impl Sheet {
    pub(crate) fn replay(&self) -> Replayed {
        let n = self.paper.len();
        let mut r = Replayed { choices: vec![None; n], spent_ms: vec![None; n] };
        let mut prev = self.start_ms;
        for line in &self.lines {
            if line.position >= n {
                continue;
            }
            let gap = (line.at_ms - prev).max(0);
            prev = prev.max(line.at_ms);
            let spent = r.spent_ms[line.position].get_or_insert(0);
            *spent += gap;
            r.choices[line.position] = line.choice;
        }
        r
    }
}

/// `n` single-keyed items of one section (key A, four options), for the unit tests.
#[cfg(test)]
pub(crate) fn test_items(n: usize) -> Vec<ItemInfo> {
    let key = Key::Single(Label::parse("A").expect("label"));
    (0..n)
        .map(|i| {
            ItemInfo::new(ItemId::new_unchecked(format!("I-{i}")), SectionCode::new_unchecked("S"), key.clone(), 4)
        })
        .collect()
}
