fn main() {
    let rules = commentd::moderation::RuleSet::from_toml(
        &std::fs::read_to_string(std::env::var("RULES").unwrap_or("/tmp/only_regex.toml".into()))
            .unwrap(),
        "x",
    )
    .unwrap();
    let corpus = std::fs::read_to_string("tests/corpus/comments.jsonl").unwrap();
    let samples = commentd::eval::parse_corpus(&corpus).unwrap();
    let text: String = samples
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let bodies: Vec<&str> = text
        .as_bytes()
        .chunks(1000)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    let t = std::time::Instant::now();
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    for _ in 0..n {
        for b in &bodies {
            std::hint::black_box(rules.moderate(b, &Default::default()));
        }
    }
    println!(
        "{} bodies {:?}",
        bodies.len(),
        t.elapsed() / (n * bodies.len() as u32)
    );
}
