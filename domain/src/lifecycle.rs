//! A stored campaign (`EmailJob`): its counters, the states it moves through, which failed
//! recipients a retry sends again, and which campaigns a listing shows.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::IllegalTransition;
use crate::campaign::Subject;
use crate::ids::CampaignId;

/// `PENDING -> PROCESSING -> COMPLETED | FAILED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CampaignStatus {
    /// Stored and held: nothing sends it until a key that may send releases it (`PENDING`).
    Draft,
    Pending,
    Processing,
    Completed,
    Failed,
}

impl CampaignStatus {
    pub const ALL: [Self; 5] = [
        Self::Draft,
        Self::Pending,
        Self::Processing,
        Self::Completed,
        Self::Failed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Pending => "PENDING",
            Self::Processing => "PROCESSING",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }

    /// Pending or processing: a queue job should be delivering it. Not a draft (held), not a
    /// final campaign.
    pub fn awaits_delivery(&self) -> bool {
        matches!(self, Self::Pending | Self::Processing)
    }

    /// Legal moves: a draft is released for sending; a worker starts (or resumes) a campaign,
    /// then finishes it; a finished one goes back to `PENDING` when its failed recipients are
    /// retried. A draft never starts; nothing else moves a finished campaign.
    pub fn transition(self, to: Self) -> Result<Self, IllegalTransition> {
        use CampaignStatus::*;
        match (self, to) {
            (Draft | Completed | Failed, Pending)
            | (Pending | Processing, Processing)
            | (Processing, Completed | Failed)
            | (Pending, Failed) => Ok(to),
            _ => Err(IllegalTransition {
                from: self.as_str(),
                to: to.as_str(),
            }),
        }
    }
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which campaigns a listing shows: all of them, or those in one status and/or whose subject
/// contains a text (ignoring case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignFilter {
    pub status: Option<CampaignStatus>,
    subject_contains: Option<String>,
}

/// A subject search that cannot be one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignFilterError {
    #[error("the search text is empty")]
    Blank,
    #[error("the search text is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the search text must not contain control characters")]
    ControlCharacter,
}

impl CampaignFilter {
    /// Longest search text: a subject's own length.
    pub const MAX_SEARCH_CHARS: usize = Subject::MAX_CHARS;

    /// A filter on `status` and on subjects containing `search` (trimmed; at most
    /// [`MAX_SEARCH_CHARS`](Self::MAX_SEARCH_CHARS) characters, not blank, no control
    /// characters).
    pub fn new(
        status: Option<CampaignStatus>,
        search: Option<&str>,
    ) -> Result<Self, CampaignFilterError> {
        let subject_contains = match search.map(str::trim) {
            None => None,
            Some("") => return Err(CampaignFilterError::Blank),
            Some(text) if text.chars().any(char::is_control) => {
                return Err(CampaignFilterError::ControlCharacter);
            }
            Some(text) if text.chars().count() > Self::MAX_SEARCH_CHARS => {
                return Err(CampaignFilterError::TooLong {
                    max: Self::MAX_SEARCH_CHARS,
                });
            }
            Some(text) => Some(text.to_owned()),
        };
        Ok(Self {
            status,
            subject_contains,
        })
    }

    /// The text subjects must contain, if any.
    pub fn subject_contains(&self) -> Option<&str> {
        self.subject_contains.as_deref()
    }

    /// Whether `campaign` passes (what the listing's query must agree with).
    pub fn admits(&self, campaign: &Campaign) -> bool {
        self.status.is_none_or(|s| s == campaign.status)
            && self.subject_contains.as_deref().is_none_or(|text| {
                campaign
                    .subject
                    .to_lowercase()
                    .contains(&text.to_lowercase())
            })
    }
}

/// Which failed recipients "retry the failed" sends again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryScope {
    /// Every `FAILED` recipient.
    All,
    /// Those not refused by the server: given up on after transient failures, or never tried
    /// (the campaign was stopped). A permanent refusal (5xx) stays `FAILED`.
    Transient,
}

/// A stored campaign with its counters, without its body (which can be large and is read
/// apart). `sent + failed + pending == total` always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    pub subject: String,
    pub status: CampaignStatus,
    pub total_emails: u32,
    pub sent_emails: u32,
    pub failed_emails: u32,
    pub duplicates_removed: u32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Campaign {
    pub fn pending_emails(&self) -> u32 {
        self.total_emails
            .saturating_sub(self.sent_emails.saturating_add(self.failed_emails))
    }

    /// Percent of recipients with a final outcome, 0 to 100. An empty campaign is 100% done.
    pub fn progress(&self) -> f64 {
        if self.total_emails == 0 {
            return 100.0;
        }
        let done = f64::from(self.sent_emails) + f64::from(self.failed_emails);
        (done * 100.0 / f64::from(self.total_emails)).min(100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_trims_its_search_and_refuses_what_cannot_be_a_subject() {
        let filter = CampaignFilter::new(Some(CampaignStatus::Draft), Some("  News ")).expect("ok");
        assert_eq!(filter.subject_contains(), Some("News"));
        assert_eq!(
            CampaignFilter::new(None, Some("   ")),
            Err(CampaignFilterError::Blank)
        );
        assert_eq!(
            CampaignFilter::new(None, Some("a\u{7}b")),
            Err(CampaignFilterError::ControlCharacter)
        );
        assert!(matches!(
            CampaignFilter::new(None, Some(&"x".repeat(256))),
            Err(CampaignFilterError::TooLong { max: 255 })
        ));
        assert_eq!(
            CampaignFilter::new(None, None),
            Ok(CampaignFilter::default())
        );
    }

    #[test]
    fn campaign_transitions() {
        use CampaignStatus::*;
        assert_eq!(Pending.transition(Processing), Ok(Processing));
        assert_eq!(Processing.transition(Processing), Ok(Processing));
        assert_eq!(Processing.transition(Completed), Ok(Completed));
        assert!(Pending.transition(Completed).is_err());
        assert!(Completed.transition(Processing).is_err());
        assert_eq!(
            Completed.transition(Pending),
            Ok(Pending),
            "its failed retried"
        );
        assert_eq!(Failed.transition(Pending), Ok(Pending));
        assert!(Failed.transition(Completed).is_err());
        assert_eq!(Draft.transition(Pending), Ok(Pending));
        assert!(
            Draft.transition(Processing).is_err(),
            "a draft never starts"
        );
        assert!(Pending.transition(Draft).is_err());
        assert!(Processing.transition(Pending).is_err());
    }

    #[test]
    fn counters_and_progress() {
        let now = Utc::now();
        let mut c = Campaign {
            id: CampaignId::new(),
            subject: "s".into(),
            status: CampaignStatus::Processing,
            total_emails: 8,
            sent_emails: 5,
            failed_emails: 1,
            duplicates_removed: 0,
            created_at: now,
            started_at: Some(now),
            completed_at: None,
            updated_at: now,
        };
        assert_eq!(c.pending_emails(), 2);
        assert!((c.progress() - 75.0).abs() < f64::EPSILON);
        c.total_emails = 0;
        c.sent_emails = 0;
        c.failed_emails = 0;
        assert!((c.progress() - 100.0).abs() < f64::EPSILON);
    }
}
