//! Fair sharing: one worker sends several campaigns at once within its concurrency, so a small
//! campaign posted after a large one does not wait for it.

use tokio_util::sync::CancellationToken;

use super::*;

#[tokio::test(start_paused = true)]
async fn a_small_campaign_completes_while_a_large_one_taken_before_it_is_still_sending() {
    // Each message takes 50 ms; 4 in flight: the large campaign alone needs 2.5 s.
    let env = Env::new(FakeMailer {
        delay: Some(Duration::from_millis(50)),
        ..FakeMailer::default()
    });
    let large = create(&env, &addresses("large", 200)).await;
    let small = create(&env, &addresses("small", 5)).await;
    // The consumer hands out its last job first: the large campaign is taken first.
    env.consumer
        .waiting
        .lock()
        .expect("lock")
        .extend([job("small", Ok(small)), job("large", Ok(large))]);
    let worker = env.worker_with_settings(
        env.mailer.clone(),
        WorkerSettings {
            max_campaigns: 2,
            ..Env::settings(4)
        },
    );
    let shutdown = CancellationToken::new();
    let running = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { worker.run(shutdown).await }
    });

    let mut small_done_at = None;
    for tick in 0..1_000 {
        if env.repo.campaign(small).status == CampaignStatus::Completed {
            small_done_at = Some(tick * 10);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let small_done_at = small_done_at.expect("the small campaign completes");
    let large_now = env.repo.campaign(large);
    assert!(
        large_now.status == CampaignStatus::Processing && large_now.sent_emails < 150,
        "the small one did not wait for the large one: done at {small_done_at} ms, large {large_now:?}"
    );
    assert!(small_done_at < 1_000, "{small_done_at} ms");

    for _ in 0..1_000 {
        if env.repo.campaign(large).status == CampaignStatus::Completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    running.await.expect("stopped");
    assert_eq!(env.repo.campaign(large).sent_emails, 200);
    assert_eq!(env.repo.campaign(small).sent_emails, 5);
    assert_counters_match_rows(&env, large);
    // Never more than `concurrency` messages at once, both campaigns together.
    assert!(
        env.mailer.peak_in_flight() <= 4,
        "{}",
        env.mailer.peak_in_flight()
    );
}
