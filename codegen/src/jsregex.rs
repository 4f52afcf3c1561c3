//! JavaScript regexes (FxA's patterns) translated to `regex` crate syntax.
//!
//! The translation keeps JavaScript's meaning where the two flavours differ:
//! `\w`, `\d`, `\b` and their negations are ASCII-only in JavaScript, `.` excludes only line
//! terminators, `[]` matches nothing and `[^]` anything.
//! `$` without the `m` flag means end of input in both.
//! Lookaround, backreferences and named groups have no equivalent in a linear-time engine, so
//! they are rejected with the column of the offending construct.

use std::ops::Range;

use regex_syntax::ast::parse::Parser as AstParser;

/// Why a pattern was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsRegexError {
    /// Whether the construct is valid JavaScript that metricsmith does not support.
    pub unsupported: bool,
    /// Lower-case message.
    pub message: String,
    /// Byte range inside the JavaScript pattern.
    pub range: Range<usize>,
}

/// A translated pattern.
#[derive(Debug, Clone)]
pub struct Translated {
    /// The pattern in `regex` syntax.
    pub rust: String,
    /// The number of capture groups.
    pub captures: usize,
    /// The compiled regex.
    pub regex: regex::Regex,
}

const WORD: &str = "0-9A-Za-z_";
const DIGIT: &str = "0-9";
// JavaScript (no `u` flag) matches one UTF-16 code unit: never a whole astral character.
const DOT: &str = r"[^\n\r\u{2028}\u{2029}\u{10000}-\u{10FFFF}]";

struct Out {
    rust: String,
    // For every byte of `rust`, the byte of the JavaScript pattern it came from.
    origin: Vec<usize>,
}

impl Out {
    fn push(&mut self, text: &str, from: usize) {
        self.rust.push_str(text);
        self.origin.extend(std::iter::repeat_n(from, text.len()));
    }
}

fn unsupported<T>(message: &str, range: Range<usize>) -> Result<T, JsRegexError> {
    Err(JsRegexError {
        unsupported: true,
        message: message.to_string(),
        range,
    })
}

fn invalid<T>(message: impl Into<String>, range: Range<usize>) -> Result<T, JsRegexError> {
    Err(JsRegexError {
        unsupported: false,
        message: message.into(),
        range,
    })
}

/// Translates a JavaScript pattern to `regex` syntax and counts its capture groups.
///
/// # Errors
/// A [`JsRegexError`] pointing into `js` for unsupported constructs and invalid syntax.
pub fn translate(js: &str) -> Result<(String, usize, Vec<usize>), JsRegexError> {
    let mut out = Out {
        rust: String::with_capacity(js.len() * 2),
        origin: Vec::with_capacity(js.len() * 2),
    };
    let mut captures = 0;
    let chars: Vec<(usize, char)> = js.char_indices().collect();
    let mut i = 0;
    let mut in_class = false;
    let mut class_start = 0;
    let mut in_quantifier = false;
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, c)| c);
        if c == '\\' {
            let Some(escaped) = next else {
                return invalid("pattern ends with a lone `\\`", at..at + 1);
            };
            let end = chars.get(i + 2).map_or(js.len(), |&(p, _)| p);
            let range = at..end;
            let text: String = match escaped {
                'w' if in_class => WORD.into(),
                'd' if in_class => DIGIT.into(),
                'W' if in_class => format!("[^{WORD}]"),
                'D' if in_class => format!("[^{DIGIT}]"),
                'w' => format!("[{WORD}]"),
                'd' => format!("[{DIGIT}]"),
                'W' => format!("[^{WORD}]"),
                'D' => format!("[^{DIGIT}]"),
                's' | 'S' | 'n' | 'r' | 't' | 'f' | 'v' => format!("\\{escaped}"),
                'b' if in_class => r"\x08".into(),
                'b' | 'B' => format!("(?-u:\\{escaped})"),
                '0' if !next_is_digit(&chars, i + 2) => r"\x00".into(),
                '1'..='9' => return unsupported("backreferences are not supported", range),
                'k' if chars.get(i + 2).map(|&(_, c)| c) == Some('<') => {
                    return unsupported("named backreferences are not supported", range);
                }
                'x' => {
                    let hex = hex_digits(&chars, i + 2, 2)
                        .ok_or(())
                        .or_else(|()| invalid("`\\x` needs two hex digits", range.clone()))?;
                    i += 2;
                    format!("\\x{hex}")
                }
                'u' => {
                    let hex = hex_digits(&chars, i + 2, 4)
                        .ok_or(())
                        .or_else(|()| invalid("`\\u` needs four hex digits", range.clone()))?;
                    i += 4;
                    format!("\\u{{{hex}}}")
                }
                'c' | 'p' | 'P' => {
                    return unsupported(&format!("`\\{escaped}` is not supported"), range);
                }
                c if c.is_ascii_alphanumeric() => {
                    return unsupported(
                        &format!("the identity escape `\\{c}` is not supported"),
                        range,
                    );
                }
                c => regex_syntax::escape(&c.to_string()),
            };
            out.push(&text, at);
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push("]", at);
                }
                '[' | '&' | '~' => out.push(&format!("\\{c}"), at),
                '-' if out.rust.ends_with('-') => out.push("\\-", at),
                c => out.push(&c.to_string(), at),
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                class_start = at;
                let negated = next == Some('^');
                let after = chars.get(i + 1 + usize::from(negated)).map(|&(_, c)| c);
                if after == Some(']') {
                    // `[]` matches nothing and `[^]` anything in JavaScript.
                    out.push(if negated { r"[\s\S]" } else { r"[^\s\S]" }, at);
                    i += 2 + usize::from(negated);
                    continue;
                }
                in_class = true;
                out.push(if negated { "[^" } else { "[" }, at);
                i += 1 + usize::from(negated);
                continue;
            }
            '(' => {
                if next == Some('?') {
                    let third = chars.get(i + 2).map(|&(_, c)| c);
                    let fourth = chars.get(i + 3).map(|&(_, c)| c);
                    let end = chars.get(i + 3).map_or(js.len(), |&(p, _)| p);
                    match (third, fourth) {
                        (Some(':'), _) => {
                            out.push("(?:", at);
                            i += 3;
                            continue;
                        }
                        (Some('=' | '!'), _) => {
                            return unsupported("lookaround is not supported", at..end);
                        }
                        (Some('<'), Some('=' | '!')) => {
                            let end = chars.get(i + 4).map_or(js.len(), |&(p, _)| p);
                            return unsupported("lookaround is not supported", at..end);
                        }
                        (Some('<'), _) => {
                            return unsupported(
                                "named groups are not supported; use a plain group",
                                at..end,
                            );
                        }
                        _ => return invalid("invalid group", at..end),
                    }
                }
                captures += 1;
                out.push("(", at);
            }
            '.' => out.push(DOT, at),
            '{' => {
                if quantifier_at(&chars, i) {
                    in_quantifier = true;
                    out.push("{", at);
                } else {
                    out.push("\\{", at);
                }
            }
            '}' => {
                if in_quantifier {
                    in_quantifier = false;
                    out.push("}", at);
                } else {
                    out.push("\\}", at);
                }
            }
            c => out.push(&c.to_string(), at),
        }
        i += 1;
    }
    if in_class {
        return invalid("unclosed character class", class_start..js.len());
    }
    Ok((out.rust, captures, out.origin))
}

fn next_is_digit(chars: &[(usize, char)], i: usize) -> bool {
    chars.get(i).is_some_and(|&(_, c)| c.is_ascii_digit())
}

fn hex_digits(chars: &[(usize, char)], from: usize, n: usize) -> Option<String> {
    let digits: String = chars.get(from..from + n)?.iter().map(|&(_, c)| c).collect();
    digits
        .chars()
        .all(|c| c.is_ascii_hexdigit())
        .then_some(digits)
}

/// Whether `{` at `i` starts a `{n}`, `{n,}` or `{n,m}` quantifier (otherwise it is literal).
fn quantifier_at(chars: &[(usize, char)], i: usize) -> bool {
    let rest: String = chars[i + 1..]
        .iter()
        .map(|&(_, c)| c)
        .take_while(|&c| c != '}')
        .collect();
    let closed = chars[i + 1..].iter().any(|&(_, c)| c == '}');
    let mut parts = rest.splitn(2, ',');
    let first = parts.next().unwrap_or("");
    let second = parts.next();
    closed
        && i > 0
        && !first.is_empty()
        && first.chars().all(|c| c.is_ascii_digit())
        && second.is_none_or(|s| s.chars().all(|c| c.is_ascii_digit()))
}

/// Translates, checks and compiles a JavaScript pattern.
///
/// # Errors
/// A [`JsRegexError`] pointing into `js`.
pub fn compile(js: &str) -> Result<Translated, JsRegexError> {
    let (rust, captures, origin) = translate(js)?;
    let map = |offset: usize| origin.get(offset).copied().unwrap_or(js.len());
    if let Err(err) = AstParser::new().parse(&rust) {
        let span = err.span();
        let start = map(span.start.offset);
        let end = map(span.end.offset.max(span.start.offset + 1) - 1);
        let end = js[end..]
            .chars()
            .next()
            .map_or(end, |c| end + c.len_utf8())
            .max(start);
        return invalid(err.kind().to_string(), start..end);
    }
    match regex::Regex::new(&rust) {
        Ok(regex) => {
            // The regex crate counts group 0 (the whole match).
            debug_assert_eq!(regex.captures_len() - 1, captures);
            Ok(Translated {
                captures: regex.captures_len() - 1,
                rust,
                regex,
            })
        }
        Err(err) => invalid(
            err.to_string()
                .lines()
                .last()
                .unwrap_or("invalid regex")
                .trim()
                .to_lowercase(),
            0..js.len(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translations() {
        let cases = [
            (
                r"^email\.(\w+)\.sent$",
                r"^email\.([0-9A-Za-z_]+)\.sent$",
                1,
            ),
            (
                r"^flow\.([\w-]+)\.engage$",
                r"^flow\.([0-9A-Za-z_-]+)\.engage$",
                1,
            ),
            (r"a.b", r"a[^\n\r\u{2028}\u{2029}\u{10000}-\u{10FFFF}]b", 0),
            (r"(?:x)(y)(z)", r"(?:x)(y)(z)", 2),
            (r"\d{2,3}", r"[0-9]{2,3}", 0),
            (r"a{", r"a\{", 0),
            (r"[]", r"[^\s\S]", 0),
            (r"[^]", r"[\s\S]", 0),
            (r"\/", r"/", 0),
            (r"[\W]", r"[[^0-9A-Za-z_]]", 0),
            (r"\u00e9", r"\u{00e9}", 0),
            (r"\bx", r"(?-u:\b)x", 0),
        ];
        for (js, rust, captures) in cases {
            let (out, n, origin) = translate(js).unwrap();
            assert_eq!((out.as_str(), n), (rust, captures), "{js}");
            assert_eq!(origin.len(), out.len());
            compile(js).unwrap();
        }
    }

    #[test]
    fn rejections_point_into_the_pattern() {
        let cases = [
            (r"^a(?=b)", 2..5, true),
            (r"^a(?<!b)", 2..6, true),
            (r"(a)\1", 3..5, true),
            (r"(?<name>a)", 0..3, true),
            (r"^a(b", 2..3, false),
            (r"^a[b", 2..4, false),
            (r"*x", 0..1, false),
            (r"a\", 1..2, false),
        ];
        for (js, range, is_unsupported) in cases {
            let err = compile(js).unwrap_err();
            assert_eq!(
                (err.range.clone(), err.unsupported),
                (range, is_unsupported),
                "{js}: {err:?}"
            );
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn js_word(c: char) -> bool {
            c.is_ascii_alphanumeric() || c == '_'
        }

        fn js_line_terminator(c: char) -> bool {
            matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
        }

        fn text() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                prop_oneof![
                    proptest::char::range('a', 'z'),
                    proptest::char::range('A', 'Z'),
                    proptest::char::range('0', '9'),
                    Just('_'),
                    Just('-'),
                    Just('.'),
                    Just('\n'),
                    Just('\r'),
                    Just('\u{2028}'),
                    Just('é'),
                    Just('ß'),
                    Just('٣'),
                    Just('Ⅻ'),
                    Just(' '),
                ],
                0..12,
            )
            .prop_map(|chars| chars.into_iter().collect())
        }

        /// A piece of a JavaScript pattern and the number of groups it opens.
        fn piece() -> impl Strategy<Value = (String, usize)> {
            let leaf = prop_oneof![
                Just((r"\w".to_string(), 0)),
                Just((r"\d".to_string(), 0)),
                Just((r"\W".to_string(), 0)),
                Just((".".to_string(), 0)),
                Just((r"\.".to_string(), 0)),
                Just((r"[\w-]".to_string(), 0)),
                Just((r"[^\d]".to_string(), 0)),
                "[a-z]{1,3}".prop_map(|s| (s, 0)),
            ];
            leaf.prop_recursive(3, 12, 3, |inner| {
                prop_oneof![
                    (
                        inner.clone(),
                        prop_oneof![Just(""), Just("+"), Just("*"), Just("?"), Just("{1,2}")]
                    )
                        .prop_map(|((p, n), q)| (format!("(?:{p}){q}"), n)),
                    inner.clone().prop_map(|(p, n)| (format!("({p})"), n + 1)),
                    (inner.clone(), inner).prop_map(|((a, n), (b, m))| (format!("{a}{b}"), n + m)),
                ]
            })
        }

        proptest! {
            #[test]
            fn word_and_digit_classes_are_ascii(s in text()) {
                let word = compile(r"^\w*$").unwrap().regex;
                prop_assert_eq!(word.is_match(&s), s.chars().all(js_word));
                let digits = compile(r"^\d*$").unwrap().regex;
                prop_assert_eq!(digits.is_match(&s), s.chars().all(|c| c.is_ascii_digit()));
                let class = compile(r"^[\w-]*$").unwrap().regex;
                prop_assert_eq!(class.is_match(&s), s.chars().all(|c| js_word(c) || c == '-'));
                let not_word = compile(r"^\W*$").unwrap().regex;
                prop_assert_eq!(not_word.is_match(&s), s.chars().all(|c| !js_word(c)));
            }

            #[test]
            fn dot_excludes_only_line_terminators(s in text()) {
                let dot = compile("^.*$").unwrap().regex;
                prop_assert_eq!(dot.is_match(&s), !s.chars().any(js_line_terminator));
            }

            #[test]
            fn dollar_is_end_of_input(s in text()) {
                let end = compile("x$").unwrap().regex;
                prop_assert_eq!(end.is_match(&s), s.ends_with('x'));
            }

            #[test]
            fn generated_patterns_translate_and_count_groups((pattern, groups) in piece()) {
                let translated = compile(&pattern).unwrap();
                prop_assert_eq!(translated.captures, groups);
                let (_, counted, origin) = translate(&pattern).unwrap();
                prop_assert_eq!(counted, groups);
                prop_assert_eq!(origin.len(), translated.rust.len());
                prop_assert!(origin.iter().all(|&o| o < pattern.len()));
            }
        }
    }
}
