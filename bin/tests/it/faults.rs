//! Fault tests (reliability): the real `paloma-api` and `paloma-worker` binaries while what
//! they depend on fails under them - a worker killed with SIGKILL (once, three times, or with a
//! second worker standing by), Redis restarted, MySQL cut off, the SMTP server down, Redis down
//! when a campaign is posted, the queue's jobs lost, two jobs for one campaign, a list that
//! fails past the threshold, SIGTERM under load - checking that every accepted campaign
//! completes (or fails with every row explained), that every address gets its message, that
//! the counters equal the rows, and how many messages were sent twice.
//!
//! Each test prints its figures; see them with
//! `cargo nextest run -p paloma -E 'test(/^faults::/)' --no-capture`.
//!
//! Besides MariaDB (127.0.0.1:3306, or `TEST_MYSQL_URL`) and Redis (127.0.0.1:6379) these tests
//! need the `redis-server` binary (they start their own, to kill and restart it) and the `mysql`
//! client (to count rows behind the application's back). Between them and MariaDB some put a
//! [`TcpProxy`] they can cut.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Paloma, addresses, by_recipient, campaign, free_port, with_port};
use paloma_testkit::{Availability, SmtpRules, TcpProxy, TestSmtpServer};
use redis::AsyncCommands;
use serde_json::Value;
use tokio::process::{Child, Command};

/// `WORKER_CONCURRENCY` of every worker here (the harness's default).
const CONCURRENCY: usize = 20;
/// Messages one SIGKILL can leave delivered but not recorded, hence sent a second time: the
/// messages in flight plus the outcomes not written yet (waiting, or in the write under way),
/// which the worker keeps under `2 x WORKER_CONCURRENCY` together (no message starts beyond).
const UNRECORDED_PER_KILL: usize = 2 * CONCURRENCY;
/// `FAILURE_THRESHOLD_MIN_ATTEMPTS`'s default: finished messages before the threshold is judged.
const DEFAULT_THRESHOLD_MIN_ATTEMPTS: usize = 100;
/// The harness's worker timings: `LOCK_DURATION_MS`, `LOCK_RENEW_MS`, `STALLED_INTERVAL_MS`.
const LOCK_DURATION: Duration = Duration::from_millis(3000);
const LOCK_RENEW: Duration = Duration::from_millis(1000);
const STALLED_INTERVAL: Duration = Duration::from_millis(1000);

// ----------------------------------------------------------------------------------------------
// Helpers

/// Posts a campaign (expecting `202`) and returns its id.
async fn post_campaign(paloma: &Paloma, subject: &str, emails: &[String]) -> String {
    let created = paloma.post(&campaign(subject, emails)).await;
    created["id"].as_str().expect("id").to_owned()
}

fn counter(c: &Value, name: &str) -> u64 {
    c[name].as_u64().unwrap_or_else(|| panic!("{name} in {c}"))
}

/// The SMTP server's message count once it stopped moving (nothing arrived for 300 ms).
async fn settled_count(smtp: &TestSmtpServer) -> usize {
    let mut last = smtp.message_count();
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = smtp.message_count();
        if now == last {
            return now;
        }
        last = now;
    }
}

/// Waits until the SMTP server has at least `count` messages; panics after `timeout`.
async fn wait_messages(smtp: &TestSmtpServer, count: usize, timeout: Duration) {
    let got = smtp.wait_for(count, timeout).await.len();
    assert!(
        got >= count,
        "only {got} of {count} messages in {timeout:?}"
    );
}

/// What the SMTP server and the database said right after a worker was killed.
#[derive(Debug, Clone, Copy)]
struct Kill {
    at: Instant,
    /// Messages the SMTP server accepted so far, in all.
    delivered: usize,
    /// Messages whose outcome is in the database (`sentEmails + failedEmails`).
    recorded: u64,
}

impl Kill {
    /// Deliveries never recorded so far, all kills together: each is sent again.
    fn unrecorded_total(&self) -> usize {
        self.delivered - self.recorded as usize
    }
}

/// SIGKILLs worker `index` (no chance to flush or release anything), waits until the SMTP
/// server has seen the last of its messages and reads the campaign's counters.
async fn kill_worker(paloma: &mut Paloma, index: usize, smtp: &TestSmtpServer, id: &str) -> Kill {
    let mut worker = paloma.workers.remove(index);
    worker.start_kill().expect("SIGKILL the worker");
    let at = Instant::now();
    worker.wait().await.expect("reap the worker");
    let delivered = settled_count(smtp).await;
    let c = paloma.campaign(id).await;
    Kill {
        at,
        delivered,
        recorded: counter(&c, "sentEmails") + counter(&c, "failedEmails"),
    }
}

/// How long after `since` the SMTP server received message number `count + 1`.
async fn time_to_next_message(
    smtp: &TestSmtpServer,
    count: usize,
    since: Instant,
    timeout: Duration,
) -> Duration {
    wait_messages(smtp, count + 1, timeout).await;
    since.elapsed()
}

/// How the messages spread over the addresses.
#[derive(Debug)]
struct Delivery {
    messages: usize,
    addresses: usize,
    duplicates: usize,
    most_to_one_address: usize,
}

/// Checks a campaign that must have been delivered to every address in `emails`: `COMPLETED`,
/// counters equal to the rows by status, every address got at least one message.
async fn assert_delivered_to_all(
    paloma: &Paloma,
    smtp: &TestSmtpServer,
    id: &str,
    emails: &[String],
) -> Delivery {
    let n = emails.len() as u64;
    let c = paloma.campaign(id).await;
    assert_eq!(c["status"], "COMPLETED", "{c}");
    assert_eq!(counter(&c, "sentEmails"), n, "{c}");
    assert_eq!(counter(&c, "failedEmails"), 0, "{c}");
    assert_eq!(counter(&c, "pendingEmails"), 0, "{c}");
    assert_eq!(counter(&c, "totalEmails"), n, "{c}");
    assert!(c["completedAt"].is_string(), "{c}");
    assert_eq!(
        rows_by_status(paloma, id).await,
        vec![("SENT".to_owned(), n)],
        "the rows agree with the counters"
    );

    let received = by_recipient(smtp);
    let missing: Vec<&String> = emails
        .iter()
        .filter(|e| !received.contains_key(e.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} addresses got nothing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let messages: usize = received.values().sum();
    Delivery {
        messages,
        addresses: received.len(),
        duplicates: messages - received.len(),
        most_to_one_address: received.values().copied().max().unwrap_or(0),
    }
}

// ---- direct database checks (the `mysql` client, independent of the code under test)

/// `host:port`, user and password of the test MySQL server.
struct MysqlServer {
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
}

fn mysql_server() -> MysqlServer {
    let url = paloma_mysql::testing::test_server_url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let (credentials, host_port) = authority.rsplit_once('@').unwrap_or(("root", authority));
    let (user, password) = match credentials.split_once(':') {
        Some((user, password)) => (user.to_owned(), Some(password.to_owned())),
        None => (credentials.to_owned(), None),
    };
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.parse().expect("MySQL port")),
        None => (host_port.to_owned(), 3306),
    };
    MysqlServer {
        host,
        port,
        user,
        password,
    }
}

pub(crate) fn mysql_addr() -> SocketAddr {
    let server = mysql_server();
    (server.host.as_str(), server.port)
        .to_socket_addrs()
        .expect("resolve the MySQL host")
        .next()
        .expect("an address for the MySQL host")
}

/// Runs one query in the test's database with the `mysql` client; the rows, tab-separated.
async fn sql(paloma: &Paloma, query: &str) -> Vec<Vec<String>> {
    let server = mysql_server();
    let mut cmd = Command::new("mysql");
    cmd.arg("--protocol=TCP")
        .arg(format!("--host={}", server.host))
        .arg(format!("--port={}", server.port))
        .arg(format!("--user={}", server.user))
        .args(["--batch", "--skip-column-names", "--execute", query])
        .arg(&paloma.db_name);
    if let Some(password) = &server.password {
        cmd.env("MYSQL_PWD", password);
    }
    let out = cmd.output().await.expect("run the mysql client");
    assert!(
        out.status.success(),
        "mysql {query:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// A campaign id as an SQL string literal (the id columns hold the UUID's text). The id comes
/// from the API's answer and is checked to be a UUID first, so it cannot break the quoting.
fn id_literal(id: &str) -> String {
    let uuid = uuid::Uuid::parse_str(id).expect("the API answered a UUID");
    format!("'{}'", uuid.hyphenated())
}

/// The campaign's recipient rows counted by status, read from the table itself.
async fn rows_by_status(paloma: &Paloma, id: &str) -> Vec<(String, u64)> {
    let query = format!(
        "SELECT status, COUNT(*) FROM Recipient WHERE emailJobId = {} GROUP BY status ORDER BY status",
        id_literal(id)
    );
    sql(paloma, &query)
        .await
        .into_iter()
        .map(|row| (row[0].clone(), row[1].parse().expect("a count")))
        .collect()
}

/// `(campaign rows, recipient rows)` in the whole test database.
async fn table_sizes(paloma: &Paloma) -> (u64, u64) {
    let rows = sql(
        paloma,
        "SELECT (SELECT COUNT(*) FROM EmailJob), (SELECT COUNT(*) FROM Recipient)",
    )
    .await;
    (
        rows[0][0].parse().expect("count"),
        rows[0][1].parse().expect("count"),
    )
}

// ---- a Redis server of the test's own, that it can kill and start again

/// A `redis-server` on a free port with append-only persistence in a directory of its own (as
/// in production), so that what it acknowledged survives a kill and a restart.
struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    async fn start() -> Self {
        let dir = std::env::temp_dir().join(paloma_testkit::unique_name("paloma-faults-redis-"));
        std::fs::create_dir_all(&dir).expect("create the Redis directory");
        let mut server = Self {
            port: free_port(),
            dir,
            child: None,
        };
        server.launch().await;
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts `redis-server` (again: same port, same directory) and waits until it answers.
    async fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "yes", "--dir"])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start redis-server (is it installed?)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.ping().await {
                return;
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else {
            return false;
        };
        let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
            return false;
        };
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .is_ok()
    }

    /// Waits until a worker is blocked taking jobs from this server (so it got past its start-up,
    /// which needs Redis).
    async fn wait_for_a_blocked_taker(&self) {
        let client = redis::Client::open(self.url()).expect("url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let clients: String = redis::cmd("CLIENT")
                .arg("LIST")
                .query_async(&mut conn)
                .await
                .expect("CLIENT LIST");
            if clients.contains("cmd=brpoplpush") {
                return;
            }
            assert!(Instant::now() < deadline, "no worker is taking jobs");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown, no final save.
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().expect("SIGKILL redis-server");
            child.wait().await.expect("reap redis-server");
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The sizes of the queue's lists and sets.
async fn queue_state(paloma: &Paloma) -> [(String, usize); 5] {
    let mut redis = paloma.redis().await;
    let mut sizes = [
        ("wait", 0),
        ("active", 0),
        ("delayed", 0),
        ("completed", 0),
        ("failed", 0),
    ]
    .map(|(name, n)| (name.to_owned(), n));
    for (name, size) in &mut sizes {
        let key = paloma.key(name);
        *size = if name == "wait" || name == "active" {
            redis.llen(&key).await.expect("LLEN")
        } else {
            redis.zcard(&key).await.expect("ZCARD")
        };
    }
    sizes
}

fn completed_queue(jobs: usize) -> [(String, usize); 5] {
    [
        ("wait", 0),
        ("active", 0),
        ("delayed", 0),
        ("completed", jobs),
        ("failed", 0),
    ]
    .map(|(name, n)| (name.to_owned(), n))
}

// ----------------------------------------------------------------------------------------------
// 1. Workers killed with SIGKILL

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_campaign_is_replaced_and_every_address_is_served() {
    const N: usize = 10_000;
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let emails = addresses("kill", N);
    let started = Instant::now();
    let id = post_campaign(&paloma, "Killed once", &emails).await;

    wait_messages(&smtp, 3_000, Duration::from_secs(120)).await;
    let kill = kill_worker(&mut paloma, 0, &smtp, &id).await;
    let unrecorded = kill.unrecorded_total();
    paloma.start_worker(&smtp.url(), &[]);
    let recovery =
        time_to_next_message(&smtp, kill.delivered, kill.at, Duration::from_secs(30)).await;
    paloma.wait_final(&id, Duration::from_secs(180)).await;
    let total = started.elapsed();

    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    eprintln!(
        "[kill -9 once] {N} recipients, concurrency {CONCURRENCY}: at the kill {} delivered, {} \
         recorded, {unrecorded} delivered but unrecorded; new worker sending {} ms after the \
         kill; {} messages for {} addresses = {} duplicates (most to one address: {}); POST to \
         COMPLETED {} ms",
        kill.delivered,
        kill.recorded,
        recovery.as_millis(),
        delivery.messages,
        delivery.addresses,
        delivery.duplicates,
        delivery.most_to_one_address,
        total.as_millis()
    );
    // Exactly the deliveries the dead worker had not recorded were sent again...
    assert_eq!(delivery.duplicates, unrecorded);
    assert!(delivery.most_to_one_address <= 2);
    // ...and they are bounded by what one worker may hold unrecorded.
    assert!(
        unrecorded <= UNRECORDED_PER_KILL,
        "{unrecorded} > {UNRECORDED_PER_KILL}"
    );
    assert!(delivery.messages <= N + UNRECORDED_PER_KILL);
    assert_eq!(queue_state(&paloma).await, completed_queue(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_survives_three_sigkills() {
    survive_sigkills(6_000, 3).await;
}

/// The issue's own measure: two `kill -9` in a 10,000-recipient campaign at concurrency 20
/// send at most 80 messages twice in all (`2 x UNRECORDED_PER_KILL`).
#[tokio::test(flavor = "multi_thread")]
async fn two_sigkills_in_ten_thousand_send_at_most_eighty_twice() {
    let duplicates = survive_sigkills(10_000, 2).await;
    assert!(duplicates <= 80, "{duplicates} duplicates");
}

/// A campaign of `N` whose worker is killed `KILLS` times (about every 1,200 messages, the
/// first after 1,000), a new one started each time: every address is served, each kill sends
/// again at most [`UNRECORDED_PER_KILL`] messages. Answers the duplicates in all.
#[allow(non_snake_case, reason = "read as the constants they were")]
async fn survive_sigkills(N: usize, KILLS: usize) -> usize {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let emails = addresses("thrice", N);
    let started = Instant::now();
    let id = post_campaign(&paloma, "Killed three times", &emails).await;

    let mut next_kill_at = 1_000;
    let mut before = 0;
    let mut per_kill = Vec::new();
    let mut recoveries = Vec::new();
    for _ in 0..KILLS {
        wait_messages(&smtp, next_kill_at, Duration::from_secs(120)).await;
        let kill = kill_worker(&mut paloma, 0, &smtp, &id).await;
        let unrecorded = kill.unrecorded_total() - before;
        before = kill.unrecorded_total();
        assert!(
            unrecorded <= UNRECORDED_PER_KILL,
            "{unrecorded} > {UNRECORDED_PER_KILL}"
        );
        per_kill.push(unrecorded);
        paloma.start_worker(&smtp.url(), &[]);
        recoveries.push(
            time_to_next_message(&smtp, kill.delivered, kill.at, Duration::from_secs(30))
                .await
                .as_millis(),
        );
        next_kill_at = kill.delivered + 1_200;
    }
    paloma.wait_final(&id, Duration::from_secs(180)).await;
    let total = started.elapsed();

    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    eprintln!(
        "[kill -9 x{KILLS}] {N} recipients: unrecorded at each kill {per_kill:?}; new worker \
         sending after {recoveries:?} ms; {} messages for {} addresses = {} duplicates (most to \
         one address: {}); POST to COMPLETED {} ms",
        delivery.messages,
        delivery.addresses,
        delivery.duplicates,
        delivery.most_to_one_address,
        total.as_millis()
    );
    assert_eq!(delivery.duplicates, per_kill.iter().sum::<usize>());
    assert!(delivery.messages <= N + KILLS * UNRECORDED_PER_KILL);
    // The job came back after each crash instead of failing for "stalling" too often.
    assert_eq!(queue_state(&paloma).await, completed_queue(1));
    delivery.duplicates
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standby_worker_resumes_the_campaign_once_the_dead_ones_lock_expires() {
    const N: usize = 4_000;
    // Not split into shards (the second worker would send shards of it at once): the job's
    // lock alone says who sends.
    const WHOLE: [(&str, &str); 1] = [("WORKER_SHARD_SIZE", "0")];
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &WHOLE);
    let emails = addresses("standby", N);
    let id = post_campaign(&paloma, "Two workers", &emails).await;

    // The first worker holds the job; the second starts afterwards and waits for jobs.
    wait_messages(&smtp, 300, Duration::from_secs(60)).await;
    paloma.start_worker(&smtp.url(), &WHOLE);
    wait_messages(&smtp, 1_500, Duration::from_secs(60)).await;
    let connections_before = smtp.connections();
    let kill = kill_worker(&mut paloma, 0, &smtp, &id).await;
    let unrecorded = kill.unrecorded_total();
    let recovery =
        time_to_next_message(&smtp, kill.delivered, kill.at, Duration::from_secs(30)).await;
    paloma.wait_final(&id, Duration::from_secs(120)).await;

    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    // The lock was at most LOCK_RENEW old at the kill, so it lived on for at least
    // LOCK_DURATION - LOCK_RENEW; the stalled check needs up to two intervals (mark, then
    // recover) once it expired.
    // (Less a margin for a late renewal on a busy machine.)
    let earliest = LOCK_DURATION - LOCK_RENEW - Duration::from_secs(1);
    let latest = LOCK_DURATION + 2 * STALLED_INTERVAL + Duration::from_secs(2);
    eprintln!(
        "[standby worker] {N} recipients: killed the sending worker at {} delivered ({unrecorded} \
         unrecorded); the standby worker sent its first message {} ms after the kill (lock {} \
         ms, stalled check every {} ms: expected {}..{} ms); {} messages for {} addresses = {} \
         duplicates",
        kill.delivered,
        recovery.as_millis(),
        LOCK_DURATION.as_millis(),
        STALLED_INTERVAL.as_millis(),
        earliest.as_millis(),
        latest.as_millis(),
        delivery.messages,
        delivery.addresses,
        delivery.duplicates
    );
    assert!(
        recovery >= earliest,
        "nobody may take the job while its lock lives"
    );
    assert!(recovery <= latest, "recovered too late: {recovery:?}");
    assert!(
        smtp.connections() > connections_before,
        "the standby worker connected"
    );
    assert_eq!(paloma.workers.len(), 1, "only the standby worker is left");
    assert_eq!(delivery.duplicates, unrecorded);
    assert!(unrecorded <= UNRECORDED_PER_KILL);
    assert_eq!(queue_state(&paloma).await, completed_queue(1));
}

// ----------------------------------------------------------------------------------------------
// 2. Redis restarted mid-campaign

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_restart_mid_campaign_loses_no_job() {
    const N: usize = 4_000;
    let mut redis_server = RedisServer::start().await;
    // Slow enough (20 connections x 50 ms: about 400 messages/s) that the campaign is still
    // sending when Redis comes back, whatever the machine's speed.
    let smtp =
        TestSmtpServer::start(SmtpRules::default().delay(Duration::from_millis(50))).expect("smtp");
    let mut paloma = Paloma::new().await.with_redis(&redis_server.url());
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let emails = addresses("restart", N);
    let started = Instant::now();
    let id = post_campaign(&paloma, "Redis restart", &emails).await;

    wait_messages(&smtp, 800, Duration::from_secs(60)).await;
    redis_server.kill().await;
    let down_at = Instant::now();
    let at_kill = smtp.message_count();
    // Longer than the lock: it expires while Redis is away.
    tokio::time::sleep(LOCK_DURATION + Duration::from_secs(1)).await;
    let while_down = smtp.message_count() - at_kill;
    redis_server.launch().await;
    let outage = down_at.elapsed();
    let done = paloma.wait_final(&id, Duration::from_secs(120)).await;
    let total = started.elapsed();
    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;

    // The job survived the restart (append-only file) and ended completed.
    let mut redis = paloma.redis().await;
    let job_ids: Vec<String> = redis
        .zrange(paloma.key("completed"), 0, -1)
        .await
        .expect("ZRANGE");
    assert_eq!(job_ids.len(), 1, "{job_ids:?}");
    let stalled: Option<String> = redis
        .hget(paloma.key(&job_ids[0]), "stalledCounter")
        .await
        .expect("HGET");
    assert_eq!(queue_state(&paloma).await, completed_queue(1));

    // The worker's blocking take reconnected too: a new campaign is taken and sent.
    let more = addresses("after-restart", 20);
    let second_started = Instant::now();
    let second = post_campaign(&paloma, "After the restart", &more).await;
    paloma.wait_final(&second, Duration::from_secs(60)).await;
    assert_eq!(counter(&paloma.campaign(&second).await, "sentEmails"), 20);
    assert_eq!(queue_state(&paloma).await, completed_queue(2));

    eprintln!(
        "[redis restart] {N} recipients: Redis killed at {at_kill} delivered and down {} ms \
         ({while_down} messages sent meanwhile, outcomes still written to MySQL); job \
         stalledCounter {}; POST to COMPLETED {} ms ({} at the end); {} messages for {} \
         addresses = {} duplicates; a campaign posted after the restart completed in {} ms",
        outage.as_millis(),
        stalled.as_deref().unwrap_or("0"),
        total.as_millis(),
        done["status"],
        delivery.messages,
        delivery.addresses,
        delivery.duplicates,
        second_started.elapsed().as_millis()
    );
    // One worker: on losing the lock it drains and writes what it sent before taking the job
    // again, so nothing is sent twice.
    assert_eq!(delivery.duplicates, 0);
}

// ----------------------------------------------------------------------------------------------
// 3. MySQL unreachable mid-campaign

#[tokio::test(flavor = "multi_thread")]
async fn a_mysql_outage_mid_campaign_loses_no_outcome_and_the_api_answers_503() {
    const N: usize = 3_000;
    // Small batches: the worker reads recipients every 20 messages, so the cut is as likely to
    // hit a read as a write of outcomes (with 500, mostly a write).
    const BATCH: usize = 20;
    let proxy = TcpProxy::start(mysql_addr()).expect("proxy");
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await.with_database_at(proxy.port());
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[("WORKER_BATCH_SIZE", "20")]);
    let emails = addresses("dbcut", N);
    let id = post_campaign(&paloma, "MySQL outage", &emails).await;

    wait_messages(&smtp, 800, Duration::from_secs(60)).await;
    proxy.cut().await;
    let cut_at = Instant::now();
    let at_cut = smtp.message_count();

    // The API cannot store a campaign: 503, and nothing stored.
    let (status, answer) = paloma
        .try_post(&campaign("During the outage", &addresses("lost", 10)))
        .await;
    let post_latency = cut_at.elapsed();
    assert_eq!(status, 503, "{answer}");
    assert!(answer["error"]["code"].is_string(), "{answer}");

    // The worker stops sending once it cannot read recipients or write outcomes (what it
    // already read may still go out: at most one batch and what is in flight).
    let mid_outage = smtp.message_count();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let end_of_outage = smtp.message_count();
    assert_eq!(mid_outage, end_of_outage, "the worker waits for MySQL");
    let sent_during = end_of_outage - at_cut;
    assert!(sent_during <= BATCH + CONCURRENCY, "{sent_during}");
    proxy.restore().await;
    let outage = cut_at.elapsed();
    let restored_at = Instant::now();
    let resumed =
        time_to_next_message(&smtp, end_of_outage, restored_at, Duration::from_secs(30)).await;
    // It waited for the database rather than giving the job back to the queue (which would
    // come back only after the job's 10 s backoff).
    assert!(
        resumed < Duration::from_secs(6),
        "resumed after {resumed:?}"
    );
    paloma.wait_final(&id, Duration::from_secs(120)).await;

    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    // Nothing half-written or stored by the refused POST.
    assert_eq!(table_sizes(&paloma).await, (1, N as u64));
    let list = paloma.get("/api/emails").await;
    assert_eq!(list["total"], 1, "{list}");
    eprintln!(
        "[mysql outage] {N} recipients: MySQL cut for {} ms at {at_cut} delivered; POST during \
         the outage answered {status} after {} ms; {sent_during} messages sent during the \
         outage, then none; sending again {} ms after the restore; {} messages for {} addresses \
         = {} duplicates; {} proxied connections in all",
        outage.as_millis(),
        post_latency.as_millis(),
        resumed.as_millis(),
        delivery.messages,
        delivery.addresses,
        delivery.duplicates,
        proxy.connections(),
    );
    // Outcomes waited in memory through the outage: nothing was sent twice.
    assert_eq!(delivery.duplicates, 0);

    // The API stores again, and the worker sends it.
    let back = addresses("back", 10);
    let again = post_campaign(&paloma, "After the outage", &back).await;
    paloma.wait_final(&again, Duration::from_secs(60)).await;
    assert_eq!(queue_state(&paloma).await, completed_queue(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_cut_off_while_being_stored_is_stored_whole_or_not_at_all() {
    const N: usize = 20_000;
    let proxy = TcpProxy::start(mysql_addr()).expect("proxy");
    let mut paloma = Paloma::new().await.with_database_at(proxy.port());
    paloma.start_api().await;
    let emails = addresses("big", N);
    let body = campaign("Big", &emails);

    // The proxy cuts itself once part of the recipients' INSERTs went through, whatever the
    // timing: in the middle of the transaction.
    let baseline = proxy.bytes_up();
    proxy.cut_after_bytes_up(400_000);
    let started = Instant::now();
    let (status, _) = paloma.try_post(&body).await;
    let answered_after = started.elapsed();
    tokio::time::timeout(Duration::from_secs(5), proxy.wait_until_cut())
        .await
        .expect("the proxy cut itself");
    let sent_before_cut = proxy.bytes_up() - baseline;
    proxy.restore().await;

    assert_eq!(status, 503, "cut in the middle of the transaction");
    assert_eq!(
        table_sizes(&paloma).await,
        (0, 0),
        "no campaign and no recipient row"
    );
    let list = paloma.get("/api/emails").await;
    assert_eq!(list["total"], 0, "{list}");

    // Posted again once MySQL is back: stored whole.
    let created = paloma.post(&body).await;
    assert_eq!(created["totalEmails"], N);
    assert_eq!(table_sizes(&paloma).await, (1, N as u64));
    eprintln!(
        "[mysql cut while storing] {N} recipients: cut after {sent_before_cut} bytes of INSERTs, \
         POST answered {status} after {} ms; nothing stored; posted again: 202 and {N} rows",
        answered_after.as_millis()
    );
}

// ----------------------------------------------------------------------------------------------
// 4. The SMTP server down for a while

#[tokio::test(flavor = "multi_thread")]
async fn an_smtp_outage_shorter_than_the_retry_budget_fails_no_one() {
    const N: usize = 2_000;
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    // Attempts 0.5, 1, 2 and 4 s apart: a budget of 7.5 s after the first failure.
    paloma.start_worker(
        &smtp.url(),
        &[("RETRY_BASE_DELAY_MS", "500"), ("RETRY_MAX_ATTEMPTS", "5")],
    );
    let emails = addresses("smtpdown", N);
    let id = post_campaign(&paloma, "SMTP outage", &emails).await;

    wait_messages(&smtp, 300, Duration::from_secs(60)).await;
    let down_at = Instant::now();
    let at_down = smtp.message_count();
    // 1.5 s answering 421, then 1.5 s refusing connections.
    let mut max_pending_during = 0;
    for (availability, phase) in [
        (
            Availability::ServiceUnavailable,
            Duration::from_millis(1500),
        ),
        (Availability::Refusing, Duration::from_millis(1500)),
    ] {
        smtp.set_availability(availability);
        let until = Instant::now() + phase;
        while Instant::now() < until {
            let c = paloma.campaign(&id).await;
            assert_eq!(counter(&c, "failedEmails"), 0, "{c}");
            assert_eq!(c["status"], "PROCESSING", "{c}");
            max_pending_during = max_pending_during.max(counter(&c, "pendingEmails"));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let during = smtp.message_count() - at_down;
    let c = paloma.campaign(&id).await;
    assert_eq!(c["status"], "PROCESSING", "retries pending: {c}");
    assert!(counter(&c, "pendingEmails") > 0, "{c}");
    smtp.set_availability(Availability::Up);
    let up_at = Instant::now();
    let outage = down_at.elapsed();

    // Never COMPLETED while something is pending; never a failure.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let c = paloma.campaign(&id).await;
        assert_eq!(counter(&c, "failedEmails"), 0, "{c}");
        if c["status"] == "COMPLETED" {
            assert_eq!(counter(&c, "pendingEmails"), 0, "{c}");
            break;
        }
        assert_eq!(c["status"], "PROCESSING", "{c}");
        assert!(Instant::now() < deadline, "not completed: {c}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let completed_after = up_at.elapsed();
    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    let attempts = sql(
        &paloma,
        &format!(
            "SELECT attempts, COUNT(*) FROM Recipient WHERE emailJobId = {} GROUP BY attempts \
             ORDER BY attempts",
            id_literal(&id)
        ),
    )
    .await;
    let attempts: Vec<(u32, u64)> = attempts
        .iter()
        .map(|r| (r[0].parse().expect("n"), r[1].parse().expect("n")))
        .collect();
    eprintln!(
        "[smtp outage] {N} recipients: SMTP down {} ms (421, then refused connections) from \
         {at_down} delivered; {during} messages accepted meanwhile; up to {max_pending_during} \
         recipients pending during the outage; {} connections or commands turned away; \
         COMPLETED {} ms after the server came back; recipients by attempts {attempts:?}; {} \
         messages for {} addresses = {} duplicates",
        outage.as_millis(),
        smtp.turned_away(),
        completed_after.as_millis(),
        delivery.messages,
        delivery.addresses,
        delivery.duplicates
    );
    assert!(smtp.turned_away() > 0);
    assert!(
        attempts.iter().any(|(n, _)| *n >= 2),
        "some were retried: {attempts:?}"
    );
    assert!(attempts.iter().all(|(n, _)| *n <= 5), "{attempts:?}");
    assert_eq!(
        delivery.duplicates, 0,
        "a refused message was not delivered"
    );
    assert_eq!(delivery.addresses, N);
}

// ----------------------------------------------------------------------------------------------
// 5. Redis down when the API is called

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_posted_while_redis_is_down_is_stored_then_sent() {
    const N: usize = 300;
    let mut redis_server = RedisServer::start().await;
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await.with_redis(&redis_server.url());
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    redis_server.wait_for_a_blocked_taker().await;

    redis_server.kill().await;
    let emails = addresses("noredis", N);
    let started = Instant::now();
    let (status, created) = paloma
        .try_post(&campaign("Posted without Redis", &emails))
        .await;
    let post_latency = started.elapsed();
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["enqueued"], false, "{created}");
    assert_eq!(created["status"], "PENDING", "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(
        rows_by_status(&paloma, &id).await,
        vec![("PENDING".to_owned(), N as u64)]
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = paloma.campaign(&id).await;
    assert_eq!(c["status"], "PENDING", "nobody can send it yet: {c}");
    redis_server.launch().await;
    let back_at = Instant::now();
    paloma.wait_final(&id, Duration::from_secs(90)).await;
    let sent_after = back_at.elapsed();
    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    eprintln!(
        "[redis down at POST] {N} recipients: POST answered 202 (enqueued: false) after {} ms; \
         Redis back after {} ms; the worker's reconciler enqueued it and it was COMPLETED {} ms \
         later (reconcile every 30 s, grace 10 s); {} messages for {} addresses = {} duplicates",
        post_latency.as_millis(),
        back_at.duration_since(started).as_millis(),
        sent_after.as_millis(),
        delivery.messages,
        delivery.addresses,
        delivery.duplicates
    );
    assert_eq!(delivery.duplicates, 0);
    assert_eq!(queue_state(&paloma).await, completed_queue(1));
}

/// Deletes every key of the test's queue: what a Redis restarted without persistence (or a
/// `FLUSHDB`) does to the jobs.
async fn wipe_queue(paloma: &Paloma) -> usize {
    let mut redis = paloma.redis().await;
    let keys: Vec<String> = redis
        .keys(format!("{}:*", paloma.prefix))
        .await
        .expect("KEYS");
    if !keys.is_empty() {
        let _: () = redis.del(&keys).await.expect("DEL");
    }
    keys.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_whose_job_was_lost_is_enqueued_again_by_the_reconciler() {
    const N: usize = 3_000;
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let reconcile = [("RECONCILE_INTERVAL_MS", "1000")];
    paloma.start_worker(&smtp.url(), &reconcile);
    let emails = addresses("lostjob", N);
    let id = post_campaign(&paloma, "Lost job", &emails).await;

    wait_messages(&smtp, 800, Duration::from_secs(60)).await;
    let kill = kill_worker(&mut paloma, 0, &smtp, &id).await;
    let unrecorded = kill.unrecorded_total();
    let wiped = wipe_queue(&paloma).await;
    let c = paloma.campaign(&id).await;
    assert_eq!(c["status"], "PROCESSING", "{c}");
    paloma.start_worker(&smtp.url(), &reconcile);
    let recovery =
        time_to_next_message(&smtp, kill.delivered, kill.at, Duration::from_secs(30)).await;
    paloma.wait_final(&id, Duration::from_secs(120)).await;

    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    eprintln!(
        "[job lost] {N} recipients: worker killed at {} delivered ({unrecorded} unrecorded), then \
         all {wiped} keys of the queue deleted; a new worker's reconciler (every 1 s) enqueued the \
         PROCESSING campaign again and sending resumed {} ms after the kill; {} messages for {} \
         addresses = {} duplicates",
        kill.delivered,
        recovery.as_millis(),
        delivery.messages,
        delivery.addresses,
        delivery.duplicates
    );
    assert_eq!(delivery.duplicates, unrecorded);
    assert!(unrecorded <= UNRECORDED_PER_KILL);
    assert_eq!(queue_state(&paloma).await, completed_queue(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_jobs_for_one_campaign_send_it_once() {
    const N: usize = 2_000;
    let smtp =
        TestSmtpServer::start(SmtpRules::default().delay(Duration::from_millis(10))).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    paloma.start_worker(&smtp.url(), &[]);
    let emails = addresses("twojobs", N);
    let id = post_campaign(&paloma, "Enqueued twice", &emails).await;
    // A second job for the same campaign, as a Node producer (or an API and a reconciler
    // racing) could add; the idle worker takes it while the first is sending.
    wait_messages(&smtp, 100, Duration::from_secs(60)).await;
    let mut settings = paloma_redis_queue::QueueSettings::new(paloma.redis_url.clone());
    settings.prefix = paloma.prefix.clone();
    let producer = paloma_redis_queue::RedisJobQueue::connect(settings)
        .await
        .expect("producer");
    use paloma_application::JobProducer;
    producer
        .enqueue(id.parse().expect("campaign id"))
        .await
        .expect("second job");
    // The idle worker takes the second job and, the campaign being claimed, completes it at
    // once: while the first job is still sending.
    let deadline = Instant::now() + Duration::from_secs(10);
    while queue_state(&paloma).await[3].1 == 0 {
        assert!(Instant::now() < deadline, "the second job was not settled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mid = paloma.campaign(&id).await;
    assert_eq!(mid["status"], "PROCESSING", "{mid}");
    let sent_mid = counter(&mid, "sentEmails");
    paloma.wait_final(&id, Duration::from_secs(120)).await;

    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    eprintln!(
        "[two jobs, two workers] {N} recipients: the second job was completed unsent while the \
         first was sending ({sent_mid} sent by then); {} messages for {} addresses = {} \
         duplicates",
        delivery.messages, delivery.addresses, delivery.duplicates
    );
    assert_eq!(delivery.duplicates, 0, "the second job sent nothing");
    assert_eq!(queue_state(&paloma).await, completed_queue(2));
}

// ----------------------------------------------------------------------------------------------
// 8. Failure threshold

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_past_the_failure_threshold_stops_with_every_unsent_row_explained() {
    const N: usize = 5_000;
    // 7 addresses in 10 are refused: far past the default threshold (half, after 100).
    let emails: Vec<String> = (0..N)
        .map(|i| {
            let prefix = if i % 10 < 7 { "refused" } else { "fine" };
            format!("{prefix}{i}@example.org")
        })
        .collect();
    let smtp = TestSmtpServer::start(SmtpRules::default().reject_prefix("refused")).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let id = post_campaign(&paloma, "Bad list", &emails).await;
    let c = paloma.wait_final(&id, Duration::from_secs(120)).await;

    assert_eq!(c["status"], "FAILED", "{c}");
    let (sent, failed) = (counter(&c, "sentEmails"), counter(&c, "failedEmails"));
    assert_eq!(sent + failed, N as u64, "nothing left pending: {c}");
    assert_eq!(counter(&c, "pendingEmails"), 0, "{c}");
    let by_status = rows_by_status(&paloma, &id).await;
    assert_eq!(
        by_status,
        vec![("FAILED".to_owned(), failed), ("SENT".to_owned(), sent)],
        "the rows agree with the counters"
    );
    let untried = sql(
        &paloma,
        &format!(
            "SELECT COUNT(*), MIN(error) = MAX(error), MIN(error) FROM Recipient \
             WHERE emailJobId = {} AND attempts = 0",
            id_literal(&id)
        ),
    )
    .await;
    let untried_count: u64 = untried[0][0].parse().expect("count");
    let tried = N as u64 - untried_count;
    assert!(untried_count > 0);
    assert_eq!(untried[0][1], "1", "one reason for all: {untried:?}");
    assert!(
        untried[0][2].starts_with("not sent: the campaign was stopped after ")
            && untried[0][2].ends_with("(failure threshold 50% after 100 messages)"),
        "{untried:?}"
    );
    let not_sent_rows = sql(
        &paloma,
        &format!(
            "SELECT COUNT(*) FROM Recipient WHERE emailJobId = {} AND status = 'FAILED' \
             AND error LIKE 'not sent:%'",
            id_literal(&id)
        ),
    )
    .await;
    let not_sent: u64 = not_sent_rows[0][0].parse().expect("count");
    // Every untried row says so, and nothing else: no message reached the server for them.
    assert_eq!(not_sent, untried_count);
    assert_eq!(smtp.message_count() as u64, sent);
    eprintln!(
        "[failure threshold] {N} recipients, 70% refused: stopped after {tried} attempts \
         ({sent} sent, {} refused by the server); {untried_count} recipients never tried, each \
         FAILED with \"{}\"",
        failed - untried_count,
        untried[0][2]
    );
    // It stopped at the first write of outcomes past the threshold (judged after every write,
    // at least 100 attempts in): the attempts it needed, plus what was being written, waiting
    // and in flight then, far from the whole list.
    assert!(
        tried <= (DEFAULT_THRESHOLD_MIN_ATTEMPTS + 2 * CONCURRENCY) as u64,
        "{tried} tried"
    );
    assert_eq!(queue_state(&paloma).await, completed_queue(1));
}

// ----------------------------------------------------------------------------------------------
// 9. Graceful shutdown under load

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_loses_nothing_sends_nothing_twice_and_the_standby_resumes_at_once() {
    const N: usize = 10_000;
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let emails = addresses("sigterm", N);
    let id = post_campaign(&paloma, "SIGTERM under load", &emails).await;
    wait_messages(&smtp, 300, Duration::from_secs(60)).await;
    // Holds no job: it sends shards of the campaign beside the first one.
    paloma.start_worker(&smtp.url(), &[]);
    wait_messages(&smtp, 3_000, Duration::from_secs(60)).await;

    let at = paloma.sigterm_worker(0).await;
    let stopped_in = at.elapsed();
    let delivered = smtp.message_count();
    let recovery = time_to_next_message(&smtp, delivered, at, Duration::from_secs(30)).await;
    paloma.wait_final(&id, Duration::from_secs(120)).await;

    let delivery = assert_delivered_to_all(&paloma, &smtp, &id, &emails).await;
    eprintln!(
        "[SIGTERM under load] {N} recipients, concurrency {CONCURRENCY}: the worker holding the \
         job exited cleanly {} ms after SIGTERM with {delivered} delivered; the next message left \
         {} ms after the signal (lock {} ms: nobody waited for it); {} messages for {} addresses \
         = {} duplicates",
        stopped_in.as_millis(),
        recovery.as_millis(),
        LOCK_DURATION.as_millis(),
        delivery.messages,
        delivery.addresses,
        delivery.duplicates
    );
    assert_eq!(delivery.duplicates, 0);
    assert_eq!(delivery.messages, N);
    assert!(
        recovery < LOCK_DURATION - LOCK_RENEW,
        "resumed at once, not after the lock expired: {recovery:?}"
    );
    assert_eq!(queue_state(&paloma).await, completed_queue(1));
}

#[test]
fn database_urls_get_the_proxy_port() {
    assert_eq!(
        with_port("mysql://root@127.0.0.1:3306/paloma_test_1", 4000),
        "mysql://root@127.0.0.1:4000/paloma_test_1"
    );
    assert_eq!(
        with_port("mysql://u:p%40ss@db:3306/x", 1),
        "mysql://u:p%40ss@db:1/x"
    );
    assert_eq!(with_port("mysql://localhost/x", 7), "mysql://localhost:7/x");
}

/// A row the worker cannot read (here an id that is not a UUID, as a hand or another program
/// might write) fails every run of its campaign. After `MAX_FAILED_RUNS` the campaign ends
/// `FAILED` with a `stopReason`, every unsent recipient saying why, and no job left to queue
/// it again; once the row is fixed, retry-failed sends everyone once.
#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_whose_runs_keep_failing_stops_after_max_failed_runs_and_a_retry_restarts_it() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(
        &smtp.url(),
        &[("MAX_FAILED_RUNS", "2"), ("RECONCILE_INTERVAL_MS", "1000")],
    );
    let mut draft = campaign("Poisoned", &addresses("poison", 5));
    draft["draft"] = serde_json::json!(true);
    let (status, created) = paloma.try_post(&draft).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    sql(
        &paloma,
        &format!(
            "INSERT INTO Recipient (id, emailJobId, email, status) VALUES ('not-a-uuid', {0}, 'bad@example.org', 'PENDING'); \
             UPDATE EmailJob SET totalEmails = totalEmails + 1 WHERE id = {0}",
            id_literal(&id)
        ),
    )
    .await;
    let sent = paloma
        .http
        .post(paloma.url(&format!("/api/emails/{id}/send")))
        .send()
        .await
        .expect("send");
    assert_eq!(sent.status().as_u16(), 202);

    // The first run fails and bull retries it after its backoff (10 s); the second is the last.
    let stopped = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(stopped["status"], "FAILED", "{stopped}");
    let reason = stopped["stopReason"].as_str().expect("a stop reason");
    assert!(reason.contains("2 failed runs"), "{reason}");
    assert_eq!(stopped["sentEmails"], 0);
    assert_eq!(stopped["untriedEmails"], 6, "none of them was tried");
    assert_eq!(smtp.message_count(), 0);
    // Read from the table: the API cannot list the row it cannot read either.
    assert_eq!(
        rows_by_status(&paloma, &id).await,
        [("FAILED".to_owned(), 6)],
        "every row failed, the bad one too"
    );
    let explained = sql(
        &paloma,
        &format!(
            "SELECT COUNT(*) FROM Recipient WHERE emailJobId = {} AND error = '{}'",
            id_literal(&id),
            reason.replace('\'', "''")
        ),
    )
    .await;
    assert_eq!(explained, [["6"]], "each says why");
    // Not queued again: the reconciler runs every second and finds nothing to do.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(paloma.campaign(&id).await["status"], "FAILED");
    let mut redis = paloma.redis().await;
    let live: u64 = redis.llen(paloma.key("wait")).await.expect("wait");
    let delayed: u64 = redis.zcard(paloma.key("delayed")).await.expect("delayed");
    assert_eq!((live, delayed), (0, 0), "no job left behind");

    // Fixed by hand, then retried: everyone once.
    sql(&paloma, "DELETE FROM Recipient WHERE id = 'not-a-uuid'").await;
    sql(
        &paloma,
        &format!(
            "UPDATE EmailJob SET totalEmails = totalEmails - 1, failedEmails = failedEmails - 1 WHERE id = {}",
            id_literal(&id)
        ),
    )
    .await;
    let retried = paloma
        .http
        .post(paloma.url(&format!("/api/emails/{id}/retry-failed")))
        .send()
        .await
        .expect("retry");
    assert_eq!(retried.status().as_u16(), 202);
    let done = paloma.wait_final(&id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["stopReason"], Value::Null);
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 5);
    assert!(received.values().all(|n| *n == 1));
}

mod shards;
