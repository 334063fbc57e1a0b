//! The validated item model. Values of these types exist only after validation, so the
//! rest of ujian never re-checks that an item has a key or that labels are in order.

use std::fmt;

use crate::check::Check;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

string_id!(
    /// An item's id, unique within its bank (`TWK-031`).
    ItemId
);
string_id!(
    /// A section's code (`TWK`), shared by items and exam sections.
    SectionCode
);
string_id!(
    /// A topic slug (`bela-negara`); exams draw items by topic.
    Topic
);

impl ItemId {
    /// Builds an id without the bank's syntax check, for ids coming back from storage.
    pub fn new_unchecked(s: impl Into<String>) -> ItemId {
        ItemId(s.into())
    }
}

impl SectionCode {
    pub fn new_unchecked(s: impl Into<String>) -> SectionCode {
        SectionCode(s.into())
    }
}

impl Topic {
    pub(crate) fn new(s: String) -> Topic {
        Topic(s)
    }
}

impl ItemId {
    pub(crate) fn new(s: String) -> ItemId {
        ItemId(s)
    }
}

impl SectionCode {
    pub(crate) fn new(s: String) -> SectionCode {
        SectionCode(s)
    }
}

/// Points awarded by a scoring rule or an option's weight. Signed: some exams penalise wrong answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Points(pub i64);

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::ops::Add for Points {
    type Output = Points;
    fn add(self, rhs: Points) -> Points {
        Points(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for Points {
    fn add_assign(&mut self, rhs: Points) {
        self.0 += rhs.0;
    }
}

impl std::ops::Sub for Points {
    type Output = Points;
    fn sub(self, rhs: Points) -> Points {
        Points(self.0 - rhs.0)
    }
}

impl std::iter::Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        Points(iter.map(|p| p.0).sum())
    }
}

/// An option label, `A` to `E`, stored as its position (0..5) in the item as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label(u8);

impl Label {
    pub const MAX_OPTIONS: usize = 5;

    pub fn from_index(i: usize) -> Option<Label> {
        (i < Self::MAX_OPTIONS).then_some(Label(i as u8))
    }

    /// Parses `"A"`..`"E"` (upper case only: labels are printed on screens and receipts).
    pub fn parse(s: &str) -> Option<Label> {
        match s.as_bytes() {
            [b @ b'A'..=b'E'] => Some(Label(b - b'A')),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub fn as_char(self) -> char {
        (b'A' + self.0) as char
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// One answer option as the candidate sees it (never carries its points: see [`Key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOption {
    pub(crate) label: Label,
    pub(crate) text: String,
    pub(crate) image: Option<String>,
}

impl ItemOption {
    pub fn label(&self) -> Label {
        self.label
    }
    pub fn text(&self) -> &str {
        &self.text
    }
    pub fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }
}

/// How an item is scored. Kept apart from the options so that code building a candidate
/// payload from [`ItemOption`]s cannot leak a key by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// One keyed option (SKD TWK/TIU); the section's rule says what right and wrong earn.
    Single(Label),
    /// Every option carries points (SKD TKP), indexed by the option's label position.
    Weighted(Vec<Points>),
}

impl Key {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Key::Single(_) => "single",
            Key::Weighted(_) => "weighted",
        }
    }
}

/// One lint check an item opts out of. The reason is required: it tells the next reviewer
/// why the flagged pattern is intended, so a silenced warning is a decision, not a shrug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintAllow {
    pub(crate) check: Check,
    pub(crate) reason: String,
    pub(crate) line: usize,
}

impl LintAllow {
    pub fn check(&self) -> Check {
        self.check
    }
    pub fn reason(&self) -> &str {
        &self.reason
    }
    pub fn line(&self) -> usize {
        self.line
    }
}

/// One validated question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub(crate) id: ItemId,
    pub(crate) section: SectionCode,
    pub(crate) topic: Topic,
    pub(crate) difficulty: Option<u8>,
    pub(crate) stem: String,
    pub(crate) image: Option<String>,
    pub(crate) options: Vec<ItemOption>,
    pub(crate) key: Key,
    pub(crate) pin_options: bool,
    /// The worked answer (pembahasan) committees keep with the item for review after the
    /// exam; never part of what a candidate is shown while sitting it.
    pub(crate) explanation: Option<String>,
    /// Lint checks this item opts out of, each with the committee's reason (see [`crate::lint`]).
    pub(crate) lint_allow: Vec<LintAllow>,
    /// Where the item was written, so later checks (exam drawability) can point at it.
    pub(crate) file: String,
    pub(crate) line: usize,
}

impl Item {
    pub fn id(&self) -> &ItemId {
        &self.id
    }
    pub fn section(&self) -> &SectionCode {
        &self.section
    }
    pub fn topic(&self) -> &Topic {
        &self.topic
    }
    pub fn difficulty(&self) -> Option<u8> {
        self.difficulty
    }
    pub fn stem(&self) -> &str {
        &self.stem
    }
    pub fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }
    pub fn options(&self) -> &[ItemOption] {
        &self.options
    }
    pub fn key(&self) -> &Key {
        &self.key
    }
    /// True when the option order must be kept as written (e.g. "all of the above").
    pub fn pin_options(&self) -> bool {
        self.pin_options
    }
    /// The explanation (pembahasan), if the committee wrote one.
    pub fn explanation(&self) -> Option<&str> {
        self.explanation.as_deref()
    }
    pub fn lint_allow(&self) -> &[LintAllow] {
        &self.lint_allow
    }
    /// True when the item opts out of `check` (with a reason).
    pub fn allows(&self, check: Check) -> bool {
        self.lint_allow.iter().any(|a| a.check == check)
    }
    pub fn file(&self) -> &str {
        &self.file
    }
    pub fn line(&self) -> usize {
        self.line
    }
    /// The most an answer to this item can earn as a weighted item (None for single items).
    pub fn max_weight(&self) -> Option<Points> {
        match &self.key {
            Key::Single(_) => None,
            Key::Weighted(points) => points.iter().copied().max(),
        }
    }
}
