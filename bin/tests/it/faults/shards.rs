//! Many workers on one campaign, with the real binaries: the campaign is split into shards
//! that every worker leases; a worker killed costs at most its own messages in flight, and a
//! worker frozen past its lease starts nothing of its shard when it wakes, though another
//! worker has leased it meanwhile.

use super::*;

/// `WORKER_SHARD_SIZE` here: small, so that a test campaign has many shards.
const SHARD_SIZE: &str = "500";
/// The harness's `WORKER_SHARD_LEASE_MS`.
const SHARD_LEASE: Duration = Duration::from_millis(3000);

/// An SMTP server taking 20 ms a message, as a remote one would: the campaigns here last
/// seconds, long enough to see every worker on them and to stop one half-way.
fn remote_smtp() -> TestSmtpServer {
    TestSmtpServer::start(SmtpRules::default().delay(Duration::from_millis(20))).expect("smtp")
}

/// The API and `workers` workers splitting campaigns in shards of [`SHARD_SIZE`].
async fn sharded_paloma(workers: usize, smtp: &TestSmtpServer) -> Paloma {
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    for _ in 0..workers {
        paloma.start_worker(&smtp.url(), &[("WORKER_SHARD_SIZE", SHARD_SIZE)]);
    }
    paloma
}

/// How many workers hold a live lease on a shard of the campaign now, read from the table.
async fn lease_holders(paloma: &Paloma, id: &str) -> u64 {
    let rows = sql(
        paloma,
        &format!(
            "SELECT COUNT(DISTINCT leasedBy) FROM CampaignShard WHERE emailJobId = {} \
             AND doneAt IS NULL AND leasedUntil > NOW(3)",
            id_literal(id)
        ),
    )
    .await;
    rows[0][0].parse().expect("a count")
}

/// Waits until `n` workers hold shards of the campaign at once (at most `timeout`); the most
/// seen.
async fn wait_for_holders(paloma: &Paloma, id: &str, n: u64, timeout: Duration) -> u64 {
    let until = Instant::now() + timeout;
    let mut most = 0;
    while Instant::now() < until {
        most = most.max(lease_holders(paloma, id).await);
        if most >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    most
}

#[tokio::test(flavor = "multi_thread")]
async fn four_workers_send_one_campaign_and_one_killed_costs_at_most_its_messages_in_flight() {
    const N: usize = 12_000;
    let smtp = remote_smtp();
    let mut paloma = sharded_paloma(4, &smtp).await;
    let emails = addresses("four", N);
    let started = Instant::now();
    let id = post_campaign(&paloma, "Four workers, one killed", &emails).await;

    let holders = wait_for_holders(&paloma, &id, 4, Duration::from_secs(30)).await;
    assert_eq!(holders, 4, "every worker sends a shard of the one campaign");
    wait_messages(&smtp, 3_000, Duration::from_secs(60)).await;
    let killed_at = smtp.message_count();
    assert!(killed_at < N / 2, "killed half-way: {killed_at}");
    // (Its figures are read once the SMTP server is quiet: the campaign's end, here.)
    kill_worker(&mut paloma, 1, &smtp, &id).await;
    paloma.wait_final(&id, Duration::from_secs(120)).await;
    let took = started.elapsed();

    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    eprintln!(
        "[four workers, one killed] {N} recipients in shards of {SHARD_SIZE}, concurrency \
         {CONCURRENCY} each, an SMTP server taking 20 ms a message: {holders} workers held shards \
         at once; killed one at {killed_at} delivered; POST to COMPLETED {} ms; {} messages for \
         {} addresses = {} duplicates",
        took.as_millis(),
        delivery.messages,
        delivery.addresses,
        delivery.duplicates
    );
    // Only the killed worker's messages in flight and outcomes not yet written are sent again
    // (the other workers wrote theirs).
    assert!(
        delivery.duplicates <= UNRECORDED_PER_KILL,
        "{} duplicates",
        delivery.duplicates
    );
    assert!(
        delivery.most_to_one_address <= 2,
        "one kill, one message again at most"
    );
    assert_eq!(queue_state(&paloma).await, completed_queue(1));
    let left = sql(
        &paloma,
        &format!(
            "SELECT COUNT(*) FROM CampaignShard WHERE emailJobId = {}",
            id_literal(&id)
        ),
    )
    .await;
    assert_eq!(
        left,
        vec![vec!["0".to_owned()]],
        "a finished campaign keeps no shards"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_frozen_past_its_lease_starts_nothing_of_its_shard_when_it_wakes() {
    const N: usize = 8_000;
    let smtp = remote_smtp();
    let paloma = sharded_paloma(2, &smtp).await;
    let emails = addresses("frozen", N);
    let id = post_campaign(&paloma, "A worker frozen", &emails).await;
    let holders = wait_for_holders(&paloma, &id, 2, Duration::from_secs(30)).await;
    assert_eq!(holders, 2, "both workers send shards");
    wait_messages(&smtp, 1_500, Duration::from_secs(60)).await;
    assert!(smtp.message_count() < N / 2, "frozen half-way");

    // Frozen mid-shard (as a stalled VM or a long GC pause would): its lease runs out, the
    // other worker leases the shard and sends what is left of it.
    let pid = paloma.workers[1].id().expect("pid").to_string();
    let signal = |name: &str| {
        let status = std::process::Command::new("kill")
            .args([name, &pid])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {name} {pid}");
    };
    signal("-STOP");
    let frozen_at = smtp.message_count();
    tokio::time::sleep(2 * SHARD_LEASE + Duration::from_secs(1)).await;
    signal("-CONT");
    paloma.wait_final(&id, Duration::from_secs(120)).await;

    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    eprintln!(
        "[frozen worker] {N} recipients in shards of {SHARD_SIZE}: one of two workers frozen \
         for {} ms at {frozen_at} delivered (lease {} ms), then woken; {} messages for {} \
         addresses = {} duplicates",
        (2 * SHARD_LEASE + Duration::from_secs(1)).as_millis(),
        SHARD_LEASE.as_millis(),
        delivery.messages,
        delivery.addresses,
        delivery.duplicates
    );
    // At most what it had in flight or unwritten when it froze; a worker that went on with its
    // shard on waking would send again up to a whole batch it had read ahead (500).
    assert!(
        delivery.duplicates <= UNRECORDED_PER_KILL,
        "{} duplicates",
        delivery.duplicates
    );
    assert_eq!(queue_state(&paloma).await, completed_queue(1));
}

/// A campaign split among three workers, paused while all of them send shards of it: the
/// pause answers once every one has stopped, so at most their messages in flight leave after
/// it; no shard is leased while it is paused; the resume serves everyone else, each once.
#[tokio::test(flavor = "multi_thread")]
async fn a_pause_stops_every_worker_sending_shards_of_the_campaign() {
    const N: usize = 6_000;
    const WORKERS: usize = 3;
    let smtp = remote_smtp();
    let paloma = sharded_paloma(WORKERS, &smtp).await;
    let emails = addresses("split", N);
    let id = post_campaign(&paloma, "Split, then paused", &emails).await;
    let holders = wait_for_holders(&paloma, &id, 3, Duration::from_secs(30)).await;
    assert_eq!(holders, 3, "every worker sends shards of it");

    let pause = |action: &'static str| {
        let request = paloma
            .http
            .post(paloma.url(&format!("/api/emails/{id}/{action}")));
        async move {
            let response = request.send().await.expect(action);
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, paused) = pause("pause").await;
    let at_answer = smtp.message_count();
    assert_eq!(status, 200, "{paused}");
    assert_eq!(
        paused["worker"], "stopped",
        "every worker answered: {paused}"
    );
    let quiet = settled_count(&smtp).await;
    let after = quiet - at_answer;
    assert!(
        after <= WORKERS * CONCURRENCY,
        "{after} messages left after the pause answered"
    );
    assert!(at_answer < N / 2, "paused half-way: {at_answer}");
    assert_eq!(
        lease_holders(&paloma, &id).await,
        0,
        "no shard is leased while paused"
    );

    let (status, resumed) = pause("resume").await;
    assert_eq!(status, 202, "{resumed}");
    paloma.wait_final(&id, Duration::from_secs(120)).await;
    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    eprintln!(
        "[pause of a split campaign] {N} recipients, {WORKERS} workers: paused at {at_answer} \
         delivered, {after} more after the answer (bound {}); resumed: {} messages for {} \
         addresses",
        WORKERS * CONCURRENCY,
        delivery.messages,
        delivery.addresses
    );
    assert_eq!(delivery.duplicates, 0, "nobody twice");
}
