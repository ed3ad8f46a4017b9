//! The test SMTP server as a process, for tests written in other languages (the dashboard's
//! browser tests). It serves until it is killed.
//!
//! ```text
//! paloma-test-smtp [--reject-prefix P]... [--defer-once-prefix P]... [--delay-ms N] [--port-file F]
//! ```
//!
//! It prints `smtp://127.0.0.1:PORT` on stdout once it listens, and writes the port to
//! `--port-file` when given.

use std::process::ExitCode;
use std::time::Duration;

use paloma_testkit::{SmtpRules, TestSmtpServer};

const USAGE: &str = "usage: paloma-test-smtp [--reject-prefix P]... [--defer-once-prefix P]... \
                     [--delay-ms N] [--port-file FILE]";

fn main() -> ExitCode {
    let mut rules = SmtpRules::default();
    let mut port_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value\n{USAGE}");
            return ExitCode::from(2);
        };
        match flag.as_str() {
            "--reject-prefix" => rules = rules.reject_prefix(&value),
            "--defer-once-prefix" => rules = rules.defer_once_prefix(&value),
            "--delay-ms" => match value.parse::<u64>() {
                Ok(ms) => rules = rules.delay(Duration::from_millis(ms)),
                Err(_) => {
                    eprintln!("--delay-ms wants milliseconds, got {value:?}\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--port-file" => port_file = Some(value),
            _ => {
                eprintln!("unknown argument {flag:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }

    let server = match TestSmtpServer::start(rules) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot start the SMTP server: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = port_file
        && let Err(e) = std::fs::write(&path, server.port().to_string())
    {
        eprintln!("cannot write {path}: {e}");
        return ExitCode::FAILURE;
    }
    println!("{}", server.url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
