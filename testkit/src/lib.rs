//! Test support for Paloma.
//!
//! - [`TestSmtpServer`]: a small, scriptable SMTP server (RFC 5321 subset) that records what it
//!   receives, so tests can send real mail over real sockets and check what arrived; it can be
//!   taken down and brought back at runtime ([`Availability`]).
//! - [`TcpProxy`]: a TCP proxy that can be cut and restored, to take a dependency (MySQL,
//!   Redis...) away from the programs under test and give it back.
//! - [`unique_name`]: unique names for per-test Redis key prefixes and databases.
//!
//! Everything here is for tests only: nothing in it is hardened for production traffic.

mod proxy;
mod received;
mod rules;
mod server;

pub use mail_parser;
pub use proxy::TcpProxy;
pub use received::{MailboxInfo, ReceivedMessage};
pub use rules::SmtpRules;
pub use server::{Availability, TestSmtpServer};

/// `prefix` followed by a fresh UUID in its simple (32 hex digits, no dashes) form, e.g.
/// `paloma_test_0190f3c2...`. Unique per call; usable as a Redis key prefix or a MySQL
/// database name (only `[0-9a-f]` is added to the prefix).
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_keep_the_prefix_and_differ() {
        let a = unique_name("paloma_test_");
        let b = unique_name("paloma_test_");
        assert_ne!(a, b);
        assert!(a.starts_with("paloma_test_"));
        let suffix = &a["paloma_test_".len()..];
        assert_eq!(suffix.len(), 32);
        assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
