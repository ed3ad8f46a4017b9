//! Changes to a campaign not sent yet (a draft or a scheduled one), and which of a campaign's
//! recipients a duplicate takes.

use chrono::{DateTime, Utc};

use crate::campaign::{
    HtmlBody, NewCampaignError, RecipientInput, Subject, ValidationErrors, check_schedule,
    parse_recipients,
};
use crate::recipient::NewRecipient;
use crate::template::{MessageTemplate, TemplatePart, has_tags};

/// A change as submitted: each field left out (`None`) stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignEditInput {
    pub subject: Option<String>,
    pub body: Option<String>,
    /// The whole new list, replacing the old one.
    pub recipients: Option<Vec<RecipientInput>>,
    /// `Some(None)` takes the send time away (a draft only).
    pub scheduled_at: Option<Option<DateTime<Utc>>>,
}

/// A valid change, validated with the rules of a new campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignEdit {
    pub subject: Option<Subject>,
    pub body: Option<HtmlBody>,
    /// The new list, duplicates removed, and how many were.
    pub recipients: Option<(Vec<NewRecipient>, usize)>,
    pub scheduled_at: Option<Option<DateTime<Utc>>>,
    /// Whether the edited campaign has merge tags, once the use case knows (it reads the parts
    /// the edit leaves as they are); `None` leaves the stored flag.
    pub merge_tags: Option<bool>,
}

impl CampaignEdit {
    /// Validates every field given, as [`NewCampaign::parse`](crate::NewCampaign::parse) does,
    /// and reports every problem at once. A change that changes nothing is refused.
    pub fn parse(
        input: CampaignEditInput,
        max_recipients: usize,
        now: DateTime<Utc>,
    ) -> Result<Self, NewCampaignError> {
        if let Some(list) = &input.recipients
            && list.len() > max_recipients
        {
            return Err(NewCampaignError::TooManyRecipients {
                max: max_recipients,
                got: list.len(),
            });
        }
        let mut errors = ValidationErrors::default();
        if input == CampaignEditInput::default() {
            errors.fields.push((
                "body",
                "nothing to change: give a subject, body, recipients or scheduledAt".into(),
            ));
            return Err(NewCampaignError::Invalid(errors));
        }
        let subject = input.subject.map(|raw| {
            Subject::parse(&raw)
                .map_err(|e| errors.fields.push(("subject", e.to_string())))
                .ok()
        });
        let body = input.body.map(|raw| {
            HtmlBody::parse(raw)
                .map_err(|e| errors.fields.push(("body", e.to_string())))
                .ok()
        });
        let scheduled_at = input.scheduled_at.map(|at| {
            at.map(|at| {
                check_schedule(at, now)
                    .map_err(|e| errors.fields.push(("scheduledAt", e.to_string())))
                    .ok()
            })
        });
        let recipients = input.recipients.map(|list| {
            let parsed = parse_recipients(list, &mut errors);
            (parsed.recipients, parsed.duplicates_removed)
        });
        // The syntax of what changes; values are checked against recipients at creation.
        for (part, source) in [
            (
                TemplatePart::Subject,
                subject
                    .as_ref()
                    .and_then(|s| s.as_ref().map(Subject::as_str)),
            ),
            (
                TemplatePart::Body,
                body.as_ref().and_then(|b| b.as_ref().map(HtmlBody::as_str)),
            ),
        ] {
            if let Some(source) = source.filter(|s| has_tags(s)) {
                let (s, b) = match part {
                    TemplatePart::Subject => (source, ""),
                    TemplatePart::Body => ("", source),
                };
                if let Err(e) = MessageTemplate::compile(s, b) {
                    errors
                        .fields
                        .push((e.part.field(), format!("merge tags: {}", e.message)));
                }
            }
        }
        if errors.fields.is_empty() && errors.invalid_recipient_count == 0 {
            Ok(Self {
                subject: subject.flatten(),
                body: body.flatten(),
                recipients,
                scheduled_at: scheduled_at.map(Option::flatten),
                merge_tags: None,
            })
        } else {
            Err(NewCampaignError::Invalid(errors))
        }
    }
}

/// Which recipients a duplicate of a campaign takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicateRecipients {
    /// Every one.
    #[default]
    All,
    /// Those that failed.
    Failed,
    /// Those not sent: failed, cancelled, or still pending.
    Unsent,
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn recipients(emails: &[&str]) -> Vec<RecipientInput> {
        emails.iter().map(|e| RecipientInput::address(*e)).collect()
    }

    #[test]
    fn an_edit_validates_what_it_changes_and_nothing_else() {
        let now = Utc::now();
        let edit = CampaignEdit::parse(
            CampaignEditInput {
                subject: Some(" New subject ".into()),
                recipients: Some(recipients(&["a@x.org", "A@x.org", "b@x.org"])),
                ..CampaignEditInput::default()
            },
            10,
            now,
        )
        .expect("valid");
        assert_eq!(
            edit.subject.map(|s| s.as_str().to_owned()),
            Some("New subject".into())
        );
        assert_eq!(edit.body, None, "left as it is");
        let (list, dropped) = edit.recipients.expect("a new list");
        assert_eq!((list.len(), dropped), (2, 1));
        assert_eq!(edit.scheduled_at, None);

        let cleared = CampaignEdit::parse(
            CampaignEditInput {
                scheduled_at: Some(None),
                ..CampaignEditInput::default()
            },
            10,
            now,
        )
        .expect("valid");
        assert_eq!(cleared.scheduled_at, Some(None));
    }

    #[test]
    fn a_bad_edit_reports_every_problem_and_an_empty_one_is_refused() {
        let now = Utc::now();
        let Err(NewCampaignError::Invalid(errors)) = CampaignEdit::parse(
            CampaignEditInput {
                subject: Some(" ".into()),
                body: Some(String::new()),
                recipients: Some(recipients(&["nope"])),
                scheduled_at: Some(Some(now - TimeDelta::minutes(1))),
            },
            10,
            now,
        ) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.fields.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["subject", "body", "scheduledAt"]);
        assert_eq!(errors.invalid_recipient_count, 1);
        assert!(matches!(
            CampaignEdit::parse(CampaignEditInput::default(), 10, now),
            Err(NewCampaignError::Invalid(_))
        ));
        assert!(matches!(
            CampaignEdit::parse(
                CampaignEditInput {
                    recipients: Some(recipients(&["a@x.org", "b@x.org"])),
                    ..CampaignEditInput::default()
                },
                1,
                now
            ),
            Err(NewCampaignError::TooManyRecipients { max: 1, got: 2 })
        ));
    }
}
