//! Insights over HTTP under `/api/insights/…`: the gaps report, snippets from conversations
//! and metrics (JSON and CSV). Team members read; only admins change a gap's status.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::{Json, PlainText},
    ApiResponse, Object, OpenApi, Tags,
};

use crate::error::Error;
use crate::http::auth::{AdminAuth, AgentAuth};
use crate::ids::{ConversationId, GapId};
use crate::insights::{
    self,
    gaps::{self, GapReport, GapStatus},
    metrics::{self, Metrics},
    SnippetCreated, SnippetDraft, SnippetRequest,
};
use crate::state::AppState;

#[derive(Tags)]
pub enum InsightsTag {
    /// Gaps report, snippets from conversations, metrics.
    Insights,
}

#[derive(Debug, Object)]
pub struct StatusChange {
    /// `open`, `dismissed` or `resolved`.
    pub status: GapStatus,
}

#[derive(Debug, Object)]
pub struct StatusSet {
    pub ok: bool,
}

#[derive(ApiResponse)]
pub enum CsvResponse {
    /// The metrics as CSV.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(PlainText<String>, #[oai(header = "Content-Disposition")] String),
}

/// `YYYY-MM-DD` (start of that day, UTC) or RFC 3339.
fn parse_time(s: &str, name: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|_| Error::InvalidInput(format!("{name} must be a date like 2026-01-31")))
}

/// The period: `from`/`to` (a date `to` includes that whole day), else the last `days` (30).
fn period(
    from: Option<String>,
    to: Option<String>,
    days: Option<u32>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Error> {
    let to = match to.as_deref().filter(|s| !s.is_empty()) {
        Some(t) if t.len() == 10 => parse_time(t, "to")? + Duration::days(1),
        Some(t) => parse_time(t, "to")?,
        None => Utc::now(),
    };
    let from = match from.as_deref().filter(|s| !s.is_empty()) {
        Some(f) => parse_time(f, "from")?,
        None => to - Duration::days(i64::from(days.unwrap_or(30).clamp(1, 3660))),
    };
    if from >= to {
        return Err(Error::InvalidInput("from must be before to".into()));
    }
    if to - from > Duration::days(3660) {
        return Err(Error::InvalidInput("the period is at most ten years".into()));
    }
    Ok((from, to))
}

fn compute(state: &AppState, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Metrics, Error> {
    let threads = insights::load_threads(state, Some(to))?;
    Ok(metrics::compute(&threads, from, to, metrics::bucket_for(from, to)))
}

pub struct InsightsApi;

#[OpenApi(prefix_path = "/insights", tag = "InsightsTag::Insights")]
impl InsightsApi {
    /// Groups of questions the AI could not answer, by impact (Σ 0.5^(age/14 days)).
    #[oai(path = "/gaps", method = "get")]
    async fn gaps(
        &self,
        _auth: AgentAuth,
        state: Data<&AppState>,
        /// `open` (default) or `all` (also dismissed, resolved and covered groups).
        status: Query<Option<String>>,
        /// Length of the trend period in days (default 30).
        period_days: Query<Option<u32>>,
        limit: Query<Option<u32>>,
    ) -> poem::Result<Json<Vec<GapReport>>> {
        let all = status.0.as_deref() == Some("all");
        let threads = insights::load_threads(&state, None)?;
        let days = i64::from(period_days.0.unwrap_or(30).clamp(1, 365));
        let limit = limit.0.unwrap_or(50).clamp(1, 200) as usize;
        Ok(Json(gaps::report(&state, &threads, Utc::now(), days, all, limit).await?))
    }

    /// Dismisses, resolves or reopens a gap group (admins).
    #[oai(path = "/gaps/:id/status", method = "post")]
    async fn set_status(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
        body: Json<StatusChange>,
    ) -> poem::Result<Json<StatusSet>> {
        gaps::set_status(&state, &GapId::from(id.0), body.0.status, None)?;
        Ok(Json(StatusSet { ok: true }))
    }

    /// The visitor's question and the agent's latest reply in a conversation, to pre-fill
    /// the "save as snippet" dialog.
    #[oai(path = "/snippets/draft", method = "get")]
    async fn draft(
        &self,
        _auth: AgentAuth,
        state: Data<&AppState>,
        conversation: Query<String>,
    ) -> poem::Result<Json<SnippetDraft>> {
        Ok(Json(insights::draft(&state, &ConversationId::from(conversation.0))?))
    }

    /// Saves a question and an answer as a Q&A snippet, indexed at once; the gap group it
    /// answers is marked covered.
    #[oai(path = "/snippets", method = "post")]
    async fn snippet(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        body: Json<SnippetRequest>,
    ) -> poem::Result<Json<SnippetCreated>> {
        Ok(Json(insights::snippet_from_conversation(&state, body.0, &auth.name()).await?))
    }

    /// Metrics for a period (`from`/`to` as dates or RFC 3339, or the last `days`).
    #[oai(path = "/metrics", method = "get")]
    async fn metrics(
        &self,
        _auth: AgentAuth,
        state: Data<&AppState>,
        from: Query<Option<String>>,
        to: Query<Option<String>>,
        days: Query<Option<u32>>,
    ) -> poem::Result<Json<Metrics>> {
        let (from, to) = period(from.0, to.0, days.0)?;
        Ok(Json(compute(&state, from, to)?))
    }

    /// The same metrics as CSV.
    #[oai(path = "/metrics.csv", method = "get")]
    async fn metrics_csv(
        &self,
        _auth: AgentAuth,
        state: Data<&AppState>,
        from: Query<Option<String>>,
        to: Query<Option<String>>,
        days: Query<Option<u32>>,
    ) -> poem::Result<CsvResponse> {
        let (from, to) = period(from.0, to.0, days.0)?;
        let m = compute(&state, from, to)?;
        let name = format!(
            "attachment; filename=\"baton-metrics-{}-{}.csv\"",
            from.format("%Y%m%d"),
            (to - Duration::seconds(1)).format("%Y%m%d")
        );
        Ok(CsvResponse::Csv(PlainText(metrics::to_csv(&m)), name))
    }
}
