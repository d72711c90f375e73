//! Conversation signals: what the thread says beyond the last message.
//!
//! The message classifier reads one message; these read the conversation around it:
//!
//! - **Pinging while waiting:** "?", "hello?", "anyone??" after a message nobody has answered
//!   yet, or after an answer the AI was unsure of: the visitor wants a person
//!   (`human_request`).
//! - **Unsure twice:** the AI's last two answers were both unsure: it cannot help here
//!   (`frustration`, with its own reason).
//! - **Rated, then wrote again:** the visitor rated the latest AI answer "not helpful" and
//!   writes again (`frustration`).
//!
//! The similarity loop ("the same question again") and the count of unhelpful ratings stay in
//! [`super::decide`], which embeds earlier messages. Everything here is a pure function of the
//! thread, so it is cheap and unit-tested.

use crate::conversation::{Author, Body, Message, Rating};

use super::lexicon;
use super::Trigger;

/// A conversation signal that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadSignal {
    pub trigger: Trigger,
    pub reason: String,
    /// Machine-readable: `thread:ping`, `thread:unsure_twice`, `thread:rated_then_wrote`.
    pub evidence: &'static str,
}

/// Words a visitor types to ask whether anyone is there, folded ([`lexicon::fold`]).
const PING_WORDS: &[&str] = &[
    "hello",
    "hallo",
    "hi",
    "hey",
    "hej",
    "hei",
    "halo",
    "hola",
    "ola",
    "oi",
    "allo",
    "alo",
    "bonjour",
    "salut",
    "ciao",
    "buongiorno",
    "ahoj",
    "moi",
    "tere",
    "labas",
    "sveiki",
    "zdravo",
    "helo",
    "anyone",
    "anybody",
    "someone",
    "somebody",
    "there",
    "is",
    "jemand",
    "da",
    "quelqu",
    "un",
    "alguien",
    "qualcuno",
    "iemand",
    "ktos",
    "nkt",
    "nagon",
    "nogen",
    "joku",
    "kdokoli",
    "kdo",
    "tam",
    "yes",
    "ja",
    "oui",
    "si",
    "sim",
    "tak",
    "still",
    "up",
    "ping",
    "yo",
    "alguem",
    "ainda",
    "encore",
    "noch",
    "ancora",
    "todavia",
    "hallooo",
    "hellooo",
    "helloo",
    "hallo?",
    "uhm",
    "um",
    "well",
    "so",
    "and",
    "ok",
];

/// "?", "??", "hello?", "anyone there??", "hallo???" — a ping, not a question for the docs.
pub fn is_ping(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 40 {
        return false;
    }
    if t.chars().all(|c| matches!(c, '?' | '!' | '.' | '¿' | '…' | '？' | ' ')) {
        return t.contains(['?', '？', '¿']) || t.chars().filter(|c| *c == '.').count() >= 3;
    }
    let folded = lexicon::fold(t);
    let words = lexicon::tokens(&folded);
    if words.is_empty() || words.len() > 4 || !t.contains(['?', '？', '¿']) {
        return false;
    }
    words.iter().all(|w| {
        let w = w.trim_end_matches(['o', 'a']).to_owned();
        PING_WORDS.iter().any(|p| p.trim_end_matches(['o', 'a', '?']) == w || *p == w)
    })
}

fn is_visitor_text(m: &Message) -> bool {
    matches!((&m.author, &m.body), (Author::Visitor(_), Body::Text(_)))
}

/// Whether someone (the AI or an agent) wrote to the visitor.
fn is_reply(m: &Message) -> bool {
    matches!(
        (&m.author, &m.body),
        (Author::Ai(_), Body::Answer(_) | Body::Text(_)) | (Author::Agent(_), Body::Text(_))
    )
}

/// The signals `msg` raises given the thread before it (`history`, oldest first; messages at
/// or after `msg.seq` are ignored).
pub fn signals(history: &[Message], msg: &Message) -> Vec<ThreadSignal> {
    let before: Vec<&Message> = history.iter().filter(|m| m.seq < msg.seq).collect();
    let mut out = Vec::new();
    let last_reply = before.iter().rposition(|m| is_reply(m));
    let last_visitor = before.iter().rposition(|m| is_visitor_text(m));
    let answers: Vec<&crate::answer::Answer> = before
        .iter()
        .filter_map(|m| match (&m.author, &m.body) {
            (Author::Ai(_), Body::Answer(a)) => Some(&a.answer),
            _ => None,
        })
        .collect();
    let latest_answer_unsure = answers.last().is_some_and(|a| a.unsure);

    if is_ping(msg.text()) {
        let unanswered = match (last_visitor, last_reply) {
            (Some(v), Some(r)) => v > r,
            (Some(_), None) => true,
            _ => false,
        };
        if unanswered || latest_answer_unsure {
            out.push(ThreadSignal {
                trigger: Trigger::HumanRequest,
                reason: format!(
                    "The visitor is waiting and asked whether anyone is there (\"{}\").",
                    msg.text().trim()
                ),
                evidence: "thread:ping",
            });
        }
    }
    if answers.len() >= 2 && answers[answers.len() - 2..].iter().all(|a| a.unsure) {
        out.push(ThreadSignal {
            trigger: Trigger::Frustration,
            reason: "The AI was unsure of its last two answers; the visitor is not getting help.".into(),
            evidence: "thread:unsure_twice",
        });
    }
    let latest_ai =
        before.iter().rev().find(|m| matches!((&m.author, &m.body), (Author::Ai(_), Body::Answer(_))));
    if latest_ai.is_some_and(|m| m.rating == Some(Rating::NotHelpful)) {
        out.push(ThreadSignal {
            trigger: Trigger::Frustration,
            reason: "The visitor rated the last answer not helpful and wrote again.".into(),
            evidence: "thread:rated_then_wrote",
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Answer;
    use crate::conversation::{AnswerBody, AuthorAi, AuthorVisitor, TextBody};

    fn at(seq: u64, author: Author, body: Body) -> Message {
        Message {
            seq,
            at: chrono::Utc::now(),
            author,
            body,
            page: None,
            rating: None,
            client_id: String::new(),
        }
    }
    fn visitor(seq: u64, t: &str) -> Message {
        at(seq, Author::Visitor(AuthorVisitor {}), Body::Text(TextBody { text: t.into() }))
    }
    fn ai(seq: u64, unsure: bool) -> Message {
        let answer = Answer {
            text: String::new(),
            blocks: Vec::new(),
            citations: Vec::new(),
            confidence: if unsure { 0.2 } else { 0.9 },
            unsure,
        };
        at(seq, Author::Ai(AuthorAi {}), Body::Answer(AnswerBody { answer, reply_to: seq - 1 }))
    }

    #[test]
    fn pings_are_recognised_in_many_languages() {
        for t in [
            "?",
            "??",
            "hello?",
            "Hallo???",
            "anyone there?",
            "hola?",
            "allo ?",
            "halo?",
            "...",
            "hei?",
            "jemand da?",
        ] {
            assert!(is_ping(t), "{t}");
        }
        for t in ["hello", "how do I export?", "hello, how do I reset my password?", "why?!", "ok", "Preise?"]
        {
            assert!(!is_ping(t), "{t}");
        }
    }

    #[test]
    fn a_ping_after_an_unanswered_message_asks_for_a_person() {
        let h = vec![visitor(1, "my export fails with error 500")];
        let s = signals(&h, &visitor(2, "hello?"));
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].trigger, s[0].evidence), (Trigger::HumanRequest, "thread:ping"));
        // Answered confidently: "hello?" is just a greeting.
        let h = vec![visitor(1, "my export fails"), ai(2, false)];
        assert!(signals(&h, &visitor(3, "hello?")).is_empty());
        // Answered unsure: the visitor is still waiting for help.
        let h = vec![visitor(1, "my export fails"), ai(2, true)];
        assert_eq!(signals(&h, &visitor(3, "??"))[0].evidence, "thread:ping");
    }

    #[test]
    fn two_unsure_answers_and_a_bad_rating_are_frustration() {
        let h = vec![visitor(1, "a"), ai(2, true), visitor(3, "b"), ai(4, true)];
        let s = signals(&h, &visitor(5, "and what about exports"));
        assert_eq!(s.iter().map(|s| s.evidence).collect::<Vec<_>>(), ["thread:unsure_twice"]);
        let h = vec![visitor(1, "a"), ai(2, true), visitor(3, "b"), ai(4, false)];
        assert!(signals(&h, &visitor(5, "c")).is_empty());
        let mut rated = ai(4, false);
        rated.rating = Some(Rating::NotHelpful);
        let h = vec![visitor(3, "b"), rated];
        let s = signals(&h, &visitor(5, "that is not what I asked"));
        assert_eq!((s[0].trigger, s[0].evidence), (Trigger::Frustration, "thread:rated_then_wrote"));
    }
}
