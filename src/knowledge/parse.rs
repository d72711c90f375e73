//! Turning raw files into clean, sectioned text: Markdown/MDX, HTML, plain text and PDF.
//!
//! Every parser returns a [`Parsed`]: a title, an optional description and the sections of the
//! document, each with its heading path (`["Install", "Docker"]`) and a GitHub-style anchor.
//! Everything a reader would not see is dropped: front matter (its `title`/`description` are
//! kept), MDX `import`/`export` lines, JSX tags (their inner text is kept), `<script>` blocks
//! (JSON-LD included), styles, and in HTML the page chrome (nav, header, footer, aside, forms).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};

/// A document as text, split at its headings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub title: String,
    pub description: String,
    pub sections: Vec<Section>,
}

/// The text under one heading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// Heading path from the top (`["Install", "Docker"]`); empty for text before any heading.
    pub headings: Vec<String>,
    /// Anchor of the innermost heading (`docker`), empty before any heading.
    pub anchor: String,
    /// Paragraphs, list items, table rows and code blocks, as plain text.
    pub paragraphs: Vec<String>,
}

impl Parsed {
    /// All headings, in order.
    pub fn headings(&self) -> Vec<String> {
        self.sections.iter().filter_map(|s| s.headings.last().cloned()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.sections.iter().all(|s| s.paragraphs.is_empty())
    }
}

/// The formats Baton can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Text,
    Pdf,
}

impl Format {
    /// Format from a file name, `None` for files Baton does not read.
    pub fn from_path(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match ext.as_str() {
            "md" | "mdx" | "markdown" => Some(Format::Markdown),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "txt" | "text" => Some(Format::Text),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }

    /// Format from an HTTP `Content-Type`.
    pub fn from_content_type(ct: &str) -> Option<Format> {
        let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match ct.as_str() {
            "text/html" | "application/xhtml+xml" => Some(Format::Html),
            "text/markdown" | "text/x-markdown" => Some(Format::Markdown),
            "text/plain" => Some(Format::Text),
            "application/pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
}

/// Parses `bytes` as `format`. `fallback_title` is used when the document names none.
pub fn parse(format: Format, bytes: &[u8], fallback_title: &str) -> Result<Parsed, String> {
    let mut parsed = match format {
        Format::Pdf => parse_pdf(bytes)?,
        _ => {
            let text =
                std::str::from_utf8(bytes).map_err(|_| "the file is not valid UTF-8 text".to_owned())?;
            match format {
                Format::Markdown => parse_markdown(text),
                Format::Html => parse_html(text),
                _ => parse_text(text),
            }
        }
    };
    if parsed.title.trim().is_empty() {
        parsed.title = fallback_title.to_owned();
    }
    parsed.title = clean_inline(&parsed.title);
    parsed.sections.retain(|s| !s.paragraphs.is_empty());
    Ok(parsed)
}

/// A GitHub-style heading slug: lower case, punctuation dropped, spaces to hyphens.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c)
            } else if c == ' ' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// Hands out unique anchors like GitHub does (`faq`, `faq-1`, `faq-2`).
#[derive(Default)]
struct Anchors(HashMap<String, usize>);

impl Anchors {
    fn unique(&mut self, base: String) -> String {
        let n = self.0.entry(base.clone()).or_insert(0);
        let out = if *n == 0 { base.clone() } else { format!("{base}-{n}") };
        *n += 1;
        out
    }
}

/// Builds sections while walking a document.
#[derive(Default)]
struct Builder {
    sections: Vec<Section>,
    stack: Vec<(usize, String)>,
    anchors: Anchors,
    para: String,
}

impl Builder {
    fn heading(&mut self, level: usize, text: &str, anchor: Option<String>) {
        self.flush();
        let text = clean_inline(text);
        if text.is_empty() {
            return;
        }
        while self.stack.last().is_some_and(|(l, _)| *l >= level) {
            self.stack.pop();
        }
        self.stack.push((level, text.clone()));
        let anchor = anchor.unwrap_or_else(|| self.anchors.unique(slug(&text)));
        self.sections.push(Section {
            headings: self.stack.iter().map(|(_, h)| h.clone()).collect(),
            anchor,
            paragraphs: Vec::new(),
        });
    }

    fn text(&mut self, t: &str) {
        if !self.para.is_empty() && !self.para.ends_with([' ', '\n']) {
            self.para.push(' ');
        }
        self.para.push_str(t.trim_start());
    }

    fn flush(&mut self) {
        let p = std::mem::take(&mut self.para);
        let p = p.split_whitespace().collect::<Vec<_>>().join(" ");
        if p.is_empty() {
            return;
        }
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        self.sections.last_mut().expect("a section").paragraphs.push(p);
    }

    /// Adds a preformatted block as one paragraph, keeping line breaks.
    fn code(&mut self, code: &str) {
        self.flush();
        let code = code.trim_matches('\n');
        if code.trim().is_empty() {
            return;
        }
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        self.sections.last_mut().expect("a section").paragraphs.push(code.to_owned());
    }

    fn finish(mut self) -> Vec<Section> {
        self.flush();
        self.sections
    }
}

static SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<(script|style)\b[^>]*>.*?</(script|style)\s*>").expect("regex"));
static COMMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<!--.*?-->|\{/\*.*?\*/\}").expect("regex"));
static HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(#{1,6})\s+(.*?)\s*(?:\{#([\w-]+)\})?\s*#*\s*$").expect("regex"));
static IMAGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"!\[[^\]]*\]\([^)]*\)").expect("regex"));
static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("regex"));
static REF_LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]]+)\]\[[^\]]*\]").expect("regex"));
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"</?[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>").expect("regex"));
static EMPHASIS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\*\*|__|\*|~~|`").expect("regex"));
static JSX_EXPR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{[^{}]*\}").expect("regex"));

/// Removes Markdown/HTML inline markup, keeping the visible text.
pub fn clean_inline(s: &str) -> String {
    let s = IMAGE.replace_all(s, "");
    let s = LINK.replace_all(&s, "$1");
    let s = REF_LINK.replace_all(&s, "$1");
    let s = TAG.replace_all(&s, " ");
    let s = EMPHASIS.replace_all(&s, "");
    let s = decode_entities(&s);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Splits off YAML (`---`) or TOML (`+++`) front matter; returns (title, description, body).
fn front_matter(text: &str) -> (String, String, &str) {
    let t = text.trim_start_matches('\u{feff}');
    for fence in ["---", "+++"] {
        let Some(rest) = t.strip_prefix(fence) else { continue };
        let Some(rest) = rest.strip_prefix('\n').or_else(|| rest.strip_prefix("\r\n")) else { continue };
        let close = format!("\n{fence}");
        let Some(end) = rest.find(&close) else { continue };
        let (fm, body) = (&rest[..end], &rest[end + close.len()..]);
        let mut title = String::new();
        let mut description = String::new();
        for line in fm.lines() {
            let Some((k, v)) = line.split_once(if fence == "---" { ':' } else { '=' }) else { continue };
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'').to_owned();
            match k.trim() {
                "title" => title = v,
                "description" => description = v,
                _ => {}
            }
        }
        return (title, description, body);
    }
    (String::new(), String::new(), t)
}

/// Markdown and MDX.
pub fn parse_markdown(text: &str) -> Parsed {
    let (mut title, description, body) = front_matter(text);
    let body = SCRIPT.replace_all(body, "");
    let body = COMMENT.replace_all(&body, "");
    let mut b = Builder::default();
    let mut fence: Option<(String, String)> = None; // (marker, code so far)
    let mut in_tag = false;
    let mut first_h1_taken = false;
    for raw in body.lines() {
        if let Some((marker, code)) = &mut fence {
            if raw.trim_start().starts_with(marker.as_str()) {
                let code = std::mem::take(code);
                fence = None;
                b.code(&code);
            } else {
                code.push_str(raw);
                code.push('\n');
            }
            continue;
        }
        let line = raw.trim();
        if in_tag {
            // Inside a multi-line JSX/HTML opening tag: skip to its end.
            if let Some(pos) = line.find('>') {
                in_tag = false;
                let rest = &line[pos + 1..];
                if !rest.trim().is_empty() {
                    b.text(&clean_inline(rest));
                }
            }
            continue;
        }
        if line.starts_with("```") || line.starts_with("~~~") {
            b.flush();
            fence = Some((line[..3].to_owned(), String::new()));
            continue;
        }
        if line.is_empty() {
            b.flush();
            continue;
        }
        if (line.starts_with("import ") || line.starts_with("export ")) && !line.contains("](") {
            continue;
        }
        if let Some(c) = HEADING.captures(line) {
            let level = c[1].len();
            let htext = c[2].to_owned();
            if level == 1 && !first_h1_taken && title.is_empty() {
                title = clean_inline(&htext);
            }
            first_h1_taken |= level == 1;
            b.heading(level, &htext, c.get(3).map(|m| m.as_str().to_owned()));
            continue;
        }
        if let Some(rest) = line.strip_prefix(":::") {
            // Admonition: `:::tip Title` keeps the title, a bare `:::` closes it.
            b.flush();
            let label = rest
                .trim_start_matches(|c: char| c.is_alphanumeric())
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']');
            if !label.is_empty() {
                b.text(&clean_inline(label));
                b.flush();
            }
            continue;
        }
        if line.starts_with('<')
            && !line[1..].contains('>')
            && line[1..].starts_with(|c: char| c.is_alphabetic())
        {
            in_tag = true;
            continue;
        }
        if line.starts_with('|') {
            b.flush();
            let cells: Vec<String> =
                line.trim_matches('|').split('|').map(clean_inline).filter(|c| !c.is_empty()).collect();
            if cells.iter().all(|c| c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))) {
                continue;
            }
            b.text(&cells.join("; "));
            b.flush();
            continue;
        }
        let mut content = line.trim_start_matches('>').trim_start();
        let is_item = content.starts_with("* ")
            || content.starts_with("- ")
            || content.starts_with("+ ")
            || content
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if is_item {
            b.flush();
            content = content.split_once(' ').map(|(_, r)| r).unwrap_or("");
        }
        let cleaned = clean_inline(&JSX_EXPR.replace_all(content, " "));
        if !cleaned.is_empty() {
            b.text(&cleaned);
        }
    }
    if let Some((_, code)) = fence {
        b.code(&code);
    }
    Parsed { title, description: clean_inline(&description), sections: b.finish() }
}

/// Plain text: paragraphs at blank lines; the first short line is the title.
pub fn parse_text(text: &str) -> Parsed {
    let mut b = Builder::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            b.flush();
        } else {
            b.text(line.trim());
        }
    }
    let sections = b.finish();
    let title = text.lines().map(str::trim).find(|l| !l.is_empty()).filter(|l| l.chars().count() <= 90);
    Parsed { title: title.unwrap_or_default().to_owned(), description: String::new(), sections }
}

fn parse_pdf(bytes: &[u8]) -> Result<Parsed, String> {
    // pdf-extract recurses without a depth limit and panics on some files: it runs in a child
    // process, so a hostile PDF is a per-document error (see `super::pdf`).
    let text = super::pdf::extract_text(bytes)?;
    let parsed = parse_text(&text);
    if parsed.is_empty() {
        return Err("the PDF contains no extractable text (scanned image?)".to_owned());
    }
    Ok(parsed)
}

const SKIP: &[&str] = &[
    "nav", "header", "footer", "aside", "script", "style", "form", "noscript", "svg", "template", "iframe",
    "button",
];
const BLOCK: &[&str] = &[
    "p",
    "div",
    "li",
    "tr",
    "td",
    "th",
    "dt",
    "dd",
    "section",
    "article",
    "main",
    "blockquote",
    "br",
    "figcaption",
    "table",
    "ul",
    "ol",
    "dl",
];

/// HTML: page chrome dropped, sections at `h1`..`h6`.
pub fn parse_html(text: &str) -> Parsed {
    let doc = Html::parse_document(text);
    let sel = |s: &str| Selector::parse(s).expect("selector");
    let mut title = doc
        .select(&sel("title"))
        .next()
        .map(|t| t.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let h1 = doc.select(&sel("h1")).next().map(|h| h.text().collect::<String>());
    if let Some(h1) = &h1 {
        let h1 = h1.split_whitespace().collect::<Vec<_>>().join(" ");
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
    let mut b = Builder::default();
    walk(root, &mut b, 0);
    Parsed { title, description, sections: b.finish() }
}

/// Deepest element nesting [`walk`] descends into; the text of anything deeper is kept flat.
/// (Hostile pages nest 20,000 `<div>`; real ones stay well under 100.)
const MAX_DEPTH: usize = 128;

fn walk(el: ElementRef, b: &mut Builder, depth: usize) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => b.para.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if SKIP.contains(&name) || e.attr("hidden").is_some() || e.attr("aria-hidden") == Some("true")
                {
                    continue;
                }
                let Some(child_el) = ElementRef::wrap(child) else { continue };
                if let Some(level) =
                    name.strip_prefix('h').and_then(|l| l.parse::<usize>().ok()).filter(|l| *l <= 6)
                {
                    let text: String = child_el.text().collect();
                    b.heading(level, &text, e.id().map(str::to_owned));
                } else if name == "pre" {
                    b.code(&child_el.text().collect::<String>());
                } else if depth >= MAX_DEPTH {
                    // `text()` walks the subtree iteratively.
                    b.flush();
                    b.text(&child_el.text().collect::<String>());
                    b.flush();
                } else if BLOCK.contains(&name) {
                    b.flush();
                    walk(child_el, b, depth + 1);
                    b.flush();
                } else {
                    walk(child_el, b, depth + 1);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_strips_front_matter_mdx_and_scripts() {
        let md = r#"---
title: "Billing FAQ"
description: Paying for Plausible.
sidebar_position: 2
---

import CtaBox from '@site/src/components/CtaBox';

<head>
  <script type="application/ld+json">{`
    {"@type": "FAQPage", "name": "SECRET-JSON-LD"}
  `}</script>
</head>

Intro with a [link](https://x.example) and **bold** text.

## Payment methods {#pay}

* Cards and <Highlight color="red">PayPal</Highlight> work.
* ![diagram](img/x.png) Wire transfer does not.

<div
  class="browser">
<img alt="x" src={useBaseUrl('img/a.png')} />
</div>

:::tip Using WordPress?
Install the plugin.
:::

:::note[Not what you need?]
:::

### Invoices & receipts

```bash
curl https://example.com
```

| Plan | Price |
|------|-------|
| Growth | 9 € |
"#;
        let p = parse_markdown(md);
        assert_eq!(p.title, "Billing FAQ");
        assert_eq!(p.description, "Paying for Plausible.");
        let all = format!("{:?}", p.sections);
        assert!(!all.contains("SECRET") && !all.contains("import") && !all.contains("<"), "{all}");
        assert_eq!(p.sections[0].paragraphs, vec!["Intro with a link and bold text."]);
        assert_eq!(p.sections[1].headings, vec!["Payment methods"]);
        assert_eq!(p.sections[1].anchor, "pay");
        assert!(p.sections[1].paragraphs.contains(&"Cards and PayPal work.".to_owned()), "{all}");
        assert!(p.sections[1].paragraphs.contains(&"Wire transfer does not.".to_owned()), "{all}");
        assert!(p.sections[1].paragraphs.contains(&"Using WordPress?".to_owned()), "{all}");
        assert!(p.sections[1].paragraphs.contains(&"Not what you need?".to_owned()), "{all}");
        assert_eq!(p.sections[2].headings, vec!["Payment methods", "Invoices & receipts"]);
        assert_eq!(p.sections[2].anchor, "invoices--receipts");
        assert!(p.sections[2].paragraphs.contains(&"curl https://example.com".to_owned()));
        assert!(p.sections[2].paragraphs.contains(&"Growth; 9 €".to_owned()), "{all}");
    }

    #[test]
    fn html_drops_chrome_and_keeps_headings() {
        let html = r#"<html><head><title>Install – Acme Docs</title><style>p{}</style></head><body>
<nav><a href="/">Home</a> menu</nav><header>Site header</header>
<main><h1>Install</h1><p>Download the <b>binary</b>.</p>
<h2 id="docker-setup">With Docker</h2><p>Run the image.</p><script>alert(1)</script>
<form><input name=q>Search</form><pre>docker run acme</pre></main>
<footer>© Acme</footer></body></html>"#;
        let p = parse_html(html);
        assert_eq!(p.title, "Install");
        let all = format!("{:?}", p.sections);
        for bad in ["menu", "Site header", "alert", "Search", "Acme"] {
            assert!(!all.contains(bad), "{bad} leaked: {all}");
        }
        assert_eq!(p.sections[0].paragraphs, vec!["Download the binary."]);
        assert_eq!(p.sections[1].headings, vec!["Install", "With Docker"]);
        assert_eq!(p.sections[1].anchor, "docker-setup");
        assert_eq!(p.sections[1].paragraphs, vec!["Run the image.", "docker run acme"]);
    }

    #[test]
    fn slugs_match_github() {
        assert_eq!(slug("What's new in v2.0?"), "whats-new-in-v20");
        assert_eq!(slug("Über uns"), "über-uns");
        let mut a = Anchors::default();
        assert_eq!(a.unique("faq".into()), "faq");
        assert_eq!(a.unique("faq".into()), "faq-1");
    }

    #[test]
    fn broken_pdf_is_an_error() {
        let err = parse(Format::Pdf, b"%PDF-1.4 this is not really a pdf", "x").unwrap_err();
        assert!(err.contains("PDF"), "{err}");
        assert!(parse(Format::Text, &[0xff, 0xfe, 0x00], "x").is_err());
    }
}
