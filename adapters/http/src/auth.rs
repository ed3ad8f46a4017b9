//! Access control at the door: [`authenticate`] proves the bearer token of every `/api`
//! request and slows down clients that keep failing, before anything reads a body (so no
//! stranger can take the large-body budget); every `/api` handler names the scope it needs in
//! its signature ([`Authorized`]), checked before it reads the body.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use paloma_application::{ActivityLog, AuthError, Clock, KeyStore};
use paloma_domain::{Actor, ApiKey, Scope};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// What an operation requires of the key: a scope, or only a valid key.
pub trait Permission: Send + Sync + 'static {
    const SCOPE: Option<Scope>;
}

macro_rules! permission {
    ($(#[$meta:meta])* $name:ident, $scope:expr) => {
        $(#[$meta])*
        pub struct $name;
        impl Permission for $name {
            const SCOPE: Option<Scope> = $scope;
        }
    };
}

permission!(
    /// Any valid key.
    AnyKey,
    None
);
permission!(
    /// `campaigns:read`.
    ReadCampaigns,
    Some(Scope::CampaignsRead)
);
permission!(
    /// `campaigns:create`.
    CreateCampaigns,
    Some(Scope::CampaignsCreate)
);
permission!(
    /// `campaigns:send`.
    SendCampaigns,
    Some(Scope::CampaignsSend)
);
permission!(
    /// `keys:manage`.
    ManageKeys,
    Some(Scope::KeysManage)
);

/// Whom the request's bearer token proved: put into the request by [`authenticate`] for the
/// handler's [`Authorized`] to check the scope of.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub actor: Actor,
    pub key: ApiKey,
}

/// Whether a path is served without a key: everything outside `/api/`, and the OpenAPI document.
fn is_open(path: &str) -> bool {
    !path.starts_with("/api/") || path == "/api/openapi.json"
}

/// The door of every `/api` route, in front of everything that reads a body: proves the bearer
/// token, or answers `401 unauthorized` (no token, or an unknown, malformed or revoked one) or
/// `429 too_many_requests` once the client's address has failed too often (without looking its
/// token up). What it proved goes into the request for [`Authorized`].
pub async fn authenticate<R, Q, C, K>(
    State(state): State<AppState<R, Q, C, K>>,
    mut request: Request,
    next: Next,
) -> Response
where
    C: Clock,
    K: KeyStore + ActivityLog,
{
    if is_open(request.uri().path()) {
        return next.run(request).await;
    }
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let failures = &state.auth_failures;
    if let Some(wait) = client.and_then(|ip| failures.blocked(ip, Instant::now())) {
        return too_many_requests(wait);
    }
    let Some(token) = bearer_token(request.headers()) else {
        return unauthorized(
            "this operation needs an API key: send `Authorization: Bearer <token>`",
        );
    };
    let key = match state.keys.authenticate(token).await {
        Ok(key) => key,
        Err(AuthError::Repository(cause)) => {
            tracing::warn!(error = %cause, "cannot check an API key");
            return ApiError::unavailable().into_response();
        }
        Err(reason) => {
            tracing::info!(client = ?client, %reason, "refused an API key");
            if let Some(wait) = client.and_then(|ip| failures.fail(ip, Instant::now())) {
                return too_many_requests(wait);
            }
            return unauthorized("the API key is not valid or was revoked");
        }
    };
    let actor = Actor::key(&key, client);
    request
        .extensions_mut()
        .insert(Authenticated { actor, key });
    next.run(request).await
}

/// A request made with a key that has the permission `P`: who is asking, and from where.
/// Rejects with `403 forbidden` naming the scope the key lacks, before the handler reads the
/// body. [`authenticate`] proved the key; without it (a route outside its reach) the answer is
/// `401`.
pub struct Authorized<P> {
    pub actor: Actor,
    /// The key the token proved.
    pub key: ApiKey,
    permission: PhantomData<P>,
}

impl<S, P> FromRequestParts<S> for Authorized<P>
where
    S: Send + Sync,
    P: Permission,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(Authenticated { actor, key }) = parts.extensions.get::<Authenticated>().cloned()
        else {
            return Err(unauthorized(
                "this operation needs an API key: send `Authorization: Bearer <token>`",
            ));
        };
        if let Some(scope) = P::SCOPE
            && !actor.may(scope)
        {
            return Err(forbidden(scope));
        }
        Ok(Self {
            actor,
            key,
            permission: PhantomData,
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case, as RFC 9110
/// says); `None` without one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unauthorized(message: &str) -> Response {
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn forbidden(scope: Scope) -> Response {
    crate::error::forbidden(scope).into_response()
}

fn too_many_requests(wait: Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyRequests,
        format!("too many failed authentications from this address; retry in {seconds} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Counts each client address's failed authentications in fixed windows: once an address has
/// failed `limit` times within `window` of its first failure, it is refused until the window
/// ends, without its token being looked up. IPv6 clients count per /64 (what one host is
/// usually given). Memory stays bounded: windows that ended are dropped once many addresses
/// are tracked.
#[derive(Debug)]
pub struct AuthFailures {
    limit: u32,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, FailureWindow>>,
}

#[derive(Debug, Clone, Copy)]
struct FailureWindow {
    started: Instant,
    failures: u32,
}

/// Addresses tracked before ended windows are swept.
const SWEEP_ABOVE: usize = 10_000;

impl AuthFailures {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, FailureWindow>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long `ip` must still wait, when it has used up its failures.
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let window = *self.clients().get(&client_of(ip))?;
        self.wait(window, now)
    }

    /// Counts a failure of `ip`; how long it must now wait, when that was one too many.
    pub fn fail(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let mut clients = self.clients();
        if clients.len() > SWEEP_ABOVE {
            clients.retain(|_, w| now.saturating_duration_since(w.started) < self.window);
        }
        let entry = clients.entry(client_of(ip)).or_insert(FailureWindow {
            started: now,
            failures: 0,
        });
        if now.saturating_duration_since(entry.started) >= self.window {
            *entry = FailureWindow {
                started: now,
                failures: 0,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
        let window = *entry;
        drop(clients);
        self.wait(window, now)
    }

    fn wait(&self, window: FailureWindow, now: Instant) -> Option<Duration> {
        let ends = window.started + self.window;
        (window.failures >= self.limit && now < ends).then(|| ends - now)
    }
}

/// The address failures are counted under: IPv4 as it is (also when mapped into IPv6), IPv6 by
/// its /64.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn an_address_is_refused_after_its_limit_until_the_window_ends() {
        let failures = AuthFailures::new(3, Duration::from_secs(60));
        let start = Instant::now();
        let client = ip("192.0.2.1");
        assert_eq!(failures.fail(client, start), None);
        assert_eq!(failures.fail(client, start), None);
        assert_eq!(failures.blocked(client, start), None);
        assert_eq!(
            failures.fail(client, start + Duration::from_secs(10)),
            Some(Duration::from_secs(50))
        );
        assert_eq!(
            failures.blocked(client, start + Duration::from_secs(59)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            failures.blocked(ip("192.0.2.2"), start),
            None,
            "others pass"
        );
        assert_eq!(
            failures.blocked(client, start + Duration::from_secs(60)),
            None
        );
        assert_eq!(
            failures.fail(client, start + Duration::from_secs(61)),
            None,
            "a new window starts"
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let failures = AuthFailures::new(2, Duration::from_secs(60));
        let now = Instant::now();
        failures.fail(ip("2001:db8:1:2::1"), now);
        assert!(failures.fail(ip("2001:db8:1:2:ffff::9"), now).is_some());
        assert!(failures.blocked(ip("2001:db8:1:3::1"), now).is_none());
        failures.fail(ip("::ffff:198.51.100.7"), now);
        assert!(failures.fail(ip("198.51.100.7"), now).is_some());
    }

    #[test]
    fn only_the_api_needs_a_key_and_its_document_is_open() {
        for open in [
            "/healthz",
            "/readyz",
            "/docs/",
            "/api/openapi.json",
            "/apix",
            "/",
        ] {
            assert!(is_open(open), "{open}");
        }
        for closed in [
            "/api/emails",
            "/api/me",
            "/api/unknown",
            "/api/openapi.json/x",
        ] {
            assert!(!is_open(closed), "{closed}");
        }
    }

    #[test]
    fn only_a_bearer_token_is_taken() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        for (value, expected) in [
            ("Bearer pal_abc", Some("pal_abc")),
            ("bearer   pal_abc ", Some("pal_abc")),
            ("Basic dXNlcjpwYXNz", None),
            ("Bearer", None),
            ("Bearer ", None),
        ] {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer_token(&headers), expected, "{value:?}");
        }
    }
}
