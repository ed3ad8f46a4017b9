//! Logging: `RUST_LOG` filters (default `info`), `LOG_FORMAT=json` for machines. Never a
//! password or a recipient list: see the lettre directive below.

use tracing_subscriber::EnvFilter;

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // lettre logs every SMTP line at debug level, AUTH credentials and message bodies included:
    // never let it below info, whatever RUST_LOG says.
    let filter = match "lettre=info".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
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
