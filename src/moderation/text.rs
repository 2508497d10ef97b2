//! From a comment body to what the rules read.
//!
//! Two views are built, both mapping every position back to bytes of the
//! original body:
//!
//! * [`NormText`], the normalised text: compatibility decomposition (NFKD, so
//!   fullwidth and mathematical letters become plain ones), combining marks
//!   and invisible format characters dropped, lower case. Regular expressions,
//!   link and contact detection read it.
//! * [`Stream`], what term patterns are matched against: one symbol per
//!   letter (see [`Sym`]) with lookalikes, leetspeak and masks folded, runs of
//!   a repeated letter squeezed into one symbol that remembers the run length,
//!   separators inside a word (`f.u.c.k`) removed but remembered as soft word
//!   boundaries, whitespace turned into a single gap symbol.
//!
//! Words of one letter in a row (`f u c k`) are glued into one word; words of
//! two or more letters never are, so neighbouring ordinary words cannot merge
//! into a term.

use std::sync::LazyLock;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use unicode_properties::{GeneralCategoryGroup, UnicodeEmoji, UnicodeGeneralCategory};

use super::fold::{
    self, Sym, is_cyrillic, is_leet_symbol, is_russian, latin_lookalike, latin_to_russian,
    leet_latin, leet_needs_letters_on_both_sides, leet_russian, merge_latin, other_to_russian,
};

/// A character of the normalised text: where it came from and how it takes
/// part in words.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NormChar {
    /// Byte offset of the character in [`NormText::text`].
    pub at: u32,
    /// Byte range in the original body.
    pub start: u32,
    pub end: u32,
    /// Whether the original character was upper case.
    pub upper: bool,
    info: CharInfo,
}

/// A normalised character reads as its classification.
impl NormChar {
    /// A letter or a digit.
    pub fn is_alphanumeric(&self) -> bool {
        self.info.flags & flags::SOLID != 0
    }

    /// A letter with case.
    pub fn is_cased(&self) -> bool {
        self.info.flags & flags::CASED != 0
    }
}

impl std::ops::Deref for NormChar {
    type Target = CharInfo;

    fn deref(&self) -> &CharInfo {
        &self.info
    }
}

/// The normalised text and, for each of its characters, its origin and how
/// it takes part in words.
#[derive(Debug, Default, Clone)]
pub(crate) struct NormText {
    pub text: String,
    /// One per character of `text`.
    pub chars: Vec<NormChar>,
}

/// Characters that render as nothing: dropped before matching.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    ) || (!c.is_ascii()
        && c.general_category_group() == GeneralCategoryGroup::Other
        && !c.is_control())
}

/// How one character normalises, precomputed for code points below
/// [`TABLE_LIMIT`].
#[derive(Debug, Clone, Copy)]
enum Normalised {
    /// Invisible or a combining mark.
    Drop,
    /// Up to three characters.
    Chars {
        chars: [char; 3],
        len: u8,
        upper: bool,
    },
    /// More than three: computed each time.
    Slow,
}

static NORMALISED: LazyLock<Box<[Normalised]>> = LazyLock::new(|| {
    (0..TABLE_LIMIT as u32)
        .map(|u| {
            let Some(c) = char::from_u32(u) else {
                return Normalised::Slow;
            };
            let mut out = NormText::default();
            match normalise_char(c, &mut out) {
                None => Normalised::Drop,
                Some(upper) => {
                    let mut chars = ['\0'; 3];
                    let mut len = 0;
                    for n in out.text.chars() {
                        if len == 3 {
                            return Normalised::Slow;
                        }
                        chars[len] = n;
                        len += 1;
                    }
                    Normalised::Chars {
                        chars,
                        len: len as u8,
                        upper,
                    }
                }
            }
        })
        .collect()
});

/// Writes the normalised form of a non-ASCII character into `out` and says
/// whether it was upper case; `None` when it is dropped.
fn normalise_char(c: char, out: &mut NormText) -> Option<bool> {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase(), 0, 0, c.is_ascii_uppercase());
        return Some(c.is_ascii_uppercase());
    }
    if is_invisible(c) || is_combining_mark(c) {
        return None;
    }
    let upper = c.is_uppercase();
    let lower = c.to_lowercase().next().unwrap_or(c);
    if fold::keeps_its_shape(c) || fold::keeps_its_shape(lower) {
        out.push(lower, 0, 0, upper);
        return Some(upper);
    }
    if let Some(letter) = fold::enclosed_latin_capital(c) {
        out.push(letter, 0, 0, true);
        return Some(true);
    }
    decompose_compatible(c, |d| {
        if is_combining_mark(d) || is_invisible(d) {
            return;
        }
        for lower in d.to_lowercase() {
            if is_combining_mark(lower) {
                continue;
            }
            match expand_ligature(lower) {
                Some(letters) => {
                    for l in letters.chars() {
                        out.push(l, 0, 0, upper);
                    }
                }
                None => out.push(lower, 0, 0, upper),
            }
        }
    });
    Some(upper)
}

/// Letters drawn with ASCII symbols: `|/|` for и, `|\\|` for n, `}|{` for ж.
/// Only drawings of three symbols or more, which ordinary text does not
/// contain. They are read in the normalised text, wherever they occur (also
/// drawn with invisible characters between the strokes, or fullwidth
/// ones), so normalising is idempotent.
const ASCII_ART_LETTERS: &[(&str, char)] = &[
    ("|\\/|", 'm'),
    ("|/|", 'и'),
    ("|\\|", 'n'),
    ("}|{", 'ж'),
    ("|_|", 'u'),
    ("|-|", 'h'),
];

/// The letter drawn at `at`, and the bytes the drawing takes.
fn ascii_art_letter(body: &str, at: usize) -> Option<(char, usize)> {
    let rest = &body[at..];
    if !rest.starts_with(['|', '}']) {
        return None;
    }
    ASCII_ART_LETTERS
        .iter()
        .find(|(art, _)| rest.starts_with(art))
        .map(|&(art, letter)| (letter, art.len()))
}

/// Letters without a decomposition that read as more than one letter.
fn expand_ligature(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'đ' | 'ð' => "d",
        'ł' => "l",
        'ı' => "i",
        'þ' => "th",
        'ħ' => "h",
        'ŧ' => "t",
        _ => return None,
    })
}

impl NormText {
    pub fn new(body: &str) -> Self {
        let mut text = NormText::default();
        text.fill(body);
        text
    }

    /// Appends the normalised form of `c`, found at `start..end` of the body.
    fn push_normalised(&mut self, c: char, start: usize, end: usize) {
        if let Some(entry) = NORMALISED.get(c as usize) {
            match *entry {
                Normalised::Drop => self.extend_previous(start, end),
                Normalised::Chars { chars, len, upper } => {
                    for &n in &chars[..usize::from(len)] {
                        self.push(n, start, end, upper);
                    }
                }
                Normalised::Slow => self.push_normalised_slowly(c, start, end),
            }
            return;
        }
        self.push_normalised_slowly(c, start, end);
    }

    /// A combining mark or invisible character belongs to the character
    /// before it: a span ending there takes it along.
    fn extend_previous(&mut self, start: usize, end: usize) {
        if let Some(last) = self.chars.last_mut().filter(|o| o.end as usize == start) {
            last.end = end as u32;
        }
    }

    fn push_normalised_slowly(&mut self, c: char, start: usize, end: usize) {
        let mut out = NormText::default();
        match normalise_char(c, &mut out) {
            None => self.extend_previous(start, end),
            Some(upper) => {
                for n in out.text.chars() {
                    self.push(n, start, end, upper);
                }
            }
        }
    }

    pub fn fill(&mut self, body: &str) {
        self.text.clear();
        self.chars.clear();
        self.text.reserve(body.len());
        self.chars.reserve(body.len());
        let bytes = body.as_bytes();
        let table = CharInfo::table();
        let mut at = 0;
        while at < bytes.len() {
            // Plain ASCII, the common case, needs no decoding: a whole run
            // of it is copied and classified at once.
            let ascii = bytes[at..].iter().take_while(|b| b.is_ascii()).count();
            if ascii > 0 {
                let base = self.text.len();
                self.text.push_str(&body[at..at + ascii]);
                self.text[base..].make_ascii_lowercase();
                let text = &self.text.as_bytes()[base..];
                self.chars
                    .extend(bytes[at..at + ascii].iter().zip(text).enumerate().map(
                        |(k, (&byte, &lower))| NormChar {
                            at: (base + k) as u32,
                            start: (at + k) as u32,
                            end: (at + k) as u32 + 1,
                            upper: byte.is_ascii_uppercase(),
                            info: table[usize::from(lower)],
                        },
                    ));
                at += ascii;
                continue;
            }
            let Some(c) = body[at..].chars().next() else {
                break;
            };
            let end = at + c.len_utf8();
            self.push_normalised(c, at, end);
            at = end;
        }
        if memchr::memchr2(b'|', b'}', self.text.as_bytes()).is_some() {
            self.read_ascii_art();
        }
    }

    /// Replaces the letters drawn with symbols by the letters, each spanning
    /// the original bytes of its strokes.
    fn read_ascii_art(&mut self) {
        let text = std::mem::take(&mut self.text);
        let chars = std::mem::take(&mut self.chars);
        self.text.reserve(text.len());
        self.chars.reserve(chars.len());
        let mut i = 0;
        while i < chars.len() {
            let at = chars[i].at as usize;
            // The strokes are ASCII: one byte and one character each.
            if let Some((letter, strokes)) = ascii_art_letter(&text, at) {
                let (start, end) = (chars[i].start, chars[i + strokes - 1].end);
                self.push(letter, start as usize, end as usize, false);
                i += strokes;
                continue;
            }
            let c = text[at..].chars().next().unwrap_or('\u{FFFD}');
            self.chars.push(NormChar {
                at: self.text.len() as u32,
                ..chars[i]
            });
            self.text.push(c);
            i += 1;
        }
    }

    #[inline(always)]
    fn push(&mut self, c: char, start: usize, end: usize, upper: bool) {
        self.chars.push(NormChar {
            at: self.text.len() as u32,
            start: start as u32,
            end: end as u32,
            upper,
            info: CharInfo::of(c),
        });
        self.text.push(c);
    }

    /// The byte range of the original body behind `range` of the normalised
    /// text. `range` must lie on character boundaries of the normalised text.
    pub fn original_span(&self, range: std::ops::Range<usize>) -> Option<(u32, u32)> {
        let first = self
            .chars
            .partition_point(|o| (o.at as usize) < range.start);
        let after_last = self.chars.partition_point(|o| (o.at as usize) < range.end);
        if first >= after_last {
            return None;
        }
        let start = self.chars[first].start;
        let end = self.chars[first..after_last]
            .iter()
            .map(|o| o.end)
            .max()
            .unwrap_or(start);
        Some((start, end))
    }
}

/// How a character of the normalised text takes part in a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Space,
    Letter,
    Digit,
    Leet,
    Mask,
    Separator,
}

/// Code points below this are classified and normalised through tables
/// computed once from the exact functions; rarer ones take the slow path.
const TABLE_LIMIT: usize = 0x3000;

fn classify_slowly(c: char) -> Class {
    if c.is_ascii() {
        return match c {
            'a'..='z' | 'A'..='Z' => Class::Letter,
            '0'..='9' => Class::Digit,
            '*' | '#' | '%' | '?' => Class::Mask,
            c if is_leet_symbol(c) => Class::Leet,
            c if c.is_ascii_whitespace() || c.is_ascii_control() => Class::Space,
            _ => Class::Separator,
        };
    }
    if c.is_whitespace() || c.is_control() {
        return Class::Space;
    }
    if is_leet_symbol(c) {
        return Class::Leet;
    }
    match c.general_category_group() {
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number => Class::Letter,
        GeneralCategoryGroup::Mark => Class::Separator,
        GeneralCategoryGroup::Symbol if is_pictographic(c) => Class::Mask,
        GeneralCategoryGroup::Separator => Class::Space,
        _ => Class::Separator,
    }
}

/// Emoji and other pictographs: inside a word they hide a letter (`f🤬ck`).
pub(crate) fn is_pictographic(c: char) -> bool {
    !c.is_ascii() && c.is_emoji_char() && !c.is_emoji_component()
}

/// A character of the normalised text as a word sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CharInfo {
    c: char,
    class: Class,
    /// What words need to know of the character, as bits (see `flags`):
    /// a word's properties are the union of its characters'.
    flags: u8,
    /// For a letter: its symbol read as Latin, and read as Russian (from a
    /// lower- and an upper-case original).
    latin: Sym,
    russian: Sym,
    russian_upper: Sym,
}

/// Bits of [`CharInfo::flags`].
mod flags {
    pub const LETTER: u8 = 1;
    /// A letter or a digit.
    pub const SOLID: u8 = 1 << 1;
    pub const ASCII_LATIN: u8 = 1 << 2;
    pub const RUSSIAN: u8 = 1 << 3;
    /// Cyrillic but not Russian (`ѕ`, `і`).
    pub const OTHER_CYRILLIC: u8 = 1 << 4;
    /// Neither ASCII nor Cyrillic: Greek, exotic Latin and the rest.
    pub const FOREIGN: u8 = 1 << 5;
    pub const LEET: u8 = 1 << 6;
    /// A letter with case (after lower-casing: a lower-case letter).
    pub const CASED: u8 = 1 << 7;
}

impl CharInfo {
    /// The table of every code point below [`TABLE_LIMIT`].
    fn table() -> &'static [CharInfo] {
        static TABLE: LazyLock<Box<[CharInfo]>> = LazyLock::new(|| {
            (0..TABLE_LIMIT as u32)
                .map(|u| {
                    char::from_u32(u)
                        .map_or_else(|| CharInfo::compute('\u{FFFD}'), CharInfo::compute)
                })
                .collect()
        });
        &TABLE
    }

    /// Class and letter symbols of `c`: from the table below
    /// [`TABLE_LIMIT`].
    #[inline]
    fn of(c: char) -> CharInfo {
        match Self::table().get(c as usize) {
            Some(info) => *info,
            None => CharInfo::compute(c),
        }
    }

    fn compute(c: char) -> CharInfo {
        let class = classify_slowly(c);
        let letter = class == Class::Letter;
        let script = if !letter {
            0
        } else if c.is_ascii_alphabetic() {
            flags::ASCII_LATIN
        } else if is_russian(c) {
            flags::RUSSIAN
        } else if is_cyrillic(c) {
            flags::OTHER_CYRILLIC | flags::FOREIGN
        } else {
            flags::FOREIGN
        };
        let cased = if letter && (c.is_lowercase() || c.is_uppercase()) {
            flags::CASED
        } else {
            0
        };
        let kind = cased
            | match class {
                Class::Letter => flags::LETTER | flags::SOLID,
                Class::Digit => flags::SOLID,
                Class::Leet => flags::LEET,
                _ => 0,
            };
        CharInfo {
            c,
            class,
            flags: kind | script,
            latin: if letter { latin_letter(c) } else { Sym::OTHER },
            russian: if letter {
                russian_letter(c, false)
            } else {
                Sym::OTHER
            },
            russian_upper: if letter {
                russian_letter(c, true)
            } else {
                Sym::OTHER
            },
        }
    }
}

/// A word: a run of non-space characters of the normalised text, or several
/// one-letter words glued together.
#[derive(Debug, Clone, Copy, Default)]
struct Word {
    /// Range of characters (indices into `NormText::origins`).
    start: usize,
    end: usize,
    /// Characters that become symbols.
    cores: usize,
    letters: usize,
    ascii_latin: bool,
    russian: bool,
    /// Letters neither ASCII nor Russian: other Cyrillic, Greek, exotic Latin.
    foreign: bool,
    other_cyrillic: bool,
    /// Leet symbols such as `$` stand for Latin letters: `а$$` is `ass`.
    leet_symbol: bool,
    /// Digits standing for letters (`п1зда`, `ху3сос`).
    leet_digit: bool,
    /// The word begins a sentence (or the text).
    sentence_initial: bool,
}

/// Words in capitals this short are acronyms rather than shouting.
const MAX_ACRONYM_LETTERS: usize = 4;

impl Word {
    /// Whether a word whose first letter is a capital is written as names,
    /// codes and acronyms are: in the middle of a sentence with some letter
    /// in lower case (`Dikshit`, not `FUCKING`, which is shouted) or with
    /// more digits than letters (`RA123456789RU`, not `SH1TTY`); or in
    /// capitals and short, anywhere (`ЕБРР`, `NATO`). Asked only of such
    /// words.
    fn looks_like_a_name(&self, chars: &[NormChar]) -> bool {
        let word = &chars[self.start..self.end];
        let lower_case = word.iter().any(|c| c.is_cased() && !c.upper);
        if !lower_case && (2..=MAX_ACRONYM_LETTERS).contains(&self.letters) {
            return true;
        }
        !self.sentence_initial && (lower_case || is_code(word, self.letters))
    }

    fn any_cyrillic(&self) -> bool {
        self.russian || self.other_cyrillic
    }

    fn leans_latin(&self) -> bool {
        self.ascii_latin || (self.foreign && !self.other_cyrillic) || self.leet_symbol
    }

    /// How the primary stream renders the word: Latin if it has any Latin or
    /// non-Cyrillic foreign letter, Russian if it is Cyrillic only.
    fn primary_render(&self) -> Render {
        if !self.leans_latin() && self.any_cyrillic() {
            Render::Russian
        } else {
            Render::Latin
        }
    }

    /// How the alternative stream renders the word, where the primary
    /// reading may be wrong: Russian if it has any Cyrillic letter. Digits in
    /// a word are ambiguous: in a Cyrillic word `3` is `з` by shape but `е` in
    /// leetspeak, so this stream reads them the leetspeak way; in a Latin
    /// word `4` is `a` but stands for `u` in `f4ck`, so this stream reads
    /// them as masked letters.
    fn alternative_render(&self) -> Render {
        match (self.any_cyrillic(), self.leet_digit) {
            (true, true) if self.primary_render() == Render::Russian => Render::RussianLeetDigits,
            (true, _) => Render::Russian,
            (false, true) => Render::LatinMaskedDigits,
            (false, false) => Render::Latin,
        }
    }

    fn absorb(&mut self, other: &Word) {
        self.end = other.end;
        self.cores += other.cores;
        self.letters += other.letters;
        self.ascii_latin |= other.ascii_latin;
        self.russian |= other.russian;
        self.foreign |= other.foreign;
        self.other_cyrillic |= other.other_cyrillic;
        self.leet_symbol |= other.leet_symbol;
        self.leet_digit |= other.leet_digit;
    }
}

/// Which way a word's lookalikes fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Render {
    Latin,
    Russian,
    /// Russian, reading digits as Latin leetspeak (`3` → `e` → `е`).
    RussianLeetDigits,
    /// Latin, reading digits as masked letters (`f4ck` → `f*ck`).
    LatinMaskedDigits,
}

/// One symbol of a stream and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elem {
    /// Byte range of the original body.
    pub start: u32,
    pub end: u32,
    /// How many times the symbol occurred in a row (`fuuuck`: 3 for `u`).
    pub run: u32,
    /// A separator stood between this symbol and the previous one of the
    /// same word (`f.u`), which counts as a word boundary.
    pub soft_before: bool,
    /// On the first symbol of a word: the word is capitalised in the middle
    /// of a sentence, as names are.
    pub name_like: bool,
}

/// Symbols to match term patterns against, with their origins.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stream {
    pub hay: Vec<u8>,
    pub elems: Vec<Elem>,
}

impl Stream {
    fn clear(&mut self) {
        self.hay.clear();
        self.elems.clear();
    }

    fn gap(&mut self, at: u32) {
        if matches!(self.hay.last(), Some(&b) if b != Sym::GAP.0) {
            self.hay.push(Sym::GAP.0);
            self.elems.push(Elem {
                start: at,
                end: at,
                run: 1,
                soft_before: false,
                name_like: false,
            });
        }
    }

    #[inline]
    fn push(
        &mut self,
        sym: Sym,
        start: u32,
        end: u32,
        soft_before: bool,
        word_start: Option<bool>,
    ) {
        if word_start.is_none() && self.hay.last() == Some(&sym.0) {
            if let Some(last) = self.elems.last_mut() {
                last.run = last.run.saturating_add(1);
                last.end = last.end.max(end);
                return;
            }
        }
        self.hay.push(sym.0);
        self.elems.push(Elem {
            start,
            end,
            run: 1,
            soft_before,
            name_like: word_start.unwrap_or(false),
        });
    }

    /// Whether a word starts at symbol `i`.
    pub fn word_starts_at(&self, i: usize) -> bool {
        i == 0 || self.hay[i - 1] == Sym::GAP.0 || self.elems[i].soft_before
    }

    /// Whether a word ends after symbol `i`.
    pub fn word_ends_after(&self, i: usize) -> bool {
        i + 1 >= self.hay.len() || self.hay[i + 1] == Sym::GAP.0 || self.elems[i + 1].soft_before
    }

    pub fn contains_mask(&self) -> bool {
        self.hay.contains(&Sym::MASK.0)
    }
}

/// The streams of one text: `primary` folds mixed words towards Latin,
/// `alternative` holds the words that can be read another way (towards
/// Russian, digits read the other way: see `Word::alternative_render`), each
/// on its own; it exists only when some word can.
#[derive(Debug, Default, Clone)]
pub(crate) struct Streams {
    pub primary: Stream,
    pub alternative: Option<Stream>,
    /// Whether each character of the normalised text becomes a symbol:
    /// letters and digits always, masks and some leet symbols only inside a
    /// word.
    core: Vec<bool>,
    words: Vec<Word>,
    spare: Stream,
    /// Some word has a Cyrillic letter.
    cyrillic: bool,
    /// Words looked at while gluing single letters.
    pub gluing_steps: u64,
}

impl Streams {
    pub fn build(norm: &NormText) -> Self {
        let mut streams = Streams::default();
        streams.fill(norm);
        streams
    }

    /// Rebuilds the streams for `norm`, reusing the allocations.
    pub fn fill(&mut self, norm: &NormText) {
        self.primary.clear();
        if let Some(mut old) = self.alternative.take() {
            old.clear();
            self.spare = old;
        }
        let chars = &norm.chars;
        self.core.clear();
        self.core.resize(chars.len(), false);
        self.words.clear();
        segment_words(chars, &mut self.core, &mut self.words);
        self.gluing_steps = glue_single_letters(&mut self.words);
        self.cyrillic = self.words.iter().any(Word::any_cyrillic);

        for word in &self.words {
            render_word(
                norm,
                &self.core,
                word,
                word.primary_render(),
                &mut self.primary,
            );
        }
        // The alternative stream holds only the words that read otherwise,
        // each on its own: the primary stream has all the rest.
        let mut differing = self
            .words
            .iter()
            .filter(|w| w.primary_render() != w.alternative_render())
            .peekable();
        if differing.peek().is_some() {
            let mut alternative = std::mem::take(&mut self.spare);
            for word in differing {
                render_word(
                    norm,
                    &self.core,
                    word,
                    word.alternative_render(),
                    &mut alternative,
                );
            }
            self.alternative = Some(alternative);
        }
    }

    /// Whether the text is (partly) Russian: it has Cyrillic letters, or
    /// common Russian words written in Latin letters. Transliterations of
    /// Russian terms count only in such texts, because on their own they are
    /// too often names (`Gandon`, `Eban`, `Hui`).
    ///
    /// Computed when asked (only short transliterations need it): `norm`
    /// must be the text the streams were built from.
    pub fn russian_context(&self, norm: &NormText) -> bool {
        self.cyrillic
            || self
                .words
                .iter()
                .any(|w| is_transliterated_russian_word(&norm.chars[w.start..w.end]))
    }

    pub fn all(&self) -> impl Iterator<Item = &Stream> {
        std::iter::once(&self.primary).chain(self.alternative.as_ref())
    }
}

/// Splits the text into words at whitespace and marks each word's core
/// characters, in one pass over the characters (plus a second over the
/// rare words that are not letters only).
fn segment_words(chars: &[NormChar], core: &mut [bool], words: &mut Vec<Word>) {
    let mut i = 0;
    // Whether what came last ended a sentence: the text's start, a full
    // stop, a question or exclamation mark, a line break.
    let mut after_sentence_end = true;
    while i < chars.len() {
        if chars[i].class == Class::Space {
            after_sentence_end |= chars[i].c == '\n';
            i += 1;
            continue;
        }
        let start = i;
        let sentence_initial = after_sentence_end;
        let mut scan = WordScan::default();
        while i < chars.len() && chars[i].class != Class::Space {
            let info = &chars[i];
            let f = info.flags;
            scan.union |= f;
            scan.letters += usize::from(f & flags::LETTER);
            if f & flags::SOLID != 0 {
                scan.first_solid.get_or_insert(i);
                scan.last_solid = Some(i);
                scan.letters_before_last_solid = scan.letters;
                after_sentence_end = false;
            } else {
                scan.only_letters = false;
                if f & flags::LEET != 0 || info.class == Class::Mask {
                    scan.separators.see(i, info.c, chars);
                }
                if matches!(info.c, '.' | '!' | '?' | '…') {
                    after_sentence_end = true;
                }
            }
            i += 1;
        }
        let mut word = mark_word(chars, core, start, i, scan);
        word.sentence_initial = sentence_initial;
        words.push(word);
    }
}

/// What one pass over a word's characters learnt.
struct WordScan {
    union: u8,
    letters: usize,
    first_solid: Option<usize>,
    last_solid: Option<usize>,
    letters_before_last_solid: usize,
    /// Letters and digits only (digits are checked in `mark_word`).
    only_letters: bool,
    separators: SeparatingSymbols,
}

impl Default for WordScan {
    fn default() -> Self {
        WordScan {
            union: 0,
            letters: 0,
            first_solid: None,
            last_solid: None,
            letters_before_last_solid: 0,
            only_letters: true,
            separators: SeparatingSymbols::default(),
        }
    }
}

fn mark_word(
    chars: &[NormChar],
    core: &mut [bool],
    start: usize,
    end: usize,
    scan: WordScan,
) -> Word {
    let union = scan.union;
    let mut word = Word {
        start,
        end,
        letters: scan.letters,
        ascii_latin: union & flags::ASCII_LATIN != 0,
        russian: union & flags::RUSSIAN != 0,
        foreign: union & flags::FOREIGN != 0,
        other_cyrillic: union & flags::OTHER_CYRILLIC != 0,
        ..Word::default()
    };
    // Most words are letters only: every one of them is core.
    if scan.only_letters && scan.letters == end - start {
        core[start..end].fill(true);
        word.cores = end - start;
        return word;
    }
    let (first_solid, last_solid) = (scan.first_solid, scan.last_solid);
    let separators = scan.separators;
    let inside =
        |i: usize| matches!((first_solid, last_solid), (Some(f), Some(l)) if f < i && i < l);
    let has_letters = word.letters > 0;
    // Masks at the end of a word hide its ending (`sh**`), once at least two
    // letters show what it begins with. A word wrapped in the same symbol
    // (`*fuck*`) is emphasis, not a mask.
    let emphasis = chars[start].class == Class::Mask;
    let masked_tail = |i: usize, c: char| {
        !emphasis
            && matches!(c, '*' | '#' | '%')
            && last_solid.is_some_and(|l| i > l)
            && scan.letters_before_last_solid >= 2
    };
    for (i, (info, is_core)) in chars[start..end]
        .iter()
        .zip(&mut core[start..end])
        .enumerate()
    {
        let i = start + i;
        let this_core = match info.class {
            Class::Letter | Class::Digit => true,
            Class::Mask if separators.separates(info.c) => false,
            Class::Mask => inside(i) || masked_tail(i, info.c),
            Class::Leet if separators.separates(info.c) => false,
            Class::Leet if leet_needs_letters_on_both_sides(info.c) => inside(i) && has_letters,
            Class::Leet => has_letters,
            Class::Space | Class::Separator => false,
        };
        *is_core = this_core;
        word.cores += usize::from(this_core);
        word.leet_symbol |= this_core && info.class == Class::Leet;
        word.leet_digit |= this_core && info.class == Class::Digit && has_letters;
    }
    word
}

/// Leet symbols and masks used as separators in a word rather than as
/// letters: a symbol that occurs twice with a single letter between
/// (`f|u|c|k`, `f!u!c!k`, `f🤬u🤬c🤬k`), where `sh!t` uses it once, as an
/// `i`, and `f🤬ck` as a hidden letter.
#[derive(Default)]
struct SeparatingSymbols {
    /// The last position of each symbol seen, and whether it separates.
    seen: Vec<(char, usize, bool)>,
}

impl SeparatingSymbols {
    fn see(&mut self, i: usize, symbol: char, chars: &[NormChar]) {
        let solid_between = |previous: usize| {
            i == previous + 2 && matches!(chars[previous + 1].class, Class::Letter | Class::Digit)
        };
        match self.seen.iter_mut().find(|(c, _, _)| *c == symbol) {
            Some((_, last, separates)) => {
                *separates |= solid_between(*last);
                *last = i;
            }
            None => self.seen.push((symbol, i, false)),
        }
    }

    fn separates(&self, symbol: char) -> bool {
        self.seen.iter().any(|&(c, _, s)| c == symbol && s)
    }
}

/// Common Russian words as written in Latin letters, rare in English: a
/// text containing one is transliterated Russian, where transliterations
/// of profanity count.
const TRANSLITERATED_RUSSIAN_WORDS: &[&str] = &[
    "bylo",
    "che",
    "cho",
    "chto",
    "davai",
    "davay",
    "ego",
    "emu",
    "eshche",
    "eshe",
    "eti",
    "etim",
    "etimi",
    "eto",
    "etot",
    "etu",
    "gde",
    "idi",
    "kak",
    "kakaya",
    "kakie",
    "kakoe",
    "kakoj",
    "kakoy",
    "kogda",
    "kto",
    "menya",
    "mne",
    "mozhno",
    "nado",
    "nam",
    "nas",
    "ne",
    "nichego",
    "nikh",
    "nikto",
    "nim",
    "nu",
    "ochen",
    "oni",
    "opyat",
    "pochemu",
    "poshel",
    "poshla",
    "poshol",
    "prosto",
    "segodnya",
    "seychas",
    "tak",
    "tebe",
    "tebya",
    "tolko",
    "tozhe",
    "tut",
    "tvoyu",
    "ty",
    "uzhe",
    "vam",
    "vas",
    "voobshche",
    "voobshe",
    "vot",
    "vse",
    "vsyo",
    "vy",
    "zachem",
    "zdes",
];

/// Glues runs of three or more one-symbol words (`f u c k`, `с у к а`) into
/// one word. Words without symbols (a lone `-`) may sit between them.
/// Returns the number of words it looked at, so that tests can bound it.
fn glue_single_letters(words: &mut Vec<Word>) -> u64 {
    // Compacts in place: the glued words never outnumber the words read.
    let mut looked_at = 0;
    let mut kept = 0;
    let mut i = 0;
    while i < words.len() {
        let mut word = words[i];
        let mut next = i + 1;
        if word.cores == 1 {
            let mut singles = 0;
            let mut last_single = i;
            let mut j = i;
            while j < words.len() && words[j].cores <= 1 {
                looked_at += 1;
                if words[j].cores == 1 {
                    singles += 1;
                    last_single = j;
                }
                j += 1;
            }
            let letters: usize = words[i..=last_single].iter().map(|w| w.letters).sum();
            if singles >= 3 && letters >= 2 {
                for w in &words[i + 1..=last_single] {
                    word.absorb(w);
                }
                next = last_single + 1;
            } else {
                // A later start in the same run has no more singles or
                // letters: none of it glues. Skipping it keeps this linear.
                words.copy_within(i..j, kept);
                kept += j - i;
                i = j;
                continue;
            }
        }
        words[kept] = word;
        kept += 1;
        i = next;
    }
    words.truncate(kept);
    looked_at + words.len() as u64
}

/// A version, a number or a model: more digits than letters, with dots,
/// dashes or capitals among them (`v1.36`, `r0-1-236`, `RA123456789RU`), where
/// `1d10t` is a word.
fn is_code(chars: &[NormChar], letters: usize) -> bool {
    let solid = |c: &NormChar| matches!(c.class, Class::Letter | Class::Digit);
    let (Some(first), Some(last)) = (chars.iter().position(solid), chars.iter().rposition(solid))
    else {
        return false;
    };
    let inner = &chars[first..=last];
    let digits = inner.iter().filter(|c| c.class == Class::Digit).count();
    digits > letters
        && inner
            .iter()
            .any(|c| !solid(c) || (c.class == Class::Letter && c.upper))
}

fn render_word(norm: &NormText, core: &[bool], word: &Word, render: Render, out: &mut Stream) {
    out.gap(norm.chars[word.start].start);
    // Digits stand for letters in words of letters (`sh1t`, `1d10t`); a word
    // of more digits than letters, with dots or dashes or in capitals, is a
    // version, a number or a model (`v1.36`, `r0-1-236`, `A55`).
    let has_letters = word.letters > 0 && !is_code(&norm.chars[word.start..word.end], word.letters);
    // Most words are letters only, read as Latin or Russian: no masks, no
    // separators, no leet.
    let plain = word.letters == word.end - word.start;
    if plain && matches!(render, Render::Latin | Render::Russian) {
        let chars = &norm.chars[word.start..word.end];
        let name_like = chars[0].upper && word.looks_like_a_name(&norm.chars);
        for (k, ch) in chars.iter().enumerate() {
            let sym = match render {
                Render::Latin => ch.latin,
                _ if ch.upper => ch.russian_upper,
                _ => ch.russian,
            };
            let word_start = (k == 0).then_some(name_like);
            out.push(sym, ch.start, ch.end, false, word_start);
        }
        return;
    }
    let mut previous_core: Option<usize> = None;
    let span = word.start..word.end;
    for ((i, info), &is_core) in span.clone().zip(&norm.chars[span.clone()]).zip(&core[span]) {
        if !is_core {
            continue;
        }
        let origin = info;
        let sym = match render {
            Render::Latin => latin_symbol(info, has_letters),
            Render::LatinMaskedDigits if info.class == Class::Digit && has_letters => Sym::MASK,
            Render::LatinMaskedDigits => latin_symbol(info, has_letters),
            Render::Russian => russian_symbol(info, has_letters, origin.upper, false),
            Render::RussianLeetDigits => russian_symbol(info, has_letters, origin.upper, true),
        };
        // Only the first symbol of a word carries `Some`: whether the word
        // looks like a name.
        let word_start = previous_core.is_none().then(|| {
            origin.upper && info.class == Class::Letter && word.looks_like_a_name(&norm.chars)
        });
        let soft_before = matches!(previous_core, Some(p) if p + 1 != i);
        out.push(sym, origin.start, origin.end, soft_before, word_start);
        previous_core = Some(i);
    }
}

fn is_transliterated_russian_word(word: &[NormChar]) -> bool {
    let letters = word
        .iter()
        .filter(|c| !matches!(c.class, Class::Separator))
        .map(|c| c.c);
    let mut buf = [0u8; 12];
    let mut len = 0;
    for c in letters {
        if !c.is_ascii_lowercase() || len == buf.len() {
            return false;
        }
        buf[len] = c as u8;
        len += 1;
    }
    std::str::from_utf8(&buf[..len])
        .is_ok_and(|w| TRANSLITERATED_RUSSIAN_WORDS.binary_search(&w).is_ok())
}

/// A letter read as Latin.
fn latin_letter(c: char) -> Sym {
    match latin_lookalike(c) {
        Some(b) => Sym(merge_latin(b)),
        None => Sym::russian(c).unwrap_or(Sym::OTHER),
    }
}

/// A letter read as Russian.
fn russian_letter(c: char, upper: bool) -> Sym {
    let russian = if is_russian(c) {
        Some(c)
    } else if c.is_ascii_lowercase() {
        latin_to_russian(c, upper)
    } else {
        other_to_russian(c)
            .or_else(|| latin_lookalike(c).and_then(|b| latin_to_russian(b as char, false)))
    };
    russian.and_then(Sym::russian).unwrap_or(Sym::OTHER)
}

fn latin_symbol(info: &CharInfo, has_letters: bool) -> Sym {
    match info.class {
        Class::Letter => info.latin,
        Class::Mask => Sym::MASK,
        Class::Digit if !has_letters => Sym(info.c as u8),
        Class::Digit | Class::Leet => {
            leet_latin(info.c).map_or(Sym::OTHER, |b| Sym(merge_latin(b)))
        }
        Class::Space | Class::Separator => Sym::OTHER,
    }
}

fn russian_symbol(info: &CharInfo, has_letters: bool, upper: bool, leet_digits: bool) -> Sym {
    let c = info.c;
    let russian = match info.class {
        Class::Letter if upper => return info.russian_upper,
        Class::Letter => return info.russian,
        Class::Mask => return Sym::MASK,
        Class::Digit if !has_letters => return Sym(c as u8),
        // In a Cyrillic word `@` may be `а` or `я`: read it as unknown.
        Class::Leet if c == '@' => return Sym::MASK,
        Class::Digit if leet_digits => {
            leet_latin(c).and_then(|b| latin_to_russian(b as char, false))
        }
        Class::Digit | Class::Leet => leet_russian(c),
        Class::Space | Class::Separator => None,
    };
    russian.and_then(Sym::russian).unwrap_or(Sym::OTHER)
}

/// Renders a term the way text is rendered, for building patterns: returns
/// the symbols and the run length of each (`ass` → `as`, runs `[1, 2]`).
pub(crate) fn render_term(term: &str) -> Vec<(Sym, u32)> {
    let norm = NormText::new(term);
    let mut streams = Streams::default();
    streams.core.resize(norm.chars.len(), false);
    segment_words(&norm.chars, &mut streams.core, &mut streams.words);
    // A term is written in one script: Russian words read as Russian, the
    // others as Latin, digits as leetspeak.
    let mut stream = Stream::default();
    for word in &streams.words {
        let render = if word.any_cyrillic() {
            Render::Russian
        } else {
            Render::Latin
        };
        render_word(&norm, &streams.core, word, render, &mut stream);
    }
    stream
        .hay
        .iter()
        .zip(&stream.elems)
        .map(|(&b, e)| (Sym(b), e.run))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary(text: &str) -> String {
        let norm = NormText::new(text);
        let streams = Streams::build(&norm);
        streams
            .primary
            .hay
            .iter()
            .map(|&b| Sym(b).to_char())
            .collect()
    }

    fn cyrillic(text: &str) -> String {
        let norm = NormText::new(text);
        let streams = Streams::build(&norm);
        let s = streams.alternative.as_ref().unwrap_or(&streams.primary);
        s.hay.iter().map(|&b| Sym(b).to_char()).collect()
    }

    #[test]
    fn normalisation_folds_width_style_accents_and_invisibles() {
        assert_eq!(NormText::new("ＦＵＣＫ").text, "fuck");
        assert_eq!(NormText::new("𝐟𝐮𝐜𝐤").text, "fuck");
        assert_eq!(NormText::new("fu\u{200B}ck").text, "fuck");
        assert_eq!(NormText::new("sh\u{00AD}it").text, "shit");
        assert_eq!(NormText::new("fück").text, "fuck");
        assert_eq!(NormText::new("Straße").text, "strasse");
        assert_eq!(NormText::new("ёж й").text, "еж и");
    }

    #[test]
    fn origins_point_into_the_original_body() {
        let body = "a\u{200B}ｂc";
        let norm = NormText::new(body);
        assert_eq!(norm.text, "abc");
        assert_eq!(norm.original_span(1..3), Some((4, 8)));
        assert_eq!(&body[4..8], "ｂc");
    }

    #[test]
    fn streams_squeeze_runs_drop_separators_and_keep_gaps() {
        assert_eq!(primary("Fuuuck  this"), "fuck this");
        assert_eq!(primary("f.u.c.k off"), "fuck of");
        assert_eq!(primary("s-h-i-t"), "shit");
        assert_eq!(primary("f u c k you"), "fuck you");
        assert_eq!(primary("a.s.s"), "as");
    }

    #[test]
    fn leet_and_masks_apply_only_inside_words_with_letters() {
        assert_eq!(primary("sh1t @ss $hit"), "shit as shit");
        assert_eq!(primary("flight 455"), "fight 45");
        assert_eq!(primary("f*ck"), "f*ck");
        assert_eq!(primary("*fuck*"), "fuck");
        assert_eq!(primary("wow!"), "wow");
        assert_eq!(primary("sh!t"), "shit");
    }

    #[test]
    fn lookalikes_fold_towards_the_script_of_their_word() {
        assert_eq!(primary("ѕhit"), "shit");
        assert_eq!(primary("fuсk"), "fuck");
        assert_eq!(cyrillic("xyй"), "хуи");
        assert_eq!(cyrillic("cука"), "сука");
        assert_eq!(primary("сука"), "сука");
        assert_eq!(cyrillic("6ля"), "бля");
    }

    #[test]
    fn digits_are_also_read_as_masks_or_the_other_script() {
        let alternative = |t: &str| {
            let streams = Streams::build(&NormText::new(t));
            let s = streams.alternative.expect("an alternative reading");
            s.hay.iter().map(|&b| Sym(b).to_char()).collect::<String>()
        };
        assert_eq!(alternative("f4cking"), "f*cking");
        assert_eq!(alternative("ху3сос"), "хуесос");
        assert_eq!(primary("ху3сос"), "хузсос");
        assert_eq!(primary("бл9ть"), "блять");
    }

    #[test]
    fn letters_drawn_with_symbols_are_read() {
        assert_eq!(NormText::new("ху|/|").text, "хуи");
        assert_eq!(NormText::new("|\\|ice").text, "nice");
        assert_eq!(NormText::new("a |< b or a \\/ b").text, "a |< b or a \\/ b");
    }

    #[test]
    fn symbols_between_every_letter_separate_them() {
        assert_eq!(primary("f|u|c|k|wit"), "fuckwit");
        assert_eq!(primary("f!u!c!k"), "fuck");
        assert_eq!(primary("sh!t"), "shit");
    }

    #[test]
    fn masks_may_hide_the_end_of_a_word() {
        assert_eq!(primary("sh** happens"), "sh* hapens");
        assert_eq!(primary("a* b*"), "a b");
    }

    #[test]
    fn transliterated_russian_is_recognised() {
        let context = |t: &str| {
            let norm = NormText::new(t);
            Streams::build(&norm).russian_context(&norm)
        };
        assert!(context("ty che, sovsem?"));
        assert!(context("просто текст"));
        assert!(context("Polnaya pizda s etimi vizami"));
        assert!(!context("James Gandon designed it"));
        assert!(TRANSLITERATED_RUSSIAN_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ordinary_neighbouring_words_are_not_glued() {
        assert_eq!(primary("sh it"), "sh it");
        assert_eq!(primary("plan a or b"), "pian a or b");
        assert_eq!(primary("а. с. пушкин"), "а с пушкин");
    }
}
