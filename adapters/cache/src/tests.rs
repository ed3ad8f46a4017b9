//! The cache against a store in memory that counts its reads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use paloma_domain::{CampaignStatus, Control};

use super::*;

/// One campaign in memory; `get` takes `delay` and can be made to fail.
struct CountingStore {
    campaign: Mutex<Campaign>,
    reads: AtomicUsize,
    down: AtomicBool,
    delay: Duration,
}

impl CountingStore {
    fn new(delay: Duration) -> Self {
        let now = Utc::now();
        Self {
            campaign: Mutex::new(Campaign {
                id: CampaignId::new(),
                subject: "Hello".into(),
                status: CampaignStatus::Pending,
                total_emails: 2,
                sent_emails: 0,
                failed_emails: 0,
                cancelled_emails: 0,
                suppressed_emails: 0,
                scheduled_at: None,
                stop_reason: None,
                merge_tags: false,
                from_name: None,
                from_email: None,
                reply_to: None,
                duplicates_removed: 0,
                created_at: now,
                started_at: None,
                completed_at: None,
                updated_at: now,
            }),
            reads: AtomicUsize::new(0),
            down: AtomicBool::new(false),
            delay,
        }
    }

    fn campaign(&self) -> std::sync::MutexGuard<'_, Campaign> {
        self.campaign.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn id(&self) -> CampaignId {
        self.campaign().id
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

fn unused() -> RepositoryError {
    RepositoryError::Unknown("not used by these tests".into())
}

impl CampaignStore for CountingStore {
    async fn get(&self, id: CampaignId) -> Result<Option<Campaign>, RepositoryError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if self.down.load(Ordering::SeqCst) {
            return Err(RepositoryError::Unavailable("the store is down".into()));
        }
        let campaign = self.campaign().clone();
        Ok((campaign.id == id).then_some(campaign))
    }

    async fn create(
        &self,
        _: CampaignId,
        _: &NewCampaign,
        _: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        Err(unused())
    }

    async fn create_idempotent(
        &self,
        _: CampaignId,
        _: &NewCampaign,
        _: &Idempotency,
        _: DateTime<Utc>,
    ) -> Result<Created, RepositoryError> {
        Err(unused())
    }

    async fn recipients_for_tags(
        &self,
        _: CampaignId,
    ) -> Result<Vec<paloma_domain::NewRecipient>, RepositoryError> {
        Ok(Vec::new())
    }

    async fn get_body(&self, _: CampaignId) -> Result<Option<String>, RepositoryError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(Some("<p>Hello</p>".into()))
    }

    async fn list(
        &self,
        _: &paloma_domain::CampaignFilter,
        _: PageRequest,
    ) -> Result<Page<Campaign>, RepositoryError> {
        Err(unused())
    }

    async fn count_active(&self) -> Result<u64, RepositoryError> {
        Err(unused())
    }

    async fn list_recipients(
        &self,
        _: CampaignId,
        _: Option<RecipientStatus>,
        _: PageRequest,
    ) -> Result<Page<Recipient>, RepositoryError> {
        Err(unused())
    }

    async fn timeline(&self, _: CampaignId, _: u32) -> Result<Vec<TimelinePoint>, RepositoryError> {
        Err(unused())
    }

    async fn mark_enqueued(&self, _: CampaignId, _: DateTime<Utc>) -> Result<(), RepositoryError> {
        Err(unused())
    }

    async fn is_enqueued(&self, _: CampaignId) -> Result<bool, RepositoryError> {
        Err(unused())
    }

    async fn retry_failed(
        &self,
        _: CampaignId,
        _: paloma_domain::RetryScope,
        _: DateTime<Utc>,
    ) -> Result<(Campaign, u32), RepositoryError> {
        Err(unused())
    }

    async fn queued_ahead(&self, _: CampaignId) -> Result<Option<u64>, RepositoryError> {
        Err(unused())
    }

    async fn count_untried(&self, _: CampaignId) -> Result<u64, RepositoryError> {
        Err(unused())
    }

    async fn edit(
        &self,
        _: CampaignId,
        _: &paloma_domain::CampaignEdit,
        _: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        Err(unused())
    }

    async fn duplicate(
        &self,
        _: CampaignId,
        _: CampaignId,
        _: paloma_domain::DuplicateRecipients,
        _: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        Err(unused())
    }

    async fn reschedule(
        &self,
        _: CampaignId,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        Err(unused())
    }

    async fn control(
        &self,
        _: CampaignId,
        control: Control,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        let mut campaign = self.campaign();
        campaign.status = control.target(campaign.status, campaign.scheduled_at, now);
        campaign.updated_at = now;
        Ok(campaign.clone())
    }
}

#[tokio::test]
async fn a_released_draft_is_read_afresh_at_once() {
    let store = CountingStore::new(Duration::ZERO);
    store.campaign().status = CampaignStatus::Draft;
    let cache = CachedCampaignStore::new(store, Duration::from_secs(60));
    let id = cache.inner().id();
    let before = cache.get(id).await.expect("read").expect("found");
    assert_eq!(before.status, CampaignStatus::Draft);
    cache
        .control(id, Control::Send, Utc::now())
        .await
        .expect("released");
    let after = cache.get(id).await.expect("read").expect("found");
    assert_eq!(
        after.status,
        CampaignStatus::Pending,
        "not the draft kept for the TTL"
    );
    assert_eq!(cache.inner().reads(), 2);
}

#[tokio::test]
async fn a_read_is_answered_for_its_ttl_and_an_error_is_never_kept() {
    let cache = CachedCampaignStore::new(
        CountingStore::new(Duration::ZERO),
        Duration::from_millis(300),
    );
    let store = cache.inner();
    let id = store.id();

    // An error is not remembered: the next read tries again.
    store.down.store(true, Ordering::SeqCst);
    assert!(matches!(
        cache.get(id).await,
        Err(RepositoryError::Unavailable(_))
    ));
    store.down.store(false, Ordering::SeqCst);
    let first = cache.get(id).await.expect("read").expect("found");
    assert_eq!(first.status, CampaignStatus::Pending);
    assert_eq!(store.reads(), 2);

    // The campaign moves on; for the TTL the cache still answers what it read.
    {
        let mut campaign = store.campaign();
        campaign.status = CampaignStatus::Completed;
        campaign.sent_emails = 2;
    }
    let cached = cache.get(id).await.expect("read").expect("found");
    assert_eq!(cached.status, CampaignStatus::Pending);
    assert_eq!(store.reads(), 2, "answered from memory");

    tokio::time::sleep(Duration::from_millis(350)).await;
    let fresh = cache.get(id).await.expect("read").expect("found");
    assert_eq!(
        (fresh.status, fresh.sent_emails),
        (CampaignStatus::Completed, 2)
    );
    assert_eq!(store.reads(), 3);
}

#[tokio::test]
async fn unknown_ids_are_reported_and_not_remembered() {
    let cache =
        CachedCampaignStore::new(CountingStore::new(Duration::ZERO), Duration::from_secs(60));
    let unknown = CampaignId::new();
    assert_eq!(cache.get(unknown).await.expect("read"), None);
    assert_eq!(cache.get(unknown).await.expect("read"), None);
    assert_eq!(cache.inner().reads(), 2);
}

#[tokio::test]
async fn concurrent_reads_of_one_campaign_share_one_query() {
    let cache = CachedCampaignStore::new(
        CountingStore::new(Duration::from_millis(100)),
        Duration::from_secs(60),
    );
    let id = cache.inner().id();
    let (a, b, c, d) = tokio::join!(cache.get(id), cache.get(id), cache.get(id), cache.get(id));
    for read in [a, b, c, d] {
        assert_eq!(read.expect("read").map(|c| c.id), Some(id));
    }
    assert_eq!(cache.inner().reads(), 1);
}

#[tokio::test]
async fn concurrent_reads_that_fail_all_get_the_error() {
    let cache = CachedCampaignStore::new(
        CountingStore::new(Duration::from_millis(100)),
        Duration::from_secs(60),
    );
    cache.inner().down.store(true, Ordering::SeqCst);
    let id = cache.inner().id();
    let (a, b, c) = tokio::join!(cache.get(id), cache.get(id), cache.get(id));
    for read in [a, b, c] {
        let Err(RepositoryError::Unavailable(source)) = read else {
            panic!("expected Unavailable, got {read:?}");
        };
        assert_eq!(source.to_string(), "the store is down");
    }
    assert_eq!(cache.inner().reads(), 1);
}

#[tokio::test]
async fn a_zero_ttl_remembers_nothing_and_other_calls_pass_through() {
    let cache = CachedCampaignStore::new(CountingStore::new(Duration::ZERO), Duration::ZERO);
    let id = cache.inner().id();
    cache.get(id).await.expect("read");
    cache.get(id).await.expect("read");
    assert_eq!(cache.inner().reads(), 2);

    let cache =
        CachedCampaignStore::new(CountingStore::new(Duration::ZERO), Duration::from_secs(60));
    cache.get_body(id).await.expect("read");
    cache.get_body(id).await.expect("read");
    assert_eq!(cache.inner().reads(), 2, "only `get` is cached");
}

/// Keys in memory that count their lookups.
#[derive(Default)]
struct CountingKeys {
    keys: Mutex<Vec<(paloma_domain::ApiKey, paloma_domain::TokenHash)>>,
    lookups: AtomicUsize,
}

impl paloma_application::ports::KeyStore for CountingKeys {
    async fn insert(
        &self,
        key: &paloma_domain::ApiKey,
        hash: &paloma_domain::TokenHash,
    ) -> Result<(), RepositoryError> {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key.clone(), *hash));
        Ok(())
    }

    async fn list(&self) -> Result<Vec<paloma_domain::ApiKey>, RepositoryError> {
        Err(unused())
    }

    async fn revoke(
        &self,
        id: paloma_domain::KeyId,
        now: DateTime<Utc>,
    ) -> Result<Option<(paloma_domain::ApiKey, bool)>, RepositoryError> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        Ok(keys.iter_mut().find(|(k, _)| k.id == id).map(|(k, _)| {
            k.revoked_at = Some(now);
            (k.clone(), true)
        }))
    }

    async fn find_by_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(paloma_domain::ApiKey, paloma_domain::TokenHash)>, RepositoryError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        Ok(self
            .keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(k, _)| k.prefix == prefix)
            .cloned()
            .collect())
    }
}

#[tokio::test]
async fn key_lookups_are_remembered_at_most_a_second_and_a_revocation_here_at_once() {
    use paloma_application::ports::KeyStore;
    use paloma_domain::{ApiKey, ApiToken, KeyId, KeyName, Scopes};

    let keys = CachedKeyStore::new(CountingKeys::default(), Duration::from_secs(3600));
    let token = ApiToken::generate();
    let key = ApiKey {
        id: KeyId::new(),
        name: KeyName::parse("reader").expect("name"),
        prefix: token.lookup_prefix().to_owned(),
        scopes: Scopes::all(),
        created_at: Utc::now(),
        revoked_at: None,
    };
    let prefix = key.prefix.clone();
    // Nothing found is not remembered: the key inserted next is found at once.
    assert!(
        keys.find_by_prefix(&prefix)
            .await
            .expect("lookup")
            .is_empty()
    );
    keys.insert(&key, &token.hash()).await.expect("insert");
    assert_eq!(keys.find_by_prefix(&prefix).await.expect("lookup").len(), 1);
    assert_eq!(keys.find_by_prefix(&prefix).await.expect("lookup").len(), 1);
    assert_eq!(
        keys.inner().lookups.load(Ordering::SeqCst),
        2,
        "one remembered"
    );

    keys.revoke(key.id, Utc::now()).await.expect("revoke");
    let found = keys.find_by_prefix(&prefix).await.expect("lookup");
    assert!(
        found[0].0.revoked_at.is_some(),
        "the revocation is seen at once"
    );
    assert_eq!(keys.inner().lookups.load(Ordering::SeqCst), 3);

    // A TTL over a second is cut to one: a revocation elsewhere is seen within it.
    keys.inner().keys.lock().expect("lock")[0].0.revoked_at = None;
    tokio::time::sleep(MAX_KEY_TTL + Duration::from_millis(100)).await;
    let found = keys.find_by_prefix(&prefix).await.expect("lookup");
    assert!(found[0].0.revoked_at.is_none(), "read again after the TTL");
}
