//! The admin console's API under `/api/admin/…`: knowledge sources and snippets, settings
//! (widget, handoff, hours, SMTP, security), visitor data (GDPR) and retention.
//! Every route needs an admin session ([`AdminAuth`]); agents get 403.

use poem::web::Data;
use poem::{Endpoint, EndpointExt, Request};
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    types::multipart::Upload,
    Multipart, Object, OpenApi, Tags,
};

use crate::admin::{
    gdpr,
    knowledge::{self, DocumentView, SnippetInput, SnippetView, SourceView},
    retention,
    settings::{self, AnswerView, SecurityUpdate, SettingsView, SmtpUpdate},
    uploads,
};
use crate::config::WidgetConfig;
use crate::error::Error;
use crate::http::auth::AdminAuth;
use crate::ids::{DocumentId, SourceId};
use crate::state::AppState;

#[derive(Tags)]
pub enum AdminTag {
    /// The admin console: knowledge, settings, visitor data.
    Admin,
}

#[derive(Debug, Object)]
pub struct CrawlRequest {
    /// The start URL; pages under it on the same site are crawled.
    pub url: String,
}

#[derive(Debug, Multipart)]
pub struct UploadForm {
    /// One or more Markdown, MDX, text, HTML or PDF files.
    pub files: Vec<Upload>,
}

#[derive(Debug, Object)]
pub struct TriggerTestRequest {
    /// A message as a visitor would type it.
    pub text: String,
}

#[derive(Debug, Object)]
pub struct Swept {
    pub deleted: u32,
}

#[derive(Debug, Object)]
pub struct Removed {
    pub ok: bool,
}

/// Refuses an upload whose declared size is already over the limit, before reading it.
/// (The exact limit is checked again on the files themselves.)
fn upload_limit(ep: impl Endpoint) -> impl Endpoint {
    ep.before(|req: Request| async move {
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if let (Some(state), Some(len)) = (req.data::<AppState>(), declared) {
            let limit = state.config().limits.max_upload_bytes;
            // Room for the multipart boundaries and headers.
            if len > limit.saturating_add(64 * 1024) {
                return Err(Error::PayloadTooLarge(format!(
                    "uploads are limited to {}",
                    uploads::limit_text(limit)
                ))
                .into());
            }
        }
        Ok(req)
    })
}

pub struct AdminApi;

#[OpenApi(prefix_path = "/admin", tag = "AdminTag::Admin")]
impl AdminApi {
    /// Every knowledge source with the progress of its last ingestion and per-document errors.
    #[oai(path = "/knowledge/sources", method = "get")]
    async fn sources(&self, _auth: AdminAuth, state: Data<&AppState>) -> poem::Result<Json<Vec<SourceView>>> {
        Ok(Json(knowledge::sources(&state)))
    }

    /// One source (poll it for progress).
    #[oai(path = "/knowledge/sources/:id", method = "get")]
    async fn source(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<SourceView>> {
        Ok(Json(knowledge::source(&state, &SourceId::from(id.0))?))
    }

    /// Documents of a source.
    #[oai(path = "/knowledge/sources/:id/documents", method = "get")]
    async fn documents(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<Vec<DocumentView>>> {
        let docs = state.knowledge.documents(&SourceId::from(id.0))?;
        Ok(Json(docs.into_iter().map(DocumentView::from).collect()))
    }

    /// Adds a website to crawl (crawling runs in the background; poll the source).
    #[oai(path = "/knowledge/sites", method = "post")]
    async fn crawl(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<CrawlRequest>,
    ) -> poem::Result<Json<SourceView>> {
        let id = state.knowledge.crawl_site(body.0.url.trim(), &state.config().crawl)?;
        Ok(Json(knowledge::source(&state, &id)?))
    }

    /// Uploads files (multipart field `files`); they are saved in the data dir and ingested
    /// as one source. Over `limits.max_upload_bytes` in total: 413.
    #[oai(path = "/knowledge/uploads", method = "post", transform = "upload_limit")]
    async fn upload(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        form: UploadForm,
    ) -> poem::Result<Json<SourceView>> {
        let limit = state.config().limits.max_upload_bytes;
        if form.files.iter().map(|f| f.size()).sum::<usize>() > limit {
            return Err(Error::PayloadTooLarge(format!(
                "uploads are limited to {}",
                uploads::limit_text(limit)
            ))
            .into());
        }
        let mut files = Vec::new();
        for f in form.files {
            let name = f.file_name().unwrap_or("file").to_owned();
            let bytes = f.into_vec().await.map_err(Error::from)?;
            files.push(uploads::UploadedFile { name, bytes });
        }
        let id = uploads::save_and_ingest(&state, files).await?;
        Ok(Json(knowledge::source(&state, &id)?))
    }

    /// Crawls or ingests a source again (unchanged documents are skipped).
    #[oai(path = "/knowledge/sources/:id/refresh", method = "post")]
    async fn refresh(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<SourceView>> {
        let id = SourceId::from(id.0);
        state.knowledge.recrawl(&id, &state.config().crawl)?;
        Ok(Json(knowledge::source(&state, &id)?))
    }

    /// Deletes a source and its documents (and the uploaded files).
    #[oai(path = "/knowledge/sources/:id", method = "delete")]
    async fn delete_source(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<Removed>> {
        uploads::delete_source(&state, &SourceId::from(id.0))?;
        Ok(Json(Removed { ok: true }))
    }

    /// The team's Q&A snippets, newest first.
    #[oai(path = "/knowledge/snippets", method = "get")]
    async fn snippets(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
    ) -> poem::Result<Json<Vec<SnippetView>>> {
        Ok(Json(state.knowledge.snippets()?.into_iter().map(SnippetView::from).collect()))
    }

    /// Writes a Q&A snippet; it is answerable at once.
    #[oai(path = "/knowledge/snippets", method = "post")]
    async fn add_snippet(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<SnippetInput>,
    ) -> poem::Result<Json<SnippetView>> {
        Ok(Json(knowledge::add_snippet(&state, body.0, &auth.name()).await?))
    }

    /// Replaces a snippet (it gets a new id).
    #[oai(path = "/knowledge/snippets/:id", method = "put")]
    async fn edit_snippet(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
        body: Json<SnippetInput>,
    ) -> poem::Result<Json<SnippetView>> {
        Ok(Json(knowledge::edit_snippet(&state, &DocumentId::from(id.0), body.0, &auth.name()).await?))
    }

    #[oai(path = "/knowledge/snippets/:id", method = "delete")]
    async fn delete_snippet(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<Removed>> {
        knowledge::delete_snippet(&state, &DocumentId::from(id.0))?;
        Ok(Json(Removed { ok: true }))
    }

    /// Everything the console edits. Secrets are never included, only whether they are set.
    #[oai(path = "/settings", method = "get")]
    async fn settings(&self, _auth: AdminAuth, state: Data<&AppState>) -> poem::Result<Json<SettingsView>> {
        Ok(Json(settings::view(&state.config())?))
    }

    /// Widget appearance.
    #[oai(path = "/settings/widget", method = "put")]
    async fn put_widget(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<WidgetConfig>,
    ) -> poem::Result<Json<SettingsView>> {
        Ok(Json(settings::update_widget(&state, body.0)?))
    }

    /// Handoff triggers, thresholds, topics and rules: the `[handoff]` section as JSON.
    #[oai(path = "/settings/handoff", method = "put")]
    async fn put_handoff(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<serde_json::Value>,
    ) -> poem::Result<Json<SettingsView>> {
        Ok(Json(settings::update_handoff(&state, body.0)?))
    }

    /// Tries a message against the triggers and rules (changes nothing): which triggers fire
    /// and why, and whether a new conversation would be handed off.
    #[oai(path = "/handoff/test", method = "post")]
    async fn test_handoff(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<TriggerTestRequest>,
    ) -> poem::Result<Json<crate::handoff::TriggerTest>> {
        Ok(Json(crate::handoff::test_message(&state, &body.0.text).await?))
    }

    /// Support hours, holidays and team schedules: the `[hours]` section as JSON.
    #[oai(path = "/settings/hours", method = "put")]
    async fn put_hours(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<serde_json::Value>,
    ) -> poem::Result<Json<SettingsView>> {
        Ok(Json(settings::update_hours(&state, body.0)?))
    }

    /// SMTP (the password is write-only: omit it to keep the stored one).
    #[oai(path = "/settings/smtp", method = "put")]
    async fn put_smtp(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<SmtpUpdate>,
    ) -> poem::Result<Json<SettingsView>> {
        Ok(Json(settings::update_smtp(&state, body.0)?))
    }

    /// Allowed origins, identity secret (write-only), retention.
    #[oai(path = "/settings/security", method = "put")]
    async fn put_security(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<SecurityUpdate>,
    ) -> poem::Result<Json<SettingsView>> {
        Ok(Json(settings::update_security(&state, body.0)?))
    }

    /// Answer confidence threshold and citations.
    #[oai(path = "/settings/answer", method = "put")]
    async fn put_answer(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<AnswerView>,
    ) -> poem::Result<Json<SettingsView>> {
        Ok(Json(settings::update_answer(&state, body.0)?))
    }

    /// Everything stored about one visitor (conversations, messages, context), found by
    /// visitor id, email or conversation id.
    #[oai(path = "/visitors/export", method = "get")]
    async fn export(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        visitor: Query<Option<String>>,
        email: Query<Option<String>>,
        conversation: Query<Option<String>>,
    ) -> poem::Result<Json<gdpr::VisitorExport>> {
        let q = gdpr::VisitorQuery { visitor: visitor.0, email: email.0, conversation: conversation.0 };
        Ok(Json(gdpr::export(&state, &q)?))
    }

    /// Erases one visitor: conversations, messages and the visitor record. Irreversible.
    #[oai(path = "/visitors/erase", method = "post")]
    async fn erase(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<gdpr::VisitorQuery>,
    ) -> poem::Result<Json<gdpr::Erased>> {
        Ok(Json(gdpr::erase(&state, &body.0)?))
    }

    /// Runs the retention sweep now (it also runs every hour).
    #[oai(path = "/retention/sweep", method = "post")]
    async fn sweep(&self, _auth: AdminAuth, state: Data<&AppState>) -> poem::Result<Json<Swept>> {
        let s = state.clone();
        let deleted = tokio::task::spawn_blocking(move || retention::sweep_once(&s, chrono::Utc::now()))
            .await
            .map_err(Error::internal)??;
        Ok(Json(Swept { deleted: deleted as u32 }))
    }
}
