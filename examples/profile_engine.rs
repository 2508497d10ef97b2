fn main() {
    let rules = commentd::moderation::RuleSet::builtin();
    let corpus = std::fs::read_to_string("tests/corpus/comments.jsonl").unwrap();
    let samples = commentd::eval::parse_corpus(&corpus).unwrap();
    // ~1 KB comments made of consecutive corpus texts.
    let mut bodies = Vec::new();
    let mut current = String::new();
    for s in &samples {
        current.push_str(&s.text);
        current.push(' ');
        if current.len() >= 1000 {
            bodies.push(std::mem::take(&mut current));
        }
    }
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let t = std::time::Instant::now();
    let mut rejected = 0;
    for _ in 0..n {
        for b in &bodies {
            let v = rules.moderate(b, &Default::default());
            rejected += (v.action == commentd::moderation::Action::Reject) as usize;
        }
    }
    let per = t.elapsed() / (n * bodies.len()) as u32;
    println!(
        "{} bodies, {:?} per ~1KB comment, rejected {}",
        bodies.len(),
        per,
        rejected
    );
}
