//! Logging: `RUST_LOG` filters (default `info`), `LOG_FORMAT=json` for machines. Never a
//! password or a recipient list: see the lettre directive below.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Logs to standard output (the servers).
pub fn init(json: bool) {
    init_with(json, std::io::stdout);
}

/// Logs to standard error: for commands whose standard output is their answer (`paloma-api
/// keys ...`).
pub fn init_to_stderr(json: bool) {
    init_with(json, std::io::stderr);
}

fn init_with<W>(json: bool, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // lettre logs every SMTP line at debug level, AUTH credentials and message bodies included:
    // never let it below info, whatever RUST_LOG says.
    let filter = match "lettre=info".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(writer);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    } else {
        builder.init();
    }
}
