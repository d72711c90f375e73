//! Static files embedded in the binary: the widget, the team app and the demo page.
//!
//! Every page is served with a strict Content-Security-Policy: scripts only from this origin, no
//! inline script. The team app (`/app/`) may not be framed at all; the demo page (`/`) only by
//! this origin. Visitor and document text is always inserted as text, and the policy is the
//! second line of defence. (`/api/docs` has its own policy, see [`super::csp`].)

use poem::http::header::CONTENT_SECURITY_POLICY;
use poem::http::HeaderValue;
use poem::{endpoint::EmbeddedFilesEndpoint, Endpoint, EndpointExt, IntoResponse, Route};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
pub struct Assets;

/// The policy of the team app's pages.
pub const APP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'; object-src 'none'";

/// The policy of every other file (the demo page `/`, `widget.js`).
pub const SITE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; \
     form-action 'self'; object-src 'none'";

pub fn routes() -> impl Endpoint {
    Route::new().nest("/", EmbeddedFilesEndpoint::<Assets>::new()).map_to_response().around(
        |ep, req| async move {
            let app = req.uri().path().starts_with("/app");
            let mut resp = ep.call(req).await?.into_response();
            let csp = if app { APP_CSP } else { SITE_CSP };
            resp.headers_mut().insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
            Ok(resp)
        },
    )
}
