//! Finding credentials: the rules (data, in `rules.toml`), the engine that runs them over a
//! text or a notebook, and the sources that feed it (files on disk, the index, git history).
//!
//! Dependencies point one way: `finding` and `text` depend on nothing here; `rules` on nothing;
//! `notebook` (the scanner's view of a notebook) on `json`; `engine` on those; `sources`,
//! `history` and `baseline` on the engine and the finding types.

pub mod baseline;
pub mod check;
pub mod context;
pub mod engine;
pub mod finding;
pub mod history;
pub mod notebook;
pub mod precision;
pub mod rules;
pub mod sources;
pub mod text;

pub use engine::Scanner;
pub use finding::{CommitInfo, Exposure, Finding};

/// Every built-in rule carries its examples: each positive must be found by that rule, and no
/// negative may make any rule fire.
#[cfg(test)]
mod rule_examples {
    use super::Scanner;
    use super::rules::{RuleSet, builtin_specs_with_examples};

    /// The built-in rules as a scan uses them, with their examples and negatives kept.
    fn with_examples() -> RuleSet {
        RuleSet::new(
            builtin_specs_with_examples().unwrap(),
            Vec::new(),
            &[],
            super::rules::Volume::Small,
        )
        .unwrap()
    }

    /// A file name that the rule's `paths` accepts (rules without `paths` apply everywhere).
    fn sample_path(rules: &RuleSet, index: usize) -> &'static str {
        let candidates = [
            "example.py",
            ".env",
            "scripts/run.sh",
            ".pypirc",
            "clearml.conf",
            ".npmrc",
        ];
        let rule = &rules.rules[index];
        candidates
            .into_iter()
            .find(|c| rule.applies_to(c))
            .expect("no sample path fits the rule's paths")
    }

    #[test]
    fn every_rule_has_examples_and_negatives() {
        for spec in builtin_specs_with_examples().unwrap() {
            assert!(!spec.examples.is_empty(), "{}: no examples", spec.id);
            assert!(!spec.negatives.is_empty(), "{}: no negatives", spec.id);
        }
    }

    #[test]
    fn positive_examples_fire_their_rule() {
        let rules = with_examples();
        let scanner = Scanner::new(&rules, Vec::new());
        let mut failures = Vec::new();
        for (index, rule) in rules.rules.iter().enumerate() {
            let path = sample_path(&rules, index);
            for example in &rule.spec.examples {
                let found = scanner.scan(path, example.as_bytes());
                if !found.iter().any(|f| f.rule == index) {
                    let got: Vec<&str> = found
                        .iter()
                        .map(|f| rules.rules[f.rule].spec.id.as_str())
                        .collect();
                    failures.push(format!(
                        "{}: not found in {example:?} (got {got:?})",
                        rule.spec.id
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn negative_examples_fire_nothing() {
        let rules = with_examples();
        let scanner = Scanner::new(&rules, Vec::new());
        let mut failures = Vec::new();
        for (index, rule) in rules.rules.iter().enumerate() {
            let path = sample_path(&rules, index);
            for negative in &rule.spec.negatives {
                for finding in scanner.scan(path, negative.as_bytes()) {
                    failures.push(format!(
                        "{}: negative {negative:?} fired {}",
                        rule.spec.id, rules.rules[finding.rule].spec.id
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
