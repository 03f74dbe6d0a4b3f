//! Python's spelling of numbers: `repr(float)`, `str(int)`, and `json.dumps`' `NaN`/`Infinity`.

/// What Python's `json.loads` turns a number literal into.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberKind {
    Int,
    Float(f64),
}

/// Literals with a fraction or exponent (and the special names) are floats; the rest are ints.
pub fn number_kind(raw: &str) -> NumberKind {
    match raw {
        "NaN" => NumberKind::Float(f64::NAN),
        "Infinity" => NumberKind::Float(f64::INFINITY),
        "-Infinity" => NumberKind::Float(f64::NEG_INFINITY),
        _ if raw.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) => {
            NumberKind::Float(raw.parse().unwrap_or(f64::NAN))
        }
        _ => NumberKind::Int,
    }
}

/// Writes a number as `json.dumps` does.
pub fn write_json_number(out: &mut Vec<u8>, raw: &str) {
    match number_kind(raw) {
        NumberKind::Int if raw == "-0" => out.push(b'0'),
        NumberKind::Int => out.extend_from_slice(raw.as_bytes()),
        NumberKind::Float(x) if x.is_nan() => out.extend_from_slice(b"NaN"),
        NumberKind::Float(x) if x.is_infinite() => {
            out.extend_from_slice(if x > 0.0 { b"Infinity" } else { b"-Infinity" })
        }
        NumberKind::Float(x) => out.extend_from_slice(float_repr(x).as_bytes()),
    }
}

/// `len(str(x))` for a number, as nbstripout's `get_size` counts it.
pub fn python_str_len(raw: &str) -> usize {
    match number_kind(raw) {
        NumberKind::Int if raw == "-0" => 1,
        NumberKind::Int => raw.len(),
        NumberKind::Float(x) if x.is_nan() => 3,
        NumberKind::Float(x) if x.is_infinite() => 3 + usize::from(x < 0.0),
        NumberKind::Float(x) => float_repr(x).len(),
    }
}

pub fn number_is_nonzero(raw: &str) -> bool {
    match number_kind(raw) {
        NumberKind::Int => raw.trim_start_matches('-') != "0",
        NumberKind::Float(x) => x != 0.0,
    }
}

/// Python's `repr(x)` for a finite float: the shortest round-tripping digits, in fixed notation
/// when the decimal exponent is in `-4..16`, otherwise `d.ddde±XX`.
pub fn float_repr(x: f64) -> String {
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let point = exponent + 1;
    let body = if (-3..=16).contains(&point) {
        fixed_notation(&digits, point)
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{first}{fraction}e{exp_sign}{:02}", exponent.unsigned_abs())
    };
    format!("{sign}{body}")
}

fn fixed_notation(digits: &str, point: i32) -> String {
    let len = digits.len() as i32;
    if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point >= len {
        format!("{digits}{}.0", "0".repeat((point - len) as usize))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(raw: &str) -> String {
        let mut out = Vec::new();
        write_json_number(&mut out, raw);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_match_python_repr() {
        let cases = [
            ("1e-05", "1e-05"),
            ("0.00001", "1e-05"),
            ("2.5e-7", "2.5e-07"),
            ("1e16", "1e+16"),
            ("1e15", "1000000000000000.0"),
            ("1E5", "100000.0"),
            ("1e+05", "100000.0"),
            ("1.50", "1.5"),
            ("10.0e-1", "1.0"),
            ("-0.0", "-0.0"),
            ("0.0001", "0.0001"),
            ("5e-324", "5e-324"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("1e400", "Infinity"),
            ("123.456", "123.456"),
            ("1e22", "1e+22"),
        ];
        for (raw, expected) in cases {
            assert_eq!(json(raw), expected, "{raw}");
        }
    }

    #[test]
    fn ints_keep_every_digit() {
        assert_eq!(
            json("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
        assert_eq!(json("-0"), "0");
        assert_eq!(python_str_len("-12"), 3);
        assert_eq!(python_str_len("1e-05"), 5);
        assert_eq!(python_str_len("-Infinity"), 4);
    }
}
