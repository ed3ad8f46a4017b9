//! A mail server and a clock in memory.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use paloma_domain::*;

use super::lock;
use crate::ports::*;

/// A mail server in memory: rejects addresses starting with `bounce`, defers those starting
/// with `greylist` the first time, `flaky` ones transiently while `flaky_down` is set, accepts
/// the rest; records every accepted message.
#[derive(Default)]
pub struct FakeMailer {
    pub delivered: Mutex<Vec<OutgoingMessage>>,
    pub seen: Mutex<HashSet<String>>,
    pub delay: Option<Duration>,
    pub attempts: Mutex<HashMap<String, u32>>,
    /// While set, every `flaky*` address fails transiently (its server is down).
    pub flaky_down: AtomicBool,
    /// Messages being sent now, and the most there ever were at once.
    pub in_flight: std::sync::atomic::AtomicUsize,
    pub peak: std::sync::atomic::AtomicUsize,
}

impl FakeMailer {
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

impl Mailer for FakeMailer {
    async fn send(&self, m: OutgoingMessage) -> DeliveryOutcome {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        *lock(&self.attempts).entry(m.to.clone()).or_default() += 1;
        if m.to.starts_with("bounce") {
            return DeliveryOutcome::Permanent(format!("550 5.1.1 <{}>: no such user", m.to));
        }
        if m.to.starts_with("flaky") && self.flaky_down.load(Ordering::SeqCst) {
            return DeliveryOutcome::Transient("421 4.3.2 service not available".into());
        }
        if m.to.starts_with("greylist") && lock(&self.seen).insert(m.to.clone()) {
            return DeliveryOutcome::Transient("451 4.7.1 try again later".into());
        }
        lock(&self.delivered).push(m);
        DeliveryOutcome::Sent
    }
}

/// A clock that follows tokio's time. Under paused time (`start_paused`) it moves only when the
/// runtime advances, so retries and backoff take no real time and line up the same way on
/// every run. Copies tell the same time.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: tokio::time::Instant,
    at_start: DateTime<Utc>,
}

impl Default for TokioClock {
    fn default() -> Self {
        Self {
            start: tokio::time::Instant::now(),
            at_start: Utc::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        self.at_start + chrono::TimeDelta::from_std(self.start.elapsed()).unwrap_or_default()
    }
}
