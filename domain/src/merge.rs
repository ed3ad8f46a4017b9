//! Merge tags checked against a campaign's recipients before anything is stored, and one
//! recipient's message rendered for a preview.

use crate::campaign::{
    HtmlBody, InvalidRecipient, NewCampaignError, ParsedRecipients, RecipientInput, Subject,
    ValidationErrors, parse_recipients,
};
use crate::recipient::{NewRecipient, RecipientName};
use crate::template::{MessageTemplate, MessageVars, RenderedMessage, group_by_missing, has_tags};

/// What `unsubscribe_url` is while the tags are checked (any URL would do).
const CHECK_UNSUBSCRIBE_URL: &str = "https://paloma.invalid/u/check";

/// The variables one recipient renders with.
pub(crate) fn message_vars(recipient: &NewRecipient, unsubscribe_url: &str) -> MessageVars {
    MessageVars {
        email: recipient.email.as_str().to_owned(),
        name: recipient.name.as_ref().map(|n| n.as_str().to_owned()),
        fields: recipient.fields.clone(),
        unsubscribe_url: unsubscribe_url.to_owned(),
    }
}

/// Checks the merge tags of a subject and a body, if they have any, into `errors`: the syntax,
/// and that every recipient has a value for each tag (or the template gives a default).
/// Recipients lacking the same fields are one case: one of each is rendered. Returns whether
/// there are merge tags.
pub(crate) fn check_merge_tags(
    subject: &Subject,
    body: &HtmlBody,
    parsed: &ParsedRecipients,
    errors: &mut ValidationErrors,
) -> bool {
    if !has_tags(subject.as_str()) && !has_tags(body.as_str()) {
        return false;
    }
    let template = match MessageTemplate::compile(subject.as_str(), body.as_str()) {
        Ok(template) => template,
        Err(e) => {
            errors
                .fields
                .push((e.part.field(), format!("merge tags: {}", e.message)));
            return true;
        }
    };
    let variables = template.variables();
    // An error that does not depend on a missing value (a filter given the wrong type, ...).
    if let Some(first) = parsed.recipients.first()
        && let Err(e) = template.render(message_vars(first, CHECK_UNSUBSCRIBE_URL))
        && group_by_missing(
            &variables,
            [(
                0,
                first.name.as_ref().map(RecipientName::as_str),
                &first.fields,
            )],
        )
        .is_empty()
    {
        errors
            .fields
            .push((e.part.field(), format!("merge tags: {}", e.message)));
        return true;
    }
    let cases = group_by_missing(
        &variables,
        parsed
            .recipients
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.name.as_ref().map(RecipientName::as_str), &r.fields)),
    );
    for (missing, members) in cases {
        let probe = &parsed.recipients[members[0]];
        let Err(e) = template.render(message_vars(probe, CHECK_UNSUBSCRIBE_URL)) else {
            continue;
        };
        let tags = missing
            .iter()
            .map(|m| format!("{{{{ {m} }}}}"))
            .collect::<Vec<_>>()
            .join(", ");
        let first: Vec<String> = members
            .iter()
            .take(5)
            .map(|&i| parsed.indexes[i].to_string())
            .collect();
        errors.fields.push((
            e.part.field(),
            format!(
                "merge tags: {tags} has no value for {} recipient(s) (the first at index {}); \
                 give each that field, or a default: {{{{ {} | default(\"...\") }}}}",
                members.len(),
                first.join(", "),
                missing[0]
            ),
        ));
        for &i in &members {
            errors.invalid_recipient_count += 1;
            if errors.invalid_recipients.len() < ValidationErrors::MAX_LISTED {
                errors.invalid_recipients.push(InvalidRecipient {
                    index: parsed.indexes[i],
                    value: parsed.recipients[i].email.as_str().to_owned(),
                    reason: format!("no value for {tags}"),
                });
            }
        }
    }
    true
}

/// What `unsubscribe_url` reads in a preview: the link each recipient gets is made when the
/// message is sent.
pub const PREVIEW_UNSUBSCRIBE_URL: &str = "https://paloma.invalid/u/preview";

/// One recipient's message, rendered as it would be sent, with every rule of creation: a
/// subject, body or recipient that creation would refuse is refused the same way (the
/// recipient at index 0). Nothing is stored.
pub fn preview(
    subject: &str,
    body: String,
    recipient: RecipientInput,
) -> Result<RenderedMessage, NewCampaignError> {
    let mut errors = ValidationErrors::default();
    let subject = Subject::parse(subject)
        .map_err(|e| errors.fields.push(("subject", e.to_string())))
        .ok();
    let body = HtmlBody::parse(body)
        .map_err(|e| errors.fields.push(("body", e.to_string())))
        .ok();
    let parsed = parse_recipients(vec![recipient], &mut errors);
    let (Some(subject), Some(body)) = (subject, body) else {
        return Err(NewCampaignError::Invalid(errors));
    };
    check_merge_tags(&subject, &body, &parsed, &mut errors);
    let Some(recipient) = parsed.recipients.first().filter(|_| errors.is_empty()) else {
        return Err(NewCampaignError::Invalid(errors));
    };
    MessageTemplate::new(subject.as_str(), body.as_str())
        .and_then(|t| t.render(message_vars(recipient, PREVIEW_UNSUBSCRIBE_URL)))
        .map_err(|e| {
            errors
                .fields
                .push((e.part.field(), format!("merge tags: {}", e.message)));
            NewCampaignError::Invalid(errors)
        })
}

/// Checks a campaign's merge tags against recipients already validated (an edited template
/// against the stored list, or a new list against the stored template), as creation checks
/// them; `index` in the errors is the position in `recipients`.
pub fn check_tags(
    subject: &str,
    body: &str,
    recipients: Vec<NewRecipient>,
) -> Result<(), NewCampaignError> {
    let mut errors = ValidationErrors::default();
    let (Ok(subject), Ok(body)) = (Subject::parse(subject), HtmlBody::parse(body.to_owned()))
    else {
        // Stored content always parses; a new one was parsed by the caller.
        return Ok(());
    };
    let parsed = ParsedRecipients {
        indexes: (0..recipients.len()).collect(),
        recipients,
        duplicates_removed: 0,
    };
    check_merge_tags(&subject, &body, &parsed, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(NewCampaignError::Invalid(errors))
    }
}
