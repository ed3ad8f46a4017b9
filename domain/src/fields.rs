//! A recipient's own data for merge tags: named string fields (`{"company": "Acme"}`), each
//! available in the campaign's subject and body as `{{ company }}`.

use std::collections::BTreeMap;

/// A recipient's fields: at most [`RecipientFields::MAX_FIELDS`], each named like an
/// identifier (`[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters, not one of the names the
/// message itself provides: `email`, `name`, `unsubscribe_url`) with a string value of at most
/// [`RecipientFields::MAX_VALUE_CHARS`] characters; [`RecipientFields::MAX_TOTAL_BYTES`] in all.
/// Ordered by name, so that the stored JSON is stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientFields(BTreeMap<String, String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldsError {
    #[error("too many fields: at most {max}")]
    TooMany { max: usize },
    #[error(
        "the field name {name:?} is not an identifier (a letter or _, then letters, digits or _; at most 64)"
    )]
    BadName { name: String },
    #[error("the field name {name:?} is reserved: the message provides it")]
    Reserved { name: String },
    #[error("the field {name:?} is longer than {max} characters")]
    ValueTooLong { name: String, max: usize },
    #[error("the fields are larger than {max} bytes in all")]
    TooLarge { max: usize },
}

impl RecipientFields {
    pub const MAX_FIELDS: usize = 50;
    pub const MAX_NAME_CHARS: usize = 64;
    pub const MAX_VALUE_CHARS: usize = 1_000;
    pub const MAX_TOTAL_BYTES: usize = 8 * 1024;
    /// What every message provides by itself; a field may not shadow it.
    pub const RESERVED: [&'static str; 3] = ["email", "name", "unsubscribe_url"];

    /// Validates submitted fields; an empty list is no fields.
    pub fn parse(fields: Vec<(String, String)>) -> Result<Self, FieldsError> {
        if fields.len() > Self::MAX_FIELDS {
            return Err(FieldsError::TooMany {
                max: Self::MAX_FIELDS,
            });
        }
        let mut total = 0;
        let mut map = BTreeMap::new();
        for (name, value) in fields {
            if !is_identifier(&name) {
                return Err(FieldsError::BadName { name });
            }
            if Self::RESERVED.contains(&name.as_str()) {
                return Err(FieldsError::Reserved { name });
            }
            if value.chars().count() > Self::MAX_VALUE_CHARS {
                return Err(FieldsError::ValueTooLong {
                    name,
                    max: Self::MAX_VALUE_CHARS,
                });
            }
            total += name.len() + value.len();
            if total > Self::MAX_TOTAL_BYTES {
                return Err(FieldsError::TooLarge {
                    max: Self::MAX_TOTAL_BYTES,
                });
            }
            map.insert(name, value);
        }
        Ok(Self(map))
    }

    /// Fields read back from storage, trusted as they are.
    pub fn from_stored(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && name.len() <= RecipientFields::MAX_NAME_CHARS
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn names_are_identifiers_and_not_reserved() {
        let ok =
            RecipientFields::parse(fields(&[("company", "Acme"), ("_x9", "")])).expect("valid");
        assert_eq!(ok.get("company"), Some("Acme"));
        for bad in ["", "9lives", "first name", "a-b", "é", &"a".repeat(65)] {
            assert_eq!(
                RecipientFields::parse(fields(&[(bad, "v")])),
                Err(FieldsError::BadName { name: bad.into() }),
                "{bad:?}"
            );
        }
        assert!(RecipientFields::parse(fields(&[(&"a".repeat(64), "v")])).is_ok());
        assert_eq!(
            RecipientFields::parse(fields(&[("email", "x")])),
            Err(FieldsError::Reserved {
                name: "email".into()
            })
        );
    }

    #[test]
    fn counts_and_sizes_are_limited() {
        let many: Vec<(String, String)> =
            (0..51).map(|i| (format!("f{i}"), String::new())).collect();
        assert_eq!(
            RecipientFields::parse(many),
            Err(FieldsError::TooMany { max: 50 })
        );
        assert!(RecipientFields::parse(fields(&[("a", &"é".repeat(1000))])).is_ok());
        assert_eq!(
            RecipientFields::parse(fields(&[("a", &"x".repeat(1001))])),
            Err(FieldsError::ValueTooLong {
                name: "a".into(),
                max: 1000
            })
        );
        let big: Vec<(String, String)> = (0..10)
            .map(|i| (format!("f{i}"), "x".repeat(900)))
            .collect();
        assert_eq!(
            RecipientFields::parse(big),
            Err(FieldsError::TooLarge { max: 8192 })
        );
    }
}
