//! Who a campaign's messages are from: its own `From` (display name and address) and
//! `Reply-To`, instead of the worker's `MAIL_FROM`, within the domains the operator allows.

use crate::recipient::{EmailAddress, RecipientName};

/// A `From` as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromInput {
    pub name: Option<String>,
    pub email: String,
}

/// A campaign's sender, validated; every part optional (absent: the worker's `MAIL_FROM`,
/// no `Reply-To`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignSender {
    pub from_name: Option<RecipientName>,
    pub from_email: Option<EmailAddress>,
    pub reply_to: Option<EmailAddress>,
}

impl CampaignSender {
    /// Validates the syntax of a submitted `from` and `replyTo`: `(field, message)` for each
    /// problem.
    pub fn parse(
        from: Option<FromInput>,
        reply_to: Option<&str>,
    ) -> Result<Self, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let mut sender = Self::default();
        if let Some(from) = from {
            match EmailAddress::parse(&from.email) {
                Ok(email) => sender.from_email = Some(email),
                Err(e) => errors.push(("from.email", e.to_string())),
            }
            match RecipientName::parse(from.name.as_deref()) {
                Ok(name) => sender.from_name = name,
                Err(e) => errors.push(("from.name", e.to_string())),
            }
        }
        if let Some(raw) = reply_to {
            match EmailAddress::parse(raw) {
                Ok(email) => sender.reply_to = Some(email),
                Err(e) => errors.push(("replyTo", e.to_string())),
            }
        }
        if errors.is_empty() {
            Ok(sender)
        } else {
            Err(errors)
        }
    }

    /// The problem with this sender under `allowed`, if any: a `From` outside its domains.
    /// `Reply-To` may name any address (replies going to a help desk elsewhere are common, and
    /// it proves nothing about who sent the message).
    pub fn check(&self, allowed: &AllowedDomains) -> Option<(&'static str, String)> {
        let email = self.from_email.as_ref()?;
        (!allowed.allows(email)).then(|| {
            (
                "from.email",
                format!(
                    "the sender's domain is not one this server may send from ({})",
                    allowed.list()
                ),
            )
        })
    }
}

/// The domains a campaign's `From` may be in (`ALLOWED_FROM_DOMAINS`): exact names, compared
/// without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedDomains(Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowedDomainsError {
    #[error("no domain given")]
    Empty,
    #[error("{0:?} is not a domain name")]
    NotADomain(String),
}

impl AllowedDomains {
    /// A comma-separated list of domain names.
    pub fn parse(list: &str) -> Result<Self, AllowedDomainsError> {
        let mut domains = Vec::new();
        for raw in list.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let probe = format!("x@{raw}");
            if raw.contains('@') || EmailAddress::parse(&probe).is_err() {
                return Err(AllowedDomainsError::NotADomain(raw.to_owned()));
            }
            domains.push(raw.to_lowercase());
        }
        if domains.is_empty() {
            return Err(AllowedDomainsError::Empty);
        }
        Ok(Self(domains))
    }

    /// The domain of `MAIL_FROM` (`Name <addr@domain>` or `addr@domain`), the default.
    pub fn of_mail_from(mail_from: &str) -> Result<Self, AllowedDomainsError> {
        let address = mail_from
            .rsplit_once('<')
            .map_or(mail_from, |(_, rest)| rest.trim_end_matches('>'));
        let domain = address
            .rsplit_once('@')
            .map(|(_, domain)| domain.trim())
            .unwrap_or_default();
        Self::parse(domain)
    }

    pub fn allows(&self, email: &EmailAddress) -> bool {
        email
            .as_str()
            .rsplit_once('@')
            .is_some_and(|(_, domain)| self.0.iter().any(|d| d.eq_ignore_ascii_case(domain)))
    }

    /// The domains, comma-separated.
    pub fn list(&self) -> String {
        self.0.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(email: &str, name: Option<&str>) -> Option<FromInput> {
        Some(FromInput {
            name: name.map(Into::into),
            email: email.into(),
        })
    }

    #[test]
    fn a_from_must_be_in_an_allowed_domain_and_a_reply_to_anywhere() {
        let allowed = AllowedDomains::parse("example.org, News.Example.com").expect("valid");
        let ok = CampaignSender::parse(
            from("team@EXAMPLE.org", Some("The Team")),
            Some("help@desk.io"),
        )
        .expect("valid");
        assert_eq!(ok.check(&allowed), None);
        assert_eq!(
            ok.from_name.as_ref().map(RecipientName::as_str),
            Some("The Team")
        );
        let sub = CampaignSender::parse(from("a@news.example.com", None), None).expect("valid");
        assert_eq!(sub.check(&allowed), None);
        let other = CampaignSender::parse(from("ceo@bank.example", None), None).expect("valid");
        assert_eq!(other.check(&allowed).map(|(f, _)| f), Some("from.email"));
        let evil = CampaignSender::parse(from("a@evil-example.org", None), None).expect("valid");
        assert!(evil.check(&allowed).is_some(), "no suffix matching");
        assert_eq!(CampaignSender::default().check(&allowed), None);
    }

    #[test]
    fn bad_parts_are_named() {
        let errors = CampaignSender::parse(from("nope", Some("a\nb")), Some("x")).expect_err("bad");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["from.email", "from.name", "replyTo"]);
    }

    #[test]
    fn the_default_is_the_domain_of_mail_from() {
        let d = AllowedDomains::of_mail_from("Paloma <no-reply@mail.example.org>").expect("valid");
        assert_eq!(d.list(), "mail.example.org");
        assert_eq!(
            AllowedDomains::of_mail_from("x@localhost")
                .expect("valid")
                .list(),
            "localhost"
        );
        assert!(AllowedDomains::parse(" , ").is_err());
        assert!(AllowedDomains::parse("a@b.org").is_err());
    }
}
