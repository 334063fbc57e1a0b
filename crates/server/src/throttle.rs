//! Failed-login throttling: how many logins a participant, a staff account or a client
//! address may get wrong in a window before further attempts are refused unchecked.
//!
//! An attempt is counted *before* its secret is checked ([`Throttle::reserve`], one
//! atomic step per subject), so however many arrive at once, no more than a subject's
//! limit are ever checked in its window. The count is given back when the attempt ends
//! without a check (it was refused for another reason, or its client went away), kept
//! when the secret was wrong, and, for the participant or account, cleared when it was
//! right.
//!
//! What is counted against whom decides who can lock whom out:
//! - a candidate's wrong PINs count against the participant only once the sitting token
//!   matched: the token is a room secret, and participant numbers are on the public board;
//! - a staff account's wrong passwords count per (account, client address), so a guesser
//!   elsewhere locks out only itself; guessing spread over many addresses is held back by
//!   a slower count per account that addresses the account logged in from lately (a
//!   supervisor's own PC) are exempt from;
//! - every failure counts against its client address (an IPv6 client's /64: one host is
//!   handed a whole /64), which bounds what one client can try across identities.
//!
//! The table is a bounded [`moka`] cache: entries expire with their window, and when full
//! its TinyLFU admission keeps the entries in use (a locked subject being retried) over
//! a flood of new keys seen once.

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use moka::ops::compute::Op;
use moka::sync::Cache;
use session_engine::Tick;

/// How many failures a subject may have within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_ms: u64,
}

/// Wrong PINs per participant (with the right sitting token).
pub const PARTICIPANT: Limit = Limit { max: 10, window_ms: 5 * 60_000 };
/// Failed logins per client address, of any kind. Higher: a test center's PCs often share
/// one address, and one mistyping room must not lock out the rest.
pub const ADDRESS: Limit = Limit { max: 200, window_ms: 5 * 60_000 };
/// Wrong passwords per staff account from one address.
pub const STAFF_AT: Limit = Limit { max: 10, window_ms: 5 * 60_000 };
/// Wrong passwords per staff account from addresses it has not logged in from lately.
pub const STAFF: Limit = Limit { max: 100, window_ms: 60 * 60_000 };
/// How long an address stays familiar to an account after a login from it.
const FAMILIAR_MS: u64 = 7 * 24 * 3_600_000;

/// Counted subjects at most. An entry is a key of at most 64 bytes and a count, a few
/// hundred bytes with the cache's own bookkeeping: a few MiB when full.
const MAX_SUBJECTS: u64 = 16_384;
/// (account, address) pairs kept as familiar at most.
const MAX_FAMILIAR: u64 = 8_192;

/// What failed logins are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Participant(Box<str>),
    Address(IpAddr),
    StaffAt(Box<str>, IpAddr),
    Staff(Box<str>),
}

impl Subject {
    pub fn participant(participant_no: &str) -> Subject {
        Subject::Participant(participant_no.into())
    }

    pub fn address(ip: IpAddr) -> Subject {
        Subject::Address(network(ip))
    }

    pub fn staff_at(username: &str, ip: IpAddr) -> Subject {
        Subject::StaffAt(username.into(), network(ip))
    }

    pub fn staff(username: &str) -> Subject {
        Subject::Staff(username.into())
    }

    pub fn limit(&self) -> Limit {
        match self {
            Subject::Participant(_) => PARTICIPANT,
            Subject::Address(_) => ADDRESS,
            Subject::StaffAt(..) => STAFF_AT,
            Subject::Staff(_) => STAFF,
        }
    }
}

/// The address a client is counted as: itself, or for IPv6 its /64.
fn network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Attempts of one subject in its current window (failures, and attempts being checked).
#[derive(Debug, Clone, Copy)]
struct Count {
    since: Tick,
    attempts: u32,
}

/// A subject has used up its attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    /// When the window ends, from now.
    pub retry_after_ms: u64,
}

/// The failed-login table (see the module docs).
pub struct Throttle {
    counts: Cache<Subject, Count>,
    /// When each (account, address) pair last logged in.
    familiar: Cache<(Box<str>, IpAddr), Tick>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new()
    }
}

impl Throttle {
    pub fn new() -> Throttle {
        Throttle {
            counts: Cache::builder().max_capacity(MAX_SUBJECTS).expire_after(ByWindow).build(),
            familiar: Cache::builder()
                .max_capacity(MAX_FAMILIAR)
                .time_to_live(Duration::from_millis(FAMILIAR_MS))
                .build(),
        }
    }

    /// Counts an attempt against `subject`, or refuses it when the subject's window is used
    /// up. The attempt is given back when the returned [`Attempt`] is dropped unsettled.
    pub fn reserve(&self, subject: Subject, now: Tick) -> Result<Attempt<'_>, Locked> {
        let limit = subject.limit();
        let mut outcome = Err(Locked { retry_after_ms: 0 });
        self.counts.entry_by_ref(&subject).and_compute_with(|entry| {
            let count = entry
                .map(|e| e.into_value())
                .filter(|c| now.saturating_sub(c.since) < limit.window_ms)
                .unwrap_or(Count { since: now, attempts: 0 });
            if count.attempts >= limit.max {
                let retry_after_ms = (count.since + limit.window_ms).saturating_sub(now);
                outcome = Err(Locked { retry_after_ms });
                Op::Nop
            } else {
                outcome = Ok(count.since);
                Op::Put(Count { attempts: count.attempts + 1, ..count })
            }
        });
        let since = outcome?;
        Ok(Attempt { throttle: self, subject, since, settled: false })
    }

    /// Gives back an attempt counted in the window that began at `since`.
    fn release(&self, subject: &Subject, since: Tick) {
        self.counts.entry_by_ref(subject).and_compute_with(|entry| match entry.map(|e| e.into_value()) {
            Some(c) if c.since == since && c.attempts > 1 => Op::Put(Count { attempts: c.attempts - 1, ..c }),
            Some(c) if c.since == since => Op::Remove,
            _ => Op::Nop,
        });
    }

    /// True while `subject` has used up its window.
    fn locked(&self, subject: &Subject, now: Tick) -> bool {
        let limit = subject.limit();
        self.counts
            .get(subject)
            .is_some_and(|c| c.attempts >= limit.max && now.saturating_sub(c.since) < limit.window_ms)
    }

    /// Forgets a participant's failed logins (a supervisor's unlock). True if they were
    /// locked out.
    pub fn unlock_participant(&self, participant_no: &str, now: Tick) -> bool {
        let subject = Subject::participant(participant_no);
        let locked = self.locked(&subject, now);
        self.counts.invalidate(&subject);
        locked
    }

    /// Forgets a staff account's failed logins, from every address and overall (an
    /// admin's unlock). True if it was locked out anywhere.
    pub fn unlock_staff(&self, username: &str, now: Tick) -> bool {
        let subjects: Vec<Subject> = self
            .counts
            .iter()
            .map(|(subject, _)| subject)
            .filter(|s| matches!(&**s, Subject::StaffAt(name, _) | Subject::Staff(name) if **name == *username))
            .map(|s| (*s).clone())
            .collect();
        let mut locked = false;
        for subject in subjects {
            locked |= self.locked(&subject, now);
            self.counts.invalidate(&subject);
        }
        locked
    }

    /// True when `username` logged in from `ip` lately.
    pub fn familiar(&self, username: &str, ip: IpAddr, now: Tick) -> bool {
        self.familiar.get(&(username.into(), network(ip))).is_some_and(|at| now.saturating_sub(at) < FAMILIAR_MS)
    }

    /// Notes that `username` logged in from `ip`.
    pub fn remember_familiar(&self, username: &str, ip: IpAddr, now: Tick) {
        self.familiar.insert((username.into(), network(ip)), now);
    }

    /// How many subjects the table holds (after its pending evictions).
    pub fn len(&self) -> u64 {
        self.counts.run_pending_tasks();
        self.counts.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An attempt counted against a subject, to settle once its secret is checked. Dropped
/// unsettled (no check was made, or the request went away), it is given back.
#[must_use = "an attempt is given back when dropped"]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    subject: Subject,
    since: Tick,
    settled: bool,
}

impl Attempt<'_> {
    /// The secret was wrong: the attempt stays counted.
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The secret was right: the subject's failures are forgotten.
    pub fn cleared(mut self) {
        self.throttle.counts.invalidate(&self.subject);
        self.settled = true;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.release(&self.subject, self.since);
        }
    }
}

/// Keeps an entry for its subject's window after its last change. The window itself is
/// judged on the server's clock in [`Throttle::reserve`]; this only frees the memory.
struct ByWindow;

impl moka::Expiry<Subject, Count> for ByWindow {
    fn expire_after_create(&self, subject: &Subject, _: &Count, _: Instant) -> Option<Duration> {
        Some(Duration::from_millis(subject.limit().window_ms))
    }

    fn expire_after_update(&self, subject: &Subject, _: &Count, _: Instant, _: Option<Duration>) -> Option<Duration> {
        Some(Duration::from_millis(subject.limit().window_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn attempts_beyond_the_limit_are_refused_even_while_the_first_are_unchecked() {
        let t = Throttle::new();
        let p = || Subject::participant("P-1");
        // Ten in flight at once, none settled yet: the eleventh is refused.
        let inflight: Vec<Attempt<'_>> = (0..10).map(|_| t.reserve(p(), 0).expect("within the limit")).collect();
        assert_eq!(t.reserve(p(), 1_000).err(), Some(Locked { retry_after_ms: PARTICIPANT.window_ms - 1_000 }));
        // Attempts that ended without a check are given back.
        drop(inflight);
        let failed: Vec<Attempt<'_>> = (0..10).map(|_| t.reserve(p(), 2_000).expect("given back")).collect();
        failed.into_iter().for_each(Attempt::failed);
        assert!(t.reserve(p(), 3_000).is_err(), "failures stay counted");
        // The window (from its first attempt, at 2,000) ends on the server's clock.
        assert!(t.reserve(p(), 2_000 + PARTICIPANT.window_ms - 1).is_err());
        assert!(t.reserve(p(), 2_000 + PARTICIPANT.window_ms).is_ok());
    }

    #[test]
    fn a_right_secret_clears_the_subject_and_an_old_attempt_does_not_touch_a_new_window() {
        let t = Throttle::new();
        let p = || Subject::participant("P-1");
        for _ in 0..9 {
            t.reserve(p(), 0).expect("reserve").failed();
        }
        t.reserve(p(), 0).expect("the tenth").cleared();
        for _ in 0..10 {
            t.reserve(p(), 0).expect("cleared").failed();
        }
        assert!(t.reserve(p(), 0).is_err());
        // An attempt from a window that has ended is given back into nothing.
        let old = Throttle::new();
        let stale = old.reserve(p(), 0).expect("reserve");
        let fresh = old.reserve(p(), PARTICIPANT.window_ms).expect("new window");
        fresh.failed();
        drop(stale);
        for _ in 0..9 {
            old.reserve(p(), PARTICIPANT.window_ms).expect("nine left").failed();
        }
        assert!(old.reserve(p(), PARTICIPANT.window_ms).is_err(), "the stale drop gave nothing back");
    }

    #[test]
    fn unlocking_forgets_a_participant_or_every_count_of_a_staff_account() {
        let t = Throttle::new();
        for _ in 0..10 {
            t.reserve(Subject::participant("P-1"), 0).expect("reserve").failed();
            t.reserve(Subject::staff_at("sup1", ip("10.0.0.1")), 0).expect("reserve").failed();
        }
        for _ in 0..STAFF.max {
            t.reserve(Subject::staff("sup1"), 0).expect("reserve").failed();
        }
        assert!(!t.unlock_participant("P-2", 0), "nobody else was locked");
        assert!(t.unlock_participant("P-1", 0));
        assert!(t.reserve(Subject::participant("P-1"), 0).is_ok());
        assert!(t.unlock_staff("sup1", 0));
        assert!(t.reserve(Subject::staff_at("sup1", ip("10.0.0.1")), 0).is_ok());
        assert!(t.reserve(Subject::staff("sup1"), 0).is_ok());
        assert!(!t.unlock_staff("sup1", 0));
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_slash_64() {
        assert_eq!(Subject::address(ip("2001:db8:1:2:aaaa::1")), Subject::address(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(Subject::address(ip("2001:db8:1:2::1")), Subject::address(ip("2001:db8:1:3::1")));
        assert_eq!(Subject::address(ip("::ffff:10.0.0.1")), Subject::Address(ip("10.0.0.1")));
        let t = Throttle::new();
        t.remember_familiar("sup1", ip("2001:db8:1:2::1"), 0);
        assert!(t.familiar("sup1", ip("2001:db8:1:2::7"), 1));
        assert!(!t.familiar("sup2", ip("2001:db8:1:2::1"), 1));
        assert!(!t.familiar("sup1", ip("2001:db8:1:2::1"), FAMILIAR_MS));
    }

    #[test]
    fn the_table_stays_bounded_whatever_is_sent() {
        let t = Throttle::new();
        for i in 0..(4 * MAX_SUBJECTS as u32) {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0)) + i));
            t.reserve(Subject::address(ip), 0).expect("reserve").failed();
        }
        assert!(t.len() <= MAX_SUBJECTS, "{} subjects", t.len());
    }
}
