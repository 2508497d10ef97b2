//! Character folding tables: which letter a lookalike, a leetspeak symbol or
//! a transliteration stands for.
//!
//! The matcher works on a small byte alphabet (see [`Sym`]): ASCII `a`–`z`,
//! the 32 Russian letters `а`–`я`, digits, a mask symbol and a word gap.
//! Everything else is folded into that alphabet here or becomes
//! [`Sym::OTHER`], which no pattern contains.
//!
//! Lookalikes fold towards the script of the word they appear in: `с` in
//! `fuсk` becomes Latin `c` because the word holds Latin letters, while `c` in
//! `cука` becomes Cyrillic `с`. Latin lookalikes of non-Latin letters come
//! from the Unicode confusables data (UTS #39, via `unicode-security`); the
//! Latin-to-Russian direction, which that data does not cover, is the short
//! table [`latin_to_russian`].

use std::collections::HashMap;
use std::sync::LazyLock;

/// A symbol of the matcher's alphabet, one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Sym(pub u8);

impl Sym {
    /// A hard gap between words.
    pub const GAP: Sym = Sym(b' ');
    /// A masked letter (`*`, `#`, … inside a word).
    pub const MASK: Sym = Sym(b'*');
    /// A letter of a script the matcher does not read. No pattern contains it.
    pub const OTHER: Sym = Sym(0xFF);

    /// The Russian letter `c` (`а`..=`я`), as a symbol.
    pub fn russian(c: char) -> Option<Sym> {
        is_russian(c).then(|| Sym(0x80 + (c as u32 - 0x430) as u8))
    }

    pub fn is_letter(self) -> bool {
        self.0.is_ascii_lowercase() || (0x80..0xA0).contains(&self.0)
    }

    /// The character this symbol stands for, for display and tests.
    #[cfg(test)]
    pub fn to_char(self) -> char {
        match self.0 {
            0x80..=0x9F => char::from_u32(0x430 + u32::from(self.0 - 0x80)).unwrap_or('?'),
            0xFF => '\u{FFFD}',
            b => b as char,
        }
    }
}

/// The letters of the Russian alphabet after normalisation (`ё` and `й`
/// lose their diacritics and become `е` and `и`).
pub(crate) fn is_russian(c: char) -> bool {
    ('а'..='я').contains(&c)
}

pub(crate) fn is_cyrillic(c: char) -> bool {
    matches!(c as u32, 0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F)
}

/// Letters that look alike or are easily confused are matched as one: `l`
/// and `1`, `|`, `!` all read as `i`; `v` as `u` (`fvck`). Applied to text and
/// patterns alike, so it only merges what the eye merges.
pub(crate) fn merge_latin(b: u8) -> u8 {
    match b {
        b'l' => b'i',
        b'v' => b'u',
        other => other,
    }
}

/// What a digit or symbol stands for inside a word that has letters.
pub(crate) fn leet_latin(c: char) -> Option<u8> {
    Some(match c {
        '0' => b'o',
        '1' | '!' | '|' | '¡' => b'i',
        '2' => b'z',
        '3' | '€' => b'e',
        '4' | '@' => b'a',
        '5' | '$' | '§' => b's',
        '6' | '8' => b'b',
        '7' | '+' => b't',
        '9' => b'g',
        '£' => b'l',
        '¢' => b'c',
        '¥' => b'y',
        _ => return None,
    })
}

/// What a digit or symbol stands for inside a Cyrillic word: its Cyrillic
/// lookalike (`3` for `з`, `6` for `б`), else the Russian reading of its Latin
/// meaning (`1` → `i` → `и`).
pub(crate) fn leet_russian(c: char) -> Option<char> {
    Some(match c {
        '3' => 'з',
        '6' => 'б',
        '0' => 'о',
        '4' => 'ч',
        '9' => 'я',
        '@' => 'а',
        other => return leet_latin(other).and_then(|b| latin_to_russian(b as char, false)),
    })
}

/// Symbols that can stand for a letter: [`leet_latin`] reads them.
pub(crate) fn is_leet_symbol(c: char) -> bool {
    matches!(
        c,
        '@' | '$' | '!' | '|' | '+' | '€' | '£' | '¢' | '¥' | '§' | '¡'
    )
}

/// Leet symbols that read as a letter only between two letters: at the end of
/// a word `!` is punctuation, not an `i`.
pub(crate) fn leet_needs_letters_on_both_sides(c: char) -> bool {
    matches!(c, '!' | '|' | '+' | '¡')
}

/// The Russian letter a Latin letter stands for inside a Cyrillic word. The
/// original case matters: `B` looks like `В`, `b` like `б`.
pub(crate) fn latin_to_russian(c: char, uppercase: bool) -> Option<char> {
    Some(match (c, uppercase) {
        ('a', _) => 'а',
        ('b', true) => 'в',
        ('b', false) => 'б',
        ('c', _) => 'с',
        ('d', _) => 'д',
        ('e', _) => 'е',
        ('f', _) => 'ф',
        ('g', _) => 'г',
        ('h', true) => 'н',
        ('h', false) => 'х',
        ('i', _) => 'и',
        ('j', _) => 'и',
        ('k', _) => 'к',
        ('l', _) => 'л',
        ('m', _) => 'м',
        ('n', _) => 'п',
        ('o', _) => 'о',
        ('p', _) => 'р',
        ('q', _) => 'к',
        ('r', _) => 'г',
        ('s', _) => 'с',
        ('t', _) => 'т',
        ('u', _) => 'и',
        ('v', _) => 'в',
        ('w', _) => 'ш',
        ('x', _) => 'х',
        ('y', _) => 'у',
        ('z', _) => 'з',
        _ => return None,
    })
}

/// Non-Russian Cyrillic letters and Greek letters read inside a Cyrillic word.
pub(crate) fn other_to_russian(c: char) -> Option<char> {
    Some(match c {
        'і' | 'ї' | 'ι' => 'и',
        'є' | 'ε' => 'е',
        'ґ' | 'ѓ' | 'γ' => 'г',
        'ў' | 'υ' => 'у',
        'ѕ' => 'с',
        'ј' => 'и',
        'ԁ' => 'д',
        'ο' | 'σ' => 'о',
        'α' => 'а',
        'κ' => 'к',
        'ρ' => 'р',
        'τ' => 'т',
        'χ' | 'ӽ' | 'ӿ' => 'х',
        'λ' | 'ʌ' => 'л',
        'ʒ' | 'ӡ' => 'з',
        'π' => 'п',
        'μ' => 'м',
        'η' => 'н',
        'β' => 'в',
        _ => return None,
    })
}

/// The Latin letter (`a`–`z`) a non-ASCII character looks like, if any.
pub(crate) fn latin_lookalike(c: char) -> Option<u8> {
    if c.is_ascii_lowercase() {
        return Some(c as u8);
    }
    // Most lookalikes live below U+3000: a direct table; the rest a map.
    const DIRECT: usize = 0x3000;
    static DIRECT_TABLE: LazyLock<Box<[u8]>> = LazyLock::new(|| {
        let mut table = vec![0u8; DIRECT].into_boxed_slice();
        for (&c, &b) in LATIN_LOOKALIKES.iter() {
            if (c as usize) < DIRECT {
                table[c as usize] = b;
            }
        }
        table
    });
    match DIRECT_TABLE.get(c as usize) {
        Some(0) => None,
        Some(&b) => Some(b),
        None => LATIN_LOOKALIKES.get(&c).copied(),
    }
}

/// The letter of a Latin capital drawn white on a black circle or square
/// (`🅕`, `🅵`): Unicode gives these no decomposition, unlike the outlined
/// ones (`Ⓕ`, `🄵`), so they are read here.
pub(crate) fn enclosed_latin_capital(c: char) -> Option<char> {
    const NEGATIVE_CIRCLED_A: u32 = 0x1F150;
    const NEGATIVE_SQUARED_A: u32 = 0x1F170;
    let code = c as u32;
    [NEGATIVE_CIRCLED_A, NEGATIVE_SQUARED_A]
        .into_iter()
        .find(|&a| (a..a + 26).contains(&code))
        .and_then(|a| char::from_u32(u32::from(b'a') + code - a))
}

/// Small capitals and other prototypes the confusables data stops at.
fn prototype_to_latin(c: char) -> Option<u8> {
    Some(match c {
        'ᴀ' => b'a',
        'ʙ' | 'ƅ' => b'b',
        'ᴄ' => b'c',
        'ᴅ' => b'd',
        'ᴇ' | 'ꞓ' => b'e',
        'ꜰ' => b'f',
        'ɢ' => b'g',
        'ʜ' => b'h',
        'ɪ' => b'i',
        'ᴊ' => b'j',
        'ᴋ' | 'ĸ' => b'k',
        'ʟ' => b'l',
        'ᴍ' | 'ʍ' => b'm',
        'ɴ' | 'π' => b'n',
        'ᴏ' => b'o',
        'ᴘ' => b'p',
        'ʀ' => b'r',
        'ꜱ' => b's',
        'ᴛ' => b't',
        'ᴜ' | 'ᴎ' => b'u',
        'ᴠ' => b'v',
        'ᴡ' => b'w',
        'ʏ' => b'y',
        'ᴢ' => b'z',
        _ => return None,
    })
}

fn single_char(s: impl Iterator<Item = char>) -> Option<char> {
    let mut it = s;
    let first = it.next()?;
    it.next().is_none().then_some(first)
}

fn compute_latin_lookalike(c: char) -> Option<u8> {
    let to_latin = |p: char| -> Option<u8> {
        if p.is_ascii_alphabetic() {
            Some(p.to_ascii_lowercase() as u8)
        } else if p.is_ascii_digit() {
            leet_latin(p)
        } else {
            prototype_to_latin(p)
        }
    };
    let mut buf = [0u8; 4];
    if let Some(p) = single_char(unicode_security::skeleton(c.encode_utf8(&mut buf))) {
        if let Some(b) = to_latin(p) {
            return Some(b);
        }
    }
    // Lowercase Cyrillic letters such as к or т only look Latin as capitals.
    let upper: String = c.to_uppercase().collect();
    single_char(unicode_security::skeleton(&upper))
        .filter(char::is_ascii_alphabetic)
        .map(|p| p.to_ascii_lowercase() as u8)
        .or_else(|| prototype_to_latin(c))
}

/// Blocks of the Unicode code space whose letters can pass for Latin ones.
const LOOKALIKE_RANGES: &[(u32, u32)] = &[
    (0x00C0, 0x024F),   // Latin-1 supplement, Latin extended A/B
    (0x0250, 0x02AF),   // IPA
    (0x0370, 0x03FF),   // Greek
    (0x0400, 0x052F),   // Cyrillic and supplement
    (0x0530, 0x058F),   // Armenian
    (0x13A0, 0x13FF),   // Cherokee
    (0x1D00, 0x1DBF),   // phonetic extensions (small capitals)
    (0x1E00, 0x1FFF),   // Latin extended additional, Greek extended
    (0x2100, 0x214F),   // letterlike symbols
    (0x2C60, 0x2C7F),   // Latin extended C
    (0x2C80, 0x2CFF),   // Coptic
    (0xA4D0, 0xA4FF),   // Lisu
    (0xA640, 0xA69F),   // Cyrillic extended B
    (0xA720, 0xA7FF),   // Latin extended D
    (0xAB30, 0xABBF),   // Latin extended E, Cherokee supplement
    (0x10400, 0x1044F), // Deseret
];

static LATIN_LOOKALIKES: LazyLock<HashMap<char, u8>> = LazyLock::new(|| {
    let mut table = HashMap::new();
    for &(lo, hi) in LOOKALIKE_RANGES {
        for c in (lo..=hi).filter_map(char::from_u32) {
            if let Some(b) = compute_latin_lookalike(c) {
                table.insert(c, b);
            }
        }
    }
    // Russian letters whose likeness the confusables data misses.
    for (c, b) in [
        ('п', b'n'),
        ('и', b'u'),
        ('й', b'u'),
        ('б', b'b'),
        ('з', b'e'),
    ] {
        table.insert(c, b);
    }
    table
});

/// Characters whose compatibility decomposition changes what they look like:
/// the lunate sigma `ϲ` looks like `c` but decomposes to `ς`. They are kept
/// as they are, so that the lookalike table reads them.
pub(crate) fn keeps_its_shape(c: char) -> bool {
    LOOKALIKE_KEEPERS.contains(&c)
}

static LOOKALIKE_KEEPERS: LazyLock<std::collections::HashSet<char>> = LazyLock::new(|| {
    let mut keepers = std::collections::HashSet::new();
    for &(lo, hi) in LOOKALIKE_RANGES {
        for c in (lo..=hi).filter_map(char::from_u32) {
            let Some(look) = latin_lookalike(c) else {
                continue;
            };
            let mut decomposed = String::new();
            unicode_normalization::char::decompose_compatible(c, |d| decomposed.push(d));
            let mut letters = decomposed
                .chars()
                .filter(|d| !unicode_normalization::char::is_combining_mark(*d));
            let base = letters.next();
            let changes_look = match (base, letters.next()) {
                (Some(d), None) if d != c => {
                    let d = d.to_lowercase().next().unwrap_or(d);
                    !d.is_ascii()
                        && latin_lookalike(d) != Some(look)
                        && !crate::moderation::fold::is_russian(d)
                }
                _ => false,
            };
            if changes_look {
                keepers.insert(c);
            }
        }
    }
    keepers
});

/// Latin spellings of each Russian letter, most common first. Used to
/// generate the transliterations of Russian terms (`блядь` → `blyad`).
pub(crate) fn transliterations(c: char) -> &'static [&'static str] {
    match c {
        'а' => &["a"],
        'б' => &["b"],
        'в' => &["v", "w"],
        'г' => &["g"],
        'д' => &["d"],
        'е' => &["e", "ye", "je"],
        'ё' => &["yo", "e", "jo"],
        'ж' => &["zh", "j"],
        'з' => &["z"],
        'и' => &["i"],
        'й' => &["y", "i", "j"],
        'к' => &["k"],
        'л' => &["l"],
        'м' => &["m"],
        'н' => &["n"],
        'о' => &["o"],
        'п' => &["p"],
        'р' => &["r"],
        'с' => &["s", "c"],
        'т' => &["t"],
        'у' => &["u", "y"],
        'ф' => &["f"],
        'х' => &["h", "kh", "x"],
        'ц' => &["ts", "c", "tz"],
        'ч' => &["ch"],
        'ш' => &["sh"],
        'щ' => &["sch", "shch"],
        'ъ' => &[""],
        'ы' => &["y", "i"],
        'ь' => &["", "'"],
        'э' => &["e"],
        'ю' => &["yu", "ju", "u"],
        'я' => &["ya", "ja", "ia"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_circled_and_squared_capitals_read_as_their_letters() {
        assert_eq!(enclosed_latin_capital('🅕'), Some('f'));
        assert_eq!(enclosed_latin_capital('🅩'), Some('z'));
        assert_eq!(enclosed_latin_capital('🅰'), Some('a'));
        assert_eq!(enclosed_latin_capital('🆉'), Some('z'));
        assert_eq!(
            enclosed_latin_capital('🆊'),
            None,
            "a squared P with a stroke"
        );
        assert_eq!(enclosed_latin_capital('🄵'), None, "decomposes by itself");
    }

    #[test]
    fn confusables_fold_to_the_latin_letter_they_imitate() {
        for (c, expected) in [
            ('ѕ', b's'),
            ('і', b'i'),
            ('с', b'c'),
            ('у', b'y'),
            ('к', b'k'),
            ('т', b't'),
            ('н', b'h'),
            ('ο', b'o'),
            ('ν', b'v'),
            ('α', b'a'),
            ('ᴜ', b'u'),
            ('ɑ', b'a'),
        ] {
            assert_eq!(latin_lookalike(c), Some(expected), "{c}");
        }
        assert_eq!(latin_lookalike('ж'), None);
        assert_eq!(latin_lookalike('ϲ'), Some(b'c'));
        assert!(keeps_its_shape('ϲ'));
        assert!(!keeps_its_shape('ё'));
    }

    #[test]
    fn latin_letters_in_cyrillic_words_read_by_shape_and_case() {
        assert_eq!(latin_to_russian('x', false), Some('х'));
        assert_eq!(latin_to_russian('y', false), Some('у'));
        assert_eq!(latin_to_russian('b', true), Some('в'));
        assert_eq!(latin_to_russian('b', false), Some('б'));
        assert_eq!(leet_russian('3'), Some('з'));
        assert_eq!(leet_russian('1'), Some('и'));
    }

    #[test]
    fn russian_symbols_cover_the_alphabet() {
        assert_eq!(Sym::russian('а'), Some(Sym(0x80)));
        assert_eq!(Sym::russian('я'), Some(Sym(0x9F)));
        assert_eq!(Sym::russian('я').map(Sym::to_char), Some('я'));
        assert_eq!(Sym::russian('ё'), None);
    }
}
