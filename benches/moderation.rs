//! Moderation throughput on realistic ~1 KB comments with a large generated
//! rule set (2,000 terms, 50 regexes), side by side with:
//!
//! * `raw_scan`: one Aho–Corasick scan of the same bytes for the same terms,
//!   no normalisation (the ceiling);
//! * `naive`: lower-case, then search term by term;
//! * `rustrict`: the `rustrict` crate's own analysis of the same comments.
//!
//! Criterion measures each; a final interleaved round prints the ratios the
//! targets are stated in (commentd ≥ 2× rustrict, within 4× of the raw scan).

use std::hint::black_box;
use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, MatchKind};
use commentd::moderation::{Action, Context, RuleSet};
use criterion::{Criterion, Throughput, criterion_group};

/// A small deterministic generator (xorshift), so the rule set is the same
/// in every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn word(&mut self, alphabet: &[char], min: usize, max: usize) -> String {
        let len = min + self.below(max - min + 1);
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

const TERMS: usize = 2000;
const REGEXES: usize = 50;

/// 2,000 generated terms (Latin and Cyrillic, every matching mode) and 50
/// generated regexes, as a rule file; plus the plain term words for the
/// baselines.
fn generated_rules() -> (String, Vec<String>) {
    let latin: Vec<char> = ('a'..='z').collect();
    let cyrillic: Vec<char> = ('а'..='я').collect();
    let mut rng = Rng(0x5eed_cafe_f00d);
    let mut words = Vec::with_capacity(TERMS);
    let mut terms = Vec::with_capacity(TERMS);
    while words.len() < TERMS {
        let alphabet = if rng.below(3) == 0 { &cyrillic } else { &latin };
        let word = rng.word(alphabet, 4, 9);
        if words.contains(&word) {
            continue;
        }
        let term = match rng.below(4) {
            0 => format!("{word}*"),
            1 => format!("*{word}*"),
            _ => word.clone(),
        };
        terms.push(format!("\"{term}\""));
        words.push(word);
    }
    let mut file = String::from("name = \"generated\"\n");
    for (i, chunk) in terms.chunks(TERMS / 4).enumerate() {
        let action = ["reject", "review", "reject", "review"][i];
        file.push_str(&format!(
            "[[rule]]\nid = \"terms-{i}\"\ncategory = \"generated\"\naction = \"{action}\"\nterms = [{}]\n\n",
            chunk.join(", ")
        ));
    }
    for i in 0..REGEXES {
        let a = rng.word(&latin, 3, 6);
        let b = rng.word(&latin, 3, 6);
        let c = rng.word(&cyrillic, 3, 6);
        let pattern = match i % 3 {
            0 => format!(r"\b{a}\w*\s+(?:{b}|{c})\b"),
            1 => format!(r"\b(?:{a}|{b})\b.{{0,20}}\d{{2,4}}"),
            _ => format!(r"(?:{c}|{a})[\s.-]*\d{{3}}"),
        };
        file.push_str(&format!(
            "[[rule]]\nid = \"regex-{i}\"\ncategory = \"generated\"\naction = \"review\"\nregex = '{pattern}'\n\n"
        ));
    }
    (file, words)
}

/// Realistic comments of about 1 KB: consecutive texts of the labelled
/// corpus (news comments, abuse, spam; English and Russian).
fn comments() -> Vec<String> {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/comments.jsonl"
    ))
    .expect("the corpus");
    let samples = commentd::eval::parse_corpus(&source).expect("the corpus parses");
    let mut comments = Vec::new();
    let mut current = String::new();
    for sample in &samples {
        current.push_str(&sample.text);
        current.push(' ');
        if current.len() >= 1024 {
            comments.push(std::mem::take(&mut current));
        }
    }
    comments
}

struct Contenders {
    rules: RuleSet,
    raw: AhoCorasick,
    words: Vec<String>,
    comments: Vec<String>,
}

impl Contenders {
    fn new() -> Self {
        let (file, words) = generated_rules();
        let rules = RuleSet::from_toml(&file, "generated.toml").expect("generated rules are valid");
        let raw = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&words)
            .expect("raw automaton");
        Contenders {
            rules,
            raw,
            words,
            comments: comments(),
        }
    }

    fn commentd(&self, body: &str) -> usize {
        let verdict = self.rules.moderate(body, &Context::default());
        usize::from(verdict.action != Action::Approve)
    }

    fn raw_scan(&self, body: &str) -> usize {
        self.raw.find_overlapping_iter(body.as_bytes()).count()
    }

    fn naive(&self, body: &str) -> usize {
        let lower = body.to_lowercase();
        self.words
            .iter()
            .filter(|w| lower.contains(w.as_str()))
            .count()
    }

    fn rustrict(&self, body: &str) -> usize {
        use rustrict::CensorStr;
        usize::from(body.is_inappropriate())
    }
}

fn bench(c: &mut Criterion) {
    let contenders = Contenders::new();
    let comments = &contenders.comments;
    // Each contender does real work on these comments; the counts are
    // checked so that no contender is measured doing nothing.
    assert!(comments.len() >= 64, "{} comments", comments.len());
    let flagged: usize = comments.iter().map(|b| contenders.commentd(b)).sum();
    let builtin = RuleSet::builtin();
    let flagged_builtin = comments
        .iter()
        .filter(|b| builtin.moderate(b, &Context::default()).action != Action::Approve)
        .count();
    // The corpus is about half abuse and spam, in runs: at least a quarter
    // of its 1 KB chunks hold some.
    assert!(
        flagged_builtin >= comments.len() / 4,
        "{flagged_builtin} flagged by the built-in rules"
    );
    println!(
        "{} comments, avg {} bytes; generated rules flag {flagged}, built-in rules flag {flagged_builtin}; {} patterns",
        comments.len(),
        comments.iter().map(String::len).sum::<usize>() / comments.len(),
        contenders.rules.pattern_count()
    );

    let mut group = c.benchmark_group("moderate_1kb");
    group.throughput(Throughput::Elements(comments.len() as u64));
    group.bench_function("commentd", |b| {
        b.iter(|| {
            comments
                .iter()
                .map(|c| contenders.commentd(black_box(c)))
                .sum::<usize>()
        })
    });
    group.bench_function("commentd_builtin_rules", |b| {
        b.iter(|| {
            comments
                .iter()
                .filter(|c| {
                    builtin.moderate(black_box(c), &Context::default()).action != Action::Approve
                })
                .count()
        })
    });
    group.bench_function("raw_scan", |b| {
        b.iter(|| {
            comments
                .iter()
                .map(|c| contenders.raw_scan(black_box(c)))
                .sum::<usize>()
        })
    });
    group.bench_function("naive", |b| {
        b.iter(|| {
            comments
                .iter()
                .map(|c| contenders.naive(black_box(c)))
                .sum::<usize>()
        })
    });
    group.bench_function("rustrict", |b| {
        b.iter(|| {
            comments
                .iter()
                .map(|c| contenders.rustrict(black_box(c)))
                .sum::<usize>()
        })
    });
    group.finish();
    // `--profile-time` runs one benchmark under a profiler: no summary then.
    if !std::env::args().any(|a| a == "--profile-time") {
        summary(&contenders);
    }
}

/// Interleaved rounds of every contender, so that machine noise hits all of
/// them alike; prints comments per second and the ratios of the targets.
fn summary(c: &Contenders) {
    type Run = fn(&Contenders, &str) -> usize;
    let contenders: [(&str, Run); 4] = [
        ("commentd", Contenders::commentd),
        ("raw_scan", Contenders::raw_scan),
        ("naive", Contenders::naive),
        ("rustrict", Contenders::rustrict),
    ];
    let mut elapsed = [Duration::ZERO; 4];
    let mut done = [0u64; 4];
    let deadline = Instant::now() + Duration::from_secs(6);
    while Instant::now() < deadline {
        for (i, (_, run)) in contenders.iter().enumerate() {
            let start = Instant::now();
            for body in &c.comments {
                black_box(run(c, black_box(body)));
            }
            elapsed[i] += start.elapsed();
            done[i] += c.comments.len() as u64;
        }
    }
    let rate = |i: usize| done[i] as f64 / elapsed[i].as_secs_f64();
    println!("\ncomments per second on one core (interleaved rounds):");
    for (i, (name, _)) in contenders.iter().enumerate() {
        println!("  {name:<10} {:>12.0}", rate(i));
    }
    println!(
        "ratios: commentd / rustrict = {:.2}x (target >= 2), raw_scan / commentd = {:.2}x (target <= 4), commentd / naive = {:.2}x",
        rate(0) / rate(3),
        rate(1) / rate(0),
        rate(0) / rate(2)
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = bench
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
