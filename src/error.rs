//! The one error table.
//!
//! Every error a client can see is an [`Error`]. [`Error::code`] gives a stable machine-readable
//! code and [`Error::status`] the HTTP status; both live in one `match` so the whole table can be
//! read in one place. Clients get `{message, code, type, link}`. Internal errors are logged with
//! their cause and the client only sees a generic message.

use poem::{http::StatusCode, IntoResponse, Response};
use serde::Serialize;

use crate::embed::EmbedError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("the CSRF token is missing or wrong; reload the page")]
    Csrf,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("the request URI is longer than {0} bytes")]
    UriTooLong(usize),
    #[error("the request headers are larger than {0} bytes or more than {1} fields")]
    HeadersTooLarge(usize, usize),
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// How errors look on the wire.
#[derive(Debug, Serialize, poem_openapi::Object)]
pub struct ErrorBody {
    pub message: String,
    pub code: String,
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub link: String,
}

impl Error {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Error::Internal(e.into())
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        Error::BadRequest(msg.into())
    }

    /// The table: (status, stable code, type).
    pub fn describe(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            Error::BadRequest(_) => (S::BAD_REQUEST, "bad_request", "invalid_request"),
            Error::InvalidInput(_) => (S::UNPROCESSABLE_ENTITY, "invalid_input", "invalid_request"),
            Error::Unauthenticated => (S::UNAUTHORIZED, "unauthenticated", "auth"),
            Error::Forbidden(_) => (S::FORBIDDEN, "forbidden", "auth"),
            Error::Csrf => (S::FORBIDDEN, "csrf_failed", "auth"),
            Error::NotFound(_) => (S::NOT_FOUND, "not_found", "invalid_request"),
            Error::Conflict(_) => (S::CONFLICT, "conflict", "invalid_request"),
            Error::PayloadTooLarge(_) => (S::PAYLOAD_TOO_LARGE, "payload_too_large", "invalid_request"),
            Error::UriTooLong(_) => (S::URI_TOO_LONG, "uri_too_long", "invalid_request"),
            Error::HeadersTooLarge(..) => {
                (S::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large", "invalid_request")
            }
            Error::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "rate_limited", "rate_limit"),
            Error::Embed(EmbedError::Overloaded) => (S::TOO_MANY_REQUESTS, "overloaded", "rate_limit"),
            Error::Embed(EmbedError::Model(_)) => (S::INTERNAL_SERVER_ERROR, "model_error", "internal"),
            Error::Unavailable(_) => (S::SERVICE_UNAVAILABLE, "unavailable", "internal"),
            Error::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal", "internal"),
        }
    }

    pub fn code(&self) -> &'static str {
        self.describe().1
    }

    pub fn status(&self) -> StatusCode {
        self.describe().0
    }

    /// What the client is shown. Internal causes never leave the server.
    pub fn public_message(&self) -> String {
        match self {
            Error::Internal(_) | Error::Embed(EmbedError::Model(_)) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (_, code, kind) = self.describe();
        ErrorBody {
            message: self.public_message(),
            code: code.to_owned(),
            kind: kind.to_owned(),
            link: format!("/api/docs#errors-{code}"),
        }
    }
}

impl poem::error::ResponseError for Error {
    fn status(&self) -> StatusCode {
        Error::status(self)
    }

    fn as_response(&self) -> Response {
        if let Error::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        let mut resp = poem::web::Json(self.body()).with_status(self.status()).into_response();
        if let Error::RateLimited { retry_after_secs } = self {
            resp.headers_mut()
                .insert(poem::http::header::RETRY_AFTER, poem::http::HeaderValue::from(*retry_after_secs));
        }
        resp
    }
}

/// Turns any error that is not already ours (poem's own parse errors, 404 of the router, a body
/// over the limit) into the same JSON shape, so every client sees one format.
pub fn json_error_response(err: poem::Error) -> Response {
    if err.is::<Error>() {
        return err.into_response();
    }
    let status = err.status();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_client_error() => "bad_request",
        _ => "internal",
    };
    let message = if status.is_server_error() {
        tracing::error!(error = %err, "unhandled error");
        "internal error".to_owned()
    } else {
        err.to_string()
    };
    let body = ErrorBody {
        message,
        code: code.to_owned(),
        kind: if status.is_client_error() { "invalid_request" } else { "internal" }.to_owned(),
        link: format!("/api/docs#errors-{code}"),
    };
    poem::web::Json(body).with_status(status).into_response()
}

impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Self {
        Error::internal(e)
    }
}

macro_rules! redb_into_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::internal(redb::Error::from(e))
            }
        }
    )*};
}
redb_into_error!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::internal(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(e)
    }
}
