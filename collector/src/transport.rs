//! The body as express's body parsers and the content server's `preProcess` left it.
//!
//! Parsed: `text/plain` (any case, as type-is matches) and the JSON types (`application/json`,
//! `*/json`, `application/csp-report`); anything else, or no content type, gives `{}`.
//! Where FxA's stack answered a 500 page (invalid JSON under a JSON type, a strict-mode
//! non-object, an unsupported charset, a body over the limit), the port answers the proper 4xx
//! with a JSON body (the corpus README's first deliberate deviation).

use std::borrow::Cow;

use metricsmith::line::{Doc, Parsed};
use serde_json::Value;

use crate::Request;

/// The body text, as the body parser that its content type selects leaves it.
pub(crate) enum Body<'r> {
    /// JSON text under a JSON type; text that is not JSON answers 400.
    Json(Cow<'r, str>),
    /// A lowercase `text/plain` body: text that is not JSON is logged by preProcess and the
    /// body becomes `{}`.
    Plain(Cow<'r, str>),
    /// The JSON text of a string: Joi receives other spellings of `text/plain` as a string.
    Quoted(String),
    /// No body parser ran, or the JSON body is empty: `{}`.
    Empty,
}

/// Why a parsed body is not the value validation gets.
pub(crate) enum Unparsed {
    /// Answers 4xx.
    Failed(TransportError),
    /// The `text/plain` body is not JSON: serde_json's message; the body is `{}`.
    TextNotJson(String),
}

/// Parses `body` into `doc`.
pub(crate) fn parse<'d>(body: &'d Body<'_>, doc: &'d mut Doc) -> Result<Parsed<'d>, Unparsed> {
    match body {
        Body::Json(text) => doc
            .parse(text)
            .map_err(|err| Unparsed::Failed(TransportError::Json(err.to_string()))),
        Body::Plain(text) => doc
            .parse(text)
            .map_err(|err| Unparsed::TextNotJson(err.to_string())),
        Body::Quoted(text) => doc
            .parse(text)
            .map_err(|err| Unparsed::Failed(TransportError::Json(err.to_string()))),
        Body::Empty => doc
            .parse(EMPTY)
            .map_err(|err| Unparsed::Failed(TransportError::Json(err.to_string()))),
    }
}

/// The body that stands for no body.
pub(crate) const EMPTY: &str = "{}";

/// Why a body could not be read; each answers a 4xx.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    #[error("request entity too large: {length} bytes, the limit is {limit}")]
    TooLarge { length: usize, limit: u64 },
    #[error("unsupported charset \"{0}\"")]
    Charset(String),
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("invalid JSON: the body must be an object or an array")]
    NotStrict,
    #[error("the body is not valid UTF-8")]
    NotUtf8,
}

impl TransportError {
    pub(crate) fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::Charset(_) => 415,
            Self::Json(_) | Self::NotStrict | Self::NotUtf8 => 400,
        }
    }

    pub(crate) fn body(&self) -> Value {
        let error = match self.status() {
            413 => "Payload Too Large",
            415 => "Unsupported Media Type",
            _ => "Bad Request",
        };
        serde_json::json!({
            "statusCode": self.status(),
            "error": error,
            "message": self.to_string(),
        })
    }
}

enum Kind {
    Text,
    Json,
    Other,
}

pub(crate) fn read_body(request: &Request, limit: u64) -> Result<Body<'_>, TransportError> {
    let content_type = request.header("content-type");
    let (kind, charset) = match content_type {
        Some(value) => classify(value),
        None => (Kind::Other, None),
    };
    if matches!(kind, Kind::Other) {
        return Ok(Body::Empty);
    }
    if request.body.len() as u64 > limit {
        return Err(TransportError::TooLarge {
            length: request.body.len(),
            limit,
        });
    }
    let charset = charset.unwrap_or_else(|| "utf-8".to_owned());
    let text: Cow<'_, str> = match charset.as_str() {
        "utf-8" | "utf8" => {
            let text = std::str::from_utf8(&request.body).map_err(|_| TransportError::NotUtf8)?;
            // iconv-lite strips a UTF-8 byte order mark.
            Cow::Borrowed(text.strip_prefix('\u{feff}').unwrap_or(text))
        }
        // Latin-1 maps each byte to the code point of the same number (none is a byte order
        // mark).
        "iso-8859-1" | "latin1" | "us-ascii" | "ascii" if matches!(kind, Kind::Text) => {
            Cow::Owned(request.body.iter().map(|&b| char::from(b)).collect())
        }
        _ => return Err(TransportError::Charset(charset)),
    };
    match kind {
        Kind::Json => {
            if text.is_empty() {
                return Ok(Body::Empty);
            }
            // body-parser's strict mode: the first non-blank character opens an object or an
            // array.
            let first = text
                .trim_start_matches([' ', '\t', '\n', '\r'])
                .chars()
                .next();
            if !matches!(first, Some('{' | '[')) {
                return Err(TransportError::NotStrict);
            }
            Ok(Body::Json(text))
        }
        Kind::Text => {
            // preProcess's regex, /^text\/plain/, is case-sensitive: other spellings reach
            // Joi as a string.
            let raw = content_type.unwrap_or("");
            if !raw.starts_with("text/plain") {
                return Ok(Body::Quoted(Value::from(text.into_owned()).to_string()));
            }
            Ok(Body::Plain(text))
        }
        Kind::Other => Ok(Body::Empty),
    }
}

/// The parser a content type selects, and its charset parameter (lowercase).
fn classify(value: &str) -> (Kind, Option<String>) {
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    });
    let kind = match media.split_once('/') {
        Some(("text", "plain")) => Kind::Text,
        Some((_, "json")) | Some(("application", "csp-report")) => Kind::Json,
        _ => Kind::Other,
    };
    (kind, charset)
}
