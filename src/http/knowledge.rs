//! Answers over HTTP: `POST /api/answers`.

use poem::web::Data;
use poem_openapi::{payload::Json, Object, OpenApi, Tags};

use crate::answer::Answer;
use crate::error::Error;
use crate::state::AppState;

#[derive(Tags)]
pub enum KnowledgeTag {
    /// Answers from the knowledge base.
    Knowledge,
}

#[derive(Debug, Object)]
pub struct AnswerRequest {
    /// The visitor's question, in any language.
    pub question: String,
}

pub struct KnowledgeApi;

#[OpenApi(tag = "KnowledgeTag::Knowledge")]
impl KnowledgeApi {
    /// Answers a question from the knowledge base, with numbered citations and a confidence.
    /// When Baton is not sure (`unsure: true`) the text says so and offers the team.
    #[oai(path = "/answers", method = "post")]
    async fn answer(&self, state: Data<&AppState>, body: Json<AnswerRequest>) -> poem::Result<Json<Answer>> {
        let config = state.config();
        let question = body.0.question.trim();
        if question.is_empty() {
            return Err(Error::InvalidInput("the question is empty".into()).into());
        }
        if question.chars().count() > config.limits.max_message_chars {
            return Err(Error::PayloadTooLarge(format!(
                "the question is longer than {} characters",
                config.limits.max_message_chars
            ))
            .into());
        }
        let answer = state
            .knowledge
            .answer(question, config.answer.confidence_threshold, config.answer.max_citations)
            .await?;
        Ok(Json(answer))
    }
}
