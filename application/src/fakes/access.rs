//! The audit trail and API keys in memory.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use paloma_domain::*;

use super::lock;
use crate::ports::*;

/// An audit trail in memory.
#[derive(Default)]
pub struct FakeActivity {
    pub entries: Mutex<Vec<Activity>>,
}

impl FakeActivity {
    pub(crate) fn record(&self, activity: &Activity) {
        lock(&self.entries).push(activity.clone());
    }

    pub(crate) fn of_campaign(&self, id: CampaignId, page: PageRequest) -> Page<Activity> {
        let all: Vec<Activity> = lock(&self.entries)
            .iter()
            .filter(|a| a.campaign_id == Some(id))
            .cloned()
            .collect();
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(page.offset() as usize)
            .take(page.per_page() as usize)
            .collect();
        Page {
            items,
            page: page.page(),
            per_page: page.per_page(),
            total,
        }
    }

    /// The actions recorded, in order.
    pub fn actions(&self) -> Vec<(Action, Option<CampaignId>, String)> {
        lock(&self.entries)
            .iter()
            .map(|a| (a.action, a.campaign_id, a.key_name.clone()))
            .collect()
    }
}

/// API keys in memory.
#[derive(Default)]
pub struct FakeKeys {
    pub keys: Mutex<Vec<(paloma_domain::ApiKey, paloma_domain::TokenHash)>>,
    pub activity: FakeActivity,
}

impl ActivityLog for FakeKeys {
    async fn record(&self, activity: &Activity) -> Result<(), RepositoryError> {
        self.activity.record(activity);
        Ok(())
    }

    async fn campaign_activity(
        &self,
        id: CampaignId,
        page: PageRequest,
    ) -> Result<Page<Activity>, RepositoryError> {
        Ok(self.activity.of_campaign(id, page))
    }
}

impl crate::ports::KeyStore for FakeKeys {
    async fn insert(
        &self,
        key: &paloma_domain::ApiKey,
        hash: &paloma_domain::TokenHash,
    ) -> Result<(), RepositoryError> {
        lock(&self.keys).push((key.clone(), *hash));
        Ok(())
    }

    async fn list(&self) -> Result<Vec<paloma_domain::ApiKey>, RepositoryError> {
        Ok(lock(&self.keys).iter().map(|(k, _)| k.clone()).collect())
    }

    async fn revoke(
        &self,
        id: paloma_domain::KeyId,
        now: DateTime<Utc>,
    ) -> Result<Option<(paloma_domain::ApiKey, bool)>, RepositoryError> {
        let mut keys = lock(&self.keys);
        Ok(keys.iter_mut().find(|(k, _)| k.id == id).map(|(k, _)| {
            let newly = k.revoked_at.is_none();
            k.revoked_at.get_or_insert(now);
            (k.clone(), newly)
        }))
    }

    async fn find_by_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(paloma_domain::ApiKey, paloma_domain::TokenHash)>, RepositoryError> {
        Ok(lock(&self.keys)
            .iter()
            .filter(|(k, _)| k.prefix == prefix)
            .cloned()
            .collect())
    }
}
