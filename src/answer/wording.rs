//! What a block's wording says about it, whatever the page: a sentence about the page itself
//! ("This article explains…"), an aside ("Heads up: …"), a pointer elsewhere ("Learn more …
//! here"). Such blocks are held back when something better answers the question.

use std::sync::LazyLock;

use regex::Regex;

static META: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^(?:
            (?:this|the\ following|our)\ (?:article|page|guide|section|document|tutorial|doc|faq)\b
          | in\ this\ (?:article|guide|page|section|tutorial|document)\b
          | (?:learn|find\ out|discover|read\ on\ to\ (?:learn|find\ out))\ (?:how|about|what|more)\b
          | here\ (?:you(?:'ll|\ will)|we)\b
          | (?:dieser|diese|dieses)\ (?:artikel|seite|anleitung|abschnitt|leitfaden)\b
          | in\ (?:diesem|dieser)\ (?:artikel|anleitung|abschnitt|seite)\b
          | (?:cet|cette|ce)\ (?:article|page|guide|tutoriel|section)\b
          | dans\ (?:cet|ce|cette)\ (?:article|guide|page|section|tutoriel)\b
          | (?:este|esta)\ (?:artículo|articulo|página|pagina|guía|guia|sección)\b
          | en\ (?:este|esta)\ (?:artículo|articulo|guía|guia|página|pagina|sección)\b
          | (?:questo|questa)\ (?:articolo|pagina|guida|sezione)\b
          | in\ questo\ (?:articolo|guida)\b
          | (?:dit|deze)\ (?:artikel|pagina|handleiding|gids)\b
          | in\ (?:dit|deze)\ (?:artikel|handleiding|gids)\b
        )",
    )
    .expect("regex")
});

/// A paragraph written as an aside ("Heads up: …", "Note: …"): a caveat, rarely the answer.
pub(super) fn is_aside(text: &str) -> bool {
    static ASIDE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^\W*(?:heads\s+up|note|please\s+note|tip|pro\s+tip|important|warning|caution|hinweis|achtung|wichtig|tipp|remarque|attention|astuce|nota|atención|consejo|attenzione|suggerimento|let\s+op|opmerking|obs|tips)\b\W*[:!,-]",
        )
        .expect("regex")
    });
    ASIDE.is_match(text)
}

/// A block that points elsewhere for the details ("Learn more about annotations here.").
pub(super) fn is_pointer(text: &str) -> bool {
    static POINTER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\b(?:learn\s+more|read\s+more|see\s+more|find\s+out\s+more|more\s+on\s+\w+|mehr\s+(?:dazu|erfahren|info)|en\s+savoir\s+plus|más\s+información|saiba\s+mais|scopri\s+di\s+più|lees\s+meer|läs\s+mer)\b",
        )
        .expect("regex")
    });
    POINTER.is_match(text)
}

/// A sentence about the page rather than about the product ("This article explains…").
pub fn is_meta(text: &str) -> bool {
    META.is_match(text.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_sentences_are_recognised() {
        assert!(is_meta("This article explains how you can add a site."));
        assert!(is_meta("In this guide you will learn about exports."));
        assert!(is_meta("Dieser Artikel erklärt, wie Sie Ihre Daten exportieren."));
        assert!(is_meta("Dans cet article, nous expliquons les exports."));
        assert!(!is_meta("You can export all conversations as a CSV file."));
        assert!(!is_meta("This setting applies to all sites."));
    }

    #[test]
    fn asides_are_recognised() {
        assert!(is_aside("Heads up: tracking only works on your pages."));
        assert!(is_aside("Note: this counts towards your quota."));
        assert!(is_aside("Hinweis: Das gilt nur für Admins."));
        assert!(!is_aside("Notes can be added to the graph."));
        assert!(!is_aside("Important settings live in the General section."));
    }
}
