//! Term lists: the syntax of a term, its expansion into patterns, and the
//! one-pass matcher that finds every term of every rule in a text.
//!
//! # Term syntax
//!
//! * `word`: the whole word only (`ass` matches "ass" but not "assassin").
//! * `stem*`: a word starting with the stem (`fuck*`: "fucking").
//! * `*end`: a word ending with it; `*part*`: anywhere, even inside a word.
//! * `{a,b,}`: alternatives, the empty one included (`cock{,s}`).
//! * `{@name}`: the alternatives of the set `name` from the rule file's
//!   `[sets]` table (a list of Russian verb prefixes, say).
//! * Spaces separate the words of a phrase (`kill yourself`); a phrase also
//!   matches its words run together (`killyourself`).
//!
//! Terms are rendered exactly as text is (see [`super::text`]), so `ass`
//! becomes the symbols `a s` with a run of at least two `s`, and every
//! obfuscation the text renderer undoes is undone for every term. Russian
//! terms also yield their Latin transliterations (`блядь` → `blyad`, `bljad`…)
//! unless the rule turns that off.
//!
//! # Matching
//!
//! All patterns of all rules go into one Aho–Corasick automaton searched once
//! per stream (overlapping matches, so a longer term cannot hide a shorter
//! one). Each match is then checked for word boundaries and run lengths.
//! Masked variants (`f*ck`) live in a second automaton, searched only when the
//! text contains a mask.

use std::collections::{BTreeMap, HashMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::fold::{Sym, transliterations};
use super::text::{Elem, NormText, Stream, Streams, render_term};

/// Most patterns one term may expand to.
pub const MAX_EXPANSIONS_PER_TERM: usize = 512;
/// Most transliterations generated for one Russian pattern.
const MAX_TRANSLITERATIONS: usize = 16;
/// Shortest transliteration generated (`huy` from `хуй`)…
const MIN_TRANSLITERATION_LETTERS: usize = 3;
/// …and for a stem or fragment (`zaeb*` from `заеб*`).
const MIN_OPEN_TRANSLITERATION_LETTERS: usize = 4;
/// Transliterated words shorter than this count only in Russian context:
/// `hui` and `huy` are names. (`suka`, Indonesian for "to like", is handled by
/// exceptions in the rule file.)
const MIN_CONTEXT_FREE_TRANSLITERATION: usize = 4;
/// Masked variants are generated for patterns of this many symbols and more…
const MIN_MASKED_LEN: usize = 3;
/// …and at most this many.
const MAX_MASKED_LEN: usize = 16;
/// Most spans reported per rule and text.
pub const MAX_SPANS_PER_RULE: usize = 32;

/// Why a term was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermError {
    #[error("is empty")]
    Empty,
    #[error("has '*' inside; wildcards are allowed only at the start or the end")]
    InnerWildcard,
    #[error("has an unclosed '{{'")]
    UnclosedBrace,
    #[error("has a '}}' without a matching '{{'")]
    UnopenedBrace,
    #[error("nests braces, which the term syntax does not allow")]
    NestedBrace,
    #[error("refers to the set '{0}', which the [sets] table does not define")]
    UnknownSet(String),
    #[error("expands to more than {MAX_EXPANSIONS_PER_TERM} alternatives")]
    TooManyExpansions,
    #[error("has no letters or digits to match")]
    NothingToMatch,
    #[error("contains {0:?}, which is outside the Latin and Cyrillic alphabets the matcher reads")]
    UnsupportedCharacter(char),
    #[error("contains {0:?}, which text matching treats as a masked letter")]
    MaskCharacter(char),
}

/// A parsed term: its anchoring and the texts it expands to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The term as written, for explanations.
    pub display: String,
    /// The match must start at a word start.
    pub anchored_start: bool,
    /// The match must end at a word end.
    pub anchored_end: bool,
    pub expansions: Vec<String>,
}

impl Term {
    pub fn parse(raw: &str, sets: &BTreeMap<String, Vec<String>>) -> Result<Term, TermError> {
        let display = raw.trim();
        if display.is_empty() {
            return Err(TermError::Empty);
        }
        let (anchored_start, rest) = match display.strip_prefix('*') {
            Some(rest) => (false, rest),
            None => (true, display),
        };
        let (anchored_end, body) = match rest.strip_suffix('*') {
            Some(body) => (false, body),
            None => (true, rest),
        };
        if body.contains('*') {
            return Err(TermError::InnerWildcard);
        }
        let expansions = expand_braces(body, sets)?;
        if expansions.iter().all(|e| e.trim().is_empty()) {
            return Err(TermError::Empty);
        }
        Ok(Term {
            display: display.to_owned(),
            anchored_start,
            anchored_end,
            expansions,
        })
    }
}

fn expand_braces(
    body: &str,
    sets: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>, TermError> {
    let mut results = vec![String::new()];
    let mut rest = body;
    while !rest.is_empty() {
        let open = rest.find(['{', '}']);
        let literal_end = open.unwrap_or(rest.len());
        for r in &mut results {
            r.push_str(&rest[..literal_end]);
        }
        rest = &rest[literal_end..];
        if rest.is_empty() {
            break;
        }
        if rest.starts_with('}') {
            return Err(TermError::UnopenedBrace);
        }
        let close = rest.find('}').ok_or(TermError::UnclosedBrace)?;
        let inside = &rest[1..close];
        if inside.contains('{') {
            return Err(TermError::NestedBrace);
        }
        let alternatives: Vec<&str> = match inside.strip_prefix('@') {
            Some(name) => sets
                .get(name.trim())
                .ok_or_else(|| TermError::UnknownSet(name.trim().to_owned()))?
                .iter()
                .map(String::as_str)
                .collect(),
            None => inside.split(',').collect(),
        };
        if results.len() * alternatives.len() > MAX_EXPANSIONS_PER_TERM {
            return Err(TermError::TooManyExpansions);
        }
        results = results
            .iter()
            .flat_map(|r| alternatives.iter().map(move |a| format!("{r}{}", a.trim())))
            .collect();
        rest = &rest[close + 1..];
    }
    Ok(results)
}

/// Who a pattern belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// Term `term` of rule `rule`.
    Term { rule: u32, term: u32 },
    /// An exception of rule `rule`, or of every rule when `None`.
    Exception { rule: Option<u32> },
}

/// A pattern as the automaton sees it, plus what to verify after a match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Pattern {
    syms: Vec<u8>,
    /// Minimum run length of each symbol (0 for a mask).
    runs: Vec<u32>,
    anchored_start: bool,
    anchored_end: bool,
    /// A transliteration of a single Russian word: see [`Matcher::find`]
    /// for when it counts.
    transliterated_word: bool,
    owner: Owner,
}

/// Collects the patterns of a rule set before the automata are built.
#[derive(Debug, Default)]
pub struct MatcherBuilder {
    patterns: Vec<Pattern>,
    seen: HashSet<Pattern>,
}

impl MatcherBuilder {
    /// Adds every pattern of `term`. With `transliterate`, Russian
    /// expansions add their Latin spellings too.
    pub fn add(&mut self, term: &Term, owner: Owner, transliterate: bool) -> Result<(), TermError> {
        for expansion in &term.expansions {
            let mut texts = vec![expansion.clone()];
            if expansion.contains(' ') {
                texts.push(expansion.replace(' ', ""));
            }
            let lower = expansion.to_lowercase();
            if transliterate && lower.chars().any(|c| ('а'..='я').contains(&c) || c == 'ё') {
                texts.extend(transliterate_all(&lower));
            }
            for (k, text) in texts.iter().enumerate() {
                let rendered = render_term(text);
                if let Err(err) = check_rendered(text, &rendered) {
                    // Transliterations inherit the validity of their source;
                    // only the term as written can be wrong.
                    if k == 0 {
                        return Err(err);
                    }
                    continue;
                }
                let is_transliteration = k > 0 && !(k == 1 && expansion.contains(' '));
                let letters: usize = rendered
                    .iter()
                    .filter(|(s, _)| s.is_letter())
                    .map(|&(_, run)| run as usize)
                    .sum();
                // An open-ended transliteration of a short stem is the start
                // of too many words of other languages: `web*` from `вьеб*`.
                let open_ended = !term.anchored_start || !term.anchored_end;
                let shortest = if open_ended {
                    MIN_OPEN_TRANSLITERATION_LETTERS
                } else {
                    MIN_TRANSLITERATION_LETTERS
                };
                if is_transliteration && letters < shortest {
                    continue;
                }
                let is_phrase = rendered.iter().any(|(s, _)| *s == Sym::GAP);
                self.push(Pattern {
                    syms: rendered.iter().map(|(s, _)| s.0).collect(),
                    runs: rendered.iter().map(|&(_, r)| r).collect(),
                    anchored_start: term.anchored_start,
                    anchored_end: term.anchored_end,
                    transliterated_word: is_transliteration && !is_phrase,
                    owner,
                });
            }
        }
        Ok(())
    }

    fn push(&mut self, pattern: Pattern) {
        if self.seen.insert(pattern.clone()) {
            self.patterns.push(pattern);
        }
    }

    pub fn build(self) -> Matcher {
        let masked: Vec<Pattern> = self
            .patterns
            .iter()
            .filter(|p| matches!(p.owner, Owner::Term { .. }))
            .flat_map(masked_variants)
            .collect();
        Matcher {
            plain: Automaton::new(self.patterns, Some(AhoCorasickKind::DFA)),
            masked: Automaton::new(masked, None),
        }
    }
}

fn check_rendered(text: &str, rendered: &[(Sym, u32)]) -> Result<(), TermError> {
    if rendered.iter().any(|(s, _)| *s == Sym::MASK) {
        let mask = text
            .chars()
            .find(|c| matches!(c, '*' | '#' | '%' | '?'))
            .unwrap_or('*');
        return Err(TermError::MaskCharacter(mask));
    }
    if rendered.iter().any(|(s, _)| *s == Sym::OTHER) {
        let bad = text
            .chars()
            .find(|c| {
                c.is_alphabetic()
                    && !c.is_ascii_alphabetic()
                    && !('а'..='я').contains(&c.to_lowercase().next().unwrap_or(*c))
                    && !matches!(c, 'ё' | 'Ё' | 'й' | 'Й')
            })
            .unwrap_or('?');
        return Err(TermError::UnsupportedCharacter(bad));
    }
    if rendered.iter().all(|(s, _)| *s == Sym::GAP) {
        return Err(TermError::NothingToMatch);
    }
    Ok(())
}

/// Latin spellings of a lower-case Russian text, most common first: each
/// spelling is ranked by how far down each letter's list of spellings it
/// went, and only the best ranked are kept.
fn transliterate_all(text: &str) -> Vec<String> {
    const BEAM: usize = 256;
    let mut results = vec![(String::new(), 0usize)];
    for c in text.chars() {
        let options = transliterations(c);
        if options.is_empty() {
            for (r, _) in &mut results {
                r.push(c);
            }
            continue;
        }
        let mut next = Vec::with_capacity(results.len() * options.len());
        for (r, rank) in &results {
            for (k, option) in options.iter().enumerate() {
                next.push((format!("{r}{option}"), rank + k));
            }
        }
        next.sort_by_key(|&(_, rank)| rank);
        next.truncate(BEAM);
        results = next;
    }
    results.truncate(MAX_TRANSLITERATIONS);
    results.into_iter().map(|(r, _)| r).collect()
}

/// `fuck` → `f*ck`, `fu*k`, `f*k`: one run of masks standing for the inner
/// letters, first and last letter kept. A variant keeps at least as many
/// letters as it hides, less one: `b***h` is `bitch`, but `p*g` (a digit
/// reads as a mask: `p1g`) is not `phuking`.
fn masked_variants(pattern: &Pattern) -> Vec<Pattern> {
    let n = pattern.syms.len();
    if !(MIN_MASKED_LEN..=MAX_MASKED_LEN).contains(&n) || pattern.syms.contains(&Sym::GAP.0) {
        return Vec::new();
    }
    let telling = |hidden: usize| hidden <= n - hidden + 1;
    let mut variants = Vec::new();
    if !pattern.anchored_start {
        // A fragment whose first letter is masked inside a word: `о*уели`.
        for j in (1..n - 1).filter(|&j| telling(j)) {
            let mut syms = vec![Sym::MASK.0];
            syms.extend_from_slice(&pattern.syms[j..]);
            let mut runs = vec![0];
            runs.extend_from_slice(&pattern.runs[j..]);
            variants.push(Pattern {
                syms,
                runs,
                ..pattern.clone()
            });
        }
    }
    if pattern.anchored_start && !pattern.anchored_end {
        // A stem whose end is masked along with the ending: `пи**ец`, `sh**`.
        for i in (2..n).filter(|&i| telling(n - i)) {
            let mut syms = pattern.syms[..i].to_vec();
            syms.push(Sym::MASK.0);
            let mut runs = pattern.runs[..i].to_vec();
            runs.push(0);
            variants.push(Pattern {
                syms,
                runs,
                ..pattern.clone()
            });
        }
    }
    for i in 1..n - 1 {
        for j in (i + 1..n).filter(|&j| telling(j - i)) {
            let mut syms = pattern.syms[..i].to_vec();
            syms.push(Sym::MASK.0);
            syms.extend_from_slice(&pattern.syms[j..]);
            let mut runs = pattern.runs[..i].to_vec();
            runs.push(0);
            runs.extend_from_slice(&pattern.runs[j..]);
            variants.push(Pattern {
                syms,
                runs,
                ..pattern.clone()
            });
        }
    }
    variants
}

/// What to verify once the automaton reports a pattern. Kept small, with
/// the run lengths of all patterns in one buffer: a rule set compiles to
/// hundreds of thousands of patterns.
#[derive(Debug, Clone, Copy)]
struct Check {
    /// Where the pattern's minimum run lengths start in [`Automaton::runs`];
    /// one per symbol of the pattern.
    runs_at: u32,
    len: u32,
    anchored_start: bool,
    anchored_end: bool,
    transliterated_word: bool,
    owner: Owner,
}

#[derive(Debug)]
struct Automaton {
    ac: Option<AhoCorasick>,
    checks: Vec<Check>,
    /// Minimum run length of each symbol of each pattern. A term asking for
    /// a letter more than 255 times in a row asks for 255.
    runs: Vec<u8>,
}

impl Automaton {
    fn new(patterns: Vec<Pattern>, kind: Option<AhoCorasickKind>) -> Self {
        let build = |kind| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(patterns.iter().map(|p| &p.syms))
        };
        // A DFA is fastest but can outgrow its limits on huge rule sets; the
        // builder's own choice always succeeds for valid patterns.
        let ac = if patterns.is_empty() {
            None
        } else {
            build(kind).or_else(|_| build(None)).ok()
        };
        let mut runs = Vec::with_capacity(patterns.iter().map(|p| p.runs.len()).sum());
        let checks = patterns
            .iter()
            .map(|p| {
                let runs_at = runs.len() as u32;
                runs.extend(p.runs.iter().map(|&r| u8::try_from(r).unwrap_or(u8::MAX)));
                Check {
                    runs_at,
                    len: p.runs.len() as u32,
                    anchored_start: p.anchored_start,
                    anchored_end: p.anchored_end,
                    transliterated_word: p.transliterated_word,
                    owner: p.owner,
                }
            })
            .collect();
        Automaton { ac, checks, runs }
    }

    fn find(&self, stream: &Stream, words: &mut WordExtents, work: &mut u64, hits: &mut Vec<Hit>) {
        let Some(ac) = &self.ac else { return };
        for m in ac.find_overlapping_iter(&stream.hay) {
            *work += 1;
            let pattern = &self.checks[m.pattern().as_usize()];
            let runs = &self.runs[pattern.runs_at as usize..][..pattern.len as usize];
            let (start, end) = (m.start(), m.end());
            if pattern.anchored_start && !stream.word_starts_at(start) {
                continue;
            }
            if pattern.anchored_end && !stream.word_ends_after(end - 1) {
                continue;
            }
            if !runs_fit(&stream.elems[start..end], runs, pattern.anchored_end) {
                continue;
            }

            // Highlight the whole word (up to whitespace) a stem or fragment
            // was found in: `m-o-t-h-e-r-f-u-c-k-e-r`, not just `f-u-c-k`.
            let (first, last) = (
                words.of(stream, start).0 as usize,
                words.of(stream, end - 1).1 as usize,
            );
            // A capitalised word in mid-sentence that merely contains a term
            // (Dikshit, Slutsk, Хуйтэн) is a proper name; so is a capitalised
            // transliteration (James Gandon, Huy).
            let name_like = stream.elems[first].name_like;
            let partial_word = first < start || last + 1 > end;
            if name_like && (partial_word || pattern.transliterated_word) {
                continue;
            }
            hits.push(Hit {
                owner: pattern.owner,
                transliterated_word: pattern.transliterated_word,
                short: last + 1 - first < MIN_CONTEXT_FREE_TRANSLITERATION,
                elems: start..end,
                span: (stream.elems[first].start, stream.elems[last].end),
            });
        }
    }
}

/// For each symbol of a stream, the first and last symbol of its word (words
/// end at gaps). Computed at the first verified match only: most texts have
/// none.
#[derive(Debug, Default)]
struct WordExtents {
    extents: Vec<(u32, u32)>,
    ready: bool,
}

impl WordExtents {
    fn forget(&mut self) {
        self.ready = false;
    }

    fn of(&mut self, stream: &Stream, i: usize) -> (u32, u32) {
        if !self.ready {
            word_extents(stream, &mut self.extents);
            self.ready = true;
        }
        self.extents[i]
    }
}

fn word_extents(stream: &Stream, extents: &mut Vec<(u32, u32)>) {
    extents.clear();
    extents.resize(stream.hay.len(), (0, 0));
    let mut start = 0;
    for i in 0..=stream.hay.len() {
        let at_end = i == stream.hay.len() || stream.hay[i] == Sym::GAP.0;
        if !at_end {
            continue;
        }
        if start < i {
            let last = (i - 1) as u32;
            for extent in &mut extents[start..i] {
                *extent = (start as u32, last);
            }
        }
        start = i + 1;
    }
}

/// Exception matches of one owner, sorted by start, with the largest end so
/// far: whether a range overlaps any of them is a binary search.
#[derive(Debug, Default)]
struct ExceptionRanges {
    starts: Vec<usize>,
    max_end_so_far: Vec<usize>,
}

impl ExceptionRanges {
    fn new(mut ranges: Vec<std::ops::Range<usize>>) -> Self {
        ranges.sort_unstable_by_key(|r| r.start);
        let mut max_end = 0;
        let max_end_so_far = ranges
            .iter()
            .map(|r| {
                max_end = max_end.max(r.end);
                max_end
            })
            .collect();
        ExceptionRanges {
            starts: ranges.iter().map(|r| r.start).collect(),
            max_end_so_far,
        }
    }

    fn overlaps(&self, range: &std::ops::Range<usize>) -> bool {
        let before_end = self.starts.partition_point(|&s| s < range.end);
        before_end > 0 && self.max_end_so_far[before_end - 1] > range.start
    }
}

/// Whether the letter runs of a match fit the pattern's. A run may be longer
/// than the pattern's (stretched letters), except that the last letter of a
/// whole-word pattern may not be doubled: `assess` is not `asses`, while
/// `assesss` still is.
fn runs_fit(elems: &[Elem], runs: &[u8], anchored_end: bool) -> bool {
    let last = runs.len().saturating_sub(1);
    elems.iter().zip(runs).enumerate().all(|(i, (elem, &min))| {
        let min = u32::from(min);
        if elem.run < min {
            return false;
        }
        !(anchored_end && i == last && min == 1 && elem.run == 2)
    })
}

/// A verified match in one stream.
#[derive(Debug, Clone)]
struct Hit {
    owner: Owner,
    transliterated_word: bool,
    /// In a word too short to count without Russian context.
    short: bool,
    elems: std::ops::Range<usize>,
    span: (u32, u32),
}

/// A term of a rule found in a text, with its span in the original body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TermHit {
    pub rule: u32,
    pub start: u32,
    pub end: u32,
    pub term: u32,
}

/// The compiled patterns of every term rule of a rule set.
#[derive(Debug)]
pub struct Matcher {
    plain: Automaton,
    masked: Automaton,
}

impl Matcher {
    pub fn pattern_count(&self) -> usize {
        self.plain.checks.len() + self.masked.checks.len()
    }

    /// Every term hit not cancelled by an exception, sorted and without
    /// duplicates. `work` counts the automaton matches examined.
    pub fn find(&self, norm: &NormText, streams: &Streams, work: &mut u64) -> Vec<TermHit> {
        let mut found = Vec::new();
        let mut hits = Vec::new();
        let mut words = WordExtents::default();
        for stream in streams.all() {
            hits.clear();
            words.forget();
            self.plain.find(stream, &mut words, work, &mut hits);
            if stream.contains_mask() {
                self.masked.find(stream, &mut words, work, &mut hits);
            }
            // Short transliterations are words or names of other languages
            // often enough (Hui Ka Yan, Indonesian `suka`) that outside
            // Russian context they count only when several occur together:
            // `cyka blyat`.
            let short_hit = hits.iter().any(|h| h.transliterated_word && h.short);
            if short_hit {
                let transliterated: HashSet<(u32, u32)> = hits
                    .iter()
                    .filter(|h| h.transliterated_word && matches!(h.owner, Owner::Term { .. }))
                    .map(|h| h.span)
                    .collect();
                if transliterated.len() < 2 && !streams.russian_context(norm) {
                    hits.retain(|h| !(h.transliterated_word && h.short));
                }
            }
            let mut by_owner: HashMap<Option<u32>, Vec<std::ops::Range<usize>>> = HashMap::new();
            for hit in &hits {
                if let Owner::Exception { rule } = hit.owner {
                    by_owner.entry(rule).or_default().push(hit.elems.clone());
                }
            }
            let exceptions: HashMap<Option<u32>, ExceptionRanges> = by_owner
                .into_iter()
                .map(|(owner, ranges)| (owner, ExceptionRanges::new(ranges)))
                .collect();
            let cancels = |owner: Option<u32>, range: &std::ops::Range<usize>| {
                exceptions.get(&owner).is_some_and(|e| e.overlaps(range))
            };
            for hit in &hits {
                let Owner::Term { rule, term } = hit.owner else {
                    continue;
                };
                *work += 1;
                let cancelled = cancels(None, &hit.elems) || cancels(Some(rule), &hit.elems);
                if !cancelled {
                    found.push(TermHit {
                        rule,
                        term,
                        start: hit.span.0,
                        end: hit.span.1,
                    });
                }
            }
        }
        found.sort_unstable();
        found.dedup_by(|a, b| a.rule == b.rule && a.start == b.start && a.end == b.end);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(terms: &[&str], exceptions: &[&str]) -> Matcher {
        let sets = BTreeMap::from([(
            "pre".to_owned(),
            vec!["".to_owned(), "на".to_owned(), "по".to_owned()],
        )]);
        let mut builder = MatcherBuilder::default();
        for (i, t) in terms.iter().enumerate() {
            let term = Term::parse(t, &sets).unwrap();
            builder
                .add(
                    &term,
                    Owner::Term {
                        rule: 0,
                        term: i as u32,
                    },
                    true,
                )
                .unwrap();
        }
        for e in exceptions {
            let term = Term::parse(e, &sets).unwrap();
            builder
                .add(&term, Owner::Exception { rule: Some(0) }, false)
                .unwrap();
        }
        builder.build()
    }

    fn spans<'a>(m: &Matcher, text: &'a str) -> Vec<&'a str> {
        let norm = NormText::new(text);
        let streams = Streams::build(&norm);
        m.find(&norm, &streams, &mut 0)
            .iter()
            .map(|h| &text[h.start as usize..h.end as usize])
            .collect()
    }

    #[test]
    fn syntax_expands_braces_and_sets() {
        let sets = BTreeMap::from([("p".to_owned(), vec!["".to_owned(), "на".to_owned()])]);
        let term = Term::parse("{@p}хуй*", &sets).unwrap();
        assert_eq!(term.expansions, ["хуй", "нахуй"]);
        assert!(term.anchored_start && !term.anchored_end);
        assert_eq!(
            Term::parse("cock{,s}", &sets).unwrap().expansions,
            ["cock", "cocks"]
        );
        assert_eq!(Term::parse("f*ck", &sets), Err(TermError::InnerWildcard));
        assert_eq!(Term::parse("a{b", &sets), Err(TermError::UnclosedBrace));
        assert_eq!(Term::parse("ab}", &sets), Err(TermError::UnopenedBrace));
        assert_eq!(
            Term::parse("{@nope}x", &sets),
            Err(TermError::UnknownSet("nope".into()))
        );
        assert_eq!(Term::parse("  ", &sets), Err(TermError::Empty));
    }

    #[test]
    fn whole_words_prefixes_and_anywhere() {
        let m = matcher(&["ass", "cunt*", "*fuck*"], &[]);
        assert_eq!(spans(&m, "kiss my ass"), ["ass"]);
        assert!(spans(&m, "assassin in Scunthorpe, classic grass").is_empty());
        assert_eq!(spans(&m, "cunts"), ["cunts"]);
        assert_eq!(spans(&m, "motherfuckers"), ["motherfuckers"]);
    }

    #[test]
    fn obfuscations_are_seen_through_and_spans_cover_the_original() {
        let m = matcher(&["fuck", "shit"], &[]);
        assert_eq!(spans(&m, "oh f.u.c.k!"), ["f.u.c.k"]);
        assert_eq!(spans(&m, "f u c k"), ["f u c k"]);
        assert_eq!(spans(&m, "fuuuuck"), ["fuuuuck"]);
        assert_eq!(spans(&m, "ѕhit"), ["ѕhit"]);
        assert_eq!(spans(&m, "fu\u{200B}ck"), ["fu\u{200B}ck"]);
        assert_eq!(spans(&m, "𝐟𝐮𝐜𝐤"), ["𝐟𝐮𝐜𝐤"]);
        assert_eq!(spans(&m, "f*ck"), ["f*ck"]);
        assert_eq!(spans(&m, "f**k"), ["f**k"]);
        assert_eq!(spans(&m, "sh!t"), ["sh!t"]);
        assert_eq!(spans(&m, "$h1t"), ["$h1t"]);
        assert_eq!(spans(&m, "fück"), ["fück"]);
    }

    #[test]
    fn double_letters_need_their_run() {
        let m = matcher(&["ass"], &[]);
        assert!(spans(&m, "as").is_empty());
        assert_eq!(spans(&m, "aaasss"), ["aaasss"]);
    }

    #[test]
    fn russian_terms_match_prefixed_forms_lookalikes_and_transliterations() {
        let m = matcher(&["{@pre}хуй*"], &[]);
        assert_eq!(spans(&m, "иди нахуй"), ["нахуй"]);
        assert_eq!(spans(&m, "xyй"), ["xyй"]);
        assert_eq!(spans(&m, "idi nahuy"), ["nahuy"]);
        assert!(spans(&m, "застрахуй машину").is_empty());
    }

    #[test]
    fn exceptions_cancel_the_matches_they_cover() {
        let m = matcher(&["shit*"], &["shi{,i}take*"]);
        assert!(spans(&m, "shiitake mushrooms").is_empty());
        assert_eq!(spans(&m, "shitty"), ["shitty"]);
    }

    #[test]
    fn phrases_match_across_gaps_and_run_together() {
        let m = matcher(&["kill yourself"], &[]);
        assert_eq!(spans(&m, "go kill   yourself"), ["kill   yourself"]);
        assert_eq!(spans(&m, "killyourself"), ["killyourself"]);
        assert!(spans(&m, "kill them yourself").is_empty());
    }
}
