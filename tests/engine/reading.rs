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
fn capitalised_names_codes_and_acronyms_are_not_words() {
    assert_approved(&[
        "ЕБРР прекратил финансирование проектов в России.",
        "Сбербанк подключил ЕБС во всех отделениях.",
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
fn greek_ipa_and_lisu_letters_in_a_word_read_as_the_letters_they_imitate() {
    assert_not_approved(&[
        "Бʌядь, снова ремонт на Тверской.",
        "Бλядь, опять подорожало.",
        "Пиʒдец с курсом.",
        "ӽуйня какая-то.",
        "ꓢhit show in parliament",
    ]);
}

#[test]
fn spam_thresholds_are_those_of_the_corpus_definitions() {
    assert_approved(&[
        "WE WANT OUR VISAS BACK NOW",
        "Very very very very very good analysis, thanks.",
        "Отличная игра нашей сборной! 🥳👏🔥💪🏒🎉😀😂👍🚀✨",
    ]);
    assert_not_approved(&[
        "WE WANT OUR VISAS BACK RIGHT NOW, TODAY",
        "very very very very very very good",
        "Отличная игра! 🥳👏🔥💪🏒🎉😀😂👍🚀✨🎉",
    ]);
}

#[test]
fn literal_senses_and_idioms_stay_ordinary() {
    assert_approved(&[
        "В выходные прибью полку и повешу картину.",
        "В делегации, как водится, всякой твари по паре.",
        "Играли в дурака всю дорогу в поезде.",
        "Blue tits and sparrows at the feeder this morning.",
        "Shiite clerics in Iraq commented on the talks as well.",
    ]);
    assert_not_approved(&["Я тебя прибью.", "Ты тварь и дурак."]);
}

#[test]
fn rarer_forms_insults_and_indirect_threats_are_caught() {
    assert_not_approved(&[
        "Хитровыебанная схема с визами.",
        "Мозгоёбство эти ваши анкеты.",
        "Песдец с визами, третий месяц жду.",
        "Йобаный стыд, а не матч.",
        "Чмошники из управы опять ничего не сделали.",
        "Ну ты и олень, раз поверил в это.",
        "Typical libtard nonsense in these comments.",
        "Либерасты опять ноют про визы.",
        "The vatniks in this thread are out in force today.",
        "I'll dox you and your family.",
        "Знаю, где ты живёшь.",
        "Голову тебе оторву, умник.",
        "Use my referral code MOSCOW2025 for a 100 USDT bonus",
        "Купить диплом любого вуза с занесением в реестр",
    ]);
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
        "w w w . b e t w i n . c o m — заходи, не пожалеешь",
        "ww w.1xbet.co m best odds",
        "t . me / vizy_usa_bystro",
        "Check out casino777 dot ru, huge bonuses",
        "Send 1 BTC and get 2 BTC back",
    ]);
    assert_approved(&[
        "I'll be at the embassy at noon; meet me at gate 2.",
        "Bet365 had Russia at 5/1 before the match, for what it's worth.",
        "Source: https://www.reuters.com/world/europe/russia-us-talks-2025-02-27/",
        "По ИНН 7707083893 можно проверить, что это действительно Сбер.",
    ]);
}

#[test]
fn a_symbol_between_every_letter_separates_and_a_single_one_hides_a_letter() {
    assert_not_approved(&[
        "f🤬u🤬c🤬k this referee",
        "f*u*c*k the sanctions",
        "What a f🤬cking joke.",
        "Total b***h move by the minister.",
    ]);
}

#[test]
fn a_mask_stands_for_no_more_letters_than_the_word_shows() {
    // `p1g` reads as `p*g`, which would hide five letters of `phuking`.
    assert_approved(&["Level p1g of the parking garage is closed."]);
}

#[test]
fn versions_numbers_and_models_are_codes_but_digits_in_words_are_letters() {
    assert_approved(&[
        "Upgrade to v1.36 fixed it.",
        "Ticket r0-1-236 is still open at the consulate.",
        "The A55 into North Wales was closed again.",
        "Samsung Galaxy A55 review: the embassy's new phones.",
    ]);
    assert_not_approved(&["you 1d10t.", "kiss my a55!", "5h1t happens", "ты п1зда"]);
}

#[test]
fn a_telephone_number_spelled_in_words_is_contact_information_a_count_is_not() {
    assert_not_approved(&[
        "Звоните: восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
        "call me: eight nine one six one two three four five six seven",
    ]);
    assert_approved(&[
        "Раз, два, три, четыре, пять — вышел зайчик погулять.",
        "Счёт два один в пользу Зенита, а потом три два.",
        "one two three four five, once I caught a fish alive",
    ]);
}
