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

mod limiter;
mod rows;
#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, btree_map};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use scoring::{RankIndex, RankKey};
use serde::Serialize;
use session_engine::Status;
use tokio::sync::{broadcast, watch};

use crate::clock::Clock;

pub use limiter::{PageLimiter, ServerClock};
pub use rows::{
    BoardExam, BoardId, BoardInfo, BoardListing, BoardSection, Names, Row, RowUpdate, Scored, Snapshot, UnknownNames,
    mask_name,
};

/// At most this many frames a second reach a viewer, whatever the answer rate.
pub const TICK: Duration = Duration::from_millis(250);
/// Frames a viewer may fall behind before it is sent a snapshot instead.
const BACKLOG: usize = 64;
/// The most rows one snapshot page carries.
pub const MAX_PAGE: usize = 5_000;
/// A comment line after this long without a frame keeps proxies from closing the feed.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A row's place on a board: rows with a score first, ranked by it; then running rows
/// without one, most answered first; then rows not started; then the disqualified, whose
/// score is not a result. Only scored rows are ranked. Ties fall to the session id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum BoardKey {
    Scored(RankKey),
    Running(Reverse<u32>),
    NotStarted,
    Disqualified,
}

impl BoardKey {
    fn of(u: &RowUpdate) -> BoardKey {
        if u.reason.as_deref() == Some(TERMINATED) {
            return BoardKey::Disqualified;
        }
        match (&u.scored, Status::from_stored(&u.status, None)) {
            (Some(s), _) => BoardKey::Scored(s.key.clone()),
            (None, Some(Status::Ready)) => BoardKey::NotStarted,
            (None, _) => BoardKey::Running(Reverse(u.answered)),
        }
    }
}

/// The finish reason of a session a supervisor ended: a disqualification.
const TERMINATED: &str = "terminated";

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
    /// The scheduled ends of the sittings with running rows here, each with how many: the
    /// latest is the board's time left.
    ends: BTreeMap<i64, usize>,
}

impl Board {
    fn ends_ms(&self) -> Option<i64> {
        self.ends.keys().next_back().copied()
    }
}

#[derive(Default)]
struct Hub {
    rows: HashMap<String, Row>,
    boards: HashMap<BoardId, Board>,
    /// The sitting end each running row counts on its boards.
    running_ends: HashMap<String, i64>,
}

/// Something whose board row is read when the board next needs it: a live session.
pub trait RowSource: Send + Sync {
    /// The row as stored now; `None` when this source no longer speaks for its row (a copy
    /// replaced by another, which is marked in its place).
    fn row_update(&self) -> Option<RowUpdate>;
}

/// Every board, shared by the answer path (updates) and the viewers (reads).
pub struct BoardHub {
    /// The server's clock: frames carry the time they were made, so that a page counts the
    /// sitting's time left down on the server's time, not its own.
    clock: Arc<dyn Clock>,
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
impl BoardHub {
    pub fn new(clock: Arc<dyn Clock>) -> BoardHub {
        BoardHub {
            clock,
            inner: Mutex::default(),
            dirty: Mutex::default(),
            flushing: Mutex::default(),
            feed_pages: Mutex::default(),
            pages_built: AtomicU64::default(),
            epoch: rand::random(),
        }
    }

    /// The server's wall-clock time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64 {
        self.clock.utc().timestamp_millis()
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
        let running = matches!(Status::from_stored(&u.status, None), Some(Status::Active | Status::Paused));
        let end = u.sitting_ends_ms.filter(|_| running);
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
        let was = match end {
            Some(end) => hub.running_ends.insert(u.id.clone(), end),
            None => hub.running_ends.remove(&u.id),
        };
        for id in ids {
            let board = hub.boards.entry(id).or_insert_with(|| Board {
                exam: u.exam.clone(),
                index: RankIndex::new(),
                changed: BTreeSet::new(),
                version: 0,
                tx: broadcast::channel(BACKLOG).0,
                ends: BTreeMap::new(),
            });
            if was != end {
                if let Some(btree_map::Entry::Occupied(mut n)) = was.map(|was| board.ends.entry(was)) {
                    *n.get_mut() -= 1;
                    if *n.get() == 0 {
                        n.remove();
                    }
                }
                if let Some(end) = end {
                    *board.ends.entry(end).or_default() += 1;
                }
            }
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
            server_ms: self.now_ms(),
            ends_ms: board.ends_ms(),
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
        let now_ms = self.now_ms();
        let mut hub = lock(&self.inner);
        let Hub { rows, boards, .. } = &mut *hub;
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
                server_ms: now_ms,
                ends_ms: board.ends_ms(),
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
#[derive(Serialize)]
struct Delta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    version: u64,
    /// When the frame was made (server time, ms since the Unix epoch).
    server_ms: i64,
    /// As in a snapshot: the board's one time left, sent again with every delta.
    #[serde(skip_serializing_if = "Option::is_none")]
    ends_ms: Option<i64>,
    rows: Vec<&'a Row>,
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
