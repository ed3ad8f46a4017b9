//! Stopping the workers that send a campaign (docs/bull-protocol.md, "Paloma's own keys"):
//! the API publishes `<campaign id> <reply key>` on the stop channel; every worker listening
//! answers on the reply key, `1` when it was sending the campaign (it starts no new message of
//! it now) and `0` when it was not. The API waits for as many answers as `PUBLISH` counted
//! listeners, or for the campaign's claim to go (the job's holder finished or died).

use std::time::Duration;

use futures::StreamExt;
use paloma_application::{Fence, FenceEnd, QueueError, StopAnswer, StopRequest, StopRequests};
use paloma_domain::CampaignId;
use redis::aio::PubSubStream;
use tracing::debug;
use uuid::Uuid;

use crate::error::redis_error;
use crate::pool::Shared;
use crate::scripts;

/// How often the API looks for the answers and the claim while it waits.
const POLL: Duration = Duration::from_millis(20);

/// How long a reply key lives: longer than anyone waits for it.
const REPLY_TTL_MS: u64 = 60_000;

/// Asks every worker sending `campaign` (the job's holder, and those sending shards of it) to
/// stop, and waits up to `wait` for them. `Stopped` once every listening worker answered and
/// one of them was sending it; `NotSending` once none was and no worker holds its claim (or
/// none listens and none holds it); `Unconfirmed` when time runs out first (a worker that was
/// sending did not answer, or the claim's holder hears no requests).
pub(crate) async fn stop_sending(
    shared: &Shared,
    campaign: CampaignId,
    wait: Duration,
) -> Result<StopAnswer, QueueError> {
    let keys = &shared.keys;
    let claim = keys.campaign_claim(&campaign.to_string());
    let reply = keys.stop_reply(&Uuid::now_v7().to_string());
    let mut conn = shared.conn().await?;
    let (held, listeners): (bool, usize) = redis::pipe()
        .cmd("EXISTS")
        .arg(&claim)
        .cmd("PUBLISH")
        .arg(keys.stop_channel())
        .arg(format!("{campaign} {reply}"))
        .query_async(&mut *conn)
        .await
        .map_err(redis_error)?;
    debug!(%campaign, listeners, held, "asked workers to stop sending");
    if !held && listeners == 0 {
        return Ok(StopAnswer::NotSending);
    }
    let deadline = tokio::time::Instant::now() + wait;
    let (mut answers, mut sending) = (0, false);
    loop {
        let (popped, held): (Option<Vec<String>>, bool) = redis::pipe()
            .cmd("LPOP")
            .arg(&reply)
            .arg(listeners.max(1))
            .cmd("EXISTS")
            .arg(&claim)
            .query_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        for answer in popped.unwrap_or_default() {
            answers += 1;
            sending |= answer == "1";
        }
        if answers >= listeners {
            if sending {
                return Ok(StopAnswer::Stopped);
            }
            if !held {
                return Ok(StopAnswer::NotSending);
            }
            // Nobody listening sends it, yet its claim is held: the holder has not started
            // it (it reads the stored status when it does) or cannot hear requests. Wait for
            // the claim to go.
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(StopAnswer::Unconfirmed);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How long a fence lasts when the API that set it dies before ending it.
const FENCE_TTL_MS: u64 = 30_000;

/// How often, and how many times, a fence waits for a job being taken to be locked before it
/// takes the job as stalled (a take locks within a millisecond or so).
const TAKE_POLL: Duration = Duration::from_millis(2);
const TAKE_POLLS: u32 = 100;

/// Fences `campaign` while a pause or a cancel is stored (`fence.lua`). A job of the campaign
/// that a worker is taking is waited for until it is locked, so that the fence knows whose it
/// is; one still unlocked after [`TAKE_POLLS`] tries is stalled and is fenced too.
pub(crate) async fn fence(shared: &Shared, campaign: CampaignId) -> Result<Fence, QueueError> {
    let campaign = campaign.to_string();
    let mut conn = shared.conn().await?;
    let mut polls = 0;
    loop {
        let fenced = scripts::Fence {
            keys: &shared.keys,
            campaign: &campaign,
            ttl_ms: FENCE_TTL_MS,
            // The last try fences unlocked jobs: it never answers `Unlocked`.
            take_unlocked: polls == TAKE_POLLS,
        }
        .invoke(&mut conn)
        .await
        .map_err(redis_error)?;
        match fenced {
            scripts::Fenced::HeldElsewhere => return Ok(Fence::HeldElsewhere),
            scripts::Fenced::Jobs(jobs) => return Ok(Fence::Fenced { jobs }),
            scripts::Fenced::Unlocked => {
                polls += 1;
                tokio::time::sleep(TAKE_POLL).await;
            }
        }
    }
}

/// Ends `campaign`'s fence (`unfence.lua`); the settled jobs' return value is `null`, as for
/// every job Paloma completes.
pub(crate) async fn unfence(
    shared: &Shared,
    campaign: CampaignId,
    end: FenceEnd,
) -> Result<u32, QueueError> {
    let mut conn = shared.conn().await?;
    scripts::Unfence {
        keys: &shared.keys,
        campaign: &campaign.to_string(),
        settle: end == FenceEnd::Settle,
        token: &shared.token,
        return_value: "null",
    }
    .invoke(&mut conn)
    .await
    .map_err(redis_error)
}

/// Subscribes to the stop channel on a connection of its own.
pub(crate) async fn subscribe(shared: &Shared) -> Result<RedisStops, QueueError> {
    let mut pubsub = shared.pubsub().await?;
    pubsub
        .subscribe(shared.keys.stop_channel())
        .await
        .map_err(redis_error)?;
    Ok(RedisStops(pubsub.into_on_message()))
}

/// Answers a stop request: whether this worker was sending the campaign (and starts no new
/// message of it now).
pub(crate) async fn answer(
    shared: &Shared,
    request: &StopRequest,
    sending: bool,
) -> Result<(), QueueError> {
    reply(shared, &request.reply_to, if sending { "1" } else { "0" }).await
}

/// Pushes `value` to the reply list `key` of someone waiting on it, which then lives a
/// minute: longer than anyone waits, so an answer nobody takes does not stay behind.
pub(crate) async fn reply(shared: &Shared, key: &str, value: &str) -> Result<(), QueueError> {
    let mut conn = shared.conn().await?;
    redis::pipe()
        .cmd("RPUSH")
        .arg(key)
        .arg(value)
        .ignore()
        .cmd("PEXPIRE")
        .arg(key)
        .arg(REPLY_TTL_MS)
        .ignore()
        .query_async::<()>(&mut *conn)
        .await
        .map_err(redis_error)
}

/// A worker's subscription to the stop channel.
pub struct RedisStops(PubSubStream);

impl std::fmt::Debug for RedisStops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisStops")
    }
}

impl StopRequests for RedisStops {
    async fn next(&mut self) -> Option<StopRequest> {
        loop {
            let message = self.0.next().await?;
            let Ok(payload) = message.get_payload::<String>() else {
                continue;
            };
            // Anything else on the channel (another tool's message) is not a request.
            if let Some(request) = parse_request(&payload) {
                return Some(request);
            }
            debug!(
                payload_len = payload.len(),
                "ignored a message on the stop channel"
            );
        }
    }
}

/// `<campaign id> <reply key>`.
fn parse_request(payload: &str) -> Option<StopRequest> {
    let (campaign, reply_to) = payload.split_once(' ')?;
    let campaign = Uuid::parse_str(campaign).ok()?;
    (!reply_to.is_empty()).then(|| StopRequest {
        campaign: CampaignId::from_uuid(campaign),
        reply_to: reply_to.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_a_campaign_and_a_reply_key() {
        let id = CampaignId::new();
        let request = parse_request(&format!("{id} bull:q:paloma-stop-reply:1")).expect("parsed");
        assert_eq!(request.campaign, id);
        assert_eq!(request.reply_to, "bull:q:paloma-stop-reply:1");
        assert_eq!(parse_request("not-a-uuid x"), None);
        assert_eq!(parse_request(&format!("{id} ")), None);
        assert_eq!(parse_request(&id.to_string()), None);
    }
}
