//! What the test SMTP server answers to each recipient.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

type Predicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Selects recipient addresses.
#[derive(Clone)]
enum Matcher {
    /// The local part (before the last `@`) starts with this, ignoring ASCII case.
    LocalPrefix(String),
    /// Exactly one of these addresses, ignoring ASCII case.
    Addresses(HashSet<String>),
    /// Any test the caller writes.
    Predicate(Predicate),
}

impl Matcher {
    fn matches(&self, address: &str) -> bool {
        match self {
            Matcher::LocalPrefix(prefix) => {
                let local = address.rsplit_once('@').map_or(address, |(local, _)| local);
                local.to_ascii_lowercase().starts_with(prefix.as_str())
            }
            Matcher::Addresses(set) => set.contains(&address.to_ascii_lowercase()),
            Matcher::Predicate(test) => test(address),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::LocalPrefix(p) => write!(f, "LocalPrefix({p:?})"),
            Matcher::Addresses(set) => write!(f, "Addresses({set:?})"),
            Matcher::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    matcher: Matcher,
    /// The whole reply line (code and text); `None` for the default of the rule's kind.
    reply: Option<String>,
}

/// What the server answers to one `RCPT TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RcptDecision {
    Accept,
    /// Refuse with this whole reply line (code included).
    Refuse(String),
}

/// The script of a [`TestSmtpServer`](crate::TestSmtpServer): which recipients it refuses
/// (permanently, or only the first time it sees them) and how slow it is.
///
/// Rules are checked in the order: permanent rejections, then defer-once rules; anything else
/// is accepted. Address comparisons ignore ASCII case.
///
/// ```
/// use paloma_testkit::SmtpRules;
/// let rules = SmtpRules::default()
///     .reject_prefix("bounce")
///     .defer_once_prefix("greylist");
/// ```
#[derive(Debug, Clone, Default)]
pub struct SmtpRules {
    reject: Vec<Rule>,
    defer_once: Vec<Rule>,
    delay: Duration,
}

/// The default permanent rejection for `address`.
fn default_rejection(address: &str) -> String {
    format!("550 5.1.1 <{address}>: mailbox unavailable")
}

/// The default deferral.
const DEFAULT_DEFERRAL: &str = "451 4.3.0 try again later";

/// Panics unless `reply` starts with a three-digit 4xx or 5xx code and a space.
fn checked_reply(reply: String) -> String {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    let code = reply.get(..3).unwrap_or_default();
    let ok = matches!(code.as_bytes().first(), Some(b'4' | b'5'))
        && code.bytes().all(|b| b.is_ascii_digit())
        && lines.iter().enumerate().all(|(i, line)| {
            let separator = if i + 1 == lines.len() { b' ' } else { b'-' };
            line.len() >= 4
                && line.starts_with(code)
                && line.as_bytes()[3] == separator
                && !line.contains(['\r', '\n'])
        });
    assert!(
        ok,
        "an SMTP rule's reply must be like `550 5.1.1 text`, or several lines joined by CRLF \
         (`550-first`, ..., `550 last`), got {:?}",
        reply.get(..80).unwrap_or(&reply)
    );
    reply
}

impl SmtpRules {
    /// Refuses with `550 5.1.1 <addr>: mailbox unavailable` every recipient whose local part
    /// starts with `prefix` (ASCII case ignored).
    pub fn reject_prefix(mut self, prefix: &str) -> Self {
        self.reject.push(Rule {
            matcher: Matcher::LocalPrefix(prefix.to_ascii_lowercase()),
            reply: None,
        });
        self
    }

    /// Refuses with the given reply (e.g. `"552 5.2.2 mailbox full"`, or several lines joined by
    /// CRLF: `"550-first\r\n550 last"`) every recipient whose local part starts with `prefix`.
    /// A `4xx` reply here refuses the recipient every time
    /// (a mailbox that stays full); use [`defer_once_prefix`](Self::defer_once_prefix) for a
    /// one-off refusal.
    ///
    /// # Panics
    /// When `reply` is not a 4xx or 5xx reply: one line `NNN text`, or lines `NNN-text` ending
    /// with `NNN text`, all with the same code.
    pub fn reject_prefix_with(mut self, prefix: &str, reply: impl Into<String>) -> Self {
        self.reject.push(Rule {
            matcher: Matcher::LocalPrefix(prefix.to_ascii_lowercase()),
            reply: Some(checked_reply(reply.into())),
        });
        self
    }

    /// Refuses these exact addresses (ASCII case ignored) with the default `550` reply.
    pub fn reject_addresses<I, S>(mut self, addresses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let set = addresses
            .into_iter()
            .map(|a| a.as_ref().to_ascii_lowercase())
            .collect();
        self.reject.push(Rule {
            matcher: Matcher::Addresses(set),
            reply: None,
        });
        self
    }

    /// Refuses with the default `550` reply every address for which `test` is true. The
    /// address is passed as the client wrote it between `<` and `>`.
    pub fn reject_if(mut self, test: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.reject.push(Rule {
            matcher: Matcher::Predicate(Arc::new(test)),
            reply: None,
        });
        self
    }

    /// Refuses with the given reply every address for which `test` is true, each time it is
    /// asked (e.g. a `421` while `test` says the mailbox's server is down).
    ///
    /// # Panics
    /// When `reply` is not a 4xx or 5xx reply (see [`reject_prefix_with`](Self::reject_prefix_with)).
    pub fn reject_if_with(
        mut self,
        reply: impl Into<String>,
        test: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.reject.push(Rule {
            matcher: Matcher::Predicate(Arc::new(test)),
            reply: Some(checked_reply(reply.into())),
        });
        self
    }

    /// Answers `451 4.3.0 try again later` the first time a recipient whose local part starts
    /// with `prefix` is seen by this server, and accepts it afterwards (greylisting).
    pub fn defer_once_prefix(mut self, prefix: &str) -> Self {
        self.defer_once.push(Rule {
            matcher: Matcher::LocalPrefix(prefix.to_ascii_lowercase()),
            reply: None,
        });
        self
    }

    /// Like [`defer_once_prefix`](Self::defer_once_prefix), for the addresses `test` selects.
    pub fn defer_once_if(mut self, test: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.defer_once.push(Rule {
            matcher: Matcher::Predicate(Arc::new(test)),
            reply: None,
        });
        self
    }

    /// Waits this long before answering the end of each message's `DATA` (a slow server).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The delay before answering the end of `DATA`.
    pub(crate) fn data_delay(&self) -> Duration {
        self.delay
    }

    /// Decides one `RCPT TO:<address>`. `first_seen` tells whether this server has never been
    /// asked about `address` before (case-insensitively).
    pub(crate) fn decide(&self, address: &str, first_seen: bool) -> RcptDecision {
        if let Some(rule) = self.reject.iter().find(|r| r.matcher.matches(address)) {
            let reply = rule
                .reply
                .clone()
                .unwrap_or_else(|| default_rejection(address));
            return RcptDecision::Refuse(reply);
        }
        let deferral = first_seen
            .then(|| self.defer_once.iter().find(|r| r.matcher.matches(address)))
            .flatten();
        if let Some(rule) = deferral {
            let reply = rule
                .reply
                .clone()
                .unwrap_or_else(|| DEFAULT_DEFERRAL.to_owned());
            return RcptDecision::Refuse(reply);
        }
        RcptDecision::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_accepted_by_default() {
        let rules = SmtpRules::default();
        assert_eq!(
            rules.decide("anyone@example.org", true),
            RcptDecision::Accept
        );
        assert_eq!(
            rules.decide("bounce@example.org", false),
            RcptDecision::Accept
        );
    }

    #[test]
    fn prefix_rejections_look_at_the_local_part_only() {
        let rules = SmtpRules::default().reject_prefix("Bounce");
        assert_eq!(
            rules.decide("bounce-1@example.org", true),
            RcptDecision::Refuse("550 5.1.1 <bounce-1@example.org>: mailbox unavailable".into())
        );
        assert_eq!(
            rules.decide("BOUNCE@example.org", false),
            RcptDecision::Refuse("550 5.1.1 <BOUNCE@example.org>: mailbox unavailable".into())
        );
        assert_eq!(
            rules.decide("alice@bounce.example.org", true),
            RcptDecision::Accept
        );
    }

    #[test]
    fn custom_replies_and_address_sets() {
        let rules = SmtpRules::default()
            .reject_prefix_with("full", "552 5.2.2 mailbox full")
            .reject_addresses(["Gone@Example.org"])
            .reject_if(|a| a.ends_with("@blocked.test"));
        assert_eq!(
            rules.decide("full.box@example.org", true),
            RcptDecision::Refuse("552 5.2.2 mailbox full".into())
        );
        assert_eq!(
            rules.decide("gone@example.org", true),
            RcptDecision::Refuse("550 5.1.1 <gone@example.org>: mailbox unavailable".into())
        );
        assert_eq!(
            rules.decide("x@blocked.test", true),
            RcptDecision::Refuse("550 5.1.1 <x@blocked.test>: mailbox unavailable".into())
        );
        assert_eq!(
            rules.decide("gone2@example.org", true),
            RcptDecision::Accept
        );
    }

    #[test]
    fn defer_once_only_refuses_the_first_time() {
        let rules = SmtpRules::default().defer_once_prefix("greylist");
        assert_eq!(
            rules.decide("greylist-7@example.org", true),
            RcptDecision::Refuse("451 4.3.0 try again later".into())
        );
        assert_eq!(
            rules.decide("greylist-7@example.org", false),
            RcptDecision::Accept
        );
        assert_eq!(
            rules.decide("other@example.org", true),
            RcptDecision::Accept
        );
    }

    #[test]
    fn permanent_rejections_win_over_deferrals() {
        let rules = SmtpRules::default()
            .defer_once_if(|_| true)
            .reject_prefix("bounce");
        assert_eq!(
            rules.decide("bounce@example.org", true),
            RcptDecision::Refuse("550 5.1.1 <bounce@example.org>: mailbox unavailable".into())
        );
    }

    #[test]
    #[should_panic(expected = "must be like")]
    fn replies_without_a_failure_code_are_refused() {
        let _ = SmtpRules::default().reject_prefix_with("x", "250 fine");
    }

    #[test]
    fn multi_line_replies_are_accepted_when_well_formed() {
        let _ = SmtpRules::default().reject_prefix_with("x", "550-one\r\n550-two\r\n550 three");
        for bad in [
            "550 one\r\n550 two", // a space before the last line
            "550-one\r\n551 two", // two codes
            "550-one\r\n550-two", // no last line
            "550-one\n550 two",   // a bare LF
        ] {
            let refused = std::panic::catch_unwind(|| {
                let _ = SmtpRules::default().reject_prefix_with("x", bad);
            });
            assert!(refused.is_err(), "{bad:?}");
        }
    }
}
