//! What kind of question a visitor asks: how-to (they want the steps or the setting), a
//! definition (they want the opening of the section named after the term), several parts
//! (each gets its own block). Cheap regexes in the widget's languages; a question that
//! matches none is answered by meaning alone.

use std::sync::LazyLock;

use regex::Regex;

/// A question asking what something is or means.
pub fn is_definition(q: &str) -> bool {
    static DEF: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?ix)^\s*(?:what(?:'s|\s+is|\s+are)|what\s+does\s+.+\s+mean|was\s+(?:ist|sind|bedeutet)|qu'est-ce\s+que|que\s+(?:es|significa)|qué\s+(?:es|significa)|cos'è|cosa\s+(?:è|significa)|wat\s+(?:is|betekent)|vad\s+(?:är|betyder)|co\s+to\s+(?:jest|znaczy)|o\s+que\s+(?:é|significa))\b
            | \b(?:mean|means|meaning|definition)\b\s*\??\s*$",
        )
        .expect("regex")
    });
    DEF.is_match(q)
}

/// A question about how to do something, where something is, or whether the visitor can do
/// it ("Can I make my dashboard public?" wants the setting, not only "yes").
pub fn is_howto(q: &str) -> bool {
    static HOW: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?ix)\b(?:how|where|wie|wo|comment|où|cómo|como|dónde|donde|come|dove|hoe|waar|hur|var|jak|gdzie|hvordan|hvor)\b
            | ^\s*(?:can|could|may)\s+(?:i|we)\b | \bis\s+(?:it|there\s+a\s+way)\s+(?:possible\s+)?to\b
            | ^\s*(?:kann|darf)\s+(?:ich|man)\b | ^\s*(?:est-ce\s+que\s+je\s+peux|puis-je|peut-on)\b
            | ^\s*(?:¿\s*)?(?:puedo|se\s+puede|podemos)\b | ^\s*(?:posso|si\s+può|possiamo)\b
            | ^\s*(?:kan|mag)\s+(?:ik|je|we|jag|vi|man)\b | ^\s*(?:czy\s+(?:mogę|można))\b | ^\s*(?:posso|pode-se|podemos)\b",
        )
            .expect("regex")
    });
    HOW.is_match(q)
}

/// The parts of a question that asks several things ("What does it cost and is there an
/// invoice?"): split at question marks and at "and" + a question word.
pub fn parts(question: &str) -> Vec<String> {
    static SPLIT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\?\s+|[,;]?\s+(?:and|und|et|y|e|en|och|og|i|oraz)\s+(?:how|what|where|when|which|can|do|does|is|are|will|wie|was|wo|wann|welche|kann|gibt|ist|comment|que|quel|quelle|où|quand|est-ce|puis|cómo|como|qué|dónde|cuándo|puedo|hay|come|cosa|dove|quando|posso|c'è|hoe|wat|waar|wanneer|kan|is|hur|vad|var|när|finns|jak|co|gdzie|kiedy|czy)\b",
        )
        .expect("regex")
    });
    SPLIT
        .split(question)
        .map(str::trim)
        .filter(|p| p.split_whitespace().count() >= 2)
        .map(str::to_owned)
        .collect()
}
