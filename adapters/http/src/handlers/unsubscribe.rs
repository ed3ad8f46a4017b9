//! The one-click unsubscribe of a message's `List-Unsubscribe` link (RFC 8058): public, no API
//! key. `GET /u/{token}` shows a confirmation page whose button POSTs; `POST /u/{token}` with
//! `List-Unsubscribe=One-Click` (form-encoded or multipart, as mailbox providers send it)
//! lists the address at once. A token that does not verify is `404`, with no reason given.
//! The pages are small, self-contained HTML: no script, no external asset.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use paloma_application::{ActivityLog, Clock, SuppressionError, SuppressionStore};

use crate::AppState;
use crate::dto::OneClickUnsubscribe;
use crate::error::{ApiError, ErrorBody, body_error};
use crate::extract::read_body;

/// The form field and value of a one-click unsubscribe (RFC 8058 section 3.1).
const FIELD: &str = "List-Unsubscribe";
const ONE_CLICK: &str = "One-Click";

/// The confirmation page of an unsubscribe link: which address, and a button that unsubscribes
/// it.
#[utoipa::path(
    get,
    path = "/u/{token}",
    tag = "unsubscribe",
    params(("token" = String, Path, description = "The token of a message's `List-Unsubscribe` link")),
    responses(
        (status = 200, description = "A page naming the address, with a button that POSTs `List-Unsubscribe=One-Click`", content_type = "text/html", body = String),
        (status = 404, description = "Not a valid unsubscribe link", content_type = "text/html", body = String),
    )
)]
pub async fn unsubscribe_page<R, Q, C, K>(
    State(state): State<AppState<R, Q, C, K>>,
    token: Result<Path<String>, PathRejection>,
) -> Response
where
    R: SuppressionStore + ActivityLog,
    C: Clock,
{
    let Ok(Path(token)) = token else {
        return not_found();
    };
    match state.suppressions.check_token(&token) {
        Ok(unsubscribe) => html(
            StatusCode::OK,
            "Unsubscribe",
            &format!(
                "<p>Stop sending messages to <strong>{}</strong>?</p>\
                 <form method=\"post\"><input type=\"hidden\" name=\"{FIELD}\" value=\"{ONE_CLICK}\">\
                 <button type=\"submit\">Unsubscribe</button></form>",
                escape(&unsubscribe.email)
            ),
        ),
        Err(_) => not_found(),
    }
}

/// One-click unsubscribe (RFC 8058): lists the link's address at once. Using a link twice is
/// fine.
#[utoipa::path(
    post,
    path = "/u/{token}",
    tag = "unsubscribe",
    params(("token" = String, Path, description = "The token of a message's `List-Unsubscribe` link")),
    request_body(
        description = "`List-Unsubscribe=One-Click`",
        content(
            (OneClickUnsubscribe = "application/x-www-form-urlencoded"),
            (OneClickUnsubscribe = "multipart/form-data"),
        )
    ),
    responses(
        (status = 200, description = "Unsubscribed", content_type = "text/html", body = String),
        (status = 400, description = "No `List-Unsubscribe=One-Click` in the body", content(
            (String = "text/html"),
            (ErrorBody = "application/json"),
        )),
        (status = 404, description = "Not a valid unsubscribe link; nothing changed", content_type = "text/html", body = String),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 503, description = "The database is unavailable; nothing changed", content_type = "text/html", body = String),
    )
)]
pub async fn unsubscribe_one_click<R, Q, C, K>(
    State(state): State<AppState<R, Q, C, K>>,
    token: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response
where
    R: SuppressionStore + ActivityLog,
    C: Clock,
{
    // The token first: a link that does not verify is refused before its body is read.
    let Ok(Path(token)) = token else {
        return not_found();
    };
    if state.suppressions.check_token(&token).is_err() {
        return not_found();
    }
    match one_click(request, &()).await {
        Ok(true) => {}
        Ok(false) => {
            return html(
                StatusCode::BAD_REQUEST,
                "Unsubscribe",
                "<p>This request does not say <code>List-Unsubscribe=One-Click</code>.</p>",
            );
        }
        Err(refused) => return refused.into_response(),
    }
    match state.suppressions.unsubscribe(&token).await {
        Ok(unsubscribe) => html(
            StatusCode::OK,
            "Unsubscribed",
            &format!(
                "<p><strong>{}</strong> will get no more of these messages.</p>",
                escape(&unsubscribe.email)
            ),
        ),
        Err(SuppressionError::InvalidToken | SuppressionError::NotFound) => not_found(),
        Err(e) => {
            // Logged and mapped as every API error is; the visitor sees a page, not the cause.
            let status = ApiError::from(e).status;
            html(
                status,
                "Unsubscribe",
                "<p>That did not work this time. Please try again in a moment.</p>",
            )
        }
    }
}

/// Whether the body holds `List-Unsubscribe=One-Click`, form-encoded or multipart; other
/// bodies hold nothing. Read within the API's body limit.
async fn one_click<S: Send + Sync>(request: Request, state: &S) -> Result<bool, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok());
    let Some(content_type) = content_type else {
        return Ok(false);
    };
    match (content_type.type_(), content_type.subtype()) {
        (mime::APPLICATION, mime::WWW_FORM_URLENCODED) => {
            let body = read_body(request, state).await?;
            Ok(url::form_urlencoded::parse(&body).any(|(k, v)| k == FIELD && v == ONE_CLICK))
        }
        (mime::MULTIPART, mime::FORM_DATA) => {
            let Ok(mut form) = Multipart::from_request(request, state).await else {
                return Ok(false);
            };
            loop {
                match form.next_field().await {
                    Ok(Some(field)) => {
                        if field.name() != Some(FIELD) {
                            continue;
                        }
                        match field.text().await {
                            Ok(value) if value == ONE_CLICK => return Ok(true),
                            Ok(_) => {}
                            Err(e) => return Err(body_error(e.status())),
                        }
                    }
                    Ok(None) => return Ok(false),
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err(body_error(e.status()));
                    }
                    Err(_) => return Ok(false),
                }
            }
        }
        _ => Ok(false),
    }
}

fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "Unsubscribe",
        "<p>This unsubscribe link is not valid. Please use the link of a message you received.</p>",
    )
}

/// A small self-contained page. The token is in the URL: no referrer leaves with it, and
/// nothing may frame, script or restyle the page.
fn html(status: StatusCode, title: &str, content: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2937}}\
         h1{{font-size:1.25rem}}button{{font:inherit;padding:.5rem 1rem;border:0;border-radius:.375rem;\
         background:#1f2937;color:#fff;cursor:pointer}}\
         </style></head><body><h1>{title}</h1>{content}</body></html>\n"
    );
    let mut response = (status, page).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    response
}

/// `text` as HTML text or attribute content.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_escaped_in_pages() {
        assert_eq!(
            escape("a'b&<c>\"@example.org"),
            "a&#39;b&amp;&lt;c&gt;&quot;@example.org"
        );
    }
}
