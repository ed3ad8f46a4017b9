//! The queue as operators see it: a running worker heartbeats with what it sends and leaves
//! when it stops; the overview lists the live workers oldest first, or says Redis is down.

use std::sync::atomic::Ordering;

use chrono::TimeDelta;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::ports::{JobCounts, WorkerBeat};
use crate::{MonitorError, WorkerIdentity};

#[tokio::test(start_paused = true)]
async fn a_running_worker_beats_and_leaves_when_it_stops() {
    let env = Env::new(FakeMailer::default());
    let settings = WorkerSettings {
        identity: WorkerIdentity {
            id: "w-1".to_owned(),
            host: "box".to_owned(),
            pid: 9,
        },
        heartbeat_interval: Duration::from_millis(100),
        ..Env::settings(3)
    };
    let worker = Worker::new(
        env.repo.clone(),
        env.consumer.clone(),
        env.queue.clone(),
        env.mailer.clone(),
        Arc::new(env.clock),
        settings,
    );
    let shutdown = CancellationToken::new();
    let running = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { worker.run(shutdown).await }
    });
    tokio::time::sleep(Duration::from_millis(350)).await;
    shutdown.cancel();
    running.await.expect("stopped");

    let beats = env.consumer.beats.lock().expect("lock").clone();
    assert!(beats.len() >= 3, "{beats:?}");
    assert!(
        beats
            .iter()
            .all(|b| b.id == "w-1" && b.host == "box" && b.pid == 9)
    );
    assert_eq!(beats[0].concurrency, 3);
    assert_eq!(*env.consumer.left.lock().expect("lock"), ["w-1"]);
}

#[tokio::test]
async fn the_overview_lists_live_workers_oldest_first_or_says_the_queue_is_down() {
    let env = Env::new(FakeMailer::default());
    let now = env.clock.now();
    let beat = |id: &str, age: i64| WorkerBeat {
        id: id.to_owned(),
        host: "h".to_owned(),
        pid: 1,
        started_at: now - TimeDelta::seconds(age),
        last_beat_at: now,
        campaigns: vec![],
        messages_per_second: 0.0,
        concurrency: 5,
    };
    *env.queue.workers.lock().expect("lock") = vec![beat("young", 1), beat("old", 60)];
    *env.queue.counts.lock().expect("lock") = JobCounts {
        waiting: 4,
        ..JobCounts::default()
    };
    let overview = env.service().queue_overview().await.expect("overview");
    assert_eq!(overview.counts.waiting, 4);
    let ids: Vec<&str> = overview.workers.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["old", "young"]);

    env.queue.down.store(true, Ordering::SeqCst);
    assert!(matches!(
        env.service().queue_overview().await,
        Err(MonitorError::Unavailable(_))
    ));
}
