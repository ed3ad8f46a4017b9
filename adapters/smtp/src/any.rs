//! One mailer type for the binaries: SMTP when configured, a simulated server for a `sim://`
//! URL, `.eml` files otherwise.

use std::path::Path;

use paloma_application::{Mailer, OutgoingMessage};
use paloma_domain::DeliveryOutcome;

use crate::error::MailerConfigError;
use crate::file::FileMailer;
use crate::sim::{SimulatedMailer, Simulation};
use crate::smtp::SmtpMailer;

/// The mailer the configuration asks for.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per process, never moved in a hot path"
)]
pub enum AnyMailer {
    /// `SMTP_URL` is set.
    Smtp(SmtpMailer),
    /// `SMTP_URL` is unset: `.eml` files in the outbox directory.
    File(FileMailer),
    /// `SMTP_URL` is `sim://...`: nothing is sent (demos, load tests).
    Sim(SimulatedMailer),
}

impl AnyMailer {
    /// An [`SmtpMailer`] for `smtp_url` with `concurrency` connections, a [`SimulatedMailer`]
    /// for a `sim://` URL, or, when `smtp_url` is `None` or blank, a [`FileMailer`] writing into
    /// `outbox`. Messages are sent as `mail_from`.
    pub fn from_config(
        smtp_url: Option<&str>,
        mail_from: &str,
        concurrency: usize,
        outbox: &Path,
    ) -> Result<Self, MailerConfigError> {
        match smtp_url.map(str::trim).filter(|url| !url.is_empty()) {
            Some(url)
                if url
                    .get(..6)
                    .is_some_and(|s| s.eq_ignore_ascii_case("sim://")) =>
            {
                Simulation::parse(url).map(|sim| AnyMailer::Sim(SimulatedMailer::new(sim)))
            }
            Some(url) => SmtpMailer::new(url, mail_from, concurrency).map(AnyMailer::Smtp),
            None => FileMailer::new(outbox, mail_from).map(AnyMailer::File),
        }
    }

    /// Where messages go, for a start-up log line (the SMTP password masked).
    pub fn describe(&self) -> String {
        match self {
            AnyMailer::Smtp(mailer) => format!("SMTP server {}", mailer.redacted_url()),
            AnyMailer::File(mailer) => format!(".eml files in {}", mailer.dir().display()),
            AnyMailer::Sim(mailer) => {
                let sim = mailer.simulation();
                format!(
                    "a simulated server (nothing is sent): {} ms ± {} ms a message, {}% refused, {}% deferred, seed {}",
                    sim.latency.as_millis(),
                    sim.jitter.as_millis(),
                    sim.fail_rate * 100.0,
                    sim.defer_rate * 100.0,
                    sim.seed
                )
            }
        }
    }

    /// See [`SmtpMailer::cleartext_credentials_warning`]; `None` for files.
    pub fn cleartext_credentials_warning(&self) -> Option<&'static str> {
        match self {
            AnyMailer::Smtp(mailer) => mailer.cleartext_credentials_warning(),
            AnyMailer::File(_) | AnyMailer::Sim(_) => None,
        }
    }

    /// Whether messages can go out now: the SMTP server accepts a session (see
    /// [`SmtpMailer::check`]), the outbox directory is there; always for the simulation.
    pub async fn check(&self) -> Result<(), String> {
        match self {
            AnyMailer::Smtp(mailer) => mailer.check().await,
            AnyMailer::File(mailer) if mailer.dir().is_dir() => Ok(()),
            AnyMailer::File(mailer) => Err(format!(
                "the outbox directory {} is missing",
                mailer.dir().display()
            )),
            AnyMailer::Sim(_) => Ok(()),
        }
    }

    /// Closes pooled SMTP connections; nothing to do for files.
    pub async fn shutdown(&self) {
        if let AnyMailer::Smtp(mailer) = self {
            mailer.shutdown().await;
        }
    }
}

impl Mailer for AnyMailer {
    async fn send(&self, message: OutgoingMessage) -> DeliveryOutcome {
        match self {
            AnyMailer::Smtp(mailer) => mailer.send(message).await,
            AnyMailer::File(mailer) => mailer.send(message).await,
            AnyMailer::Sim(mailer) => mailer.send(message).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_blank_url_means_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = dir.path().join("nested").join("outbox");
        for url in [None, Some(""), Some("  ")] {
            let mailer = AnyMailer::from_config(url, "Paloma <no-reply@localhost>", 5, &outbox)
                .expect("file mailer");
            assert!(matches!(mailer, AnyMailer::File(_)), "{mailer:?}");
        }
        assert!(outbox.is_dir());
    }

    #[test]
    fn a_url_means_smtp_and_is_described_without_its_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mailer = AnyMailer::from_config(
            Some("smtp://bob:hunter2@localhost:2525"),
            "Paloma <no-reply@localhost>",
            5,
            dir.path(),
        )
        .expect("smtp mailer");
        assert!(matches!(mailer, AnyMailer::Smtp(_)));
        assert_eq!(
            mailer.describe(),
            "SMTP server smtp://bob:***@localhost:2525"
        );
    }

    #[test]
    fn a_sim_url_means_the_simulated_server_and_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mailer = AnyMailer::from_config(
            Some("SIM://?latency_ms=5&fail_rate=0.5&seed=9"),
            "no-reply@localhost",
            5,
            dir.path(),
        )
        .expect("simulated");
        assert!(matches!(mailer, AnyMailer::Sim(_)), "{mailer:?}");
        assert_eq!(
            mailer.describe(),
            "a simulated server (nothing is sent): 5 ms ± 0 ms a message, 50% refused, 0% deferred, seed 9"
        );
        let error = AnyMailer::from_config(
            Some("sim://?fail_rate=2"),
            "no-reply@localhost",
            5,
            dir.path(),
        )
        .expect_err("refused");
        assert!(error.to_string().contains("fail_rate"), "{error}");
    }

    #[test]
    fn an_outbox_that_cannot_be_created_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").expect("write");
        let error = AnyMailer::from_config(None, "no-reply@localhost", 5, &file.join("outbox"))
            .expect_err("not a dir");
        assert!(
            error
                .to_string()
                .starts_with("cannot create the outbox directory"),
            "{error}"
        );
    }
}
