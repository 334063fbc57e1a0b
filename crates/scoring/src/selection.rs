//! Selection within one formation: result codes with the multiplier cut, and the final score across stages.
//!
//! The rules follow the CPNS procurement regulations (see `docs/scoring.md`), but every
//! number in them (multiplier, openings, weights, maxima) is an argument: data, not code.

use std::cmp::Reverse;
use std::fmt;

use item_bank::Points;
use thiserror::Error;

use crate::board::RankKey;

/// A candidate's result in a stage's announcement, as the codes are printed there.
#[allow(clippy::upper_case_acronyms, reason = "the codes exactly as they are announced")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// "P/L": met every threshold and ranks within the cut, or ties the last one in it.
    PL,
    /// Met every threshold but ranks outside the cut.
    P,
    /// Tidak lulus: below at least one threshold.
    TL,
    /// Tidak hadir: did not sit the test.
    TH,
    /// Disqualified.
    DIS,
}

impl ResultCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultCode::PL => "P/L",
            ResultCode::P => "P",
            ResultCode::TL => "TL",
            ResultCode::TH => "TH",
            ResultCode::DIS => "DIS",
        }
    }

    /// The code for its announced text (`"P/L"`, `"P"`, `"TL"`, `"TH"`, `"DIS"`), exactly.
    pub fn parse(s: &str) -> Option<ResultCode> {
        [ResultCode::PL, ResultCode::P, ResultCode::TL, ResultCode::TH, ResultCode::DIS]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a candidate came out of a stage. A key exists only for those who sat it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing<K = RankKey> {
    /// Sat the test: their ranking key (smaller is better) and whether every section met its threshold.
    Sat {
        key: K,
        passed: bool,
    },
    Absent,
    Disqualified,
}

/// One applicant to a formation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<I, K = RankKey> {
    pub id: I,
    pub standing: Standing<K>,
}

/// One line of the announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected<I> {
    pub id: I,
    pub code: ResultCode,
    /// Competition rank among those who passed ("1, 2, 2, 4"): equal keys share it.
    /// `None` for everyone who did not pass.
    pub rank: Option<usize>,
}

/// Decides every applicant's result code for a formation with `openings` places, of
/// which `multiplier × openings` go on (SKD: 3 × the openings go on to the SKB).
///
/// Those who passed are ordered by key; the first `multiplier × openings` get
/// [`ResultCode::PL`], and so does everyone whose key equals the last of them: a tie at
/// the cut is never broken by luck or by id. The rest who passed get [`ResultCode::P`].
///
/// The announcement comes back in order: those who passed (by key, then id), those below
/// a threshold (by key, then id), the absent (by id), the disqualified (by id). Ids are
/// expected to be unique.
pub fn select<I: Ord, K: Ord>(
    candidates: impl IntoIterator<Item = Candidate<I, K>>,
    openings: u32,
    multiplier: u32,
) -> Vec<Selected<I>> {
    let (mut passed, mut failed, mut absent, mut disqualified) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in candidates {
        match c.standing {
            Standing::Sat { key, passed: true } => passed.push((key, c.id)),
            Standing::Sat { key, passed: false } => failed.push((key, c.id)),
            Standing::Absent => absent.push(c.id),
            Standing::Disqualified => disqualified.push(c.id),
        }
    }
    passed.sort_unstable();
    failed.sort_unstable();
    absent.sort_unstable();
    disqualified.sort_unstable();

    // Whoever's competition rank is within the quota is in: that is exactly "the first
    // `quota`, plus everyone tied with the last of them".
    let quota = u64::from(openings) * u64::from(multiplier);
    let mut out = Vec::with_capacity(passed.len() + failed.len() + absent.len() + disqualified.len());
    let mut prev: Option<K> = None;
    let mut rank = 0;
    for (i, (key, id)) in passed.into_iter().enumerate() {
        if prev.as_ref() != Some(&key) {
            rank = i + 1;
            prev = Some(key);
        }
        let code = if rank as u64 <= quota { ResultCode::PL } else { ResultCode::P };
        out.push(Selected { id, code, rank: Some(rank) });
    }
    let rest = failed
        .into_iter()
        .map(|(_, id)| (id, ResultCode::TL))
        .chain(absent.into_iter().map(|id| (id, ResultCode::TH)))
        .chain(disqualified.into_iter().map(|id| (id, ResultCode::DIS)));
    out.extend(rest.map(|(id, code)| Selected { id, code, rank: None }));
    out
}

/// A score in thousandths of a point: 73.6 is `Milli(73_600)`. Fixed point, so that
/// every machine computes, ranks and prints the same final scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Milli(pub i64);

impl fmt::Display for Milli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:03}", abs / 1000, abs % 1000)
    }
}

/// Why a final score cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FinalError {
    #[error("stage weights must add up to 100 percent, got {skd} + {skb}")]
    Weights { skd: u32, skb: u32 },
    #[error("the SKD maximum must be positive, got {0}")]
    SkdMax(Points),
    #[error("SKD total {total} is outside 0..={max}")]
    SkdTotal { total: Points, max: Points },
    #[error("SKB score {0} is outside 0..100")]
    SkbScore(Milli),
}

/// The stages' weights in whole percent. CPNS uses SKD 40, SKB 60; they come from the
/// committee's data, and must add up to 100 so that the final score is on 0..100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    skd: u32,
    skb: u32,
}

impl Weights {
    pub fn new(skd: u32, skb: u32) -> Result<Weights, FinalError> {
        if skd.checked_add(skb) == Some(100) { Ok(Weights { skd, skb }) } else { Err(FinalError::Weights { skd, skb }) }
    }
    pub fn skd(&self) -> u32 {
        self.skd
    }
    pub fn skb(&self) -> u32 {
        self.skb
    }
}

/// A final score on 0..100: each stage's weighted part, and their sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinalScore {
    /// `skd_total / skd_max × 100 × weight`, rounded to the nearest thousandth, halves up.
    pub skd: Milli,
    /// `skb × weight`, rounded the same way.
    pub skb: Milli,
    /// `skd + skb` of the rounded parts, so the announced parts always add up to it.
    pub total: Milli,
}

impl FinalScore {
    /// Combines an SKD total (out of `skd_max`, e.g. 550) with an SKB score already on
    /// 0..100 (an SKB made of several tests is combined by its own weights first).
    pub fn compute(weights: Weights, skd_total: Points, skd_max: Points, skb: Milli) -> Result<FinalScore, FinalError> {
        if skd_max.0 <= 0 {
            return Err(FinalError::SkdMax(skd_max));
        }
        if !(0..=skd_max.0).contains(&skd_total.0) {
            return Err(FinalError::SkdTotal { total: skd_total, max: skd_max });
        }
        if !(0..=100_000).contains(&skb.0) {
            return Err(FinalError::SkbScore(skb));
        }
        // In thousandths: total / max × 100 × (w / 100) = total × w × 1000 / max.
        let skd = round_div(i128::from(skd_total.0) * i128::from(weights.skd) * 1000, i128::from(skd_max.0));
        let skb = round_div(i128::from(skb.0) * i128::from(weights.skb), 100);
        Ok(FinalScore { skd, skb, total: Milli(skd.0 + skb.0) })
    }
}

/// `n / d` rounded to the nearest integer, halves up; both are non-negative here and the
/// result is at most 100_000.
fn round_div(n: i128, d: i128) -> Milli {
    Milli(((2 * n + d) / (2 * d)) as i64)
}

/// A grade average in hundredths: IPK 3.75 is `Gpa(375)`; for school leavers the
/// diploma's average, 87.25 is `Gpa(8725)`. Only compared within one formation, whose
/// applicants share an education level and so a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gpa(pub u32);

/// A date of birth: the last tie-break ranks the older applicant first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BirthDate {
    // Field order is the derived order: chronological, earlier (older) first.
    year: u16,
    month: u8,
    day: u8,
}

impl BirthDate {
    /// A calendar date, or `None` if there is no such day.
    pub fn new(year: u16, month: u8, day: u8) -> Option<BirthDate> {
        let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days).contains(&day).then_some(BirthDate { year, month, day })
    }
    pub fn year(&self) -> u16 {
        self.year
    }
    pub fn month(&self) -> u8 {
        self.month
    }
    pub fn day(&self) -> u8 {
        self.day
    }
}

/// The final ranking's order, smaller is better (for [`select`] and [`crate::RankIndex`]):
/// higher final score; then the SKD's own order (higher total, then the exam's tie-break
/// sections, SKD: TKP, TIU, TWK); then higher grade average, a missing one last; then the
/// older applicant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FinalKey {
    // Field order is the derived order.
    total: Reverse<Milli>,
    skd: RankKey,
    gpa: Reverse<Option<Gpa>>,
    born: BirthDate,
}

impl FinalKey {
    /// `skd` is the SKD result's board key, [`RankKey::of`] its score.
    pub fn new(score: &FinalScore, skd: RankKey, gpa: Option<Gpa>, born: BirthDate) -> FinalKey {
        FinalKey { total: Reverse(score.total), skd, gpa: Reverse(gpa), born }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_codes_read_back_as_written() {
        for code in [ResultCode::PL, ResultCode::P, ResultCode::TL, ResultCode::TH, ResultCode::DIS] {
            assert_eq!(ResultCode::parse(code.as_str()), Some(code));
            assert_eq!(code.to_string(), code.as_str());
        }
        assert_eq!(ResultCode::PL.as_str(), "P/L");
        for bad in ["PL", "p/l", "L", "", " TL"] {
            assert_eq!(ResultCode::parse(bad), None, "{bad:?}");
        }
    }

    /// `(id, total, [TKP, TIU, TWK])` for one who sat and passed, `failed`/`absent`/`dis` otherwise.
    fn sat(id: &'static str, total: i64, tb: [i64; 3]) -> Candidate<&'static str> {
        Candidate { id, standing: Standing::Sat { key: RankKey::from_parts(total, &tb), passed: true } }
    }
    fn failed(id: &'static str, total: i64) -> Candidate<&'static str> {
        Candidate { id, standing: Standing::Sat { key: RankKey::from_parts(total, &[0, 0, 0]), passed: false } }
    }
    fn absent(id: &'static str) -> Candidate<&'static str> {
        Candidate { id, standing: Standing::Absent }
    }
    fn dis(id: &'static str) -> Candidate<&'static str> {
        Candidate { id, standing: Standing::Disqualified }
    }

    #[track_caller]
    fn check(candidates: Vec<Candidate<&'static str>>, openings: u32, multiplier: u32, expected: &str) {
        let got: Vec<String> = select(candidates, openings, multiplier)
            .into_iter()
            .map(|s| match s.rank {
                Some(r) => format!("{}:{}#{r}", s.id, s.code),
                None => format!("{}:{}", s.id, s.code),
            })
            .collect();
        assert_eq!(got.join(" "), expected);
    }

    #[test]
    fn the_first_multiplier_times_openings_who_passed_go_on() {
        let five = || {
            vec![
                sat("e", 300, [170, 80, 50]),
                sat("a", 400, [170, 130, 100]),
                sat("c", 380, [170, 110, 100]),
                sat("b", 390, [170, 120, 100]),
                sat("d", 350, [170, 100, 80]),
            ]
        };
        check(five(), 1, 3, "a:P/L#1 b:P/L#2 c:P/L#3 d:P#4 e:P#5");
        check(five(), 2, 3, "a:P/L#1 b:P/L#2 c:P/L#3 d:P/L#4 e:P/L#5");
        check(five(), 1, 1, "a:P/L#1 b:P#2 c:P#3 d:P#4 e:P#5");
        check(five(), 0, 3, "a:P#1 b:P#2 c:P#3 d:P#4 e:P#5");
        check(five(), u32::MAX, u32::MAX, "a:P/L#1 b:P/L#2 c:P/L#3 d:P/L#4 e:P/L#5");
    }

    #[test]
    fn everyone_tied_with_the_last_place_in_the_cut_goes_on() {
        let tb = [170, 110, 100];
        check(
            vec![
                sat("a", 400, [170, 130, 100]),
                sat("d", 380, tb),
                sat("b", 380, tb),
                sat("c", 380, tb),
                sat("e", 370, tb),
            ],
            1,
            2,
            "a:P/L#1 b:P/L#2 c:P/L#2 d:P/L#2 e:P#5",
        );
        // A tie just outside the cut is not pulled in.
        check(
            vec![sat("a", 400, tb), sat("b", 390, tb), sat("c", 380, tb), sat("d", 380, tb)],
            1,
            2,
            "a:P/L#1 b:P/L#2 c:P#3 d:P#3",
        );
        // Equal totals are not a tie: the sections decide before the cut does.
        check(vec![sat("a", 380, [170, 110, 100]), sat("b", 380, [171, 109, 100])], 1, 1, "b:P/L#1 a:P#2");
    }

    #[test]
    fn those_who_did_not_pass_or_sit_get_their_codes_and_no_rank() {
        check(
            vec![dis("z"), absent("y"), failed("x", 500), sat("m", 320, [166, 80, 74]), failed("w", 200), absent("b")],
            5,
            3,
            "m:P/L#1 x:TL w:TL b:TH y:TH z:DIS",
        );
        check(vec![], 1, 3, "");
    }

    #[test]
    fn milli_prints_three_decimals() {
        for (m, s) in [(73_600, "73.600"), (0, "0.000"), (5, "0.005"), (100_000, "100.000"), (-1_250, "-1.250")] {
            assert_eq!(Milli(m).to_string(), s);
        }
    }

    #[test]
    fn birth_dates_exist_only_on_the_calendar() {
        assert!(BirthDate::new(2000, 2, 29).is_some(), "2000 is a leap year");
        assert!(BirthDate::new(1900, 2, 29).is_none(), "1900 is not");
        assert!(BirthDate::new(1996, 2, 29).is_some());
        assert!(BirthDate::new(1997, 2, 29).is_none());
        assert!(BirthDate::new(1997, 4, 31).is_none());
        assert!(BirthDate::new(1997, 13, 1).is_none());
        assert!(BirthDate::new(1997, 1, 0).is_none());
        assert!(BirthDate::new(1997, 12, 31) < BirthDate::new(1998, 1, 1), "earlier is older is first");
    }
}
