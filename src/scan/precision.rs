//! Whether a matched value is a credential or a stand-in for one. Every rule, warnings included,
//! passes its value through these tests: documentation and tutorials are full of strings that
//! have a credential's shape but not its randomness (`hf_abcdefghijklmnopqrstuvwxyz0123456`,
//! `AbC123dEf`), name what they stand for (`your_api_key`, `redis_password`,
//! `SYS_SECURE_TOKEN_5541`), or are the well-known passwords of examples (`postgres`,
//! `P@ssw0rd`). Names are judged too: a value assigned to `test_secret` or `fake_api_key` is a
//! fixture.

/// Marks that make a value a stand-in wherever they occur: elisions, masks and template syntax.
const PLACEHOLDER_MARKS: [&str; 13] = [
    "...",
    "\u{2026}",
    "****",
    "<",
    ">",
    "${",
    "%(",
    "{{",
    "xxxx",
    "XXXX",
    "abcdefgh",
    "ABCDEFGH",
    "change-me",
];

/// Words that make a value a stand-in (`your_api_key`, `YOUR-KEY`, `sk-proj-foobar`,
/// `myTestPassword`). Words of six letters or more count anywhere; shorter ones only where
/// they stand as words, delimited and in one case: inside a random key the same letters appear
/// by chance (an OpenAI key may read `…fYOURub…`; that is not a placeholder).
const PLACEHOLDER_WORDS_IN_VALUES: [&str; 23] = [
    "demo",
    "test",
    "random",
    "apikey",
    "ssword",
    "passwd",
    "your",
    "here",
    "placeholder",
    "changeme",
    "redacted",
    "example",
    "dummy",
    "sample",
    "fake",
    "foobar",
    "mock",
    "password",
    "passw0rd",
    "secret",
    "token",
    "insert",
    "replace",
];

/// Whole values (case-insensitive) that are words, not secrets.
const PLACEHOLDER_WORDS: [&str; 14] = [
    "password",
    "passwd",
    "pass",
    "secret",
    "pwd",
    "token",
    "test",
    "admin",
    "root",
    "user",
    "username",
    "none",
    "null",
    "undefined",
];

/// Passwords of documentation, default installations and tutorials, compared after undoing
/// leetspeak and dropping trailing digits and punctuation (`P@ssw0rd123!` is `password`).
const EXAMPLE_PASSWORDS: [&str; 59] = [
    "neo4j",
    "password",
    "passwd",
    "pass",
    "secret",
    "changeme",
    "changeit",
    "notasecret",
    "admin",
    "administrator",
    "root",
    "toor",
    "guest",
    "test",
    "testing",
    "tester",
    "postgres",
    "postgresql",
    "mysql",
    "mongo",
    "mongodb",
    "redis",
    "mlflow",
    "airflow",
    "minio",
    "minioadmin",
    "rabbitmq",
    "neo",
    "elastic",
    "kibana",
    "oracle",
    "tiger",
    "user",
    "username",
    "default",
    "demo",
    "example",
    "sample",
    "qwerty",
    "letmein",
    "welcome",
    "hunter",
    "iloveyou",
    "monkey",
    "dragon",
    "master",
    "superuser",
    "supersecret",
    "mysecret",
    "mypassword",
    "yourpassword",
    "secretpassword",
    "dbpassword",
    "dbpass",
    "foobar",
    "foo",
    "bar",
    "abc",
    "abcdef",
];

/// Name parts that mark test data rather than a credential.
const FIXTURE_NAME_PARTS: [&str; 9] = [
    "test",
    "fake",
    "dummy",
    "mock",
    "example",
    "sample",
    "placeholder",
    "stub",
    "bogus",
];

/// Values that documentation and default configurations publish, so that they are found in
/// thousands of repositories and open nothing (Kibana's documented encryption key).
const DOCUMENTED_VALUES: [&str; 1] = ["fhjskloppd678ehkdfdlliverpoolfcr"];

/// Whether `value` is a template or a stand-in rather than a credential.
pub fn is_placeholder(value: &[u8]) -> bool {
    // Credentials are ASCII; a value with other characters is prose or a test of Unicode.
    if !value.is_ascii() {
        return true;
    }
    let lower = String::from_utf8_lossy(value).to_ascii_lowercase();
    // Leetspeak spells the same words (`s3cr3t_p4ss`).
    let unleet: String = lower
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect();
    DOCUMENTED_VALUES.contains(&lower.as_str())
        || (lower.contains('{') && lower.contains('}'))
        || PLACEHOLDER_MARKS
            .iter()
            .any(|m| value.windows(m.len()).any(|w| w == m.as_bytes()))
        || PLACEHOLDER_WORDS_IN_VALUES.iter().any(|word| {
            // Six letters or more do not occur by chance; shorter ones must stand as words.
            if word.len() >= 6 {
                lower.contains(word) || (unleet.contains(word) && unleet.contains('_'))
            } else {
                contains_word(value, word.as_bytes())
            }
        })
        || PLACEHOLDER_WORDS.contains(&lower.as_str())
        || has_placeholder_segment(&lower)
        || is_identifier_like(value)
        || is_word_salad(value)
        || is_patterned(value)
        || is_example_password(value)
        || is_file_name(value)
}

/// `keys/sa-2024.json`, `id_ed25519.pub`: a file that holds a credential, not one. (No key
/// format ends in a dot and a short extension.)
pub fn is_file_name(value: &[u8]) -> bool {
    value.iter().rposition(|&b| b == b'.').is_some_and(|dot| {
        let extension = &value[dot + 1..];
        (1..=5).contains(&extension.len())
            && extension[0].is_ascii_alphabetic()
            && extension.iter().all(u8::is_ascii_alphanumeric)
            && dot > 0
    })
}

/// The entropy a value must reach: the rule's `wanted`, but no more than 70% of the most a
/// string of its length and alphabet can have. A fixed floor rejects random values of
/// small alphabets (one random 32-hex key in five has less than 3.5 bits per byte; a random
/// 16-character password cannot reach 4), while stand-ins stay far below either.
pub fn entropy_floor(value: &[u8], wanted: f64) -> f64 {
    let hex = value.iter().all(|b| b.is_ascii_hexdigit())
        && !(value.iter().any(u8::is_ascii_lowercase) && value.iter().any(u8::is_ascii_uppercase));
    let alphabet: usize = if value.iter().all(u8::is_ascii_digit) {
        10
    } else if hex {
        16
    } else if value.iter().all(u8::is_ascii_alphanumeric) {
        if classes(value) == 3 { 62 } else { 36 }
    } else {
        64
    };
    let most = (value.len().min(alphabet).max(1) as f64).log2();
    wanted.min(0.7 * most)
}

/// Letters and digits, as random keys have; or, for a key of letters only, a long run in
/// random case, with small letters standing alone between capitals (`mXxYBbZWOz…`), which
/// names in code never have (`searchPersonaAPIKey`, `DefaultCredentials`).
pub fn is_mixed(value: &[u8]) -> bool {
    let letters = value.iter().any(u8::is_ascii_alphabetic);
    if value.iter().any(u8::is_ascii_digit) {
        return letters;
    }
    let upper = |i: Option<usize>| {
        i.and_then(|i| value.get(i))
            .is_none_or(u8::is_ascii_uppercase)
    };
    let lone_small = (0..value.len())
        .filter(|&i| value[i].is_ascii_lowercase() && upper(i.checked_sub(1)) && upper(Some(i + 1)))
        .count();
    value.len() >= 24 && lone_small >= 2
}

/// How many of the classes lower case, upper case, digit and other a value uses.
pub fn classes(value: &[u8]) -> u8 {
    let has = |f: fn(&u8) -> bool| u8::from(value.iter().any(f));
    has(u8::is_ascii_lowercase)
        + has(u8::is_ascii_uppercase)
        + has(u8::is_ascii_digit)
        + has(|b| !b.is_ascii_alphanumeric())
}

/// Names and numbers joined by separators (`SOME_CONSTANT_V2`, `model.layers.3`,
/// `hashed_pw_2`): code, not a random key, whose separated parts mix letters and digits.
pub fn is_word_salad(value: &[u8]) -> bool {
    let separators = |b: &u8| matches!(b, b'_' | b'-' | b'.' | b'/' | b':');
    if !value.iter().any(separators) {
        // One word and a number (`thisisseceret123`, `summerhouse2024`): typed, not drawn.
        // (Longer runs of letters are random as often: an AWS key id is all capitals.)
        let body = value
            .iter()
            .rposition(u8::is_ascii_alphanumeric)
            .map_or(value, |end| &value[..=end]);
        let letters = body.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let digits = &body[letters..];
        let word = &body[..letters];
        // Small letters only: `Summer2024!` is a weak password someone uses, not an example.
        return (6..=14).contains(&letters)
            && word.iter().all(u8::is_ascii_lowercase)
            && (1..=4).contains(&digits.len())
            && digits.iter().all(u8::is_ascii_digit)
            && body.len() == value.len();
    }
    // A word is written in one case (or capitalised), with at most one short run of digits
    // (`id2label`, `utf8`, `V2`); random letters mix cases anywhere and digits everywhere.
    let is_word = |part: &[u8]| {
        let letters: Vec<u8> = part
            .iter()
            .copied()
            .filter(u8::is_ascii_alphabetic)
            .collect();
        let tail = letters.get(1..).unwrap_or_default();
        let one_case = letters.iter().all(u8::is_ascii_lowercase)
            || letters.iter().all(u8::is_ascii_uppercase)
            || (letters.first().is_some_and(u8::is_ascii_uppercase)
                && tail.iter().all(u8::is_ascii_lowercase));
        let digit_runs = part
            .split(|b| !b.is_ascii_digit())
            .filter(|run| !run.is_empty())
            .collect::<Vec<_>>();
        let alphanumeric = part.iter().all(u8::is_ascii_alphanumeric);
        alphanumeric
            && one_case
            && !letters.is_empty()
            && (digit_runs.is_empty() || (digit_runs.len() == 1 && digit_runs[0].len() <= 3))
    };
    value
        .split(separators)
        .all(|part| part.len() <= 3 || is_word(part) || part.iter().all(u8::is_ascii_digit))
}

/// Whether `word` (lower case) occurs in `value` as a word: in one case (`your`, `YOUR`,
/// `Your`), after a non-letter or (capitalised) after a small letter (`AIzaFakeKey`), and
/// before a non-letter or a capital.
fn contains_word(value: &[u8], word: &[u8]) -> bool {
    let n = word.len();
    (0..value.len().saturating_sub(n - 1)).any(|at| {
        let candidate = &value[at..at + n];
        let lower = candidate.iter().all(u8::is_ascii_lowercase);
        let upper = candidate.iter().all(u8::is_ascii_uppercase);
        let capitalised =
            candidate[0].is_ascii_uppercase() && candidate[1..].iter().all(u8::is_ascii_lowercase);
        let before = at.checked_sub(1).map(|i| value[i]);
        let after = value.get(at + n).copied();
        let starts = match before {
            None => true,
            Some(b) if !b.is_ascii_alphanumeric() => true,
            Some(b) => capitalised && b.is_ascii_lowercase(),
        };
        let ends = match after {
            None => true,
            Some(b) if !b.is_ascii_alphabetic() => true,
            Some(b) => b.is_ascii_uppercase() && !upper,
        };
        candidate.eq_ignore_ascii_case(word) && (lower || upper || capitalised) && starts && ends
    })
}

/// A name in code, camel-cased: words, acronyms and a short number (`S3CredentialsConfig`,
/// `searchPersonaAPIKey`, `RestApiOAuthFlow`, `s3AccessKeyIDName`). Two words of four small
/// letters or more (three when the value has no digit) make a name; random keys of 16
/// characters or more read like this about one time in 250.
pub fn is_code_identifier(value: &[u8]) -> bool {
    let word = if value.iter().any(u8::is_ascii_digit) {
        4
    } else {
        3
    };
    let mut long_words = 0;
    let mut digit_runs = 0;
    let mut at = 0;
    while at < value.len() {
        let rest = &value[at..];
        let upper = rest.iter().take_while(|b| b.is_ascii_uppercase()).count();
        let lower = rest[upper..]
            .iter()
            .take_while(|b| b.is_ascii_lowercase())
            .count();
        let digits = if upper + lower == 0 {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        } else {
            0
        };
        match (upper, lower, digits) {
            (0, 0, 0) => return false,
            (0, 0, d) => {
                digit_runs += 1;
                if d > 3 || digit_runs > 2 {
                    return false;
                }
            }
            (u, 0, _) if u > 5 => return false,
            // One small letter alone is random, except a name's first (`s3Bucket`, `iPhone`).
            (0, 1, _) if at == 0 => {}
            (_, 1, _) => return false,
            (_, l, _) if l >= word => long_words += 1,
            _ => {}
        }
        at += upper + lower + digits;
    }
    long_words >= 2
}

/// `args.logicalCwd`, `settings.db.password_v2`: an unquoted value that is a chain of names.
pub fn is_dotted_reference(value: &[u8]) -> bool {
    value.contains(&b'.')
        && value.split(|&b| b == b'.').all(|part| {
            part.first()
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                && part.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        })
}

/// `test_…`, `fake-…`, `sample.…`: a value whose first part says it is not real. (Later parts
/// are judged as words, or as a whole by `is_word_salad`: in a random URL-safe token, short
/// parts between `-` and `_` spell words by chance.)
fn has_placeholder_segment(lower: &str) -> bool {
    let mut segments = lower.split(['_', '-', '.', ' ', '/', ':']);
    let first = segments.next().unwrap_or_default();
    segments.next().is_some()
        && matches!(
            first,
            "test" | "fake" | "dummy" | "sample" | "example" | "mock" | "demo"
        )
}

/// Words without digits: `redis_password`, `read_token`, `NOMIC_API_KEY`, `myApiKey`,
/// `correct-horse-battery`. Random keys hold digits, and mixed case at random.
pub fn is_identifier_like(value: &[u8]) -> bool {
    if value.is_empty() || value.iter().any(u8::is_ascii_digit) {
        return false;
    }
    let separator = |b: &u8| matches!(b, b'_' | b'-' | b'.' | b' ');
    let words = || value.split(separator);
    // One long run of capitals or small letters is a random key as often as a word (an AWS key
    // id is all letters one time in thirty); with separators, or short, it is a name.
    let named = value.iter().any(separator) || value.len() <= 16;
    let all_lower = named && words().all(|w| w.iter().all(u8::is_ascii_lowercase));
    let all_upper = named && words().all(|w| w.iter().all(u8::is_ascii_uppercase));
    // camelCase / PascalCase: an upper-case letter never follows another one.
    let camel = value.iter().all(u8::is_ascii_alphabetic)
        && value
            .windows(2)
            .all(|w| !(w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase()));
    all_lower || all_upper || camel
}

/// Runs of the alphabet or of digits (`abcdef…`, `0123…`, `AbC123dEf`) or a short unit repeated
/// (`abcabcabc…`, `deadbeefdeadbeef…`): shapes people type, not randomness.
pub fn is_patterned(value: &[u8]) -> bool {
    let len = value.len();
    if len < 4 {
        return false;
    }
    let steps = value
        .windows(2)
        .filter(|w| {
            let (a, b) = (w[0].to_ascii_lowercase(), w[1].to_ascii_lowercase());
            let same_class = (a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
                || (a.is_ascii_digit() && b.is_ascii_digit());
            same_class && (b == a.wrapping_add(1) || a == b.wrapping_add(1))
        })
        .count();
    // A run of six (`123456`, `abcdef`) is typed; random keys hold one a few times in ten million.
    let mut run = 0;
    for w in value.windows(2) {
        let (a, b) = (w[0].to_ascii_lowercase(), w[1].to_ascii_lowercase());
        let same_class = (a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
            || (a.is_ascii_digit() && b.is_ascii_digit());
        run = if same_class && b == a.wrapping_add(1) {
            run + 1
        } else {
            0
        };
        if run >= 5 {
            return true;
        }
    }
    // Short values must be one run (`1234`, `abcd`); longer ones mostly runs.
    if (len < 6 && steps == len - 1) || (len >= 6 && steps * 5 >= (len - 1) * 2) {
        return true;
    }
    if len < 6 {
        return false;
    }
    // Repeated units are short (`abc`, `deadbeef`, `12345678`).
    (1..=(len / 3).min(12)).any(|period| {
        let same = (0..len - period)
            .filter(|&i| value[i] == value[i + period])
            .count();
        same * 10 >= (len - period) * 9
    })
}

/// A password from documentation or a default installation (`postgres`, `P@ssw0rd1`).
pub fn is_example_password(value: &[u8]) -> bool {
    let normal: String = value
        .iter()
        .map(|&b| match b.to_ascii_lowercase() {
            b'0' => 'o',
            b'1' | b'!' => 'i',
            b'3' => 'e',
            b'4' | b'@' => 'a',
            b'5' | b'$' => 's',
            b'7' => 't',
            other => char::from(other),
        })
        .collect();
    let lower = String::from_utf8_lossy(value).to_ascii_lowercase();
    // Trailing digits and punctuation dropped (`password123!`): cut where the original's last
    // letter is, in both spellings.
    let kept = value
        .iter()
        .rposition(|b| b.is_ascii_alphabetic())
        .map_or(0, |p| p + 1);
    [
        normal.as_str(),
        &normal[..kept.min(normal.len())],
        lower.as_str(),
        &lower[..kept.min(lower.len())],
    ]
    .iter()
    .any(|candidate| EXAMPLE_PASSWORDS.contains(candidate))
}

/// Whether `range` of `text` sits inside a long run of base64 (an inline image, an encoded
/// blob): a token's shape found there is a coincidence of random characters, not a token
/// someone wrote. (An encoded credential is found by decoding, see `context`.)
pub fn inside_base64(text: &[u8], range: std::ops::Range<usize>) -> bool {
    const RUN: usize = 48;
    let base64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/');
    let before = text[..range.start]
        .iter()
        .rev()
        .take(RUN)
        .take_while(|b| base64(b))
        .count();
    let after = text[range.end..]
        .iter()
        .take(RUN)
        .take_while(|b| base64(b))
        .count();
    before == RUN && after == RUN
}

/// A value made of its own name (`REDIS_PASSWORD=redis_password`, `KINETICA_PASSWORD=
/// Kinetica123!`): its letters, four or more, spell a part of the name.
pub fn repeats_name(value: &[u8], name: &[u8]) -> bool {
    let letters: Vec<u8> = value
        .iter()
        .filter(|b| b.is_ascii_alphabetic())
        .map(u8::to_ascii_lowercase)
        .collect();
    let name: Vec<u8> = name
        .iter()
        .filter(|b| b.is_ascii_alphabetic())
        .map(u8::to_ascii_lowercase)
        .collect();
    letters.len() >= 4 && name.windows(letters.len()).any(|w| w == letters.as_slice())
}

/// Whether a credential's name marks test data (`TEST_SECRET`, `fake_api_key`, `mockToken`).
pub fn is_fixture_name(name: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| {
            FIXTURE_NAME_PARTS
                .iter()
                .any(|f| part == *f || part.starts_with(f) && part.len() <= f.len() + 1)
        })
        || FIXTURE_NAME_PARTS.iter().any(|f| {
            // camelCase: `testApiKey`, `mockToken`.
            lower.starts_with(f)
                && name
                    .get(f.len())
                    .is_some_and(|b| b.is_ascii_uppercase() || *b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_are_placeholders() {
        for value in [
            "hf_abcdefghijklmnopqrstuvwxyz01234567",
            "AbC123dEf",
            "redis_password",
            "read_token",
            "NOMIC_API_KEY",
            "SYS_SECURE_TOKEN_5541",
            "test-api-key-12345",
            "sk-proj-foobar",
            "KMS_SECRET_KEY_FOR_REFUND_AGENT_04_X98712",
            "chatkit_token_123",
            "0123456789abcdef0123456789abcdef01234567",
            "deadbeefdeadbeefdeadbeefdeadbeef",
            "your_huggingface_access_token",
            "1234",
            "SOME_CONSTANT_NAME_V2",
            "config.openai.key_2",
            "model.config.id2label",
            "thisisseceret123",
            "summerhouse2024",
            "AIzaFakeApiKey123456",
            "s3cr3t_p4ss",
            "FwoGZXIvYXdzEFAKE1234567890SESSIONTOKEN",
            "change-me-32chars-min1digit1lower",
            "MindsDB_demo",
            "fhjskloppd678ehkdfdlliverpoolfcr",
        ] {
            assert!(is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn random_keys_are_not_placeholders() {
        for value in [
            "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",
            "61c5cb347611a3ce9d97dcbee500fe7ee5fc324b",
            "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",
            "nZasSfGzac_mgTApAqrZd_Yqty9I4HOXKyj8qeNKdYg",
            "8KUCERkj9Zhx9PkO",
            "AKIAMMVPZOHPUPUFSMGR",
            "gHwIoALtLinxN1Ekia7ZpTjCgeOj3QYr",
            "d6e9a23a-abf0-4095-aec1-215420df604f",
            "django-insecure-k3x9!q2mz#8v@w1f&p0r^t5y",
        ] {
            assert!(!is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn example_passwords_are_recognised() {
        for value in ["postgres", "P@ssw0rd", "password123", "changeit", "Hunter2"] {
            assert!(is_example_password(value.as_bytes()), "{value}");
        }
        for value in ["8KUCERkj9Zhx9PkO", "Californiahousing1", "x7#Lq9!mZ2"] {
            assert!(!is_example_password(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn names_in_code_are_recognised() {
        for name in [
            "S3CredentialsConfig",
            "DefaultConfig",
            "searchPersonaAPIKey",
            "HTTPAuthorizationCredentials",
        ] {
            assert!(is_code_identifier(name.as_bytes()), "{name}");
        }
        for value in [
            "Xk9mP2vLq7Zt4Wn8Rb3Y",
            "ZBeLItYIfvfrVg5ufbOP",
            "8KUCERkj9Zhx9PkO",
        ] {
            assert!(!is_code_identifier(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn letters_only_values_count_as_mixed_when_their_case_is_random() {
        assert!(is_mixed(b"mXxYBbZWOzJJnUfdUACNWiPsFdJikEAvst"));
        assert!(is_mixed(b"a1b2c3"));
        assert!(!is_mixed(b"searchPersonaAPIKeyForTheIndex"));
        assert!(!is_mixed(b"DefaultCredentialRetrievers"));
        assert!(!is_mixed(b"123456789"));
    }

    #[test]
    fn entropy_floors_follow_the_alphabet() {
        // A 32-hex key with 3.4 bits per byte is random enough; a run of x's is not.
        let hex = b"630a6130847544c3aaa73a538ee36579";
        assert!(super::super::text::entropy(hex) >= entropy_floor(hex, 3.5));
        let xs = b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
        assert!(super::super::text::entropy(xs) < entropy_floor(xs, 3.5));
        assert!((entropy_floor(b"Xk9mP2vLq7Zt4Wn8Rb3Yc6HdQw2Er5Ty", 3.5) - 3.5).abs() < 1e-9);
    }

    #[test]
    fn tokens_inside_base64_runs_are_coincidences() {
        let blob = format!(
            "data:image/png;base64,{0}1//0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdef{0}",
            "iVBORw0KGgoAAAANSUhEUgAAC84AAAhcCAYAAAA2f0OvAAAKqWlD".repeat(2)
        );
        let token = "1//0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdef";
        let start = blob.find(token).unwrap();
        assert!(inside_base64(blob.as_bytes(), start..start + token.len()));
        let line = format!("refresh_token = \"{token}\"");
        let start = line.find(token).unwrap();
        assert!(!inside_base64(line.as_bytes(), start..start + token.len()));
    }

    #[test]
    fn values_spelling_their_name_are_recognised() {
        assert!(repeats_name(b"Kinetica123!", b"KINETICA_PASSWORD"));
        assert!(repeats_name(b"redis_password", b"REDIS_PASSWORD"));
        assert!(!repeats_name(b"8KUCERkj9Zhx9PkO", b"DB_PASSWORD"));
        assert!(!repeats_name(b"a1", b"a"));
    }

    #[test]
    fn fixture_names_are_recognised() {
        for name in [
            "TEST_SECRET",
            "fake_api_key",
            "mockToken",
            "EXAMPLE_KEY",
            "tests.key",
        ] {
            assert!(is_fixture_name(name.as_bytes()), "{name}");
        }
        for name in ["OPENAI_API_KEY", "latest_token", "contest_key", "api_key"] {
            assert!(!is_fixture_name(name.as_bytes()), "{name}");
        }
    }
}
