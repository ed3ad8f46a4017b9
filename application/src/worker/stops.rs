//! Stopping a campaign that this worker is sending, when a user pauses or cancels it.
//!
//! Each campaign this worker is about to send or is sending (its job, or shards of it) has a
//! token in [`Sending`], taken before its claim (or before a shard's run reads the campaign)
//! and dropped after its job or shard is settled. A background task listens to the stop
//! requests: for a campaign of its own it cancels the token (the send loop checks it before
//! every message it starts, and every wait of the run ends on it). It answers every request,
//! saying whether it was sending, so the one who asked knows when every worker has and that
//! only the messages already in flight still leave. A request
//! missed while the subscription was down is covered by the stored status, which the run
//! reads each time it writes outcomes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use paloma_domain::CampaignId;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::pace::backoff;
use super::{Worker, WorkerPorts};
use crate::ports::{JobConsumer, StopRequest, StopRequests};

/// The campaigns this worker is sending, each with the tokens that stop it (one per run: a
/// worker may send a campaign's job and, for a moment, a shard of it leased before it took the
/// job), and a number telling registrations apart, so that a guard only ever removes its own.
#[derive(Debug, Default)]
pub(super) struct Sending {
    all: Mutex<HashMap<CampaignId, Vec<(u64, CancellationToken)>>>,
    next: AtomicU64,
}

impl Sending {
    /// Registers `campaign` until the returned guard is dropped; its token stops the run.
    pub(super) fn register(self: &Arc<Self>, campaign: CampaignId) -> Registered {
        let token = CancellationToken::new();
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        self.all
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(campaign)
            .or_default()
            .push((number, token.clone()));
        Registered {
            sending: Arc::clone(self),
            campaign,
            number,
            token,
        }
    }

    /// The campaigns registered now.
    pub(super) fn campaigns(&self) -> Vec<CampaignId> {
        let all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        all.keys().copied().collect()
    }

    /// Stops `campaign` if this worker is sending it; false if it is not.
    fn halt(&self, campaign: CampaignId) -> bool {
        let all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        match all.get(&campaign) {
            Some(runs) => {
                for (_, token) in runs {
                    token.cancel();
                }
                true
            }
            None => false,
        }
    }
}

/// A campaign registered in [`Sending`]; unregisters it when dropped.
pub(super) struct Registered {
    sending: Arc<Sending>,
    campaign: CampaignId,
    number: u64,
    pub(super) token: CancellationToken,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut all = self
            .sending
            .all
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(runs) = all.get_mut(&self.campaign) {
            runs.retain(|(n, _)| *n != self.number);
            if runs.is_empty() {
                all.remove(&self.campaign);
            }
        }
    }
}

impl<P: WorkerPorts> Worker<P> {
    /// Listens to stop requests until `shutdown` is cancelled, subscribing again (with
    /// backoff) whenever the subscription is lost.
    pub(super) async fn listen_for_stops(self, shutdown: CancellationToken) {
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let mut requests = match self.jobs.stop_requests().await {
                Ok(requests) => {
                    if failures > 0 {
                        info!("listening to stop requests again");
                    }
                    failures = 0;
                    requests
                }
                Err(e) => {
                    failures += 1;
                    let wait = backoff(failures);
                    if failures == 1 || failures.is_multiple_of(20) {
                        warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "cannot listen to stop requests; paused or cancelled campaigns stop when their outcomes are next written");
                    }
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = shutdown.cancelled() => return,
                    }
                    continue;
                }
            };
            loop {
                let request = tokio::select! {
                    request = requests.next() => request,
                    () = shutdown.cancelled() => return,
                };
                match request {
                    Some(request) => self.on_stop_request(request).await,
                    None => {
                        failures += 1;
                        warn!("the stop-request subscription was lost; subscribing again");
                        break;
                    }
                }
            }
        }
    }

    /// Stops the campaign if this worker sends it, then answers whether it did.
    async fn on_stop_request(&self, request: StopRequest) {
        let sending = self.sending.halt(request.campaign);
        if sending {
            info!(campaign_id = %request.campaign, "asked to stop sending; no new message starts");
        }
        if let Err(e) = self.jobs.answer_stop(&request, sending).await {
            debug!(error = %e, "could not answer the stop request; the one who asked waits for the claim to go");
        }
    }
}
