//! The website crawler: sitemap first, then same-origin links; polite and SSRF-safe.
//!
//! - **Scope**: pages on the start URL's origin whose path is under the start URL's folder
//!   (`https://example.com/docs/intro` crawls `/docs/...`). URLs from `sitemap.xml` (or the
//!   sitemaps named in `robots.txt`) are queued first, then links found on pages, breadth first
//!   up to `crawl.max_depth`, at most `crawl.max_pages` pages.
//! - **Politeness**: `robots.txt` rules for `*` and `BatonBot` are obeyed (longest match wins,
//!   `Allow` beats `Disallow` on ties), `Crawl-delay` is honoured (capped at 5 s), at most
//!   `crawl.concurrency` requests are in flight, each with `crawl.timeout_secs`.
//! - **SSRF**: unless `crawl.allow_private`, every host name is resolved by our own resolver and
//!   refused when *any* of its addresses is loopback, private, link-local, CGNAT, multicast or
//!   otherwise not public; IP literals are checked directly; every redirect hop is checked again
//!   (the connection to a redirect target goes through the same resolver). Environment proxies
//!   are ignored so they cannot bypass the check.
//! - **Errors**: a page that fails is reported as one [`Fetched`] with an error, never stops the
//!   crawl. 404/410 mark the page as gone (so a re-crawl removes it from the index).

use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use regex::Regex;
use scraper::{Html, Selector};
use tokio::sync::mpsc;
use url::Url;

use super::parse::Format;
use crate::config::CrawlConfig;
use crate::error::{Error, Result};

pub const USER_AGENT: &str = concat!("BatonBot/", env!("CARGO_PKG_VERSION"), " (self-hosted support desk)");
const MAX_BODY: usize = 10 * 1024 * 1024;
const MAX_SITEMAPS: usize = 20;

/// A fetched page.
#[derive(Debug)]
pub struct Page {
    pub url: String,
    pub format: Format,
    pub body: Vec<u8>,
}

/// Why a page could not be fetched.
#[derive(Debug)]
pub struct FetchError {
    pub message: String,
    /// The page no longer exists (404, 410, not a document): forget it.
    pub gone: bool,
}

/// One crawl result, sent as soon as it is known.
#[derive(Debug)]
pub struct Fetched {
    pub url: String,
    /// Pages queued so far (for progress).
    pub discovered: usize,
    pub result: std::result::Result<Page, FetchError>,
}

/// How a crawl ended.
#[derive(Debug, Default)]
pub struct Summary {
    pub discovered: usize,
    pub fetched: usize,
}

/// Checks a start URL: http(s) with a host.
pub fn parse_start_url(s: &str) -> Result<Url> {
    let mut url = Url::parse(s.trim()).map_err(|e| Error::InvalidInput(format!("not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::InvalidInput("the URL must start with http:// or https://".into()));
    }
    url.set_fragment(None);
    Ok(url)
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if s[0] == 0x64 && s[1] == 0xff9b {
                // NAT64: judge the embedded IPv4 address.
                let v4 =
                    std::net::Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return is_public(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[..6].iter().all(|x| *x == 0))
        }
    }
}

fn refuse(what: &str) -> String {
    format!("refusing to fetch {what}: it is a loopback, private or link-local address (set crawl.allow_private to allow)")
}

/// Checks the host of a URL when it is an IP literal (names are checked by the resolver).
pub fn check_url(url: &Url, allow_private: bool) -> std::result::Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("unsupported scheme {}", url.scheme()));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err("the URL has no host".into()),
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(refuse(&ip.to_string()))
    }
}

/// Resolves names and refuses non-public addresses (every address must be public).
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow {
                if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                    let msg = refuse(&format!("{host} ({})", bad.ip()));
                    return Err(Box::new(std::io::Error::new(std::io::ErrorKind::PermissionDenied, msg)) as _);
                }
            }
            let it: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

/// The HTTP client with the SSRF guard, redirect checks and timeouts.
pub fn client(config: &CrawlConfig) -> Result<reqwest::Client> {
    let allow = config.allow_private;
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(Duration::from_secs(config.timeout_secs.max(1)))
        .connect_timeout(Duration::from_secs(config.timeout_secs.clamp(1, 10)))
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { allow_private: allow }))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                return attempt.error("too many redirects");
            }
            match check_url(attempt.url(), allow) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        }))
        .build()
        .map_err(Error::internal)
}

/// The innermost error message of a reqwest error (our resolver's refusal, a timeout...).
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    msg
}

/// robots.txt rules for us.
#[derive(Debug, Default)]
pub struct Robots {
    rules: Vec<(bool, String)>,
    pub sitemaps: Vec<String>,
    pub crawl_delay: Option<f32>,
}

impl Robots {
    pub fn parse(text: &str) -> Robots {
        let mut r = Robots::default();
        let mut group_applies = false;
        let mut in_agents = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((k, v)) = line.split_once(':') else { continue };
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "user-agent" => {
                    let ua = v.to_ascii_lowercase();
                    let matches = ua == "*" || ua.contains("batonbot");
                    group_applies = if in_agents { group_applies || matches } else { matches };
                    in_agents = true;
                }
                "disallow" | "allow" => {
                    in_agents = false;
                    if group_applies && !v.is_empty() {
                        r.rules.push((k == "allow", v.to_owned()));
                    }
                }
                "crawl-delay" => {
                    in_agents = false;
                    if group_applies {
                        r.crawl_delay = v.parse().ok();
                    }
                }
                "sitemap" => r.sitemaps.push(v.to_owned()),
                _ => in_agents = false,
            }
        }
        r
    }

    /// Whether `path` (with query) may be fetched.
    pub fn allowed(&self, path: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if let Some(len) = robots_match(pattern, path) {
                if best.is_none_or(|(l, a)| len > l || (len == l && *allow && !a)) {
                    best = Some((len, *allow));
                }
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Matches a robots pattern (`*` wildcard, `$` end anchor); returns the pattern length.
fn robots_match(pattern: &str, path: &str) -> Option<usize> {
    let anchored = pattern.ends_with('$');
    let pat = pattern.trim_end_matches('$');
    let parts: Vec<&str> = pat.split('*').collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !path.starts_with(part) {
                return None;
            }
            pos = part.len();
        } else {
            let found = path[pos..].find(part)?;
            pos += found + part.len();
        }
    }
    if anchored && pos != path.len() && !pat.ends_with('*') {
        return None;
    }
    Some(pattern.len())
}

static LOC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)<loc>\s*(.*?)\s*</loc>").expect("regex"));

const SKIP_EXT: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "css", "js", "mjs", "json", "xml", "zip", "gz", "tar",
    "mp4", "mp3", "webm", "woff", "woff2", "ttf", "eot", "dmg", "exe", "apk", "csv", "avif", "rss", "atom",
];

struct Scope {
    origin: url::Origin,
    prefix: String,
}

impl Scope {
    fn new(start: &Url) -> Scope {
        let path = start.path();
        let prefix = match path.rfind('/') {
            Some(i) => path[..=i].to_owned(),
            None => "/".to_owned(),
        };
        Scope { origin: start.origin(), prefix }
    }

    /// Normalises a URL and says whether it belongs to the crawl.
    fn admit(&self, mut url: Url) -> Option<Url> {
        url.set_fragment(None);
        if url.origin() != self.origin || !url.path().starts_with(&self.prefix) {
            return None;
        }
        let last = url.path().rsplit('/').next().unwrap_or("");
        if let Some((_, ext)) = last.rsplit_once('.') {
            if SKIP_EXT.contains(&ext.to_ascii_lowercase().as_str()) {
                return None;
            }
        }
        Some(url)
    }
}

/// Crawls from `start`, sending each page (or its error) on `tx` as soon as it is fetched.
pub async fn crawl(
    start: String,
    config: CrawlConfig,
    tx: mpsc::Sender<Fetched>,
) -> std::result::Result<Summary, String> {
    let start = parse_start_url(&start).map_err(|e| e.to_string())?;
    check_url(&start, config.allow_private)?;
    let client = client(&config).map_err(|e| e.to_string())?;
    let scope = Scope::new(&start);
    let origin = start.origin().ascii_serialization();

    // robots.txt (missing or unreadable: everything allowed).
    let robots = match fetch_text(&client, &format!("{origin}/robots.txt")).await {
        Ok(Some(t)) => Robots::parse(&t),
        Ok(None) => Robots::default(),
        Err(e) if e.contains("refusing") => return Err(e),
        Err(_) => Robots::default(),
    };
    let delay = robots.crawl_delay.map(|d| Duration::from_secs_f32(d.clamp(0.0, 5.0)));

    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<(Url, usize)> = VecDeque::new();
    let admit = |url: Url, depth: usize, seen: &mut HashSet<String>, queue: &mut VecDeque<(Url, usize)>| {
        if seen.len() >= config.max_pages.max(1) {
            return;
        }
        let Some(url) = scope.admit(url) else { return };
        let path_q = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        if !robots.allowed(&path_q) {
            return;
        }
        if seen.insert(url.to_string()) {
            queue.push_back((url, depth));
        }
    };
    admit(start.clone(), 0, &mut seen, &mut queue);

    // Sitemaps first.
    let mut sitemaps: VecDeque<String> = robots.sitemaps.iter().cloned().collect();
    if sitemaps.is_empty() {
        sitemaps.push_back(format!("{origin}/sitemap.xml"));
    }
    let mut read = 0;
    while let Some(sm) = sitemaps.pop_front() {
        if read >= MAX_SITEMAPS {
            break;
        }
        read += 1;
        let Ok(sm_url) = Url::parse(&sm) else { continue };
        if sm_url.origin() != start.origin() {
            continue;
        }
        let Ok(Some(xml)) = fetch_text(&client, sm_url.as_str()).await else { continue };
        let is_index = xml.contains("<sitemapindex");
        for cap in LOC.captures_iter(&xml) {
            let loc = cap[1].replace("&amp;", "&");
            if is_index {
                sitemaps.push_back(loc);
            } else if let Ok(u) = Url::parse(&loc) {
                admit(u, 1, &mut seen, &mut queue);
            }
        }
    }

    let a_href = Selector::parse("a[href]").expect("selector");
    let mut summary = Summary::default();
    while !queue.is_empty() {
        let n = config.concurrency.max(1).min(queue.len());
        let batch: Vec<(Url, usize)> = queue.drain(..n).collect();
        let results =
            futures_util::future::join_all(batch.iter().map(|(u, _)| fetch_page(&client, u.clone()))).await;
        for ((url, depth), result) in batch.into_iter().zip(results) {
            if let Ok(page) = &result {
                summary.fetched += 1;
                if page.format == Format::Html && depth < config.max_depth {
                    let base = Url::parse(&page.url).unwrap_or_else(|_| url.clone());
                    // Parsing a hostile page is CPU work that must not run on (or crash) an
                    // async worker: it goes to the parser threads like the ingestion does.
                    let (body, a_href) = (page.body.clone(), a_href.clone());
                    let links: Vec<Url> = super::sandbox::run(move || {
                        let html = String::from_utf8_lossy(&body);
                        let doc = Html::parse_document(&html);
                        doc.select(&a_href)
                            .filter_map(|a| a.value().attr("href"))
                            .filter_map(|h| base.join(h).ok())
                            .collect()
                    })
                    .await
                    .unwrap_or_default();
                    for l in links {
                        admit(l, depth + 1, &mut seen, &mut queue);
                    }
                }
            }
            let msg = Fetched { url: url.to_string(), discovered: seen.len(), result };
            if tx.send(msg).await.is_err() {
                return Ok(summary);
            }
        }
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
    }
    summary.discovered = seen.len();
    Ok(summary)
}

/// A small text resource (robots.txt, sitemap): `None` when it does not exist.
async fn fetch_text(client: &reqwest::Client, url: &str) -> std::result::Result<Option<String>, String> {
    let resp = client.get(url).send().await.map_err(|e| describe(&e))?;
    if !resp.status().is_success() {
        return Ok(None);
    }
    let bytes = resp.bytes().await.map_err(|e| describe(&e))?;
    if bytes.len() > MAX_BODY {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

async fn fetch_page(client: &reqwest::Client, url: Url) -> std::result::Result<Page, FetchError> {
    let err = |message: String, gone: bool| FetchError { message, gone };
    let mut resp = client.get(url.clone()).send().await.map_err(|e| err(describe(&e), false))?;
    let status = resp.status();
    if !status.is_success() {
        let gone = matches!(status.as_u16(), 404 | 410);
        return Err(err(format!("HTTP {status}"), gone));
    }
    let ct = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/html")
        .to_owned();
    let Some(format) = Format::from_content_type(&ct) else {
        return Err(err(format!("not a document ({ct})"), true));
    };
    let final_url = resp.url().to_string();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(describe(&e), false))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            return Err(err("the page is larger than 10 MB".into(), true));
        }
    }
    // Keep the requested URL as the document's identity so redirects do not duplicate pages.
    let _ = final_url;
    Ok(Page { url: url.to_string(), format, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "93.184.216.34", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(check_url(&Url::parse("http://127.0.0.1:8080/").unwrap(), false).is_err());
        assert!(check_url(&Url::parse("http://[::1]/").unwrap(), false).is_err());
        assert!(check_url(&Url::parse("http://127.0.0.1/").unwrap(), true).is_ok());
        assert!(check_url(&Url::parse("file:///etc/passwd").unwrap(), true).is_err());
    }

    #[test]
    fn robots_rules() {
        let r = Robots::parse(
            "User-agent: Googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /private\nAllow: /private/ok\nDisallow: /*.pdf$\nCrawl-delay: 1\nSitemap: https://x.example/sm.xml\n",
        );
        assert!(r.allowed("/docs/a"));
        assert!(!r.allowed("/private/x"));
        assert!(r.allowed("/private/ok/page"));
        assert!(!r.allowed("/files/a.pdf"));
        assert_eq!(r.sitemaps, vec!["https://x.example/sm.xml"]);
        assert_eq!(r.crawl_delay, Some(1.0));
    }

    #[test]
    fn scope_stays_under_the_start_folder() {
        let s = Scope::new(&Url::parse("https://x.example/docs/intro").unwrap());
        assert!(s.admit(Url::parse("https://x.example/docs/b#frag").unwrap()).is_some());
        assert!(s.admit(Url::parse("https://x.example/blog/").unwrap()).is_none());
        assert!(s.admit(Url::parse("https://y.example/docs/b").unwrap()).is_none());
        assert!(s.admit(Url::parse("https://x.example/docs/logo.png").unwrap()).is_none());
    }
}
