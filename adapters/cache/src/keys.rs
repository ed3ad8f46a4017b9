//! [`CachedKeyStore`]: a [`KeyStore`] that remembers, for at most a second, the keys a token's
//! lookup prefix found, so that a client polling the API does not cost a key query per request.
//!
//! A key revoked through this store (this API process's `DELETE /api/keys/{id}`) is forgotten
//! at once; one revoked elsewhere (the command line, another API process) stops working within
//! the TTL, which is why the TTL is capped at [`MAX_KEY_TTL`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::future::Cache;
use paloma_application::ports::{ActivityLog, KeyStore, RepositoryError};
use paloma_domain::{Activity, ApiKey, CampaignId, KeyId, Page, PageRequest, TokenHash};

use crate::{Miss, settle};

/// The longest a key lookup may be remembered: a revocation must take effect within it.
pub const MAX_KEY_TTL: Duration = Duration::from_secs(1);

/// Lookup prefixes remembered at most.
const MAX_PREFIXES: u64 = 10_000;

type Found = Vec<(ApiKey, TokenHash)>;

/// Wraps a [`KeyStore`]: what a lookup prefix found is remembered for the TTL (at most
/// [`MAX_KEY_TTL`]), and concurrent lookups of one prefix share one query. A prefix that found
/// nothing is not remembered (a guessed token is looked up every time, under the API's limit on
/// failed attempts), nor is an error.
pub struct CachedKeyStore<S> {
    inner: S,
    /// `None` for a zero TTL: every lookup goes to the store.
    recent: Option<Cache<String, Found>>,
}

impl<S> CachedKeyStore<S> {
    /// Remembers lookups for `ttl`, cut to [`MAX_KEY_TTL`]; zero remembers nothing.
    pub fn new(inner: S, ttl: Duration) -> Self {
        let ttl = ttl.min(MAX_KEY_TTL);
        let recent = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(MAX_PREFIXES)
                .time_to_live(ttl)
                .build()
        });
        Self { inner, recent }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn forget(&self, prefix: &str) {
        if let Some(recent) = &self.recent {
            recent.invalidate(prefix).await;
        }
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for CachedKeyStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedKeyStore")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S: KeyStore> KeyStore for CachedKeyStore<S> {
    async fn insert(&self, key: &ApiKey, hash: &TokenHash) -> Result<(), RepositoryError> {
        let inserted = self.inner.insert(key, hash).await;
        self.forget(&key.prefix).await;
        inserted
    }

    async fn list(&self) -> Result<Vec<ApiKey>, RepositoryError> {
        self.inner.list().await
    }

    async fn revoke(
        &self,
        id: KeyId,
        now: DateTime<Utc>,
    ) -> Result<Option<(ApiKey, bool)>, RepositoryError> {
        let revoked = self.inner.revoke(id, now).await;
        if let Ok(Some((key, _))) = &revoked {
            self.forget(&key.prefix).await;
        }
        revoked
    }

    async fn find_by_prefix(&self, prefix: &str) -> Result<Found, RepositoryError> {
        let Some(recent) = &self.recent else {
            return self.inner.find_by_prefix(prefix).await;
        };
        let lookup = async {
            match self.inner.find_by_prefix(prefix).await {
                Ok(found) if found.is_empty() => Err(Miss::Absent),
                Ok(found) => Ok(found),
                Err(e) => Err(Miss::Failed(e)),
            }
        };
        match recent.try_get_with(prefix.to_owned(), lookup).await {
            Ok(found) => Ok(found),
            Err(miss) => settle(miss).map(|()| Vec::new()),
        }
    }
}

/// The audit trail is never cached.
impl<S: ActivityLog> ActivityLog for CachedKeyStore<S> {
    async fn record(&self, activity: &Activity) -> Result<(), RepositoryError> {
        self.inner.record(activity).await
    }

    async fn campaign_activity(
        &self,
        id: CampaignId,
        page: PageRequest,
    ) -> Result<Page<Activity>, RepositoryError> {
        self.inner.campaign_activity(id, page).await
    }
}
