//! The test SMTP server as a process, for tests written in other languages (the dashboard's
//! browser tests). It serves until it is killed.
//!
//! ```text
//! paloma-test-smtp [--reject-prefix P]... [--defer-once-prefix P]... [--delay-ms N] [--port-file F]
//! ```
//!
//! It prints `smtp://127.0.0.1:PORT` on stdout once it listens, and writes the port to
//! `--port-file` when given.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use paloma_testkit::{SmtpRules, TestSmtpServer};

/// A scriptable SMTP server for tests: accepts every message on a free port of 127.0.0.1 and
/// prints its `smtp://` URL on stdout, until it is killed. For tests only.
#[derive(Debug, Parser)]
#[command(name = "paloma-test-smtp", version)]
struct Cli {
    /// Refuse for good (550) every recipient whose local part starts with P (repeatable).
    #[arg(long = "reject-prefix", value_name = "P")]
    reject_prefixes: Vec<String>,
    /// Answer 451 the first time a recipient whose local part starts with P is seen (repeatable).
    #[arg(long = "defer-once-prefix", value_name = "P")]
    defer_once_prefixes: Vec<String>,
    /// Wait this many milliseconds before answering each message's DATA.
    #[arg(long, value_name = "N")]
    delay_ms: Option<u64>,
    /// Also write the port to this file once listening.
    #[arg(long, value_name = "FILE")]
    port_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut rules = SmtpRules::default();
    for prefix in &cli.reject_prefixes {
        rules = rules.reject_prefix(prefix);
    }
    for prefix in &cli.defer_once_prefixes {
        rules = rules.defer_once_prefix(prefix);
    }
    if let Some(ms) = cli.delay_ms {
        rules = rules.delay(Duration::from_millis(ms));
    }

    let server = match TestSmtpServer::start(rules) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot start the SMTP server: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &cli.port_file
        && let Err(e) = std::fs::write(path, server.port().to_string())
    {
        eprintln!("cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("{}", server.url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
