//! Handoff over HTTP: `GET /api/widget/availability` (public) for the widget's header and the
//! "Talk to the team" flow.

use poem::web::Data;
use poem_openapi::{param::Query, payload::Json, OpenApi, Tags};

use crate::handoff::timing::{self, Availability};
use crate::state::AppState;

#[derive(Tags)]
pub enum HandoffTag {
    /// Support hours, presence and what a visitor can expect.
    Handoff,
}

pub struct HandoffApi;

#[OpenApi(tag = "HandoffTag::Handoff")]
impl HandoffApi {
    /// Whether the team is reachable now, the typical wait (median of recent first replies),
    /// the next opening and the sentence to show the visitor. Public: no visitor token needed.
    #[oai(path = "/widget/availability", method = "get")]
    async fn availability(
        &self,
        state: Data<&AppState>,
        /// The visitor's IANA time zone, so the next opening is phrased in their time.
        tz: Query<Option<String>>,
        /// A team with its own schedule (default: the default team).
        team: Query<Option<String>>,
    ) -> poem::Result<Json<Availability>> {
        let tz = tz.0.unwrap_or_default();
        let team = team.0.unwrap_or_default();
        Ok(Json(timing::availability(&state, team.chars().take(64).collect::<String>().as_str(), &tz)?))
    }
}
