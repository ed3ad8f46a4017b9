//! Merge tags: rendering, escaping, the text part, and the checks made at creation.

use chrono::Utc;
use proptest::prelude::*;

use super::*;
use crate::campaign::{NewCampaign, NewCampaignError, NewCampaignInput, RecipientInput};

fn vars(email: &str, name: Option<&str>, fields: &[(&str, &str)]) -> MessageVars {
    MessageVars {
        email: email.into(),
        name: name.map(Into::into),
        fields: RecipientFields::parse(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
        .expect("fields"),
        unsubscribe_url: "https://mail.example.org/u/tok".into(),
    }
}

#[test]
fn each_recipient_gets_their_own_subject_and_body() {
    let t = MessageTemplate::new(
        "Hello {{ name | default('there') }}",
        "<p>{{ company }} &amp; you, {{ email }}</p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>",
    )
    .expect("compiles");
    let ann = t
        .render(vars("ann@x.org", Some("Ann"), &[("company", "Acme")]))
        .expect("renders");
    assert_eq!(&*ann.subject, "Hello Ann");
    assert_eq!(
        &*ann.html,
        "<p>Acme &amp; you, ann@x.org</p><a href=\"https://mail.example.org/u/tok\">Unsubscribe</a>",
        "the unsubscribe URL is written as it is"
    );
    let bob = t
        .render(vars("bob@x.org", None, &[("company", "Bobco")]))
        .expect("renders");
    assert_eq!(&*bob.subject, "Hello there");
    assert!(bob.text.contains("Bobco & you, bob@x.org"), "{}", bob.text);
    assert!(
        bob.text.contains("https://mail.example.org/u/tok"),
        "the link stays readable: {}",
        bob.text
    );
    assert_eq!(
        &*bob.text,
        html_to_text(&bob.html),
        "derived once, the same as converting each message"
    );
}

#[test]
fn values_are_escaped_in_the_body_and_cannot_break_the_subject_line() {
    let t = MessageTemplate::new(
        "Hi {{ company }}",
        "<p title=\"{{ company }}\">{{ company }}</p>",
    )
    .expect("compiles");
    let evil = "\"><script>alert(1)</script>\r\nBcc: all@x.org";
    let m = t
        .render(vars("a@x.org", None, &[("company", evil)]))
        .expect("renders");
    assert!(!m.html.contains("<script>"), "{}", m.html);
    assert!(!m.html.contains("\"><"), "{}", m.html);
    assert!(!m.subject.contains(['\r', '\n']), "{:?}", m.subject);
    assert!(
        m.text.contains("<script>"),
        "the text part shows the value as text"
    );
}

#[test]
fn a_missing_value_is_an_error_unless_a_default_is_given() {
    let t = MessageTemplate::new("x", "<p>{{ company }}</p>").expect("compiles");
    let e = t.render(vars("a@x.org", None, &[])).expect_err("strict");
    assert_eq!(e.part, TemplatePart::Body);
    assert!(e.message.contains("undefined"), "{}", e.message);
    assert_eq!(
        t.variables().into_iter().collect::<Vec<_>>(),
        ["company"],
        "email and unsubscribe_url are always there"
    );
}

#[test]
fn syntax_errors_name_the_part_and_line() {
    let e = MessageTemplate::new("ok", "<p>\n{{ name </p>").expect_err("syntax");
    assert_eq!(e.part, TemplatePart::Body);
    assert!(e.message.contains("line 2"), "{}", e.message);
    let e = MessageTemplate::new("{% if %}", "<p>x</p>").expect_err("syntax");
    assert_eq!(e.part, TemplatePart::Subject);
}

#[test]
fn a_runaway_loop_runs_out_of_fuel() {
    let t = MessageTemplate::new("x", "{% for i in range(100000000) %}{{ i }}{% endfor %}")
        .expect("compiles");
    let e = t.render(vars("a@x.org", None, &[])).expect_err("fuel");
    assert_eq!(e.part, TemplatePart::Body);
}

#[test]
fn without_tags_the_message_is_sent_as_it_is_with_a_text_part() {
    let t = MessageTemplate::new("Plain", "<h1>News</h1><p>One &lt;two&gt;</p>").expect("fixed");
    let m = t.render(MessageVars::default()).expect("renders");
    assert_eq!(&*m.html, "<h1>News</h1><p>One &lt;two&gt;</p>");
    assert!(
        m.text.contains("News") && m.text.contains("One <two>"),
        "{}",
        m.text
    );
    assert!(t.variables().is_empty());
}

#[test]
fn the_text_part_of_tags_in_blocks_and_loops_renders_like_the_html() {
    let html = "<p>{% if vip == 'yes' %}<b>Dear VIP</b>{% else %}Hello{% endif %} {{ name }}</p>\
                <ul>{% for x in ['a', 'b'] %}<li>{{ x }}</li>{% endfor %}</ul>";
    let t = MessageTemplate::new("s", html).expect("compiles");
    let m = t
        .render(vars("a@x.org", Some("Ann"), &[("vip", "yes")]))
        .expect("renders");
    assert!(
        m.text.contains("Dear VIP") && m.text.contains("Ann"),
        "{}",
        m.text
    );
    assert!(!m.text.contains("Hello"), "{}", m.text);
    assert_eq!(
        &*m.text,
        html_to_text(&m.html),
        "derived once, same as converting each"
    );
}

fn input(subject: &str, body: &str, recipients: Vec<RecipientInput>) -> NewCampaignInput {
    NewCampaignInput {
        subject: subject.into(),
        body: body.into(),
        recipients,
        scheduled_at: None,
        from: None,
        reply_to: None,
    }
}

fn with_fields(email: &str, fields: &[(&str, &str)]) -> RecipientInput {
    RecipientInput {
        email: email.into(),
        name: None,
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

#[test]
fn a_tag_some_recipients_have_no_value_for_is_refused_naming_it_and_them() {
    let recipients = vec![
        with_fields("a@x.org", &[("company", "A")]),
        with_fields("dup@x.org", &[]),
        with_fields("DUP@x.org", &[]),
        with_fields("b@x.org", &[]),
        with_fields("c@x.org", &[("company", "C")]),
    ];
    let Err(NewCampaignError::Invalid(errors)) = NewCampaign::parse(
        input("Hi", "<p>{{ company }}</p>", recipients.clone()),
        10,
        Utc::now(),
    ) else {
        panic!("refused");
    };
    assert_eq!(errors.fields.len(), 1, "{errors:?}");
    let (field, message) = &errors.fields[0];
    assert_eq!(*field, "body");
    assert!(
        message.contains("{{ company }}") && message.contains("index 1, 3"),
        "{message}"
    );
    let indexes: Vec<usize> = errors.invalid_recipients.iter().map(|r| r.index).collect();
    assert_eq!(indexes, [1, 3]);

    let ok = NewCampaign::parse(
        input("Hi", "<p>{{ company | default('friend') }}</p>", recipients),
        10,
        Utc::now(),
    )
    .expect("a default covers them");
    assert!(ok.merge_tags);
    let plain = NewCampaign::parse(
        input("Hi", "<p>x</p>", vec![with_fields("a@x.org", &[])]),
        10,
        Utc::now(),
    )
    .expect("plain");
    assert!(!plain.merge_tags);
}

#[test]
fn a_syntax_error_is_refused_on_its_field() {
    let Err(NewCampaignError::Invalid(errors)) = NewCampaign::parse(
        input("Hi {{ name", "<p>x</p>", vec![with_fields("a@x.org", &[])]),
        10,
        Utc::now(),
    ) else {
        panic!("refused");
    };
    assert_eq!(errors.fields[0].0, "subject");
    assert!(
        errors.fields[0].1.starts_with("merge tags: "),
        "{:?}",
        errors.fields
    );
}

proptest! {
    /// Whatever a field holds, the body has no markup the template did not write, and the
    /// subject is one line.
    #[test]
    fn a_hostile_value_cannot_add_markup_or_a_header(value in "\\PC{0,40}|[<>\"'&\r\n\t ]{0,20}") {
        let t = MessageTemplate::new("News for {{ v }}", "<p class=\"{{ v }}\">{{ v }}</p>").expect("compiles");
        let m = t.render(vars("a@x.org", None, &[("v", &value)])).expect("renders");
        prop_assert!(!m.subject.chars().any(char::is_control));
        let inner = m.html.strip_prefix("<p class=\"").and_then(|s| s.strip_suffix("</p>")).expect("shape");
        prop_assert!(!inner.contains(['<', '"']) || inner.matches('"').count() == 1, "{}", m.html);
        prop_assert_eq!(m.html.matches('<').count(), 2, "{}", &m.html);
    }
}
