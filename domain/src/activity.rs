//! The audit trail: who changed what, when and from where.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::access::{ApiKey, Scope, Scopes};
use crate::ids::{ActivityId, CampaignId, KeyId};

/// Something done to a campaign or a key that the audit trail records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A campaign was stored (as a draft, or to be sent: a `CampaignSent` or a
    /// `CampaignScheduled` follows then).
    CampaignCreated,
    /// A campaign was released for sending now: at creation, a draft sent later, or a
    /// scheduled campaign sent before its time.
    CampaignSent,
    /// A campaign was released for sending at its `scheduledAt`: at creation, or a draft with
    /// a send time sent later.
    CampaignScheduled,
    /// A finished campaign's failed recipients were queued again.
    CampaignRetried,
    CampaignPaused,
    CampaignResumed,
    CampaignCancelled,
    /// A scheduled campaign's send time was moved.
    CampaignRescheduled,
    /// A draft's or a scheduled campaign's content, recipients or time were changed.
    CampaignEdited,
    /// A campaign's message was sent to a few test addresses.
    CampaignTested,
    KeyCreated,
    KeyRevoked,
    /// Addresses were added to the suppression list by hand.
    SuppressionAdded,
    /// An address was taken off the suppression list.
    SuppressionRemoved,
}

impl Action {
    pub const ALL: [Self; 14] = [
        Self::CampaignCreated,
        Self::CampaignSent,
        Self::CampaignScheduled,
        Self::CampaignRetried,
        Self::CampaignPaused,
        Self::CampaignResumed,
        Self::CampaignCancelled,
        Self::CampaignRescheduled,
        Self::CampaignEdited,
        Self::CampaignTested,
        Self::KeyCreated,
        Self::KeyRevoked,
        Self::SuppressionAdded,
        Self::SuppressionRemoved,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CampaignCreated => "campaign.created",
            Self::CampaignSent => "campaign.sent",
            Self::CampaignScheduled => "campaign.scheduled",
            Self::CampaignRetried => "campaign.retried",
            Self::CampaignPaused => "campaign.paused",
            Self::CampaignResumed => "campaign.resumed",
            Self::CampaignCancelled => "campaign.cancelled",
            Self::CampaignRescheduled => "campaign.rescheduled",
            Self::CampaignEdited => "campaign.edited",
            Self::CampaignTested => "campaign.tested",
            Self::KeyCreated => "key.created",
            Self::KeyRevoked => "key.revoked",
            Self::SuppressionAdded => "suppression.added",
            Self::SuppressionRemoved => "suppression.removed",
        }
    }

    /// What releasing a campaign for sending is called, by the status it left:
    /// [`Action::CampaignScheduled`] for one that waits for its time, else
    /// [`Action::CampaignSent`].
    pub fn released(status: crate::CampaignStatus) -> Self {
        if status == crate::CampaignStatus::Scheduled {
            Self::CampaignScheduled
        } else {
            Self::CampaignSent
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asks for a change: the API key a request proved (and the client's address), or the
/// operator at the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `None` for the command line, which needs no key.
    pub key_id: Option<KeyId>,
    /// The key's name, or [`Actor::CLI_NAME`].
    pub name: String,
    pub scopes: Scopes,
    pub client_address: Option<IpAddr>,
}

impl Actor {
    /// The name the audit trail gives the command line (`paloma-api keys ...`).
    pub const CLI_NAME: &'static str = "command line";
    /// The name the audit trail gives the start-up's own changes.
    pub const CONFIGURATION_NAME: &'static str = "BOOTSTRAP_API_KEY";

    /// The operator at the command line: whoever can run the binary with the database's
    /// credentials may do anything.
    pub fn cli() -> Self {
        Self {
            key_id: None,
            name: Self::CLI_NAME.to_owned(),
            scopes: Scopes::all(),
            client_address: None,
        }
    }

    /// Paloma itself acting on its configuration (`BOOTSTRAP_API_KEY` at start-up).
    pub fn configuration() -> Self {
        Self {
            key_id: None,
            name: Self::CONFIGURATION_NAME.to_owned(),
            scopes: Scopes::all(),
            client_address: None,
        }
    }

    /// A request that proved `key`, from `client_address`.
    pub fn key(key: &ApiKey, client_address: Option<IpAddr>) -> Self {
        Self {
            key_id: Some(key.id),
            name: key.name.as_str().to_owned(),
            scopes: key.scopes,
            client_address,
        }
    }

    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: ActivityId,
    pub action: Action,
    /// The campaign it concerns; `None` for a key's and the suppression list's.
    pub campaign_id: Option<CampaignId>,
    /// The key it was done with (`None`: the command line), and the key's name at the time.
    pub key_id: Option<KeyId>,
    pub key_name: String,
    /// The client's IP address; `None` for the command line.
    pub client_address: Option<String>,
    pub at: DateTime<Utc>,
}

impl Activity {
    pub fn new(
        action: Action,
        campaign_id: Option<CampaignId>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: ActivityId::new(),
            action,
            campaign_id,
            key_id: actor.key_id,
            key_name: actor.name.clone(),
            client_address: actor.client_address.map(|a| a.to_canonical().to_string()),
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_names() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::parse("campaign.deleted"), None);
    }

    #[test]
    fn an_activity_names_the_actor_and_a_v4_mapped_address_as_ipv4() {
        let mut actor = Actor::cli();
        actor.client_address = Some("::ffff:192.0.2.7".parse().expect("an address"));
        let campaign = CampaignId::new();
        let activity = Activity::new(Action::CampaignSent, Some(campaign), &actor, Utc::now());
        assert_eq!(activity.key_name, Actor::CLI_NAME);
        assert_eq!(activity.key_id, None);
        assert_eq!(activity.campaign_id, Some(campaign));
        assert_eq!(activity.client_address.as_deref(), Some("192.0.2.7"));
    }

    #[test]
    fn the_command_line_may_do_anything() {
        let cli = Actor::cli();
        assert!(Scope::ALL.into_iter().all(|s| cli.may(s)));
    }
}
