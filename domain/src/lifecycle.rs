//! A stored campaign (`EmailJob`): its counters, the states it moves through, which failed
//! recipients a retry sends again, and which campaigns a listing shows.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::IllegalTransition;
use crate::campaign::Subject;
use crate::ids::CampaignId;

/// `PENDING -> PROCESSING -> COMPLETED | FAILED`, with a pause on the way and a cancel that
/// ends it (see [`transition`](Self::transition)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CampaignStatus {
    /// Stored and held: nothing sends it until a key that may send releases it (`PENDING`).
    Draft,
    /// To be sent at its `scheduledAt`: its queue job is a delayed one, due then.
    Scheduled,
    Pending,
    Processing,
    /// Stopped by a user: nothing is sent until it is resumed (`PENDING` again, with a new
    /// queue job). Its pending recipients stay pending.
    Paused,
    Completed,
    Failed,
    /// Stopped for good by a user: its recipients not sent by then are `CANCELLED`.
    Cancelled,
}

impl CampaignStatus {
    pub const ALL: [Self; 8] = [
        Self::Draft,
        Self::Scheduled,
        Self::Pending,
        Self::Processing,
        Self::Paused,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Scheduled => "SCHEDULED",
            Self::Pending => "PENDING",
            Self::Processing => "PROCESSING",
            Self::Paused => "PAUSED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// Nothing will be sent for it unless a user acts: completed, failed (both may have their
    /// failed recipients retried) or cancelled (which nothing moves).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// Whether its failed recipients may be sent again: it finished by itself.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }

    /// Pending or processing: a queue job should be delivering it. Not a draft (held), not a
    /// final campaign.
    pub fn awaits_delivery(&self) -> bool {
        matches!(self, Self::Pending | Self::Processing)
    }

    /// Legal moves: a draft is released for sending (at once, or scheduled); a scheduled one is
    /// sent now, moved to another time, or started by a worker once due; a worker starts (or
    /// resumes) a campaign,
    /// then finishes it; a user pauses a campaign being sent and resumes it (`PENDING` again);
    /// a user cancels anything not yet finished; a finished one goes back to `PENDING` when its
    /// failed recipients are retried. A draft never starts; nothing moves a cancelled campaign.
    pub fn transition(self, to: Self) -> Result<Self, IllegalTransition> {
        use CampaignStatus::*;
        match (self, to) {
            (Draft | Scheduled | Completed | Failed | Paused, Pending)
            | (Draft | Scheduled, Scheduled)
            | (Scheduled | Pending | Processing, Processing)
            | (Pending | Processing, Paused)
            | (Processing, Completed | Failed)
            | (Pending, Failed)
            | (Draft | Scheduled | Pending | Processing | Paused, Cancelled) => Ok(to),
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

/// A user's move on a stored campaign. Each applies to some statuses only (the rest answer
/// "invalid state" and change nothing) and leaves the campaign in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Control {
    /// A draft is released for sending (`PENDING` with a queue job, or `SCHEDULED` with a
    /// delayed one when it has a send time still ahead); a scheduled campaign is sent now.
    Send,
    /// A campaign waiting for or being sent stops taking new messages (`PAUSED`).
    Pause,
    /// A paused campaign is sent on from where it stopped (`PENDING`, with a new queue job).
    Resume,
    /// Anything not finished stops for good: its pending recipients become `CANCELLED`.
    Cancel,
}

impl Control {
    /// Whether the move applies to a campaign in `status`.
    pub fn applies_to(self, status: CampaignStatus) -> bool {
        use CampaignStatus::*;
        match self {
            Self::Send => matches!(status, Draft | Scheduled),
            Self::Pause => matches!(status, Pending | Processing),
            Self::Resume => status == Paused,
            Self::Cancel => status.transition(Cancelled).is_ok(),
        }
    }

    /// The status a campaign in `status`, to be sent at `scheduled_at`, is in after the move
    /// at `now`: a draft with a send time still ahead is released as `SCHEDULED`.
    pub fn target(
        self,
        status: CampaignStatus,
        scheduled_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> CampaignStatus {
        match self {
            Self::Send
                if status == CampaignStatus::Draft && scheduled_at.is_some_and(|at| at > now) =>
            {
                CampaignStatus::Scheduled
            }
            Self::Send | Self::Resume => CampaignStatus::Pending,
            Self::Pause => CampaignStatus::Paused,
            Self::Cancel => CampaignStatus::Cancelled,
        }
    }

    /// Whether the campaign needs a queue job afterwards.
    pub fn queues(self) -> bool {
        matches!(self, Self::Send | Self::Resume)
    }

    /// Whether a worker sending the campaign must stop taking new messages.
    pub fn stops_sending(self) -> bool {
        matches!(self, Self::Pause | Self::Cancel)
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

/// A listing's search text: not blank, at most `max` characters and no control characters
/// as submitted (as the API's schema states it); kept trimmed.
pub(crate) fn search_text(
    search: Option<&str>,
    max: usize,
) -> Result<Option<String>, CampaignFilterError> {
    let Some(raw) = search else {
        return Ok(None);
    };
    let text = raw.trim();
    if text.is_empty() {
        Err(CampaignFilterError::Blank)
    } else if raw.chars().any(char::is_control) {
        Err(CampaignFilterError::ControlCharacter)
    } else if raw.chars().count() > max {
        Err(CampaignFilterError::TooLong { max })
    } else {
        Ok(Some(text.to_owned()))
    }
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
        Ok(Self {
            status,
            subject_contains: search_text(search, Self::MAX_SEARCH_CHARS)?,
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
/// apart). `sent + failed + cancelled + pending == total` always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    pub subject: String,
    pub status: CampaignStatus,
    pub total_emails: u32,
    pub sent_emails: u32,
    pub failed_emails: u32,
    /// Recipients not sent because the campaign was cancelled.
    pub cancelled_emails: u32,
    /// Recipients never sent because their address was suppressed when it was stored.
    pub suppressed_emails: u32,
    pub duplicates_removed: u32,
    /// When it is to be sent (a scheduled campaign, or a draft given a send time).
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Why the worker stopped it before every recipient was tried (the failure threshold, too
    /// many failed runs); cleared when its failed recipients are retried.
    pub stop_reason: Option<String>,
    /// Whether its subject or body has merge tags, rendered per recipient.
    pub merge_tags: bool,
    /// Its own `From` (name and address) and `Reply-To`; `None`: the worker's `MAIL_FROM`, no
    /// `Reply-To`.
    pub from_name: Option<String>,
    pub from_email: Option<String>,
    pub reply_to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Campaign {
    pub fn pending_emails(&self) -> u32 {
        self.total_emails.saturating_sub(
            self.sent_emails
                .saturating_add(self.failed_emails)
                .saturating_add(self.cancelled_emails)
                .saturating_add(self.suppressed_emails),
        )
    }

    /// Percent of recipients with a final outcome (cancelled included), 0 to 100. An empty
    /// campaign is 100% done.
    pub fn progress(&self) -> f64 {
        if self.total_emails == 0 {
            return 100.0;
        }
        let done = f64::from(self.sent_emails)
            + f64::from(self.failed_emails)
            + f64::from(self.cancelled_emails)
            + f64::from(self.suppressed_emails);
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
        assert_eq!(Processing.transition(Paused), Ok(Paused));
        assert_eq!(Pending.transition(Paused), Ok(Paused));
        assert_eq!(Paused.transition(Pending), Ok(Pending), "resumed");
        assert!(Paused.transition(Processing).is_err(), "resumed with a job");
        assert!(Paused.transition(Completed).is_err());
        assert!(Draft.transition(Paused).is_err());
        for from in [Draft, Scheduled, Pending, Processing, Paused] {
            assert_eq!(from.transition(Cancelled), Ok(Cancelled), "{from}");
        }
        assert_eq!(Scheduled.transition(Processing), Ok(Processing), "due");
        assert_eq!(Scheduled.transition(Scheduled), Ok(Scheduled), "moved");
        assert!(Scheduled.transition(Paused).is_err());
        for to in CampaignStatus::ALL {
            assert!(
                Cancelled.transition(to).is_err(),
                "cancelled is final: {to}"
            );
        }
        assert!(Completed.transition(Cancelled).is_err());
        assert!(Cancelled.is_final() && !Cancelled.is_retryable());
        assert!(Completed.is_retryable() && Failed.is_retryable());
    }

    #[test]
    fn each_control_applies_to_the_statuses_it_names_and_moves_legally() {
        use CampaignStatus::*;
        let allowed = |control: Control| -> Vec<CampaignStatus> {
            CampaignStatus::ALL
                .into_iter()
                .filter(|s| control.applies_to(*s))
                .collect()
        };
        assert_eq!(allowed(Control::Send), [Draft, Scheduled]);
        assert_eq!(allowed(Control::Pause), [Pending, Processing]);
        assert_eq!(allowed(Control::Resume), [Paused]);
        assert_eq!(
            allowed(Control::Cancel),
            [Draft, Scheduled, Pending, Processing, Paused]
        );
        let now = Utc::now();
        let ahead = Some(now + chrono::TimeDelta::minutes(1));
        assert_eq!(Control::Send.target(Draft, ahead, now), Scheduled);
        assert_eq!(Control::Send.target(Draft, Some(now), now), Pending);
        assert_eq!(Control::Send.target(Draft, None, now), Pending);
        assert_eq!(Control::Send.target(Scheduled, ahead, now), Pending, "now");
        for control in [
            Control::Send,
            Control::Pause,
            Control::Resume,
            Control::Cancel,
        ] {
            for from in allowed(control) {
                for scheduled_at in [None, ahead] {
                    let to = control.target(from, scheduled_at, now);
                    assert_eq!(from.transition(to), Ok(to), "{control:?} from {from}");
                }
            }
        }
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
            cancelled_emails: 0,
            suppressed_emails: 0,
            duplicates_removed: 0,
            scheduled_at: None,
            stop_reason: None,
            merge_tags: false,
            from_name: None,
            from_email: None,
            reply_to: None,
            created_at: now,
            started_at: Some(now),
            completed_at: None,
            updated_at: now,
        };
        assert_eq!(c.pending_emails(), 2);
        assert!((c.progress() - 75.0).abs() < f64::EPSILON);
        c.cancelled_emails = 2;
        assert_eq!(c.pending_emails(), 0);
        assert!((c.progress() - 100.0).abs() < f64::EPSILON);
        c.cancelled_emails = 0;
        c.total_emails = 0;
        c.sent_emails = 0;
        c.failed_emails = 0;
        assert!((c.progress() - 100.0).abs() < f64::EPSILON);
    }
}
