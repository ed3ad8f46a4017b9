//! Extractors that turn axum's rejections into the API's error shape.

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use paloma_domain::IdempotencyKey;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use uuid::Uuid;

use crate::error::{
    ApiError, ErrorCode, ErrorDetails, FieldError, ValidationDetails, body_error, count,
};

/// A JSON body: 400 when it is not JSON, 422 when it does not fit the schema (missing fields,
/// wrong types; `details.fields` names the field), 413 when too large, 415 without
/// `Content-Type: application/json`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "expected a body with Content-Type: application/json",
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(Self)
    }
}

/// The whole body, within the API's body limit: 413 when too large, the rejection's own status
/// when it cannot be read.
pub(crate) async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e| body_error(e.status()))
}

/// A JSON body that may be left out: no body at all (no `Content-Length`, or 0, and not
/// chunked) or JSON `null` is `None`; any other body is read as [`ApiJson`] reads it.
pub struct OptionalApiJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let chunked = headers.contains_key(header::TRANSFER_ENCODING);
        if !chunked && length.unwrap_or(0) == 0 {
            return Ok(Self(None));
        }
        // JSON `null` is no body too.
        let ApiJson(value) = ApiJson::<Option<T>>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// `application/json`, or any `application/*+json`, as axum's `Json` accepts.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
        })
}

/// Parses the whole body as one JSON value of type `T`, tracking where in the document a value
/// of the wrong shape sits.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let is_data = e.inner().classify() == serde_json::error::Category::Data;
        if is_data {
            schema_mismatch(&e)
        } else {
            malformed(e.to_string())
        }
    })?;
    deserializer.end().map_err(|e| malformed(e.to_string()))?;
    Ok(value)
}

fn malformed(reason: String) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::MalformedJson,
        format!("the body is not valid JSON: {}", bounded(reason)),
    )
}

/// Well-formed JSON that does not fit the schema: 422, naming the field when there is one.
fn schema_mismatch(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let error = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::InvalidRequest,
        bounded(e.to_string()),
    );
    match field_error(e.path(), &e.inner().to_string()) {
        Some(field) => error.with_details(ErrorDetails::Validation(ValidationDetails {
            fields: vec![field],
            ..ValidationDetails::default()
        })),
        None => error,
    }
}

/// The field a schema error concerns: the first key of its path (and the position in the list
/// right after it, e.g. `recipients[3]`). An error on the top-level object itself (a missing or
/// an unknown or a repeated field) has no path below the object: serde names that field, between
/// backquotes, in the fixed words of its `missing_field`, `unknown_field` and `duplicate_field`
/// errors.
fn field_error(path: &serde_path_to_error::Path, message: &str) -> Option<FieldError> {
    let message = message
        .rsplit_once(" at line ")
        .map_or(message, |(message, _)| message);
    let mut segments = path.iter();
    let field = match segments.next() {
        Some(Segment::Map { key }) => key.clone(),
        Some(Segment::Seq { .. } | Segment::Enum { .. } | Segment::Unknown) => return None,
        None => ["missing field `", "unknown field `", "duplicate field `"]
            .iter()
            .find_map(|prefix| message.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name.to_owned())?,
    };
    let index = match segments.next() {
        Some(Segment::Seq { index }) => Some(count(*index)),
        _ => None,
    };
    Some(FieldError {
        field: cut(field, MAX_FIELD_CHARS),
        index,
        message: bounded(message.to_owned()),
    })
}

/// The longest parser message sent back, in characters.
const MAX_MESSAGE_CHARS: usize = 500;

/// serde's messages quote the input (an unknown field's name, the path to the error), so a
/// 1 MiB key would come back twice over: the message is cut to [`MAX_MESSAGE_CHARS`].
fn bounded(message: String) -> String {
    cut(message, MAX_MESSAGE_CHARS)
}

/// The longest field name sent back in `details.fields`, in characters (real ones are short;
/// an unknown one is the client's).
const MAX_FIELD_CHARS: usize = 100;

fn cut(text: String, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Query parameters: 400 when they do not parse.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| {
                let detail = std::error::Error::source(&e)
                    .map_or_else(|| e.body_text(), ToString::to_string);
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidRequest,
                    format!("invalid query: {detail}"),
                )
            })
    }
}

/// A campaign id in the path: 400 when it is not a UUID.
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<Uuid>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|_: PathRejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidRequest,
                    "the id in the path is not a UUID",
                )
            })
    }
}

/// The optional `Idempotency-Key` header: 400 when present but not 1-255 visible ASCII
/// characters, or sent twice.
pub struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

/// The header's name.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let invalid = |why: String| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidRequest,
                format!("invalid Idempotency-Key header: {why}"),
            )
        };
        let mut values = parts.headers.get_all(IDEMPOTENCY_KEY).iter();
        let Some(value) = values.next() else {
            return Ok(Self(None));
        };
        if values.next().is_some() {
            return Err(invalid("it was sent more than once".into()));
        }
        let value = value
            .to_str()
            .map_err(|_| invalid("it may only contain visible ASCII characters".into()))?;
        IdempotencyKey::parse(value)
            .map(|key| Self(Some(key)))
            .map_err(|e| invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::CreateCampaignRequest;

    /// The answer to a body, as `(status, code, details.fields)`.
    fn refusal(body: &str) -> (StatusCode, ErrorCode, Vec<FieldError>) {
        match parse_json::<CreateCampaignRequest>(body.as_bytes()) {
            Ok(_) => panic!("accepted: {body}"),
            Err(e) => {
                let fields = match e.details {
                    Some(ErrorDetails::Validation(details)) => details.fields,
                    _ => vec![],
                };
                (e.status, e.code, fields)
            }
        }
    }

    fn field(field: &str, index: Option<u64>, message: &str) -> FieldError {
        FieldError {
            field: field.into(),
            index,
            message: message.into(),
        }
    }

    #[test]
    fn a_schema_error_names_its_field_and_entry() {
        let unknown = "unknown field `cc`, expected one of `subject`, `body`, `recipients`, `draft`, `scheduledAt`, `from`, `replyTo`";
        let cases = [
            (
                r#"{"subject":5,"body":"b","recipients":["a@x.org"]}"#,
                field(
                    "subject",
                    None,
                    "invalid type: integer `5`, expected a string",
                ),
            ),
            (
                r#"{"body":"b","recipients":["a@x.org"]}"#,
                field("subject", None, "missing field `subject`"),
            ),
            (
                r#"{"subject":"s","body":"b","recipients":["a@x.org"],"cc":1}"#,
                field("cc", None, unknown),
            ),
            (
                r#"{"subject":"s","subject":"t","body":"b","recipients":["a@x.org"]}"#,
                field("subject", None, "duplicate field `subject`"),
            ),
            (
                r#"{"subject":"s","body":"b","recipients":["a@x.org",{"email":7}]}"#,
                field(
                    "recipients",
                    Some(1),
                    "data did not match any variant of untagged enum RecipientEntry",
                ),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                refusal(body),
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::InvalidRequest,
                    vec![expected]
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn an_error_on_the_whole_body_names_no_field() {
        for body in ["[]", "null", r#""subject""#] {
            assert_eq!(
                refusal(body),
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::InvalidRequest,
                    vec![]
                ),
                "{body}"
            );
        }
        let trailing = r#"{"subject":"s","body":"b","recipients":["a@x.org"]} {}"#;
        for body in ["{", trailing, ""] {
            assert_eq!(
                refusal(body),
                (StatusCode::BAD_REQUEST, ErrorCode::MalformedJson, vec![]),
                "{body}"
            );
        }
    }

    #[test]
    fn a_huge_unknown_field_is_cut() {
        let name = "k".repeat(10_000);
        let body = format!(r#"{{"{name}":1}}"#);
        let (_, _, fields) = refusal(&body);
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].field.chars().count(), MAX_FIELD_CHARS + 1);
        assert!(fields[0].message.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
