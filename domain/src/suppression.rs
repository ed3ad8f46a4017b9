//! The suppression list: addresses that get no more messages, and why.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::campaign::{RecipientInput, ValidationErrors, parse_recipients};
use crate::ids::CampaignId;
use crate::lifecycle::{CampaignFilterError, search_text};
use crate::recipient::EmailAddress;

/// Most addresses one request may add to the list.
pub const MAX_SUPPRESSIONS_PER_REQUEST: usize = 1_000;

/// Addresses to add to the list by hand, validated as a campaign's recipients are: every
/// problem is reported at once (each invalid address by its index, as for `recipients`), and
/// duplicates (ignoring case) are dropped. 1 to [`MAX_SUPPRESSIONS_PER_REQUEST`] addresses.
pub fn parse_suppression_list(emails: &[String]) -> Result<Vec<EmailAddress>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if emails.is_empty() || emails.len() > MAX_SUPPRESSIONS_PER_REQUEST {
        errors.fields.push((
            "emails",
            format!("1 to {MAX_SUPPRESSIONS_PER_REQUEST} addresses at once"),
        ));
        return Err(errors);
    }
    let input = emails
        .iter()
        .map(|email| RecipientInput::address(email.clone()))
        .collect();
    let parsed = parse_recipients(input, &mut errors);
    if errors.fields.is_empty() && errors.invalid_recipient_count == 0 {
        Ok(parsed.recipients.into_iter().map(|r| r.email).collect())
    } else {
        Err(errors)
    }
}

/// Why an address is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressionReason {
    /// Its owner used the unsubscribe link of a campaign's message.
    Unsubscribed,
    /// The server refused a message to it for good.
    HardBounce,
    /// Someone added it through the API or the dashboard.
    Manual,
}

impl SuppressionReason {
    pub const ALL: [Self; 3] = [Self::Unsubscribed, Self::HardBounce, Self::Manual];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unsubscribed => "UNSUBSCRIBED",
            Self::HardBounce => "HARD_BOUNCE",
            Self::Manual => "MANUAL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for SuppressionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the suppression list. The address is kept lowercased: two spellings of an
/// address are one entry, as they are one recipient of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub email: String,
    pub reason: SuppressionReason,
    /// The campaign it came from (its unsubscribe link, its bounce); `None` when added by hand.
    pub campaign_id: Option<CampaignId>,
    pub created_at: DateTime<Utc>,
}

impl Suppression {
    pub fn new(
        email: &EmailAddress,
        reason: SuppressionReason,
        campaign_id: Option<CampaignId>,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            email: email.dedup_key(),
            reason,
            campaign_id,
            created_at,
        }
    }

    /// Longest search text: an address's own length.
    pub const MAX_SEARCH_CHARS: usize = EmailAddress::MAX_LEN;

    /// A listing's search on addresses (trimmed and lowercased, as the addresses are kept):
    /// not blank, at most [`MAX_SEARCH_CHARS`](Self::MAX_SEARCH_CHARS) characters, no control
    /// characters.
    pub fn search(search: Option<&str>) -> Result<Option<String>, CampaignFilterError> {
        Ok(search_text(search, Self::MAX_SEARCH_CHARS)?.map(|text| text.to_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_through_their_names() {
        for reason in SuppressionReason::ALL {
            assert_eq!(SuppressionReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(SuppressionReason::parse("manual"), None);
    }

    #[test]
    fn an_entry_keeps_the_address_lowercased() {
        let email = EmailAddress::parse(" Ada@Example.ORG ").expect("valid");
        let entry = Suppression::new(&email, SuppressionReason::Manual, None, Utc::now());
        assert_eq!(entry.email, "ada@example.org");
    }

    #[test]
    fn a_list_is_validated_like_recipients_and_deduplicated() {
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let parsed = parse_suppression_list(&list(&["a@example.org", "A@Example.org", "b@x.org"]))
            .expect("valid");
        assert_eq!(parsed.len(), 2);
        let errors = parse_suppression_list(&list(&["a@example.org", "nope", "b@x.org", ""]))
            .expect_err("invalid");
        assert_eq!(errors.invalid_recipient_count, 2);
        assert_eq!(errors.invalid_recipients[0].index, 1);
        assert_eq!(errors.invalid_recipients[0].value, "nope");
        assert_eq!(errors.invalid_recipients[1].index, 3);
        assert!(parse_suppression_list(&[]).is_err());
        let too_many = vec!["a@example.org".to_owned(); MAX_SUPPRESSIONS_PER_REQUEST + 1];
        assert_eq!(
            parse_suppression_list(&too_many)
                .expect_err("too many")
                .fields[0]
                .0,
            "emails"
        );
    }

    #[test]
    fn a_search_is_trimmed_lowercased_and_bounded() {
        assert_eq!(Suppression::search(None), Ok(None));
        assert_eq!(
            Suppression::search(Some(" Ada ")),
            Ok(Some("ada".to_owned()))
        );
        assert_eq!(
            Suppression::search(Some("  ")),
            Err(CampaignFilterError::Blank)
        );
        assert_eq!(
            Suppression::search(Some(&"a".repeat(255))),
            Err(CampaignFilterError::TooLong { max: 254 })
        );
    }
}
