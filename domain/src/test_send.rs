//! Test sends: a campaign's message rendered for one sample recipient and sent at once to a
//! few of the user's own addresses, to be checked in a real inbox before the campaign goes out.

use crate::campaign::{NewCampaignError, RecipientInput, ValidationErrors, parse_recipients};
use crate::merge::{PREVIEW_UNSUBSCRIBE_URL, preview};
use crate::recipient::EmailAddress;
use crate::template::{MessageTemplate, MessageVars, RenderedMessage};

/// The most addresses one test send may go to.
pub const MAX_TEST_ADDRESSES: usize = 5;

/// What a test message's subject starts with, so that nobody takes it for the real one.
pub const TEST_SUBJECT_MARK: &str = "[Test] ";

/// Who a test message is rendered for.
#[derive(Debug, Clone)]
pub enum TestSample {
    /// A recipient the user typed (or picked from the list): checked as at creation.
    Given(RecipientInput),
    /// One of the campaign's own recipients, as stored (its `unsubscribe_url` is ignored).
    Stored(MessageVars),
}

/// The addresses a test send goes to: 1 to [`MAX_TEST_ADDRESSES`] valid addresses, a repeated
/// one (ignoring case) dropped. Problems are reported on the field `to`, with the position.
pub fn parse_test_addresses(raw: &[String]) -> Result<Vec<EmailAddress>, NewCampaignError> {
    let mut errors = ValidationErrors::default();
    if raw.is_empty() {
        errors
            .fields
            .push(("to", "give at least one address".to_owned()));
    } else if raw.len() > MAX_TEST_ADDRESSES {
        errors.fields.push((
            "to",
            format!(
                "a test goes to at most {MAX_TEST_ADDRESSES} addresses; {} were given",
                raw.len()
            ),
        ));
    }
    let mut addresses: Vec<EmailAddress> = Vec::with_capacity(raw.len());
    for (i, address) in raw.iter().enumerate().take(MAX_TEST_ADDRESSES) {
        match EmailAddress::parse(address) {
            Ok(parsed) => {
                if !addresses
                    .iter()
                    .any(|a| a.dedup_key() == parsed.dedup_key())
                {
                    addresses.push(parsed);
                }
            }
            Err(e) => errors.fields.push(("to", format!("address {i}: {e}"))),
        }
    }
    if errors.fields.is_empty() {
        Ok(addresses)
    } else {
        Err(NewCampaignError::Invalid(errors))
    }
}

/// A campaign's message for a test send, subject marked with [`TEST_SUBJECT_MARK`].
///
/// With `merge_tags` (the campaign was stored with tags) it is rendered for `sample` as the
/// preview renders it: a given recipient is checked as at creation, and `{{ unsubscribe_url }}`
/// reads [`PREVIEW_UNSUBSCRIBE_URL`] (a test must not carry a link that unsubscribes the sample
/// recipient). Without, the message is the campaign's as it is (a `{{` in it is text).
pub fn render_test(
    subject: &str,
    body: String,
    merge_tags: bool,
    sample: TestSample,
) -> Result<RenderedMessage, NewCampaignError> {
    if let (false, TestSample::Given(recipient)) = (merge_tags, &sample) {
        // Checked as at creation even though a message without tags does not read it.
        let mut errors = ValidationErrors::default();
        parse_recipients(vec![recipient.clone()], &mut errors);
        if !errors.is_empty() {
            return Err(NewCampaignError::Invalid(errors));
        }
    }
    let rendered = match (merge_tags, sample) {
        (false, _) => MessageTemplate::fixed(subject, &body)
            .render(MessageVars::default())
            .map_err(|e| template_error(e.part.field(), &e.message))?,
        (true, TestSample::Given(recipient)) => preview(subject, body, recipient)?,
        (true, TestSample::Stored(vars)) => MessageTemplate::compile(subject, &body)
            .and_then(|t| {
                t.render(MessageVars {
                    unsubscribe_url: PREVIEW_UNSUBSCRIBE_URL.to_owned(),
                    ..vars
                })
            })
            .map_err(|e| template_error(e.part.field(), &e.message))?,
    };
    Ok(RenderedMessage {
        subject: format!("{TEST_SUBJECT_MARK}{}", rendered.subject).into(),
        ..rendered
    })
}

fn template_error(field: &'static str, message: &str) -> NewCampaignError {
    NewCampaignError::Invalid(ValidationErrors {
        fields: vec![(field, format!("merge tags: {message}"))],
        ..ValidationErrors::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::RecipientFields;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn field_messages(e: NewCampaignError) -> Vec<(&'static str, String)> {
        match e {
            NewCampaignError::Invalid(errors) => errors.fields,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn test_addresses_are_one_to_five_valid_ones_without_repeats() {
        let parsed =
            parse_test_addresses(&strings(&["a@x.org", " b@x.org ", "A@X.org"])).expect("valid");
        let parsed: Vec<&str> = parsed.iter().map(EmailAddress::as_str).collect();
        assert_eq!(parsed, ["a@x.org", "b@x.org"]);

        let none = field_messages(parse_test_addresses(&[]).expect_err("empty"));
        assert_eq!(none, [("to", "give at least one address".to_owned())]);

        let six = strings(&[
            "1@x.org", "2@x.org", "3@x.org", "4@x.org", "5@x.org", "6@x.org",
        ]);
        let too_many = field_messages(parse_test_addresses(&six).expect_err("six"));
        assert_eq!(too_many.len(), 1);
        assert!(too_many[0].1.contains("at most 5"), "{too_many:?}");

        let bad = field_messages(
            parse_test_addresses(&strings(&["ok@x.org", "not an address"])).expect_err("bad"),
        );
        assert_eq!(bad.len(), 1);
        assert!(bad[0].1.starts_with("address 1: "), "{bad:?}");
    }

    #[test]
    fn a_test_message_is_marked_and_rendered_for_its_sample() {
        let given = RecipientInput {
            email: "ana@x.org".to_owned(),
            name: Some("Ana".to_owned()),
            fields: vec![("company".to_owned(), "Acme & Co".to_owned())],
        };
        let message = render_test(
            "Hi {{ name }}",
            "<p>{{ company }}</p><a href=\"{{ unsubscribe_url }}\">out</a>".to_owned(),
            true,
            TestSample::Given(given),
        )
        .expect("rendered");
        assert_eq!(&*message.subject, "[Test] Hi Ana");
        assert!(
            message.html.contains("<p>Acme &amp; Co</p>"),
            "{}",
            message.html
        );
        assert!(message.html.contains(PREVIEW_UNSUBSCRIBE_URL));
        assert!(message.text.contains("Acme & Co"), "{}", message.text);

        let stored = MessageVars {
            email: "bo@x.org".to_owned(),
            name: None,
            fields: RecipientFields::default(),
            unsubscribe_url: "https://real.example/u/secret".to_owned(),
        };
        let message = render_test(
            "For {{ email }}",
            "<a href=\"{{ unsubscribe_url }}\">out</a>".to_owned(),
            true,
            TestSample::Stored(stored),
        )
        .expect("rendered");
        assert_eq!(&*message.subject, "[Test] For bo@x.org");
        assert!(!message.html.contains("real.example"), "{}", message.html);
    }

    #[test]
    fn a_campaign_without_tags_is_sent_as_it_is_and_a_missing_value_is_refused() {
        let message = render_test(
            "Plain {{ x }}",
            "<p>{{ not a tag }}</p>".to_owned(),
            false,
            TestSample::Given(RecipientInput::address("a@x.org")),
        )
        .expect("as it is");
        assert_eq!(&*message.subject, "[Test] Plain {{ x }}");
        assert_eq!(&*message.html, "<p>{{ not a tag }}</p>");
        // The sample is checked all the same.
        let bad_name = RecipientInput {
            name: Some("\u{84}".to_owned()),
            ..RecipientInput::address("a@x.org")
        };
        assert!(matches!(
            render_test(
                "Plain",
                "<p>Hi</p>".to_owned(),
                false,
                TestSample::Given(bad_name)
            ),
            Err(NewCampaignError::Invalid(_))
        ));

        let missing = render_test(
            "Hi",
            "<p>{{ company }}</p>".to_owned(),
            true,
            TestSample::Given(RecipientInput::address("a@x.org")),
        )
        .expect_err("no company");
        match missing {
            NewCampaignError::Invalid(errors) => {
                assert_eq!(errors.invalid_recipients.len(), 1, "{errors:?}");
                assert!(errors.invalid_recipients[0].reason.contains("company"));
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }
}
