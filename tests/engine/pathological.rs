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
