//! `paloma-test-smtp`'s command line: `--help` and `--version` answer and exit, an unknown
//! argument is a usage error (exit code 2), and the documented flags start a server.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_paloma-test-smtp");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

#[test]
fn help_lists_the_flags_and_exits() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--reject-prefix",
        "--defer-once-prefix",
        "--delay-ms",
        "--port-file",
        "--version",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn version_names_the_binary() {
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("paloma-test-smtp {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_or_incomplete_arguments_exit_with_code_2() {
    for args in [
        &["--frobnicate"][..],
        &["--delay-ms", "soon"][..],
        &["--port-file"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error:"), "{args:?}: {err}");
        assert!(err.contains("--help"), "{args:?}: {err}");
    }
}

#[test]
fn the_documented_flags_start_a_server_that_writes_its_port() {
    let dir = std::env::temp_dir().join(paloma_testkit::unique_name("paloma-test-smtp-"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port_file = dir.join("port");
    let mut child = Command::new(BIN)
        .args(["--reject-prefix", "bounce", "--reject-prefix", "nope"])
        .args([
            "--defer-once-prefix",
            "grey",
            "--delay-ms",
            "5",
            "--port-file",
        ])
        .arg(&port_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let read = child
        .stdout
        .take()
        .map(|out| BufReader::new(out).read_line(&mut line));
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut port = String::new();
    while port.is_empty() && Instant::now() < deadline {
        port = std::fs::read_to_string(&port_file).unwrap_or_default();
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(matches!(read, Some(Ok(n)) if n > 0), "{read:?}");
    assert_eq!(line.trim(), format!("smtp://127.0.0.1:{port}"));
}
