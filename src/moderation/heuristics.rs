//! Rules about the shape of a comment rather than its words: links, capital
//! letters, repetition, emoji, contact details, length, author activity.
//!
//! Each heuristic reads the original body or the normalised text and reports
//! what it found with spans in the original body.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use linkify::{LinkFinder, LinkKind};
use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use super::text::{NormText, is_invisible, is_pictographic as is_emoji};

/// What a heuristic found: an explanation and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub reason: String,
    pub spans: Vec<(u32, u32)>,
}

/// Links: too many, to a blocked domain, or disguised. Links to allowed
/// domains are never counted.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkLimits {
    /// Most links a comment may carry; `None` for no limit.
    pub max: Option<usize>,
    pub allow_domains: BTreeSet<String>,
    pub block_domains: BTreeSet<String>,
    /// Flag links written in full-width, mathematical or other compatibility
    /// characters, or with invisible characters inside: nobody types a
    /// link that way except to slip it past a filter.
    pub block_disguised: bool,
}

/// A link found in the normalised text: its domain and original span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLink {
    pub domain: String,
    pub span: (u32, u32),
    /// Written with characters that normalisation had to undo.
    pub disguised: bool,
}

fn url_finder() -> LinkFinder {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(false);
    finder
}

fn email_finder() -> LinkFinder {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Email]);
    finder
}

/// Every link of the text, found once per text and shared by the link rules.
pub(crate) fn find_links(body: &str, norm: &NormText) -> Vec<FoundLink> {
    url_finder()
        .links(&norm.text)
        .filter_map(|link| {
            let span = norm.original_span(link.start()..link.end())?;
            let written = body.get(span.0 as usize..span.1 as usize)?;
            Some(FoundLink {
                domain: domain_of(link.as_str()),
                span,
                disguised: written.chars().any(disguises_a_link),
            })
        })
        .collect()
}

/// An invisible character, or one that normalisation replaces by another
/// (full-width `ｗ`, mathematical `𝐰`, circled `ⓦ`). Letters of other
/// scripts are not: `президент.рф` is a real address.
fn disguises_a_link(c: char) -> bool {
    !c.is_ascii() && (is_invisible(c) || !std::iter::once(c).nfkc().eq(std::iter::once(c)))
}

fn domain_of(url: &str) -> String {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host_and_port = without_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(without_scheme);
    let host = host_and_port
        .rsplit_once('@')
        .map_or(host_and_port, |(_, h)| h);
    let host = host.split(':').next().unwrap_or(host);
    host.trim_end_matches('.')
        .trim_start_matches("www.")
        .to_owned()
}

/// Whether `domain` is `listed` or one of its subdomains.
fn domain_in(domain: &str, listed: &BTreeSet<String>) -> bool {
    listed.iter().any(|l| {
        domain == l
            || domain
                .strip_suffix(l.as_str())
                .is_some_and(|prefix| prefix.ends_with('.'))
    })
}

impl LinkLimits {
    pub fn check(&self, links: &[FoundLink]) -> Option<Finding> {
        let blocked: Vec<&FoundLink> = links
            .iter()
            .filter(|l| domain_in(&l.domain, &self.block_domains))
            .collect();
        if !blocked.is_empty() {
            let domains: BTreeSet<&str> = blocked.iter().map(|l| l.domain.as_str()).collect();
            return Some(Finding {
                reason: format!(
                    "links to blocked domain{} {}",
                    if domains.len() > 1 { "s" } else { "" },
                    domains.into_iter().collect::<Vec<_>>().join(", ")
                ),
                spans: blocked.iter().map(|l| l.span).collect(),
            });
        }
        if self.block_disguised && links.iter().any(|l| l.disguised) {
            return Some(Finding {
                reason: "links written in look-alike or invisible characters".into(),
                spans: links
                    .iter()
                    .filter(|l| l.disguised)
                    .map(|l| l.span)
                    .collect(),
            });
        }
        let counted: Vec<&FoundLink> = links
            .iter()
            .filter(|l| !domain_in(&l.domain, &self.allow_domains))
            .collect();
        match self.max {
            Some(max) if counted.len() > max => Some(Finding {
                reason: format!("{} links, more than the {max} allowed", counted.len()),
                spans: counted.iter().map(|l| l.span).collect(),
            }),
            _ => None,
        }
    }
}

/// Shouting: too large a share of the letters in capitals.
#[derive(Debug, Clone, PartialEq)]
pub struct CapitalsLimit {
    /// Largest share of capitals among cased letters, from 0 to 1.
    pub max_share: f64,
    /// Texts with fewer cased letters are never judged.
    pub min_letters: usize,
}

impl CapitalsLimit {
    pub(crate) fn check(&self, norm: &NormText) -> Option<Finding> {
        let (mut upper, mut cased) = (0usize, 0usize);
        for ch in norm.chars.iter().filter(|ch| ch.is_cased()) {
            cased += 1;
            upper += usize::from(ch.upper);
        }
        if cased < self.min_letters.max(1) {
            return None;
        }
        let share = upper as f64 / cased as f64;
        (share > self.max_share).then(|| Finding {
            reason: format!(
                "{:.0}% of {cased} letters are capitals, more than {:.0}%",
                share * 100.0,
                self.max_share * 100.0
            ),
            spans: Vec::new(),
        })
    }
}

/// A character repeated too many times in a row (`!!!!!!!!!!`, `ааааааааа`).
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatedCharsLimit {
    pub max_run: usize,
}

impl RepeatedCharsLimit {
    pub(crate) fn check(&self, norm: &NormText) -> Option<Finding> {
        let mut spans = Vec::new();
        let mut longest = 0;
        let mut run_start = 0;
        let chars: Vec<char> = norm.text.chars().collect();
        for i in 1..=chars.len() {
            if i < chars.len() && chars[i] == chars[run_start] {
                continue;
            }
            let run = i - run_start;
            if run > self.max_run && !chars[run_start].is_whitespace() {
                longest = longest.max(run);
                let first = norm.chars[run_start];
                let last = norm.chars[i - 1];
                spans.push((first.start, last.end));
            }
            run_start = i;
        }
        (!spans.is_empty()).then(|| Finding {
            reason: format!(
                "a character repeated {longest} times in a row, more than {}",
                self.max_run
            ),
            spans,
        })
    }
}

/// The same word or phrase of up to three words repeated too many times in
/// a row (`buy buy buy buy buy`, `cheap flights cheap flights …`).
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatedWordsLimit {
    pub max_repeats: usize,
}

/// Longest phrase, in words, whose repetition is noticed.
const MAX_REPEATED_PHRASE: usize = 3;

impl RepeatedWordsLimit {
    pub(crate) fn check(&self, norm: &NormText) -> Option<Finding> {
        // Words: runs of alphanumerics, with their byte ranges in the text.
        let mut words: Vec<(usize, usize)> = Vec::new();
        let mut start = None;
        for ch in &norm.chars {
            let i = ch.at as usize;
            match (ch.is_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    words.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            words.push((s, norm.text.len()));
        }
        let word = |k: usize| &norm.text[words[k].0..words[k].1];
        let mut spans = Vec::new();
        let mut worst = 0;
        for n in 1..=MAX_REPEATED_PHRASE {
            // Repeats of the phrase starting at `k`: compare word k+i with
            // word k+i+n while they agree.
            let mut k = 0;
            while k + n <= words.len() {
                let mut same = 0;
                while k + n + same < words.len() && word(k + same) == word(k + n + same) {
                    same += 1;
                }
                let repeats = same / n + 1;
                if repeats > self.max_repeats {
                    worst = worst.max(repeats);
                    let last_word = k + repeats * n - 1;
                    spans.extend(norm.original_span(words[k].0..words[last_word].1));
                    k = last_word + 1;
                } else {
                    k += 1;
                }
            }
            if !spans.is_empty() {
                break;
            }
        }
        (!spans.is_empty()).then(|| Finding {
            reason: format!(
                "a word or phrase repeated {worst} times in a row, more than {}",
                self.max_repeats
            ),
            spans,
        })
    }
}

/// Emoji floods.
#[derive(Debug, Clone, PartialEq)]
pub struct EmojiLimit {
    /// Most emoji a comment may have.
    pub max_count: usize,
}

impl EmojiLimit {
    pub fn check(&self, body: &str) -> Option<Finding> {
        let mut spans = Vec::new();
        // A flag is a pair of regional indicators.
        let (mut count, mut indicators) = (0, 0);
        for (i, c) in body.char_indices() {
            // No emoji between U+0080 and U+2000 but © and ®: skip the
            // lookup for Latin, Cyrillic, Greek and the rest.
            if c < '\u{2000}' && !matches!(c, '\u{A9}' | '\u{AE}') {
                continue;
            }
            let indicator = unicode_properties::emoji::is_regional_indicator(c);
            if !is_emoji(c) && !indicator {
                continue;
            }
            if indicator {
                indicators += 1;
            } else {
                count += 1;
            }
            spans.push((i as u32, (i + c.len_utf8()) as u32));
        }
        let count = count + indicators / 2;
        (count > self.max_count).then(|| Finding {
            reason: format!("{count} emoji, more than {}", self.max_count),
            spans: merge_adjacent(spans),
        })
    }
}

fn merge_adjacent(spans: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Contact details: e-mail addresses and telephone numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactDetection {
    pub emails: bool,
    pub phones: bool,
}

/// Candidate telephone numbers: 7 to 15 digits with the usual separators.
static PHONE_CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\+?\(?\d(?:[\s.()\-]{0,2}\d){6,14}").expect("the phone pattern is valid")
});

/// Whether a candidate looks like a telephone number rather than an amount,
/// a date, a year range, an ISBN or an identifier. Telephone numbers are
/// written with a leading `+`, or with an area code in brackets, or in
/// groups of at most four digits (`8-800-555-35-35`, `8 916 000 11 22`,
/// `555-123-4567`), or as 10–11 digits starting with 7 or 8 (Russian numbers
/// without separators).
fn looks_like_phone(candidate: &str) -> bool {
    let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
    let is_isbn13 = digits.len() == 13 && (digits.starts_with("978") || digits.starts_with("979"));
    let digits = digits.len();
    if !(7..=15).contains(&digits) || is_date(candidate) || is_isbn13 {
        return false;
    }
    let groups: Vec<&str> = candidate
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let first_digit = groups.first().and_then(|g| g.chars().next());
    let russian_start = matches!(first_digit, Some('7' | '8'));
    if candidate.starts_with('+') {
        return digits >= 10;
    }
    if candidate.contains('(') {
        return (10..=11).contains(&digits);
    }
    if groups.len() == 1 {
        return (10..=11).contains(&digits) && russian_start;
    }
    let short_groups = groups.iter().all(|g| g.len() <= 4);
    let dashed = candidate.matches('-').count() >= 2;
    short_groups
        && (dashed || ((10..=11).contains(&digits) && (russian_start || groups.len() >= 4)))
}

/// `2025-02-27`, `27-02-2025`, `27.02.2025`.
fn is_date(candidate: &str) -> bool {
    let parts: Vec<&str> = candidate.split(['-', '.', '/']).collect();
    matches!(parts.as_slice(),
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2)
        || matches!(parts.as_slice(), [d, m, y] if y.len() == 4 && m.len() == 2 && d.len() <= 2)
}

/// Words that label the number after them as something other than a
/// telephone number: Russian tax, company, bank and pension numbers, account
/// and order numbers.
const IDENTIFIER_LABELS: &[&str] = &[
    "account",
    "inn",
    "invoice",
    "isbn",
    "ogrn",
    "order",
    "snils",
    "tracking",
    "бик",
    "инн",
    "кпп",
    "огрн",
    "огрнип",
    "окато",
    "окпо",
    "октмо",
    "паспорт",
    "паспорта",
    "снилс",
    "счет",
    "счета",
];

/// Whether the number at `start` follows a label such as `ИНН` (`ИНН
/// 7707083893`, `INN: 7707083893`). The normalised text is in lower case,
/// without diacritics (`счёт` reads `счет`).
fn labelled_as_identifier(text: &str, start: usize) -> bool {
    let before =
        text[..start].trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '#'));
    let label_start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphabetic())
        .last()
        .map_or(before.len(), |(i, _)| i);
    IDENTIFIER_LABELS.contains(&&before[label_start..])
}

/// Whether the match stands alone: a number inside a URL, an identifier or
/// a word is not a telephone number.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let glued = |c: char| c.is_alphanumeric() || matches!(c, '/' | '=' | '_' | '-' | '&' | '#');
    !before.is_some_and(glued) && !after.is_some_and(glued)
}

impl ContactDetection {
    pub(crate) fn check(&self, norm: &NormText) -> Option<Finding> {
        let mut spans = Vec::new();
        let mut kinds = Vec::new();
        if self.emails {
            let before = spans.len();
            for link in email_finder().links(&norm.text) {
                spans.extend(norm.original_span(link.start()..link.end()));
            }
            if spans.len() > before {
                kinds.push("an e-mail address");
            }
        }
        if self.phones {
            let before = spans.len();
            for m in PHONE_CANDIDATE.find_iter(&norm.text) {
                if looks_like_phone(m.as_str())
                    && stands_alone(&norm.text, m.start(), m.end())
                    && !labelled_as_identifier(&norm.text, m.start())
                {
                    spans.extend(norm.original_span(m.start()..m.end()));
                }
            }
            if spans.len() > before {
                kinds.push("a telephone number");
            }
        }
        (!spans.is_empty()).then(|| Finding {
            reason: format!("contains {}", kinds.join(" and ")),
            spans,
        })
    }
}

/// Length bounds, in characters of the trimmed body.
#[derive(Debug, Clone, PartialEq)]
pub struct LengthLimits {
    pub min: Option<usize>,
    pub max: Option<usize>,
}

impl LengthLimits {
    pub fn check(&self, body: &str) -> Option<Finding> {
        let length = body.trim().chars().count();
        if let Some(min) = self.min.filter(|&min| length < min) {
            return Some(Finding {
                reason: format!("{length} characters, fewer than {min}"),
                spans: Vec::new(),
            });
        }
        self.max.filter(|&max| length > max).map(|max| Finding {
            reason: format!("{length} characters, more than {max}"),
            spans: Vec::new(),
        })
    }
}

/// Too many comments from one author in a period.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorRateLimit {
    /// Comments the author may already have posted in the window.
    pub max: usize,
    pub window_seconds: u64,
}

impl AuthorRateLimit {
    /// `recent` holds the times (Unix microseconds) of the author's recent
    /// comments, any order.
    pub fn check(&self, now_micros: u64, recent: &[u64]) -> Option<Finding> {
        let since = now_micros.saturating_sub(self.window_seconds.saturating_mul(1_000_000));
        let count = recent.iter().filter(|&&t| t >= since).count();
        (count >= self.max).then(|| Finding {
            reason: format!(
                "the author already posted {count} comments in the last {}s (limit {})",
                self.window_seconds, self.max
            ),
            spans: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(body: &str, finding: Option<Finding>) -> Vec<String> {
        finding
            .map(|f| {
                f.spans
                    .iter()
                    .map(|&(s, e)| body[s as usize..e as usize].to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn links_are_counted_and_domains_checked() {
        let limits = LinkLimits {
            max: Some(1),
            allow_domains: BTreeSet::from(["example.org".to_owned()]),
            block_domains: BTreeSet::from(["bit.ly".to_owned()]),
            block_disguised: false,
        };
        let body = "see https://example.org/a and www.news.ru/x";
        let norm = NormText::new(body);
        assert_eq!(limits.check(&find_links(body, &norm)), None);
        let body = "a.com b.com https://c.com/x";
        let norm = NormText::new(body);
        assert_eq!(
            texts(body, limits.check(&find_links(body, &norm))),
            ["a.com", "b.com", "https://c.com/x"]
        );
        let body = "click https://sub.bit.ly/xyz";
        let norm = NormText::new(body);
        let finding = limits.check(&find_links(body, &norm)).unwrap();
        assert!(finding.reason.contains("bit.ly"), "{}", finding.reason);
    }

    #[test]
    fn links_in_full_width_or_with_invisible_characters_are_disguised() {
        let limits = LinkLimits {
            max: None,
            allow_domains: BTreeSet::new(),
            block_domains: BTreeSet::new(),
            block_disguised: true,
        };
        for body in [
            "book at ｗｗｗ．ｖｉｓａｆａｓｔ．ｃｏｍ today",
            "help: visa\u{200b}-help\u{200b}.\u{200b}ru",
            "see 𝐯𝐢𝐬𝐚𝐟𝐚𝐬𝐭.𝐜𝐨𝐦",
        ] {
            let norm = NormText::new(body);
            let finding = limits.check(&find_links(body, &norm));
            assert_eq!(texts(body, finding).len(), 1, "{body}");
        }
        for body in [
            "see https://www.reuters.com/world and президент.рф",
            "café.fr and https://example.org/naïve",
        ] {
            let norm = NormText::new(body);
            assert_eq!(limits.check(&find_links(body, &norm)), None, "{body}");
        }
    }

    #[test]
    fn shouting_needs_enough_letters() {
        let limit = CapitalsLimit {
            max_share: 0.7,
            min_letters: 10,
        };
        let check = |t: &str| limit.check(&NormText::new(t));
        assert!(check("THIS IS OUTRAGEOUS AND WRONG").is_some());
        assert!(check("ЭТО ВОЗМУТИТЕЛЬНО И НЕПРАВИЛЬНО").is_some());
        assert!(check("USA and UK").is_none());
        assert!(check("OK").is_none());
    }

    #[test]
    fn repetition_reports_the_run() {
        let body = "wow!!!!!!!!!!!! ok";
        let norm = NormText::new(body);
        let limit = RepeatedCharsLimit { max_run: 9 };
        assert_eq!(texts(body, limit.check(&norm)), ["!!!!!!!!!!!!"]);
        let body = "buy buy buy buy buy buy now";
        let norm = NormText::new(body);
        let limit = RepeatedWordsLimit { max_repeats: 4 };
        assert_eq!(texts(body, limit.check(&norm)), ["buy buy buy buy buy buy"]);
        let body = "cheap flights cheap flights cheap flights cheap flights cheap flights";
        assert_eq!(texts(body, limit.check(&NormText::new(body))), [body]);
        let body = "no, no, no, I said no";
        assert!(limit.check(&NormText::new(body)).is_none());
    }

    #[test]
    fn phones_are_told_from_amounts() {
        let detect = ContactDetection {
            emails: true,
            phones: true,
        };
        for phone in [
            "+7 (912) 345-67-89",
            "8-800-555-35-35",
            "(555) 123-4567",
            "89123456789",
            "8 916 000 11 22",
            "+44 20 7946 0958",
        ] {
            let body = format!("call {phone} now");
            assert_eq!(texts(&body, detect.check(&NormText::new(&body))), [phone]);
        }
        for innocent in [
            "1 000 000 rubles",
            "in 2024-2025",
            "flight 455",
            "5000 рублей",
            "https://news.example/2025-02-27/talks",
            "on 2025-02-27",
            "on 27-02-2025",
            "ISBN 978-0-14-044913-6",
            "ISBN 978-5-17-118366-1",
            "ISBN 978-5-3891-2345-8",
            "population 146 150 789",
            "По ИНН 7707083893 можно проверить",
            "INN: 7707083893",
            "счёт 7707083893",
            "score 3:1, attendance 45 000",
        ] {
            assert!(
                detect.check(&NormText::new(innocent)).is_none(),
                "{innocent}"
            );
        }
        let body = "write to ivan@mail.ru";
        assert_eq!(
            texts(body, detect.check(&NormText::new(body))),
            ["ivan@mail.ru"]
        );
    }

    #[test]
    fn emoji_floods_are_counted() {
        let limit = EmojiLimit { max_count: 3 };
        assert!(limit.check("nice 👍").is_none());
        assert!(limit.check("😂😂😂😂 lol").is_some());
        assert!(limit.check("1234 # *").is_none());
        assert!(limit.check("🇷🇺🇺🇸🇷🇺 flags").is_none());
        assert!(limit.check("🇷🇺🇺🇸🇷🇺🇺🇸 flags").is_some());
    }

    #[test]
    fn author_rate_counts_the_window() {
        let limit = AuthorRateLimit {
            max: 2,
            window_seconds: 60,
        };
        let now = 1_000_000_000;
        assert!(limit.check(now, &[now - 1_000_000]).is_none());
        assert!(
            limit
                .check(now, &[now - 1_000_000, now - 2_000_000])
                .is_some()
        );
        assert!(
            limit
                .check(now, &[now - 61_000_000, now - 2_000_000])
                .is_none()
        );
    }
}
