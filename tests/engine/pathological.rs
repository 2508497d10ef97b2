//! Hostile input is handled in time linear in its length: checked by
//! counting the engine's work, not by the clock.

use commentd::moderation::{Context, RuleSet, Work};

fn work(body: &str) -> Work {
    RuleSet::builtin()
        .moderate_counting(body, &Context::default())
        .1
}

/// Work per input byte stays under a constant.
fn assert_linear(name: &str, body: &str) {
    let w = work(body);
    let bytes = body.len() as u64;
    assert!(w.normalized_chars <= 4 * bytes, "{name}: {w:?}");
    assert!(w.stream_symbols <= 2 * bytes + 2, "{name}: {w:?}");
    assert!(w.words_examined <= 2 * bytes + 2, "{name}: {w:?}");
    assert!(
        w.matches_examined <= 16 * bytes + 64,
        "{name}: {w:?} for {bytes} bytes"
    );
}

#[test]
fn ten_thousand_combining_marks() {
    assert_linear("marks", &format!("a{}", "\u{0301}".repeat(10_000)));
}

#[test]
fn a_megabyte_of_one_character() {
    assert_linear("one char", &"a".repeat(1 << 20));
    assert_linear("one cyrillic char", &"я".repeat(1 << 19));
}

#[test]
fn deep_separator_runs() {
    assert_linear(
        "dots",
        &format!(
            "f{}u{}c{}k",
            ".".repeat(100_000),
            "-".repeat(100_000),
            "_".repeat(100_000)
        ),
    );
    assert_linear("spaced letters", &"f u c k ".repeat(50_000));
    assert_linear("masks", &"f*".repeat(100_000));
    // One-symbol words that never glue into a word: digits, a lone letter
    // between them.
    assert_linear("spaced digits", &"1 2 3 ".repeat(50_000));
    assert_linear("spaced digits and a letter", &"1 - a 2 ".repeat(25_000));
}

#[test]
fn many_overlapping_matches() {
    assert_linear("repeated term", &"fuck".repeat(100_000));
    assert_linear("repeated stem", &"хуйхуй ".repeat(50_000));
    assert_linear("leet soup", &"$h1t@$$ ".repeat(50_000));
}

#[test]
fn work_grows_linearly_with_input() {
    let unit = "Ну и ѕhit, f.u.c.k, xyй, оскорблять, Scunthorpe 👍 ";
    let small = work(&unit.repeat(100));
    let large = work(&unit.repeat(10_000));
    let ratio = large.matches_examined as f64 / small.matches_examined.max(1) as f64;
    assert!(
        (50.0..=150.0).contains(&ratio),
        "100x the input did {ratio:.1}x the work"
    );
}

#[test]
fn a_regex_is_searched_a_bounded_number_of_times_however_often_its_prefix_occurs() {
    let rules = RuleSet::from_toml(
        "name = \"t\"\n[[rule]]\nid = \"buy-now\"\ncategory = \"spam\"\naction = \"review\"\nregex = '\\bbuy\\b.*\\bnow\\b'\n",
        "t.toml",
    )
    .expect("valid rules");
    let moderate = |body: &str| rules.moderate_counting(body, &Context::default());

    // Each `buy` is a place the regex could start; searching from each would
    // read the rest of the text each time.
    let (verdict, work) = moderate(&"buy ".repeat(2_000));
    assert!(verdict.matches.is_empty(), "{verdict:?}");
    assert!(work.regex_searches <= 17, "{work:?}");

    let body = format!("{}now", "buy ".repeat(2_000));
    let (verdict, work) = moderate(&body);
    assert_eq!(verdict.matches.len(), 1, "{verdict:?}");
    assert_eq!(verdict.matches[0].spans[0].start, 0);
    assert_eq!(verdict.matches[0].spans[0].end as usize, body.len());
    assert!(work.regex_searches <= 17, "{work:?}");

    // With few starts, each is searched on its own.
    let (verdict, work) = moderate("we buy it now, buy later");
    assert_eq!(verdict.matches.len(), 1, "{verdict:?}");
    assert_eq!(work.regex_searches, 2, "{work:?}");
}
