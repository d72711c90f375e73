//! Small multilingual lexicons: the cheap, explainable half of the classifier.
//!
//! Words are compared after folding (lower case, accents removed, `ł→l`, `ß→ss`) and as
//! prefixes of tokens, so `Mitarbeiter`, `Mitarbeiterin` and `Mitarbeitern` share one stem.
//! Languages covered: en, de, fr, es, it, nl, pl, pt, sv. Elsewhere the embedding model (about
//! 100 languages) carries the decision alone; anger cues (capitals, `!!!`) are language-free.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;

use crate::handoff::rules::TopicConfig;

/// A lexicon hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// `human_request`, `frustration` or `topic:<name>`.
    pub label: String,
    /// Short machine name of the cue (`short_request`, `verb_person`, `shouting`…).
    pub name: &'static str,
    /// The words that matched, for the reason shown to agents.
    pub detail: String,
    /// Strong cues decide on their own; weak ones only lower the embedding margin.
    pub strong: bool,
}

/// Lower case, accents stripped, a few letters that do not decompose mapped by hand.
pub fn fold(s: &str) -> String {
    s.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(|c| c.to_lowercase())
        .map(|c| match c {
            'ł' => 'l',
            'ø' => 'o',
            'đ' => 'd',
            _ => c,
        })
        .collect::<String>()
        .replace('ß', "ss")
        .replace('æ', "ae")
}

pub fn tokens(folded: &str) -> Vec<&str> {
    folded.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).collect()
}

/// Person nouns: someone who is not the bot.
const PERSON: &[&str] = &[
    // en
    "human",
    "person",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "agent",
    "operator",
    "representative",
    "staff",
    "manager",
    "supervisor",
    "advisor",
    "adviser",
    "consultant",
    "teammate",
    "support team",
    "customer service",
    "customer support",
    "live chat",
    "helpdesk",
    // de
    "mensch",
    "mitarbeiter",
    "jemand",
    "berater",
    "kundenservice",
    "kundendienst",
    "kundensupport",
    "ansprechpartner",
    "support-team",
    "supportteam",
    "sachbearbeiter",
    // fr
    "humain",
    "personne",
    "quelqu",
    "conseiller",
    "operateur",
    "interlocuteur",
    "service client",
    "equipe",
    // es
    "humano",
    "persona",
    "alguien",
    "agente",
    "operador",
    "asesor",
    "equipo",
    "soporte",
    // it
    "umano",
    "qualcuno",
    "operatore",
    "consulente",
    "assistenza",
    "addetto",
    // nl
    "mens",
    "medewerker",
    "iemand",
    "persoon",
    "klantenservice",
    "team",
    // pl
    "czlowie",
    "konsultant",
    "pracowni",
    "ktos",
    "osob",
    "obslug",
    // pt
    "pessoa",
    "alguem",
    "atendente",
    "equipa",
    "equipe",
    "suporte",
    // sv
    "manniska",
    "nagon",
    "handlaggare",
    "kundtjanst",
    "support",
];

/// Talk / connect / call-back verbs.
const VERB: &[&str] = &[
    // en
    "talk",
    "speak",
    "chat with",
    "connect",
    "transfer",
    "escalat",
    "put me through",
    "call me",
    "phone me",
    "ring me",
    "email me",
    "get back to me",
    "contact me",
    "reach",
    // de
    "sprech",
    "rede",
    "verbind",
    "weiterleit",
    "ruf",
    "kontaktier",
    "melde",
    // fr
    "parler",
    "discuter",
    "joindre",
    "contacter",
    "transfer",
    "rappel",
    "mettre en relation",
    "mettez-moi",
    "mettez moi",
    "passer",
    // es
    "hablar",
    "pasas",
    "pasame",
    "pasar",
    "comunicar",
    "contactar",
    "llamar",
    "llame",
    // it
    "parlare",
    "passi",
    "passare",
    "contattar",
    "chiamar",
    "mettermi in contatto",
    // nl
    "spreken",
    "praten",
    "doorverbind",
    "bellen",
    "aan de lijn",
    "te woord",
    // pl
    "rozmawi",
    "porozmawi",
    "polacz",
    "kontakt",
    "zadzwon",
    "mowic",
    // pt
    "falar",
    "conversar",
    "transfira",
    "transferir",
    "ligar",
    "ligue",
    // sv
    "prata",
    "tala",
    "snacka",
    "koppla",
    "ringa",
];

/// Words that may surround a bare request ("agent please").
const FILLER: &[&str] = &[
    "please",
    "pls",
    "plz",
    "now",
    "a",
    "an",
    "the",
    "real",
    "live",
    "actual",
    "i",
    "want",
    "need",
    "me",
    "get",
    "give",
    "to",
    "talk",
    "speak",
    "with",
    "bitte",
    "einen",
    "ein",
    "jetzt",
    "echten",
    "echter",
    "svp",
    "un",
    "une",
    "vrai",
    "vraie",
    "s",
    "il",
    "vous",
    "plait",
    "por",
    "favor",
    "uno",
    "una",
    "real",
    "per",
    "favore",
    "graag",
    "een",
    "alstublieft",
    "aub",
    "prosze",
    "poprosze",
    "z",
    "o",
    "um",
    "uma",
    "por favor",
    "tack",
    "en",
    "snalla",
    "hello",
    "hi",
    "hallo",
    "hola",
    "ciao",
    "hej",
    "ola",
    "bonjour",
    "yes",
    "ja",
    "oui",
    "si",
    "sim",
    "tak",
    "ok",
];

/// Whole-token person nouns that make a bare request on their own.
const BARE: &[&str] = &[
    "human",
    "person",
    "agent",
    "operator",
    "representative",
    "rep",
    "someone",
    "staff",
    "mensch",
    "mitarbeiter",
    "menschen",
    "humain",
    "personne",
    "conseiller",
    "operateur",
    "humano",
    "persona",
    "agente",
    "operador",
    "umano",
    "operatore",
    "mens",
    "medewerker",
    "persoon",
    "czlowiek",
    "konsultant",
    "pracownik",
    "pessoa",
    "atendente",
    "manniska",
    "handlaggare",
    "humans",
    "people",
    "support",
];

/// "not a bot", "real person".
const NOT_BOT: &[&str] = &[
    "not a bot",
    "not a robot",
    "not a chatbot",
    "not a machine",
    "isn t a bot",
    "no bot",
    "no more bot",
    "stop the bot",
    "kein bot",
    "keine ki",
    "keinen bot",
    "pas un robot",
    "pas un bot",
    "no un bot",
    "no una maquina",
    "non un bot",
    "geen bot",
    "niet een bot",
    "nie bot",
    "nie z botem",
    "nao um robo",
    "nao um bot",
    "inte en bot",
    "inte en robot",
    "real person",
    "real human",
    "actual human",
    "actual person",
    "echten menschen",
    "echte person",
    "echten person",
    "vraie personne",
    "vrai humain",
    "persona real",
    "persona de verdad",
    "persona vera",
    "persona reale",
    "echt persoon",
    "echte mens",
    "prawdziw",
    "pessoa real",
    "riktig manniska",
    "verklig person",
];

const FRUSTRATION: &[&str] = &[
    // en
    "useless",
    "not helping",
    "not helpful",
    "doesn t help",
    "does not help",
    "no help",
    "terrible",
    "awful",
    "worst",
    "ridiculous",
    "waste of time",
    "same answer",
    "same wrong",
    "makes no sense",
    "fed up",
    "pointless",
    "asked three times",
    "asked twice",
    "asked you",
    "again and again",
    "still nothing",
    "still not working",
    "not what i asked",
    "you don t understand",
    "garbage",
    "rubbish",
    "frustrat",
    "annoy",
    // de
    "nutzlos",
    "sinnlos",
    "hilft nicht",
    "hilft mir nicht",
    "hilft mir uberhaupt nicht",
    "bringt nichts",
    "verstehst nicht",
    "verstehen nicht",
    "im kreis",
    "schon dreimal",
    "schon zweimal",
    "unverschamt",
    "katastroph",
    "argerlich",
    "genervt",
    // fr
    "sert a rien",
    "n importe quoi",
    "inutile",
    "comprenez pas",
    "comprends pas",
    "nul",
    "aidez pas",
    "ras le bol",
    "marre",
    // es
    "no sirve",
    "inutil",
    "perdida de tiempo",
    "no entiendes",
    "no me ayuda",
    "no me estas ayudando",
    "harto",
    "desastre",
    // it
    "non serve",
    "non capisci",
    "non mi aiuta",
    "perdita di tempo",
    "assurdo",
    "stufo",
    // nl
    "waardeloos",
    "nutteloos",
    "helpt niet",
    "helpt me niet",
    "slaat nergens op",
    "begrijp je niet",
    // pl
    "bezuzyteczn",
    "nie pomaga",
    "bez sensu",
    "nie ma sensu",
    "ta sama odpowiedz",
    "nie rozumiesz",
    // pt
    "nao ajuda",
    "nao esta ajudando",
    "nao serve",
    "perda de tempo",
    "nao entende",
    // sv
    "vardelos",
    "hjalper inte",
    "meningslos",
    "forstar inte",
    "trott pa",
];

const INSULTS: &[&str] = &[
    "idiot", "stupid", "dumb", "crap", "shit", "fuck", "wtf", "scheiss", "scheis", "blod", "dumm", "merde",
    "putain", "mierda", "joder", "estupid", "cazzo", "stupido", "kut", "klote", "kurwa", "porra", "merda",
    "skit", "javla",
];

fn topic_keywords(topic: &str) -> &'static [&'static str] {
    match topic {
        "billing" => &[
            "charged twice",
            "double charg",
            "charged me",
            "overcharg",
            "chargeback",
            "dispute",
            "money back",
            "refund it",
            "refund me",
            "refund now",
            "unauthori",
            "don t recogni",
            "not recogni",
            "doppelt",
            "abgebucht",
            "ruckerstattung",
            "geld zuruck",
            "deux fois",
            "rembourse",
            "preleve",
            "debite",
            "cobrado",
            "cobraron",
            "dos veces",
            "no reconozco",
            "devuelvan",
            "addebit",
            "due volte",
            "rimborso",
            "afgeschreven",
            "twee keer",
            "geld terug",
            "podwojn",
            "pobrano",
            "zwrot",
            "duas vezes",
            "cobrado em dobro",
            "dinheiro de volta",
            "debiterat",
            "tva ganger",
            "pengarna tillbaka",
        ],
        "account_access" => &[
            "locked out",
            "can t log",
            "cannot log",
            "can t sign",
            "can t get in",
            "get back in",
            "lost my phone",
            "lost access",
            "hacked",
            "suspended",
            "blocked",
            "gesperrt",
            "komme nicht",
            "nicht anmelden",
            "gehackt",
            "pirate",
            "bloque",
            "arrive plus",
            "no puedo entrar",
            "no puedo iniciar",
            "bloquead",
            "non riesco ad acced",
            "bloccat",
            "kan niet inloggen",
            "geblokkeerd",
            "zablokowan",
            "nie moge sie zalogowac",
            "nie mam dostepu",
            "nao consigo entrar",
            "nao consigo fazer login",
            "kan inte logga in",
            "ar last",
            "sparrat",
        ],
        "privacy_legal" => &[
            "gdpr",
            "dsgvo",
            "rgpd",
            "rodo",
            "lgpd",
            "lawyer",
            "attorney",
            "solicitor",
            "legal action",
            "subject access",
            "anwalt",
            "rechtliche schritte",
            "avocat",
            "abogado",
            "avvocat",
            "legale",
            "advocaat",
            "prawnik",
            "advogado",
            "advokat",
            "personal data",
            "personenbezogen",
            "donnees personnelles",
            "datos personales",
            "dati personali",
            "persoonsgegevens",
            "dane osobowe",
            "dados pessoais",
            "personuppgifter",
        ],
        "security" => &[
            "vulnerab",
            "security issue",
            "security hole",
            "breach",
            "leak",
            "exploit",
            "xss",
            "injection",
            "sicherheitsluck",
            "datenleck",
            "faille",
            "fuite",
            "falla de seguridad",
            "filtracion",
            "falla di sicurezza",
            "kwetsba",
            "datalek",
            "beveiligingslek",
            "luk",
            "podatnos",
            "wyciek",
            "falha de seguranca",
            "vazamento",
            "sakerhetsbrist",
            "sarbarhet",
        ],
        _ => &[],
    }
}

/// Whether `needle` (folded, may contain spaces) occurs at a token start in `hay` (folded,
/// punctuation replaced by spaces).
fn has(hay: &str, needle: &str) -> bool {
    let mut start = 0;
    while let Some(p) = hay[start..].find(needle) {
        let i = start + p;
        if hay[..i].chars().next_back().is_none_or(|c| c == ' ') {
            return true;
        }
        start = i + needle.len().max(1);
    }
    false
}

fn first_hit<'a>(hay: &str, list: &'a [&'a str]) -> Option<&'a str> {
    list.iter().copied().find(|w| has(hay, w))
}

/// Every lexicon cue in `text`.
pub fn cues(text: &str, topics: &BTreeMap<String, TopicConfig>) -> Vec<Cue> {
    let folded = fold(text);
    let toks = tokens(&folded);
    let hay = toks.join(" ");
    let mut out = Vec::new();

    // Human request.
    let content: Vec<&str> = toks.iter().copied().filter(|t| !FILLER.contains(t)).collect();
    if !content.is_empty()
        && content.len() <= 2
        && content.iter().any(|t| BARE.contains(t))
        && toks.len() <= 7
    {
        out.push(Cue {
            label: "human_request".into(),
            name: "short_request",
            detail: format!("\"{}\"", text.trim()),
            strong: true,
        });
    } else if let (Some(v), Some(p)) = (first_hit(&hay, VERB), first_hit(&hay, PERSON)) {
        out.push(Cue {
            label: "human_request".into(),
            name: "verb_person",
            detail: format!("\"{v}…\" + \"{p}…\""),
            strong: false,
        });
    } else if let Some(w) = first_hit(&hay, NOT_BOT) {
        out.push(Cue {
            label: "human_request".into(),
            name: "not_a_bot",
            detail: format!("\"{w}\""),
            strong: false,
        });
    }

    // Frustration: shouting and insults are strong, words are weak.
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    let shouting = letters.len() >= 12 && upper * 10 >= letters.len() * 8 && toks.len() >= 3;
    let bangs = text.contains("!!!") || text.contains("?!?") || text.contains("!?!");
    if let Some(w) = first_hit(&hay, INSULTS).filter(|w| toks.iter().any(|t| t.starts_with(w))) {
        out.push(Cue {
            label: "frustration".into(),
            name: "insult",
            detail: format!("\"{w}\""),
            strong: true,
        });
    } else if shouting {
        out.push(Cue {
            label: "frustration".into(),
            name: "shouting",
            detail: "writing in capitals".into(),
            strong: true,
        });
    } else if let Some(w) = first_hit(&hay, FRUSTRATION) {
        out.push(Cue {
            label: "frustration".into(),
            name: if bangs { "angry_words" } else { "frustration_words" },
            detail: format!("\"{w}\""),
            strong: bangs,
        });
    } else if bangs {
        out.push(Cue {
            label: "frustration".into(),
            name: "exclamations",
            detail: "\"!!!\"".into(),
            strong: false,
        });
    }

    // Topic keywords: built-in lists plus admin keywords.
    for (name, t) in topics {
        if !t.enabled {
            continue;
        }
        let admin: Vec<String> =
            t.keywords.iter().map(|k| tokens(&fold(k)).join(" ")).filter(|k| !k.is_empty()).collect();
        let hit = first_hit(&hay, topic_keywords(name))
            .map(str::to_owned)
            .or_else(|| admin.into_iter().find(|k| has(&hay, k)));
        if let Some(w) = hit {
            out.push(Cue {
                label: format!("topic:{name}"),
                name: "topic_keyword",
                detail: format!("\"{w}\""),
                strong: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handoff::rules::default_topics;

    fn names(t: &str) -> Vec<(String, &'static str, bool)> {
        cues(t, &default_topics()).into_iter().map(|c| (c.label, c.name, c.strong)).collect()
    }

    #[test]
    fn folding_strips_accents_and_odd_letters() {
        assert_eq!(fold("Człowiek MÄNNISKA Straße"), "czlowiek manniska strasse");
        assert_eq!(tokens("n'importe quoi"), vec!["n", "importe", "quoi"]);
    }

    #[test]
    fn bare_requests_are_strong_in_many_languages() {
        for t in [
            "human",
            "Agent please!",
            "Mensch bitte",
            "un humain svp",
            "humano por favor",
            "operatore per favore",
            "Människa tack",
        ] {
            assert!(
                names(t).contains(&("human_request".into(), "short_request", true)),
                "{t}: {:?}",
                names(t)
            );
        }
        // A bare noun inside a real question is not a request.
        assert!(names("How do I add a human agent to the inbox?").iter().all(|c| c.1 != "short_request"));
    }

    #[test]
    fn verb_and_person_is_a_weak_cue() {
        let c = names("Kan ik iemand van het team aan de lijn krijgen?");
        assert!(c.contains(&("human_request".into(), "verb_person", false)), "{c:?}");
        assert!(names("How do I export my contacts?").is_empty());
    }

    #[test]
    fn anger_cues() {
        assert!(names("THIS IS THE WORST SERVICE EVER").contains(&("frustration".into(), "shouting", true)));
        assert!(names("you stupid bot").contains(&("frustration".into(), "insult", true)));
        assert!(names("useless!!!").contains(&("frustration".into(), "angry_words", true)));
        assert!(!names("Great, thanks!").iter().any(|c| c.0 == "frustration"));
        assert!(!names("OK").iter().any(|c| c.0 == "frustration"), "short capitals are not shouting");
    }

    #[test]
    fn admin_topic_keywords_count() {
        let mut topics = default_topics();
        topics.insert(
            "shipping".into(),
            TopicConfig { keywords: vec!["Lieferung".into()], ..Default::default() },
        );
        let c = cues("Wo ist meine Lieferung?", &topics);
        assert!(c.iter().any(|c| c.label == "topic:shipping"), "{c:?}");
    }
}
