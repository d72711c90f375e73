//! The HTTP edge: one [`build_app`] used by `serve` and by the tests.
//!
//! JSON APIs are poem-openapi structs, one per area, combined into one OpenAPI document served
//! at `/api/openapi.json` with a reference page at `/api/docs`. Handlers are thin: they parse,
//! call the domain module, and map the result. Every error leaves as the JSON of
//! [`crate::error::ErrorBody`].

pub mod admin;
pub mod assets;
pub mod auth;
pub mod csp;
pub mod edge;
pub mod handoff;
pub mod inbox;
pub mod insights;
pub mod knowledge;
pub mod limits;
pub mod system;
pub mod widget;

use poem::{get, middleware::SetHeader, Endpoint, EndpointExt, Route};
use poem_openapi::{OpenApi, OpenApiService};

use crate::error::json_error_response;
use crate::state::AppState;

/// The API areas, combined into one OpenAPI document (a tuple of `#[OpenApi]` structs).
pub fn api_service() -> OpenApiService<impl OpenApi, ()> {
    OpenApiService::new(
        (
            system::SystemApi,
            knowledge::KnowledgeApi,
            handoff::HandoffApi,
            widget::WidgetApi,
            auth::AuthApi,
            auth::TeamApi,
            inbox::InboxApi,
            admin::AdminApi,
            insights::InsightsApi,
        ),
        "Baton",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Self-hosted AI support desk. Errors are JSON: `{message, code, type, link}`.")
    .server("/api")
}

pub fn build_app(state: AppState) -> impl Endpoint {
    let api = api_service();
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    Route::new()
        .at("/healthz", get(system::healthz))
        .at(edge::ERROR_PATH, get(edge::error_page))
        .at("/api/openapi.json", spec)
        .nest("/api/docs", csp::docs(docs))
        .nest("/api", api)
        .nest("/", assets::routes())
        .with(
            SetHeader::new()
                .overriding("X-Content-Type-Options", "nosniff")
                .overriding("Referrer-Policy", "strict-origin-when-cross-origin"),
        )
        .with(widget::WidgetGuard::new())
        .with(poem::middleware::CookieJarManager::new())
        // Outermost with the state: no route reads a body past its class's limit.
        .with(limits::BodyLimit)
        .data(state)
        .catch_all_error(|e| async move { json_error_response(e) })
}
