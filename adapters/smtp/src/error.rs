//! Configuration errors: what is wrong with `SMTP_URL`, `MAIL_FROM` or the outbox directory.

use std::path::PathBuf;

/// A mailer could not be built from its configuration. The messages never contain the SMTP
/// password.
#[derive(Debug, thiserror::Error)]
pub enum MailerConfigError {
    /// `SMTP_URL` is not usable; `url` is the URL with its password masked, or a placeholder
    /// when it does not even parse as a URL.
    #[error("invalid SMTP_URL {url}: {reason}")]
    InvalidSmtpUrl {
        /// The URL with its password replaced by `***`.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// `MAIL_FROM` is not a mailbox such as `Paloma <no-reply@example.org>`.
    #[error(
        "invalid MAIL_FROM {value:?}: {reason} (expected e.g. `Paloma <no-reply@example.org>`)"
    )]
    InvalidMailFrom {
        /// The value given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The directory for `.eml` files could not be created.
    #[error("cannot create the outbox directory {}: {source}", path.display())]
    Outbox {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// `url` with its password (if any) replaced by `***`; a placeholder when it does not parse,
/// since the raw text could contain a password.
pub(crate) fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        // Without a host (`user:pass@host` has the scheme `user`), the text after the scheme
        // may be a password: show nothing.
        Ok(parsed) if !parsed.has_host() => "(not a URL)".to_owned(),
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Cannot fail: a URL with a password has a host.
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact_url("smtp://bob:s3cret@mail.example.org:2525"),
            "smtp://bob:***@mail.example.org:2525"
        );
        assert_eq!(
            redact_url("smtps://mail.example.org"),
            "smtps://mail.example.org"
        );
        assert_eq!(redact_url("bob:s3cret@nowhere"), "(not a URL)");
        assert_eq!(
            redact_url("smtp://u:p%40ss@h:25?tls=required"),
            "smtp://u:***@h:25?tls=required"
        );
    }
}
