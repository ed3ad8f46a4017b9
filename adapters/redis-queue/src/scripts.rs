//! One typed call per Lua script in `src/lua/` (written for Paloma from the protocol in
//! docs/bull-protocol.md). Each wrapper is the only place that lists its script's KEYS, in
//! order, and its ARGV, as the script's header comment describes them, and it decodes the
//! script's answer into a type. The queue scripts start with the shared helpers of
//! `common.lua`; `throttle.lua` stands alone.
//!
//! The scripts are sent with `EVALSHA`, falling back to `EVAL` (which loads them) when the
//! server does not know them yet (`redis::Script`).

use std::collections::HashMap;
use std::sync::LazyLock;

use paloma_application::SendSlot;
use paloma_domain::CampaignId;
use redis::aio::MultiplexedConnection;
use redis::{RedisResult, Script};

use crate::keys::Keys;
use crate::wire::{self, JOB_NAME};

/// A queue script: `common.lua` followed by the script's own body.
macro_rules! queue_script {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("lua/common.lua"),
                include_str!(concat!("lua/", $file))
            ))
        })
    };
}

static ADD: LazyLock<Script> = queue_script!("add.lua");
static ACTIVATE: LazyLock<Script> = queue_script!("activate.lua");
static EXTEND: LazyLock<Script> = queue_script!("extend.lua");
static CLAIM: LazyLock<Script> = queue_script!("claim.lua");
static COMPLETE: LazyLock<Script> = queue_script!("complete.lua");
static FAIL: LazyLock<Script> = queue_script!("fail.lua");
static RELEASE: LazyLock<Script> = queue_script!("release.lua");
static PROMOTE: LazyLock<Script> = queue_script!("promote.lua");
static STALLED: LazyLock<Script> = queue_script!("stalled.lua");
static LIVE: LazyLock<Script> = queue_script!("live.lua");
static FENCE: LazyLock<Script> = queue_script!("fence.lua");
static UNFENCE: LazyLock<Script> = queue_script!("unfence.lua");

/// What `fence.lua` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fenced {
    /// A worker that cannot be asked to stop holds a job of the campaign; nothing changed.
    HeldElsewhere,
    /// A job of the campaign is in `active` without a lock (being taken, or stalled); nothing
    /// changed.
    Unlocked,
    /// This many jobs are in the fence.
    Jobs(u32),
}

/// `fence.lua`: takes a campaign's waiting and delayed jobs (and, with `take_unlocked`, its
/// unlocked active ones) into its fence hash, out of every worker's reach, unless a worker
/// that cannot be asked to stop (a Node bull worker) holds one.
pub(crate) struct Fence<'a> {
    pub keys: &'a Keys,
    pub campaign: &'a str,
    /// How long the fence lasts if nobody ends it.
    pub ttl_ms: u64,
    /// Whether to fence active jobs without a lock rather than answer [`Fenced::Unlocked`].
    pub take_unlocked: bool,
}

impl Fence<'_> {
    pub(crate) async fn invoke(&self, conn: &mut MultiplexedConnection) -> RedisResult<Fenced> {
        let keys = self.keys;
        let fenced: i64 = FENCE
            .key(&keys.active)
            .key(&keys.wait)
            .key(&keys.paused)
            .key(&keys.delayed)
            .key(&keys.priority)
            .key(keys.fence(self.campaign))
            .key(&keys.stalled)
            .arg(&keys.base)
            .arg(self.campaign)
            .arg(self.ttl_ms)
            .arg(if self.take_unlocked { "1" } else { "0" })
            .invoke_async(conn)
            .await?;
        Ok(match fenced {
            -1 => Fenced::HeldElsewhere,
            -2 => Fenced::Unlocked,
            n => Fenced::Jobs(u32::try_from(n).unwrap_or(0)),
        })
    }
}

/// `unfence.lua`: ends a campaign's fence, settling its jobs (to `completed`, with
/// `return_value`) or putting them back where they were. Answers how many it moved.
pub(crate) struct Unfence<'a> {
    pub keys: &'a Keys,
    pub campaign: &'a str,
    /// `true`: settle; `false`: restore.
    pub settle: bool,
    /// This process's token, for the `waiting@<token>` event.
    pub token: &'a str,
    /// The settled jobs' return value (JSON).
    pub return_value: &'a str,
}

impl Unfence<'_> {
    pub(crate) async fn invoke(&self, conn: &mut MultiplexedConnection) -> RedisResult<u32> {
        let keys = self.keys;
        UNFENCE
            .key(keys.fence(self.campaign))
            .key(&keys.wait)
            .key(&keys.paused)
            .key(&keys.meta_paused)
            .key(&keys.delayed)
            .key(&keys.priority)
            .key(&keys.completed)
            .key(&keys.active)
            .arg(&keys.base)
            .arg(if self.settle { "settle" } else { "restore" })
            .arg(self.token)
            .arg(self.return_value)
            .invoke_async(conn)
            .await
    }
}

static THROTTLE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/throttle.lua")));

/// Why a script would not settle a job (complete, fail, release). Nothing was changed.
/// The codes are listed in docs/bull-protocol.md, "Locks and renewal".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `-1`: the job's hash is gone.
    JobMissing,
    /// `-2`: the job has no lock (it expired).
    LockMissing,
    /// `-6`: another token holds the job's lock.
    LockMismatch,
    /// `-3`: the lock is ours but the job is not in `active`.
    NotActive,
    /// `-7`: the job's `attemptsMade` is not an integer (`fail.lua` checks before counting).
    CorruptAttempts,
    /// Any other negative answer.
    Unexpected(i64),
}

impl Refusal {
    /// A settling script's status code: non-negative is done, negative a refusal.
    pub(crate) fn check(code: i64) -> Result<(), Self> {
        match code {
            0.. => Ok(()),
            -1 => Err(Self::JobMissing),
            -2 => Err(Self::LockMissing),
            -6 => Err(Self::LockMismatch),
            -3 => Err(Self::NotActive),
            -7 => Err(Self::CorruptAttempts),
            other => Err(Self::Unexpected(other)),
        }
    }

    /// The script's code for this refusal.
    pub(crate) fn code(self) -> i64 {
        match self {
            Self::JobMissing => -1,
            Self::LockMissing => -2,
            Self::NotActive => -3,
            Self::LockMismatch => -6,
            Self::CorruptAttempts => -7,
            Self::Unexpected(code) => code,
        }
    }
}

/// `add.lua`: adds a job at the tail of `wait` (of `paused` while the queue is paused), or to
/// `delayed` when its due time is still ahead, stamped with the Redis server's time. Answers
/// the new job id.
pub(crate) struct AddJob<'a> {
    pub keys: &'a Keys,
    /// The job's `data` JSON.
    pub data: &'a str,
    /// The job's `opts` JSON up to its `"delay"` (see [`wire::JobOpts::json_prefix`]).
    pub opts_prefix: &'a str,
    /// This process's token, for the `waiting@<token>` event.
    pub token: &'a str,
    /// When the job is due, in ms since the epoch on the Redis clock; 0: at once.
    pub due_ms: u64,
}

impl AddJob<'_> {
    pub(crate) async fn invoke(&self, conn: &mut MultiplexedConnection) -> RedisResult<String> {
        let keys = self.keys;
        ADD.key(&keys.id)
            .key(&keys.wait)
            .key(&keys.paused)
            .key(&keys.meta_paused)
            .key(&keys.delayed)
            .arg(&keys.base)
            .arg(JOB_NAME)
            .arg(self.data)
            .arg(self.opts_prefix)
            .arg(self.token)
            .arg(self.due_ms)
            .invoke_async(conn)
            .await
    }
}

/// `activate.lua`: locks a job the blocking move just put in `active`. Answers its hash, or
/// `None` when the job no longer exists (then it is taken out of `active`).
pub(crate) struct ActivateJob<'a> {
    pub keys: &'a Keys,
    pub id: &'a str,
    /// The new lock's token (one per take).
    pub lock_token: &'a str,
    pub lock_ms: u64,
    /// This process's token, for the `active@<token>` event.
    pub token: &'a str,
}

impl ActivateJob<'_> {
    pub(crate) async fn invoke(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> RedisResult<Option<HashMap<String, String>>> {
        let keys = self.keys;
        let flat: Option<Vec<String>> = ACTIVATE
            .key(&keys.active)
            .key(&keys.stalled)
            .key(&keys.priority)
            .arg(&keys.base)
            .arg(self.id)
            .arg(self.lock_token)
            .arg(self.lock_ms)
            .arg(self.token)
            .invoke_async(conn)
            .await?;
        Ok(flat.map(wire::pairs))
    }
}

/// `extend.lua`: extends a job's lock if `lock_token` still holds it (and unmarks it for the
/// stalled check). Answers whether it did.
pub(crate) struct ExtendLock<'a> {
    pub keys: &'a Keys,
    pub id: &'a str,
    pub lock_token: &'a str,
    pub lock_ms: u64,
}

impl ExtendLock<'_> {
    pub(crate) async fn invoke(&self, conn: &mut MultiplexedConnection) -> RedisResult<bool> {
        let extended: i64 = EXTEND
            .key(self.keys.lock(self.id))
            .key(&self.keys.stalled)
            .arg(self.lock_token)
            .arg(self.lock_ms)
            .arg(self.id)
            .invoke_async(conn)
            .await?;
        Ok(extended == 1)
    }
}

/// What to do with a campaign claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimMode {
    /// Take the claim, or extend it when the job already has it.
    Hold,
    /// Let go of it if the job has it.
    Drop,
}

/// `claim.lua`: Paloma's claim on a campaign, held by one job's take at a time
/// (docs/bull-protocol.md, "Paloma's own keys"). Answers true when the claim is (or, for a
/// drop, was) this take's or free, false when another job has it.
pub(crate) struct ClaimCampaign<'a> {
    pub keys: &'a Keys,
    pub campaign: CampaignId,
    pub job_id: &'a str,
    pub lock_token: &'a str,
    /// How long the claim lasts unless extended (the job's lock duration).
    pub duration_ms: u64,
    pub mode: ClaimMode,
}

impl ClaimCampaign<'_> {
    pub(crate) async fn invoke(&self, conn: &mut MultiplexedConnection) -> RedisResult<bool> {
        let ours: i64 = CLAIM
            .key(self.keys.campaign_claim(&self.campaign.to_string()))
            .arg(self.job_id)
            .arg(self.lock_token)
            .arg(self.duration_ms)
            .arg(match self.mode {
                ClaimMode::Hold => "0",
                ClaimMode::Drop => "1",
            })
            .invoke_async(conn)
            .await?;
        Ok(ours == 1)
    }
}

/// `complete.lua`: moves a job `lock_token` holds from `active` to `completed` (its return
/// value `null`), honouring its `removeOnComplete`.
pub(crate) struct CompleteJob<'a> {
    pub keys: &'a Keys,
    pub id: &'a str,
    pub lock_token: &'a str,
}

impl CompleteJob<'_> {
    pub(crate) async fn invoke(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> RedisResult<Result<(), Refusal>> {
        let keys = self.keys;
        let code: i64 = COMPLETE
            .key(&keys.active)
            .key(&keys.completed)
            .key(&keys.stalled)
            .arg(&keys.base)
            .arg(self.id)
            .arg(self.lock_token)
            .arg("null")
            .invoke_async(conn)
            .await?;
        Ok(Refusal::check(code))
    }
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailOutcome {
    /// The retry waits in `delayed` for `delay_ms` (the job's backoff).
    Delayed { attempts_made: i64, delay_ms: i64 },
    /// The job's backoff is zero: it is back on the waiting list.
    RetryNow { attempts_made: i64 },
    /// No retry (not allowed, or no attempt left): the job is in `failed`.
    Failed { attempts_made: i64 },
}

/// `fail.lua`: records a failed attempt of a job `lock_token` holds, then schedules a retry
/// with the job's own backoff or fails it for good (honouring its `removeOnFail`).
pub(crate) struct FailJob<'a> {
    pub keys: &'a Keys,
    pub id: &'a str,
    pub lock_token: &'a str,
    /// Stored as `failedReason` and appended to `stacktrace`.
    pub reason: &'a str,
    /// False fails the job for good even with attempts left.
    pub retry: bool,
    /// This process's token, for the `waiting@<token>` event of an immediate retry.
    pub token: &'a str,
}

impl FailJob<'_> {
    pub(crate) async fn invoke(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> RedisResult<Result<FailOutcome, Refusal>> {
        let keys = self.keys;
        let answer: Vec<i64> = FAIL
            .key(&keys.active)
            .key(&keys.delayed)
            .key(&keys.failed)
            .key(&keys.stalled)
            .key(&keys.wait)
            .key(&keys.paused)
            .key(&keys.meta_paused)
            .key(&keys.priority)
            .arg(&keys.base)
            .arg(self.id)
            .arg(self.lock_token)
            .arg(self.reason)
            .arg(if self.retry { "1" } else { "0" })
            .arg(self.token)
            .invoke_async(conn)
            .await?;
        Ok(fail_outcome(&answer))
    }
}

/// Decodes `fail.lua`'s `{outcome, attemptsMade, delayMs}` or `{code}`.
fn fail_outcome(answer: &[i64]) -> Result<FailOutcome, Refusal> {
    let outcome = answer.first().copied().unwrap_or(i64::MIN);
    Refusal::check(outcome.min(0))?;
    let attempts_made = answer.get(1).copied().unwrap_or_default();
    Ok(match outcome {
        1 => FailOutcome::Delayed {
            attempts_made,
            delay_ms: answer.get(2).copied().unwrap_or_default(),
        },
        2 => FailOutcome::RetryNow { attempts_made },
        _ => FailOutcome::Failed { attempts_made },
    })
}

/// `release.lua`: gives back a job `lock_token` holds without counting an attempt: it goes to
/// the head of the waiting list.
pub(crate) struct ReleaseJob<'a> {
    pub keys: &'a Keys,
    pub id: &'a str,
    pub lock_token: &'a str,
    /// This process's token, for the `waiting@<token>` event.
    pub token: &'a str,
}

impl ReleaseJob<'_> {
    pub(crate) async fn invoke(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> RedisResult<Result<(), Refusal>> {
        let keys = self.keys;
        let code: i64 = RELEASE
            .key(&keys.active)
            .key(&keys.stalled)
            .key(&keys.wait)
            .key(&keys.paused)
            .key(&keys.meta_paused)
            .arg(&keys.base)
            .arg(self.id)
            .arg(self.lock_token)
            .arg(self.token)
            .invoke_async(conn)
            .await?;
        Ok(Refusal::check(code))
    }
}

/// `promote.lua`: moves up to `limit` delayed jobs that are due by the Redis server's clock to
/// the waiting list (score bound and encoding: docs/bull-protocol.md, "Delayed jobs"). Answers
/// how many moved.
pub(crate) struct PromoteDelayed<'a> {
    pub keys: &'a Keys,
    /// This process's token, for the `waiting@<token>` events.
    pub token: &'a str,
    pub limit: u32,
}

impl PromoteDelayed<'_> {
    pub(crate) async fn invoke(&self, conn: &mut MultiplexedConnection) -> RedisResult<u64> {
        let keys = self.keys;
        PROMOTE
            .key(&keys.delayed)
            .key(&keys.active)
            .key(&keys.wait)
            .key(&keys.paused)
            .key(&keys.meta_paused)
            .key(&keys.priority)
            .arg(&keys.base)
            .arg(self.token)
            .arg(self.limit)
            .invoke_async(conn)
            .await
    }
}

/// What one stalled-job check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StalledCheck {
    /// False when another worker ran the check within the interval (nothing was done).
    pub ran: bool,
    /// Jobs returned to the head of the waiting list.
    pub recovered: u64,
    /// Jobs failed for stalling more than `max_stalled`.
    pub failed: u64,
}

/// `stalled.lua`: bull's stalled-job check, at most once per `interval_ms` across all workers
/// (docs/bull-protocol.md, "The stalled check").
pub(crate) struct CheckStalled<'a> {
    pub keys: &'a Keys,
    pub interval_ms: u64,
    pub max_stalled: u32,
}

impl CheckStalled<'_> {
    pub(crate) async fn invoke(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> RedisResult<StalledCheck> {
        let keys = self.keys;
        let (ran, recovered, failed): (u8, u64, u64) = STALLED
            .key(&keys.stalled_check)
            .key(&keys.stalled)
            .key(&keys.active)
            .key(&keys.wait)
            .key(&keys.paused)
            .key(&keys.meta_paused)
            .key(&keys.failed)
            .arg(&keys.base)
            .arg(self.interval_ms)
            .arg(self.max_stalled)
            .invoke_async(conn)
            .await?;
        Ok(StalledCheck {
            ran: ran == 1,
            recovered,
            failed,
        })
    }
}

/// Where one page of the live scan starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LiveCursor {
    /// A list (wait, paused or active), `start` ids from its left end.
    List { start: u64 },
    /// The delayed zset, from score `min` (inclusive; as Redis printed it, or `-inf`), after
    /// the `skip` ids with exactly that score that earlier pages read.
    Delayed { min: String, skip: u64 },
}

/// One page of the live scan, as `live.lua` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LivePage {
    /// Ids read; fewer than asked for means the list or zset was read to its end.
    pub read: u64,
    /// The `data` of those ids whose hash still exists.
    pub data: Vec<String>,
    /// Where the next page starts, when `read` was the whole page.
    pub next: LiveCursor,
}

/// `live.lua`: the `data` of up to `count` jobs of one list or of the delayed zset, from
/// `cursor` (docs/bull-protocol.md, "The live scan").
pub(crate) struct LiveJobPage<'a> {
    pub keys: &'a Keys,
    /// The list (`wait`, `paused`, `active`) or `delayed`, as the cursor says.
    pub key: &'a str,
    pub cursor: &'a LiveCursor,
    pub count: u64,
}

impl LiveJobPage<'_> {
    pub(crate) async fn invoke(&self, conn: &mut MultiplexedConnection) -> RedisResult<LivePage> {
        let mut call = LIVE.key(self.key);
        call.arg(&self.keys.base);
        match self.cursor {
            LiveCursor::List { start } => call.arg("list").arg(self.count).arg(*start).arg(0),
            LiveCursor::Delayed { min, skip } => {
                call.arg("zset").arg(self.count).arg(min).arg(*skip)
            }
        };
        let (read, last, ties, data): (u64, String, u64, Vec<String>) =
            call.invoke_async(conn).await?;
        let next = match self.cursor {
            LiveCursor::List { start } => LiveCursor::List {
                start: start + read,
            },
            LiveCursor::Delayed { .. } => LiveCursor::Delayed {
                min: last,
                skip: ties,
            },
        };
        Ok(LivePage { read, data, next })
    }
}

/// `throttle.lua`: reserves the next send slot under a rate shared through `key` (GCRA on the
/// Redis server's clock, in microseconds).
pub(crate) struct ReserveSendSlot<'a> {
    pub key: &'a str,
    /// Time between two messages.
    pub interval_us: u64,
    /// How far ahead a slot may be reserved.
    pub horizon_us: u64,
}

impl ReserveSendSlot<'_> {
    pub(crate) async fn invoke(&self, conn: &mut MultiplexedConnection) -> RedisResult<SendSlot> {
        let (reserved, us): (i64, i64) = THROTTLE
            .key(self.key)
            .arg(self.interval_us)
            .arg(self.horizon_us)
            .invoke_async(conn)
            .await?;
        let wait = std::time::Duration::from_micros(u64::try_from(us).unwrap_or(0));
        Ok(if reserved == 1 {
            SendSlot::After(wait)
        } else {
            SendSlot::Busy(wait)
        })
    }
}

#[cfg(test)]
#[path = "scripts_tests.rs"]
mod tests;
