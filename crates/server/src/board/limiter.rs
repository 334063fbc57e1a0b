//! The rate limit on board pages built for a request.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::Clock;

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
