//! Problem documents for the requests hyper refuses before Keeper sees
//! them.
//!
//! A request line hyper cannot parse, a URL or header block over its
//! limits, or conflicting `Content-Length` headers are answered by hyper
//! itself, with an error status, an empty body and `connection: close`, and
//! the connection then ends. Keeper's handlers never send an error without a
//! problem document, so an error head with no `content-type` and a zero
//! length can only be one of those: the connection's writer replaces it with
//! the same status as a problem document.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::ApiError;

/// A connection whose bare error answers are written as problem documents.
pub struct Shaped<I> {
    inner: I,
    /// A replacement being written, and how much of it is written.
    replacing: Option<(Vec<u8>, usize)>,
}

impl<I> Shaped<I> {
    pub fn new(inner: I) -> Self {
        Self {
            inner,
            replacing: None,
        }
    }
}

/// hyper's bare answers are a status line and three short headers.
const MAX_BARE_HEAD: usize = 256;

/// What hyper means by the status it refused a request with.
fn detail(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "the request is not valid HTTP/1.1 (its request line, a header, or its length)",
        414 => "the URL is too long",
        431 => "the request's headers are too large",
        505 => "only HTTP/1.1 is served",
        _ => "the request could not be handled",
    }
}

/// The problem-document answer for `head`, if it is hyper's bare answer to
/// a request it refused.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    // Every response passes here: anything but a short error head is let
    // through after two comparisons, bodies are never scanned.
    if head.len() > MAX_BARE_HEAD
        || !(head.starts_with(b"HTTP/1.1 4") || head.starts_with(b"HTTP/1.1 5"))
    {
        return None;
    }
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    if end != head.len() {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let status: u16 = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let status = StatusCode::from_u16(status).ok()?;
    let lower = text.to_ascii_lowercase();
    if status.as_u16() < 400
        || !lower.contains("\r\ncontent-length: 0\r\n")
        || lower.contains("\r\ncontent-type:")
    {
        return None;
    }
    let body = ApiError::new(status, detail(status)).body();
    let date = text
        .split("\r\n")
        .find(|line| line.to_ascii_lowercase().starts_with("date:"));
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error"),
        body.len()
    );
    if let Some(date) = date {
        out.push_str(date);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend(body);
    Some(out)
}

impl<I: AsyncRead + Unpin> AsyncRead for Shaped<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Shaped<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacing.is_none() {
            match replacement(buf) {
                Some(bytes) => this.replacing = Some((bytes, 0)),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        // Write the whole replacement, then report `buf` as written: hyper
        // calls again with the same bytes while this is pending.
        while let Some((bytes, written)) = this.replacing.as_mut() {
            if *written == bytes.len() {
                this.replacing = None;
                return Poll::Ready(Ok(buf.len()));
            }
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn hypers_bare_error_answers_become_problem_documents() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 12:31:41 GMT\r\n\r\n";
        let shaped = String::from_utf8(replacement(bare).expect("replaced")).expect("utf-8");
        assert!(shaped.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(shaped.contains("content-type: application/problem+json\r\n"));
        assert!(shaped.contains("date: Tue, 01 Dec 2026 12:31:41 GMT\r\n"));
        let body = shaped.split("\r\n\r\n").nth(1).expect("body");
        let problem: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(problem["status"], 431);
        assert!(shaped.contains(&format!("content-length: {}\r\n", body.len())));
    }

    #[test]
    fn keepers_own_answers_pass_untouched() {
        for own in [
            &b"HTTP/1.1 204 No Content\r\ndate: x\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nbody",
        ] {
            assert!(replacement(own).is_none(), "{}", String::from_utf8_lossy(own));
        }
    }
}
