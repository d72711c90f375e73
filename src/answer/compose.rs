//! Extractive answers and their confidence.
//!
//! Baton does not generate text: it quotes the most relevant sentences of the best sources and
//! numbers them `[1]`, `[2]` so every statement can be checked. Chunk hits are aggregated to
//! documents (one citation per document, its best chunk). Sentences of the best chunks are
//! scored by the query terms they contain (analyzed like the index: stemmed, stop words out) and
//! by position; when a question shares no words with the source (another language), the lead
//! sentences of the best passage are quoted.
//!
//! ## Confidence
//! A logistic function of two retrieval features that carry over to unseen corpora and
//! languages:
//! - `lift`: the best dense cosine between the question and a passage minus the best cosine
//!   between the question and a fixed background of everyday off-topic passages in the
//!   knowledge base's language ([`crate::knowledge::background`]). A question the docs answer
//!   is much closer to a doc than to the background, in any language; an off-topic one is not.
//! - `cosine`: the best dense cosine itself (how specific the match is).
//!
//! Lexical features (`coverage`, `unknown`) are computed for `baton ask --explain` but not
//! used: they punish questions in another language than the docs. The coefficients in
//! [`confidence`] were fitted by class-balanced logistic regression on the dev set plus a
//! separate multilingual calibration set (`benches/calibration.questions.jsonl`) and
//! rounded; see BENCHMARKS.md, `## Knowledge`.

use std::collections::HashSet;

use super::{Answer, Citation};
use crate::knowledge::analyze::{detect, words, Lang};
use crate::knowledge::chunk::sentences;
use crate::knowledge::index::{Hit, Results};

/// The features the confidence model reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Features {
    pub cosine: f32,
    pub coverage: f32,
    pub unknown: f32,
    /// Best cosine minus the best cosine to the off-topic background.
    pub lift: f32,
}

impl Features {
    pub fn from_results(r: &Results) -> Features {
        let best = r.hits.iter().max_by(|a, b| a.cosine.total_cmp(&b.cosine));
        let cosine = best.map_or(0.0, |h| h.cosine);
        let coverage = r.hits.iter().take(3).map(|h| h.coverage).fold(0.0f32, f32::max);
        let unknown = if r.query_terms == 0 { 0.0 } else { 1.0 - r.corpus_coverage };
        let lift = if best.is_some() { cosine - r.background } else { 0.0 };
        Features { cosine, coverage, unknown, lift }
    }
}

/// Calibrated probability that the best source answers the question.
pub fn confidence(f: &Features) -> f32 {
    let z = 62.0 * f.lift + 36.0 * (f.cosine - 0.85) - 2.7;
    1.0 / (1.0 + (-z).exp())
}

/// Weight of a document's second-best passage in its rank (0 = rank by best passage only).
const DOC_SECOND_WEIGHT: f32 = 0.75;

struct DocHit<'a> {
    best: &'a Hit,
    second: Option<&'a Hit>,
}

/// Builds the answer for `question` from retrieval results.
pub fn compose(
    question: &str,
    results: &Results,
    threshold: f32,
    max_citations: usize,
    terms: &dyn Fn(&str) -> Vec<String>,
) -> Answer {
    let lang = detect(&words(question)).unwrap_or(Lang::En);
    let features = Features::from_results(results);
    let confidence = if results.hits.is_empty() { 0.0 } else { confidence(&features) };
    let unsure = confidence < threshold;

    // One entry per document, in order of its best chunk.
    let mut docs: Vec<DocHit> = Vec::new();
    for h in &results.hits {
        match docs.iter_mut().find(|d| d.best.doc.id == h.doc.id) {
            Some(d) => {
                if d.second.is_none() {
                    d.second = Some(h);
                }
            }
            None => docs.push(DocHit { best: h, second: None }),
        }
    }
    // A document with a second strong passage is more likely about the question as a whole.
    let doc_score = |d: &DocHit| d.best.score + DOC_SECOND_WEIGHT * d.second.map_or(0.0, |h| h.score);
    docs.sort_by(|a, b| doc_score(b).total_cmp(&doc_score(a)));
    let top = docs.first().map_or(0.0, |d| d.best.score);
    let mut cited: Vec<&DocHit> =
        docs.iter().filter(|d| d.best.score >= top * 0.5).take(max_citations.max(1)).collect();
    if unsure && confidence < threshold * 0.5 {
        // Far from anything we know: do not point at unrelated pages.
        cited.clear();
    }

    let citations: Vec<Citation> = cited
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let h = d.best;
            let url = match (h.doc.url.is_empty(), h.chunk.anchor.is_empty()) {
                (false, false) => format!("{}#{}", h.doc.url, h.chunk.anchor),
                (false, true) => h.doc.url.clone(),
                _ => String::new(),
            };
            Citation {
                n: i as u32 + 1,
                title: h.doc.title.clone(),
                url,
                section: h.chunk.headings.last().cloned().unwrap_or_default(),
                path: h.doc.path.clone(),
                document: h.doc.id.clone(),
                snippet: truncate(&h.chunk.text.replace('\n', " "), 300),
                score: h.score.clamp(0.0, 1.0),
            }
        })
        .collect();

    let text = if unsure {
        let mut t = not_sure(lang).to_owned();
        if !citations.is_empty() {
            let refs: Vec<String> = citations.iter().map(|c| format!("[{}] {}", c.n, c.title)).collect();
            t.push_str("\n\n");
            t.push_str(maybe_related(lang));
            t.push(' ');
            t.push_str(&refs.join(", "));
        }
        t
    } else {
        let qterms: HashSet<String> = terms(question).into_iter().collect();
        let mut parts = Vec::new();
        for (i, d) in cited.iter().enumerate() {
            let max = if i == 0 { 3 } else { 1 };
            // Secondary sources add a sentence only when they are nearly as good and say
            // something about the question's own words.
            if i > 0 && (d.best.score < top * 0.85 || qterms.is_empty()) {
                continue;
            }
            let mut picked = extract(&d.best.chunk.text, &qterms, terms, max, i == 0);
            if i == 0 && picked.chars().count() < 80 {
                if let Some(s) = d.second {
                    if s.score >= d.best.score * 0.8 {
                        let more = extract(&s.chunk.text, &qterms, terms, 2, true);
                        if !more.is_empty() {
                            picked = format!("{picked} {more}");
                        }
                    }
                }
            }
            if !picked.is_empty() {
                parts.push(format!("{picked} [{}]", i + 1));
            }
            if parts.len() >= 2 {
                break;
            }
        }
        parts.join("\n\n")
    };
    Answer { text, citations, confidence, unsure }
}

/// The best sentences of `text` for the query terms, in reading order.
fn extract(
    text: &str,
    qterms: &HashSet<String>,
    terms: &dyn Fn(&str) -> Vec<String>,
    max: usize,
    lead: bool,
) -> String {
    let sents: Vec<&str> = text.lines().flat_map(sentences).collect();
    if sents.is_empty() {
        return String::new();
    }
    let scores: Vec<f32> = sents
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let ts: HashSet<String> = terms(s).into_iter().collect();
            let overlap = qterms.iter().filter(|t| ts.contains(*t)).count() as f32;
            let len = s.chars().count();
            let short_penalty = if len < 25 { 0.5 } else { 0.0 };
            overlap - short_penalty - 0.02 * i as f32
        })
        .collect();
    let best = (0..sents.len()).max_by(|a, b| scores[*a].total_cmp(&scores[*b])).unwrap_or(0);
    if scores[best] <= 0.0 && !lead {
        return String::new();
    }
    let start = if scores[best] <= 0.0 { 0 } else { best };
    let mut out = Vec::new();
    let mut chars = 0;
    for s in sents.iter().skip(start) {
        if out.len() >= max || (chars > 0 && chars + s.len() > 450) {
            break;
        }
        chars += s.len();
        out.push(*s);
    }
    out.join(" ")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) => format!("{}…", &cut[..i]),
        None => format!("{cut}…"),
    }
}

fn not_sure(lang: Lang) -> &'static str {
    match lang {
        Lang::De => "Ich bin mir nicht sicher und möchte nichts Falsches sagen: dazu finde ich keine klare Antwort in unserer Dokumentation. Möchten Sie mit dem Team sprechen?",
        Lang::Fr => "Je ne suis pas sûr et je préfère ne pas vous induire en erreur : je ne trouve pas de réponse claire dans notre documentation. Voulez-vous parler à l'équipe ?",
        Lang::Es => "No estoy seguro y prefiero no darle una respuesta incorrecta: no encuentro una respuesta clara en nuestra documentación. ¿Quiere hablar con el equipo?",
        Lang::It => "Non ne sono sicuro e preferisco non darle una risposta sbagliata: non trovo una risposta chiara nella nostra documentazione. Vuole parlare con il team?",
        Lang::Nl => "Ik weet het niet zeker en wil u geen verkeerd antwoord geven: ik vind geen duidelijk antwoord in onze documentatie. Wilt u met het team praten?",
        Lang::Pt => "Não tenho certeza e prefiro não dar uma resposta errada: não encontro uma resposta clara na nossa documentação. Quer falar com a equipa?",
        Lang::Sv => "Jag är inte säker och vill inte ge ett felaktigt svar: jag hittar inget tydligt svar i vår dokumentation. Vill du prata med teamet?",
        Lang::Pl => "Nie jestem pewien i nie chcę udzielić błędnej odpowiedzi: nie znajduję jasnej odpowiedzi w naszej dokumentacji. Czy chcesz porozmawiać z zespołem?",
        Lang::Da => "Jeg er ikke sikker og vil ikke give et forkert svar: jeg kan ikke finde et klart svar i vores dokumentation. Vil du tale med teamet?",
        Lang::En => "I'm not sure about this and don't want to guess: I couldn't find a clear answer in our documentation. Would you like to talk to the team?",
    }
}

fn maybe_related(lang: Lang) -> &'static str {
    match lang {
        Lang::De => "Vielleicht hilft das:",
        Lang::Fr => "Ceci pourrait aider :",
        Lang::Es => "Esto podría ayudar:",
        Lang::It => "Questo potrebbe aiutare:",
        Lang::Nl => "Misschien helpt dit:",
        Lang::Pt => "Isto pode ajudar:",
        Lang::Sv => "Det här kan hjälpa:",
        Lang::Pl => "To może pomóc:",
        Lang::Da => "Dette kan måske hjælpe:",
        Lang::En => "These pages might be related:",
    }
}
