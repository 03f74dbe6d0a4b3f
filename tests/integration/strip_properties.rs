//! Properties of stripping over the corpus and over random mutations of it: idempotence, output
//! that parses, cell sources kept byte for byte, and no panic on any input.

use mlguard::notebook::strip::{Render, StripOptions, strip_bytes};

use crate::common::*;

/// A small deterministic generator (xorshift64*), so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The repository's fixtures, plus the shared corpus when it is there (else the test says that
/// part was skipped). The flag tells which, so the minimum counts below fit the inputs.
fn corpus_notebooks() -> (Vec<Vec<u8>>, bool) {
    let mut files = files_with_extension(&fixture("notebooks"), "ipynb");
    let full = corpus_present();
    if !full {
        partial(
            "ran on tests/fixtures only; the shared corpus at ../shared/corpus (or MLGUARD_CORPUS) adds 100 notebooks",
        );
    } else {
        files.extend(files_with_extension(
            &corpus().join("real-notebooks"),
            "ipynb",
        ));
        files.extend(files_with_extension(&corpus().join("edge-cases"), "ipynb"));
        files.extend(files_with_extension(
            &corpus().join("nbstripout-tests/e2e_notebooks"),
            "ipynb",
        ));
    }
    let inputs = files
        .into_iter()
        .map(|f| std::fs::read(f).expect("corpus file"))
        .collect();
    (inputs, full)
}

fn option_sets() -> Vec<StripOptions> {
    let mut sets = vec![StripOptions::default()];
    sets.push(StripOptions {
        keep_output: true,
        ..Default::default()
    });
    sets.push(StripOptions {
        keep_count: true,
        keep_id: true,
        ..Default::default()
    });
    sets.push(StripOptions {
        drop_empty_cells: true,
        max_size: 500,
        ..Default::default()
    });
    // Not `cell.metadata.tags`: stripping the `keep_output` tag changes what the next run keeps,
    // in nbstripout as here, so that option set is not idempotent by design.
    sets.push(StripOptions {
        extra_keys: vec![
            "metadata.kernelspec".into(),
            "cell.metadata.papermill".into(),
        ],
        drop_tagged_cells: vec!["hide".into()],
        ..Default::default()
    });
    sets
}

#[test]
fn stripping_is_idempotent_and_output_parses() {
    let mut checked = 0;
    let (inputs, full) = corpus_notebooks();
    for input in inputs {
        for options in option_sets() {
            let Ok(once) = strip_bytes(&input, &options, Render::Always) else {
                continue;
            };
            let text = std::str::from_utf8(&once.output).expect("output is UTF-8");
            mlguard::json::parse(text).expect("output parses");
            let twice = strip_bytes(&once.output, &options, Render::Always)
                .expect("stripped output strips");
            assert_eq!(once.output, twice.output, "not idempotent");
            assert!(!twice.changed, "a stripped notebook reports a change");
            checked += 1;
        }
    }
    let minimum = if full { 400 } else { 20 };
    assert!(checked > minimum, "only {checked} cases checked");
}

fn sources(notebook: &serde_json::Value) -> Vec<String> {
    let cells = notebook["cells"].as_array().cloned().unwrap_or_default();
    cells
        .iter()
        .map(|cell| match &cell["source"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(lines) => lines.iter().filter_map(|l| l.as_str()).collect(),
            _ => String::new(),
        })
        .collect()
}

#[test]
fn cell_sources_survive_byte_for_byte() {
    let mut checked = 0;
    let (inputs, full) = corpus_notebooks();
    for input in inputs {
        let Ok(before) = serde_json::from_slice::<serde_json::Value>(&input) else {
            continue;
        };
        if before.get("cells").is_none() {
            continue;
        }
        let Ok(stripped) = strip_bytes(&input, &StripOptions::default(), Render::Always) else {
            continue;
        };
        let after: serde_json::Value =
            serde_json::from_slice(&stripped.output).expect("output parses");
        assert_eq!(sources(&before), sources(&after));
        checked += 1;
    }
    let minimum = if full { 50 } else { 2 };
    assert!(checked > minimum, "only {checked} notebooks checked");
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    let tokens: [&[u8]; 12] = [
        b"{", b"}", b"[", b"]", b"\"", b"\\", b"\\u", b",", b":", b"null", b"\xff", b"\\ud800",
    ];
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(4) {
            0 => data.truncate(at),
            1 if at < data.len() => data[at] = rng.next() as u8,
            2 => data
                .splice(at..at, tokens[rng.below(tokens.len())].iter().copied())
                .for_each(drop),
            _ => {
                let end = (at + rng.below(64)).min(data.len());
                data.drain(at..end);
            }
        }
    }
    data
}

#[test]
fn arbitrary_input_never_panics() {
    let inputs: Vec<Vec<u8>> = corpus_notebooks()
        .0
        .into_iter()
        .filter(|i| i.len() < 200_000)
        .collect();
    let options = option_sets();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for round in 0..4000 {
        let data = if round % 10 == 0 {
            (0..rng.below(300)).map(|_| rng.next() as u8).collect()
        } else {
            let pick = rng.below(inputs.len());
            mutate(&mut rng, &inputs[pick])
        };
        let opts = &options[rng.below(options.len())];
        let result = std::panic::catch_unwind(|| strip_bytes(&data, opts, Render::Always));
        assert!(result.is_ok(), "panic in round {round}");
        if let Ok(Ok(stripped)) = result {
            let text = std::str::from_utf8(&stripped.output).expect("output is UTF-8");
            assert!(
                mlguard::json::parse(text).is_ok(),
                "round {round}: output does not parse"
            );
        }
    }
}
