//! The public board: running and final scores, ranked, per sitting, per venue and per exam.
//!
//! Every acknowledged answer marks the candidate's session in the [`BoardHub`] (a hash
//! insert). The row is computed and re-ranked (an O(log n) index update per board) when
//! the board is next read or ticks, so a candidate answering twenty times between two
//! ticks costs one update, not twenty. A ticker turns each board's changes into at most
//! one delta frame per [`TICK`], serialised once and shared by every viewer, so the cost
//! of a viewer does not grow with the answer rate. The first page a connecting viewer gets
//! is serialised once per board version and shared too, so a room of public screens (or a
//! thousand phones) connecting at once costs one snapshot, not one each. A viewer that lags
//! behind gets a fresh snapshot instead of the frames it missed.
//!
//! What a row shows of a session still running is the exam's `[board]` policy
//! ([`item_bank::BoardRunning`]), decided where the row is built (`Live::row_update`), not
//! per answer: by default no score until the finish, since a score that moves with each
//! answer tells whoever watches which option is keyed. Rows with a score are ranked by it;
//! rows without one follow, unranked, running ones by progress, then those not started.

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use item_bank::{BoardNames, Exam};
use std::cmp::Reverse;

use item_bank::BoardRunning;
use scoring::{RankIndex, RankKey, Score};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::clock::Clock;

/// At most this many frames a second reach a viewer, whatever the answer rate.
pub const TICK: Duration = Duration::from_millis(250);
/// Frames a viewer may fall behind before it is sent a snapshot instead.
const BACKLOG: usize = 64;
/// The most rows one snapshot page carries.
pub const MAX_PAGE: usize = 5_000;
/// A comment line after this long without a frame keeps proxies from closing the feed.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Which board: one sitting, one venue (across its sittings of an exam), or a whole exam.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BoardId {
    Sitting(String),
    Venue { exam: String, venue: String },
    Exam(String),
}

impl BoardId {
    pub fn parse(kind: &str, id: &str, exam: Option<&str>) -> Option<BoardId> {
        match kind {
            "sitting" => Some(BoardId::Sitting(id.to_owned())),
            "exam" => Some(BoardId::Exam(id.to_owned())),
            "venue" => Some(BoardId::Venue { exam: exam?.to_owned(), venue: id.to_owned() }),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            BoardId::Sitting(_) => "sitting",
            BoardId::Venue { .. } => "venue",
            BoardId::Exam(_) => "exam",
        }
    }

    fn name(&self) -> &str {
        match self {
            BoardId::Sitting(s) | BoardId::Exam(s) => s,
            BoardId::Venue { venue, .. } => venue,
        }
    }
}

/// The exam facts a board needs: section order, thresholds, tie-breaks, name policy.
#[derive(Debug, Clone, Serialize)]
pub struct BoardExam {
    pub code: String,
    pub title: String,
    pub sections: Vec<BoardSection>,
    pub tie_break: Vec<String>,
    pub names: Names,
    /// Questions on every paper: a running row shows `answered` of this many.
    pub questions: u32,
    /// What a running row shows: `progress`, `interval` or `live` (the exam's `[board]`).
    pub running: &'static str,
    /// With `running = "interval"`: scores as they stood at the last mark of this many
    /// minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_minutes: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardSection {
    pub code: String,
    pub name: String,
    pub threshold: i64,
}

impl BoardExam {
    pub fn of(exam: &Exam) -> BoardExam {
        BoardExam {
            code: exam.code().to_owned(),
            title: exam.title().to_owned(),
            sections: exam
                .sections()
                .iter()
                .map(|s| BoardSection { code: s.code.to_string(), name: s.name.clone(), threshold: s.threshold.0 })
                .collect(),
            tie_break: exam.tie_break().iter().map(|s| s.to_string()).collect(),
            names: exam.board_names().into(),
            questions: exam.total_items(),
            running: exam.board().running.name(),
            interval_minutes: match exam.board().running {
                BoardRunning::Interval { minutes } => Some(minutes),
                BoardRunning::Progress | BoardRunning::Live => None,
            },
        }
    }
}

/// How a board shows candidates' names, as the exam's `[board] names` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Names {
    Full,
    /// Each word's first letter, the rest starred ("A** L******").
    Masked,
}

impl Names {
    pub fn as_str(self) -> &'static str {
        match self {
            Names::Full => "full",
            Names::Masked => "masked",
        }
    }

    /// A name as this policy shows it.
    pub fn show(self, name: &str) -> String {
        match self {
            Names::Full => name.to_owned(),
            Names::Masked => mask_name(name),
        }
    }
}

impl From<BoardNames> for Names {
    fn from(names: BoardNames) -> Names {
        match names {
            BoardNames::Full => Names::Full,
            BoardNames::Masked => Names::Masked,
        }
    }
}

/// A string that is no [`Names`] policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name policy {0:?}")]
pub struct UnknownNames(pub String);

impl std::str::FromStr for Names {
    type Err = UnknownNames;

    fn from_str(s: &str) -> Result<Names, UnknownNames> {
        match s {
            "full" => Ok(Names::Full),
            "masked" => Ok(Names::Masked),
            _ => Err(UnknownNames(s.to_owned())),
        }
    }
}

/// One candidate's line on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The session id: unique, and the last tie-break (ascending).
    pub id: String,
    pub participant_no: String,
    /// As the exam's setting says: in full, or masked ("A** L******").
    pub name: String,
    pub sitting: String,
    pub venue: String,
    /// Points per section, in the exam's section order. Absent while the exam's policy
    /// hides a running session's score, and before a session starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Questions answered so far: the board shows progress, and every first answer to a
    /// question moves the row even when it earns nothing.
    pub answered: u32,
    /// Every section at or above its threshold (for a running score: so far); absent with
    /// the score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    /// `ready` (not started), `active`, `paused`, `finished`.
    pub status: String,
    /// Set when finished: `submitted`, `time_up`, `terminated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Competition rank on the board it is sent for (snapshots only), among the rows with
    /// a score; absent for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
}

/// A score the board may show, with its place in the exam's order.
#[derive(Debug, Clone)]
pub struct Scored {
    pub score: Score,
    pub key: RankKey,
}

/// What changes a row: the latest status, progress and (where the policy shows it) score
/// of a session.
#[derive(Debug, Clone)]
pub struct RowUpdate {
    pub id: String,
    pub participant_no: String,
    pub name: String,
    pub sitting: String,
    pub venue: String,
    pub exam: Arc<BoardExam>,
    /// `None`: no score is shown (hidden by the policy, or not started).
    pub scored: Option<Scored>,
    pub answered: u32,
    pub status: String,
    pub reason: Option<String>,
}

/// A row's place on a board: rows with a score first, ranked by it; then running rows
/// without one, most answered first; then rows not started. Ties fall to the session id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum BoardKey {
    Scored(RankKey),
    Running(Reverse<u32>),
    NotStarted,
}

impl BoardKey {
    fn of(u: &RowUpdate) -> BoardKey {
        match (&u.scored, u.status.as_str()) {
            (Some(s), _) => BoardKey::Scored(s.key.clone()),
            (None, "ready") => BoardKey::NotStarted,
            (None, _) => BoardKey::Running(Reverse(u.answered)),
        }
    }
}

/// A frame for viewers, serialised once as a whole Server-Sent Event
/// (`event: NAME\ndata: JSON\n\n`) and shared: each viewer's response sends the same
/// bytes, with no copy of its own.
#[derive(Debug, Clone)]
pub struct Frame {
    pub version: u64,
    pub sse: Bytes,
    /// Where the JSON lies in `sse`: the HTTP snapshot sends that slice of the same bytes.
    json: std::ops::Range<usize>,
}

impl Frame {
    /// `value` as the event `name`. serde_json writes no line breaks (they are escaped
    /// inside strings), so the JSON is one `data:` line.
    fn event(version: u64, name: &str, value: &impl Serialize) -> serde_json::Result<Frame> {
        let mut sse = Vec::with_capacity(4096);
        sse.extend_from_slice(b"event: ");
        sse.extend_from_slice(name.as_bytes());
        sse.extend_from_slice(b"\ndata: ");
        let start = sse.len();
        serde_json::to_writer(&mut sse, value)?;
        let json = start..sse.len();
        sse.extend_from_slice(b"\n\n");
        Ok(Frame { version, sse: sse.into(), json })
    }

    /// The event's JSON alone, sharing the event's bytes.
    pub fn json(&self) -> Bytes {
        self.sse.slice(self.json.clone())
    }
}

struct Board {
    exam: Arc<BoardExam>,
    index: RankIndex<BoardKey, String>,
    changed: BTreeSet<String>,
    version: u64,
    tx: broadcast::Sender<Frame>,
}

#[derive(Default)]
struct Hub {
    rows: HashMap<String, Row>,
    boards: HashMap<BoardId, Board>,
}

/// Something whose board row is read when the board next needs it: a live session.
pub trait RowSource: Send + Sync {
    /// The row as stored now; `None` when this source no longer speaks for its row (a
    /// copy replaced by another, which is marked in its place).
    fn row_update(&self) -> Option<RowUpdate>;
}

/// Every board, shared by the answer path (updates) and the viewers (reads).
#[derive(Default)]
pub struct BoardHub {
    inner: Mutex<Hub>,
    /// Rows changed since the last flush, by the identity of their source.
    dirty: Mutex<HashMap<usize, Arc<dyn RowSource>>>,
    /// Held through a flush: two at once (a read and the tick) could otherwise each read a
    /// row and write it in the other order, an older score over a newer.
    flushing: Mutex<()>,
    /// Each watched or current board's first page, serialised, with the version it was
    /// taken at; the feed's first frame and the HTTP snapshot both send it. An async lock
    /// per board: viewers arriving while it is being built wait for it instead of each
    /// building their own, and other boards' viewers do not wait at all.
    feed_pages: Mutex<HashMap<BoardId, Arc<tokio::sync::Mutex<Option<Frame>>>>>,
    /// First pages built since the start: one per board version however many read it.
    pages_built: AtomicU64,
    /// Tells this server's pages from an earlier run's in an `ETag`: versions restart at
    /// zero with the server.
    pub epoch: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// "Ani Lestari" → "A** L******": enough for a candidate to find themself, not enough to
/// identify a stranger. Participant numbers are always shown in full.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            first + &"*".repeat(chars.count())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl BoardHub {
    pub fn new() -> BoardHub {
        BoardHub { epoch: rand::random(), ..BoardHub::default() }
    }

    /// Notes that `source`'s row changed; it is read at the next flush (every read of the
    /// board and every tick flush first, so readers always see it).
    pub fn mark(&self, source: Arc<dyn RowSource>) {
        let key = Arc::as_ptr(&source).cast::<()>() as usize;
        lock(&self.dirty).insert(key, source);
    }

    /// Reads every marked row and puts it on its boards.
    fn flush(&self) {
        let _one_at_a_time = lock(&self.flushing);
        let dirty = std::mem::take(&mut *lock(&self.dirty));
        for source in dirty.into_values() {
            if let Some(row) = source.row_update() {
                self.update(row);
            }
        }
    }

    /// Records a session's latest score on its sitting, venue and exam boards.
    pub fn update(&self, u: RowUpdate) {
        let name = u.exam.names.show(&u.name);
        let key = BoardKey::of(&u);
        let row = Row {
            id: u.id.clone(),
            participant_no: u.participant_no,
            name,
            sitting: u.sitting.clone(),
            venue: u.venue.clone(),
            scores: u.scored.as_ref().map(|s| s.score.sections.iter().map(|s| s.points.0).collect()),
            total: u.scored.as_ref().map(|s| s.score.total.0),
            answered: u.answered,
            passed: u.scored.as_ref().map(|s| s.score.passed),
            status: u.status.clone(),
            reason: u.reason,
            rank: None,
        };
        let ids = [
            BoardId::Sitting(u.sitting),
            BoardId::Venue { exam: u.exam.code.clone(), venue: u.venue },
            BoardId::Exam(u.exam.code.clone()),
        ];
        let mut hub = lock(&self.inner);
        if hub.rows.get(&u.id) == Some(&row) {
            return;
        }
        hub.rows.insert(u.id.clone(), row);
        for id in ids {
            let board = hub.boards.entry(id).or_insert_with(|| Board {
                exam: u.exam.clone(),
                index: RankIndex::new(),
                changed: BTreeSet::new(),
                version: 0,
                tx: broadcast::channel(BACKLOG).0,
            });
            board.index.upsert(u.id.clone(), key.clone());
            board.changed.insert(u.id.clone());
        }
    }

    /// The boards that exist, for the index page.
    pub fn list(&self) -> Vec<BoardListing> {
        self.flush();
        let hub = lock(&self.inner);
        let mut out: Vec<BoardListing> = hub
            .boards
            .iter()
            .map(|(id, b)| BoardListing {
                kind: id.kind(),
                id: id.name().to_owned(),
                exam: b.exam.code.clone(),
                title: b.exam.title.clone(),
                candidates: b.index.len(),
            })
            .collect();
        out.sort_by(|a, b| (a.exam.as_str(), a.kind, a.id.as_str()).cmp(&(b.exam.as_str(), b.kind, b.id.as_str())));
        out
    }

    /// A page of a board in rank order, with competition ranks, and the version it is at.
    pub fn snapshot(&self, id: &BoardId, offset: usize, limit: usize) -> Option<Snapshot> {
        self.flush();
        let hub = lock(&self.inner);
        let board = hub.boards.get(id)?;
        let rows = board
            .index
            .page(offset, limit)
            .into_iter()
            .filter_map(|(sid, key)| {
                let mut row = hub.rows.get(sid)?.clone();
                // Only scored keys sort before a scored key: a rank counts scores alone.
                row.rank = matches!(key, BoardKey::Scored(_)).then(|| board.index.count_better(key) + 1);
                Some(row)
            })
            .collect();
        Some(Snapshot {
            kind: "snapshot",
            board: BoardInfo { kind: id.kind(), id: id.name().to_owned(), exam: (*board.exam).clone() },
            version: board.version,
            total_rows: board.index.len(),
            offset,
            rows,
        })
    }

    /// The first page of a board as a connecting viewer gets it, serialised: built once per
    /// board version and shared by every viewer until the board ticks to the next one.
    ///
    /// A shared page can be older than the board's rows by up to one [`TICK`]: rows that
    /// changed since the version it holds are in the board's next delta, which a viewer
    /// subscribed before asking for the page receives.
    pub async fn feed_page(&self, id: &BoardId) -> Option<Frame> {
        // No slot for a board that does not exist: anyone may ask for any name. (Boards
        // are never removed, so one that exists now still does below.)
        if !lock(&self.inner).boards.contains_key(id) {
            return None;
        }
        let slot = lock(&self.feed_pages).entry(id.clone()).or_default().clone();
        let mut cached = slot.lock().await;
        let version = lock(&self.inner).boards.get(id)?.version;
        if let Some(page) = cached.as_ref().filter(|p| p.version == version) {
            return Some(page.clone());
        }
        let snap = self.snapshot(id, 0, MAX_PAGE)?;
        let page = match Frame::event(snap.version, "snapshot", &snap) {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(error = %e, "cannot serialise a board snapshot");
                return None;
            }
        };
        self.pages_built.fetch_add(1, Ordering::Relaxed);
        *cached = Some(page.clone());
        Some(page)
    }

    /// How many first pages were built since the start (each is shared by every reader of
    /// its board version).
    pub fn pages_built(&self) -> u64 {
        self.pages_built.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self, id: &BoardId) -> Option<broadcast::Receiver<Frame>> {
        self.flush();
        lock(&self.inner).boards.get(id).map(|b| b.tx.subscribe())
    }

    /// Turns each board's changes since the last tick into one delta frame.
    pub fn tick(&self) {
        self.flush();
        let mut hub = lock(&self.inner);
        let Hub { rows, boards } = &mut *hub;
        for board in boards.values_mut() {
            if board.changed.is_empty() {
                continue;
            }
            board.version += 1;
            let changed = std::mem::take(&mut board.changed);
            if board.tx.receiver_count() == 0 {
                continue;
            }
            let delta = Delta {
                kind: "delta",
                version: board.version,
                rows: changed.iter().filter_map(|id| rows.get(id)).collect(),
            };
            match Frame::event(board.version, "delta", &delta) {
                Ok(frame) => {
                    let _ = board.tx.send(frame);
                }
                Err(e) => tracing::error!(error = %e, "cannot serialise a board delta"),
            }
        }
        // A page nobody watches is dropped once the board has moved past it (a big board's
        // is megabytes); the next reader builds it again. A page still current stays for
        // the HTTP snapshot's readers, and one being built (locked) stays too.
        lock(&self.feed_pages).retain(|id, slot| {
            boards.get(id).is_some_and(|b| {
                b.tx.receiver_count() > 0
                    || slot.try_lock().map_or(true, |page| page.as_ref().is_some_and(|p| p.version == b.version))
            })
        });
    }

    /// Ticks until shutdown.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => self.tick(),
                () = crate::shutdown::stopped(&mut shutdown) => return,
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BoardListing {
    pub kind: &'static str,
    pub id: String,
    pub exam: String,
    pub title: String,
    pub candidates: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardInfo {
    pub kind: &'static str,
    pub id: String,
    pub exam: BoardExam,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub board: BoardInfo,
    pub version: u64,
    pub total_rows: usize,
    pub offset: usize,
    pub rows: Vec<Row>,
}

#[derive(Serialize)]
struct Delta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    version: u64,
    rows: Vec<&'a Row>,
}

/// How many board pages built for a request (with `offset` or `limit`) one peer address
/// may ask for: a quota a second, refilled on the server's clock. Behind a reverse proxy
/// the peer is the proxy, shared by every client.
pub struct PageLimiter {
    limiter: governor::RateLimiter<
        IpAddr,
        governor::state::keyed::HashMapStateStore<IpAddr>,
        ServerClock,
        governor::middleware::NoOpMiddleware<governor::nanos::Nanos>,
    >,
    checks: AtomicU64,
}

/// The server's injected clock, for governor (tests hold it still or move it).
pub struct ServerClock(Arc<dyn Clock>);

impl governor::clock::Clock for ServerClock {
    type Instant = governor::nanos::Nanos;

    fn now(&self) -> governor::nanos::Nanos {
        governor::nanos::Nanos::from(Duration::from_millis(self.0.tick()))
    }
}

impl PageLimiter {
    /// `per_second` pages a second per address, in bursts of as many; at least one.
    pub fn new(per_second: u32, clock: Arc<dyn Clock>) -> PageLimiter {
        let quota = governor::Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN));
        PageLimiter { limiter: governor::RateLimiter::hashmap_with_clock(quota, ServerClock(clock)), checks: 0.into() }
    }

    /// Whether `address` may have one more page now (and counts it).
    pub fn allow(&self, address: IpAddr) -> bool {
        let allowed = self.limiter.check_key(&address.to_canonical()).is_ok();
        // Addresses whose allowance has refilled are forgotten now and then, so addresses
        // seen once do not pile up.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.limiter.retain_recent();
        }
        allowed
    }
}

/// A viewer's feed after its first page: the page, then every delta above its version, a
/// fresh page after a lag, and a comment after [`KEEP_ALIVE`] without a frame.
pub fn events(
    hub: Arc<BoardHub>,
    board: BoardId,
    rx: broadcast::Receiver<Frame>,
    first: Frame,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    struct Feed {
        hub: Arc<BoardHub>,
        board: BoardId,
        rx: broadcast::Receiver<Frame>,
        version: u64,
        first: Option<Bytes>,
        shutdown: watch::Receiver<bool>,
    }
    let start = Feed { hub, board, rx, version: first.version, first: Some(first.sse), shutdown };
    futures_util::stream::unfold(start, |mut f| async move {
        if let Some(sse) = f.first.take() {
            return Some((Ok::<_, Infallible>(sse), f));
        }
        loop {
            let frame = tokio::select! {
                r = f.rx.recv() => r,
                () = tokio::time::sleep(KEEP_ALIVE) => return Some((Ok(Bytes::from_static(b":\n\n")), f)),
                () = crate::shutdown::stopped(&mut f.shutdown) => return None,
            };
            match frame {
                Ok(frame) if frame.version <= f.version => continue,
                Ok(frame) => {
                    f.version = frame.version;
                    return Some((Ok(frame.sse), f));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let page = f.hub.feed_page(&f.board).await?;
                    f.version = page.version;
                    return Some((Ok(page.sse), f));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame's JSON, after checking that it is one whole Server-Sent Event.
    fn data(sse: &[u8], name: &str) -> serde_json::Value {
        let text = std::str::from_utf8(sse).expect("utf-8");
        let json = text
            .strip_prefix(&format!("event: {name}\ndata: "))
            .and_then(|t| t.strip_suffix("\n\n"))
            .unwrap_or_else(|| panic!("not one {name} event: {text:?}"));
        assert!(!json.contains('\n'), "one data line");
        serde_json::from_str(json).expect("json")
    }

    fn exam(names: &'static str) -> Arc<BoardExam> {
        Arc::new(BoardExam {
            code: "E".into(),
            title: "t".into(),
            sections: vec![],
            tie_break: vec![],
            names: names.parse().expect("a name policy"),
            questions: 10,
            running: "live",
            interval_minutes: None,
        })
    }

    fn update(id: &str, total: i64, exam: &Arc<BoardExam>) -> RowUpdate {
        let score = Score {
            sections: vec![scoring::SectionScore {
                code: item_bank::SectionCode::new_unchecked("K"),
                points: item_bank::Points(total),
                threshold: item_bank::Points(10),
                passed: total >= 10,
            }],
            total: item_bank::Points(total),
            passed: total >= 10,
        };
        RowUpdate {
            id: id.into(),
            participant_no: id.into(),
            name: "Ani Lestari".into(),
            sitting: "S".into(),
            venue: "V".into(),
            exam: exam.clone(),
            scored: Some(Scored { score, key: RankKey::from_parts(total, &[]) }),
            answered: 0,
            status: "active".into(),
            reason: None,
        }
    }

    #[test]
    fn many_updates_between_ticks_become_one_frame_per_board() {
        let exam = exam("full");
        let hub = BoardHub::new();
        hub.update(update("a", 0, &exam));
        let board = BoardId::Sitting("S".into());
        let mut rx = hub.subscribe(&board).expect("board exists");
        for total in 1..=100 {
            hub.update(update("a", total, &exam));
            hub.update(update("b", 100 - total, &exam));
        }
        hub.tick();
        let frame = rx.try_recv().expect("one frame");
        assert!(rx.try_recv().is_err(), "only one frame per tick");
        let delta = data(&frame.sse, "delta");
        assert_eq!(delta["rows"].as_array().map(Vec::len), Some(2), "each changed row once, at its latest");
        assert_eq!(delta["rows"][0]["total"], 100);
        hub.tick();
        assert!(rx.try_recv().is_err(), "no changes, no frame");
        let snap = hub.snapshot(&board, 0, 10).expect("snapshot");
        assert_eq!(snap.version, frame.version);
        assert_eq!(
            snap.rows.iter().map(|r| (r.id.as_str(), r.rank)).collect::<Vec<_>>(),
            [("a", Some(1)), ("b", Some(2))]
        );
    }

    /// A session as the board sees it: its current total, and how often it was read.
    struct Counting {
        total: Mutex<i64>,
        reads: std::sync::atomic::AtomicUsize,
        exam: Arc<BoardExam>,
    }

    impl RowSource for Counting {
        fn row_update(&self) -> Option<RowUpdate> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Some(update("m", *self.total.lock().expect("lock"), &self.exam))
        }
    }

    #[test]
    fn marked_rows_are_read_once_per_flush_and_every_read_sees_them() {
        let exam = exam("full");
        let hub = BoardHub::new();
        hub.update(update("a", 50, &exam));
        hub.tick();
        let board = BoardId::Sitting("S".into());
        let mut rx = hub.subscribe(&board).expect("board");
        let source = Arc::new(Counting { total: Mutex::new(0), reads: 0.into(), exam: exam.clone() });
        for total in 1..=200 {
            *source.total.lock().expect("lock") = total;
            hub.mark(source.clone());
        }
        // A read flushes first: the snapshot shows the latest state, read once.
        let snap = hub.snapshot(&board, 0, 10).expect("snapshot");
        assert_eq!(
            snap.rows.iter().map(|r| (r.id.as_str(), r.total)).collect::<Vec<_>>(),
            [("m", Some(200)), ("a", Some(50))]
        );
        assert_eq!(source.reads.load(std::sync::atomic::Ordering::Relaxed), 1);
        hub.tick();
        let delta = data(&rx.try_recv().expect("frame").sse, "delta");
        assert_eq!(delta["rows"].as_array().map(Vec::len), Some(1));
        assert_eq!((&delta["rows"][0]["id"], &delta["rows"][0]["total"]), (&"m".into(), &200.into()));
        assert_eq!(source.reads.load(std::sync::atomic::Ordering::Relaxed), 1, "nothing marked since");
    }

    #[test]
    fn an_unchanged_row_is_not_sent_again() {
        let exam = exam("masked");
        let hub = BoardHub::new();
        hub.update(update("a", 5, &exam));
        let board = BoardId::Exam("E".into());
        let mut rx = hub.subscribe(&board).expect("board");
        hub.tick();
        let _ = rx.try_recv();
        hub.update(update("a", 5, &exam));
        hub.tick();
        assert!(rx.try_recv().is_err());
        assert_eq!(hub.snapshot(&board, 0, 1).expect("snap").rows[0].name, "A** L******");
    }

    #[tokio::test]
    async fn viewers_share_one_first_page_until_the_board_ticks() {
        let exam = exam("full");
        let hub = BoardHub::new();
        hub.update(update("a", 10, &exam));
        hub.update(update("b", 20, &exam));
        hub.tick();
        let board = BoardId::Sitting("S".into());
        let first = hub.feed_page(&board).await.expect("page");
        let second = hub.feed_page(&board).await.expect("page");
        assert_eq!(first.sse.as_ptr(), second.sse.as_ptr(), "the second viewer reuses the first page");
        let snap = data(&first.sse, "snapshot");
        assert_eq!(snap["version"], first.version);
        let ranked = |v: &serde_json::Value| {
            v["rows"].as_array().expect("rows").iter().map(|r| (r["id"].clone(), r["rank"].clone())).collect::<Vec<_>>()
        };
        assert_eq!(ranked(&snap), [("b".into(), 1.into()), ("a".into(), 2.into())]);

        // A change before the tick: a viewer subscribed now still gets the shared page, and
        // the change in the next delta.
        let mut rx = hub.subscribe(&board).expect("board");
        hub.update(update("a", 30, &exam));
        let third = hub.feed_page(&board).await.expect("page");
        assert_eq!(first.sse.as_ptr(), third.sse.as_ptr());
        hub.tick();
        let delta = rx.try_recv().expect("delta");
        assert_eq!(delta.version, first.version + 1, "the delta follows the shared page's version");
        let delta = data(&delta.sse, "delta");
        assert_eq!((&delta["rows"][0]["id"], &delta["rows"][0]["total"]), (&"a".into(), &30.into()));

        // After the tick the page is built again, at the new version, with the change.
        let fourth = hub.feed_page(&board).await.expect("page");
        assert_ne!(first.sse.as_ptr(), fourth.sse.as_ptr());
        assert_eq!(fourth.version, first.version + 1);
        let snap = data(&fourth.sse, "snapshot");
        assert_eq!(ranked(&snap), [("a".into(), 1.into()), ("b".into(), 2.into())]);
        assert!(hub.feed_page(&BoardId::Sitting("nope".into())).await.is_none());
    }

    #[tokio::test]
    async fn a_page_nobody_watches_is_dropped_once_the_board_moves_past_it() {
        let exam = exam("full");
        let hub = BoardHub::new();
        hub.update(update("a", 10, &exam));
        hub.tick();
        let board = BoardId::Sitting("S".into());
        let rx = hub.subscribe(&board).expect("board");
        let first = hub.feed_page(&board).await.expect("page");
        hub.tick();
        let kept = hub.feed_page(&board).await.expect("page");
        assert_eq!(kept.sse.as_ptr(), first.sse.as_ptr(), "a watched page outlives a tick");
        drop(rx);
        hub.tick();
        let current = hub.feed_page(&board).await.expect("page");
        assert_eq!(current.sse.as_ptr(), first.sse.as_ptr(), "a current page stays for the snapshot's readers");
        assert_eq!(hub.pages_built(), 1);
        hub.update(update("a", 11, &exam));
        hub.tick();
        assert!(lock(&hub.feed_pages).is_empty(), "nobody watches and the board moved on: the page is gone");
        let _rx = hub.subscribe(&board).expect("board");
        let again = hub.feed_page(&board).await.expect("page");
        assert_eq!(again.version, first.version + 1, "built again, at the board's version");
        assert_eq!(data(&again.sse, "snapshot")["rows"][0]["total"], 11);
        assert_eq!(hub.pages_built(), 2);
    }

    #[tokio::test]
    async fn a_board_that_does_not_exist_gets_no_page_and_no_slot() {
        let hub = BoardHub::new();
        assert!(hub.feed_page(&BoardId::Sitting("nope".into())).await.is_none());
        assert!(lock(&hub.feed_pages).is_empty(), "a name anyone may send keeps nothing");
    }

    #[tokio::test]
    async fn the_snapshots_json_is_the_feed_pages_data_line() {
        let exam = exam("full");
        let hub = BoardHub::new();
        hub.update(update("a", 10, &exam));
        let page = hub.feed_page(&BoardId::Sitting("S".into())).await.expect("page");
        let json: serde_json::Value = serde_json::from_slice(&page.json()).expect("json");
        assert_eq!(json, data(&page.sse, "snapshot"));
        assert_eq!(page.json().as_ptr(), page.sse[b"event: snapshot\ndata: ".len()..].as_ptr(), "the same bytes");
    }

    #[tokio::test(start_paused = true)]
    async fn a_feed_sends_its_page_then_newer_deltas_and_a_comment_when_quiet() {
        use futures_util::StreamExt as _;
        let exam = exam("full");
        let hub = Arc::new(BoardHub::new());
        hub.update(update("a", 10, &exam));
        hub.tick();
        let board = BoardId::Sitting("S".into());
        let rx = hub.subscribe(&board).expect("board");
        let first = hub.feed_page(&board).await.expect("page");
        let (stop, shutdown) = watch::channel(false);
        let mut feed = std::pin::pin!(events(hub.clone(), board, rx, first.clone(), shutdown));
        let mut next = async || feed.next().await.expect("an event").expect("infallible");
        assert_eq!(next().await.as_ptr(), first.sse.as_ptr(), "the shared page, as it is");

        hub.update(update("a", 20, &exam));
        hub.tick();
        let delta = data(&next().await, "delta");
        assert_eq!((delta["version"].as_u64(), &delta["rows"][0]["total"]), (Some(first.version + 1), &20.into()));

        let quiet = tokio::time::Instant::now();
        assert_eq!(&next().await[..], b":\n\n");
        assert_eq!(quiet.elapsed(), KEEP_ALIVE, "a comment once the feed has been quiet that long");

        let _ = stop.send(true);
        assert!(feed.next().await.is_none(), "the feed ends at shutdown");
    }

    #[test]
    fn hidden_scores_are_listed_after_the_scored_by_progress_unranked_and_not_started_last() {
        let exam = exam("full");
        let hub = BoardHub::new();
        let hidden = |id: &str, answered: u32, status: &str| RowUpdate {
            scored: None,
            answered,
            status: status.into(),
            ..update(id, 0, &exam)
        };
        hub.update(hidden("ready", 0, "ready"));
        hub.update(hidden("slow", 3, "active"));
        hub.update(hidden("fast", 9, "paused"));
        hub.update(RowUpdate { status: "finished".into(), ..update("low", 5, &exam) });
        hub.update(RowUpdate { status: "finished".into(), ..update("high", 40, &exam) });
        hub.update(RowUpdate { status: "finished".into(), ..update("tied", 5, &exam) });
        let snap = hub.snapshot(&BoardId::Sitting("S".into()), 0, 10).expect("snapshot");
        type Shown<'a> = (&'a str, Option<usize>, Option<i64>, Option<bool>);
        let got: Vec<Shown<'_>> = snap.rows.iter().map(|r| (r.id.as_str(), r.rank, r.total, r.passed)).collect();
        assert_eq!(
            got,
            [
                ("high", Some(1), Some(40), Some(true)),
                ("low", Some(2), Some(5), Some(false)),
                ("tied", Some(2), Some(5), Some(false)),
                ("fast", None, None, None),
                ("slow", None, None, None),
                ("ready", None, None, None),
            ]
        );
        let json = serde_json::to_value(&snap.rows[3]).expect("json");
        assert!(json.get("total").is_none() && json.get("scores").is_none() && json.get("passed").is_none(), "{json}");
    }

    #[test]
    fn names_are_masked_word_by_word() {
        assert_eq!(mask_name("Ani Lestari"), "A** L******");
        assert_eq!(mask_name("Ø"), "Ø");
        assert_eq!(mask_name("  "), "");
    }
}
