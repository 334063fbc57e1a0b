//! The names of the lint's checks: a leaf, so that an item's `lint_allow` (in the model)
//! can name a check without the model depending on the lint that runs it.

use std::fmt;

/// One lint check, named in findings and in an item's `lint_allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// The key (or best weighted option) is the longest option more often than chance.
    LongestKey,
    /// The key is the option with most clauses more often than chance.
    MostClausesKey,
    /// The key is the option sharing most words with the stem more often than chance.
    StemEchoKey,
    /// A rule that never reads the stem comes near a section's threshold on the blueprint.
    ReadingFreeScore,
    /// Two options of one item are identical, near-identical, or one is the other cut short.
    SimilarOptions,
    /// An option is (nearly) an option of another item.
    CopiedOption,
    /// One option starts in a different case from all its siblings.
    OptionCase,
    /// "Semua benar", "none of the above" and options naming other options by label.
    AllOrNoneOption,
    /// A pinned option shared by many items is the key of none of them.
    PinnedNeverKeyed,
    /// An option whose text reads like a label ("A") while options are shuffled.
    LabelLikeOption,
    /// An item of a figural topic (or section) without any image.
    TopicWithoutImages,
    /// Among items with pinned options, one position holds the key more often than chance.
    PinnedKeyPosition,
    /// Two items with the same or nearly the same stem.
    DuplicateStem,
    /// A weighted item whose points repeat a level or skip one.
    PointsSpread,
}

impl Check {
    pub const ALL: [Check; 14] = [
        Check::LongestKey,
        Check::MostClausesKey,
        Check::StemEchoKey,
        Check::ReadingFreeScore,
        Check::SimilarOptions,
        Check::CopiedOption,
        Check::OptionCase,
        Check::AllOrNoneOption,
        Check::PinnedNeverKeyed,
        Check::LabelLikeOption,
        Check::TopicWithoutImages,
        Check::PinnedKeyPosition,
        Check::DuplicateStem,
        Check::PointsSpread,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::LongestKey => "longest-key",
            Check::MostClausesKey => "most-clauses-key",
            Check::StemEchoKey => "stem-echo-key",
            Check::ReadingFreeScore => "reading-free-score",
            Check::SimilarOptions => "similar-options",
            Check::CopiedOption => "copied-option",
            Check::OptionCase => "option-case",
            Check::AllOrNoneOption => "all-or-none-option",
            Check::PinnedNeverKeyed => "pinned-never-keyed",
            Check::LabelLikeOption => "label-like-option",
            Check::TopicWithoutImages => "topic-without-images",
            Check::PinnedKeyPosition => "pinned-key-position",
            Check::DuplicateStem => "duplicate-stem",
            Check::PointsSpread => "points-spread",
        }
    }

    pub fn parse(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether one item can opt out. The reading-free score is a property of the whole
    /// blueprint: a candidate exploits every item, silenced or not.
    pub fn silenceable(self) -> bool {
        self != Check::ReadingFreeScore
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
