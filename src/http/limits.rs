//! Request body limits at the edge, for every route, per route class.
//!
//! | class | routes | limit |
//! |---|---|---|
//! | upload | `POST /api/admin/knowledge/uploads` (multipart) | `limits.max_upload_bytes` + 64 KB for the multipart framing |
//! | JSON | everything else | `limits.max_json_bytes` |
//!
//! A declared `Content-Length` over the limit is refused at once with 413, before a byte of
//! the body is read. A body without a length (chunked) is read only up to the limit: JSON
//! bodies are buffered up to it (so handlers get bytes, never an unbounded stream), uploads
//! stream through a counter that fails the read as soon as the limit is passed. Either way the
//! client gets 413 and the rest of the body is never read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_util::StreamExt;
use poem::error::ReadBodyError;
use poem::http::header;
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};

use crate::error::Error;
use crate::state::AppState;

/// The one multipart route.
pub const UPLOAD_PATH: &str = "/api/admin/knowledge/uploads";
/// Room for multipart boundaries and part headers on top of the upload limit.
pub const MULTIPART_SLACK: usize = 64 * 1024;

/// The middleware (see the module docs).
pub struct BodyLimit;

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        BodyLimitEndpoint(ep)
    }
}

pub struct BodyLimitEndpoint<E>(E);

fn too_large(max: usize) -> Error {
    Error::PayloadTooLarge(format!("the request body is larger than {max} bytes"))
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let Some(limits) = req.data::<AppState>().map(|s| s.config().limits.clone()) else {
            return self.0.call(req).await.map(IntoResponse::into_response);
        };
        let upload = req.uri().path() == UPLOAD_PATH;
        let max = if upload {
            limits.max_upload_bytes.saturating_add(MULTIPART_SLACK)
        } else {
            limits.max_json_bytes
        };
        let declared = req.header(header::CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Err(too_large(max).into());
        }
        if !upload {
            let body = req.take_body().into_bytes_limit(max).await.map_err(|e| match e {
                ReadBodyError::PayloadTooLarge => too_large(max),
                other => Error::bad_request(format!("cannot read the request body: {other}")),
            })?;
            req.set_body(body);
            return self.0.call(req).await.map(IntoResponse::into_response);
        }
        // Uploads: counted as they stream into the multipart parser.
        let over = Arc::new(AtomicBool::new(false));
        let flag = over.clone();
        let mut seen = 0usize;
        let limited = req.take_body().into_bytes_stream().map(move |chunk| {
            let chunk = chunk?;
            seen = seen.saturating_add(chunk.len());
            if seen > max {
                flag.store(true, Ordering::Relaxed);
                return Err(std::io::Error::other("the request body is too large"));
            }
            Ok(chunk)
        });
        req.set_body(Body::from_bytes_stream(limited));
        let result = self.0.call(req).await.map(IntoResponse::into_response);
        if over.load(Ordering::Relaxed) {
            return Err(too_large(max).into());
        }
        result
    }
}
