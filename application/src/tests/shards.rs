//! Many workers on one campaign: its shards are sent by every worker, each recipient once, and
//! the shard of a worker that died is sent by another once its lease runs out.

use std::collections::HashSet;

use tokio_util::sync::CancellationToken;

use super::*;
use crate::ports::{Clock, DeliveryLedger, ShardLedger};
use paloma_domain::Campaign;

fn sharded(concurrency: usize) -> WorkerSettings {
    WorkerSettings {
        shard_size: 50,
        shard_lease: Duration::from_secs(3),
        ..Env::settings(concurrency)
    }
}

fn slow_mailer() -> Arc<FakeMailer> {
    Arc::new(FakeMailer {
        delay: Some(Duration::from_millis(20)),
        ..FakeMailer::default()
    })
}

fn delivered_to(mailer: &FakeMailer) -> Vec<String> {
    mailer
        .delivered
        .lock()
        .expect("lock")
        .iter()
        .map(|m| m.to.clone())
        .collect()
}

async fn wait_until_final(env: &Env, id: paloma_domain::CampaignId) -> Campaign {
    for _ in 0..10_000 {
        let campaign = env.repo.campaign(id);
        if campaign.status.is_final() {
            return campaign;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the campaign did not end: {:?}", env.repo.campaign(id));
}

/// Two workers, each with a mailer of its own, running until [`TwoWorkers::stop`], with the
/// campaign's one job waiting for them.
struct TwoWorkers {
    mailers: [Arc<FakeMailer>; 2],
    shutdown: CancellationToken,
    runs: Vec<tokio::task::JoinHandle<()>>,
}

impl TwoWorkers {
    fn start(env: &Env, id: paloma_domain::CampaignId) -> Self {
        env.consumer
            .waiting
            .lock()
            .expect("lock")
            .push(job("only", Ok(id)));
        let mailers = [slow_mailer(), slow_mailer()];
        let shutdown = CancellationToken::new();
        let runs = mailers
            .iter()
            .map(|mailer| {
                let worker = env.worker_with_settings(mailer.clone(), sharded(4));
                let shutdown = shutdown.clone();
                tokio::spawn(async move { worker.run(shutdown).await })
            })
            .collect();
        Self {
            mailers,
            shutdown,
            runs,
        }
    }

    async fn stop(self) -> [Arc<FakeMailer>; 2] {
        self.shutdown.cancel();
        for run in self.runs {
            run.await.expect("stopped");
        }
        self.mailers
    }
}

#[tokio::test(start_paused = true)]
async fn two_workers_send_one_large_campaign_together_each_recipient_once() {
    let env = Env::new(FakeMailer::default());
    let list = addresses("r", 600);
    let id = create(&env, &list).await;
    let workers = TwoWorkers::start(&env, id);
    let done = wait_until_final(&env, id).await;
    let [mail_a, mail_b] = workers.stop().await;
    assert_eq!(done.status, CampaignStatus::Completed);
    assert_eq!(done.sent_emails, 600);
    assert_counters_match_rows(&env, id);
    let (to_a, to_b) = (delivered_to(&mail_a), delivered_to(&mail_b));
    // Both worked on it: 12 shards, one job.
    assert!(
        to_a.len() >= 100 && to_b.len() >= 100,
        "a sent {}, b sent {}",
        to_a.len(),
        to_b.len()
    );
    let mut all: Vec<String> = to_a.into_iter().chain(to_b).collect();
    all.sort();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 600, "every recipient was sent");
    assert_eq!(all.len(), 600, "and none twice");
    // Done campaigns keep no shards.
    assert_eq!(env.repo.open_shards(id).await.expect("fake"), 0);
}

#[tokio::test(start_paused = true)]
async fn the_shard_of_a_worker_that_died_is_sent_once_its_lease_runs_out() {
    the_dead_worker_s_shard_waits_for_its_lease(50).await;
}

/// The campaign's job taken by a worker that would not split it now (fewer pending than its
/// shard size, or splitting off): it still waits for the shards others hold, never sending
/// their recipients beside them.
#[tokio::test(start_paused = true)]
async fn a_job_holder_that_would_not_split_still_waits_for_the_shards_others_hold() {
    the_dead_worker_s_shard_waits_for_its_lease(1_000).await;
    the_dead_worker_s_shard_waits_for_its_lease(0).await;
}

async fn the_dead_worker_s_shard_waits_for_its_lease(shard_size: u32) {
    let env = Env::new(FakeMailer::default());
    let id = create(&env, &addresses("r", 200)).await;
    // A worker split the campaign, leased shard 0 and died.
    env.repo.start(id, env.clock.now()).await.expect("fake");
    assert_eq!(env.repo.plan_shards(id, 50).await.expect("fake"), 4);
    let dead = env
        .repo
        .lease_shard(Some(id), &[], "dead", Duration::from_secs(3))
        .await
        .expect("fake")
        .expect("a free shard");
    assert_eq!(dead.shard.number, 0);
    let started = tokio::time::Instant::now();

    env.consumer
        .waiting
        .lock()
        .expect("lock")
        .push(job("only", Ok(id)));
    let mailer = slow_mailer();
    let settings = WorkerSettings {
        shard_size,
        ..sharded(4)
    };
    let worker = env.worker_with_settings(mailer.clone(), settings);
    let shutdown = CancellationToken::new();
    let run = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { worker.run(shutdown).await }
    });
    let done = wait_until_final(&env, id).await;
    shutdown.cancel();
    run.await.expect("stopped");

    assert_eq!(done.status, CampaignStatus::Completed);
    assert_eq!(done.sent_emails, 200);
    assert_eq!(delivered_to(&mailer).len(), 200, "each recipient once");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "shard 0 was not sent while the dead worker's lease lasted"
    );
    let leases = env.repo.shards.leases.lock().expect("lock").clone();
    let of_shard_0: Vec<&str> = leases
        .iter()
        .filter(|(_, n, _)| *n == 0)
        .map(|(_, _, holder)| holder.as_str())
        .collect();
    assert_eq!(of_shard_0.len(), 2, "{leases:?}");
    assert_eq!(of_shard_0[0], "dead");
    // The old lease is no longer good for anything.
    assert!(
        !env.repo
            .renew_shard(&dead, Duration::from_secs(3))
            .await
            .expect("fake")
    );
}

#[tokio::test(start_paused = true)]
async fn a_helper_that_passes_the_failure_threshold_stops_the_campaign_for_all() {
    let env = Env::new(FakeMailer::default());
    // Every address bounces: the threshold (50% of at least 100) is passed early.
    let id = create(&env, &addresses("bounce", 400)).await;
    let workers = TwoWorkers::start(&env, id);
    let done = wait_until_final(&env, id).await;
    // Let the other worker notice and stop.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let [mail_a, mail_b] = workers.stop().await;
    assert_eq!(done.status, CampaignStatus::Failed);
    assert!(done.stop_reason.is_some(), "{done:?}");
    let tried: usize = [&mail_a, &mail_b]
        .iter()
        .map(|m| m.attempts.lock().expect("lock").len())
        .sum();
    assert!(
        tried < 400,
        "sending stopped at the threshold: {tried} tried"
    );
    assert_counters_match_rows(&env, id);
    assert_eq!(env.repo.open_shards(id).await.expect("fake"), 0);
}
