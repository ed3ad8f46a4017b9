//! API keys: creating, listing and revoking them, and telling which key a token proves.

use std::sync::Arc;

use paloma_domain::{
    Action, Activity, Actor, ApiKey, ApiToken, KeyId, KeyName, KeyNameError, Scopes,
};
use tracing::{error, info};

use crate::ports::{ActivityLog, Clock, KeyStore, RepositoryError};

/// What went wrong creating, listing or revoking keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid name: {0}")]
    InvalidName(#[from] KeyNameError),
    #[error("no API key {0}")]
    NotFound(KeyId),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a token does not prove a key.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not an API token")]
    Malformed,
    #[error("no key has this token")]
    Unknown,
    #[error("the key was revoked")]
    Revoked,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// The key use cases over a [`KeyStore`].
pub struct KeyService<S, C> {
    store: Arc<S>,
    clock: C,
}

impl<S: KeyStore + ActivityLog, C: Clock> KeyService<S, C> {
    pub fn new(store: Arc<S>, clock: C) -> Self {
        Self { store, clock }
    }

    /// A new key named `name` with `scopes`; its token is in the answer and nowhere else (only
    /// its hash is stored).
    pub async fn create(
        &self,
        name: &str,
        scopes: Scopes,
        actor: &Actor,
    ) -> Result<(ApiKey, ApiToken), KeyError> {
        let name = KeyName::parse(name)?;
        let token = ApiToken::generate();
        let key = self.store_key(name, scopes, &token).await?;
        self.record(Action::KeyCreated, &key, actor).await;
        Ok((key, token))
    }

    /// Appends to the audit trail; see [`CampaignService`](crate::CampaignService)'s own.
    async fn record(&self, action: Action, key: &ApiKey, actor: &Actor) {
        let activity = Activity::new(action, None, actor, self.clock.now());
        if let Err(e) = self.store.record(&activity).await {
            error!(
                error = %e,
                action = %action,
                subject_key_id = %key.id,
                key_id = ?actor.key_id,
                key_name = %actor.name,
                client_address = ?actor.client_address,
                "could not record an activity in the audit trail"
            );
        }
    }

    async fn store_key(
        &self,
        name: KeyName,
        scopes: Scopes,
        token: &ApiToken,
    ) -> Result<ApiKey, KeyError> {
        let key = ApiKey {
            id: KeyId::new(),
            name,
            prefix: token.lookup_prefix().to_owned(),
            scopes,
            created_at: self.clock.now(),
            revoked_at: None,
        };
        self.store.insert(&key, &token.hash()).await?;
        info!(key_id = %key.id, key_name = key.name.as_str(), scopes = %key.scopes, "API key created");
        Ok(key)
    }

    /// Every key, revoked ones included, oldest first.
    pub async fn list(&self) -> Result<Vec<ApiKey>, KeyError> {
        Ok(self.store.list().await?)
    }

    /// Revokes a key: its token stops proving it. Revoking a revoked key changes nothing.
    pub async fn revoke(&self, id: KeyId, actor: &Actor) -> Result<ApiKey, KeyError> {
        let (key, newly) = self
            .store
            .revoke(id, self.clock.now())
            .await?
            .ok_or(KeyError::NotFound(id))?;
        if newly {
            info!(key_id = %key.id, key_name = key.name.as_str(), "API key revoked");
            self.record(Action::KeyRevoked, &key, actor).await;
        }
        Ok(key)
    }

    /// The key `raw` (a bearer token as a client sent it) proves. Keys are found by the
    /// token's lookup prefix and told apart by comparing hashes in constant time.
    pub async fn authenticate(&self, raw: &str) -> Result<ApiKey, AuthError> {
        let token = ApiToken::parse(raw).map_err(|_| AuthError::Malformed)?;
        let hash = token.hash();
        let found = self
            .store
            .find_by_prefix(token.lookup_prefix())
            .await?
            .into_iter()
            .find(|(_, stored)| stored.matches(&hash));
        match found {
            None => Err(AuthError::Unknown),
            Some((key, _)) if key.is_revoked() => Err(AuthError::Revoked),
            Some((key, _)) => Ok(key),
        }
    }

    /// Makes sure a key with every scope exists for `token` (`BOOTSTRAP_API_KEY`): creates it,
    /// named `bootstrap`, unless a key with this token already exists. A revoked one stays
    /// revoked: revoking is how such a token is retired. Returns the key created, if any.
    pub async fn ensure_bootstrap(&self, token: &ApiToken) -> Result<Option<ApiKey>, KeyError> {
        match self.authenticate(token.expose()).await {
            Ok(_) | Err(AuthError::Revoked) => Ok(None),
            Err(AuthError::Repository(e)) => Err(e.into()),
            Err(AuthError::Unknown | AuthError::Malformed) => {
                let name = KeyName::parse("bootstrap")?;
                match self.store_key(name, Scopes::all(), token).await {
                    Ok(key) => {
                        self.record(Action::KeyCreated, &key, &Actor::configuration())
                            .await;
                        Ok(Some(key))
                    }
                    // Another process starting at the same time stored it first.
                    Err(KeyError::Repository(RepositoryError::Conflict(_))) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }
}
