//! The text fields whose schema in `openapi.json` has a `pattern`: a value is valid by the
//! schema (length in characters, pattern) exactly when the domain accepts it. A client that
//! trusts the schema is never refused, and the API never accepts what the schema forbids.
//!
//! The patterns name their characters (no `\s`): regex engines disagree on what `\s` means
//! (ECMAScript leaves out U+0085, Python adds U+001C..U+001F), and the schema must mean one
//! thing to every client. The characters below are those on which they disagree, and those
//! the domain trims or refuses.

use paloma_domain::{CampaignFilter, HtmlBody, KeyName, RecipientName, Subject, Suppression};
use std::sync::LazyLock;

use proptest::prelude::*;
use regex::Regex;
use serde_json::Value;

/// The committed document (a test in `paloma` checks it is the one the API serves).
const DOCUMENT: &str = include_str!("../../../openapi.json");

/// A string field's constraints as the schema states them.
struct Field {
    name: &'static str,
    pattern: Regex,
    min: Option<usize>,
    max: Option<usize>,
    accepts: fn(&str) -> bool,
}

impl Field {
    fn schema_allows(&self, value: &str) -> bool {
        let chars = value.chars().count();
        self.min.is_none_or(|min| chars >= min)
            && self.max.is_none_or(|max| chars <= max)
            && self.pattern.is_match(value)
    }

    fn check(&self, value: &str) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            self.schema_allows(value),
            (self.accepts)(value),
            "{}: {:?}: the schema and the domain disagree",
            self.name,
            value
        );
        Ok(())
    }
}

fn field(document: &Value, name: &'static str, pointer: &str, accepts: fn(&str) -> bool) -> Field {
    let schema = document
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{name}: no schema at {pointer}"));
    let pattern = schema["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: no pattern"));
    // Shorthand classes mean different characters to different engines.
    for shorthand in [r"\s", r"\S", r"\w", r"\W", r"\d", r"\D", r"\b"] {
        assert!(
            !pattern.contains(shorthand),
            "{name}: the pattern uses {shorthand}, which engines read differently; name the characters"
        );
    }
    let bound = |key: &str| schema[key].as_u64().map(|n| n as usize);
    Field {
        name,
        pattern: Regex::new(pattern).unwrap_or_else(|e| panic!("{name}: {e}")),
        min: bound("minLength"),
        max: bound("maxLength"),
        accepts,
    }
}

/// The parameter `name` of `GET path`'s schema, as a JSON pointer.
fn query_parameter(document: &Value, path: &str, name: &str) -> String {
    let parameters = document["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("GET {path} has no parameters"));
    let index = parameters
        .iter()
        .position(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("GET {path} has no parameter {name}"));
    format!(
        "/paths/{}/get/parameters/{index}/schema",
        path.replace('~', "~0").replace('/', "~1")
    )
}

static FIELDS: LazyLock<Vec<Field>> = LazyLock::new(fields);

fn fields() -> Vec<Field> {
    let document: Value = serde_json::from_str(DOCUMENT).expect("openapi.json is JSON");
    let schemas = "/components/schemas";
    let subject: fn(&str) -> bool = |s| Subject::parse(s).is_ok();
    let body: fn(&str) -> bool = |s| HtmlBody::parse(s.to_owned()).is_ok();
    vec![
        field(
            &document,
            "subject",
            &format!("{schemas}/CreateCampaignRequest/properties/subject"),
            subject,
        ),
        field(
            &document,
            "edited subject",
            &format!("{schemas}/EditCampaignRequest/properties/subject"),
            subject,
        ),
        field(
            &document,
            "body",
            &format!("{schemas}/CreateCampaignRequest/properties/body"),
            body,
        ),
        field(
            &document,
            "edited body",
            &format!("{schemas}/EditCampaignRequest/properties/body"),
            body,
        ),
        field(
            &document,
            "recipient name",
            &format!("{schemas}/DetailedRecipient/properties/name"),
            |s| RecipientName::parse(Some(s)).is_ok(),
        ),
        field(
            &document,
            "key name",
            &format!("{schemas}/CreateKeyRequest/properties/name"),
            |s| KeyName::parse(s).is_ok(),
        ),
        field(
            &document,
            "campaign search",
            &query_parameter(&document, "/api/emails", "q"),
            |s| CampaignFilter::new(None, Some(s)).is_ok(),
        ),
        field(
            &document,
            "suppression search",
            &query_parameter(&document, "/api/suppressions", "search"),
            |s| Suppression::search(Some(s)).is_ok(),
        ),
    ]
}

/// Letters, and every character some engine or the domain treats apart: ASCII and Unicode
/// spaces, C0 and C1 controls, and look-alikes that are neither (U+180E, U+200B, U+FEFF).
const CHARACTERS: &[char] = &[
    'a', 'Z', 'é', '😀', ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\0', '\u{1c}', '\u{1f}',
    '\u{7f}', '\u{85}', '\u{9f}', '\u{a0}', '\u{1680}', '\u{180e}', '\u{2000}', '\u{200a}',
    '\u{200b}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}', '\u{feff}',
];

fn text(max_len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(CHARACTERS), 0..=max_len)
        .prop_map(|chars| chars.into_iter().collect())
}

#[test]
fn every_single_character_is_judged_alike() {
    for field in FIELDS.iter() {
        for c in CHARACTERS {
            for value in [
                c.to_string(),
                format!("a{c}"),
                format!("{c}a"),
                format!("a{c}a"),
            ] {
                field.check(&value).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        field.check("").unwrap_or_else(|e| panic!("{e}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn short_texts_are_judged_alike(value in text(8)) {
        for field in FIELDS.iter() {
            field.check(&value)?;
        }
    }

    /// Around each length limit, with characters before and after that may be trimmed.
    #[test]
    fn texts_at_the_length_limits_are_judged_alike(
        before in text(3),
        extra in 0usize..6,
        after in text(3),
    ) {
        for field in FIELDS.iter() {
            let Some(max) = field.max else { continue };
            let middle = "m".repeat((max + 2).saturating_sub(extra));
            field.check(&format!("{before}{middle}{after}"))?;
        }
    }
}
