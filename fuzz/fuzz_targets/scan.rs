//! Fuzzes the scanner on files and notebooks: no input may panic, hang or make it report a
//! position outside the file; whatever it finds in whole content it also finds when the same
//! content is streamed in chunks (the path of files over the size limit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlguard::scan::Scanner;
use mlguard::scan::rules::RuleSet;
use std::sync::OnceLock;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("built-in rules compile"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, content)) = data.split_first() else {
        return;
    };
    let path = match selector % 6 {
        0 => "nb.ipynb",
        1 => ".env",
        2 => "run.sh",
        3 => "config.yaml",
        4 => "model.bin",
        _ => "train.py",
    };
    let scanner = Scanner::new(rules(), Vec::new());
    let whole = scanner.examine(path, content);
    let lines = content.iter().filter(|&&b| b == b'\n').count() + 1;
    for finding in &whole.findings {
        assert!(finding.line >= 1 && finding.end_line >= finding.line);
        // Decoded UTF-16/32 text has fewer lines than bytes, never more lines than the file.
        assert!(finding.line <= lines.max(content.len() + 1));
        assert!(!finding.secret.is_empty());
    }
    let streamed = scanner
        .examine_reader(path, content)
        .expect("reading from memory cannot fail");
    if path != "nb.ipynb" {
        let key = |f: &mlguard::scan::Finding| (f.rule, f.line, f.secret.clone());
        let mut a: Vec<_> = whole.findings.iter().map(key).collect();
        let mut b: Vec<_> = streamed.findings.iter().map(key).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "streaming finds what a whole read finds");
    }
});
