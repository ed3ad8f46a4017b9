//! A new campaign (`EmailJob`): what a user submits and how it is validated. What is stored,
//! and how it moves, is in [`lifecycle`](crate::lifecycle).

use std::collections::HashSet;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::fields::RecipientFields;
use crate::lifecycle::CampaignStatus;
use crate::merge::check_merge_tags;
use crate::recipient::{EmailAddress, NewRecipient, RecipientName};
use crate::sender::{CampaignSender, FromInput};

/// A subject line: not blank, at most 255 characters, one line (it becomes a header, so CR/LF
/// would be header injection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    #[error("the subject is empty")]
    Empty,
    #[error("the subject is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the subject must be one line: no CR, LF or other control characters")]
    ForbiddenCharacters,
}

impl Subject {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, SubjectError> {
        if raw.chars().any(char::is_control) {
            return Err(SubjectError::ForbiddenCharacters);
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(SubjectError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(SubjectError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The HTML body: not blank, at most [`HtmlBody::MAX_BYTES`]. It is sent as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlBody(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is empty")]
    Empty,
    #[error("the body is larger than {max} bytes")]
    TooLarge { max: usize },
}

impl HtmlBody {
    /// 2 MiB: far above any sane newsletter, and below what MySQL's MEDIUMTEXT holds.
    pub const MAX_BYTES: usize = 2 * 1024 * 1024;

    pub fn parse(raw: String) -> Result<Self, BodyError> {
        if raw.trim().is_empty() {
            return Err(BodyError::Empty);
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(BodyError::TooLarge {
                max: Self::MAX_BYTES,
            });
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One recipient as submitted, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecipientInput {
    pub email: String,
    pub name: Option<String>,
    /// Its data for merge tags, `(name, value)`.
    pub fields: Vec<(String, String)>,
}

impl RecipientInput {
    /// A bare address.
    pub fn address(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            ..Self::default()
        }
    }
}

/// A campaign as submitted, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaignInput {
    pub subject: String,
    pub body: String,
    pub recipients: Vec<RecipientInput>,
    /// When to send it; `None`: as soon as possible.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Its own `From`, instead of the worker's `MAIL_FROM`.
    pub from: Option<FromInput>,
    /// Its `Reply-To`.
    pub reply_to: Option<String>,
}

/// Why a send time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the time to send it must be in the future")]
    InThePast,
    #[error("the time to send it must be at most a year ahead")]
    TooFarAhead,
}

/// Checks a send time against `now`: in the future, at most [`MAX_SCHEDULE_AHEAD`] ahead.
/// Returns it to the millisecond (what the database keeps).
pub fn check_schedule(
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ScheduleError> {
    let at = at.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(at);
    if at <= now {
        return Err(ScheduleError::InThePast);
    }
    if at - now > MAX_SCHEDULE_AHEAD {
        return Err(ScheduleError::TooFarAhead);
    }
    Ok(at)
}

/// How far ahead a campaign may be scheduled: a year.
pub const MAX_SCHEDULE_AHEAD: TimeDelta = TimeDelta::days(365);

/// One recipient entry that failed validation: its 0-based position in the submitted list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRecipient {
    pub index: usize,
    pub value: String,
    pub reason: String,
}

/// Why a submitted campaign was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewCampaignError {
    #[error("too many recipients: {got}, the limit is {max}")]
    TooManyRecipients { max: usize, got: usize },
    #[error("the campaign has invalid fields")]
    Invalid(ValidationErrors),
}

/// Every problem found in one submission, so the user can fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors {
    /// `(field, message)` for subject, body and the recipients list as a whole.
    pub fields: Vec<(&'static str, String)>,
    /// The first [`ValidationErrors::MAX_LISTED`] invalid recipients.
    pub invalid_recipients: Vec<InvalidRecipient>,
    /// How many recipients are invalid in all.
    pub invalid_recipient_count: usize,
}

impl ValidationErrors {
    pub const MAX_LISTED: usize = 100;

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.invalid_recipient_count == 0
    }
}

/// A valid campaign, ready to store: duplicates (case-insensitive) already removed, first
/// occurrence kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub subject: Subject,
    pub body: HtmlBody,
    pub recipients: Vec<NewRecipient>,
    pub duplicates_removed: usize,
    /// Stored as a `DRAFT` (held until a key that may send releases it) rather than `PENDING`.
    /// [`NewCampaign::parse`] makes a campaign to send; the use case decides.
    pub draft: bool,
    /// When to send it (checked against the time of the request); `None`: at once.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Whether the subject or the body has merge tags (checked against every recipient): the
    /// worker renders them per recipient. Without, the message is sent as it is.
    pub merge_tags: bool,
    /// Its own `From` and `Reply-To` (syntax checked; the allowed domains are the use case's).
    pub sender: CampaignSender,
}

impl NewCampaign {
    /// The status it is stored with: a draft, scheduled, or pending (to send at once).
    pub fn initial_status(&self) -> CampaignStatus {
        if self.draft {
            CampaignStatus::Draft
        } else if self.scheduled_at.is_some() {
            CampaignStatus::Scheduled
        } else {
            CampaignStatus::Pending
        }
    }

    /// Validates everything and reports every problem at once. `max_recipients` counts the
    /// submitted entries, before duplicates are removed; a send time is checked against `now`.
    pub fn parse(
        input: NewCampaignInput,
        max_recipients: usize,
        now: DateTime<Utc>,
    ) -> Result<Self, NewCampaignError> {
        if input.recipients.len() > max_recipients {
            return Err(NewCampaignError::TooManyRecipients {
                max: max_recipients,
                got: input.recipients.len(),
            });
        }
        let mut errors = ValidationErrors::default();
        let subject = Subject::parse(&input.subject)
            .map_err(|e| errors.fields.push(("subject", e.to_string())))
            .ok();
        let body = HtmlBody::parse(input.body)
            .map_err(|e| errors.fields.push(("body", e.to_string())))
            .ok();
        let scheduled_at = input
            .scheduled_at
            .map(|at| check_schedule(at, now))
            .transpose()
            .map_err(|e| errors.fields.push(("scheduledAt", e.to_string())))
            .ok()
            .flatten();

        let sender = CampaignSender::parse(input.from, input.reply_to.as_deref())
            .map_err(|e| errors.fields.extend(e))
            .unwrap_or_default();
        let parsed = parse_recipients(input.recipients, &mut errors);
        let merge_tags = match (&subject, &body) {
            (Some(subject), Some(body)) => check_merge_tags(subject, body, &parsed, &mut errors),
            _ => false,
        };

        match (subject, body) {
            (Some(subject), Some(body)) if errors.is_empty() => Ok(Self {
                subject,
                body,
                recipients: parsed.recipients,
                duplicates_removed: parsed.duplicates_removed,
                draft: false,
                scheduled_at,
                merge_tags,
                sender,
            }),
            _ => Err(NewCampaignError::Invalid(errors)),
        }
    }
}

/// A validated recipient list.
pub(crate) struct ParsedRecipients {
    /// Duplicates (case-insensitive) removed, first occurrence kept.
    pub recipients: Vec<NewRecipient>,
    /// Each recipient's position in the submitted list.
    pub indexes: Vec<usize>,
    pub duplicates_removed: usize,
}

/// Validates a recipient list (at least one entry) into `errors`.
pub(crate) fn parse_recipients(
    input: Vec<RecipientInput>,
    errors: &mut ValidationErrors,
) -> ParsedRecipients {
    if input.is_empty() {
        errors
            .fields
            .push(("recipients", "at least one recipient is required".into()));
    }
    let mut seen = HashSet::with_capacity(input.len());
    let mut recipients = Vec::with_capacity(input.len());
    let mut indexes = Vec::with_capacity(input.len());
    let mut duplicates_removed = 0;
    for (index, raw) in input.into_iter().enumerate() {
        let parsed = EmailAddress::parse(&raw.email)
            .map_err(|e| e.to_string())
            .and_then(|email| {
                let name = RecipientName::parse(raw.name.as_deref()).map_err(|e| e.to_string())?;
                let fields = RecipientFields::parse(raw.fields).map_err(|e| e.to_string())?;
                Ok(NewRecipient {
                    email,
                    name,
                    fields,
                })
            });
        match parsed {
            Ok(recipient) => {
                if seen.insert(recipient.email.dedup_key()) {
                    recipients.push(recipient);
                    indexes.push(index);
                } else {
                    duplicates_removed += 1;
                }
            }
            Err(reason) => {
                errors.invalid_recipient_count += 1;
                if errors.invalid_recipients.len() < ValidationErrors::MAX_LISTED {
                    errors.invalid_recipients.push(InvalidRecipient {
                        index,
                        value: truncate_chars(&raw.email, 320),
                        reason,
                    });
                }
            }
        }
    }
    ParsedRecipients {
        recipients,
        indexes,
        duplicates_removed,
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn input(recipients: &[&str]) -> NewCampaignInput {
        NewCampaignInput {
            subject: "Hello".into(),
            body: "<p>Hi</p>".into(),
            recipients: recipients
                .iter()
                .map(|e| RecipientInput::address(*e))
                .collect(),
            scheduled_at: None,
            from: None,
            reply_to: None,
        }
    }

    #[test]
    fn a_send_time_must_be_ahead_and_within_a_year_and_is_kept_to_the_millisecond() {
        let now = Utc::now();
        let at = now + TimeDelta::minutes(5) + TimeDelta::microseconds(1_234);
        let kept = check_schedule(at, now).expect("ahead");
        assert_eq!(kept.timestamp_subsec_micros() % 1000, 0);
        assert!(kept <= at && at - kept < TimeDelta::milliseconds(1));
        assert_eq!(check_schedule(now, now), Err(ScheduleError::InThePast));
        assert_eq!(
            check_schedule(now - TimeDelta::seconds(1), now),
            Err(ScheduleError::InThePast)
        );
        assert!(check_schedule(now + MAX_SCHEDULE_AHEAD, now).is_ok());
        assert_eq!(
            check_schedule(now + MAX_SCHEDULE_AHEAD + TimeDelta::seconds(1), now),
            Err(ScheduleError::TooFarAhead)
        );

        let mut scheduled = input(&["a@x.org"]);
        scheduled.scheduled_at = Some(at);
        let c = NewCampaign::parse(scheduled.clone(), 10, now).expect("valid");
        assert_eq!(c.scheduled_at, Some(kept));
        assert_eq!(c.initial_status(), CampaignStatus::Scheduled);
        scheduled.scheduled_at = Some(now - TimeDelta::days(1));
        scheduled.subject = String::new();
        let Err(NewCampaignError::Invalid(errors)) = NewCampaign::parse(scheduled, 10, now) else {
            panic!("a past time is refused");
        };
        let fields: Vec<&str> = errors.fields.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["subject", "scheduledAt"], "every problem at once");
    }

    #[test]
    fn subject_rules() {
        assert_eq!(
            Subject::parse("  Hi there ").map(|s| s.as_str().to_owned()),
            Ok("Hi there".into())
        );
        assert_eq!(Subject::parse(" "), Err(SubjectError::Empty));
        assert_eq!(
            Subject::parse("a\r\nBcc: x@y.z"),
            Err(SubjectError::ForbiddenCharacters)
        );
        assert_eq!(
            Subject::parse("a\nb"),
            Err(SubjectError::ForbiddenCharacters)
        );
        assert!(Subject::parse(&"é".repeat(255)).is_ok());
        assert_eq!(
            Subject::parse(&"é".repeat(256)),
            Err(SubjectError::TooLong { max: 255 })
        );
    }

    #[test]
    fn body_rules() {
        assert_eq!(HtmlBody::parse(" \n ".into()), Err(BodyError::Empty));
        assert!(HtmlBody::parse("<b>x</b>".into()).is_ok());
        assert!(HtmlBody::parse("x".repeat(HtmlBody::MAX_BYTES + 1)).is_err());
    }

    #[test]
    fn duplicates_are_removed_case_insensitively_keeping_the_first() {
        let c = NewCampaign::parse(
            input(&["A@x.org", "b@x.org", "a@X.org", " b@x.org "]),
            10,
            Utc::now(),
        )
        .expect("valid");
        let emails: Vec<_> = c.recipients.iter().map(|r| r.email.as_str()).collect();
        assert_eq!(emails, ["A@x.org", "b@x.org"]);
        assert_eq!(c.duplicates_removed, 2);
    }

    #[test]
    fn every_problem_is_reported_with_its_index() {
        let mut bad = input(&["ok@x.org", "nope", "also@ok.org", ""]);
        bad.subject = "two\nlines".into();
        bad.body = String::new();
        let Err(NewCampaignError::Invalid(errors)) = NewCampaign::parse(bad, 10, Utc::now()) else {
            panic!("expected validation errors");
        };
        let fields: Vec<_> = errors.fields.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["subject", "body"]);
        assert_eq!(errors.invalid_recipient_count, 2);
        let idx: Vec<_> = errors
            .invalid_recipients
            .iter()
            .map(|r| (r.index, r.value.as_str()))
            .collect();
        assert_eq!(idx, [(1, "nope"), (3, "")]);
    }

    #[test]
    fn only_the_first_hundred_invalid_entries_are_listed() {
        let many: Vec<String> = (0..150).map(|i| format!("bad{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let Err(NewCampaignError::Invalid(errors)) =
            NewCampaign::parse(input(&refs), 1000, Utc::now())
        else {
            panic!("expected validation errors");
        };
        assert_eq!(errors.invalid_recipient_count, 150);
        assert_eq!(errors.invalid_recipients.len(), 100);
        assert_eq!(errors.invalid_recipients[99].index, 99);
    }

    #[test]
    fn empty_and_oversized_lists_are_refused() {
        let Err(NewCampaignError::Invalid(errors)) = NewCampaign::parse(input(&[]), 10, Utc::now())
        else {
            panic!("expected validation errors");
        };
        assert_eq!(errors.fields[0].0, "recipients");
        assert_eq!(
            NewCampaign::parse(input(&["a@x.org", "b@x.org", "c@x.org"]), 2, Utc::now()),
            Err(NewCampaignError::TooManyRecipients { max: 2, got: 3 })
        );
    }

    /// Adversarial input for the parsers: what a hostile or careless client can send. The
    /// strategies are shared with the recipient tests.
    pub(crate) mod adversarial {
        use proptest::prelude::*;

        use super::*;

        /// Every C0 and C1 control character and DEL: what `char::is_control` means.
        pub(crate) fn control_char() -> impl Strategy<Value = char> {
            prop_oneof![0u32..0x20, Just(0x7f), 0x80u32..0xa0]
                .prop_map(|c| char::from_u32(c).expect("a control character is a scalar value"))
        }

        /// Text mixing any Unicode scalar with the characters that break headers or renderers:
        /// controls, line and paragraph separators, bidi overrides, combining marks, BOM,
        /// emoji, and the RFC 2047 / address punctuation.
        pub(crate) fn hostile_text(max_chars: usize) -> impl Strategy<Value = String> {
            let special = prop::sample::select(vec![
                '\r', '\n', '\t', '\0', '\u{85}', '\u{2028}', '\u{2029}', '\u{202e}', '\u{200f}',
                '\u{200b}', '\u{feff}', '\u{301}', '\u{fe0f}', '😀', '👩', '\u{200d}', 'ע', ' ',
                ':', ';', '=', '?', '"', '<', '>', '@', ',', '\\',
            ]);
            prop::collection::vec(
                prop_oneof![any::<char>(), control_char(), special],
                0..max_chars,
            )
            .prop_map(|chars| chars.into_iter().collect())
        }

        /// An address: often plausible, sometimes hostile.
        fn address() -> impl Strategy<Value = String> {
            prop_oneof![
                6 => "[a-zA-Z0-9_%+-]{1,12}@[a-z0-9]{1,10}(\\.[a-z]{2,6}){0,2}",
                1 => hostile_text(30),
                1 => (hostile_text(4), "[a-z]{1,6}@[a-z]{1,6}\\.org", hostile_text(4))
                    .prop_map(|(a, b, c)| format!("{a}{b}{c}")),
            ]
        }

        fn recipient() -> impl Strategy<Value = RecipientInput> {
            let name =
                prop::option::of(prop_oneof![3 => "[\\p{L} .'-]{0,20}", 1 => hostile_text(20)]);
            (address(), name).prop_map(|(email, name)| RecipientInput {
                email,
                name,
                fields: Vec::new(),
            })
        }

        fn campaign_input() -> impl Strategy<Value = NewCampaignInput> {
            (
                prop_oneof![1 => hostile_text(40), 2 => "[\\p{L}\\p{So} ]{1,40}"],
                prop_oneof![1 => hostile_text(60), 2 => "<p>[\\p{L} ]{1,20}</p>"],
                prop::collection::vec(recipient(), 0..6),
            )
                .prop_map(|(subject, body, recipients)| NewCampaignInput {
                    scheduled_at: None,
                    from: None,
                    reply_to: None,
                    subject,
                    body,
                    recipients,
                })
        }

        proptest! {
            /// The parser never panics, and it accepts a campaign exactly when every part of it
            /// is valid on its own: no hostile value slips through, no valid one is refused.
            #[test]
            fn a_campaign_is_accepted_exactly_when_every_part_is_valid(
                input in campaign_input(),
                max in 0usize..10,
            ) {
                let subject_ok = Subject::parse(&input.subject).is_ok();
                let body_ok = HtmlBody::parse(input.body.clone()).is_ok();
                let bad_recipients = input
                    .recipients
                    .iter()
                    .filter(|r| {
                        EmailAddress::parse(&r.email).is_err()
                            || RecipientName::parse(r.name.as_deref()).is_err()
                    })
                    .count();
                let submitted = input.recipients.len();
                match NewCampaign::parse(input.clone(), max, Utc::now()) {
                    Ok(campaign) => {
                        prop_assert!(submitted <= max && submitted > 0);
                        prop_assert!(subject_ok && body_ok && bad_recipients == 0);
                        prop_assert!(!campaign.subject.as_str().contains(char::is_control));
                        for r in &campaign.recipients {
                            let email = r.email.as_str();
                            let unsafe_char = |c: char| c.is_control() || c.is_whitespace();
                            prop_assert!(!email.contains(unsafe_char));
                            let name = r.name.as_ref().map(RecipientName::as_str);
                            prop_assert!(name.is_none_or(|n| !n.contains(char::is_control)));
                        }
                        let kept = campaign.recipients.len();
                        prop_assert_eq!(kept + campaign.duplicates_removed, submitted);
                    }
                    Err(NewCampaignError::TooManyRecipients { max: m, got }) => {
                        prop_assert_eq!((m, got), (max, submitted));
                        prop_assert!(submitted > max);
                    }
                    Err(NewCampaignError::Invalid(errors)) => {
                        prop_assert!(submitted <= max);
                        let all_valid = subject_ok && body_ok && bad_recipients == 0;
                        prop_assert!(!all_valid || submitted == 0);
                        prop_assert_eq!(errors.invalid_recipient_count, bad_recipients);
                        for listed in &errors.invalid_recipients {
                            prop_assert!(listed.value.chars().count() <= 320);
                            prop_assert!(listed.index < submitted);
                        }
                    }
                }
            }

            /// A control character anywhere (CR, LF, NUL, NEL...) refuses the subject, even at
            /// its ends where trimming could have hidden it: it never becomes a header line.
            #[test]
            fn a_subject_with_a_control_character_is_refused(
                before in hostile_text(20),
                control in control_char(),
                header in prop::sample::select(vec![
                    "",
                    "Bcc: x@evil.test",
                    "X-Injected: yes",
                    "Content-Type: text/plain",
                ]),
            ) {
                let subject = format!("{before}{control}{header}");
                prop_assert_eq!(Subject::parse(&subject), Err(SubjectError::ForbiddenCharacters));
            }

            /// What is accepted is one trimmed line of 1 to 255 characters, and every such line
            /// is accepted, whatever its script, emoji, bidi or combining marks.
            #[test]
            fn a_subject_is_accepted_exactly_when_it_is_one_short_line(raw in hostile_text(300)) {
                let trimmed = raw.trim();
                let one_line = !raw.contains(char::is_control);
                let length = trimmed.chars().count();
                match Subject::parse(&raw) {
                    Ok(subject) => {
                        prop_assert_eq!(subject.as_str(), trimmed);
                        prop_assert!(one_line && length > 0 && length <= Subject::MAX_CHARS);
                    }
                    Err(SubjectError::ForbiddenCharacters) => prop_assert!(!one_line),
                    Err(SubjectError::Empty) => prop_assert!(one_line && length == 0),
                    Err(SubjectError::TooLong { .. }) => {
                        prop_assert!(one_line && length > Subject::MAX_CHARS);
                    }
                }
            }
        }
    }
}
