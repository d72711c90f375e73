//! The lexical analyzer behind BM25: Unicode-aware and language-agnostic by default.
//!
//! Text is NFKC-normalised, lower-cased and split into words with Unicode word segmentation
//! (UAX #29), so accents, ligatures, full-width forms and non-Latin scripts all work. Words are
//! then lightly stemmed with the Snowball stemmer of the text's language, detected from small
//! stop-word lists (en, de, fr, es, it, nl, pt, sv, pl, da). Text whose language cannot be told
//! (a three-word query) falls back to the dominant language of the indexed corpus, so that a
//! short English question is stemmed like the English pages it should match. Stop words of all
//! these languages are dropped: they carry no signal for BM25 and would blur the "query terms
//! covered" confidence feature.

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// A language the analyzer can detect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    De,
    Fr,
    Es,
    It,
    Nl,
    Pt,
    Sv,
    Pl,
    Da,
}

pub const LANGS: [Lang; 10] =
    [Lang::En, Lang::De, Lang::Fr, Lang::Es, Lang::It, Lang::Nl, Lang::Pt, Lang::Sv, Lang::Pl, Lang::Da];

impl Lang {
    fn stopwords(self) -> &'static [&'static str] {
        match self {
            Lang::En => &[
                "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "is", "are", "was",
                "be", "it", "this", "that", "i", "you", "my", "your", "we", "our", "do", "does", "can",
                "how", "what", "which", "where", "when", "why", "who", "there", "from", "by", "at", "as",
                "if", "not", "me", "so", "any", "some", "have", "has", "will", "would", "should", "into",
                "about", "its", "they", "them", "their", "then", "than", "up", "out", "all", "also", "get",
                "just",
            ],
            Lang::De => &[
                "der", "die", "das", "und", "oder", "ist", "sind", "ein", "eine", "einen", "ich", "wie",
                "was", "wo", "mein", "meine", "meinen", "kann", "können", "nicht", "mit", "für", "auf", "zu",
                "von", "den", "dem", "des", "im", "es", "sie", "wir", "ihr", "ihre", "auch", "noch", "bei",
                "aus", "wann", "warum", "welche", "gibt", "habe", "hat", "sich", "mir", "mich",
            ],
            Lang::Fr => &[
                "le", "la", "les", "un", "une", "des", "et", "ou", "est", "sont", "je", "comment", "que",
                "quoi", "mon", "ma", "mes", "pour", "dans", "sur", "avec", "pas", "ne", "du", "de", "au",
                "aux", "vous", "nous", "il", "elle", "ce", "cette", "qui", "où", "quand", "pourquoi", "puis",
                "votre", "vos",
            ],
            Lang::Es => &[
                "el", "la", "los", "las", "un", "una", "y", "o", "es", "son", "yo", "cómo", "como", "qué",
                "que", "mi", "mis", "para", "en", "con", "no", "del", "de", "al", "por", "se", "puedo", "su",
                "sus", "dónde", "cuándo", "usted", "lo", "le", "me", "hay",
            ],
            Lang::It => &[
                "il", "lo", "la", "gli", "le", "un", "una", "e", "o", "è", "sono", "io", "come", "che",
                "cosa", "mio", "mia", "miei", "per", "in", "con", "non", "del", "della", "di", "al", "nel",
                "posso", "si", "dove", "quando", "perché", "ho", "mi",
            ],
            Lang::Nl => &[
                "de", "het", "een", "en", "of", "is", "zijn", "ik", "hoe", "wat", "mijn", "voor", "in", "op",
                "met", "niet", "van", "te", "je", "jullie", "wij", "kan", "waar", "wanneer", "waarom", "dit",
                "dat", "er", "ook", "bij", "naar",
            ],
            Lang::Pt => &[
                "o", "a", "os", "as", "um", "uma", "e", "ou", "é", "são", "eu", "como", "que", "meu",
                "minha", "para", "em", "com", "não", "do", "da", "de", "no", "na", "por", "posso", "onde",
                "quando", "porque", "você", "seu", "sua",
            ],
            Lang::Sv => &[
                "en", "ett", "och", "eller", "är", "jag", "hur", "vad", "min", "mitt", "mina", "för", "i",
                "på", "med", "inte", "av", "till", "det", "den", "de", "kan", "var", "när", "varför", "som",
                "har", "ni", "vi", "du",
            ],
            Lang::Pl => &[
                "i", "w", "z", "na", "do", "nie", "jest", "są", "jak", "co", "mój", "moje", "moja", "dla",
                "się", "czy", "mogę", "gdzie", "kiedy", "dlaczego", "to", "ten", "ta", "od", "po", "o", "za",
                "mam",
            ],
            Lang::Da => &[
                "en", "et", "og", "eller", "er", "jeg", "hvordan", "hvad", "min", "mit", "mine", "for", "i",
                "på", "med", "ikke", "af", "til", "det", "den", "de", "kan", "hvor", "hvornår", "hvorfor",
                "som", "har", "vi", "du",
            ],
        }
    }

    fn stemmer(self) -> Option<Stemmer> {
        let alg = match self {
            Lang::En => Algorithm::English,
            Lang::De => Algorithm::German,
            Lang::Fr => Algorithm::French,
            Lang::Es => Algorithm::Spanish,
            Lang::It => Algorithm::Italian,
            Lang::Nl => Algorithm::Dutch,
            Lang::Pt => Algorithm::Portuguese,
            Lang::Sv => Algorithm::Swedish,
            Lang::Da => Algorithm::Danish,
            Lang::Pl => return None,
        };
        Some(Stemmer::create(alg))
    }
}

/// Lower-cased, NFKC-normalised words of `text` (no stemming, stop words kept).
pub fn words(text: &str) -> Vec<String> {
    let normalised: String = text.nfkc().collect::<String>().to_lowercase();
    normalised
        .unicode_words()
        .map(|w| w.trim_matches(|c: char| c == '\'' || c == '’' || c == '.').to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether `w` (lower case) is a stop word in any supported language.
pub fn is_stopword(w: &str) -> bool {
    LANGS.iter().any(|l| l.stopwords().contains(&w))
}

/// Detects the language from stop words; `None` when there is too little evidence.
pub fn detect(words: &[String]) -> Option<Lang> {
    let mut best: Option<(Lang, usize)> = None;
    let mut second = 0;
    for lang in LANGS {
        let sw = lang.stopwords();
        let hits = words.iter().filter(|w| sw.contains(&w.as_str())).count();
        match best {
            Some((_, b)) if hits > b => {
                second = b;
                best = Some((lang, hits));
            }
            Some(_) => second = second.max(hits),
            None => best = Some((lang, hits)),
        }
    }
    match best {
        Some((lang, hits)) if hits >= 2 && hits > second => Some(lang),
        _ => None,
    }
}

/// Turns words into index terms: drops stop words and stems with `lang`'s stemmer.
pub struct Analyzer {
    stemmers: Vec<(Lang, Option<Stemmer>)>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer { stemmers: LANGS.iter().map(|&l| (l, l.stemmer())).collect() }
    }
}

impl Analyzer {
    /// Index terms of `text`. `fallback` is used when the language cannot be detected.
    pub fn terms(&self, text: &str, fallback: Option<Lang>) -> (Vec<String>, Option<Lang>) {
        let ws = words(text);
        let detected = detect(&ws);
        let lang = detected.or(fallback);
        let stemmer =
            lang.and_then(|l| self.stemmers.iter().find(|(x, _)| *x == l)).and_then(|(_, s)| s.as_ref());
        let terms = ws
            .into_iter()
            .filter(|w| !is_stopword(w))
            .map(|w| match stemmer {
                Some(s) if w.chars().all(char::is_alphabetic) => s.stem(&w).into_owned(),
                _ => w,
            })
            .collect();
        (terms, detected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_stems() {
        let a = Analyzer::default();
        let (t, lang) = a.terms("How do I export the Reports? ＥＸＰＯＲＴＩＮＧ reports", None);
        assert_eq!(lang, Some(Lang::En));
        assert_eq!(t, vec!["export", "report", "export", "report"]);
    }

    #[test]
    fn detects_german_and_falls_back() {
        let a = Analyzer::default();
        let (t, lang) = a.terms("Wie kann ich mein Abonnement kündigen?", None);
        assert_eq!(lang, Some(Lang::De));
        assert!(t.contains(&"abonnement".to_owned()), "{t:?}");
        let (t, lang) = a.terms("billing invoices", Some(Lang::En));
        assert_eq!(lang, None);
        assert_eq!(t, vec!["bill", "invoic"]);
    }

    #[test]
    fn non_latin_words_survive() {
        assert_eq!(words("Пароль сбросить 密码"), vec!["пароль", "сбросить", "密", "码"]);
    }
}
