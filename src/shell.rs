//! Quoting for the shell and escaping for the terminal, in one place: the fixes printed in
//! reports, the commands written into git's configuration and the hook script are all read by
//! `sh`, and a path with a quote, a `$` or a backtick must stay one inert word in each of them;
//! and a path (or any text from a repository) printed for people must not forge report lines
//! or drive the terminal with a newline or an escape sequence.

use std::borrow::Cow;

/// A word as `sh` reads it, single-quoted unless it is made only of characters that are safe
/// as they are. Inside single quotes nothing is special, so this is safe for any text.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b));
    if plain {
        word.to_string()
    } else {
        single_quoted(word)
    }
}

/// Always single-quoted: `'it'\''s'`.
pub fn single_quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// Double-quoted, for git configuration values: git runs filter and textconv commands through
/// `sh -c`, and a config value cannot hold a newline, so `\`, `"`, `$` and backticks are escaped.
pub fn double_quoted(word: &str) -> String {
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('"');
    for c in word.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Reads back a word written by `single_quoted` at the start of `text`: its value and the text
/// after it. `None` when `text` does not start with such a word.
pub fn parse_single_quoted(text: &str) -> Option<(String, &str)> {
    let mut rest = text.strip_prefix('\'')?;
    let mut value = String::new();
    loop {
        let end = rest.find('\'')?;
        value.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        match rest.strip_prefix("\\''") {
            Some(after) => {
                value.push('\'');
                rest = after;
            }
            None => return Some((value, rest)),
        }
    }
}

/// The first word of a command written by `double_quoted` (or an unquoted one): the program.
pub fn first_word(command: &str) -> Option<String> {
    let command = command.trim();
    let Some(rest) = command.strip_prefix('"') else {
        return command.split_whitespace().next().map(str::to_string);
    };
    let mut word = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.push(chars.next()?),
            '"' => return Some(word),
            other => word.push(other),
        }
    }
    None
}

/// Escapes control characters (newlines, escape sequences) so that a path or other untrusted
/// text printed in a report cannot forge report lines or drive the terminal.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().flat_map(char::escape_debug_control).collect())
}

/// `char::escape_debug` for control characters only (a non-ASCII letter stays as it is).
trait EscapeControl {
    fn escape_debug_control(self) -> std::vec::IntoIter<char>;
}

impl EscapeControl for char {
    fn escape_debug_control(self) -> std::vec::IntoIter<char> {
        if self.is_control() {
            self.escape_debug().collect::<Vec<_>>().into_iter()
        } else {
            vec![self].into_iter()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_for_printing() {
        assert_eq!(printable("nb/a b.ipynb"), "nb/a b.ipynb");
        assert_eq!(printable("x\ny:1:1: fake"), "x\\ny:1:1: fake");
        assert_eq!(printable("\u{1b}[2Jé"), "\\u{1b}[2Jé");
    }

    #[test]
    fn quoting_survives_odd_words() {
        assert_eq!(quote("nb/a-1.ipynb"), "nb/a-1.ipynb");
        assert_eq!(quote("my nb.ipynb"), "'my nb.ipynb'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(rm -rf x)"), "'$(rm -rf x)'");
        let path = "/opt/my tools/ml\"guard$`x`";
        let quoted = double_quoted(path);
        assert_eq!(quoted, "\"/opt/my tools/ml\\\"guard\\$\\`x\\`\"");
        assert_eq!(
            first_word(&format!("{quoted} filter-process")).as_deref(),
            Some(path)
        );
        assert_eq!(first_word("mlguard strip").as_deref(), Some("mlguard"));
        for word in ["plain", "it's", "a'b'c", "", "$(x) `y` \"z\"\n"] {
            let quoted = format!("{} rest", single_quoted(word));
            assert_eq!(
                parse_single_quoted(&quoted),
                Some((word.to_string(), " rest"))
            );
        }
    }
}
