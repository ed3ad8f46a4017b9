//! Identifiers. All are UUID v7, so they sort by creation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            /// Rebuilds an id from the 16 bytes it is stored as; `None` for any other length.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                Uuid::from_slice(bytes).ok().map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// The id of a campaign (`EmailJob`); also the bull job's `jobUuid`.
    CampaignId
);
id_type!(
    /// The id of one recipient row of a campaign.
    RecipientId
);
id_type!(
    /// The id of an API key (not its token: this one may be shown, listed and logged).
    KeyId
);
id_type!(
    /// The id of one entry of the audit trail.
    ActivityId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_round_trip() {
        let a = CampaignId::new();
        let b = CampaignId::new();
        assert!(a < b, "v7 ids created later must sort later");
        let parsed: CampaignId = a.to_string().parse().expect("own id parses");
        assert_eq!(parsed, a);
        assert_eq!(CampaignId::from_slice(a.as_bytes()), Some(a));
        assert_eq!(CampaignId::from_slice(&[1, 2, 3]), None);
        assert!("not-a-uuid".parse::<CampaignId>().is_err());
    }
}
