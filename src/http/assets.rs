//! Static files embedded in the binary: the widget, the team app and the demo page.

use poem::{endpoint::EmbeddedFilesEndpoint, Endpoint, EndpointExt, Route};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
pub struct Assets;

pub fn routes() -> impl Endpoint {
    Route::new().nest("/", EmbeddedFilesEndpoint::<Assets>::new()).map_to_response()
}
