//! The sentences Baton writes around a quoted answer, in the visitor's language: "I'm not
//! sure…", "These pages might be related:" and the line saying the passage comes from the docs
//! in another language. One match per text, so a new language is one arm in each.

use crate::knowledge::analyze::Lang;

/// "This answer is quoted from our documentation in English", in the visitor's language.
pub fn quoted_from(visitor: Lang, docs: Lang) -> String {
    let name = lang_name(visitor, docs);
    match visitor {
        Lang::De => format!("Diese Antwort stammt aus unserer Dokumentation auf {name}:"),
        Lang::Fr => format!("Cette réponse est tirée de notre documentation en {name} :"),
        Lang::Es => format!("Esta respuesta procede de nuestra documentación en {name}:"),
        Lang::It => format!("Questa risposta è tratta dalla nostra documentazione in {name}:"),
        Lang::Nl => format!("Dit antwoord komt uit onze documentatie in het {name}:"),
        Lang::Pt => format!("Esta resposta vem da nossa documentação em {name}:"),
        Lang::Sv => format!("Svaret kommer från vår dokumentation på {name}:"),
        Lang::Pl => format!("Ta odpowiedź pochodzi z naszej dokumentacji w języku {name}:"),
        Lang::Da => format!("Svaret kommer fra vores dokumentation på {name}:"),
        Lang::En => format!("This answer is quoted from our documentation in {name}:"),
    }
}

/// The name of language `l`, in language `visitor`.
pub fn lang_name(visitor: Lang, l: Lang) -> &'static str {
    use Lang::*;
    let names: [&str; 10] = match visitor {
        En => [
            "English",
            "German",
            "French",
            "Spanish",
            "Italian",
            "Dutch",
            "Portuguese",
            "Swedish",
            "Polish",
            "Danish",
        ],
        De => [
            "Englisch",
            "Deutsch",
            "Französisch",
            "Spanisch",
            "Italienisch",
            "Niederländisch",
            "Portugiesisch",
            "Schwedisch",
            "Polnisch",
            "Dänisch",
        ],
        Fr => [
            "anglais",
            "allemand",
            "français",
            "espagnol",
            "italien",
            "néerlandais",
            "portugais",
            "suédois",
            "polonais",
            "danois",
        ],
        Es => [
            "inglés",
            "alemán",
            "francés",
            "español",
            "italiano",
            "neerlandés",
            "portugués",
            "sueco",
            "polaco",
            "danés",
        ],
        It => [
            "inglese",
            "tedesco",
            "francese",
            "spagnolo",
            "italiano",
            "olandese",
            "portoghese",
            "svedese",
            "polacco",
            "danese",
        ],
        Nl => [
            "Engels",
            "Duits",
            "Frans",
            "Spaans",
            "Italiaans",
            "Nederlands",
            "Portugees",
            "Zweeds",
            "Pools",
            "Deens",
        ],
        Pt => [
            "inglês",
            "alemão",
            "francês",
            "espanhol",
            "italiano",
            "neerlandês",
            "português",
            "sueco",
            "polaco",
            "dinamarquês",
        ],
        Sv => [
            "engelska",
            "tyska",
            "franska",
            "spanska",
            "italienska",
            "nederländska",
            "portugisiska",
            "svenska",
            "polska",
            "danska",
        ],
        Pl => [
            "angielskim",
            "niemieckim",
            "francuskim",
            "hiszpańskim",
            "włoskim",
            "niderlandzkim",
            "portugalskim",
            "szwedzkim",
            "polskim",
            "duńskim",
        ],
        Da => [
            "engelsk",
            "tysk",
            "fransk",
            "spansk",
            "italiensk",
            "nederlandsk",
            "portugisisk",
            "svensk",
            "polsk",
            "dansk",
        ],
    };
    let i = match l {
        En => 0,
        De => 1,
        Fr => 2,
        Es => 3,
        It => 4,
        Nl => 5,
        Pt => 6,
        Sv => 7,
        Pl => 8,
        Da => 9,
    };
    names[i]
}

pub fn not_sure(lang: Lang) -> &'static str {
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

pub fn maybe_related(lang: Lang) -> &'static str {
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
