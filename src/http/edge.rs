//! The connection edge: request heads are checked before hyper parses them, so that even a
//! request hyper would refuse (a URI or header section too large, invalid bytes in the path or
//! a header) gets the JSON error body the API promises.
//!
//! # Why here
//! hyper answers such requests itself, below any middleware, with an empty body (400, 414, 431).
//! [`EdgeAcceptor`] wraps every accepted connection in [`EdgeIo`], which reads each request
//! head completely (up to [`MAX_HEAD`]) before hyper sees a byte of it, and checks it against
//! the same rules as hyper, with lower limits. A head that passes goes on unchanged. A head that
//! fails is replaced by a small well-formed request for [`ERROR_PATH`] carrying the status in
//! [`ERROR_HEADER`] and `Connection: close`; the app answers it with the JSON error
//! ([`error_page`]) through the normal stack, and the rest of the bad request is never handed
//! to hyper. After the answer the connection's remaining input is drained briefly (so the
//! client reads the answer rather than a reset) and the connection closes.
//!
//! Bodies are skipped by their `Content-Length`; a chunked body, an upgrade or HTTP/2 switches
//! the connection to pass-through (no further checks on it; hyper still applies its own).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{handler, Request};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::Error;

/// Longest request target (path and query).
pub const MAX_URI: usize = 16 * 1024;
/// Largest request head (request line and headers).
pub const MAX_HEAD: usize = 64 * 1024;
/// Most header fields in one request.
pub const MAX_HEADERS: usize = 100;
/// Where a refused head is sent instead.
pub const ERROR_PATH: &str = "/__baton/edge-error";
pub const ERROR_HEADER: &str = "x-baton-edge-error";
/// How much of a refused request's remaining input is read (and dropped) before closing.
const DRAIN_BYTES: usize = 4 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Wraps an acceptor's connections in [`EdgeIo`].
pub struct EdgeAcceptor<A>(pub A);

impl<A: Acceptor> Acceptor for EdgeAcceptor<A> {
    type Io = EdgeIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, poem::http::uri::Scheme)> {
        let (io, local, remote, scheme) = self.0.accept().await?;
        Ok((EdgeIo::new(io), local, remote, scheme))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Collecting the next request head.
    Head,
    /// Passing this many body bytes.
    Body(u64),
    /// No more checks on this connection.
    Through,
    /// The head was refused: hand hyper nothing more.
    Refused,
}

/// A connection whose request heads are checked (see the module docs).
pub struct EdgeIo<T> {
    inner: T,
    mode: Mode,
    /// Read from the socket, not yet handed to hyper.
    pending: Vec<u8>,
    /// Handed to hyper next (a checked head, body bytes, or the error request).
    ready: Vec<u8>,
    ready_at: usize,
    drained: usize,
    drain_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> EdgeIo<T> {
    pub fn new(inner: T) -> Self {
        EdgeIo {
            inner,
            mode: Mode::Head,
            pending: Vec::new(),
            ready: Vec::new(),
            ready_at: 0,
            drained: 0,
            drain_deadline: None,
        }
    }

    fn hand_over(&mut self, bytes: Vec<u8>) {
        if self.ready_at >= self.ready.len() {
            self.ready = bytes;
            self.ready_at = 0;
        } else {
            self.ready.extend_from_slice(&bytes);
        }
    }

    fn refuse(&mut self, status: StatusCode) {
        let req = format!(
            "GET {ERROR_PATH} HTTP/1.1\r\nHost: baton\r\nConnection: close\r\n{ERROR_HEADER}: {}\r\n\r\n",
            status.as_u16()
        );
        self.pending.clear();
        self.hand_over(req.into_bytes());
        self.mode = Mode::Refused;
    }

    /// Moves what `pending` allows from it to `ready`; false when more input is needed.
    fn advance(&mut self) -> bool {
        match self.mode {
            Mode::Through => {
                if self.pending.is_empty() {
                    return false;
                }
                let bytes = std::mem::take(&mut self.pending);
                self.hand_over(bytes);
                true
            }
            Mode::Body(n) => {
                if self.pending.is_empty() {
                    return false;
                }
                let take = (n.min(self.pending.len() as u64)) as usize;
                let bytes: Vec<u8> = self.pending.drain(..take).collect();
                self.hand_over(bytes);
                self.mode = if n - take as u64 == 0 { Mode::Head } else { Mode::Body(n - take as u64) };
                true
            }
            Mode::Refused => false,
            Mode::Head => {
                // Blank lines before a request are allowed.
                let skip = self.pending.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
                if skip > 0 && skip == self.pending.len() {
                    self.pending.clear();
                    return false;
                }
                if self.pending[skip..].starts_with(b"PRI * HTTP/2") {
                    self.mode = Mode::Through;
                    return self.advance();
                }
                match head_end(&self.pending) {
                    Some(end) => {
                        match check_head(&self.pending[skip..end]) {
                            Ok(next) => {
                                let head: Vec<u8> = self.pending.drain(..end).collect();
                                self.hand_over(head);
                                self.mode = next;
                            }
                            Err(status) => self.refuse(status),
                        }
                        true
                    }
                    None if self.pending.len() > MAX_HEAD => {
                        let line_end = self.pending.iter().position(|b| *b == b'\n');
                        let status = match line_end {
                            Some(n) if n <= MAX_URI + 64 => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                            _ => StatusCode::URI_TOO_LONG,
                        };
                        self.refuse(status);
                        true
                    }
                    None => false,
                }
            }
        }
    }
}

/// The end of the head (after its blank line), if it is all there.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|b| *b == b'\n') {
        let at = i + p;
        if buf[at + 1..].starts_with(b"\r\n") {
            return Some(at + 3);
        }
        if buf[at + 1..].starts_with(b"\n") {
            return Some(at + 2);
        }
        i = at + 1;
    }
    None
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks one request head; returns how its body is framed.
fn check_head(head: &[u8]) -> Result<Mode, StatusCode> {
    use StatusCode as S;
    if head.len() > MAX_HEAD {
        return Err(S::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
    let mut lines = head.split(|b| *b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.splitn(3, |b| *b == b' ');
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    let (Some(method), Some(target), Some(version)) = (method, target, version) else {
        return Err(S::BAD_REQUEST);
    };
    if method.is_empty() || !method.iter().all(|b| is_token(*b)) {
        return Err(S::BAD_REQUEST);
    }
    if target.len() > MAX_URI {
        return Err(S::URI_TOO_LONG);
    }
    if target.is_empty() || !target.iter().all(|b| (0x21..=0x7e).contains(b)) || !decodes_to_utf8(target) {
        return Err(S::BAD_REQUEST);
    }
    if version != b"HTTP/1.1" && version != b"HTTP/1.0" {
        return Err(S::BAD_REQUEST);
    }
    let mut count = 0;
    let mut length: Option<u64> = None;
    let mut through = false;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_HEADERS {
            return Err(S::REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else { return Err(S::BAD_REQUEST) };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|b| is_token(*b)) {
            return Err(S::BAD_REQUEST);
        }
        if !value.iter().all(|b| *b == b'\t' || *b == b' ' || (0x21..=0x7e).contains(b) || *b >= 0x80) {
            return Err(S::BAD_REQUEST);
        }
        let value = String::from_utf8_lossy(value);
        let value = value.trim();
        if name.eq_ignore_ascii_case(b"content-length") {
            let n: u64 = value.parse().map_err(|_| S::BAD_REQUEST)?;
            if length.is_some_and(|l| l != n) {
                return Err(S::BAD_REQUEST);
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || name.eq_ignore_ascii_case(b"upgrade")
            || (name.eq_ignore_ascii_case(b"connection") && value.to_ascii_lowercase().contains("upgrade"))
        {
            through = true;
        }
    }
    Ok(match (through, length) {
        (true, _) => Mode::Through,
        (false, Some(n)) if n > 0 => Mode::Body(n),
        _ => Mode::Head,
    })
}

/// Whether the percent-decoded path and query are UTF-8.
fn decodes_to_utf8(target: &[u8]) -> bool {
    let mut out = Vec::with_capacity(target.len());
    let mut i = 0;
    while i < target.len() {
        if target[i] == b'%' && i + 2 < target.len() {
            let hex = std::str::from_utf8(&target[i + 1..(i + 3).min(target.len())]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(target[i]);
        i += 1;
    }
    std::str::from_utf8(&out).is_ok()
}

impl<T: AsyncRead + Unpin> AsyncRead for EdgeIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.ready_at < this.ready.len() {
                let n = buf.remaining().min(this.ready.len() - this.ready_at);
                buf.put_slice(&this.ready[this.ready_at..this.ready_at + n]);
                this.ready_at += n;
                return Poll::Ready(Ok(()));
            }
            if this.advance() {
                continue;
            }
            match this.mode {
                // Nothing more for hyper: it answers the error request and closes.
                Mode::Refused => return Poll::Pending,
                Mode::Through if this.pending.is_empty() => {
                    return Pin::new(&mut this.inner).poll_read(cx, buf)
                }
                _ => {}
            }
            let mut chunk = [0u8; 16 * 1024];
            let mut rb = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                    // End of input: hand over whatever is left and let hyper judge it.
                    if this.pending.is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                    this.mode = Mode::Through;
                }
                Poll::Ready(Ok(())) => this.pending.extend_from_slice(rb.filled()),
            }
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for EdgeIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.mode == Mode::Refused {
            // Send our FIN, then read (and drop) what the client is still sending for a moment:
            // closing with unread input would reset the connection before it reads the answer.
            if this.drain_deadline.is_none() {
                std::task::ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
                let _ = std::task::ready!(Pin::new(&mut this.inner).poll_shutdown(cx));
                this.drain_deadline = Some(Box::pin(tokio::time::sleep(DRAIN_TIME)));
            }
            loop {
                if this.drained >= DRAIN_BYTES {
                    return Poll::Ready(Ok(()));
                }
                if let Some(d) = this.drain_deadline.as_mut() {
                    if d.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Ok(()));
                    }
                }
                let mut chunk = [0u8; 16 * 1024];
                let mut rb = ReadBuf::new(&mut chunk);
                match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(())) if !rb.filled().is_empty() => this.drained += rb.filled().len(),
                    Poll::Ready(_) => return Poll::Ready(Ok(())),
                }
            }
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The answer to a refused head (see the module docs).
#[handler]
pub fn error_page(req: &Request) -> poem::Result<()> {
    let status = req
        .header(ERROR_HEADER)
        .and_then(|v| v.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    Err(match status {
        StatusCode::URI_TOO_LONG => Error::UriTooLong(MAX_URI),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Error::HeadersTooLarge(MAX_HEAD, MAX_HEADERS),
        _ => Error::bad_request(
            "the request is malformed (invalid characters in the request line or a header, or a path \
             or query that is not UTF-8)",
        ),
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Result<Mode, StatusCode> {
        check_head(s.as_bytes())
    }

    #[test]
    fn heads_are_checked_like_hyper_does() {
        assert_eq!(head("GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n"), Ok(Mode::Head));
        assert_eq!(head("POST /a HTTP/1.1\r\nContent-Length: 12\r\n\r\n"), Ok(Mode::Body(12)));
        assert_eq!(head("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), Ok(Mode::Through));
        assert_eq!(head("GET /caf%C3%A9 HTTP/1.1\r\n\r\n"), Ok(Mode::Head));
        assert_eq!(head("GET /%FF HTTP/1.1\r\n\r\n"), Err(StatusCode::BAD_REQUEST));
        assert_eq!(head("GET /?q=%c3%28 HTTP/1.1\r\n\r\n"), Err(StatusCode::BAD_REQUEST));
        assert_eq!(head("GET /\u{e9} HTTP/1.1\r\n\r\n"), Err(StatusCode::BAD_REQUEST));
        assert_eq!(head("GET / HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n"), Err(StatusCode::BAD_REQUEST));
        let long = format!("GET /?q={} HTTP/1.1\r\n\r\n", "a".repeat(MAX_URI));
        assert_eq!(head(&long), Err(StatusCode::URI_TOO_LONG));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(
            head(&format!("GET / HTTP/1.1\r\n{many}\r\n")),
            Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
    }
}
