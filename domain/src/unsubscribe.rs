//! One-click unsubscribe tokens (RFC 8058): the `TOKEN` of `List-Unsubscribe: <PUBLIC_URL/u/TOKEN>`.
//!
//! A token carries the campaign and the address it was made for, and a MAC over both, so
//! checking it needs no lookup: whoever holds the secret (`UNSUBSCRIBE_SECRET`) can make and
//! check tokens, nobody else can make one or change what one names.
//!
//! Layout, before base64url encoding (no padding): the campaign id's 16 bytes, the address
//! (lowercased, UTF-8), then the first 16 bytes of HMAC-SHA256 over a version label, the
//! campaign id and the address. 128 bits of MAC are plenty against forgery by guessing (each
//! guess costs a request); the truncation keeps the URL short.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::CampaignId;
use crate::recipient::EmailAddress;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the HMAC kept in a token (of SHA-256's 32).
const MAC_LEN: usize = 16;
/// Bytes of the campaign id at the start of a token.
const ID_LEN: usize = 16;
/// Domain separation: a MAC made with the same secret for another purpose never verifies here,
/// and a later layout can change the label.
const LABEL: &[u8] = b"paloma/unsubscribe/v1\0";
/// The longest token a valid one can be: base64 of the id, the longest address and the MAC.
const MAX_TOKEN_CHARS: usize = (ID_LEN + EmailAddress::MAX_LEN + MAC_LEN).div_ceil(3) * 4;

/// The key that signs and checks unsubscribe tokens (`UNSUBSCRIBE_SECRET`), held as HMAC's
/// keyed state. Its `Debug` never shows it.
#[derive(Clone)]
pub struct UnsubscribeSecret(HmacSha256);

/// Why a value cannot be the unsubscribe secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsubscribeSecretError {
    #[error(
        "the unsubscribe secret must be at least {min} bytes long (got {len}); e.g. 43 random \
         letters and digits"
    )]
    TooShort { min: usize, len: usize },
}

impl UnsubscribeSecret {
    /// The fewest bytes a secret may have: 256 bits, the size of HMAC-SHA256's output.
    pub const MIN_LEN: usize = 32;

    /// The secret as configured; refused when shorter than [`Self::MIN_LEN`] bytes.
    pub fn new(secret: &str) -> Result<Self, UnsubscribeSecretError> {
        let too_short = UnsubscribeSecretError::TooShort {
            min: Self::MIN_LEN,
            len: secret.len(),
        };
        if secret.len() < Self::MIN_LEN {
            return Err(too_short);
        }
        // HMAC takes a key of any length: this never fails.
        HmacSha256::new_from_slice(secret.as_bytes())
            .map(Self)
            .map_err(|_| too_short)
    }

    fn mac(&self, campaign: CampaignId, email: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(LABEL);
        mac.update(campaign.as_bytes());
        mac.update(email);
        mac
    }
}

impl fmt::Debug for UnsubscribeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnsubscribeSecret([REDACTED])")
    }
}

/// What a valid token names: the campaign whose message carried it and the address (lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub campaign: CampaignId,
    pub email: String,
}

/// The token for `email` (lowercased) in `campaign`'s messages: URL-safe (base64url, no
/// padding), at most about 380 characters.
pub fn unsubscribe_token(secret: &UnsubscribeSecret, campaign: CampaignId, email: &str) -> String {
    let email = email.trim().to_lowercase();
    let tag = secret
        .mac(campaign, email.as_bytes())
        .finalize()
        .into_bytes();
    let mut bytes = Vec::with_capacity(ID_LEN + email.len() + MAC_LEN);
    bytes.extend_from_slice(campaign.as_bytes());
    bytes.extend_from_slice(email.as_bytes());
    bytes.extend_from_slice(&tag[..MAC_LEN]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What `token` names, if `secret` made it; `None` for anything malformed, forged or altered.
/// The MAC is compared in constant time.
pub fn verify_unsubscribe_token(secret: &UnsubscribeSecret, token: &str) -> Option<Unsubscribe> {
    if token.len() > MAX_TOKEN_CHARS {
        return None;
    }
    // The decoder refuses padding and non-zero trailing bits, so one token has one spelling.
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() <= ID_LEN + MAC_LEN {
        return None;
    }
    let (id, rest) = bytes.split_at(ID_LEN);
    let (email, tag) = rest.split_at(rest.len() - MAC_LEN);
    let campaign = CampaignId::from_slice(id)?;
    secret
        .mac(campaign, email)
        .verify_truncated_left(tag)
        .ok()?;
    let email = std::str::from_utf8(email).ok()?.to_owned();
    Some(Unsubscribe { campaign, email })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn secret() -> UnsubscribeSecret {
        UnsubscribeSecret::new("0123456789abcdef0123456789abcdef").expect("32 bytes")
    }

    #[test]
    fn a_token_names_its_campaign_and_lowercased_address() {
        let campaign = CampaignId::new();
        let token = unsubscribe_token(&secret(), campaign, "Ada.Lovelace@Example.ORG");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "URL-safe: {token}"
        );
        assert_eq!(
            verify_unsubscribe_token(&secret(), &token),
            Some(Unsubscribe {
                campaign,
                email: "ada.lovelace@example.org".into()
            })
        );
    }

    #[test]
    fn the_longest_address_fits_under_the_length_limit() {
        let email = format!("{}@{}.org", "a".repeat(64), "b".repeat(185));
        assert_eq!(email.len(), EmailAddress::MAX_LEN);
        let token = unsubscribe_token(&secret(), CampaignId::new(), &email);
        assert!(token.len() <= MAX_TOKEN_CHARS);
        assert!(verify_unsubscribe_token(&secret(), &token).is_some());
    }

    #[test]
    fn another_secret_or_campaign_does_not_verify() {
        let campaign = CampaignId::new();
        let token = unsubscribe_token(&secret(), campaign, "a@example.org");
        let other = UnsubscribeSecret::new("another secret of at least 32 bytes!").expect("long");
        assert_eq!(verify_unsubscribe_token(&other, &token), None);
        // The same address and MAC under another campaign's id.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).expect("base64");
        bytes[..ID_LEN].copy_from_slice(CampaignId::new().as_bytes());
        assert_eq!(
            verify_unsubscribe_token(&secret(), &URL_SAFE_NO_PAD.encode(bytes)),
            None
        );
    }

    #[test]
    fn malformed_tokens_do_not_verify() {
        let token = unsubscribe_token(&secret(), CampaignId::new(), "a@example.org");
        for bad in [
            String::new(),
            "x".into(),
            format!("{token}="),
            format!("{token}A"),
            token[..token.len() - 1].to_owned(),
            format!("+{}", &token[1..]),
            format!("{token} "),
            "A".repeat(MAX_TOKEN_CHARS + 4),
            URL_SAFE_NO_PAD.encode([0u8; ID_LEN + MAC_LEN]),
        ] {
            assert_eq!(verify_unsubscribe_token(&secret(), &bad), None, "{bad}");
        }
    }

    #[test]
    fn a_short_secret_is_refused_and_debug_hides_it() {
        assert_eq!(
            UnsubscribeSecret::new("too short").err(),
            Some(UnsubscribeSecretError::TooShort { min: 32, len: 9 })
        );
        let debug = format!("{:?}", secret());
        assert!(!debug.contains("0123456789"), "{debug}");
    }

    const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    proptest! {
        #[test]
        fn arbitrary_strings_never_verify(s in "\\PC{0,400}", t in "[A-Za-z0-9_-]{0,400}") {
            prop_assert_eq!(verify_unsubscribe_token(&secret(), &s), None);
            prop_assert_eq!(verify_unsubscribe_token(&secret(), &t), None);
        }

        #[test]
        fn a_token_altered_in_one_character_never_verifies(
            local in "[a-z0-9.]{1,30}",
            at in any::<prop::sample::Index>(),
            with in any::<prop::sample::Index>(),
        ) {
            let token = unsubscribe_token(&secret(), CampaignId::new(), &format!("{local}@example.org"));
            let mut chars = token.clone().into_bytes();
            let i = at.index(chars.len());
            let replacement = BASE64URL[with.index(BASE64URL.len())];
            prop_assume!(chars[i] != replacement);
            chars[i] = replacement;
            let altered = String::from_utf8(chars).expect("ASCII");
            prop_assert_eq!(verify_unsubscribe_token(&secret(), &altered), None);
        }

        #[test]
        fn a_token_altered_in_one_byte_never_verifies(
            local in "[a-z0-9.]{1,30}",
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let token = unsubscribe_token(&secret(), CampaignId::new(), &format!("{local}@example.org"));
            let mut bytes = URL_SAFE_NO_PAD.decode(&token).expect("base64");
            let i = at.index(bytes.len());
            bytes[i] ^= flip;
            prop_assert_eq!(verify_unsubscribe_token(&secret(), &URL_SAFE_NO_PAD.encode(bytes)), None);
        }
    }
}
