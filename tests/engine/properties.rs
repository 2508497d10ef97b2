//! Properties that hold for any input: the engine never panics and is
//! deterministic, spans lie on character boundaries of the body,
//! normalisation is idempotent, the rule-file parser never panics.

use std::sync::LazyLock;

use commentd::moderation::{Context, RuleSet, normalize};
use proptest::prelude::*;

static RULES: LazyLock<RuleSet> = LazyLock::new(RuleSet::builtin);

/// Text that looks like what the engine must see through: letters of
/// several scripts, digits, leet symbols, masks, separators, invisible and
/// combining characters, emoji, and anything else Unicode holds.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        4 => "[a-zA-Zа-яА-ЯёЁ ]{1,12}",
        2 => "[0-9@$!|*#%?.,_/\\-]{1,4}",
        1 => Just("\u{200B}".to_owned()),
        1 => Just("\u{0301}\u{0336}".to_owned()),
        1 => Just("ѕіοα𝐟ｆ|/|}|{".to_owned()),
        // Strokes of letters drawn with symbols, fullwidth and ASCII, with
        // invisible characters between them.
        1 => "[|/\\\\_}{\\-｜／＼＿｛｝\u{200B}\u{00AD}]{1,6}",
        1 => Just("fuck сука xyй".to_owned()),
        1 => any::<String>(),
        1 => proptest::collection::vec(any::<char>(), 0..8).prop_map(|c| c.into_iter().collect()),
    ];
    proptest::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn moderation_is_total_and_deterministic(body in hostile_text()) {
        let context = Context::default();
        let first = RULES.moderate(&body, &context);
        let second = RULES.moderate(&body, &context);
        prop_assert_eq!(&first, &second);
        for m in &first.matches {
            for span in &m.spans {
                let (start, end) = (span.start as usize, span.end as usize);
                prop_assert!(start < end && end <= body.len(), "{:?} in {} bytes", span, body.len());
                prop_assert!(body.is_char_boundary(start) && body.is_char_boundary(end));
            }
        }
    }

    #[test]
    fn normalising_twice_equals_normalising_once(text in hostile_text()) {
        let once = normalize(&text);
        prop_assert_eq!(normalize(&once), once);
    }

    #[test]
    fn the_rule_file_parser_never_panics(source in any::<String>()) {
        let _ = RuleSet::from_toml(&source, "fuzz.toml");
    }

    #[test]
    fn the_rule_file_parser_never_panics_on_near_valid_files(
        id in "[a-z\\-]{0,8}",
        action in "(approve|review|reject|ban)",
        term in "[a-zа-я*{},@ ]{0,12}",
        regex in "[a-z\\\\.*+?(){}\\[\\]|^$]{0,12}",
    ) {
        let source = format!(
            "[sets]\nx = [\"\", \"на\"]\n[[rule]]\nid = \"{id}\"\ncategory = \"c\"\naction = \"{action}\"\nterms = [\"{term}\"]\n\n[[rule]]\nid = \"r{id}\"\ncategory = \"c\"\naction = \"review\"\nregex = '{regex}'\n"
        );
        let _ = RuleSet::from_toml(&source, "fuzz.toml");
    }
}
