//! Whether a matched value is a credential or a stand-in for one. Every rule, warnings included,
//! passes its value through these tests: documentation and tutorials are full of strings that
//! have a credential's shape but not its randomness (`hf_abcdefghijklmnopqrstuvwxyz0123456`,
//! `AbC123dEf`), name what they stand for (`your_api_key`, `redis_password`,
//! `SYS_SECURE_TOKEN_5541`), or are the well-known passwords of examples (`postgres`,
//! `P@ssw0rd`). Names are judged too: a value assigned to `test_secret` or `fake_api_key` is a
//! fixture.

/// Marks that make a value a stand-in wherever they occur: elisions, masks and template syntax.
const PLACEHOLDER_MARKS: [&str; 12] = [
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
const PLACEHOLDER_WORDS_IN_VALUES: [&str; 26] = [
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
    // A password that praises or names itself (`SecurePass123!`, `ReallyStrongPwd1234`) was
    // written for documentation; as words they do not arise by chance in a random key. (Not
    // `secure`: Django's generated keys begin `django-insecure-`.)
    "pass",
    "strong",
    // Demo servers' published logins (`AcmeDBUser123!`). (Not `admin`: OpenAI's and
    // Anthropic's admin keys carry it, `sk-admin-…`.)
    "user",
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
const FIXTURE_NAME_PARTS: [&str; 11] = [
    "test",
    "fake",
    "dummy",
    "mock",
    "example",
    "sample",
    "placeholder",
    "stub",
    "bogus",
    // A marker that stands where a credential was removed (`REDACTED_CREDENTIAL_VALUE`).
    "redacted",
    "masked",
];

/// Values that documentation and default configurations publish, so that they are found in
/// thousands of repositories and open nothing, under whatever name they are written: Kibana's
/// documented encryption key, the Azure Storage emulator's (Azurite's) account key, which
/// `.env` templates and chart READMEs copy under `*_SECRET_ACCESS_KEY` or `accessKey`, and the
/// defaults and demo keys below.
/// (Compared in lower case.)
const DOCUMENTED_VALUES: [&str; 6] = [
    "fhjskloppd678ehkdfdlliverpoolfcr",
    "eby8vdm02xnocqflquwjpllmetlcdxj1ouzft50usrz6ifsufq2uvercz4i6tq/k1szfptotr/kbhbeksogmgw==",
    // The TOTP seed of every two-factor tutorial (Google Authenticator's wiki, pyotp's README).
    "jbswy3dpehpk3pxp",
    // Supabase's self-hosting `.env.example` default `SECRET_KEY_BASE`.
    "upnvntn3cdxhjpq99ymc1t1aqgqpc8kfyturgbiya15blrx8etqoxz3gzv1/u2oq",
    // The Nextzen tile key of the Leaflet.VectorGrid demo, republished by mapping tutorials.
    "gczxzglvrqa6sb2z7jzl1w",
    // The `TrustedClientToken` every Edge browser sends to its read-aloud service (edge-tts).
    "6a5aa1d4eaff4e9fb37e23d68491d6f4",
];

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
    // (Built only when a `3` is there to read otherwise: most values have none.)
    let unleet_s: Option<String> = lower.contains('3').then(|| {
        lower
            .chars()
            .zip(unleet.chars())
            .map(|(l, u)| if l == '3' { 's' } else { u })
            .collect()
    });
    DOCUMENTED_VALUES.contains(&lower.as_str())
        || (lower.contains('{') && lower.contains('}'))
        // A template's opening cut by a quote inside it (`{CONFIG['sasl.password']}`).
        || (value.first() == Some(&b'{')
            && value.get(1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_'))
        || finders().marks.is_match(value)
        || is_elided(value)
        // Six letters or more do not occur by chance; shorter ones must stand as words. Eight
        // do not arise by chance even after undoing leetspeak, where a `3` may stand for an
        // `s` (`A4m1nPa33w0rd!`). (One automaton pass per spelling: every value of every
        // candidate comes through here.)
        || finders().words.find_overlapping_iter(value).any(|hit| {
            hit.len() >= 6 || stands_as_word(value, hit.start(), hit.len())
        })
        || finders()
            .words
            .find_overlapping_iter(unleet.as_bytes())
            .any(|hit| {
                hit.len() >= 8
                    || (hit.len() >= 6
                        && (unleet.contains('_')
                            || stands_as_word(&unleet_cased(value), hit.start(), hit.len())))
            })
        || unleet_s.as_deref().is_some_and(|u| {
            finders()
                .words
                .find_overlapping_iter(u.as_bytes())
                .any(|hit| hit.len() >= 8)
        })
        // Opening with `your` or `secure`, or closing with `here`, even in leetspeak
        // (`Y0uRl1cens3KeyH3re`, `SecureHaystack*2026`): a docs writer's value, never a draw.
        || ["your", "secure"].iter().any(|w| unleet.starts_with(w))
        // Markdown emphasis where a value would stand (`--flag`: **Experimental**: …).
        || value.starts_with(b"**")
        || value.starts_with(b"__")
        // A CPE name's wildcard fields (`base_passwd:3.5.52:*:*:*` in an SBOM).
        || value.windows(3).any(|w| w == b"*:*")
        // Bracketed prose in a template (`KEY="[Optionally, set your key here]"`, cut at a blank):
        // a bracket and a word, not a random password that happens to open with `[`.
        || value.strip_prefix(b"[").is_some_and(|word| {
            !word.is_empty() && word.iter().all(|b| b.is_ascii_alphabetic() || matches!(b, b',' | b':' | b']'))
        })
        || unleet.ends_with("here")
        || PLACEHOLDER_WORDS.contains(&lower.as_str())
        || has_placeholder_segment(&lower)
        || is_identifier_like(value)
        || is_word_salad(value)
        || is_patterned(value)
        || is_example_password(value)
        || is_file_name(value)
        || is_masked(value)
}

/// Whether the text after a value goes on with an interpolation (`${NAME}`, `$(command)`,
/// `{{ var }}`), so that the value is only the written part of one made at run time.
pub fn continues_with_interpolation(after: &[u8]) -> bool {
    after.starts_with(b"${") || after.starts_with(b"$(") || after.starts_with(b"{{")
}

/// `value` with leetspeak undone but its letters' case kept, byte for byte (`Th1sS3cret!` is
/// `ThisSecret!`): whether an undone word stands as a word is read from the case around it.
fn unleet_cased(value: &[u8]) -> Vec<u8> {
    value
        .iter()
        .map(|&b| match b {
            b'0' => b'o',
            b'1' => b'i',
            b'3' => b'e',
            b'4' | b'@' => b'a',
            b'5' | b'$' => b's',
            b'7' => b't',
            other => other,
        })
        .collect()
}

/// A value shown in part with `...` for the rest (`sk-proj-Ab12...`, `AKIA...XYZ`): what is
/// shown of it on one side of the dots is short. (A random key whose alphabet has dots, as Entra
/// ID client secrets' does, may hold three in a row with long random runs on both sides.)
fn is_elided(value: &[u8]) -> bool {
    const SHOWN: usize = 12;
    value
        .windows(3)
        .position(|w| w == b"...")
        .is_some_and(|at| at < SHOWN || value.len() - (at + 3) < SHOWN)
}

/// A real value with letters overwritten by `X`, `Y` and `Z` (`rXYZ92zXabcf…`), as docs do to
/// hide one: an `XYZ` and a second `XY`, in one case each (together a few random keys in a
/// million).
fn is_masked(value: &[u8]) -> bool {
    let count = |needle: &[u8]| value.windows(needle.len()).filter(|w| w == &needle).count();
    count(b"XYZ") + count(b"xyz") >= 1 && count(b"XY") + count(b"xy") >= 2
}

/// `keys/sa-2024.json`, `id_ed25519.pub`: a file that holds a credential, not one. (Few key
/// formats end in a dot and a short extension; Entra ID client secrets can, and carry a `~`,
/// which file names do not.)
pub fn is_file_name(value: &[u8]) -> bool {
    !value.contains(&b'~')
        && value.iter().rposition(|&b| b == b'.').is_some_and(|dot| {
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
/// random case: small letters standing alone between capitals (`mXxYBbZWOz…`), or pairs of
/// capitals followed by small letters (`…UUlll…UUll…`, a Hugging Face token cut short), which
/// names in code never have (`searchPersonaAPIKey`, `DefaultCredentials`: a word starts with
/// one capital, and an acronym's last capital starts the next word).
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
    let pairs = (0..value.len().saturating_sub(2))
        .filter(|&i| {
            value[i].is_ascii_uppercase()
                && value[i + 1].is_ascii_uppercase()
                && value[i + 2].is_ascii_lowercase()
                && (i == 0 || !value[i - 1].is_ascii_uppercase())
        })
        .count();
    value.len() >= 24 && (lone_small >= 2 || pairs >= 2)
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
    // A part may also be a camelCase name (`/services/data/v61.0/sobjects/NamedCredential`, an
    // ARM directive's `-::secureString`).
    value.split(separators).all(|part| {
        part.len() <= 3
            || is_word(part)
            || part.iter().all(u8::is_ascii_digit)
            || is_camel_name(part)
    })
}

/// Words of three letters or more joined in camelCase or PascalCase, letters only
/// (`NamedCredential`, `secureString`). Random letters put two capitals within three places of
/// each other nearly always, so a random key's part does not read so.
fn is_camel_name(part: &[u8]) -> bool {
    if !part.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let starts: Vec<usize> = (0..part.len())
        .filter(|&i| i == 0 || part[i].is_ascii_uppercase())
        .chain([part.len()])
        .collect();
    starts.len() >= 3 && starts.windows(2).all(|w| w[1] - w[0] >= 3)
}

/// Whether `word` (lower case) occurs in `value` as a word: in one case (`your`, `YOUR`,
/// `Your`), after a non-letter or (capitalised) after a small letter (`AIzaFakeKey`), and
/// before a non-letter or a capital.
/// The automata of the placeholder marks (exact) and words (any case), built once.
struct Finders {
    marks: aho_corasick::AhoCorasick,
    words: aho_corasick::AhoCorasick,
}

fn finders() -> &'static Finders {
    static FINDERS: std::sync::OnceLock<Finders> = std::sync::OnceLock::new();
    FINDERS.get_or_init(|| Finders {
        // Built from constant ASCII lists, far below any size limit: cannot fail.
        marks: aho_corasick::AhoCorasick::new(PLACEHOLDER_MARKS).expect("placeholder marks"),
        words: aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(PLACEHOLDER_WORDS_IN_VALUES)
            .expect("placeholder words"),
    })
}

/// Whether the `n` bytes of `value` at `at` stand as a word: delimited, or a camelCase part, in
/// one case (`your-key`, `YOUR_KEY`, `myTestKey`).
fn stands_as_word(value: &[u8], at: usize, n: usize) -> bool {
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
        // camelCase (`secretPass`); words of four letters also after an acronym
        // (`AcmeDBUser`: three would occur by chance in random keys).
        Some(b) => capitalised && (b.is_ascii_lowercase() || (n >= 4 && b.is_ascii_uppercase())),
    };
    let ends = match after {
        None => true,
        Some(b) if !b.is_ascii_alphabetic() => true,
        Some(b) => b.is_ascii_uppercase() && !upper,
    };
    (lower || upper || capitalised) && starts && ends
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
/// (A part of 16 characters or more with digits and both cases is random, not a name: keys
/// such as Hopsworks' are two random parts joined by a dot.)
pub fn is_dotted_reference(value: &[u8]) -> bool {
    value.contains(&b'.')
        && value.split(|&b| b == b'.').all(|part| {
            part.first()
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                && part.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
                && !(part.len() >= 16
                    && part.iter().any(u8::is_ascii_lowercase)
                    && part.iter().any(u8::is_ascii_uppercase)
                    && part.iter().any(u8::is_ascii_digit))
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
    // Letters and digits interleaved, each class a run (`a1b2c3d4…`, `gto_a1b2c3…`).
    let interleaved_run = |class: fn(&u8) -> bool| {
        let (mut count, mut steps, mut previous) = (0usize, 0usize, None::<u8>);
        for b in value
            .iter()
            .filter(|b| class(b))
            .map(u8::to_ascii_lowercase)
        {
            if let Some(p) = previous {
                if b == p.wrapping_add(1) || (p, b) == (b'9', b'0') || (p, b) == (b'z', b'a') {
                    steps += 1;
                }
            }
            previous = Some(b);
            count += 1;
        }
        count >= 8 && steps * 10 >= (count - 1) * 8
    };
    if interleaved_run(u8::is_ascii_alphabetic) || interleaved_run(u8::is_ascii_digit) {
        return true;
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
    // `3` and `1` are read as `s` and `l` as well (`Pa33w0rd!`, `Passw0rd1`, `He11o`).
    let other: Option<String> = value.iter().any(|b| matches!(b, b'3' | b'1')).then(|| {
        normal
            .chars()
            .zip(value.iter())
            .map(|(n, &b)| match b {
                b'3' => 's',
                b'1' => 'l',
                _ => n,
            })
            .collect()
    });
    let lower = String::from_utf8_lossy(value).to_ascii_lowercase();
    // Trailing digits and punctuation dropped (`password123!`): cut where the original's last
    // letter is, in both spellings.
    let kept = value
        .iter()
        .rposition(|b| b.is_ascii_alphabetic())
        .map_or(0, |p| p + 1);
    [
        Some(normal.as_str()),
        normal.get(..kept),
        other.as_deref(),
        other.as_deref().and_then(|o| o.get(..kept)),
        Some(lower.as_str()),
        lower.get(..kept),
    ]
    .iter()
    .flatten()
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

/// A variable or an element of one where a value would stand: `$ARG_UID` (shell),
/// `env[0].Name` (an argument, perhaps with the call's closing parenthesis),
/// `typing.Optional[str]` (a quoted type annotation), a Go or Java package path
/// (`k8s.io/apimachinery/pkg/apis/meta/v1.ListMeta`).
fn is_reference(value: &[u8]) -> bool {
    if !(value.first() == Some(&b'$')
        || value.first() == Some(&b'!')
        || value.contains(&b'-')
        || value.contains(&b'[')
        || (value.contains(&b'/') && value.contains(&b'.')))
    {
        return false;
    }
    static REFERENCE: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    REFERENCE
        .get_or_init(|| {
            regex::bytes::Regex::new(
                r"^(?:[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+/[A-Za-z0-9_./-]+|!{1,2}[a-z][A-Za-z_]*(?:\.[A-Za-z_]+)*|(?:[A-Z][a-z]+){1,3}-(?:[A-Z][a-z]+){1,4}|\$(?:[A-Z_][A-Z0-9_]*|[a-z_][a-z0-9_]*)|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\[[\w.'\x22]*\])+(?:\.[A-Za-z_]\w*)*)[),;]*$",
            )
            .expect("the reference pattern is valid")
        })
        .is_match(value)
}

/// Prefixes of stored password hashes (Jupyter's `sha1:salt:digest`, bcrypt's `$2b$`, crypt's
/// `$6$`, Werkzeug's `pbkdf2:sha256:`, LDAP's `{SSHA}`, PostgreSQL's `md5…`): a hash opens
/// nothing by itself, and configuration files store them where a password would stand.
const HASH_PREFIXES: [&str; 20] = [
    "sha1:", "sha256:", "sha512:", "argon2:", "$argon2", "$2a$", "$2b$", "$2x$", "$2y$", "$1$",
    "$5$", "$6$", "$apr1$", "$pbkdf2", "pbkdf2:", "pbkdf2_", "scrypt:", "{ssha", "{sha", "{crypt}",
];

/// Name parts that say the value is a digest of a secret, not the secret (`hashed_secret` in a
/// detect-secrets baseline, Helm's `checksum/secret` annotation, `token_sha256`).
const DIGEST_NAME_PARTS: [&str; 10] = [
    "hash",
    "hashed",
    "digest",
    "checksum",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "fingerprint",
    "integrity",
];

/// Whether `value` is a stored password hash rather than a password.
pub fn is_password_hash(value: &[u8]) -> bool {
    let starts = |prefix: &[u8]| {
        value
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    HASH_PREFIXES.iter().any(|p| starts(p.as_bytes()))
        || (value.len() == 35 && starts(b"md5") && value[3..].iter().all(u8::is_ascii_hexdigit))
}

/// Whether `value` has the shape of a digest: hex, or base64 of the length of an MD5, SHA-1,
/// SHA-256 or SHA-512 digest (24, 28, 44 or 88 characters padded; one or two fewer unpadded).
pub fn has_digest_shape(value: &[u8]) -> bool {
    value.iter().all(u8::is_ascii_hexdigit)
        || ([22, 24, 27, 28, 43, 44, 86, 88].contains(&value.len())
            && value.iter().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-' | b'=')
            }))
}

/// Whether a name, read with the key path it continues (`checksum/secret`, `auth.hashed_token`),
/// names a digest of a secret.
pub fn names_a_digest(name: &[u8]) -> bool {
    let holds = |word: &[u8]| {
        name.windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    if ![
        &b"hash"[..],
        b"digest",
        b"checksum",
        b"sha",
        b"md5",
        b"fingerprint",
        b"integrity",
    ]
    .iter()
    .any(|word| holds(word))
    {
        return false;
    }
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| {
            DIGEST_NAME_PARTS.contains(&part)
                // camelCase written together: `hashedSecret`, `secretHash`, `tokenDigest`.
                || part.starts_with("hashed")
                || ["hash", "digest", "checksum"].iter().any(|d| part.ends_with(d) && part.len() > d.len() + 3)
        })
}

/// The key path a name continues, read backwards from `name_start` in `haystack` (`checksum/`
/// before `secret`, `auth.` before `hashed_token`), with the name itself.
pub fn with_key_path(haystack: &[u8], name: std::ops::Range<usize>) -> &[u8] {
    let path = haystack[..name.start]
        .iter()
        .rev()
        .take(64)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
        .count();
    &haystack[name.start - path..name.end]
}

/// Whether `value` is base64 of text a person typed rather than of random bytes: a stand-in
/// (`dGVzdC1lbmNyeXB0aW9uLWtleQ==` is `test-encryption-key`), an example password, or a
/// sentence, or a Basic login with a default password. Kubernetes `Secret` manifests, Helm test
/// snapshots, `docker login` examples and saved API docs carry them; base64 of a random secret decodes to a random secret and is still reported.
pub fn encodes_stand_in(value: &[u8]) -> bool {
    if value.len() < 8 {
        return false;
    }
    // A JWT's header alone (`eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.`, a token cut for the
    // docs) is the same for every token and signs nothing.
    let header = value.strip_suffix(b".").unwrap_or(value);
    if header.starts_with(b"eyJ") && !header.contains(&b'.') {
        if let Some(json) = super::context::base64::decode(header) {
            if json.starts_with(b"{") && json.windows(5).any(|w| w == b"\"alg\"") {
                return true;
            }
        }
    }
    // A Supabase project's anon key (`"role":"anon"`) is published in every client of the
    // project, and the local stack's keys (`"iss":"supabase-demo"`) in every install: whatever
    // name a `.env` file or a page gives them, they open only what row-level security allows.
    if let Some(payload) = jwt_payload(value) {
        let compact: Vec<u8> = payload
            .into_iter()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        return [
            &b"\"role\":\"anon\""[..],
            b"\"iss\":\"supabase-demo\"",
            // jwt.io's demo token, copied into docs and comments as "a test token".
            b"\"sub\":\"1234567890\"",
        ]
        .iter()
        .any(|claim| compact.windows(claim.len()).any(|w| w == *claim));
    }
    // Plain text only: structured data (a JSON document with a key inside, as Neptune's
    // tokens are) is judged by what it holds, not here.
    let plain = |b: &u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b' ' | b'_' | b'-' | b'.' | b',' | b'!' | b'?' | b'\'' | b'@' | b'#'
            )
    };
    // Random bytes fail within the first few: decode eight characters before the whole.
    // (`:` too: a Basic login's `user:`.)
    if !super::context::base64::decode(&value[..8])
        .is_some_and(|head| head.iter().all(|b| plain(b) || *b == b':'))
    {
        return false;
    }
    let Some(mut decoded) = super::context::base64::decode(value) else {
        return false;
    };
    // `echo "…" | base64` encodes the newline too.
    while decoded.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
        decoded.pop();
    }
    decoded.len() >= 4
        && (decoded.iter().all(plain)
            && (decoded.contains(&b' ')
                || is_placeholder(&decoded)
                || is_example_password(&decoded))
            || is_default_login(&decoded))
}

/// Whether `decoded` is HTTP Basic credentials (`user:password`) whose password is a default
/// or documentation one, or the user name again (`admin@example-cms.com:admin` in a vendor's
/// API docs): the login of a demo server, not a secret.
fn is_default_login(decoded: &[u8]) -> bool {
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
    let printable = |b: &u8| b.is_ascii_graphic();
    let local = user.split(|&b| b == b'@').next().unwrap_or(user);
    !user.is_empty()
        && !password.is_empty()
        && decoded.iter().all(printable)
        && (is_example_password(password)
            || is_placeholder(password)
            || password == user
            || password == local)
}

/// The decoded payload of a signed JWT (`eyJ….eyJ….…`), if `value` is one.
fn jwt_payload(value: &[u8]) -> Option<Vec<u8>> {
    let mut parts = value.split(|&b| b == b'.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    // (A JSON object's base64 opens `ey`, or `ew` when a newline follows its brace.)
    (header.starts_with(b"ey") && !signature.is_empty() && parts.next().is_none())
        .then(|| super::context::base64::decode(payload))
        .flatten()
        .filter(|json| json.trim_ascii_start().starts_with(b"{"))
}

/// Whether `value` is code that a loose match took for a value: it opens a call
/// (`,listKeys(concat(` in an ARM template, `),e?l.default.createElement(` in a minified
/// bundle). A call is a name of four or more characters and `(`, at the end of the value or
/// after a `.`; passwords with a `(` in them have no such word before it.
pub fn is_code_expression(value: &[u8]) -> bool {
    // A minified bundle's `case"password":return!0`: a statement where a value would be.
    let statement = ["return", "typeof", "void", "new"].iter().any(|word| {
        value
            .strip_prefix(word.as_bytes())
            .and_then(|rest| rest.first())
            .is_some_and(|b| matches!(b, b'!' | b'(' | b';' | b'['))
    });
    statement
        || is_reference(value)
        || value.iter().enumerate().any(|(at, &b)| {
            if b != b'(' {
                return false;
            }
            let word = value[..at]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            let start = at - word;
            word >= 4
                && value[start].is_ascii_alphabetic()
                && (at + 1 == value.len() || (start > 0 && value[start - 1] == b'.'))
        })
}

/// Whether the match at `at` lies in a shell command that calls a local server: the lines
/// joined to its line by trailing backslashes (`curl --url http://localhost:6789/api \`,
/// `dstack project add --url http://127.0.0.1:3000 \`, at most 40 lines and 8 KiB) name
/// `localhost`, `127.0.0.1`, `0.0.0.0` or `[::1]` after `//`. A token such a command sends
/// opens a development instance on the writer's machine; a line that is not part of a
/// continued command (an `.env` beside a local database URL) is not judged by its neighbours.
pub fn in_local_command(text: &[u8], at: usize) -> bool {
    const LINES: usize = 40;
    const BYTES: usize = 8 << 10;
    let at = at.min(text.len());
    let continued = |line: &[u8]| line.trim_ascii_end().ends_with(b"\\");
    let line_start = |end: usize| {
        text[..end]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
    };
    let line_end = |start: usize| {
        text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |p| start + p)
    };
    let mut start = line_start(at);
    for _ in 0..LINES {
        if start == 0 || at - start > BYTES {
            break;
        }
        let previous = line_start(start - 1);
        if !continued(&text[previous..start - 1]) {
            break;
        }
        start = previous;
    }
    let mut end = line_end(at);
    for _ in 0..LINES {
        if end >= text.len() || end - at > BYTES || !continued(&text[line_start(end)..end]) {
            break;
        }
        end = line_end(end + 1);
    }
    // A request example in Markdown: a fenced block that opens with `curl` is one command,
    // backslashes or not (API docs often leave them out).
    let (start, end) = curl_block(text, at).unwrap_or((start, end));
    let command = &text[start..end];
    command.windows(2).enumerate().any(|(i, w)| {
        if w != b"//" {
            return false;
        }
        let host = &command[i + 2..];
        [&b"localhost"[..], b"127.0.0.1", b"0.0.0.0", b"[::1]"]
            .iter()
            .any(|name| {
                host.len() >= name.len()
                    && host[..name.len()].eq_ignore_ascii_case(name)
                    && host.get(name.len()).is_none_or(|b| {
                        !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
                    })
            })
    })
}

/// The Markdown fenced block around `at` (at most 40 lines) when its first line after the
/// fence is a `curl` command (`curl …`, `$ curl …`, `!curl …`).
fn curl_block(text: &[u8], at: usize) -> Option<(usize, usize)> {
    const LINES: usize = 40;
    let is_fence = |line: &[u8]| line.trim_ascii_start().starts_with(b"```");
    // A line that runs curl, written bare, after a shell prompt or as a notebook's `!curl`.
    let is_curl = |line: &[u8]| {
        let line = line.trim_ascii_start();
        line.strip_prefix(b"$ ")
            .or_else(|| line.strip_prefix(b"!"))
            .unwrap_or(line)
            .starts_with(b"curl ")
    };
    let mut lines = text[..at].split(|&b| b == b'\n').rev();
    // The line holding `at` (its start up to `at`) and then the lines above it.
    lines.next()?;
    let mut start = text[..at].iter().rposition(|&b| b == b'\n')?;
    let mut opened = None;
    for line in lines.take(LINES) {
        if is_fence(line) {
            opened = Some(start);
            break;
        }
        start = start.checked_sub(line.len() + 1)?;
    }
    // `start` is now the newline that ends the fence line.
    let body = opened? + 1;
    if !is_curl(text[body..].split(|&b| b == b'\n').next()?) {
        return None;
    }
    let mut end = body;
    let mut commands = 0;
    for line in text[body..].split(|&b| b == b'\n').take(LINES) {
        if is_fence(line) {
            // One request only: a block of several commands is judged command by command.
            return (commands == 1).then_some((body, end));
        }
        commands += usize::from(is_curl(line));
        end += line.len() + 1;
    }
    None
}

/// Whether the file at `path` records what programs wrote rather than what a person set: a
/// log, a data file (CSV, TSV, JSON Lines) or a recorded HTTP exchange (vcrpy and go-vcr
/// cassettes). Notebook outputs are the same kind of text (`Unit::in_output`).
pub fn is_recorded_output(path: &str) -> bool {
    [".log", ".csv", ".tsv", ".jsonl", ".ndjson"]
        .iter()
        .any(|ext| path.ends_with(ext))
        || path.contains("cassette")
}

/// Whether the SAS signature at `at` belongs to a query whose permissions (`sp=`) only read
/// and list. A SAS without `sp=` (one bound to a stored access policy) is not known to be
/// read-only.
pub fn is_read_only_sas(text: &[u8], at: usize) -> bool {
    let ends = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`');
    let at = at.min(text.len());
    let start = text[..at].iter().rposition(ends).map_or(0, |p| p + 1);
    let end = text[at..]
        .iter()
        .position(ends)
        .map_or(text.len(), |p| at + p);
    let query = &text[start..end];
    let query = query
        .iter()
        .position(|&b| b == b'?')
        .map_or(query, |q| &query[q + 1..]);
    query
        .split(|&b| b == b'&')
        .filter_map(|pair| pair.strip_prefix(b"sp="))
        .next_back()
        .is_some_and(|sp| !sp.is_empty() && sp.iter().all(|b| matches!(b, b'r' | b'l')))
}

/// The `n` lines before the line holding `at`, that line and the `n` after it.
pub fn lines_around(text: &[u8], at: usize, n: usize) -> &[u8] {
    let at = at.min(text.len());
    let start = text[..at]
        .iter()
        .rev()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(n)
        .map_or(0, |(back, _)| at - back);
    let end = text[at..]
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(n)
        .map_or(text.len(), |(ahead, _)| at + ahead);
    &text[start..end]
}

/// Whether the value at `range` of `haystack` is ciphertext meant to be committed: a SOPS value
/// (`ENC[AES256_GCM,data:…]`), an Ansible Vault or Vault transit ciphertext, or a Bitnami
/// `SealedSecret`'s `encryptedData` (only the cluster's controller can open them). GitOps
/// repositories keep their secrets this way on purpose.
pub fn is_ciphertext(haystack: &[u8], range: std::ops::Range<usize>) -> bool {
    let line_start = haystack[..range.start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let before = &haystack[line_start.max(range.start.saturating_sub(64))..range.start];
    let value = &haystack[range.clone()];
    let opened_sops = before
        .windows(4)
        .rposition(|w| w == b"ENC[")
        .is_some_and(|at| !before[at..].contains(&b']'));
    opened_sops
        || [&b"ENC["[..], b"$ANSIBLE_VAULT;", b"vault:v1:"]
            .iter()
            .any(|p| value.starts_with(p))
        || under_yaml_key(haystack, line_start, b"encryptedData")
}

/// Whether the YAML line at `line_start` sits (at any depth) under the mapping key `key`: an
/// indentation walk back to the document's top level.
fn under_yaml_key(haystack: &[u8], line_start: usize, key: &[u8]) -> bool {
    let indent = |line: &[u8]| line.iter().take_while(|&&b| b == b' ').count();
    let mut current = indent(&haystack[line_start..]);
    // Enclosing keys are few lines up in a manifest; the walk gives up after a screenful.
    for line in haystack[..line_start]
        .rsplit(|&b| b == b'\n')
        .skip(1)
        .take(200)
    {
        let text = &line[indent(line)..];
        if text.is_empty() || text.starts_with(b"#") {
            continue;
        }
        if text.starts_with(b"---") {
            return false;
        }
        if indent(line) < current {
            current = indent(line);
            if text
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(b":"))
            {
                return true;
            }
            if current == 0 {
                return false;
            }
        }
    }
    false
}

/// Whether the name at `name_start` is a segment of an Amazon resource name
/// (`arn:aws:secretsmanager:…:secret:prod/app`): what follows names a secret, it is not one.
pub fn inside_arn(haystack: &[u8], name_start: usize) -> bool {
    let before = &haystack[..name_start];
    let segment = before
        .iter()
        .rev()
        .take(160)
        .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b'`' | b'='))
        .count();
    // The ARN may be wrapped (`*arn:aws:…*` in Markdown, `(arn:…`).
    let segment = &before[name_start - segment..];
    segment
        .windows(4)
        .enumerate()
        .any(|(at, w)| w == b"arn:" && (at == 0 || !segment[at - 1].is_ascii_alphanumeric()))
}

/// Whether a file is a conversation dataset: JSON or JSON Lines whose first 64 KiB hold chat
/// turns (two or more) in one of the formats fine-tuning repositories commit (ShareGPT's `"from"`/`"value"`,
/// OpenAI's `"role"`/`"content"` with an assistant turn, Alpaca's `"instruction"`/`"output"`).
/// Their text is generated (tool calls that return random passwords, answers that quote them),
/// so the rules that go by names alone skip it; prefixed tokens are still looked for.
pub fn is_conversation_dataset(path: &str, content: &[u8]) -> bool {
    let ends_with = |ext: &str| {
        path.len() >= ext.len()
            && path.as_bytes()[path.len() - ext.len()..].eq_ignore_ascii_case(ext.as_bytes())
    };
    if !(ends_with(".json") || ends_with(".jsonl")) {
        return false;
    }
    const NAMES: [&str; 9] = [
        "\"from\"",
        "\"value\"",
        "\"gpt\"",
        "\"human\"",
        "\"role\"",
        "\"content\"",
        "\"assistant\"",
        "\"instruction\"",
        "\"output\"",
    ];
    static NAMES_SEARCH: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let Some(search) = NAMES_SEARCH
        .get_or_init(|| aho_corasick::AhoCorasick::new(NAMES).ok())
        .as_ref()
    else {
        return false;
    };
    let head = &content[..content.len().min(64 * 1024)];
    // One pass counts every name (up to two: turns repeat, and a configuration with one
    // `"instruction"` key is not a dataset). The names cannot overlap: each opens and closes
    // with a quote and none holds one.
    let mut counts = [0u8; NAMES.len()];
    for found in search.find_iter(head) {
        let count = &mut counts[found.pattern().as_usize()];
        *count = (*count + 1).min(2);
    }
    let [
        from,
        value,
        gpt,
        human,
        role,
        content,
        assistant,
        instruction,
        output,
    ] = counts;
    (from >= 2 && value >= 2 && gpt + human > 0)
        || (role >= 2 && content >= 2 && assistant > 0)
        || (instruction >= 2 && output >= 2)
}

/// Whether an unquoted value is a type in an annotated assignment (`credentials:
/// Neo4jCredentials = Depends(…)`, `token: AccessToken = None`): an identifier followed by a
/// single `=`.
pub fn is_annotation(value: &[u8], after: &[u8]) -> bool {
    let rest = after
        .iter()
        .position(|b| *b != b' ')
        .map_or(&[][..], |at| &after[at..]);
    value.first().is_some_and(u8::is_ascii_alphabetic)
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && rest.first() == Some(&b'=')
        && rest.get(1) != Some(&b'=')
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
            // Fixture: real-repos held-out 6 (a Helm chart README's admin password).
            "A4m1nPa33w0rd!",
            // Fixture: held-out 6 (an OAuth client secret written as `a1b2c3…` after a prefix).
            "gto_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0",
            // Fixtures: held-out 7 (documentation passwords that name themselves, a value
            // masked with X, Y and Z).
            "SecurePass123!",
            "ReallyStrongPwd1234%^&*",
            "rXYZ92zXabcfdBXhMnrj6GTXYvcs8XXz",
            "MindsDBUser123!",
            // Fixture: held-out 8 (an f-string's placeholder inside a JAAS login string).
            "{CONFLUENT_CONFIG[",
            // Fixtures: held-out 29 (a local server's password spelling words in leetspeak, an
            // ARM template's parameter directive, a REST path of names in code).
            "Th1sS3cret!",
            "Th4tS3cret#",
            "-::secureString",
            "/services/data/v61.0/tooling/sobjects/NamedCredential",
        ] {
            assert!(is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn values_completed_at_run_time_are_cut_by_an_interpolation() {
        for after in ["${DEPLOYMENT_ID}\"", "$(date +%s)", "{{ suffix }}"] {
            assert!(continues_with_interpolation(after.as_bytes()), "{after}");
        }
        for after in ["\"", "$", " ${X}", "$HOME", "{x}"] {
            assert!(!continues_with_interpolation(after.as_bytes()), "{after}");
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
            // Separated parts that are random, not names (a key with `/` in its alphabet; a
            // prefixed key of letters only, which reads as camelCase more often).
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzK9mQ2vLp3",
            "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",
            "hf_QNfkWTprbncEhpVUiBnkyQKRylxTtcmVUfzG",
        ] {
            assert!(!is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn example_passwords_are_recognised() {
        for value in [
            "postgres",
            "P@ssw0rd",
            "password123",
            "changeit",
            "Hunter2",
            "Pa33w0rd!",
        ] {
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
        // Fixture: held-out 13 (a Hugging Face token cut to 31 letters, no lone small letter).
        assert!(is_mixed(b"hf_qwertYUIOPasdfghJklZXcvbNMqwERT"));
        assert!(!is_mixed(b"getHTTPSConnectionPoolManagerForURLs"));
        assert!(!is_mixed(b"AWSSecretsManagerCredentialsProvider"));
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

    #[test]
    fn stored_password_hashes_are_not_passwords() {
        for value in [
            "sha1:f7a27ed045e8:b1d5b4f9443367889a017d556b8de6a63f33c4c7",
            "argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$2b$12$KIXQJ1b6Yk7mZ2a7rT3qLpW8vN4bYc1dE6fG0hJ5kS2uV7wX9yA",
            "pbkdf2:sha256:600000$Xk9mP2vL$1a2b3c4d5e6f",
            "md5b1d5b4f9443367889a017d556b8de6a6",
            "{SSHA}Kx9mZ2a7rT3qLpW8vN4bYc1dE6fG",
        ] {
            assert!(is_password_hash(value.as_bytes()), "{value}");
        }
        for value in [
            "8KUCERkj9Zhx9PkO",
            "shaKx9mZ2a7rT3qL",
            "md5Kx9mZ2a7rT3qLpW8vN4bYc1dE6fG0hJ5",
        ] {
            assert!(!is_password_hash(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn digests_are_hex_or_base64_of_a_digest_length() {
        assert!(has_digest_shape(
            b"b1d5b4f9443367889a017d556b8de6a63f33c4c7"
        ));
        // Fixture: real-repos kubeflow/examples (a Meteor login's base64 `hashedToken`).
        assert!(has_digest_shape(
            b"Qm7vXk2pLr9TzW4nYc8bA1sDf3Gh5Jk7Lz9Xc2Vb4Nm="
        ));
        assert!(!has_digest_shape(b"Qm7vXk2pLr9TzW4nYc8bA1sDf3Gh5Jk7"));
        assert!(!has_digest_shape(
            b"ghp_Eq4VwXY3DY3R9gbd3FlWsbV55SjD2l744xKz"
        ));
    }

    #[test]
    fn digest_names_are_read_with_their_key_path() {
        let text = b"  checksum/secret: decd4bcc";
        let start = text.windows(6).position(|w| w == b"secret").unwrap_or(0);
        assert_eq!(with_key_path(text, start..start + 6), b"checksum/secret");
        for name in [
            "checksum/secret",
            "hashed_secret",
            "token_sha256",
            "secretHash",
            "auth.hashedToken",
        ] {
            assert!(names_a_digest(name.as_bytes()), "{name}");
        }
        for name in [
            "client_secret",
            "api_key",
            "shard_token",
            "hashicorp_token",
            "OPENAI_API_KEY",
        ] {
            assert!(!names_a_digest(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn read_only_sas_links_are_told_from_writable_ones() {
        let sas = |query: &str| format!("url = https://acct.blob.core.windows.net/c/x.png?{query}");
        let at = |text: &str| text.find("sig=").map_or(0, |p| p + 4);
        for (query, read_only) in [
            ("se=2024-01-01&sig=Qm7v%2Bk2p&sp=r&sv=2021-08-06", true),
            (
                "st=2024-01-01&se=2024-01-02&sp=rl&sv=2021-06-08&sr=c&sig=Qm7v%2Bk2p",
                true,
            ),
            ("sv=2019-02-02&sr=b&sig=Qm7v%2Bk2p&sp=rcw", false),
            ("sv=2019-02-02&ss=b&srt=sco&sp=rwdlac&sig=Qm7v%2Bk2p", false),
            ("sv=2019-02-02&si=policy1&sig=Qm7v%2Bk2p", false),
        ] {
            let text = sas(query);
            assert_eq!(
                is_read_only_sas(text.as_bytes(), at(&text)),
                read_only,
                "{query}"
            );
        }
    }

    #[test]
    fn a_bracketed_word_is_prose_a_bracketed_password_is_not() {
        // Fixture: held-out 26 (a template's value cut at its first blank).
        assert!(is_placeholder(b"[Optionally,"));
        assert!(is_placeholder(b"[your"));
        assert!(!is_placeholder(b"[Qm7vXk2p#Lr9Tz"));
    }

    #[test]
    fn dots_elide_only_where_little_is_shown() {
        for value in [
            "sk-proj-Ab12...",
            "AKIA...XYZ",
            "...Qm7vXk2pLr9TzW4nYc8b",
            "hf_Qm7vXk2p...Lr9T",
        ] {
            assert!(is_elided(value.as_bytes()), "{value}");
        }
        // Fixture: the matrix's random Entra ID secrets (dots are in their alphabet).
        assert!(!is_elided(b"47u1Q~BjNwCHhy_ANHTQLV3...H87ngsSyOjZAgy"));
        assert!(!is_elided(b"Qm7vXk2pLr9TzW4nYc8b"));
    }

    #[test]
    fn lines_around_takes_whole_lines_on_both_sides() {
        let text = b"a\nb\nc\nd\ne\nf\ng";
        let at = text.iter().position(|&b| b == b'd').unwrap_or(0);
        assert_eq!(lines_around(text, at, 1), b"c\nd\ne");
        assert_eq!(lines_around(text, at, 3), &text[..]);
        assert_eq!(lines_around(text, 0, 1), b"a\nb");
        assert_eq!(lines_around(text, text.len(), 0), b"g");
    }

    #[test]
    fn base64_of_typed_text_is_a_stand_in() {
        // Fixtures: held-out 6 (Helm test snapshots and a `docker login` example).
        for value in [
            "dGVzdC1lbmNyeXB0aW9uLWtleQ==",
            "UDQ1NXcwcmQh",
            "dGhpcyB2YWx1ZSBpcyBmb3IgdGhlIGRvY3Mgb25seQ==",
            // Fixture: held-out 10 (`echo test-api-key | base64` in a chart's CI values).
            "dGVzdC1hcGkta2V5Cg==",
            // Fixture: held-out 7 (a JWT cut to its header in a README).
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
            // Fixture: held-out 22 (a Supabase project's anon key in a page: public by design).
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6InFtdnhrcGxydHp3bnljYmEiLCJyb2xlIjoiYW5vbiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoyMDE1NTc2MDAwfQ.Kx9mZ2a7rT3qLpW8vN4bYc1dE6fG0hJ5kS2uV7wX9yA",
            // Fixture: held-out 20 (a demo server's Basic login in a vendor's saved API docs;
            // our own user names): a default password, or the user name again.
            "b3BzQGFjbWUtY21zLmV4YW1wbGU6YWRtaW4=",
            "ZWxhc3RpYzpjaGFuZ2VtZQ==",
            "amRvZTpqZG9l",
        ] {
            assert!(encodes_stand_in(value.as_bytes()), "{value}");
        }
        // Base64 of random secrets, of a JSON document holding a key, and raw random keys.
        for value in [
            "YWVlYTgxNTk2ODVkMWMxMGVkN2Y5MGExMDNjMmExMDU=",
            "eyJhcGlfa2V5IjoiZDZlOWEyM2EtYWJmMC00MDk1LWFlYzEtMjE1NDIwZGY2MDRmIn0=",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtbC1ib3QifQ.Kx9mZ2a7rT3qLpW8vN4bYc1dE6fG0hJ5kS2uV7wX9yA",
            "gHwIoALtLinxN1Ekia7ZpTjCgeOj3QYr",
            "61c5cb347611a3ce9d97dcbee500fe7ee5fc324b",
            // The same project's service-role key (it bypasses row-level security).
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6InFtdnhrcGxydHp3bnljYmEiLCJyb2xlIjoic2VydmljZV9yb2xlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjIwMTU1NzYwMDB9.Kx9mZ2a7rT3qLpW8vN4bYc1dE6fG0hJ5kS2uV7wX9yA",
            // Basic credentials with a chosen password.
            "Y2ktYm90OlZxN0xtMlhyOVR6NEtwOFc=",
            "YWRtaW46aDNReDladEwybVZ3",
        ] {
            assert!(!encodes_stand_in(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn arn_segments_name_secrets() {
        // Fixture: held-out 8 (a Terraform default naming a Secrets Manager secret).
        let text = b"default = \"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app\"";
        let at = text.windows(7).position(|w| w == b"secret:").unwrap_or(0);
        assert!(inside_arn(text, at));
        // Fixture: held-out 11 (an example ARN in Markdown emphasis).
        let emphasised =
            b"Example ARN: *arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:cb-app-x1*";
        let at = emphasised
            .windows(7)
            .position(|w| w == b"secret:")
            .unwrap_or(0);
        assert!(inside_arn(emphasised, at));
        assert!(!inside_arn(b"learn:secret: x", 6));
        let plain = b"client_secret: Xk9mP2vLq7Tz";
        assert!(!inside_arn(plain, 0));
        assert!(!inside_arn(b"arn = 1; secret: x", 9));
    }

    #[test]
    fn annotated_assignments_name_types() {
        // Fixture: held-out 11 (a FastAPI dependency's annotation).
        assert!(is_annotation(
            b"Neo4jCredentials",
            b" = Depends(get_credentials),"
        ));
        assert!(is_annotation(b"AccessTokenModel", b"= None"));
        assert!(!is_annotation(b"Neo4jCredentials", b" == other"));
        assert!(!is_annotation(b"Xk9mP2vLq7Tz4nB8", b"\n"));
        assert!(!is_annotation(b"Xk9/mP2+vLq7Tz4n", b" = x"));
    }

    #[test]
    fn calls_are_code_not_values() {
        for value in [
            ",listKeys(concat(",
            "),e?l.default.createElement(",
            "getpass.getpass(",
            // Fixtures: held-out 7 (a Dockerfile's `getent passwd "$ARG_UID"`, a Go test's
            // `env[0].Name`, a generated client's quoted type annotation).
            "$ARG_UID",
            "env[0].Name)",
            "typing.Optional[str]",
            // Fixture: held-out 9 (a list of type paths in generated Go code).
            "k8s.io/apimachinery/pkg/apis/meta/v1.ListMeta",
            // Fixture: held-out 14 (`const requirePasswordCurrent = !hideFields`).
            "!hideFields",
            "!!options.password",
            // Fixture: held-out 15 (PowerShell: `$securePassword = ConvertTo-SecureString $env:…`).
            "ConvertTo-SecureString",
            "Read-Host",
        ] {
            assert!(is_code_expression(value.as_bytes()), "{value}");
        }
        for value in [
            "!Passw0rd2024",
            "Summer-Breeze42",
            "Xk9q-Lm7vTz2",
            "!xK9mQ2vLp7",
            "Xk9#mP2$vLq7",
            "a(b)c9Kx!2",
            "P(ssw)rdQ9xZ",
            "x7#Lq9!mZ2(",
            "$9xK2mQ7vLp",
            "Xk9[mP2]v!Lq",
            "$aebLaBKjU1tQjvy",
            "aB3/xk9.Qz",
        ] {
            assert!(!is_code_expression(value.as_bytes()), "{value}");
        }
    }

    /// Fixtures: held-out 14 (API docs' `curl` requests to a local instance, with and without
    /// the backslashes, and a CLI's `--url http://127.0.0.1:3000 \\ --token …`).
    #[test]
    fn commands_to_a_local_server() {
        let local = [
            "curl --request GET \\\n  --url 'http://localhost:6789/api/x' \\\n  --header 'Authorization: Bearer TOKEN'\n",
            "acme project add --name main \\\n    --url http://127.0.0.1:3000 \\\n    --token TOKEN\n",
            "```curl cURL\ncurl -X DELETE\n--url http://localhost:6789/api/backfills/1\n-H 'X-API-KEY: TOKEN'\n```\n",
            "$ curl http://[::1]:8080/v1 -H 'Authorization: Bearer TOKEN'\n",
            "Intro\n\n```bash\n$ curl \\\n  -H 'X-Key: TOKEN' \\\n  http://0.0.0.0:8000/predict\n```\n",
        ];
        for text in local {
            let at = text.find("TOKEN").unwrap();
            assert!(in_local_command(text.as_bytes(), at), "{text}");
        }
        let remote = [
            // Lines beside each other that are not one command: an `.env`.
            "DATABASE_URL=postgres://app@localhost:5432/app\nACME_API_KEY=TOKEN\n",
            "curl https://api.acme-corp.io/v1 \\\n  -H 'Authorization: Bearer TOKEN'\n",
            "curl http://localhost.acme-corp.io/v1 -H 'X-Key: TOKEN'\n",
            "curl http://localhost:8080/health\ncurl https://api.acme-corp.io -H 'X-Key: TOKEN'\n",
            // A fenced block that is not a request.
            "```yaml\nurl: http://localhost:6789\napi_key: TOKEN\n```\n",
            "```bash\nexport ACME_URL=http://localhost:6789\nexport ACME_KEY=TOKEN\n```\n",
            "```bash\ncurl http://localhost:8080/health\ncurl https://api.acme-corp.io\n-H 'X-Key: TOKEN'\n```\n",
        ];
        for text in remote {
            let at = text.find("TOKEN").unwrap();
            assert!(!in_local_command(text.as_bytes(), at), "{text}");
        }
    }

    /// 3,000 texts of up to 24 `pieces` each, drawn by a seeded xorshift generator.
    fn random_texts(pieces: &[&[u8]], seed: u64) -> Vec<Vec<u8>> {
        let mut state = seed;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..3000)
            .map(|_| {
                let mut text = Vec::new();
                for _ in 0..(next() % 24) {
                    text.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
                }
                text
            })
            .collect()
    }

    /// The command and fence walks index lines by hand: random texts built from the bytes they
    /// look at (newlines, backslashes, fences, `curl `, local URLs) never make them panic, at any
    /// position including both ends.
    #[test]
    fn local_command_walks_survive_any_text() {
        let pieces: [&[u8]; 9] = [
            b"\n",
            b"\\",
            b"```",
            b"curl ",
            b"$ ",
            b"!",
            b"//localhost:1",
            b"x",
            b" \\\n",
        ];
        for text in random_texts(&pieces, 0x2545_f491_4f6c_dd1d) {
            for at in 0..=text.len() {
                let _ = in_local_command(&text, at);
            }
        }
    }

    /// The walks over the text around a match (ciphertext and YAML parents, SAS queries, the
    /// lines around) at every position of texts made of the bytes they look for.
    #[test]
    fn context_walks_survive_any_text() {
        let pieces: [&[u8]; 12] = [
            b"\n",
            b"  ",
            b"encryptedData:",
            b"ENC[",
            b"]",
            b"---",
            b"#",
            b"?",
            b"&sp=r",
            b"sig=",
            b"\"",
            b"x",
        ];
        for text in random_texts(&pieces, 0x9e37_79b9_7f4a_7c15) {
            for at in 0..=text.len() {
                let _ = is_read_only_sas(&text, at);
                let _ = lines_around(&text, at, at % 4);
                for end in at..=text.len().min(at + 8) {
                    let _ = is_ciphertext(&text, at..end);
                }
            }
        }
    }

    #[test]
    fn sealed_and_sops_values_are_ciphertext() {
        let sealed = b"kind: SealedSecret\nspec:\n  encryptedData:\n    # comment\n\n    API_KEY: AgBy3i4OJSWK\n  template:\n    x: AgBy3i4OJSWK\n";
        let at = |text: &[u8], n: usize| {
            let hits: Vec<usize> = text
                .windows(4)
                .enumerate()
                .filter(|(_, w)| *w == b"AgBy")
                .map(|(i, _)| i)
                .collect();
            hits[n]..hits[n] + 12
        };
        assert!(is_ciphertext(sealed, at(sealed, 0)));
        // Under `template:`, a sibling of `encryptedData:`, a value is plain again.
        assert!(!is_ciphertext(sealed, at(sealed, 1)));
        // A document separator ends the walk.
        let split = b"spec:\n  encryptedData:\n---\n    API_KEY: AgBy3i4OJSWK\n";
        assert!(!is_ciphertext(split, at(split, 0)));
        let sops = b"API_KEY=ENC[AES256_GCM,data:Qm7vXk2pLr9T,iv:x,tag:y,type:str]\n";
        let data = sops.windows(4).position(|w| w == b"Qm7v").unwrap_or(0);
        assert!(is_ciphertext(sops, data..data + 12));
        let plain = b"API_KEY=Qm7vXk2pLr9T # ENC[ is a SOPS marker]\n";
        assert!(!is_ciphertext(plain, 8..20));
    }

    /// Random keys of the common alphabets are almost never taken for stand-ins: each new
    /// stand-in test costs recall on real keys, and this bounds the cost (a seeded generator,
    /// so the count is the same on every run).
    #[test]
    fn random_keys_are_rarely_taken_for_stand_ins() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // Letters-only values may read as a camelCase identifier (one in a thousand).
        let alphabets: [(&[u8], usize, usize); 4] = [
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                36,
                6,
            ),
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                40,
                6,
            ),
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                34,
                15,
            ),
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*",
                16,
                6,
            ),
        ];
        for (alphabet, len, most) in alphabets {
            let taken = (0..10_000)
                .filter(|_| {
                    let value: Vec<u8> = (0..len)
                        .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                        .collect();
                    is_placeholder(&value)
                        || is_code_expression(&value)
                        || encodes_stand_in(&value)
                        || is_password_hash(&value)
                })
                .count();
            assert!(
                taken <= most,
                "{taken} of 10000 random values of length {len} taken for stand-ins"
            );
        }
    }

    #[test]
    fn conversation_datasets_are_recognised_by_their_turns() {
        let sharegpt = br#"[{"conversations": [{"from": "human", "value": "make me a password"}, {"from": "gpt", "value": "Here it is."}]}]"#;
        let openai = br#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}"#;
        let alpaca = br#"[{"instruction": "rotate the key", "input": "", "output": "done"},
            {"instruction": "list the keys", "input": "", "output": "none"}]"#;
        assert!(is_conversation_dataset("data/glaive_demo.json", sharegpt));
        assert!(is_conversation_dataset("train.jsonl", openai));
        assert!(is_conversation_dataset("data/alpaca.JSON", alpaca));
        // Not datasets: other JSON, or the same text in a notebook or a Python file.
        assert!(!is_conversation_dataset(
            "config.json",
            br#"{"api_key": "x", "value": 1}"#
        ));
        // One record is a configuration that happens to use the words, not a dataset.
        let one = br#"{"instruction": "deploy", "output": "s3://bucket", "db_password": "x"}"#;
        assert!(!is_conversation_dataset("job.json", one));
        assert!(!is_conversation_dataset("chat.ipynb", openai));
        assert!(!is_conversation_dataset("chat.py", openai));
    }
}
