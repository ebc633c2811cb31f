//! The request as it came in: what a report needs of it, copied on the way in without an
//! allocation for a small request, and turned into a [`RequestInfo`] only when something
//! fails.

use std::net::IpAddr;

use http::{HeaderName, Method, header};

use super::body::BodySnapshot;
use super::overrides::Overrides;
use crate::mail::NotFound;
use crate::model::{RawText, RequestInfo};

/// What the layer keeps of a request while the handler runs.
#[derive(Clone)]
pub(crate) struct Snapshot {
    method: Method,
    /// The URI, the matched route and the headers.
    head: Head,
    remote_addr: Option<IpAddr>,
    /// The user, when the layer names one from an extension.
    user: Option<Box<str>>,
    /// The body, when there is one (boxed: a `GET` has none, and the snapshot stays small).
    body: Option<Box<BodySnapshot>>,
    /// The route, when the framework names it only after the request was recorded.
    late_route: Option<Box<str>>,
}

impl Snapshot {
    /// An empty snapshot, for [`take`](Self::take) to fill where it lies.
    pub(crate) fn new() -> Self {
        Self {
            method: Method::GET,
            head: Head::new(),
            remote_addr: None,
            user: None,
            body: None,
            late_route: None,
        }
    }

    #[inline]
    pub(crate) fn set_body(&mut self, body: BodySnapshot) {
        self.body = match body {
            BodySnapshot::Empty => None,
            body => Some(Box::new(body)),
        };
    }

    /// Takes what a report needs of a request: its method, URI, the route it matched (when
    /// the framework said), its headers (`name`, `value`, whether the value is sensitive),
    /// the client's address and the user. The headers are read twice for a large request.
    #[inline]
    pub(crate) fn record<'h, I>(
        &mut self,
        method: Method,
        uri: &UriParts<'_>,
        route: Option<&str>,
        headers: impl Fn() -> I,
        remote_addr: Option<IpAddr>,
    ) where
        I: Iterator<Item = (&'h str, &'h [u8], bool)>,
    {
        self.method = method;
        self.remote_addr = remote_addr;
        self.head.record(uri, route, headers);
    }

    /// The user, when the framework's adapter named one.
    pub(crate) fn set_user(&mut self, user: Option<String>) {
        self.user = user.map(String::into_boxed_str);
    }

    /// The route the request matched, when the framework can say only once the request was
    /// routed (actix-web): set when something failed, before the report is built.
    #[cfg_attr(not(feature = "actix"), allow(dead_code))]
    pub(crate) fn set_route(&mut self, route: Option<String>) {
        self.late_route = route.map(String::into_boxed_str);
    }

    /// The matched route, when the router said.
    pub(crate) fn route(&self) -> Option<&str> {
        self.head.fields().route.or(self.late_route.as_deref())
    }

    /// The path, for log messages (`Internal Server Error: /path`).
    pub(crate) fn path(&self) -> &str {
        self.head.fields().path
    }

    /// The value of the first header with this name.
    fn header(&self, name: &HeaderName) -> Option<&[u8]> {
        self.head
            .fields()
            .headers
            .find(|header| header.name == name.as_str())
            .map(|header| header.value)
    }

    /// The `Accept` header, when it is visible ASCII (as `HeaderValue::to_str` has it).
    pub(crate) fn accept(&self) -> Option<&str> {
        let value = self.header(&header::ACCEPT)?;
        if !value
            .iter()
            .all(|&byte| byte == b'\t' || (32..127).contains(&byte))
        {
            return None;
        }
        std::str::from_utf8(value).ok()
    }

    /// The host as the client sent it (with the port), as text safe to put in a URL.
    fn host(&self) -> Option<String> {
        let raw = match self.head.fields().authority {
            Some(authority) => authority.as_bytes(),
            None => self.header(&header::HOST)?,
        };
        Some(url_safe_host(raw))
    }

    /// The path and query as received (`/` when there is none).
    fn path_and_query(&self) -> &str {
        self.head.fields().path_and_query.unwrap_or("/")
    }

    /// The full URL: scheme, host, path and query as received.
    pub(crate) fn url(&self) -> String {
        let scheme = self.head.fields().scheme.unwrap_or("http");
        let host = self.host().unwrap_or_default();
        let path = self.path_and_query();
        format!("{scheme}://{host}{path}")
    }

    /// The request as a report shows it, with the route's and handler's settings.
    pub(crate) fn request_info(&self, overrides: &Overrides, route: Option<&str>) -> RequestInfo {
        let mut info = RequestInfo::new(self.method.as_str(), self.url());
        let mut sensitive_headers = Vec::new();
        info.headers = self
            .head
            .fields()
            .headers
            .map(|header| {
                if header.sensitive {
                    sensitive_headers.push(header.name.to_owned());
                }
                (header.name.to_owned(), RawText(header.value.to_vec()))
            })
            .collect();
        info.sensitive_headers = sensitive_headers;
        match self.body.as_deref() {
            None | Some(BodySnapshot::Empty) => {}
            Some(BodySnapshot::Buffered(bytes)) => info.body = Some(RawText(bytes.to_vec())),
            Some(BodySnapshot::Omitted(omitted)) => {
                info.body_omitted = Some(omitted.note(self.header(&header::CONTENT_TYPE)));
            }
        }
        info.remote_addr = self.remote_addr.map(|addr| addr.to_string());
        info.user = overrides
            .user
            .clone()
            .or_else(|| self.user.as_deref().map(str::to_owned));
        info.route = route.map(str::to_owned);
        info.sensitive_post_parameters = overrides.sensitive_post_parameters.clone();
        info
    }

    /// The 404 as the broken-link rules see it; `None` without a host.
    pub(crate) fn not_found(&self) -> Option<NotFound> {
        let text = |value: &[u8]| String::from_utf8_lossy(value).into_owned();
        let mut link = NotFound::new(self.host()?, self.path_and_query());
        if let Some(referer) = self.header(&header::REFERER) {
            link = link.referer(text(referer));
        }
        if let Some(agent) = self.header(&header::USER_AGENT) {
            link = link.user_agent(text(agent));
        }
        if let Some(addr) = self.remote_addr {
            link = link.remote_addr(addr.to_string());
        }
        Some(link)
    }
}

/// The parts of a request's URI, borrowed from whichever `http` version the framework uses.
pub(crate) struct UriParts<'a> {
    pub(crate) scheme: Option<&'a str>,
    pub(crate) authority: Option<&'a str>,
    pub(crate) path_and_query: Option<&'a str>,
    pub(crate) path: &'a str,
}

impl<'a> UriParts<'a> {
    /// The parts of an `http` 1 URI.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    #[inline]
    pub(crate) fn of(uri: &'a http::Uri) -> Self {
        Self {
            scheme: uri.scheme_str(),
            authority: uri.authority().map(http::uri::Authority::as_str),
            path_and_query: uri.path_and_query().map(http::uri::PathAndQuery::as_str),
            path: uri.path(),
        }
    }
}

/// The headers of an `http` 1 map, as [`Snapshot::record`] reads them.
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
#[inline]
pub(crate) fn http_headers(headers: &http::HeaderMap) -> impl Iterator<Item = (&str, &[u8], bool)> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes(), value.is_sensitive()))
}

/// Bytes a snapshot holds without an allocation: enough for the URI and the headers of a
/// request with a few short headers (a health check's, a load generator's, many API
/// clients'). A larger request takes one allocation of the exact size.
const INLINE: usize = 94;

/// The URI, the route and the headers of a request, copied into one buffer: copying a few
/// short strings costs less than sharing them (no reference counts, no allocation).
///
/// In order: the scheme, the authority, the path and query (each optional); the path
/// ([`PREFIX`] and a length when it is the start of the path and query, else [`OWN`] and a
/// field); the route (optional); then for each header in the order `HeaderMap` gives them
/// (duplicates included) a byte saying whether it is sensitive, the lengths of its name and
/// its value, the name, the value. A field is its length then its bytes. A length is one
/// byte below [`NONE`], or [`LONG`] and four bytes (little-endian); [`NONE`] marks an
/// absent field.
#[derive(Clone)]
enum Head {
    Inline(Inline),
    Heap(Box<[u8]>),
}

/// A length byte: the field is absent.
const NONE: u8 = 0xFE;
/// A length byte: the length follows in four bytes.
const LONG: u8 = 0xFF;
/// The path is the start of the path and query; its length follows.
const PREFIX: u8 = 0;
/// The path follows, as a field.
const OWN: u8 = 1;

#[derive(Clone)]
struct Inline {
    len: u8,
    bytes: [u8; INLINE],
}

/// The buffer is full.
struct Full;

/// Where a head is written.
trait Sink {
    fn put(&mut self, data: &[u8]) -> Result<(), Full>;

    /// A header whose name and value are shorter than [`NONE`].
    #[inline]
    fn put_short_header(&mut self, lens: [u8; 3], name: &[u8], value: &[u8]) -> Result<(), Full> {
        self.put(&lens)?;
        self.put(name)?;
        self.put(value)
    }
}

impl Sink for Inline {
    #[inline]
    fn put(&mut self, data: &[u8]) -> Result<(), Full> {
        let at = usize::from(self.len);
        let end = at + data.len();
        self.bytes
            .get_mut(at..end)
            .ok_or(Full)?
            .copy_from_slice(data);
        // `end` is at most `INLINE`, below 256.
        self.len = end as u8;
        Ok(())
    }

    #[inline]
    fn put_short_header(&mut self, lens: [u8; 3], name: &[u8], value: &[u8]) -> Result<(), Full> {
        let at = usize::from(self.len);
        let end = at + 3 + name.len() + value.len();
        let slot = self.bytes.get_mut(at..end).ok_or(Full)?;
        let (head, rest) = slot.split_at_mut(3);
        head.copy_from_slice(&lens);
        let (name_slot, value_slot) = rest.split_at_mut(name.len());
        name_slot.copy_from_slice(name);
        value_slot.copy_from_slice(value);
        // `end` is at most `INLINE`, below 256.
        self.len = end as u8;
        Ok(())
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, data: &[u8]) -> Result<(), Full> {
        self.extend_from_slice(data);
        Ok(())
    }
}

/// Counts the bytes a head takes.
struct Size(usize);

impl Sink for Size {
    fn put(&mut self, data: &[u8]) -> Result<(), Full> {
        self.0 += data.len();
        Ok(())
    }
}

/// The length of a field as one byte, when it fits in one.
#[inline]
fn short_len(field: &[u8]) -> Option<u8> {
    u8::try_from(field.len()).ok().filter(|&len| len < NONE)
}

#[inline]
fn put_field(sink: &mut impl Sink, field: &[u8]) -> Result<(), Full> {
    match short_len(field) {
        Some(len) => {
            sink.put(&[len])?;
            sink.put(field)
        }
        None => put_long_field(sink, field),
    }
}

/// A field of [`NONE`] bytes or more: [`LONG`], the length in four bytes, the bytes.
#[cold]
fn put_long_field(sink: &mut impl Sink, field: &[u8]) -> Result<(), Full> {
    put_long_len(sink, field)?;
    sink.put(long(field))
}

fn put_long_len(sink: &mut impl Sink, field: &[u8]) -> Result<(), Full> {
    match short_len(field) {
        Some(len) => sink.put(&[len]),
        None => {
            let len = u32::try_from(long(field).len())
                .unwrap_or(u32::MAX)
                .to_le_bytes();
            sink.put(&[LONG, len[0], len[1], len[2], len[3]])
        }
    }
}

/// A field, cut at 4 GiB (no server accepts a longer one).
fn long(field: &[u8]) -> &[u8] {
    &field[..field.len().min(u32::MAX as usize)]
}

#[inline]
fn put_optional(sink: &mut impl Sink, field: Option<&str>) -> Result<(), Full> {
    match field {
        Some(field) => put_field(sink, field.as_bytes()),
        None => sink.put(&[NONE]),
    }
}

/// A header whose name or value is [`NONE`] bytes or more.
#[cold]
fn put_long_header(
    sink: &mut impl Sink,
    sensitive: u8,
    name: &[u8],
    value: &[u8],
) -> Result<(), Full> {
    sink.put(&[sensitive])?;
    put_long_len(sink, name)?;
    put_long_len(sink, value)?;
    sink.put(long(name))?;
    sink.put(long(value))
}

#[inline]
fn encode<'h>(
    sink: &mut impl Sink,
    uri: &UriParts<'_>,
    route: Option<&str>,
    headers: impl Iterator<Item = (&'h str, &'h [u8], bool)>,
) -> Result<(), Full> {
    put_optional(sink, uri.scheme)?;
    put_optional(sink, uri.authority)?;
    let path_and_query = uri.path_and_query;
    put_optional(sink, path_and_query)?;
    let path = uri.path;
    match (path_and_query, short_len(path.as_bytes())) {
        // Most often the path is the start of the path and query: then only its length.
        (Some(path_and_query), Some(len))
            if path_and_query.as_ptr() == path.as_ptr() && path.len() <= path_and_query.len() =>
        {
            sink.put(&[PREFIX, len])?;
        }
        _ => {
            sink.put(&[OWN])?;
            put_field(sink, path.as_bytes())?;
        }
    }
    put_optional(sink, route)?;
    for (name, value, sensitive) in headers {
        let sensitive = u8::from(sensitive);
        let name = name.as_bytes();
        match (short_len(name), short_len(value)) {
            (Some(name_len), Some(value_len)) => {
                sink.put_short_header([sensitive, name_len, value_len], name, value)?;
            }
            _ => put_long_header(sink, sensitive, name, value)?,
        }
    }
    Ok(())
}

impl Head {
    fn new() -> Self {
        Head::Inline(Inline {
            len: 0,
            bytes: [0; INLINE],
        })
    }

    /// Copies the URI, the route and the headers into an empty head.
    #[inline]
    fn record<'h, I>(&mut self, uri: &UriParts<'_>, route: Option<&str>, headers: impl Fn() -> I)
    where
        I: Iterator<Item = (&'h str, &'h [u8], bool)>,
    {
        if let Head::Inline(inline) = self
            && encode(inline, uri, route, headers()).is_ok()
        {
            return;
        }
        self.record_on_heap(uri, route, headers);
    }

    #[cold]
    #[inline(never)]
    fn record_on_heap<'h, I>(
        &mut self,
        uri: &UriParts<'_>,
        route: Option<&str>,
        headers: impl Fn() -> I,
    ) where
        I: Iterator<Item = (&'h str, &'h [u8], bool)>,
    {
        let mut size = Size(0);
        let _ = encode(&mut size, uri, route, headers());
        let mut heap = Vec::with_capacity(size.0);
        let _ = encode(&mut heap, uri, route, headers());
        *self = Head::Heap(heap.into_boxed_slice());
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Head::Inline(inline) => &inline.bytes[..usize::from(inline.len)],
            Head::Heap(heap) => heap,
        }
    }

    fn fields(&self) -> Fields<'_> {
        let mut reader = Reader(self.bytes());
        let scheme = reader.optional_str();
        let authority = reader.optional_str();
        let path_and_query = reader.optional_str();
        let path = match reader.byte() {
            Some(PREFIX) => {
                let len = reader.len().unwrap_or_default();
                path_and_query.and_then(|path_and_query| path_and_query.get(..len))
            }
            _ => reader.optional_str(),
        };
        Fields {
            scheme,
            authority,
            path_and_query,
            path: path.unwrap_or_default(),
            route: reader.optional_str(),
            headers: Headers(reader),
        }
    }
}

/// A head read back.
struct Fields<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path_and_query: Option<&'a str>,
    path: &'a str,
    route: Option<&'a str>,
    headers: Headers<'a>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        taken
    }

    fn byte(&mut self) -> Option<u8> {
        let (&byte, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(byte)
    }

    /// The next length; `None` for an absent field or at the end.
    fn len(&mut self) -> Option<usize> {
        match self.byte()? {
            NONE => None,
            LONG => {
                let len = u32::from_le_bytes(self.take(4).try_into().ok()?);
                usize::try_from(len).ok()
            }
            len => Some(usize::from(len)),
        }
    }

    /// The next field; `None` when it is absent or the head ends.
    fn field(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        Some(self.take(len))
    }

    /// The next field, written from a `&str`.
    fn optional_str(&mut self) -> Option<&'a str> {
        self.field().map(text)
    }
}

/// Text written from a `&str`.
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// A header read back.
struct Header<'a> {
    name: &'a str,
    value: &'a [u8],
    sensitive: bool,
}

/// The headers of a head, in order.
struct Headers<'a>(Reader<'a>);

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        let reader = &mut self.0;
        let sensitive = reader.byte()? != 0;
        let name_len = reader.len()?;
        let value_len = reader.len()?;
        let name = text(reader.take(name_len));
        let value = reader.take(value_len);
        Some(Header {
            name,
            value,
            sensitive,
        })
    }
}

/// A host as sent by the client, with every byte that has no place in a host
/// percent-encoded, so that a hostile `Host` header cannot change where the path starts.
fn url_safe_host(raw: &[u8]) -> String {
    let mut host = String::with_capacity(raw.len());
    for &byte in raw {
        if byte.is_ascii_alphanumeric() || b".-_:[]".contains(&byte) {
            host.push(char::from(byte));
        } else {
            host.push_str(&format!("%{byte:02X}"));
        }
    }
    host
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue, Uri};

    use super::*;

    impl Head {
        fn record_http(&mut self, uri: &Uri, route: Option<&str>, headers: &HeaderMap) {
            self.record(&UriParts::of(uri), route, || http_headers(headers));
        }
    }

    type ReadBack = (String, Vec<u8>, bool);

    fn read_back(head: &Head) -> Vec<ReadBack> {
        head.fields()
            .headers
            .map(|header| {
                (
                    header.name.to_owned(),
                    header.value.to_vec(),
                    header.sensitive,
                )
            })
            .collect()
    }

    #[test]
    fn heads_read_back_what_was_written() {
        let long = "x".repeat(300);
        let uris = [
            "/".to_owned(),
            "/orders/7?expand=items&q=a%20b".to_owned(),
            "*".to_owned(),
            "http://shop.example.com:8080/cart?id=1".to_owned(),
            "https://shop.example.com?only=query".to_owned(),
            "shop.example.com:443".to_owned(),
            format!("/{long}?{long}"),
        ];
        let mut few = HeaderMap::new();
        few.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        let mut many = HeaderMap::new();
        many.append(header::ACCEPT, HeaderValue::from_static("text/html"));
        many.insert(header::HOST, HeaderValue::from_static("shop.example.com"));
        many.append(header::ACCEPT, HeaderValue::from_static("*/*"));
        let mut ticket = HeaderValue::from_static("opaque");
        ticket.set_sensitive(true);
        many.insert("x-ticket", ticket);
        many.insert("x-bytes", HeaderValue::from_bytes(b"a\xffb").unwrap());
        many.insert(header::COOKIE, HeaderValue::from_str(&long).unwrap());
        many.insert(
            HeaderName::from_bytes(long.as_bytes()).unwrap(),
            HeaderValue::from_static("v"),
        );
        for headers in [HeaderMap::new(), few, many] {
            for uri in &uris {
                let uri: Uri = uri.parse().unwrap();
                for route in [None, Some("/orders/{id}")] {
                    let mut head = Head::new();
                    head.record_http(&uri, route, &headers);
                    let fields = head.fields();
                    assert_eq!(fields.scheme, uri.scheme_str(), "{uri}");
                    assert_eq!(fields.authority, uri.authority().map(|a| a.as_str()));
                    assert_eq!(
                        fields.path_and_query,
                        uri.path_and_query().map(|p| p.as_str()),
                        "{uri}"
                    );
                    assert_eq!(fields.path, uri.path(), "{uri}");
                    assert_eq!(fields.route, route);
                    let expected: Vec<ReadBack> = headers
                        .iter()
                        .map(|(name, value)| {
                            (
                                name.as_str().to_owned(),
                                value.as_bytes().to_vec(),
                                value.is_sensitive(),
                            )
                        })
                        .collect();
                    assert_eq!(read_back(&head), expected, "{uri}");
                }
            }
        }
    }

    #[test]
    fn a_small_request_is_held_inline_and_a_large_one_on_the_heap() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        headers.insert(header::USER_AGENT, HeaderValue::from_static("curl/8.5.0"));
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        let uri = Uri::from_static("/");
        let mut head = Head::new();
        head.record_http(&uri, Some("/"), &headers);
        assert!(matches!(head, Head::Inline(_)));
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-GB,en;q=0.9,fr;q=0.8,de;q=0.7"),
        );
        let mut head = Head::new();
        head.record_http(&uri, Some("/"), &headers);
        assert!(matches!(head, Head::Heap(_)));
        assert_eq!(read_back(&head).len(), 4);
        assert_eq!(head.fields().route, Some("/"));
    }

    #[test]
    fn hostile_hosts_cannot_move_the_path() {
        assert_eq!(
            url_safe_host(b"shop.example.com:8080"),
            "shop.example.com:8080"
        );
        assert_eq!(url_safe_host(b"evil.com/x?y"), "evil.com%2Fx%3Fy");
        assert_eq!(url_safe_host(b"a\xffb c"), "a%FFb%20c");
        assert_eq!(url_safe_host(b"[::1]:80"), "[::1]:80");
    }
}
