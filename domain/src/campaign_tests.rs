//! The rules of a new campaign: fields, recipients, send times.

use super::*;
use crate::template::has_tags;

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
    let Err(NewCampaignError::Invalid(errors)) = NewCampaign::parse(input(&refs), 1000, Utc::now())
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
            '\u{200b}', '\u{feff}', '\u{301}', '\u{fe0f}', '😀', '👩', '\u{200d}', 'ע', ' ', ':',
            ';', '=', '?', '"', '<', '>', '@', ',', '\\',
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
        let name = prop::option::of(prop_oneof![3 => "[\\p{L} .'-]{0,20}", 1 => hostile_text(20)]);
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
        /// (A subject or body with `{{`, `{%` or `{#` is a template, valid only against its
        /// recipients: `template_tests.rs` covers those.)
        #[test]
        fn a_campaign_is_accepted_exactly_when_every_part_is_valid(
            input in campaign_input(),
            max in 0usize..10,
        ) {
            prop_assume!(!has_tags(&input.subject) && !has_tags(&input.body));
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
