//! The selection definition file (`selection.toml`): formations, the SKD stage, the SKB
//! stage and the final weights, parsed from its raw TOML shape into validated types.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use item_bank::{Diagnostic, Diagnostics, Points, SectionCode};
use scoring::Weights;
use serde::Deserialize;
use toml::Spanned;

/// A special track (jalur) a formation admits; applicants compete only within their
/// formation's track, which has its own openings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Track {
    General,
    CumlaudeDiaspora,
    Disability,
    Papua,
}

impl Track {
    pub const ALL: [Track; 4] = [Track::General, Track::CumlaudeDiaspora, Track::Disability, Track::Papua];

    pub fn as_str(self) -> &'static str {
        match self {
            Track::General => "general",
            Track::CumlaudeDiaspora => "cumlaude_diaspora",
            Track::Disability => "disability",
            Track::Papua => "papua",
        }
    }

    /// The track's Indonesian name, as committees write it in applicant lists.
    pub fn indonesian(self) -> &'static str {
        match self {
            Track::General => "umum",
            Track::CumlaudeDiaspora => "cumlaude_diaspora",
            Track::Disability => "disabilitas",
            Track::Papua => "papua",
        }
    }

    /// A track by its name in English or Indonesian, in any case.
    pub fn parse(s: &str) -> Option<Track> {
        let s = s.trim();
        Track::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s) || t.indonesian().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Track {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A formation's code, unique within the selection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FormationCode(String);

impl FormationCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FormationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An SKB component's id, unique within the selection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId(String);

impl ComponentId {
    /// A component id as the selection file and the score files write it.
    pub fn parse(s: &str) -> Option<ComponentId> {
        is_code(s).then(|| ComponentId(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One track of a formation: its openings and, where the rules of the year give the track
/// its own SKD thresholds, those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSlot {
    pub track: Track,
    pub openings: u32,
    /// Replaces the exam's threshold of each section named; a section not named keeps
    /// the exam's, and 0 drops it (the 2019 special tracks had a TIU minimum only).
    pub thresholds: BTreeMap<SectionCode, Points>,
    /// A minimum SKD total on top of the section thresholds (the 2019 special tracks'
    /// "nilai kumulatif").
    pub min_total: Option<Points>,
}

/// A formation: one position in one unit, with the tracks it admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formation {
    code: FormationCode,
    position: String,
    unit: String,
    education: String,
    tracks: Vec<TrackSlot>,
}

impl Formation {
    pub fn code(&self) -> &FormationCode {
        &self.code
    }
    pub fn position(&self) -> &str {
        &self.position
    }
    pub fn unit(&self) -> &str {
        &self.unit
    }
    /// The education the formation requires, as the committee wrote it (checked by the
    /// committee at registration, not here).
    pub fn education(&self) -> &str {
        &self.education
    }
    pub fn tracks(&self) -> &[TrackSlot] {
        &self.tracks
    }
    pub fn track(&self, track: Track) -> Option<&TrackSlot> {
        self.tracks.iter().find(|t| t.track == track)
    }
    /// Every track's openings together.
    pub fn openings(&self) -> u32 {
        self.tracks.iter().map(|t| t.openings).sum()
    }
}

/// What happens when fewer applicants of a formation's track met every SKD threshold than
/// `multiplier × openings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortfall {
    /// Only those who met every threshold go on; the SKB has fewer participants. The
    /// general rule.
    PassersOnly,
    /// The remaining places go to those below a threshold, by SKD total and the exam's
    /// tie-breaks (ties at the cut all through), as some years' rules allowed for
    /// formations that could not otherwise be filled. They are marked as such.
    FillByTotal,
}

impl Shortfall {
    pub fn as_str(self) -> &'static str {
        match self {
            Shortfall::PassersOnly => "passers_only",
            Shortfall::FillByTotal => "fill_by_total",
        }
    }
}

/// The SKD stage: which exam, and the cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkdStage {
    /// The exam's code in its exam file (e.g. `SKD-2026`), so results can be matched to it.
    pub exam: String,
    pub multiplier: u32,
    pub shortfall: Shortfall,
}

/// A rubric criterion: an assessor gives it a whole score in `min..=max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub id: String,
    pub name: String,
    pub min: i64,
    pub max: i64,
}

/// How an assessed component is scored: criteria summed, and how far two assessors'
/// sums may differ before the component is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rubric {
    criteria: Vec<Criterion>,
    tolerance: i64,
}

impl Rubric {
    pub fn criteria(&self) -> &[Criterion] {
        &self.criteria
    }
    pub fn tolerance(&self) -> i64 {
        self.tolerance
    }
    /// The most an assessor's sum can be: the component's raw maximum.
    pub fn max(&self) -> i64 {
        self.criteria.iter().map(|c| c.max).sum()
    }
}

/// How a component enters the SKB score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentRule {
    /// An SKB-CAT exam: its total out of `raw_max`, normalised to 0..100.
    Cat { weight: u32, raw_max: i64 },
    /// Scored by two assessors on the rubric; the rubric's maximum normalises it.
    Assessed { weight: u32, rubric: Rubric },
    /// Pass or fail only (a physical test): gates, does not weigh.
    PassFail,
}

/// One component of the SKB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    id: ComponentId,
    name: String,
    rule: ComponentRule,
}

impl Component {
    pub fn id(&self) -> &ComponentId {
        &self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn rule(&self) -> &ComponentRule {
        &self.rule
    }
    /// The weight in percent of the SKB score; 0 for a pass/fail component.
    pub fn weight(&self) -> u32 {
        match self.rule {
            ComponentRule::Cat { weight, .. } | ComponentRule::Assessed { weight, .. } => weight,
            ComponentRule::PassFail => 0,
        }
    }
}

/// A whole selection, validated: every formation code and component id unique, every
/// track admitted once, SKB weights adding up to 100, final weights adding up to 100.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    name: String,
    formations: Vec<Formation>,
    skd: SkdStage,
    skb: Vec<Component>,
    weights: Weights,
}

impl Selection {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn formations(&self) -> &[Formation] {
        &self.formations
    }
    pub fn formation(&self, code: &str) -> Option<&Formation> {
        self.formations.iter().find(|f| f.code.0 == code)
    }
    pub fn skd(&self) -> &SkdStage {
        &self.skd
    }
    pub fn skb(&self) -> &[Component] {
        &self.skb
    }
    pub fn component(&self, id: &str) -> Option<&Component> {
        self.skb.iter().find(|c| c.id.0 == id)
    }
    /// The final score's stage weights (SKD 40, SKB 60 unless the file says otherwise).
    pub fn weights(&self) -> Weights {
        self.weights
    }

    /// Parses `selection.toml`; every problem comes back at once, with file and line.
    pub fn parse(file: &str, text: &str) -> Result<Selection, Diagnostics> {
        let lines = LineIndex::new(text);
        let raw: RawSelection = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let line = e.span().map(|s| lines.line(s.start));
                return Err(Diagnostics(vec![diag(file, line, None, e.message().to_owned())]));
            }
        };
        Selection::try_from(Located { raw, lines: &lines }).map_err(|problems| {
            let mut d: Vec<Diagnostic> =
                problems.into_iter().map(|p| diag(file, Some(p.line), Some(p.field), p.message)).collect();
            d.sort_by_key(|d| d.line);
            Diagnostics(d)
        })
    }
}

fn diag(file: &str, line: Option<usize>, field: Option<String>, message: String) -> Diagnostic {
    Diagnostic { file: file.to_owned(), line, item: None, field, message }
}

/// A problem in the file before a file name is attached.
#[derive(Debug)]
pub struct Problem {
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// Byte offsets to 1-based lines.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset).max(1)
    }
}

/// A raw file with what turns its spans into lines.
pub struct Located<'a> {
    raw: RawSelection,
    lines: &'a LineIndex,
}

const DEFAULT_MULTIPLIER: u32 = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelection {
    name: Spanned<String>,
    #[serde(default, rename = "formation")]
    formations: Vec<Spanned<RawFormation>>,
    skd: Spanned<RawSkd>,
    skb: Spanned<RawSkb>,
    #[serde(rename = "final", default)]
    final_: Option<Spanned<RawFinal>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormation {
    code: String,
    position: String,
    unit: String,
    education: String,
    tracks: Vec<Spanned<RawTrack>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrack {
    track: String,
    openings: u32,
    #[serde(default)]
    thresholds: BTreeMap<String, i64>,
    min_total: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkd {
    exam: String,
    multiplier: Option<u32>,
    shortfall: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkb {
    #[serde(default, rename = "component")]
    components: Vec<Spanned<RawComponent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    id: String,
    name: String,
    kind: String,
    weight: Option<u32>,
    raw_max: Option<i64>,
    #[serde(default)]
    pass_fail: bool,
    rubric: Option<RawRubric>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    tolerance: i64,
    criteria: Vec<RawCriterion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    id: String,
    name: String,
    min: i64,
    max: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinal {
    skd_weight: u32,
    skb_weight: u32,
}

/// Collects problems, each at a line.
struct Sink<'a> {
    lines: &'a LineIndex,
    problems: Vec<Problem>,
}

impl Sink<'_> {
    fn at<T>(&mut self, spanned: &Spanned<T>, field: &str, message: impl Into<String>) {
        let line = self.lines.line(spanned.span().start);
        self.problems.push(Problem { line, field: field.to_owned(), message: message.into() });
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl TryFrom<Located<'_>> for Selection {
    type Error = Vec<Problem>;

    fn try_from(located: Located<'_>) -> Result<Selection, Vec<Problem>> {
        let Located { raw, lines } = located;
        let mut s = Sink { lines, problems: Vec::new() };
        if raw.name.get_ref().trim().is_empty() {
            s.at(&raw.name, "name", "the selection needs a name");
        }
        if raw.formations.is_empty() {
            s.at(&raw.name, "formation", "no [[formation]] tables: a selection needs at least one");
        }
        let mut formations = Vec::new();
        let mut codes = BTreeSet::new();
        for f in &raw.formations {
            if let Some(formation) = formation(f, &mut s) {
                if !codes.insert(formation.code.clone()) {
                    s.at(f, "code", format!("formation {} is defined twice", formation.code));
                }
                formations.push(formation);
            }
        }
        let skd = skd(&raw.skd, &mut s);
        let skb = skb(&raw.skb, &mut s);
        let weights = match &raw.final_ {
            None => Weights::new(40, 60).ok(),
            Some(f) => match Weights::new(f.get_ref().skd_weight, f.get_ref().skb_weight) {
                Ok(w) => Some(w),
                Err(e) => {
                    s.at(f, "final", e.to_string());
                    None
                }
            },
        };
        match (s.problems.is_empty(), skd, weights) {
            (true, Some(skd), Some(weights)) => {
                Ok(Selection { name: raw.name.into_inner(), formations, skd, skb, weights })
            }
            _ => Err(s.problems),
        }
    }
}

fn formation(f: &Spanned<RawFormation>, s: &mut Sink<'_>) -> Option<Formation> {
    let raw = f.get_ref();
    let before = s.problems.len();
    if !is_code(&raw.code) {
        s.at(f, "code", format!("{:?} may only hold letters, digits, '-' and '_'", raw.code));
    }
    for (field, value) in [("position", &raw.position), ("unit", &raw.unit), ("education", &raw.education)] {
        if value.trim().is_empty() {
            s.at(f, field, format!("formation {} needs a {field}", raw.code));
        }
    }
    if raw.tracks.is_empty() {
        s.at(f, "tracks", format!("formation {} admits no track", raw.code));
    }
    let mut tracks: Vec<TrackSlot> = Vec::new();
    for t in &raw.tracks {
        let rt = t.get_ref();
        let Some(track) = Track::parse(&rt.track) else {
            let names: Vec<&str> = Track::ALL.iter().map(|t| t.as_str()).collect();
            s.at(t, "track", format!("{:?} is not a track (one of {})", rt.track, names.join(", ")));
            continue;
        };
        if tracks.iter().any(|x| x.track == track) {
            s.at(t, "track", format!("formation {} admits {track} twice", raw.code));
        }
        if rt.openings == 0 {
            s.at(t, "openings", format!("formation {} track {track}: openings must be at least 1", raw.code));
        }
        let mut thresholds = BTreeMap::new();
        for (section, &points) in &rt.thresholds {
            if !is_code(section) {
                s.at(t, "thresholds", format!("{section:?} is not a section code"));
            } else if points < 0 {
                s.at(t, "thresholds", format!("{section}: a threshold cannot be negative, got {points}"));
            } else {
                thresholds.insert(SectionCode::new_unchecked(section), Points(points));
            }
        }
        if let Some(m) = rt.min_total
            && m < 0
        {
            s.at(
                t,
                "min_total",
                format!("formation {} track {track}: min_total cannot be negative, got {m}", raw.code),
            );
        }
        tracks.push(TrackSlot { track, openings: rt.openings, thresholds, min_total: rt.min_total.map(Points) });
    }
    (s.problems.len() == before).then(|| Formation {
        code: FormationCode(raw.code.clone()),
        position: raw.position.trim().to_owned(),
        unit: raw.unit.trim().to_owned(),
        education: raw.education.trim().to_owned(),
        tracks,
    })
}

fn skd(raw: &Spanned<RawSkd>, s: &mut Sink<'_>) -> Option<SkdStage> {
    let r = raw.get_ref();
    let before = s.problems.len();
    if r.exam.trim().is_empty() {
        s.at(raw, "exam", "the SKD stage needs the exam's code");
    }
    let multiplier = r.multiplier.unwrap_or(DEFAULT_MULTIPLIER);
    if multiplier == 0 {
        s.at(raw, "multiplier", "the multiplier must be at least 1");
    }
    let shortfall = match r.shortfall.as_deref() {
        None | Some("passers_only") => Shortfall::PassersOnly,
        Some("fill_by_total") => Shortfall::FillByTotal,
        Some(other) => {
            s.at(raw, "shortfall", format!("{other:?} is not \"passers_only\" or \"fill_by_total\""));
            Shortfall::PassersOnly
        }
    };
    (s.problems.len() == before).then(|| SkdStage { exam: r.exam.trim().to_owned(), multiplier, shortfall })
}

fn skb(raw: &Spanned<RawSkb>, s: &mut Sink<'_>) -> Vec<Component> {
    let comps = &raw.get_ref().components;
    if comps.is_empty() {
        s.at(raw, "component", "the SKB has no [[skb.component]]");
        return Vec::new();
    }
    let mut out: Vec<Component> = Vec::new();
    let mut weighed = false;
    // A component whose kind could not be read has no weight to add: no sum is reported then.
    let mut unread = false;
    let mut ids = BTreeSet::new();
    for c in comps {
        let r = c.get_ref();
        if !is_code(&r.id) {
            s.at(c, "id", format!("{:?} may only hold letters, digits, '-' and '_'", r.id));
        } else if !ids.insert(r.id.as_str()) {
            s.at(c, "id", format!("component {} is defined twice", r.id));
        }
        if r.name.trim().is_empty() {
            s.at(c, "name", format!("component {} needs a name", r.id));
        }
        let rule = if r.pass_fail {
            if r.weight.is_some() || r.raw_max.is_some() || r.rubric.is_some() {
                s.at(
                    c,
                    "pass_fail",
                    format!("component {}: a pass/fail component has no weight, raw_max or rubric", r.id),
                );
            }
            if r.kind != "assessed" {
                s.at(c, "kind", format!("component {}: a pass/fail component is \"assessed\"", r.id));
            }
            ComponentRule::PassFail
        } else {
            weighed = true;
            let weight = match r.weight {
                Some(w) if w > 0 && w <= 100 => w,
                Some(w) => {
                    s.at(c, "weight", format!("component {}: weight {w} is not in 1..=100", r.id));
                    0
                }
                None => {
                    s.at(
                        c,
                        "weight",
                        format!("component {}: a weighed component needs a weight (or pass_fail = true)", r.id),
                    );
                    0
                }
            };
            match r.kind.as_str() {
                "cat" => {
                    if r.rubric.is_some() {
                        s.at(
                            c,
                            "rubric",
                            format!("component {}: a cat component is scored by its exam, not a rubric", r.id),
                        );
                    }
                    let raw_max = match r.raw_max {
                        Some(m) if m > 0 => m,
                        _ => {
                            s.at(
                                c,
                                "raw_max",
                                format!("component {}: a cat component needs raw_max > 0 (its exam's maximum)", r.id),
                            );
                            1
                        }
                    };
                    ComponentRule::Cat { weight, raw_max }
                }
                "assessed" => {
                    if r.raw_max.is_some() {
                        s.at(
                            c,
                            "raw_max",
                            format!("component {}: an assessed component's maximum is its rubric's", r.id),
                        );
                    }
                    let rubric = match &r.rubric {
                        Some(rb) => rubric(c, rb, s),
                        None => {
                            s.at(c, "rubric", format!("component {}: an assessed component needs a rubric", r.id));
                            Rubric { criteria: Vec::new(), tolerance: 0 }
                        }
                    };
                    ComponentRule::Assessed { weight, rubric }
                }
                other => {
                    s.at(c, "kind", format!("component {}: {other:?} is not \"cat\" or \"assessed\"", r.id));
                    unread = true;
                    ComponentRule::PassFail
                }
            }
        };
        out.push(Component { id: ComponentId(r.id.clone()), name: r.name.trim().to_owned(), rule });
    }
    let sum: u32 = out.iter().map(Component::weight).sum();
    if unread {
        return out;
    }
    if !weighed {
        s.at(raw, "weight", "the SKB has no weighed component: pass/fail ones cannot make a score");
    } else if sum != 100 {
        let parts: Vec<String> =
            out.iter().filter(|c| c.weight() > 0).map(|c| format!("{} {}", c.id, c.weight())).collect();
        s.at(raw, "weight", format!("SKB weights must add up to 100 percent, got {sum} ({})", parts.join(" + ")));
    }
    out
}

fn rubric(c: &Spanned<RawComponent>, r: &RawRubric, s: &mut Sink<'_>) -> Rubric {
    let id = &c.get_ref().id;
    if r.criteria.is_empty() {
        s.at(c, "rubric", format!("component {id}: the rubric has no criteria"));
    }
    let mut seen = BTreeSet::new();
    for k in &r.criteria {
        if !seen.insert(k.id.as_str()) {
            s.at(c, "criteria", format!("component {id}: criterion {} is listed twice", k.id));
        }
        if k.min < 0 || k.min >= k.max {
            s.at(
                c,
                "criteria",
                format!("component {id}: criterion {} range {}..={} needs 0 <= min < max", k.id, k.min, k.max),
            );
        }
    }
    if r.tolerance < 0 {
        s.at(c, "tolerance", format!("component {id}: tolerance cannot be negative, got {}", r.tolerance));
    }
    Rubric {
        criteria: r
            .criteria
            .iter()
            .map(|k| Criterion { id: k.id.clone(), name: k.name.trim().to_owned(), min: k.min, max: k.max })
            .collect(),
        tolerance: r.tolerance,
    }
}
