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

/// A test server's own multi-threaded runtime (threads named `name`) and a non-blocking
/// listener on `127.0.0.1:0` registered with it, plus the port it got. Servers run on their own
/// runtime so that they keep serving whatever the test's runtime is doing.
pub(crate) fn background_listener(
    name: &str,
) -> std::io::Result<(tokio::runtime::Runtime, tokio::net::TcpListener, u16)> {
    let listener = loopback_listener(0)?;
    let port = listener.local_addr()?.port();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()?;
    let listener = {
        let _entered = runtime.enter();
        tokio::net::TcpListener::from_std(listener)?
    };
    Ok((runtime, listener, port))
}

/// A non-blocking std listener on `127.0.0.1:port`. (std sets SO_REUSEADDR on Unix, so a port
/// can be bound again while connections of the previous socket linger in TIME_WAIT.)
pub(crate) fn loopback_listener(port: u16) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

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
