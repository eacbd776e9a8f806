//! The HTTP JSON API (`/api/v1`), with `/healthz` and `/metrics` at the root.
//!
//! One module per resource, each owning its routes, request and response
//! types; one error type; authentication as an extractor.

mod account;
mod audit;
mod cards;
mod error;
mod extract;
mod find;
mod identities;
mod items;
mod notes;
pub mod openapi;
mod ops;
mod passwords;
mod problems;
mod secret_json;
mod shaped;
mod totp;
mod transfer;
mod trash;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tracing::Instrument;

use crate::metrics::Metrics;
use crate::service::Services;

pub use error::{ApiError, Problem};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler may use.
#[derive(Clone, Debug)]
pub struct HttpState {
    pub services: Services,
    pub metrics: Arc<Metrics>,
    /// What `/metrics` requires, if anything beyond a loopback client.
    pub metrics_token: Option<crate::config::MetricsToken>,
}

/// Numbers the requests this process serves, for the log (a counter, not
/// randomness: it costs nothing on the hot path).
static NEXT_REQUEST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

async fn record(State(state): State<HttpState>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    // Every line logged while the request is served says which one it was.
    let span = tracing::info_span!(
        "http",
        method = %method,
        route = %route,
        request = NEXT_REQUEST.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    );
    let served = tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).instrument(span);
    let response = match served.await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "the request took too long to arrive",
        )
        .into_response(),
    };
    state.metrics.http_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

async fn fallback() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, "no such route")
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "this route does not take that method",
    )
}

/// The whole API.
pub fn router(state: HttpState) -> Router {
    let api = Router::new()
        .merge(account::router())
        .merge(items::router::<crate::domain::kind::Card>())
        .merge(items::router::<crate::domain::kind::Password>())
        .merge(items::router::<crate::domain::kind::SecureNote>())
        .merge(items::router::<crate::domain::kind::Totp>())
        .merge(items::router::<crate::domain::kind::Identity>())
        .merge(totp::router())
        .merge(audit::router())
        .merge(find::router())
        .merge(trash::router())
        .merge(transfer::router())
        .merge(openapi::router());
    Router::new()
        .nest("/api/v1", api)
        .merge(ops::router())
        .fallback(fallback)
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// TLS material for HTTPS: the server's certificate chain and key.
pub type TlsConfig = Arc<tokio_rustls::rustls::ServerConfig>;

/// Loads a PEM certificate chain and its private key, for HTTP/1.1 only.
pub fn load_tls(cert: &std::path::Path, key: &std::path::Path) -> anyhow::Result<TlsConfig> {
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("{}: {e}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{}: no certificate in it", cert.display());
    }
    let key_der =
        PrivateKeyDer::from_pem_file(key).map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| anyhow::anyhow!("the certificate and key do not make a TLS identity: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Time allowed for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed to send a request's headers (and, on a kept-alive connection,
/// to start the next request): the answer to slow-header attacks.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a whole request, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Time in-flight requests get to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` (over TLS when `tls` is given) until
/// `shutdown` fires, then lets in-flight requests finish.
///
/// Connections are served by hyper directly (not `axum::serve`) so that every
/// stage has a deadline: the TLS handshake, the request headers, the request.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsConfig>,
    max_connections: usize,
    shutdown: CancellationToken,
) {
    let mut gate = crate::net::Gate::new(listener, "http", "SSH", max_connections);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let connections = TaskTracker::new();
    while let Some((stream, peer, slot)) = gate.next(&shutdown).await {
        let (router, acceptor, shutdown) = (router.clone(), acceptor.clone(), shutdown.clone());
        connections.spawn(async move {
            let _slot = slot;
            match acceptor {
                None => {
                    let io = TokioIo::new(shaped::Shaped::new(stream));
                    connection(io, router, peer, shutdown).await;
                }
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let io = TokioIo::new(shaped::Shaped::new(tls));
                            connection(io, router, peer, shutdown).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls handshake failed"),
                        Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
                    }
                }
            }
        });
    }
    connections.close();
    connections.wait().await;
}

async fn connection<I>(
    io: TokioIo<I>,
    router: Router,
    peer: SocketAddr,
    shutdown: CancellationToken,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(axum::body::Body::new))
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        // Queue bodies for vectored writes instead of copying them into
        // hyper's own write buffer: a revealed secret's body is wiped when
        // it has been sent, and that buffer would keep a copy that is not.
        .writev(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            tokio::time::timeout(DRAIN_TIMEOUT, conn.as_mut()).await.unwrap_or(Ok(()))
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "http connection ended with an error");
    }
}

/// The versions an item can be at: the first write makes 1, each further one
/// adds one. Any other number was never read, and the last has no successor.
const VERSIONS: std::ops::RangeInclusive<i64> = 1..=i64::MAX - 1;

/// The expected version of a PUT: the body's `version` or `If-Match`.
fn version(body: Option<i64>, headers: &axum::http::HeaderMap) -> Result<i64, ApiError> {
    let header = headers
        .get(axum::http::header::IF_MATCH)
        .map(|v| {
            v.to_str()
                .ok()
                .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
                .and_then(extract::canonical_number)
                .ok_or_else(|| {
                    ApiError::field(
                        "version",
                        "version: If-Match must hold the item's version number",
                    )
                })
        })
        .transpose()?;
    match (body, header) {
        (Some(b), Some(h)) if b != h => Err(ApiError::field(
            "version",
            "version: the body and If-Match disagree",
        )),
        (Some(v), _) | (None, Some(v)) if VERSIONS.contains(&v) => Ok(v),
        (Some(_), _) | (None, Some(_)) => Err(ApiError::field(
            "version",
            format!(
                "version: must be from {} to {}",
                VERSIONS.start(),
                VERSIONS.end()
            ),
        )),
        (None, None) => Err(ApiError::field(
            "version",
            "version: required (body field or If-Match header)",
        )),
    }
}
