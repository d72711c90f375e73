//! Turning raw files into sections of blocks: Markdown/MDX, HTML, plain text and PDF.
//!
//! Every parser returns a [`Parsed`]: a title, an optional description and the sections of the
//! document, each with its heading path (`["Install", "Docker"]`), a GitHub-style anchor and its
//! [`Block`]s (paragraphs, lists, tables, code, callouts). Markdown is read by a CommonMark
//! parser (pulldown-cmark, with GFM tables and alerts); HTML by its block elements
//! ([`super::html`]). Everything a reader would not see is dropped: front matter (its
//! `title`/`description` are kept), MDX `import`/`export` lines and JSX expressions, template
//! markup (Liquid/Jinja `{% %}` and `{{ }}`, Hugo shortcodes), HTML tags (their text is kept),
//! `<script>` and `<style>` (JSON-LD included), images, and in HTML the page chrome.
//! Docusaurus admonitions (`:::tip`) and Hugo callout shortcodes become [`Block::Note`]s.

use std::sync::LazyLock;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use regex::Regex;

pub use super::block::{slug, Block, Section};
use super::block::{squash, Sink, NOTE_OPEN};

/// A document as blocks, split at its headings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub title: String,
    pub description: String,
    pub sections: Vec<Section>,
}

impl Parsed {
    /// All headings, in order.
    pub fn headings(&self) -> Vec<String> {
        self.sections.iter().filter_map(|s| s.headings.last().cloned()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.sections.iter().all(|s| s.blocks.is_empty())
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
                Format::Html => super::html::parse_html(text),
                _ => parse_text(text),
            }
        }
    };
    if parsed.title.trim().is_empty() {
        parsed.title = fallback_title.to_owned();
    }
    parsed.title = clean_inline(&parsed.title);
    parsed.sections.retain(|s| !s.blocks.is_empty());
    Ok(parsed)
}

static SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<(script|style)\b[^>]*>.*?</(script|style)\s*>").expect("regex"));
static COMMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<!--.*?-->|\{/\*.*?\*/\}").expect("regex"));
/// Liquid/Jinja tags, Hugo shortcodes and `{{ output }}` expressions.
static TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)\{%.*?%\}|\{\{<.*?>\}\}|\{\{%.*?%\}\}|\{\{.*?\}\}|\{#.*?#\}").expect("regex")
});
/// A Hugo callout shortcode alone on its line: `{{< hint warning >}}`, `{{% notice tip %}}`.
static SHORTCODE_NOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*\{\{[<%]\s*(/?)\s*(hint|notice|alert|callout|admonition|note|tip|warning|info|caution|important|danger)\b([^>%]*)[>%]\}\}\s*$",
    )
    .expect("regex")
});
/// A Docusaurus/VuePress admonition fence: `:::tip Title`, `:::note[Title]`, `:::`.
static ADMONITION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*:{3,}\s*([A-Za-z]*)\s*(?:\[(.*)\]|(.*))$").expect("regex"));
static IMAGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"!\[[^\]]*\]\([^)]*\)").expect("regex"));
static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("regex"));
static REF_LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]]+)\]\[[^\]]*\]").expect("regex"));
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"</?[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>").expect("regex"));
static EMPHASIS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\*\*|__|\*|~~|`").expect("regex"));
/// A JSX expression in MDX text (`{props.name}`, `{' '}`).
static JSX_EXPR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{[^{}]*\}").expect("regex"));

/// Removes Markdown/HTML inline markup, keeping the visible text (titles, labels, attributes).
pub fn clean_inline(s: &str) -> String {
    let s = TEMPLATE.replace_all(s, "");
    let s = IMAGE.replace_all(&s, "");
    let s = LINK.replace_all(&s, "$1");
    let s = REF_LINK.replace_all(&s, "$1");
    let s = TAG.replace_all(&s, " ");
    let s = EMPHASIS.replace_all(&s, "");
    let s = decode_entities(&s);
    squash(&s)
}

/// What a reader would see of text outside code: template markup and MDX expressions removed.
fn visible(s: &str) -> String {
    let s = TEMPLATE.replace_all(s, "");
    JSX_EXPR.replace_all(&s, "").into_owned()
}

/// Prepares Markdown/MDX for the CommonMark parser, outside code fences only: drops comments,
/// scripts, MDX `import`/`export` lines and template markup, and turns admonitions and callout
/// shortcodes into block quotes that start with [`NOTE_OPEN`].
fn prepare_markdown(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut fence: Option<String> = None;
    let mut prose = String::new();
    let mut notes = 0usize;
    // Comments, scripts and template markup go from prose only: code shows them as written.
    let flush = |prose: &mut String, out: &mut String| {
        let p = SCRIPT.replace_all(prose, "");
        let p = COMMENT.replace_all(&p, "");
        out.push_str(&TEMPLATE.replace_all(&p, ""));
        prose.clear();
    };
    for line in body.lines() {
        let trimmed = line.trim_start();
        let quote = "> ".repeat(notes);
        if let Some(marker) = &fence {
            if trimmed.starts_with(marker.as_str()) {
                fence = None;
            }
            out.push_str(&quote);
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            flush(&mut prose, &mut out);
            let marker: String = trimmed.chars().take_while(|c| *c == '`' || *c == '~').collect();
            fence = Some(marker);
            out.push_str(&quote);
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if (trimmed.starts_with("import ") || trimmed.starts_with("export ")) && !trimmed.contains("](") {
            continue;
        }
        let note = SHORTCODE_NOTE
            .captures(line)
            .map(|c| (c[1].is_empty(), c[2].to_owned(), c[3].trim().trim_matches('"').to_owned()))
            .or_else(|| {
                ADMONITION.captures(line).map(|c| {
                    let kind = c.get(1).map_or("", |m| m.as_str()).to_owned();
                    let title = c.get(2).or(c.get(3)).map_or("", |m| m.as_str()).trim().to_owned();
                    (!kind.is_empty(), kind, title)
                })
            });
        if let Some((open, kind, title)) = note {
            if open && notes >= super::block::MAX_NESTING {
                continue;
            }
            if open {
                prose.push_str(&quote);
                prose.push_str(&format!("\n{quote}> {NOTE_OPEN}{kind}|{}\n{quote}>\n", clean_inline(&title)));
                notes += 1;
            } else if notes > 0 {
                notes -= 1;
                prose.push('\n');
            }
            continue;
        }
        prose.push_str(&quote);
        prose.push_str(line);
        prose.push('\n');
    }
    flush(&mut prose, &mut out);
    out
}

/// Markdown and MDX.
pub fn parse_markdown(text: &str) -> Parsed {
    let (mut title, description, body) = front_matter(text);
    let body = prepare_markdown(body);
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_GFM
        | Options::ENABLE_FOOTNOTES;
    let mut sink = Sink::default();
    let mut code: Option<String> = None;
    let mut html_block: Option<String> = None;
    let mut image = 0usize;
    let mut footnote = 0usize;
    let mut first_h1: Option<String> = None;
    for ev in Parser::new_ext(&body, opts) {
        if let Some(c) = &mut code {
            match ev {
                Event::Text(t) => c.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let c = code.take().unwrap_or_default();
                    sink.code(&c);
                }
                _ => {}
            }
            continue;
        }
        if let Some(h) = &mut html_block {
            match ev {
                Event::Html(t) | Event::Text(t) => h.push_str(&t),
                Event::End(TagEnd::HtmlBlock) => {
                    let h = html_block.take().unwrap_or_default();
                    let text = clean_inline(&visible(&h));
                    if !text.is_empty() {
                        sink.text(&text);
                        sink.end_paragraph();
                    }
                }
                _ => {}
            }
            continue;
        }
        if footnote > 0 {
            match ev {
                Event::Start(Tag::FootnoteDefinition(_)) => footnote += 1,
                Event::End(TagEnd::FootnoteDefinition) => footnote -= 1,
                _ => {}
            }
            continue;
        }
        match ev {
            Event::Start(tag) => match tag {
                Tag::Heading { level, id, .. } => {
                    sink.heading_start(level as usize, id.map(|i| i.to_string()));
                }
                Tag::Paragraph => {}
                Tag::BlockQuote(kind) => {
                    let label = kind.map(|k| format!("{k:?}")).unwrap_or_default();
                    sink.note_start(&label);
                }
                Tag::CodeBlock(kind) => {
                    let _lang = match kind {
                        CodeBlockKind::Fenced(l) => l.to_string(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    code = Some(String::new());
                }
                Tag::HtmlBlock => html_block = Some(String::new()),
                Tag::List(start) => {
                    sink.list_start(start.is_some(), start.map_or(1, |s| s.min(u32::MAX as u64) as u32));
                }
                Tag::Item => sink.item_start(),
                Tag::FootnoteDefinition(_) => footnote = 1,
                Tag::Table(_) => sink.table_start(),
                Tag::TableHead => sink.row_start(true),
                Tag::TableRow => sink.row_start(false),
                Tag::TableCell => {}
                Tag::Strong => sink.mark("**"),
                Tag::Image { .. } => image += 1,
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Heading(level) => {
                    if let Some(text) = sink.heading_end() {
                        if level == pulldown_cmark::HeadingLevel::H1 && first_h1.is_none() {
                            first_h1 = Some(text);
                        }
                    }
                }
                TagEnd::Paragraph => sink.end_paragraph(),
                TagEnd::BlockQuote(_) => sink.note_end(),
                TagEnd::List(_) => sink.list_end(),
                TagEnd::Item => sink.item_end(),
                TagEnd::TableHead | TagEnd::TableRow => sink.row_end(),
                TagEnd::TableCell => sink.cell_end(),
                TagEnd::Table => sink.table_end(),
                TagEnd::Strong => sink.mark("**"),
                TagEnd::Image => image = image.saturating_sub(1),
                _ => {}
            },
            Event::Text(t) if image == 0 => {
                sink.text(&visible(&t));
            }
            Event::Code(c) if image == 0 => {
                sink.mark("`");
                sink.text(&c);
                sink.mark("`");
            }
            Event::InlineHtml(h) | Event::Html(h) => {
                let t = clean_inline(&h);
                if t.is_empty() {
                    sink.space();
                } else {
                    sink.text(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => sink.space(),
            Event::TaskListMarker(done) => sink.text(if done { "[x] " } else { "[ ] " }),
            _ => {}
        }
    }
    if let Some(c) = code {
        sink.code(&c);
    }
    let mut sections = sink.finish();
    for s in &mut sections {
        for b in &mut s.blocks {
            strip_tags(b);
        }
        s.blocks.retain(|b| !is_markup_debris(b));
    }
    if title.is_empty() {
        title = first_h1.unwrap_or_default();
    }
    Parsed { title: clean_inline(&title), description: clean_inline(&description), sections }
}

/// Removes HTML/JSX tags that reached a block's text in pieces (a tag whose attribute held a JSX
/// expression is not an HTML event for the CommonMark parser).
fn strip_tags(b: &mut Block) {
    // Inline code (between backticks) shows tags as written: `</body>`.
    let clean = |t: &mut String| {
        if !t.contains('<') {
            return;
        }
        let cleaned: Vec<String> = t
            .split('`')
            .enumerate()
            .map(
                |(i, part)| {
                    if i % 2 == 1 {
                        part.to_owned()
                    } else {
                        TAG.replace_all(part, " ").into_owned()
                    }
                },
            )
            .collect();
        *t = super::block::tidy(&cleaned.join("`"));
    };
    match b {
        Block::Paragraph { text } => clean(text),
        Block::Note { text, .. } => clean(text),
        Block::List { items, .. } => items.iter_mut().for_each(clean),
        Block::Table { header, rows } => {
            header.iter_mut().for_each(clean);
            rows.iter_mut().flatten().for_each(clean);
        }
        Block::Code { .. } => {}
    }
}

/// A paragraph that is left-over code or data (a JSON fragment, a lone brace), not prose.
fn is_markup_debris(b: &Block) -> bool {
    let Block::Paragraph { text } = b else { return false };
    let t = text.trim();
    if t.chars().count() <= 1 {
        return !t.chars().all(char::is_alphanumeric) || t.is_empty();
    }
    let letters = t.chars().filter(|c| c.is_alphabetic()).count();
    let syntax =
        t.chars().filter(|c| matches!(c, '{' | '}' | '"' | ':' | '[' | ']' | '<' | '>' | '=' | ';')).count();
    syntax * 2 > letters && t.contains(['{', '}', '"', '<'])
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

/// Plain text: paragraphs at blank lines; the first short line is the title.
pub fn parse_text(text: &str) -> Parsed {
    let mut sink = Sink::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            sink.end_paragraph();
        } else {
            sink.text(line.trim());
            sink.space();
        }
    }
    let sections = sink.finish();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn all_blocks(p: &Parsed) -> Vec<Block> {
        p.sections.iter().flat_map(|s| s.blocks.clone()).collect()
    }

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
        assert!(!all.contains("SECRET") && !all.contains("import") && !all.contains('<'), "{all}");
        assert_eq!(p.sections[0].blocks, vec![Block::paragraph("Intro with a link and **bold** text.")]);
        assert_eq!(p.sections[1].headings, vec!["Payment methods"]);
        assert_eq!(p.sections[1].anchor, "pay");
        assert_eq!(
            p.sections[1].blocks[0],
            Block::List {
                ordered: false,
                start: 1,
                items: vec!["Cards and PayPal work.".into(), "Wire transfer does not.".into()]
            },
            "{all}"
        );
        assert!(
            p.sections[1].blocks.contains(&Block::Note {
                label: "Using WordPress?".into(),
                text: "Install the plugin.".into()
            }),
            "{all}"
        );
        assert!(p.sections[1].blocks.contains(&Block::paragraph("Not what you need?")), "{all}");
        assert_eq!(p.sections[2].headings, vec!["Payment methods", "Invoices & receipts"]);
        assert_eq!(p.sections[2].anchor, "invoices--receipts");
        assert_eq!(p.sections[2].blocks[0], Block::Code { text: "curl https://example.com".into() });
        assert_eq!(
            p.sections[2].blocks[1],
            Block::Table {
                header: vec!["Plan".into(), "Price".into()],
                rows: vec![vec!["Growth".into(), "9 €".into()]]
            }
        );
    }

    #[test]
    fn a_lead_in_keeps_its_steps() {
        let md = "## Add a site\n\nTo add a site:\n\n1. Open **Settings**.\n2. Click `Add website`.\n   - Pick a name\n   - Pick a time zone\n3. Save.\n";
        let p = parse_markdown(md);
        assert_eq!(
            p.sections[0].blocks,
            vec![
                Block::paragraph("To add a site:"),
                Block::List {
                    ordered: true,
                    start: 1,
                    items: vec![
                        "Open **Settings**.".into(),
                        "Click `Add website`. Pick a name; Pick a time zone".into(),
                        "Save.".into()
                    ]
                },
            ]
        );
        assert!(p.sections[0].blocks[0].is_lead_in());
    }

    #[test]
    fn template_markup_never_reaches_the_text() {
        let md = r#"---
title: Liquid page
---
{% include header.html %}
Welcome to {{ site.name }} docs.{% if page.beta %} Beta!{% endif %}

{{< hint warning >}}
Back up your data first.
{{< /hint >}}

{{< figure src="/img/x.png" caption="A figure" >}}

{{% notice tip %}}
Use the search.
{{% /notice %}}

Jinja {# a comment #} text and an MDX expression {props.value} here.

```liquid
{% raw %}{{ kept in code }}{% endraw %}
```
"#;
        let p = parse_markdown(md);
        let blocks = all_blocks(&p);
        let text: String = blocks
            .iter()
            .filter(|b| !matches!(b, Block::Code { .. }))
            .map(Block::plain)
            .collect::<Vec<_>>()
            .join("\n");
        for bad in ["{%", "%}", "{{", "}}", "{#", "include", "figure", "props", "endif"] {
            assert!(!text.contains(bad), "{bad} leaked: {text}");
        }
        assert!(text.contains("Welcome to docs."), "{text}");
        assert!(
            blocks
                .contains(&Block::Note { label: "Warning".into(), text: "Back up your data first.".into() }),
            "{blocks:?}"
        );
        assert!(
            blocks.contains(&Block::Note { label: "Tip".into(), text: "Use the search.".into() }),
            "{blocks:?}"
        );
        assert!(text.contains("Jinja text and an MDX expression here."), "{text}");
        // A tag in inline code is text, a stray tag in prose is not.
        let p = parse_markdown("Paste it before the closing `</body>` tag. <img class=\"x\" src= /> Done.\n");
        assert_eq!(
            all_blocks(&p),
            vec![Block::paragraph("Paste it before the closing `</body>` tag. Done.")]
        );
        // Code is shown as written.
        assert!(blocks
            .iter()
            .any(|b| matches!(b, Block::Code { text } if text.contains("{{ kept in code }}"))));
    }

    #[test]
    fn json_fragments_are_not_prose() {
        let md = "Real text.\n\n{\"@type\": \"FAQPage\", \"name\": \"x\"}\n\n}\n";
        let p = parse_markdown(md);
        assert_eq!(all_blocks(&p), vec![Block::paragraph("Real text.")]);
    }

    #[test]
    fn gfm_alerts_are_notes() {
        let p = parse_markdown("> [!WARNING]\n> Keys are shown once.\n");
        assert_eq!(
            all_blocks(&p),
            vec![Block::Note { label: "Warning".into(), text: "Keys are shown once.".into() }]
        );
    }

    #[test]
    fn deep_markdown_nesting_is_flattened() {
        let md = format!("{}deep\n\n{}item\n", "> ".repeat(5000), "- ".repeat(5000));
        let p = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || parse_markdown(&md))
            .expect("thread")
            .join()
            .expect("no stack overflow");
        let text: String = all_blocks(&p).iter().map(Block::plain).collect();
        assert!(text.contains("deep") && text.contains("item"), "{text}");
    }

    #[test]
    fn broken_pdf_is_an_error() {
        let err = parse(Format::Pdf, b"%PDF-1.4 this is not really a pdf", "x").unwrap_err();
        assert!(err.contains("PDF"), "{err}");
        assert!(parse(Format::Text, &[0xff, 0xfe, 0x00], "x").is_err());
    }
}
