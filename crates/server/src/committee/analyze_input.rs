//! Stored sessions turned into what `analytics` reads, and what the reports share: every item drawn in scope as an
//! [`ItemInfo`], every started session as a [`Sheet`] with its answer lines in the item's
//! own labels (the paper's option shuffle undone) and server times in milliseconds.

use std::collections::HashMap;

use analytics::{ItemFlag, ItemInfo, Line, Sheet, SimilarPair};
use item_bank::{ItemId, Label};
use session_engine::{PaperEntry, Status};
use store::Store;

use crate::sittings::SittingStatus;

/// Everything an analysis of one exam (or one of its sittings) reads.
pub(super) struct Data {
    pub(super) exam: String,
    /// Every item drawn on a started session's paper, in first-drawn order.
    pub(super) items: Vec<ItemInfo>,
    /// One per started session; `candidate` is the participant number.
    pub(super) sheets: Vec<Sheet>,
    /// The candidate's name and session id, indexed like `sheets`.
    pub(super) who: Vec<(String, String)>,
    /// Each sitting in scope with its sheets (indexes into `sheets`): the rooms compared.
    pub(super) rooms: Vec<(String, Vec<usize>)>,
    /// Sittings in scope that are not closed: their figures may still change.
    pub(super) not_closed: Vec<String>,
}

/// The refusal for an exam or sitting that is not stored, naming those that are, so the
/// committee need not guess a code.
pub(super) async fn not_stored(store: &Store, what: &str, name: &str) -> anyhow::Error {
    let sittings = store.sittings(None).await.unwrap_or_default();
    let mut known: Vec<&str> =
        sittings.iter().map(|s| if what == "exam" { s.exam_code.as_str() } else { s.id.as_str() }).collect();
    known.sort_unstable();
    known.dedup();
    let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
    anyhow::anyhow!("{what} {name} does not exist (with sittings: {known})")
}

/// Loads the started sessions of `sitting`, or of every sitting of `exam`. Refuses an
/// unknown exam or sitting, or a sitting of another exam, before anything is written.
pub(super) async fn load(store: &Store, exam: Option<&str>, sitting: Option<&str>) -> anyhow::Result<Data> {
    let exam_code = match (exam, sitting) {
        (_, Some(id)) => {
            let Some(s) = store.get_sitting(id).await? else { return Err(not_stored(store, "sitting", id).await) };
            if let Some(code) = exam.filter(|code| *code != s.exam_code) {
                anyhow::bail!("sitting {id} is a sitting of exam {}, not of {code}", s.exam_code);
            }
            s.exam_code
        }
        (Some(code), None) => code.to_owned(),
        (None, None) => anyhow::bail!("give --exam or --sitting"),
    };
    let Some(stored) = store.get_exam(&exam_code).await? else {
        return Err(not_stored(store, "exam", &exam_code).await);
    };
    let mut in_scope: Vec<(String, String)> = store
        .sittings(None)
        .await?
        .into_iter()
        .filter(|s| s.exam_code == exam_code && sitting.is_none_or(|id| id == s.id))
        .map(|s| (s.id, s.status))
        .collect();
    in_scope.sort();
    let mut data = Data {
        exam: exam_code,
        items: Vec::new(),
        sheets: Vec::new(),
        who: Vec::new(),
        rooms: Vec::new(),
        not_closed: Vec::new(),
    };
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for (sitting_id, status) in in_scope {
        if status.parse() != Ok(SittingStatus::Closed) {
            data.not_closed.push(format!("{sitting_id} ({status})"));
        }
        let starts: HashMap<String, Option<String>> = store.session_starts_of(&sitting_id).await?.into_iter().collect();
        let mut lines: HashMap<String, Vec<store::AnswerLine>> = HashMap::new();
        for line in store.answer_lines_of(&sitting_id).await? {
            lines.entry(line.session_id.clone()).or_default().push(line);
        }
        let mut room = Vec::new();
        for rec in store.load_every_session_of(&sitting_id).await? {
            if matches!(Status::from_stored(&rec.status, rec.finish_reason.as_deref()), Some(Status::Ready)) {
                continue;
            }
            let log = lines.remove(&rec.id).unwrap_or_default();
            let start = starts.get(&rec.id).cloned().flatten();
            let sheet = sheet(&stored.bank, &rec, start.as_deref(), &log, &mut index_of, &mut data.items)?;
            room.push(data.sheets.len());
            data.sheets.push(sheet);
            data.who.push((rec.name, rec.id));
        }
        data.rooms.push((sitting_id, room));
    }
    Ok(data)
}

fn millis(ts: &str, session: &str) -> anyhow::Result<i64> {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| t.timestamp_millis())
        .map_err(|e| anyhow::anyhow!("session {session}: bad timestamp {ts:?}: {e}"))
}

/// One session as a sheet: its paper as indexes into `items` (adding the items first seen
/// here) and its answer lines in the item's own labels.
fn sheet(
    bank: &item_bank::Bank,
    rec: &store::SessionRecord,
    started_at: Option<&str>,
    log: &[store::AnswerLine],
    index_of: &mut HashMap<String, usize>,
    items: &mut Vec<ItemInfo>,
) -> anyhow::Result<Sheet> {
    let mut paper = Vec::with_capacity(rec.paper.len());
    let mut orders = Vec::with_capacity(rec.paper.len());
    for row in &rec.paper {
        let index = match index_of.get(&row.item_id) {
            Some(&i) => i,
            None => {
                let item = bank
                    .item(&ItemId::new_unchecked(row.item_id.clone()))
                    .ok_or_else(|| anyhow::anyhow!("session {}: item {} is not in the bank", rec.id, row.item_id))?;
                items.push(ItemInfo::from(item));
                index_of.insert(row.item_id.clone(), items.len() - 1);
                items.len() - 1
            }
        };
        paper.push(index);
        orders.push(
            PaperEntry::parse_order(&row.option_order)
                .ok_or_else(|| anyhow::anyhow!("session {}: bad option order", rec.id))?,
        );
    }
    let mut lines = Vec::with_capacity(log.len());
    for line in log {
        let Ok(position) = usize::try_from(line.position) else { continue };
        let Some(order) = orders.get(position) else { continue };
        let shown = line.choice.as_deref().and_then(Label::parse);
        let choice = shown.and_then(|l| order.get(l.index()).copied());
        lines.push(Line { at_ms: millis(&line.server_ts, &rec.id)?, position, choice });
    }
    let start_ms = match started_at {
        Some(ts) => millis(ts, &rec.id)?,
        None => lines.first().map_or(0, |l| l.at_ms),
    };
    Ok(Sheet { candidate: rec.participant_no.clone(), start_ms, paper, lines })
}

pub(super) fn flag_text(flag: &ItemFlag) -> String {
    match flag {
        ItemFlag::PossibleWrongKey(l) => format!("possible_wrong_key:{l}"),
        ItemFlag::UnusedOption(l) => format!("unused_option:{l}"),
        ItemFlag::NegativeDiscrimination => "negative_discrimination".to_owned(),
    }
}

/// One sheet of the room (its index) with its fast right answers, idle bursts and the
/// positions it cycled through options on.
pub(super) type OwnFlags = (usize, Vec<analytics::FastAnswer>, Vec<analytics::IdleBurst>, Vec<usize>);

/// Everything the integrity report says about one sitting.
pub(super) struct Integrity {
    pub(super) room: Vec<usize>,
    pub(super) similarity: analytics::SimilarityReport,
    pub(super) lockstep: Vec<analytics::Lockstep>,
    pub(super) wrong_to_right: Vec<analytics::ChangeRate>,
    /// One per sheet of the room, in room order.
    pub(super) per_candidate: Vec<OwnFlags>,
    /// Per sheet of the room, the client events its log holds (focus lost, page hidden,
    /// copy, …) by kind: context for the flags, not a flag.
    pub(super) events: std::collections::HashMap<usize, std::collections::BTreeMap<String, usize>>,
    /// Per sheet of the room, its count of each of [`SESSION_CHECKS`], in that order.
    pub(super) session_counts: HashMap<usize, [usize; SESSION_CHECKS.len()]>,
    /// The counts that stand out from the room's, with the index of their check.
    pub(super) unusual: Vec<(usize, analytics::UnusualCount)>,
}

/// The session events compared against the room, as (flag word, what is counted). Client
/// events are the page's own claims; logins, moves, reconnects and takeovers come from the
/// audit log, where the server writes them.
pub(super) const SESSION_CHECKS: [(&str, &[&str]); 6] = [
    ("focus_losses", &["focus_lost", "page_hidden", "fullscreen_exit"]),
    ("copy_paste", &["copy", "paste", "print"]),
    ("relogins", &["candidate.login after the first"]),
    ("pc_moves", &["candidate.login that moved the session"]),
    ("reconnects", &["candidate.reconnect of the same login"]),
    ("takeovers", &["candidate.reconnect that took the seat from another connection"]),
];

/// Fills `found.session_counts` and `found.unusual` from the client events already in
/// `found.events` and each session's counts from the audit log.
pub(super) fn judge_sessions(found: &mut Integrity, logins: &HashMap<usize, store::LoginCounts>, alpha: f64) {
    for &c in &found.room {
        let kinds = found.events.get(&c);
        let client = |names: &[&str]| names.iter().map(|k| kinds.and_then(|m| m.get(*k)).copied().unwrap_or(0)).sum();
        let n = logins.get(&c).cloned().unwrap_or_default();
        let count = |x: i64| usize::try_from(x).unwrap_or(0);
        let counts = [
            client(SESSION_CHECKS[0].1),
            client(SESSION_CHECKS[1].1),
            count(n.logins).saturating_sub(1),
            count(n.moves),
            count(n.reconnects),
            count(n.takeovers),
        ];
        found.session_counts.insert(c, counts);
    }
    for check in 0..SESSION_CHECKS.len() {
        let counts: Vec<(usize, usize)> =
            found.room.iter().map(|&c| (c, found.session_counts.get(&c).map_or(0, |n| n[check]))).collect();
        found.unusual.extend(analytics::unusual_counts(&counts, alpha, MIN_EVENTS).into_iter().map(|u| (check, u)));
    }
}

/// Fewer events of a kind than this are never flagged, however quiet the room.
const MIN_EVENTS: usize = 3;

/// The flags of sheet `c`, as short words for a table.
pub(super) fn candidate_flags(found: &Integrity, c: usize) -> Vec<String> {
    let mut flags = Vec::new();
    let similar = found.similarity.flagged.iter().filter(|p| p.a == c || p.b == c).count();
    if similar > 0 {
        flags.push(format!("similar_answers:{similar}"));
    }
    let lockstep = found.lockstep.iter().filter(|l| l.a == c || l.b == c).count();
    if lockstep > 0 {
        flags.push(format!("lockstep:{lockstep}"));
    }
    if found.wrong_to_right.iter().any(|w| w.candidate == c) {
        flags.push("wrong_to_right".to_owned());
    }
    if let Some((_, fast, idle, cycling)) = found.per_candidate.iter().find(|(x, ..)| *x == c) {
        if !fast.is_empty() {
            flags.push(format!("fast_answers:{}", fast.len()));
        }
        if !idle.is_empty() {
            flags.push(format!("idle_bursts:{}", idle.len()));
        }
        if !cycling.is_empty() {
            flags.push(format!("cycling:{}", cycling.len()));
        }
    }
    for (check, u) in found.unusual.iter().filter(|(_, u)| u.candidate == c) {
        flags.push(format!("{}:{}", SESSION_CHECKS[*check].0, u.count));
    }
    flags
}

/// The flagged pairs, then the most similar ones not flagged, each once.
pub(super) fn pairs(found: &Integrity) -> Vec<(bool, &SimilarPair)> {
    let flagged = &found.similarity.flagged;
    let key = |p: &SimilarPair| (p.a, p.b);
    let mut out: Vec<(bool, &SimilarPair)> = flagged.iter().map(|p| (true, p)).collect();
    out.extend(
        found.similarity.most_similar.iter().filter(|p| !flagged.iter().any(|f| key(f) == key(p))).map(|p| (false, p)),
    );
    out
}

/// Sheet `c`'s client events as `kind:count` words.
pub(super) fn events_text(found: &Integrity, c: usize) -> String {
    found
        .events
        .get(&c)
        .map_or_else(String::new, |kinds| kinds.iter().map(|(k, n)| format!("{k}:{n}")).collect::<Vec<_>>().join(" "))
}
