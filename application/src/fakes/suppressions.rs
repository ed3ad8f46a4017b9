//! The suppression list in memory.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use paloma_domain::{Activity, CampaignId, Page, PageRequest, Suppression};

use super::{FakeActivity, lock};
use crate::ports::*;

/// A suppression list in memory, newest last, with its own audit trail.
#[derive(Default)]
pub struct FakeSuppressions {
    pub entries: Mutex<Vec<Suppression>>,
    pub activity: FakeActivity,
    pub down: AtomicBool,
}

impl FakeSuppressions {
    fn check(&self) -> Result<(), RepositoryError> {
        if self.down.load(Ordering::SeqCst) {
            Err(RepositoryError::Unavailable("fake database is down".into()))
        } else {
            Ok(())
        }
    }

    /// The entry of `email`, if listed.
    pub fn entry(&self, email: &str) -> Option<Suppression> {
        lock(&self.entries)
            .iter()
            .find(|e| e.email == email)
            .cloned()
    }
}

impl SuppressionStore for FakeSuppressions {
    async fn suppress(&self, entries: &[Suppression]) -> Result<u64, RepositoryError> {
        self.check()?;
        let mut listed = lock(&self.entries);
        let mut added = 0;
        for entry in entries {
            let email = entry.email.to_lowercase();
            if !listed.iter().any(|e| e.email == email) {
                listed.push(Suppression {
                    email,
                    ..entry.clone()
                });
                added += 1;
            }
        }
        Ok(added)
    }

    async fn unsuppress(&self, email: &str) -> Result<bool, RepositoryError> {
        self.check()?;
        let mut listed = lock(&self.entries);
        let before = listed.len();
        listed.retain(|e| e.email != email.to_lowercase());
        Ok(listed.len() < before)
    }

    async fn list_suppressions(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Suppression>, RepositoryError> {
        self.check()?;
        let matching: Vec<Suppression> = lock(&self.entries)
            .iter()
            .rev()
            .filter(|e| search.is_none_or(|s| e.email.contains(&s.to_lowercase())))
            .cloned()
            .collect();
        Ok(Page {
            total: matching.len() as u64,
            items: matching
                .into_iter()
                .skip(page.offset() as usize)
                .take(page.per_page() as usize)
                .collect(),
            page: page.page(),
            per_page: page.per_page(),
        })
    }

    async fn suppressed_among(
        &self,
        emails: &[String],
    ) -> Result<HashSet<String>, RepositoryError> {
        self.check()?;
        let wanted: HashSet<String> = emails.iter().map(|e| e.to_lowercase()).collect();
        Ok(lock(&self.entries)
            .iter()
            .filter(|e| wanted.contains(&e.email))
            .map(|e| e.email.clone())
            .collect())
    }
}

impl ActivityLog for FakeSuppressions {
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
