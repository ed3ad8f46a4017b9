//! What the reconciler and the campaign claim rely on: which campaigns have a live job, and at
//! most one job sending a campaign at a time.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use paloma_application::{JobConsumer, JobProducer, QueueError, TakenJob};
use paloma_domain::CampaignId;

use crate::helpers::{Monitor, TestQueue};

async fn take(tq: &TestQueue) -> Result<TakenJob> {
    tq.consumer
        .take(Duration::from_secs(2))
        .await?
        .context("expected a job to take")
}

#[tokio::test]
async fn live_campaigns_are_those_with_a_waiting_active_or_delayed_job() -> Result<()> {
    let tq = TestQueue::new().await?;
    let [retried, completed, active, waiting, vanished] = [(); 5].map(|()| CampaignId::new());
    for campaign in [retried, completed, active, waiting, vanished] {
        tq.queue.enqueue(campaign).await?;
    }
    // A job of another producer, whose data names no campaign, is ignored.
    let foreign_id: i64 = tq.cmd("INCR", &[&tq.key("id")]).await?;
    let foreign_key = tq.key(&foreign_id.to_string());
    let _: i64 = tq
        .cmd("HSET", &[&foreign_key, "data", r#"{"report":"daily"}"#])
        .await?;
    let _: i64 = tq
        .cmd("LPUSH", &[&tq.key("wait"), &foreign_id.to_string()])
        .await?;

    let first = take(&tq).await?;
    tq.consumer.fail(&first, "try later", true).await?; // -> delayed
    let second = take(&tq).await?;
    tq.consumer.complete(&second).await?; // -> completed
    let third = take(&tq).await?; // stays active
    assert_eq!(third.campaign, Ok(active));
    // The last job's hash is lost (what a Redis restart without persistence does to all).
    let _: i64 = tq.cmd("DEL", &[&tq.key("5")]).await?;

    let live = tq.queue.live_campaigns().await?;
    assert_eq!(live, HashSet::from([retried, active, waiting]));
    tq.cleanup().await
}

/// Adds the hash of job `id` of a new campaign to `pipe`; returns the campaign.
fn job_of_a_new_campaign(tq: &TestQueue, pipe: &mut redis::Pipeline, id: u64) -> CampaignId {
    let campaign = CampaignId::new();
    pipe.cmd("HSET")
        .arg(tq.key(&id.to_string()))
        .arg("data")
        .arg(format!(r#"{{"jobUuid":"{campaign}"}}"#))
        .ignore();
    campaign
}

/// The reconciler's scan reads at most 1,000 ids per script call (one script reading every id
/// held Redis for 173 ms at 54,000 waiting jobs), in an order where every move a job can make
/// goes from a state read for the first time to one read for the last time later (so a job
/// that moves once while the scan runs is still seen), and when nothing moves it finds every
/// campaign: lists longer than a page, a delayed zset whose equal scores straddle pages, ids
/// whose hash is gone and jobs of another producer.
#[tokio::test]
async fn the_live_scan_reads_a_page_per_call_and_misses_nothing_when_nothing_moves() -> Result<()> {
    const PAGE: usize = 1000;
    let tq = TestQueue::new().await?;
    let mut expected = HashSet::new();
    let mut pipe = redis::pipe();
    let mut ids = 1_u64..;
    let mut next_id = || ids.next().context("ids run out");
    for (list, count) in [("wait", 2_500), ("paused", 1_001), ("active", 1_200)] {
        for _ in 0..count {
            let id = next_id()?;
            expected.insert(job_of_a_new_campaign(&tq, &mut pipe, id));
            pipe.cmd("LPUSH").arg(tq.key(list)).arg(id).ignore();
        }
    }
    // Delayed scores as bull writes them (due ms * 4096 + id bits, 16 digits): 1,500 ids share
    // one, so a page ends among them, and 600 more are due later, one each.
    let base: u64 = 1_795_000_000_000 * 4096;
    for n in 0..2_100_u64 {
        let id = next_id()?;
        expected.insert(job_of_a_new_campaign(&tq, &mut pipe, id));
        let score = base + n.saturating_sub(1_499) * 4096;
        pipe.cmd("ZADD")
            .arg(tq.key("delayed"))
            .arg(score)
            .arg(id)
            .ignore();
    }
    // Ids whose hash is gone, and jobs of another producer.
    for _ in 0..10 {
        pipe.cmd("LPUSH")
            .arg(tq.key("wait"))
            .arg(next_id()?)
            .ignore();
    }
    for _ in 0..2 {
        let id = next_id()?;
        pipe.cmd("HSET")
            .arg(tq.key(&id.to_string()))
            .arg("data")
            .arg(r#"{"report":"daily"}"#)
            .ignore();
        pipe.cmd("LPUSH").arg(tq.key("wait")).arg(id).ignore();
    }
    let () = pipe.query_async(&mut tq.redis.clone()).await?;

    let mut monitor = Monitor::start(&tq.settings).await?;
    let live = tq.queue.live_campaigns().await?;
    let marker = tq.key("live-scan-done");
    let _: String = tq.cmd("ECHO", &[&marker]).await?;
    let commands = monitor.until_echo(&marker).await?;

    let missed = expected.difference(&live).count();
    let extra = live.difference(&expected).count();
    assert_eq!(
        (missed, extra),
        (0, 0),
        "{} live jobs expected, {} campaigns found",
        expected.len(),
        live.len()
    );

    // What the scripts did with this queue's keys, a script call at a time.
    let base_key = tq.key("");
    let mut reads = Vec::new(); // (state, position among the range reads)
    let mut hgets = 0;
    let mut calls = 0;
    for args in commands
        .iter()
        .filter(|args| args.iter().any(|arg| arg.starts_with(&base_key)))
    {
        let name = args[0].to_ascii_uppercase();
        let arg = |i: usize| args.get(i).map_or("", String::as_str);
        match name.as_str() {
            "EVALSHA" | "EVAL" => {
                calls += 1;
                hgets = 0;
            }
            "HGET" => {
                hgets += 1;
                ensure!(hgets <= PAGE, "a script call read more than {PAGE} jobs");
            }
            "LRANGE" => {
                let (start, stop): (i64, i64) = (arg(2).parse()?, arg(3).parse()?);
                ensure!(
                    start >= 0 && stop >= start && stop - start < PAGE as i64,
                    "a read of more than a page: {args:?}"
                );
                reads.push(arg(1).trim_start_matches(&base_key).to_owned());
            }
            "ZRANGEBYSCORE" => {
                let limit = args.iter().position(|a| a.eq_ignore_ascii_case("LIMIT"));
                let count: usize = limit
                    .and_then(|at| args.get(at + 2))
                    .context("ZRANGEBYSCORE without LIMIT")?
                    .parse()?;
                ensure!(count <= PAGE, "a read of more than a page: {args:?}");
                reads.push(arg(1).trim_start_matches(&base_key).to_owned());
            }
            other => ensure!(
                !other.contains("RANGE") && other != "SMEMBERS",
                "unexpected read: {args:?}"
            ),
        }
    }
    // Pages: wait (2,512 ids) 3, paused (1,001) 2, active (1,200) 2 and delayed (2,100) 3,
    // the last two read twice.
    assert!(calls >= 3 + 2 + 2 * 2 + 3 * 2, "{calls} script calls");

    // The passes: runs of reads of one state.
    let mut passes: Vec<(String, usize, usize)> = Vec::new();
    for (at, state) in reads.iter().enumerate() {
        match passes.last_mut() {
            Some((last, _, end)) if last == state => *end = at,
            _ => passes.push((state.clone(), at, at)),
        }
    }
    for (from, to) in [
        ("wait", "active"),    // taken
        ("active", "wait"),    // released, stalled, retried without delay
        ("active", "delayed"), // retried with a delay
        ("delayed", "wait"),   // promoted
        ("wait", "paused"),    // the queue paused (bull renames wait)
        ("active", "paused"),  // back to waiting while paused
        ("delayed", "paused"), // promoted while paused
    ] {
        let first_from = passes.iter().find(|(state, ..)| state == from);
        let last_to = passes.iter().rev().find(|(state, ..)| state == to);
        let (Some((_, _, from_end)), Some((_, to_start, _))) = (first_from, last_to) else {
            anyhow::bail!("{from} or {to} not read: {passes:?}");
        };
        assert!(
            from_end < to_start,
            "a job moving from {from} to {to} could be missed: {passes:?}"
        );
    }
    tq.cleanup().await
}

#[tokio::test]
async fn one_campaign_is_claimed_by_one_job_until_that_job_is_settled() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    tq.queue.enqueue(campaign).await?;
    tq.queue.enqueue(campaign).await?;
    let first = take(&tq).await?;
    let second = take(&tq).await?;

    assert!(tq.consumer.claim_campaign(&first, campaign).await?);
    assert!(
        tq.consumer.claim_campaign(&first, campaign).await?,
        "again: still ours"
    );
    assert!(!tq.consumer.claim_campaign(&second, campaign).await?);
    let claim_key = tq.key(&format!("campaign-claim:{campaign}"));
    let owner: String = tq.cmd("GET", &[&claim_key]).await?;
    assert_eq!(owner, format!("{}\n{}", first.job_id, first.token));

    // The claim lives as long as the lock and is renewed with it.
    let _: i64 = tq.cmd("PEXPIRE", &[&claim_key, "1000"]).await?;
    tq.consumer.renew(&first).await?;
    let pttl: i64 = tq.cmd("PTTL", &[&claim_key]).await?;
    assert!(pttl > 25_000, "renewed claim PTTL {pttl}");

    // Settling the job lets go: the other job may claim it now.
    tq.consumer.complete(&first).await?;
    let gone: Option<String> = tq.cmd("GET", &[&claim_key]).await?;
    assert_eq!(gone, None);
    assert!(tq.consumer.claim_campaign(&second, campaign).await?);
    // Settling a job that does not hold the claim leaves it alone.
    let third = TakenJob {
        job_id: "999".into(),
        token: "t".into(),
        campaign: Ok(campaign),
        attempts_made: 0,
    };
    assert!(!tq.consumer.claim_campaign(&third, campaign).await?);
    tq.consumer.release(&second).await?;
    assert!(tq.consumer.claim_campaign(&third, campaign).await?);
    tq.cleanup().await
}

#[tokio::test]
async fn a_job_taken_again_after_a_stall_takes_over_its_own_stale_claim() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    tq.queue.enqueue(campaign).await?;
    let dead = take(&tq).await?;
    assert!(tq.consumer.claim_campaign(&dead, campaign).await?);
    // Its worker died; the stalled check handed the same job to another worker (new token)
    // a moment before the dead take's claim expired.
    let again = TakenJob {
        token: "a-new-token".into(),
        ..dead.clone()
    };
    assert!(tq.consumer.claim_campaign(&again, campaign).await?);
    // The dead take, were it still running, could not take the claim back: its renewal
    // fails on the job's lock (now the new take's) before it touches the claim.
    let _: String = tq
        .cmd(
            "SET",
            &[&tq.key(&format!("{}:lock", dead.job_id)), "a-new-token"],
        )
        .await?;
    assert!(matches!(
        tq.consumer.renew(&dead).await,
        Err(QueueError::LockLost)
    ));
    let owner: String = tq
        .cmd("GET", &[&tq.key(&format!("campaign-claim:{campaign}"))])
        .await?;
    assert_eq!(owner, format!("{}\na-new-token", dead.job_id));
    tq.cleanup().await
}

#[tokio::test]
async fn a_renewal_fails_when_another_job_took_the_claim() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    tq.queue.enqueue(campaign).await?;
    let job = take(&tq).await?;
    assert!(tq.consumer.claim_campaign(&job, campaign).await?);
    // The claim expired during an outage and another job took it.
    let claim_key = tq.key(&format!("campaign-claim:{campaign}"));
    let _: String = tq.cmd("SET", &[&claim_key, "7\nother-token"]).await?;
    assert!(matches!(
        tq.consumer.renew(&job).await,
        Err(QueueError::LockLost)
    ));
    tq.cleanup().await
}
