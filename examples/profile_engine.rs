//! Times the built-in rules, and parts of them, on ~1 KB comments.
use commentd::moderation::{Context, DEFAULT_RULES, RuleSet};

fn bodies() -> Vec<String> {
    let corpus = std::fs::read_to_string("tests/corpus/comments.jsonl").unwrap();
    let samples = commentd::eval::parse_corpus(&corpus).unwrap();
    let mut bodies = Vec::new();
    let mut current = String::new();
    for s in &samples {
        current.push_str(&s.text);
        current.push(' ');
        if current.len() >= 1000 {
            bodies.push(std::mem::take(&mut current));
        }
    }
    bodies
}

fn time(name: &str, rules: &RuleSet, bodies: &[String]) {
    let n = 20;
    let t = std::time::Instant::now();
    for _ in 0..n {
        for b in bodies {
            std::hint::black_box(rules.moderate(b, &Context::default()));
        }
    }
    println!(
        "{name:<12} {:>8.1?} per comment",
        t.elapsed() / (n * bodies.len()) as u32
    );
}

fn main() {
    let bodies = bodies();
    let all = RuleSet::builtin();
    time("all", &all, &bodies);
    let table: toml::Table = DEFAULT_RULES.parse().unwrap();
    for keep in ["terms", "regex", "other"] {
        let mut t = table.clone();
        let rules = t["rule"].as_array_mut().unwrap();
        rules.retain(|r| {
            let r = r.as_table().unwrap();
            match keep {
                "terms" => r.contains_key("terms"),
                "regex" => r.contains_key("regex"),
                _ => !r.contains_key("terms") && !r.contains_key("regex"),
            }
        });
        let set = RuleSet::from_toml(&toml::to_string(&t).unwrap(), keep).unwrap();
        time(keep, &set, &bodies);
    }
    if std::env::args().any(|a| a == "--each-regex") {
        for r in table["rule"].as_array().unwrap() {
            let r = r.as_table().unwrap();
            if !r.contains_key("regex") {
                continue;
            }
            let mut t = table.clone();
            t["rule"]
                .as_array_mut()
                .unwrap()
                .retain(|x| x.as_table().unwrap()["id"] == r["id"]);
            let set = RuleSet::from_toml(&toml::to_string(&t).unwrap(), "one").unwrap();
            time(r["id"].as_str().unwrap(), &set, &bodies);
        }
    }
}
