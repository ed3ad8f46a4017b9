//! The suppression list: reading it, adding and removing addresses by hand, and the one-click
//! unsubscribe of a message's link (RFC 8058).

use std::sync::Arc;

use paloma_domain::{
    Action, Activity, Actor, EmailAddress, Page, PageRequest, Suppression, SuppressionReason,
    Unsubscribe, UnsubscribeSecret, ValidationErrors, parse_suppression_list,
    verify_unsubscribe_token,
};
use tracing::{error, info};

use crate::ports::{ActivityLog, Clock, RepositoryError, SuppressionStore};

/// What went wrong with the suppression list.
#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    /// Addresses to add that are not valid (nothing was added).
    #[error("invalid addresses")]
    Invalid(ValidationErrors),
    /// The address to remove is not on the list.
    #[error("the address is not suppressed")]
    NotFound,
    /// An unsubscribe token that is malformed, forged or altered, or that cannot be checked
    /// (no `UNSUBSCRIBE_SECRET`): the two are not told apart.
    #[error("not a valid unsubscribe link")]
    InvalidToken,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// What adding addresses did: how many were new, how many were on the list already (and kept
/// their first entry). Duplicates within the request count once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppressed {
    pub added: u64,
    pub already_suppressed: u64,
}

/// The suppression list's use cases over a [`SuppressionStore`].
pub struct SuppressionService<S, C> {
    store: Arc<S>,
    clock: C,
    /// `UNSUBSCRIBE_SECRET`; without it no unsubscribe token verifies.
    secret: Option<UnsubscribeSecret>,
}

impl<S: SuppressionStore + ActivityLog, C: Clock> SuppressionService<S, C> {
    pub fn new(store: Arc<S>, clock: C, secret: Option<UnsubscribeSecret>) -> Self {
        Self {
            store,
            clock,
            secret,
        }
    }

    /// A page of the list, newest first; `search`: only the addresses containing it (already
    /// validated, see [`Suppression::search`]).
    pub async fn list(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Suppression>, SuppressionError> {
        Ok(self.store.list_suppressions(search, page).await?)
    }

    /// Adds addresses by hand (reason `MANUAL`), validated as a campaign's recipients are: one
    /// invalid address and nothing is added.
    pub async fn add(
        &self,
        emails: &[String],
        actor: &Actor,
    ) -> Result<Suppressed, SuppressionError> {
        let addresses = parse_suppression_list(emails).map_err(SuppressionError::Invalid)?;
        let now = self.clock.now();
        let entries: Vec<Suppression> = addresses
            .iter()
            .map(|email| Suppression::new(email, SuppressionReason::Manual, None, now))
            .collect();
        let added = self.store.suppress(&entries).await?;
        let total = u64::try_from(entries.len()).unwrap_or(u64::MAX);
        if added > 0 {
            info!(added, key_name = %actor.name, "addresses added to the suppression list");
            self.record(Action::SuppressionAdded, actor).await;
        }
        Ok(Suppressed {
            added,
            already_suppressed: total.saturating_sub(added),
        })
    }

    /// Takes an address off the list: it may get messages again.
    pub async fn remove(&self, email: &str, actor: &Actor) -> Result<(), SuppressionError> {
        if !self.store.unsuppress(&email.trim().to_lowercase()).await? {
            return Err(SuppressionError::NotFound);
        }
        info!(key_name = %actor.name, "an address was taken off the suppression list");
        self.record(Action::SuppressionRemoved, actor).await;
        Ok(())
    }

    /// What an unsubscribe token names, without changing anything (the confirmation page).
    pub fn check_token(&self, token: &str) -> Result<Unsubscribe, SuppressionError> {
        self.secret
            .as_ref()
            .and_then(|secret| verify_unsubscribe_token(secret, token))
            .ok_or(SuppressionError::InvalidToken)
    }

    /// The one-click unsubscribe: checks the token, then lists its address (reason
    /// `UNSUBSCRIBED`, with the token's campaign). Using a link twice changes nothing more.
    /// Not in the audit trail: the list's entry records it.
    pub async fn unsubscribe(&self, token: &str) -> Result<Unsubscribe, SuppressionError> {
        let unsubscribe = self.check_token(token)?;
        // The token was made for a valid address; parsed again all the same, so that the list
        // only ever holds addresses.
        let email =
            EmailAddress::parse(&unsubscribe.email).map_err(|_| SuppressionError::InvalidToken)?;
        let entry = Suppression::new(
            &email,
            SuppressionReason::Unsubscribed,
            Some(unsubscribe.campaign),
            self.clock.now(),
        );
        if self.store.suppress(&[entry]).await? > 0 {
            info!(campaign_id = %unsubscribe.campaign, "an address unsubscribed");
        }
        Ok(unsubscribe)
    }

    /// Appends to the audit trail, without a campaign (as a key's changes are); see
    /// [`CampaignService`](crate::CampaignService)'s own.
    async fn record(&self, action: Action, actor: &Actor) {
        let activity = Activity::new(action, None, actor, self.clock.now());
        if let Err(e) = self.store.record(&activity).await {
            error!(
                error = %e,
                action = %action,
                key_id = ?actor.key_id,
                key_name = %actor.name,
                client_address = ?actor.client_address,
                "could not record an activity in the audit trail"
            );
        }
    }
}
