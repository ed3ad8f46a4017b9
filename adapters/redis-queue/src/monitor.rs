//! The queue as an operator sees it (docs/bull-protocol.md, "Paloma's own keys"): bull's job
//! counts, and the workers' heartbeats. Each worker `SET`s `<base>paloma-worker:<id>` (a JSON
//! description) with a time to live and adds its id to the set `<base>paloma-workers`; a
//! reader takes the set's members whose key still exists and removes the others, so a worker
//! that died drops off once its last beat expires, whatever the clocks say.

use std::time::Duration;

use chrono::{DateTime, Utc};
use paloma_application::{JobCounts, QueueError, WorkerBeat};
use paloma_domain::CampaignId;
use serde_json::{Value, json};
use tracing::debug;
use uuid::Uuid;

use crate::error::redis_error;
use crate::pool::Shared;

/// The job counts: bull's lists (`wait`, `active`, `paused`) and sets (`delayed`, `failed`,
/// `completed`).
pub(crate) async fn job_counts(shared: &Shared) -> Result<JobCounts, QueueError> {
    let keys = &shared.keys;
    let mut conn = shared.conn().await?;
    let (waiting, active, paused, delayed, failed, completed): (u64, u64, u64, u64, u64, u64) =
        redis::pipe()
            .cmd("LLEN")
            .arg(&keys.wait)
            .cmd("LLEN")
            .arg(&keys.active)
            .cmd("LLEN")
            .arg(&keys.paused)
            .cmd("ZCARD")
            .arg(&keys.delayed)
            .cmd("ZCARD")
            .arg(&keys.failed)
            .cmd("ZCARD")
            .arg(&keys.completed)
            .query_async(&mut *conn)
            .await
            .map_err(redis_error)?;
    Ok(JobCounts {
        waiting,
        active,
        delayed,
        failed,
        completed,
        paused,
    })
}

/// Records one heartbeat.
pub(crate) async fn beat(
    shared: &Shared,
    beat: &WorkerBeat,
    ttl: Duration,
) -> Result<(), QueueError> {
    let keys = &shared.keys;
    let mut conn = shared.conn().await?;
    redis::pipe()
        .cmd("SET")
        .arg(keys.worker(&beat.id))
        .arg(encode(beat))
        .arg("PX")
        .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
        .ignore()
        .cmd("SADD")
        .arg(keys.workers())
        .arg(&beat.id)
        .ignore()
        .query_async::<()>(&mut *conn)
        .await
        .map_err(redis_error)
}

/// Takes a worker off the live list.
pub(crate) async fn leave(shared: &Shared, id: &str) -> Result<(), QueueError> {
    let keys = &shared.keys;
    let mut conn = shared.conn().await?;
    redis::pipe()
        .cmd("DEL")
        .arg(keys.worker(id))
        .ignore()
        .cmd("SREM")
        .arg(keys.workers())
        .arg(id)
        .ignore()
        .query_async::<()>(&mut *conn)
        .await
        .map_err(redis_error)
}

/// The workers whose last beat has not expired; the ids of the others are removed.
pub(crate) async fn live_workers(shared: &Shared) -> Result<Vec<WorkerBeat>, QueueError> {
    let keys = &shared.keys;
    let mut conn = shared.conn().await?;
    let ids: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.workers())
        .query_async(&mut *conn)
        .await
        .map_err(redis_error)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let beats: Vec<Option<String>> = redis::cmd("MGET")
        .arg(ids.iter().map(|id| keys.worker(id)).collect::<Vec<_>>())
        .query_async(&mut *conn)
        .await
        .map_err(redis_error)?;
    let mut live = Vec::with_capacity(ids.len());
    let mut gone = Vec::new();
    for (id, beat) in ids.into_iter().zip(beats) {
        match beat.as_deref().and_then(decode) {
            Some(beat) => live.push(beat),
            None => gone.push(id),
        }
    }
    if !gone.is_empty() {
        debug!(
            workers = gone.len(),
            "removing workers whose heartbeat expired"
        );
        redis::cmd("SREM")
            .arg(keys.workers())
            .arg(&gone)
            .query_async::<()>(&mut *conn)
            .await
            .map_err(redis_error)?;
    }
    Ok(live)
}

fn encode(beat: &WorkerBeat) -> String {
    json!({
        "id": beat.id,
        "host": beat.host,
        "pid": beat.pid,
        "startedAt": beat.started_at.timestamp_millis(),
        "lastBeatAt": beat.last_beat_at.timestamp_millis(),
        "campaigns": beat.campaigns.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "messagesPerSecond": beat.messages_per_second,
        "concurrency": beat.concurrency,
    })
    .to_string()
}

fn decode(raw: &str) -> Option<WorkerBeat> {
    let value: Value = serde_json::from_str(raw).ok()?;
    let time = |name: &str| DateTime::<Utc>::from_timestamp_millis(value.get(name)?.as_i64()?);
    Some(WorkerBeat {
        id: value.get("id")?.as_str()?.to_owned(),
        host: value.get("host")?.as_str()?.to_owned(),
        pid: u32::try_from(value.get("pid")?.as_u64()?).ok()?,
        started_at: time("startedAt")?,
        last_beat_at: time("lastBeatAt")?,
        campaigns: value
            .get("campaigns")?
            .as_array()?
            .iter()
            .filter_map(|c| Uuid::parse_str(c.as_str()?).ok().map(CampaignId::from_uuid))
            .collect(),
        messages_per_second: value.get("messagesPerSecond")?.as_f64()?,
        concurrency: u32::try_from(value.get("concurrency")?.as_u64()?).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_beat_survives_the_wire() {
        let beat = WorkerBeat {
            id: "1-abc".to_owned(),
            host: "box".to_owned(),
            pid: 42,
            started_at: DateTime::from_timestamp_millis(1_700_000_000_123).expect("time"),
            last_beat_at: DateTime::from_timestamp_millis(1_700_000_005_000).expect("time"),
            campaigns: vec![CampaignId::new()],
            messages_per_second: 12.5,
            concurrency: 20,
        };
        assert_eq!(decode(&encode(&beat)), Some(beat));
        assert_eq!(decode("{\"id\": 3}"), None);
    }
}
