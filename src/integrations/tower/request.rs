//! What the tower adapter reads of an `http` 1 request and writes of a response: the
//! request into the core's snapshot, the core's pages into the service's body type.

use http::{HeaderValue, Request, Response, header};

use super::body::PageBody;
use crate::integrations::web::failure::InFlight;
use crate::integrations::web::pages::Page;
use crate::integrations::web::snapshot::{UriParts, http_headers};

/// Takes what a report needs of `request` into `in_flight`'s snapshot.
#[inline]
pub(crate) fn take<B>(in_flight: &mut InFlight, request: &Request<B>) {
    let extensions = request.extensions();
    // The extensions not found yet: once none is left, the other lookups are skipped
    // (around a router, the client address is often the only one).
    let mut left = extensions.len();
    #[cfg(feature = "axum")]
    let connected = find::<axum::extract::ConnectInfo<std::net::SocketAddr>>(extensions, &mut left)
        .map(|info| info.0.ip());
    #[cfg(not(feature = "axum"))]
    let connected = None;
    let remote_addr = connected.or_else(|| {
        find::<std::net::SocketAddr>(extensions, &mut left).map(std::net::SocketAddr::ip)
    });
    #[cfg(feature = "axum")]
    let uri = find::<axum::extract::OriginalUri>(extensions, &mut left)
        .map_or(request.uri(), |original| &original.0);
    #[cfg(not(feature = "axum"))]
    let uri = request.uri();
    #[cfg(feature = "axum")]
    let route = find::<axum::extract::MatchedPath>(extensions, &mut left)
        .map(axum::extract::MatchedPath::as_str);
    #[cfg(not(feature = "axum"))]
    let route = None;
    let user = in_flight.config().user;
    let snapshot = in_flight.snapshot_mut();
    snapshot.record(
        request.method().clone(),
        &UriParts::of(uri),
        route,
        || http_headers(request.headers()),
        remote_addr,
    );
    if let Some(user) = user {
        snapshot.set_user(user(extensions));
    }
}

/// The extension of type `T`, unless none is `left` to find.
#[inline]
fn find<'a, T: Send + Sync + 'static>(
    extensions: &'a http::Extensions,
    left: &mut usize,
) -> Option<&'a T> {
    if *left == 0 {
        return None;
    }
    let found = extensions.get::<T>();
    if found.is_some() {
        *left -= 1;
    }
    found
}

/// A page of the core as a response in the service's body type.
pub(crate) fn respond<B: PageBody>(page: Page) -> Response<B> {
    let content_type = page.content_type();
    let mut response = Response::new(B::page(page.body));
    *response.status_mut() = page.status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in Page::HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
