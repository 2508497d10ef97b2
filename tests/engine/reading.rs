//! How the engine reads words whose form could mean two things: a capital
//! that may start a name, a symbol that may be a letter, a word inside a
//! longer one, a contact detail written out.

use commentd::moderation::{Action, Context, RuleSet};

fn action(body: &str) -> Action {
    RuleSet::builtin()
        .moderate(body, &Context::default())
        .action
}

fn assert_approved(bodies: &[&str]) {
    for body in bodies {
        assert_eq!(action(body), Action::Approve, "{body}");
    }
}

fn assert_not_approved(bodies: &[&str]) {
    for body in bodies {
        assert_ne!(action(body), Action::Approve, "{body}");
    }
}

#[test]
fn a_word_in_capitals_is_shouted_not_a_name() {
    assert_not_approved(&[
        "Some MOTHERFUCKER cut in front of me in the consulate queue.",
        "Honestly, this is BULLSHIT from start to finish.",
        "Это ПИЗДЕЦ, а не переговоры.",
        "Наших опять РАЗЪЕБАЛИ в Женеве.",
        "The SH1TTY part is the visa fee.",
    ]);
}

#[test]
fn capitalised_names_and_codes_in_mid_sentence_are_not_words() {
    assert_approved(&[
        "Sheila Dikshit served as Chief Minister of Delhi for fifteen years.",
        "Трек-номер RA123456789RU уже неделю «в пути».",
        "The new stage in Huy was moved because of rain.",
    ]);
}

#[test]
fn capitals_drawn_white_on_black_circles_and_squares_are_letters() {
    assert_not_approved(&["🅵🆄🅲🅺 this league.", "🅕🅤🅒🅚 this league."]);
    assert_approved(&["Blood type 🅰 or 🅱, both welcome at the donor centre."]);
}

#[test]
fn ordinary_words_around_a_term_stay_ordinary() {
    assert_approved(&[
        "He completely mishit the penalty in the 90th minute.",
        "Не психуй, курс ещё отыграет.",
        "Всё прошло без сучка и задоринки.",
        "На доске ни одного сучка, отличный материал.",
    ]);
}

#[test]
fn transliterations_with_x_and_j_are_read_as_russian() {
    assert_not_approved(&[
        "Da xuj s nim, s etim sammitom.",
        "This referee is a real eblan.",
        "jebat ih vseh",
    ]);
}

#[test]
fn contact_details_and_gambling_written_around_the_filters_are_caught() {
    assert_not_approved(&[
        "Contact me at john.smith.investor(at)proton.me for details",
        "write to ivan.petrov at gmail dot com",
        "Сигналы по крипте: tg @crypto_signal_ru",
        "Рабочее зеркало 1xbet: 1xbet-zerkalo.net",
        "go to casino-x.com tonight",
        "Double your bitcoin in 24 hours, guaranteed",
        "Send 1 BTC and get 2 BTC back",
    ]);
    assert_approved(&[
        "I'll be at the embassy at noon; meet me at gate 2.",
        "Bet365 had Russia at 5/1 before the match, for what it's worth.",
    ]);
}
