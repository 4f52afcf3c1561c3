//! The small expression language of the Amplitude section, parsed by hand with precise spans.
//!
//! Offsets are byte offsets inside the expression string; the lowering pass maps them to file
//! positions.
//!
//! ```text
//! EXPR  := VALUE [ "if" COND ]
//! COND  := "event" "==" STRING | VALUE
//! VALUE := "category" | "target" | "data" "." KEY | TABLE "[" KEYEXPR "]" | STRING
//!        | FUNCTION "(" [ VALUE ] ")"
//! KEYEXPR := "category" | "target" | "data" "." KEY
//! GROUP := GROUPKEY | TABLE "[" ("category" | "target") "]"
//! ```

use std::ops::Range;

use crate::model::Capture;

/// A parse error: a message and the offending range inside the expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// Lower-case message.
    pub message: String,
    /// Where.
    pub range: Range<usize>,
    /// Optional help.
    pub help: Option<String>,
}

fn error<T>(message: impl Into<String>, range: Range<usize>) -> Result<T, ExprError> {
    Err(ExprError {
        message: message.into(),
        range,
        help: None,
    })
}

/// A lookup key or capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// `category` or `target`.
    Capture(Capture, Range<usize>),
    /// `data.<key>`.
    Data(String, Range<usize>),
}

impl Key {
    fn range(&self) -> Range<usize> {
        match self {
            Key::Capture(_, r) | Key::Data(_, r) => r.clone(),
        }
    }
}

/// A parsed VALUE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueExpr {
    /// `category` / `target`.
    Capture(Capture, Range<usize>),
    /// `data.<key>`.
    Data(String, Range<usize>),
    /// `table[key]`.
    Lookup {
        /// The table name.
        table: String,
        /// Where the table name is.
        table_range: Range<usize>,
        /// The key.
        key: Key,
    },
    /// `"text"`.
    Literal(String, Range<usize>),
    /// `name(args)`.
    Call {
        /// The function name.
        name: String,
        /// Where the name is.
        name_range: Range<usize>,
        /// Arguments.
        args: Vec<ValueExpr>,
        /// The whole call.
        range: Range<usize>,
    },
}

impl ValueExpr {
    /// The range of the whole value.
    pub fn range(&self) -> Range<usize> {
        match self {
            ValueExpr::Capture(_, r) | ValueExpr::Data(_, r) | ValueExpr::Literal(_, r) => {
                r.clone()
            }
            ValueExpr::Lookup {
                table_range, key, ..
            } => table_range.start..key.range().end + 1,
            ValueExpr::Call { range, .. } => range.clone(),
        }
    }
}

/// A parsed COND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CondExpr {
    /// A value that must be truthy.
    Truthy(ValueExpr),
    /// `event == "name"`.
    EventIs(String, Range<usize>),
}

/// A parsed `VALUE [if COND]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetExpr {
    /// The value.
    pub value: ValueExpr,
    /// The condition.
    pub cond: Option<CondExpr>,
}

/// A parsed GROUP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    /// A group key.
    Key(String, Range<usize>),
    /// `table[capture]`.
    Lookup {
        /// The table name.
        table: String,
        /// Where the table name is.
        table_range: Range<usize>,
        /// The key.
        key: Key,
    },
}

/// A piece of a `{...}` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// `{name}`; `name` is trimmed, `range` covers the braces.
    Placeholder(String, Range<usize>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Str(String),
    LBracket,
    RBracket,
    LParen,
    RParen,
    Dot,
    EqEq,
    Comma,
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$'
}

fn lex(text: &str) -> Result<Vec<(Tok, Range<usize>)>, ExprError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let single = |tok| Ok::<_, ExprError>((tok, start..start + 1));
        let token = match c {
            c if c.is_whitespace() => continue,
            '[' => single(Tok::LBracket)?,
            ']' => single(Tok::RBracket)?,
            '(' => single(Tok::LParen)?,
            ')' => single(Tok::RParen)?,
            '.' => single(Tok::Dot)?,
            ',' => single(Tok::Comma)?,
            '=' => {
                if chars.next_if(|&(_, c)| c == '=').is_some() {
                    (Tok::EqEq, start..start + 2)
                } else {
                    return error("expected `==`", start..start + 1);
                }
            }
            '"' => {
                let mut value = String::new();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '"' => {
                            end = Some(i + 1);
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, c @ ('"' | '\\'))) => value.push(c),
                            Some((i, c)) => {
                                return error(
                                    format!("unknown escape `\\{c}`"),
                                    i - 1..i + c.len_utf8(),
                                );
                            }
                            None => break,
                        },
                        c => value.push(c),
                    }
                }
                match end {
                    Some(end) => (Tok::Str(value), start..end),
                    None => return error("unterminated string", start..text.len()),
                }
            }
            c if is_ident_char(c) => {
                let mut end = start + c.len_utf8();
                while let Some((i, c)) = chars.next_if(|&(_, c)| is_ident_char(c)) {
                    end = i + c.len_utf8();
                }
                (Tok::Ident(text[start..end].to_string()), start..end)
            }
            c => {
                return error(
                    format!("unexpected character `{c}`"),
                    start..start + c.len_utf8(),
                );
            }
        };
        tokens.push(token);
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: &'a [(Tok, Range<usize>)],
    pos: usize,
    len: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }
    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.tokens.get(self.pos + n).map(|(t, _)| t)
    }
    fn here(&self) -> Range<usize> {
        self.tokens
            .get(self.pos)
            .map_or(self.len..self.len, |(_, r)| r.clone())
    }
    fn next(&mut self) -> Option<(Tok, Range<usize>)> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }
    fn expect(&mut self, tok: Tok, what: &str) -> Result<Range<usize>, ExprError> {
        match self.next() {
            Some((t, r)) if t == tok => Ok(r),
            Some((_, r)) => error(format!("expected {what}"), r),
            None => error(format!("expected {what}"), self.len..self.len),
        }
    }
    fn end(&self) -> Result<(), ExprError> {
        match self.tokens.get(self.pos) {
            None => Ok(()),
            Some((_, r)) => error("unexpected text after the expression", r.start..self.len),
        }
    }

    fn data_key(&mut self, start: usize) -> Result<(String, Range<usize>), ExprError> {
        self.expect(Tok::Dot, "`.` after `data`")?;
        match self.next() {
            Some((Tok::Ident(key), r)) => Ok((key, start..r.end)),
            Some((_, r)) => error("expected a data key after `data.`", r),
            None => error("expected a data key after `data.`", self.len..self.len),
        }
    }

    fn key(&mut self) -> Result<Key, ExprError> {
        match self.next() {
            Some((Tok::Ident(name), r)) => match name.as_str() {
                "category" => Ok(Key::Capture(Capture::Category, r)),
                "target" => Ok(Key::Capture(Capture::Target, r)),
                "data" => {
                    let (key, range) = self.data_key(r.start)?;
                    Ok(Key::Data(key, range))
                }
                _ => Err(ExprError {
                    message: format!("unknown lookup key `{name}`"),
                    range: r,
                    help: Some(
                        crate::suggest::help(&name, ["category", "target", "data"]).unwrap_or_else(
                            || "a lookup key is `category`, `target` or `data.<key>`".into(),
                        ),
                    ),
                }),
            },
            Some((_, r)) => error("expected `category`, `target` or `data.<key>`", r),
            None => error(
                "expected `category`, `target` or `data.<key>`",
                self.len..self.len,
            ),
        }
    }

    fn value(&mut self) -> Result<ValueExpr, ExprError> {
        match self.next() {
            Some((Tok::Str(text), r)) => Ok(ValueExpr::Literal(text, r)),
            Some((Tok::Ident(name), r)) => match (name.as_str(), self.peek()) {
                (_, Some(Tok::LBracket)) => {
                    self.next();
                    let key = self.key()?;
                    self.expect(Tok::RBracket, "`]`")?;
                    Ok(ValueExpr::Lookup {
                        table: name,
                        table_range: r,
                        key,
                    })
                }
                (_, Some(Tok::LParen)) => {
                    self.next();
                    let mut args = Vec::new();
                    if self.peek() != Some(&Tok::RParen) {
                        args.push(self.value()?);
                        while self.peek() == Some(&Tok::Comma) {
                            self.next();
                            args.push(self.value()?);
                        }
                    }
                    let close = self.expect(Tok::RParen, "`)`")?;
                    Ok(ValueExpr::Call {
                        name,
                        name_range: r.clone(),
                        args,
                        range: r.start..close.end,
                    })
                }
                ("category", _) => Ok(ValueExpr::Capture(Capture::Category, r)),
                ("target", _) => Ok(ValueExpr::Capture(Capture::Target, r)),
                ("data", _) => {
                    let (key, range) = self.data_key(r.start)?;
                    Ok(ValueExpr::Data(key, range))
                }
                _ => Err(ExprError {
                    message: format!("unknown value `{name}`"),
                    range: r,
                    help: Some(
                        crate::suggest::help(&name, ["category", "target", "data"]).unwrap_or_else(
                            || {
                                "a value is `category`, `target`, `data.<key>`, \
                                 `<table>[<key>]`, `\"text\"` or a function call"
                                    .into()
                            },
                        ),
                    ),
                }),
            },
            Some((_, r)) => error("expected a value", r),
            None => error("expected a value", self.len..self.len),
        }
    }

    fn cond(&mut self) -> Result<CondExpr, ExprError> {
        if matches!(self.peek(), Some(Tok::Ident(name)) if name == "event")
            && self.peek_at(1) == Some(&Tok::EqEq)
        {
            let start = self.here().start;
            self.next();
            self.next();
            return match self.next() {
                Some((Tok::Str(name), r)) => Ok(CondExpr::EventIs(name, start..r.end)),
                Some((_, r)) => error("expected a quoted event name after `==`", r),
                None => error(
                    "expected a quoted event name after `==`",
                    self.len..self.len,
                ),
            };
        }
        Ok(CondExpr::Truthy(self.value()?))
    }
}

fn parser<'a>(tokens: &'a [(Tok, Range<usize>)], text: &str) -> Parser<'a> {
    Parser {
        tokens,
        pos: 0,
        len: text.len(),
    }
}

/// Parses a VALUE.
pub fn parse_value(text: &str) -> Result<ValueExpr, ExprError> {
    let tokens = lex(text)?;
    let mut p = parser(&tokens, text);
    let value = p.value()?;
    p.end()?;
    Ok(value)
}

/// Parses a COND.
pub fn parse_cond(text: &str) -> Result<CondExpr, ExprError> {
    let tokens = lex(text)?;
    let mut p = parser(&tokens, text);
    let cond = p.cond()?;
    p.end()?;
    Ok(cond)
}

/// Parses `VALUE [if COND]`.
pub fn parse_set(text: &str) -> Result<SetExpr, ExprError> {
    let tokens = lex(text)?;
    let mut p = parser(&tokens, text);
    let value = p.value()?;
    let cond = if matches!(p.peek(), Some(Tok::Ident(word)) if word == "if") {
        p.next();
        Some(p.cond()?)
    } else {
        None
    };
    p.end()?;
    Ok(SetExpr { value, cond })
}

/// Parses a GROUP.
pub fn parse_group(text: &str) -> Result<GroupRef, ExprError> {
    let tokens = lex(text)?;
    let mut p = parser(&tokens, text);
    let group = match p.next() {
        Some((Tok::Ident(name), r)) => {
            if p.peek() == Some(&Tok::LBracket) {
                p.next();
                let key = p.key()?;
                p.expect(Tok::RBracket, "`]`")?;
                GroupRef::Lookup {
                    table: name,
                    table_range: r,
                    key,
                }
            } else {
                GroupRef::Key(name, r)
            }
        }
        Some((_, r)) => return error("expected a group key or `<table>[category]`", r),
        None => return error("expected a group key or `<table>[category]`", 0..text.len()),
    };
    p.end()?;
    Ok(group)
}

/// Splits a `{...}` template into text and placeholders.
pub fn parse_template(text: &str) -> Result<Vec<Piece>, ExprError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text.char_indices();
    while let Some((i, c)) = rest.next() {
        match c {
            '{' => {
                let close = text[i + 1..].find(['}', '{']);
                match close.map(|n| (n + i + 1, text.as_bytes()[n + i + 1])) {
                    Some((end, b'}')) => {
                        let name = text[i + 1..end].trim();
                        if name.is_empty() {
                            return error("empty placeholder `{}`", i..end + 1);
                        }
                        if !literal.is_empty() {
                            pieces.push(Piece::Text(std::mem::take(&mut literal)));
                        }
                        pieces.push(Piece::Placeholder(name.to_string(), i..end + 1));
                        // Skip to after the closing brace.
                        for _ in text[i + 1..=end].chars() {
                            rest.next();
                        }
                    }
                    _ => return error("unclosed `{` in template", i..i + 1),
                }
            }
            '}' => return error("unmatched `}` in template", i..i + 1),
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(
            parse_value("data.emailDomain"),
            Ok(ValueExpr::Data("emailDomain".into(), 0..16))
        );
        assert_eq!(
            parse_value("email_types[category]"),
            Ok(ValueExpr::Lookup {
                table: "email_types".into(),
                table_range: 0..11,
                key: Key::Capture(Capture::Category, 12..20),
            })
        );
        assert!(matches!(
            parse_value("experiments(data.experiments)"),
            Ok(ValueExpr::Call { ref name, ref args, .. }) if name == "experiments" && args.len() == 1
        ));
        assert_eq!(
            parse_value("\"a \\\"b\\\"\""),
            Ok(ValueExpr::Literal("a \"b\"".into(), 0..9))
        );
    }

    #[test]
    fn errors_point_into_the_expression() {
        let cases = [
            ("categroy", 0..8),
            ("data.", 5..5),
            ("data.x extra", 7..12),
            ("t[foo]", 2..5),
            ("\"open", 0..5),
            ("a = b", 2..3),
        ];
        for (text, range) in cases {
            assert_eq!(parse_value(text).map_err(|e| e.range), Err(range), "{text}");
        }
    }

    #[test]
    fn sets_and_conds() {
        let set = parse_set("target if target").unwrap();
        assert_eq!(set.value, ValueExpr::Capture(Capture::Target, 0..6));
        assert_eq!(
            set.cond,
            Some(CondExpr::Truthy(ValueExpr::Capture(
                Capture::Target,
                10..16
            )))
        );
        assert_eq!(
            parse_cond("event == \"disconnect_device\""),
            Ok(CondExpr::EventIs("disconnect_device".into(), 0..28))
        );
    }

    #[test]
    fn groups_and_templates() {
        assert_eq!(
            parse_group("login"),
            Ok(GroupRef::Key("login".into(), 0..5))
        );
        assert!(matches!(
            parse_group("groups[category]"),
            Ok(GroupRef::Lookup { .. })
        ));
        assert_eq!(
            parse_template("password_{category}"),
            Ok(vec![
                Piece::Text("password_".into()),
                Piece::Placeholder("category".into(), 9..19)
            ])
        );
        assert_eq!(parse_template("a{b").map_err(|e| e.range), Err(1..2));
        assert_eq!(parse_template("a}b").map_err(|e| e.range), Err(1..2));
        assert_eq!(
            parse_template("é{x}"),
            Ok(vec![
                Piece::Text("é".into()),
                Piece::Placeholder("x".into(), 2..5)
            ])
        );
    }
}
