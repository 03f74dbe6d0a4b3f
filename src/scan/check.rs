//! A rule's own examples and negatives, checked: every example must make the rule fire and no
//! negative may (noseyparker's `rules check`). The built-in rules are checked by the tests; a
//! team's `[[scan.rules]]` are checked when the configuration loads, so that a rule that
//! cannot find what it was written for is a configuration error naming it, not a silent gap.

use super::engine::Scanner;
use super::rules::{RuleError, RuleOrigin, RuleSet, RuleSpec, Volume};

/// Checks one rule alone (no other rule can take its matches; its `paths` are set aside, so an
/// example is judged by its text). A team's rule is compiled as the team's (fragments
/// expanded, size limited).
pub fn check_examples(spec: &RuleSpec, origin: RuleOrigin) -> Result<(), RuleError> {
    let mut alone = spec.clone();
    alone.paths = None;
    let rules = match origin {
        RuleOrigin::Builtin => RuleSet::new(vec![alone], Vec::new(), &[], Volume::Small)?,
        RuleOrigin::Team => RuleSet::new(Vec::new(), vec![alone], &[], Volume::Small)?,
    };
    let scanner = Scanner::new(&rules, Vec::new());
    let fires = |text: &str| !scanner.scan("example.txt", text.as_bytes()).is_empty();
    if let Some(example) = spec.examples.iter().find(|e| !fires(e)) {
        return Err(RuleError::ExampleMissed {
            id: spec.id.clone(),
            text: excerpt(example),
        });
    }
    if let Some(negative) = spec.negatives.iter().find(|n| fires(n)) {
        return Err(RuleError::NegativeFound {
            id: spec.id.clone(),
            text: excerpt(negative),
        });
    }
    Ok(())
}

/// The first characters of an example, for an error message (examples hold credential-shaped
/// values, which are never printed whole).
fn excerpt(text: &str) -> String {
    let shown: String = text.chars().take(8).collect();
    if shown.len() < text.len() {
        format!("{shown}…")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::rules::builtin_specs_with_examples;

    #[test]
    fn every_builtin_rule_passes_its_own_check() {
        let failures: Vec<String> = builtin_specs_with_examples()
            .unwrap()
            .iter()
            .filter_map(|spec| {
                check_examples(spec, RuleOrigin::Builtin)
                    .err()
                    .map(|e| e.to_string())
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn check_examples_team(spec: &RuleSpec) -> Result<(), RuleError> {
        check_examples(spec, RuleOrigin::Team)
    }

    #[test]
    fn a_rule_missing_its_example_or_firing_on_its_negative_is_an_error() {
        let rule = |examples: &[&str], negatives: &[&str]| -> RuleSpec {
            toml::from_str(&format!(
                "id = \"acme-token\"\ndescription = \"ACME token\"\nregex = '''\\bacme_[A-Za-z0-9]{{20}}\\b'''\nkeywords = [\"acme_\"]\nexamples = {examples:?}\nnegatives = {negatives:?}\n"
            ))
            .unwrap()
        };
        assert!(
            check_examples_team(&rule(
                &["t = acme_Xk9mP2vLq7Zt4Wn8Rb3Y"],
                &["t = acme_short"]
            ))
            .is_ok()
        );
        let missed = check_examples_team(&rule(&["t = acme_short"], &[])).unwrap_err();
        assert_eq!(
            missed.to_string(),
            "rule acme-token: example \"t = acme…\" is not found by the rule"
        );
        let found =
            check_examples_team(&rule(&[], &["t = acme_Xk9mP2vLq7Zt4Wn8Rb3Y"])).unwrap_err();
        assert_eq!(
            found.to_string(),
            "rule acme-token: negative \"t = acme…\" is found by the rule"
        );
    }
}
