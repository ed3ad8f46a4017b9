//! A simulated transport for demos and load tests: `SMTP_URL=sim://?latency_ms=20&jitter_ms=10&
//! fail_rate=0.02&defer_rate=0.05&seed=42`. It sends nothing: each message waits the latency
//! (plus or minus the jitter) and gets the reply a real server would give, at those rates:
//! `250` accepted, `550 5.1.1` no such user (a permanent failure, and a hard bounce), `451
//! 4.7.1` try again later (deferred: the worker retries it).
//!
//! Outcomes are reproducible for a seed: each is drawn from a SHA-256 of the seed, the address
//! (lowercased) and how many times this process has been deferred on that address, so the same
//! list gives the same outcomes whatever the order, the concurrency or the number of workers.
//! A deferred address is deferred again on a retry with probability `defer_rate`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use paloma_application::{Mailer, OutgoingMessage};
use paloma_domain::DeliveryOutcome;
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::MailerConfigError;

/// What a simulated server does, from the `sim://` URL's query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulation {
    /// Mean time one message takes.
    pub latency: Duration,
    /// Each message takes `latency ± jitter` (uniformly; never less than zero).
    pub jitter: Duration,
    /// Share of addresses refused for good (`550 5.1.1`).
    pub fail_rate: f64,
    /// Share of messages deferred (`451 4.7.1`), each attempt.
    pub defer_rate: f64,
    pub seed: u64,
}

impl Default for Simulation {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(20),
            jitter: Duration::ZERO,
            fail_rate: 0.0,
            defer_rate: 0.0,
            seed: 0,
        }
    }
}

impl Simulation {
    /// Reads a `sim://?...` URL; every parameter is optional, an unknown one or a rate outside
    /// `[0, 1]` (or rates adding up to more than 1) is an error naming it.
    pub fn parse(raw: &str) -> Result<Self, MailerConfigError> {
        let invalid = |reason: String| MailerConfigError::InvalidSmtpUrl {
            url: raw.to_owned(),
            reason,
        };
        let url = Url::parse(raw).map_err(|e| invalid(e.to_string()))?;
        if url.scheme() != "sim" {
            return Err(invalid("the scheme is not sim".to_owned()));
        }
        let mut sim = Self::default();
        for (name, value) in url.query_pairs() {
            let number = || {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| invalid(format!("{name} must be a number of at least 0")))
            };
            let millis = || number().map(|ms| Duration::from_secs_f64(ms / 1000.0));
            let rate = || {
                number().and_then(|r| {
                    if r <= 1.0 {
                        Ok(r)
                    } else {
                        Err(invalid(format!("{name} must be between 0 and 1")))
                    }
                })
            };
            match name.as_ref() {
                "latency_ms" => sim.latency = millis()?,
                "jitter_ms" => sim.jitter = millis()?,
                "fail_rate" => sim.fail_rate = rate()?,
                "defer_rate" => sim.defer_rate = rate()?,
                "seed" => {
                    sim.seed = value
                        .parse()
                        .map_err(|_| invalid("seed must be a whole number".to_owned()))?;
                }
                other => {
                    return Err(invalid(format!(
                        "unknown parameter {other} (known: latency_ms, jitter_ms, fail_rate, defer_rate, seed)"
                    )));
                }
            }
        }
        if sim.fail_rate + sim.defer_rate > 1.0 {
            return Err(invalid(
                "fail_rate and defer_rate add up to more than 1".to_owned(),
            ));
        }
        Ok(sim)
    }
}

/// The [`Mailer`] of a simulated server.
#[derive(Debug)]
pub struct SimulatedMailer {
    sim: Simulation,
    /// Times each address was deferred so far (only deferred addresses are kept).
    deferred: Mutex<HashMap<String, u32>>,
}

impl SimulatedMailer {
    pub fn new(sim: Simulation) -> Self {
        Self {
            sim,
            deferred: Mutex::default(),
        }
    }

    pub fn simulation(&self) -> Simulation {
        self.sim
    }

    /// The outcome for `address` on this attempt, and how long it takes. Deterministic.
    fn draw(&self, address: &str) -> (DeliveryOutcome, Duration) {
        let address = address.to_lowercase();
        let mut deferred = self
            .deferred
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let times = deferred.get(&address).copied().unwrap_or(0);
        let [pick, wait] = uniforms(self.sim.seed, &address, times);
        let sim = &self.sim;
        let outcome = if times == 0 && pick < sim.fail_rate {
            DeliveryOutcome::Permanent(format!("550 5.1.1 <{address}>: no such user (simulated)"))
        } else if (times == 0 && pick < sim.fail_rate + sim.defer_rate)
            || (times > 0 && pick < sim.defer_rate)
        {
            deferred.insert(address, times + 1);
            DeliveryOutcome::Transient("451 4.7.1 try again later (simulated)".to_owned())
        } else {
            if times > 0 {
                deferred.remove(&address);
            }
            DeliveryOutcome::Sent
        };
        let spread = sim.jitter.as_secs_f64() * (2.0 * wait - 1.0);
        let took = Duration::from_secs_f64((sim.latency.as_secs_f64() + spread).max(0.0));
        (outcome, took)
    }
}

/// Two numbers in `[0, 1)` from the seed, the address and the attempt.
fn uniforms(seed: u64, address: &str, attempt: u32) -> [f64; 2] {
    let digest = Sha256::new()
        .chain_update(seed.to_le_bytes())
        .chain_update(attempt.to_le_bytes())
        .chain_update(address.as_bytes())
        .finalize();
    let unit = |bytes: &[u8]| {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes);
        // The top 53 bits: every value a f64 in [0, 1) holds exactly.
        (u64::from_le_bytes(word) >> 11) as f64 / (1u64 << 53) as f64
    };
    [unit(&digest[..8]), unit(&digest[8..16])]
}

impl Mailer for SimulatedMailer {
    async fn send(&self, message: OutgoingMessage) -> DeliveryOutcome {
        let (outcome, took) = self.draw(&message.to);
        tokio::time::sleep(took).await;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailer(url: &str) -> SimulatedMailer {
        SimulatedMailer::new(Simulation::parse(url).expect("valid"))
    }

    #[test]
    fn the_url_sets_each_parameter_and_refuses_what_it_does_not_know() {
        let sim = Simulation::parse(
            "sim://?latency_ms=20&jitter_ms=10&fail_rate=0.02&defer_rate=0.05&seed=42",
        )
        .expect("valid");
        assert_eq!(
            sim,
            Simulation {
                latency: Duration::from_millis(20),
                jitter: Duration::from_millis(10),
                fail_rate: 0.02,
                defer_rate: 0.05,
                seed: 42,
            }
        );
        assert_eq!(
            Simulation::parse("sim://").expect("defaults"),
            Simulation::default()
        );
        for (bad, says) in [
            ("sim://?fail_rate=1.5", "fail_rate must be between 0 and 1"),
            ("sim://?latency_ms=-1", "latency_ms must be a number"),
            (
                "sim://?fail_rate=0.6&defer_rate=0.6",
                "add up to more than 1",
            ),
            ("sim://?speed=9", "unknown parameter speed"),
            ("sim://?seed=x", "seed must be a whole number"),
        ] {
            let error = Simulation::parse(bad).expect_err(bad).to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn outcomes_come_at_their_rates_and_are_the_same_for_a_seed_whatever_the_order() {
        let url = "sim://?latency_ms=0&fail_rate=0.1&defer_rate=0.2&seed=7";
        let addresses: Vec<String> = (0..5_000).map(|i| format!("user{i}@example.org")).collect();
        let first = mailer(url);
        let outcomes: Vec<DeliveryOutcome> = addresses.iter().map(|a| first.draw(a).0).collect();
        let share = |f: fn(&DeliveryOutcome) -> bool| {
            outcomes.iter().filter(|o| f(o)).count() as f64 / outcomes.len() as f64
        };
        let failed = share(|o| matches!(o, DeliveryOutcome::Permanent(_)));
        let deferred = share(|o| matches!(o, DeliveryOutcome::Transient(_)));
        // Binomial, n = 5000: 4 standard deviations are under 0.02.
        assert!((failed - 0.1).abs() < 0.02, "{failed}");
        assert!((deferred - 0.2).abs() < 0.025, "{deferred}");
        assert!(paloma_domain::is_hard_bounce(
            &outcomes
                .iter()
                .find_map(|o| match o {
                    DeliveryOutcome::Permanent(reply) => Some(reply.clone()),
                    _ => None,
                })
                .expect("a failure")
        ));

        // Another process, the list backwards: the same outcome for each address.
        let second = mailer(url);
        for (address, outcome) in addresses.iter().zip(&outcomes).rev() {
            assert_eq!(&second.draw(address).0, outcome, "{address}");
        }
        // Another seed: other outcomes.
        let other = mailer("sim://?latency_ms=0&fail_rate=0.1&defer_rate=0.2&seed=8");
        let differ = addresses
            .iter()
            .zip(&outcomes)
            .filter(|(a, o)| other.draw(a).0 != **o)
            .count();
        assert!(differ > 500, "{differ}");
    }

    #[test]
    fn a_deferred_address_is_deferred_again_at_the_defer_rate_and_then_sent() {
        let sim = mailer("sim://?latency_ms=0&defer_rate=0.5&seed=1");
        let mut again = 0;
        let mut deferred = 0;
        for i in 0..2_000 {
            let address = format!("d{i}@example.org");
            if matches!(sim.draw(&address).0, DeliveryOutcome::Transient(_)) {
                deferred += 1;
                if matches!(sim.draw(&address).0, DeliveryOutcome::Transient(_)) {
                    again += 1;
                }
                // Retried until it goes: never refused for good.
                let mut tries = 0;
                while matches!(sim.draw(&address).0, DeliveryOutcome::Transient(_)) {
                    tries += 1;
                    assert!(tries < 64, "{address} deferred for ever");
                }
            }
        }
        let share = f64::from(again) / f64::from(deferred);
        assert!((share - 0.5).abs() < 0.07, "{again} of {deferred}");
    }

    #[test]
    fn each_message_takes_the_latency_within_the_jitter() {
        let sim = mailer("sim://?latency_ms=20&jitter_ms=10&seed=3");
        let mut least = Duration::MAX;
        let mut most = Duration::ZERO;
        for i in 0..200 {
            let took = sim.draw(&format!("t{i}@example.org")).1;
            least = least.min(took);
            most = most.max(took);
        }
        assert!(
            least >= Duration::from_millis(10) && least < Duration::from_millis(12),
            "{least:?}"
        );
        assert!(
            most <= Duration::from_millis(30) && most > Duration::from_millis(28),
            "{most:?}"
        );
    }
}
