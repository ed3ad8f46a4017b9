//! The shared send throttle on a real Redis: two queue handles (two workers) hold one rate
//! together.

use std::time::{Duration, Instant};

use anyhow::Result;
use paloma_application::{SendSlot, SendThrottle};
use paloma_domain::SendRate;
use paloma_redis_queue::{RedisJobQueue, RedisSendThrottle};

use crate::helpers::test_settings;

/// Sends `n` "messages" through `throttle`, returning the slot each was granted: when its
/// answer came plus the wait it was given. (Not when the sleep woke up: on a loaded machine
/// wake-ups come late and bunch, which says nothing about the slots the throttle handed out.)
async fn send(throttle: RedisSendThrottle, n: usize) -> Result<Vec<Instant>> {
    let mut sent = Vec::with_capacity(n);
    while sent.len() < n {
        match throttle.reserve().await? {
            SendSlot::After(wait) => {
                sent.push(Instant::now() + wait);
                tokio::time::sleep(wait).await;
            }
            SendSlot::Busy(retry) => tokio::time::sleep(retry).await,
        }
    }
    Ok(sent)
}

#[tokio::test]
async fn two_workers_hold_the_rate_together_not_each() -> Result<()> {
    let settings = test_settings();
    let rate = SendRate::parse("50/s")?;
    // Two connections, as two worker processes would have.
    let a = RedisJobQueue::connect(settings.clone())
        .await?
        .send_throttle(rate);
    let b = RedisJobQueue::connect(settings).await?.send_throttle(rate);

    let started = Instant::now();
    let (from_a, from_b) = tokio::try_join!(send(a, 50), send(b, 50))?;
    let elapsed = started.elapsed();
    let mut all: Vec<Instant> = from_a.into_iter().chain(from_b).collect();
    all.sort();

    // 100 messages at 50/s together: about 2 s (each alone would have taken 1 s).
    eprintln!("100 messages through a shared 50/s throttle took {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(1_900),
        "too fast: {elapsed:?}"
    );
    // In any one second, at most 50 messages (+1 for the window's edge).
    for (i, first) in all.iter().enumerate() {
        let within = all[i..]
            .iter()
            .take_while(|t| t.duration_since(*first) < Duration::from_secs(1))
            .count();
        assert!(within <= 51, "{within} messages within one second");
    }
    Ok(())
}

#[tokio::test]
async fn a_slow_rate_reserves_one_slot_ahead_and_turns_the_rest_away() -> Result<()> {
    let rate = SendRate::parse("1/10s")?;
    let throttle = RedisJobQueue::connect(test_settings())
        .await?
        .send_throttle(rate);
    assert_eq!(throttle.reserve().await?, SendSlot::After(Duration::ZERO));
    let SendSlot::After(second) = throttle.reserve().await? else {
        panic!("the next slot, 10 s ahead, may be reserved");
    };
    assert!(
        second > Duration::from_secs(9) && second <= Duration::from_secs(10),
        "{second:?}"
    );
    let SendSlot::Busy(retry) = throttle.reserve().await? else {
        panic!("a third message within 20 s must wait without a reservation");
    };
    assert!(retry > Duration::from_secs(9), "{retry:?}");
    Ok(())
}
