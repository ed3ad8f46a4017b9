//! Access control: the scopes an API key can hold, a key's name, and the token that proves a
//! key (only its hash is ever stored).

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::KeyId;

/// One permission of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read campaigns, their recipients, timelines and activity.
    CampaignsRead,
    /// Create campaigns (as drafts, unless the key may also send).
    CampaignsCreate,
    /// Send campaigns.
    CampaignsSend,
    /// Create, list and revoke API keys.
    KeysManage,
}

impl Scope {
    pub const ALL: [Self; 4] = [
        Self::CampaignsRead,
        Self::CampaignsCreate,
        Self::CampaignsSend,
        Self::KeysManage,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CampaignsRead => "campaigns:read",
            Self::CampaignsCreate => "campaigns:create",
            Self::CampaignsSend => "campaigns:send",
            Self::KeysManage => "keys:manage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

/// A scope list that cannot be a key's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopesError {
    #[error("at least one scope is required (one of: {})", Scopes::ALL_NAMES)]
    Empty,
    #[error("unknown scope {name:?} (known: {})", Scopes::ALL_NAMES)]
    Unknown { name: String },
}

impl Scopes {
    /// The known scopes, for messages.
    pub const ALL_NAMES: &'static str =
        "campaigns:read, campaigns:create, campaigns:send, keys:manage";

    /// Every scope.
    pub fn all() -> Self {
        Self::from_iter(Scope::ALL)
    }

    /// Parses a comma-separated list (`campaigns:read,campaigns:create`); blanks around the
    /// names and repeated names are allowed.
    pub fn parse_list(list: &str) -> Result<Self, ScopesError> {
        Self::parse_names(list.split(',').map(str::trim).filter(|n| !n.is_empty()))
    }

    /// Parses scope names given one by one (a JSON array); each must be a scope's exact name.
    /// Repeated names are allowed.
    pub fn parse_names<I, S>(names: I) -> Result<Self, ScopesError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut scopes = Self(0);
        for name in names {
            let name = name.as_ref();
            let scope = Scope::parse(name).ok_or_else(|| ScopesError::Unknown {
                name: name.to_owned(),
            })?;
            scopes.0 |= scope.bit();
        }
        if scopes.0 == 0 {
            return Err(ScopesError::Empty);
        }
        Ok(scopes)
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

impl fmt::Display for Scopes {
    /// `campaigns:read,campaigns:create`: what [`Scopes::parse_list`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

/// A key's name: what people call it (`ci`, `dashboard of Ana`), 1 to 100 characters, no
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyNameError {
    #[error("a key's name must not be blank")]
    Blank,
    #[error("a key's name has at most {max} characters")]
    TooLong { max: usize },
    #[error("a key's name must not contain control characters")]
    ControlCharacter,
}

impl KeyName {
    pub const MAX_CHARS: usize = 100;

    /// The limit counts the name as submitted, surrounding spaces included (as the API's
    /// schema states it), though they are not kept.
    pub fn parse(raw: &str) -> Result<Self, KeyNameError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(KeyNameError::Blank);
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(KeyNameError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        if raw.chars().any(char::is_control) {
            return Err(KeyNameError::ControlCharacter);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The secret that proves an API key: `pal_` and 43 random letters and digits (43 × log2 62 =
/// 256 bits). It is shown once, when the key is created; only its [`TokenHash`] and its
/// [`lookup prefix`](Self::lookup_prefix) are stored. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an API token: expected `pal_` and 43 letters and digits")]
pub struct ApiTokenError;

impl ApiToken {
    pub const PREFIX: &'static str = "pal_";
    /// Random characters after the prefix.
    pub const SECRET_LEN: usize = 43;
    /// Characters of the token kept in clear to find its key: the prefix and 8 more.
    pub const LOOKUP_LEN: usize = Self::PREFIX.len() + 8;

    /// A new token, its characters drawn from the thread's cryptographically secure generator
    /// (ChaCha, seeded by the operating system).
    pub fn generate() -> Self {
        use rand::Rng;
        let secret: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(Self::SECRET_LEN)
            .map(char::from)
            .collect();
        Self(format!("{}{secret}", Self::PREFIX))
    }

    /// A token from its random characters.
    pub fn from_secret(secret: &str) -> Result<Self, ApiTokenError> {
        Self::parse(&format!("{}{secret}", Self::PREFIX))
    }

    /// A token as a client sent it.
    pub fn parse(raw: &str) -> Result<Self, ApiTokenError> {
        let secret = raw.strip_prefix(Self::PREFIX).ok_or(ApiTokenError)?;
        if secret.len() != Self::SECRET_LEN || !secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiTokenError);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The whole token, to show once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `pal_` and the first 8 random characters: stored in clear, to find the key's row and to
    /// tell keys apart in lists. Too short to guess the rest from.
    pub fn lookup_prefix(&self) -> &str {
        &self.0[..Self::LOOKUP_LEN]
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiToken({}…)", self.lookup_prefix())
    }
}

/// SHA-256 of a token: what is stored. Tokens are 256 random bits, so a fast hash is enough
/// (nothing to brute-force); comparisons take the same time whatever the bytes.
#[derive(Clone, Copy)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time equality.
    pub fn matches(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(…)")
    }
}

/// An API key as stored: never its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: KeyId,
    pub name: KeyName,
    /// The token's [`lookup prefix`](ApiToken::lookup_prefix).
    pub prefix: String,
    pub scopes: Scopes,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl ApiKey {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

    #[test]
    fn a_key_name_is_measured_as_submitted_and_kept_trimmed() {
        let at_limit = format!(" {} ", "n".repeat(98));
        assert_eq!(KeyName::parse(&at_limit).map(|n| n.as_str().len()), Ok(98));
        // 100 characters once trimmed, 101 as submitted (the API's schema counts these).
        let over = format!("\u{a0}{}", "n".repeat(100));
        assert_eq!(
            KeyName::parse(&over),
            Err(KeyNameError::TooLong {
                max: KeyName::MAX_CHARS
            })
        );
    }

    #[test]
    fn scopes_parse_print_and_refuse_unknown_names() {
        let scopes =
            Scopes::parse_list(" campaigns:read , campaigns:send,campaigns:read").expect("valid");
        assert!(scopes.contains(Scope::CampaignsRead) && scopes.contains(Scope::CampaignsSend));
        assert!(!scopes.contains(Scope::KeysManage));
        assert_eq!(scopes.to_string(), "campaigns:read,campaigns:send");
        assert_eq!(Scopes::parse_list(&scopes.to_string()), Ok(scopes));
        assert_eq!(Scopes::parse_list(" , "), Err(ScopesError::Empty));
        assert_eq!(
            Scopes::parse_list("campaigns:read,admin"),
            Err(ScopesError::Unknown {
                name: "admin".into()
            })
        );
        assert_eq!(Scopes::all().iter().count(), Scope::ALL.len());
    }

    #[test]
    fn key_names_are_trimmed_bounded_and_printable() {
        assert_eq!(KeyName::parse("  ci  ").expect("valid").as_str(), "ci");
        assert_eq!(KeyName::parse(" "), Err(KeyNameError::Blank));
        assert_eq!(
            KeyName::parse(&"n".repeat(101)),
            Err(KeyNameError::TooLong { max: 100 })
        );
        assert!(KeyName::parse(&"ñ".repeat(100)).is_ok());
        assert_eq!(KeyName::parse("a\nb"), Err(KeyNameError::ControlCharacter));
    }

    #[test]
    fn tokens_have_one_shape_and_debug_hides_the_secret() {
        let token = ApiToken::from_secret(SECRET).expect("valid");
        assert_eq!(token.expose().len(), 47);
        assert_eq!(token.lookup_prefix(), "pal_abcdefgh");
        assert_eq!(ApiToken::parse(token.expose()), Ok(token.clone()));
        assert!(!format!("{token:?}").contains("ijklmnop"));
        for bad in [
            "",
            "pal_",
            "abc_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
            &format!("pal_{SECRET}x"),
            "pal_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-",
        ] {
            assert_eq!(ApiToken::parse(bad), Err(ApiTokenError), "{bad:?}");
        }
    }

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let tokens: Vec<ApiToken> = (0..100).map(|_| ApiToken::generate()).collect();
        for t in &tokens {
            assert_eq!(ApiToken::parse(t.expose()).as_ref(), Ok(t));
        }
        let distinct: std::collections::HashSet<&str> =
            tokens.iter().map(ApiToken::expose).collect();
        assert_eq!(distinct.len(), 100);
    }

    #[test]
    fn hashes_match_only_the_same_token() {
        let a = ApiToken::from_secret(SECRET).expect("valid");
        let b = ApiToken::from_secret(&SECRET.replace("Q", "R")).expect("valid");
        assert!(a.hash().matches(&a.hash()));
        assert!(!a.hash().matches(&b.hash()));
        assert!(
            a.hash()
                .matches(&TokenHash::from_bytes(*a.hash().as_bytes()))
        );
    }
}
