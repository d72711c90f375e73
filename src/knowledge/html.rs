//! HTML pages as sections of blocks.
//!
//! The page is parsed by html5ever (through `scraper`, whose tree is an arena: no recursion on
//! drop) and walked **iteratively** with `traverse()`, so nesting depth costs no stack: a page of
//! 100,000 nested `<div>`s parses like a flat one. Past [`MAX_DEPTH`] open elements, structure is
//! ignored and only text is kept. Page chrome (nav, header, footer, forms, scripts, hidden
//! elements) is dropped; `p`, `li`, `table`, `pre`, headings and callouts (`blockquote`, `aside`
//! or a `div` whose class says note/tip/warning/admonition/callout/alert) become blocks.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

use super::block::{squash, Sink};
use super::parse::Parsed;

/// Elements deeper than this are treated as plain text containers.
pub const MAX_DEPTH: usize = 256;

const SKIP: &[&str] = &[
    "nav", "header", "footer", "script", "style", "form", "noscript", "svg", "template", "iframe", "button",
    "select", "head", "title", "img", "picture", "video", "audio", "canvas", "dialog",
];
/// Elements that end a paragraph.
const BREAKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "dt",
    "dd",
    "dl",
    "figure",
    "figcaption",
    "details",
    "summary",
    "hr",
    "br",
    "center",
    "address",
];
const CALLOUT_CLASSES: &[&str] = &[
    "admonition",
    "callout",
    "alert",
    "note",
    "tip",
    "warning",
    "caution",
    "important",
    "notice",
    "hint",
    "info",
];

fn callout_label(el: &scraper::node::Element) -> Option<String> {
    let name = el.name();
    if name == "blockquote" {
        return Some(String::new());
    }
    if name != "aside" && name != "div" {
        return None;
    }
    let classes: Vec<String> = el.classes().map(str::to_ascii_lowercase).collect();
    // The specific kind ("warning") wins over the generic class ("admonition").
    let matches = |k: &&&str| {
        let k: &str = k;
        classes.iter().any(|c| c == k || c.starts_with(&format!("{k}-")) || c.ends_with(&format!("-{k}")))
    };
    let generic = ["admonition", "callout", "alert", "notice"];
    let hit = CALLOUT_CLASSES
        .iter()
        .filter(|k| !generic.contains(k))
        .find(matches)
        .or_else(|| CALLOUT_CLASSES.iter().find(matches));
    match (name, hit) {
        (_, Some(k)) => Some(match *k {
            "admonition" | "callout" | "alert" | "notice" => String::new(),
            k => {
                let mut c = k.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
            }
        }),
        // A bare <aside> is page chrome (a sidebar).
        ("aside", None) => None,
        _ => None,
    }
}

/// What an open element turned into, so its close does the matching step.
#[derive(Clone, Copy, PartialEq)]
enum Opened {
    Nothing,
    Skipped,
    Heading,
    Pre,
    Break,
    List,
    Item,
    Table,
    Row,
    Cell,
    Strong,
    Code,
    Note,
}

/// HTML: page chrome dropped, sections at `h1`..`h6`.
pub fn parse_html(text: &str) -> Parsed {
    let doc = Html::parse_document(text);
    let sel = |s: &str| Selector::parse(s).expect("selector");
    let mut title =
        doc.select(&sel("title")).next().map(|t| squash(&t.text().collect::<String>())).unwrap_or_default();
    if let Some(h1) = doc.select(&sel("h1")).next() {
        let h1 = squash(&h1.text().collect::<String>());
        // Prefer the page's own h1 over a `<title>` padded with the site name.
        if title.is_empty() || (!h1.is_empty() && title.contains(&h1)) {
            title = h1;
        }
    }
    let description = doc
        .select(&sel(r#"meta[name="description"]"#))
        .next()
        .and_then(|m| m.value().attr("content"))
        .unwrap_or_default()
        .to_owned();
    let root = ["main", "article", "[role=main]", "body"]
        .iter()
        .find_map(|s| doc.select(&sel(s)).next())
        .unwrap_or_else(|| doc.root_element());
    Parsed { title, description: squash(&description), sections: walk(root) }
}

fn walk(root: ElementRef) -> Vec<super::block::Section> {
    let mut sink = Sink::default();
    // One entry per open element below the root.
    let mut open: Vec<Opened> = Vec::new();
    let mut skipping = 0usize;
    let mut pre: Option<String> = None;
    let mut heading_text: Option<String> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if node.id() == root.id() {
                    continue;
                }
                match node.value() {
                    Node::Element(e) => {
                        let o = if skipping > 0 {
                            Opened::Skipped
                        } else if open.len() >= MAX_DEPTH {
                            // Too deep to be real structure: keep the words, drop the shape
                            // (and do no per-element work: a hostile page has millions).
                            Opened::Nothing
                        } else {
                            open_element(e, open.len(), &mut sink, &mut pre, &mut heading_text)
                        };
                        if o == Opened::Skipped {
                            skipping += 1;
                        }
                        open.push(o);
                    }
                    Node::Text(t) if skipping == 0 => {
                        if let Some(p) = &mut pre {
                            p.push_str(t);
                        } else if let Some(h) = &mut heading_text {
                            h.push_str(t);
                        } else {
                            sink.text(t);
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if node.id() == root.id() || !matches!(node.value(), Node::Element(_)) {
                    continue;
                }
                let Some(o) = open.pop() else { continue };
                match o {
                    Opened::Skipped => skipping = skipping.saturating_sub(1),
                    Opened::Heading => {
                        if let Some(t) = heading_text.take() {
                            sink.text(&t);
                        }
                        sink.heading_end();
                    }
                    Opened::Pre => {
                        if let Some(p) = pre.take() {
                            sink.code(&p);
                        }
                    }
                    Opened::Break => sink.end_paragraph(),
                    Opened::List => sink.list_end(),
                    Opened::Item => sink.item_end(),
                    Opened::Table => sink.table_end(),
                    Opened::Row => sink.row_end(),
                    Opened::Cell => sink.cell_end(),
                    Opened::Strong | Opened::Code => {
                        sink.mark(if o == Opened::Strong { "**" } else { "`" });
                    }
                    Opened::Note => sink.note_end(),
                    Opened::Nothing => {}
                }
            }
        }
    }
    sink.finish()
}

fn open_element(
    e: &scraper::node::Element,
    depth: usize,
    sink: &mut Sink,
    pre: &mut Option<String>,
    heading: &mut Option<String>,
) -> Opened {
    let name = e.name();
    if SKIP.contains(&name) || e.attr("hidden").is_some() || e.attr("aria-hidden") == Some("true") {
        return Opened::Skipped;
    }
    if name == "aside" && callout_label(e).is_none() {
        return Opened::Skipped;
    }
    if pre.is_some() || heading.is_some() {
        return Opened::Nothing;
    }
    if depth >= MAX_DEPTH {
        // Too deep to be real structure: keep the words, drop the shape.
        sink.space();
        return Opened::Nothing;
    }
    if let Some(level) =
        name.strip_prefix('h').and_then(|l| l.parse::<usize>().ok()).filter(|l| (1..=6).contains(l))
    {
        sink.heading_start(level, e.id().map(str::to_owned));
        *heading = Some(String::new());
        return Opened::Heading;
    }
    match name {
        "pre" => {
            sink.end_paragraph();
            *pre = Some(String::new());
            Opened::Pre
        }
        "ul" | "ol" | "menu" => {
            let start = e.attr("start").and_then(|s| s.trim().parse::<u32>().ok()).unwrap_or(1);
            sink.list_start(name == "ol", start);
            Opened::List
        }
        "li" => {
            sink.item_start();
            Opened::Item
        }
        "table" => {
            sink.table_start();
            Opened::Table
        }
        "tr" => {
            // A row is a header row when it sits in <thead>; <th> cells are checked at its end.
            sink.row_start(false);
            Opened::Row
        }
        "td" | "th" => {
            if name == "th" {
                sink.mark_header_row();
            }
            Opened::Cell
        }
        "strong" | "b" => {
            sink.mark("**");
            Opened::Strong
        }
        "code" | "kbd" => {
            sink.mark("`");
            Opened::Code
        }
        "br" => {
            sink.space();
            Opened::Nothing
        }
        _ => {
            if let Some(label) = callout_label(e) {
                sink.note_start(&label);
                return Opened::Note;
            }
            if BREAKS.contains(&name) {
                sink.end_paragraph();
                Opened::Break
            } else {
                Opened::Nothing
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::block::Block;

    #[test]
    fn html_drops_chrome_and_keeps_blocks() {
        let html = r#"<html><head><title>Install – Acme Docs</title><style>p{}</style></head><body>
<nav><a href="/">Home</a> menu</nav><header>Site header</header>
<main><h1>Install</h1><p>Download the <b>binary</b>.</p>
<h2 id="docker-setup">With Docker</h2><p>Do this:</p><ol><li>Pull the <code>acme</code> image.</li><li>Run it.</li></ol>
<script>alert(1)</script>
<table><thead><tr><th>Plan</th><th>Price</th></tr></thead><tbody><tr><td>Growth</td><td>9 €</td></tr></tbody></table>
<div class="admonition warning"><p>Back up first.</p></div>
<form><input name=q>Search</form><pre>docker run acme</pre></main>
<aside>Sidebar links</aside>
<footer>© Acme</footer></body></html>"#;
        let p = parse_html(html);
        assert_eq!(p.title, "Install");
        let all = format!("{:?}", p.sections);
        for bad in ["menu", "Site header", "alert", "Search", "Acme", "Sidebar"] {
            assert!(!all.contains(bad), "{bad} leaked: {all}");
        }
        assert_eq!(p.sections[0].blocks, vec![Block::paragraph("Download the **binary**.")]);
        assert_eq!(p.sections[1].headings, vec!["Install", "With Docker"]);
        assert_eq!(p.sections[1].anchor, "docker-setup");
        assert_eq!(
            p.sections[1].blocks,
            vec![
                Block::paragraph("Do this:"),
                Block::List {
                    ordered: true,
                    start: 1,
                    items: vec!["Pull the `acme` image.".into(), "Run it.".into()]
                },
                Block::Table {
                    header: vec!["Plan".into(), "Price".into()],
                    rows: vec![vec!["Growth".into(), "9 €".into()]]
                },
                Block::Note { label: "Warning".into(), text: "Back up first.".into() },
                Block::Code { text: "docker run acme".into() },
            ]
        );
    }

    #[test]
    fn deep_nesting_costs_no_stack() {
        let depth = 30_000;
        let html = format!(
            "<html><body>{}<p>deep text</p>{}</body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        // A small stack, as on a tokio worker: the walk is iterative.
        let p = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || parse_html(&html))
            .expect("thread")
            .join()
            .expect("no stack overflow");
        let all = format!("{:?}", p.sections);
        assert!(all.contains("deep text"), "{all}");
    }
}
