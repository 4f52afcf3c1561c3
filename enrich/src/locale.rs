//! `Accept-Language` negotiation, as i18n-abide 0.0.26 did it for FxA's content server.
//!
//! The rules, from ../shared/conformance/collector/README.md ("Locale negotiation"):
//!
//! 1. Split the header at `,`; each part's language is the text before its first `;`, trimmed;
//!    its quality is 1 unless the second `;`-part starts with `q=` and the text after that `=`
//!    parses with JavaScript's `parseFloat`.
//! 2. Sort by quality, highest first, keeping header order among equals (a stable sort).
//! 3. The first language whose lowercase form is a supported language (compared lowercased) is
//!    chosen as written; otherwise, the first whose primary subtag is supported gives that
//!    subtag as written; otherwise the default language.
//! 4. A chosen language equal to the debug language (ignoring case) becomes `db-LB`.
//! 5. The locale form: `pt-BR` -> `pt_BR`, `sr-LATN` -> `sr_Latn`, `sr-Cyrl-RS` -> `sr_RS`.

use std::collections::HashSet;

use metricsmith::js::is_js_whitespace;

/// The debug pseudo-language that i18n-abide substitutes for the configured debug language.
pub const DEBUG_PSEUDO_LANGUAGE: &str = "db-LB";

/// The languages a service supports, its default and its debug language.
///
/// # Example
///
/// ```
/// use metricsmith_enrich::Languages;
///
/// let languages = Languages::new(["en", "en-GB", "pt-BR", "sr-LATN"], "en", "it-CH");
/// let chosen = languages.negotiate(Some("pt-br;q=0.9, en-US;q=0.8"));
/// assert_eq!(chosen.language, "pt-br");
/// assert_eq!(chosen.locale, "pt_BR");
/// assert_eq!(languages.negotiate(Some("en-US")).locale, "en");
/// assert_eq!(languages.negotiate(None).locale, "en");
/// ```
#[derive(Debug, Clone)]
pub struct Languages {
    supported: HashSet<String>,
    default_language: String,
    debug_language: String,
}

/// The outcome of a negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The language as i18n-abide set `req.lang`: as written in the header, its primary
    /// subtag, the default language, or [`DEBUG_PSEUDO_LANGUAGE`].
    pub language: String,
    /// Its locale form (`req.locale`), the flow line's `locale`.
    pub locale: String,
}

impl Languages {
    /// Declares the supported languages (compared without case), the default language (used
    /// when nothing matches) and the debug language (replaced by `db-LB` when chosen).
    pub fn new<I, S>(supported: I, default_language: &str, debug_language: &str) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            supported: supported
                .into_iter()
                .map(|s| s.as_ref().to_lowercase())
                .collect(),
            default_language: default_language.to_owned(),
            debug_language: debug_language.to_lowercase(),
        }
    }

    /// Negotiates the language of a request from its `Accept-Language` header (`None` when
    /// the header is absent).
    pub fn negotiate(&self, accept_language: Option<&str>) -> Negotiated {
        let mut language = self.best_language(accept_language.unwrap_or(""));
        if language.to_lowercase() == self.debug_language {
            language = DEBUG_PSEUDO_LANGUAGE.to_owned();
        }
        let locale = locale_from(&language);
        Negotiated { language, locale }
    }

    fn best_language(&self, header: &str) -> String {
        for wanted in parse_accept_language(header) {
            if self.supported.contains(&wanted.to_lowercase()) {
                return wanted.to_owned();
            }
            let primary = wanted.split('-').next().unwrap_or(wanted);
            if self.supported.contains(&primary.to_lowercase()) {
                return primary.to_owned();
            }
        }
        self.default_language.clone()
    }
}

/// The languages of an `Accept-Language` header, best first (i18n-abide's
/// `parseAcceptLanguage` without the qualities).
pub fn parse_accept_language(header: &str) -> Vec<&str> {
    if header.is_empty() {
        return Vec::new();
    }
    let mut langs: Vec<(&str, f64)> = header
        .split(',')
        .map(|raw| {
            let mut parts = raw.split(';');
            let language = parts.next().unwrap_or("").trim_matches(is_js_whitespace);
            let quality = parts
                .next()
                .and_then(|p| p.strip_prefix("q="))
                .map(|q| parse_float(q.split('=').next().unwrap_or("")))
                .filter(|q| !q.is_nan())
                .unwrap_or(1.0);
            (language, quality)
        })
        .collect();
    // Stable: equal qualities keep the header's order, as node's sort does.
    langs.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
    langs.into_iter().map(|(language, _)| language).collect()
}

/// i18n-abide's `localeFrom`: `en` -> `en`, `pt-br` -> `pt_BR`, `sr-LATN` -> `sr_Latn`,
/// `sr-Cyrl-RS` -> `sr_RS`; four or more parts are returned unchanged.
pub fn locale_from(language: &str) -> String {
    let parts: Vec<&str> = language.split('-').collect();
    match parts.as_slice() {
        [one] => one.to_lowercase(),
        [first, second] => {
            // JavaScript's `length` counts UTF-16 units.
            let second = if second.encode_utf16().count() <= 2 {
                second.to_uppercase()
            } else {
                capitalize(second)
            };
            format!("{}_{second}", first.to_lowercase())
        }
        [first, _, third] => format!("{}_{}", first.to_lowercase(), third.to_uppercase()),
        _ => language.to_owned(),
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.as_str().to_lowercase().chars())
            .collect(),
        None => String::new(),
    }
}

/// JavaScript's `parseFloat`: leading white space skipped, then the longest prefix that is a
/// decimal literal (with optional sign, fraction and exponent) or `Infinity`; `NaN` when
/// there is none.
pub fn parse_float(text: &str) -> f64 {
    let t = text.trim_start_matches(is_js_whitespace);
    let bytes = t.as_bytes();
    let mut i = 0;
    if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
        i += 1;
    }
    if t[i..].starts_with("Infinity") {
        return if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let digits = |mut j: usize| {
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let int_end = digits(i);
    let mut end = int_end;
    let mut frac_digits = 0;
    if end < bytes.len() && bytes[end] == b'.' {
        let frac_end = digits(end + 1);
        frac_digits = frac_end - (end + 1);
        if int_end > i || frac_digits > 0 {
            end = frac_end;
        }
    }
    if int_end == i && frac_digits == 0 {
        return f64::NAN;
    }
    if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
        let mut j = end + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        let exp_end = digits(j);
        if exp_end > j {
            end = exp_end;
        }
    }
    // The prefix is ASCII digits, signs, a dot and an exponent: Rust's parser accepts it
    // (a trailing dot included: "1." parses as 1).
    t[..end].parse::<f64>().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fxa() -> Languages {
        // fxa-shared 1.0.20 l10n/supportedLanguages.json, as the README lists it.
        Languages::new(
            [
                "ar", "ast", "az", "bg", "bn-BD", "ca", "cak", "cs", "cy", "da", "de", "dsb", "en",
                "en-GB", "es", "es-AR", "es-CL", "es-ES", "es-MX", "et", "fa", "ff", "fi", "fr",
                "fy", "fy-NL", "he", "hi-IN", "hsb", "hu", "id", "it", "ja", "ka", "kab", "kk",
                "ko", "lt", "lv", "nl", "nb-NO", "nn-NO", "pa", "pl", "pt", "pt-BR", "pt-PT", "rm",
                "ro", "ru", "sk", "sl", "sq", "sr", "sr-LATN", "sv", "sv-SE", "te", "tr", "uk",
                "zh-CN", "zh-TW",
            ],
            "en",
            "it-CH",
        )
    }

    #[test]
    fn negotiation_follows_i18n_abide() {
        let languages = fxa();
        for (header, language, locale) in [
            (None, "en", "en"),
            (Some(""), "en", "en"),
            (Some("*"), "en", "en"),
            (Some("garbage"), "en", "en"),
            (Some("en-US"), "en", "en"),
            (Some("en-GB"), "en-GB", "en_GB"),
            (Some("pt-BR"), "pt-BR", "pt_BR"),
            (Some("pt-br"), "pt-br", "pt_BR"),
            (Some("es-ES"), "es-ES", "es_ES"),
            (Some("sr-LATN"), "sr-LATN", "sr_Latn"),
            (Some("sr-latn"), "sr-latn", "sr_Latn"),
            (Some("zh-HK"), "en", "en"),
            (Some("it-CH"), "it", "it"),
            (Some("fr-FR,fr;q=0.8,en-US;q=0.5,en;q=0.3"), "fr", "fr"),
            (Some("de;q=0.5, ja"), "ja", "ja"),
            // The quality must start its second part: " q=" does not count, so q is 1.
            (Some("de;q=0.5,ja; q=0.1"), "ja", "ja"),
            // parseFloat: garbage after the number is ignored, a failed parse counts as 1.
            (Some("de;q=0.5abc,ja;q=0.4"), "de", "de"),
            (Some("de;q=abc,ja;q=0.9"), "de", "de"),
            // Equal qualities keep the header's order.
            (Some("ko;q=0.5,ja;q=0.5"), "ko", "ko"),
            (Some("  nl  ;q=0.1"), "nl", "nl"),
            (Some("FR"), "FR", "fr"),
            (Some("sr-Cyrl-RS"), "sr", "sr"),
        ] {
            let got = languages.negotiate(header);
            assert_eq!(
                (got.language.as_str(), got.locale.as_str()),
                (language, locale),
                "{header:?}"
            );
        }
    }

    #[test]
    fn the_debug_language_becomes_db_lb_when_supported() {
        let languages = Languages::new(["en", "it-CH"], "en", "it-CH");
        let got = languages.negotiate(Some("it-ch"));
        assert_eq!(got.language, "db-LB");
        assert_eq!(got.locale, "db_LB");
        let default_is_debug = Languages::new(["fr"], "it-CH", "IT-ch");
        assert_eq!(default_is_debug.negotiate(None).language, "db-LB");
    }

    #[test]
    fn locale_forms() {
        for (language, locale) in [
            ("en", "en"),
            ("EN", "en"),
            ("pt-BR", "pt_BR"),
            ("pt-br", "pt_BR"),
            ("sr-LATN", "sr_Latn"),
            ("zh-hant", "zh_Hant"),
            ("sr-Cyrl-RS", "sr_RS"),
            ("a-b-c-d", "a-b-c-d"),
            ("", ""),
            ("en-", "en_"),
        ] {
            assert_eq!(locale_from(language), locale, "{language:?}");
        }
    }

    #[test]
    fn parse_float_takes_the_longest_numeric_prefix() {
        for (text, expected) in [
            ("0.5", 0.5),
            ("  0.5", 0.5),
            ("\u{a0}0.5", 0.5),
            ("1", 1.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("-0.25x", -0.25),
            ("+2", 2.0),
            ("1e3", 1000.0),
            ("1e", 1.0),
            ("1e+", 1.0),
            ("2E-1", 0.2),
            ("0x10", 0.0),
            ("Infinity", f64::INFINITY),
            ("-Infinityx", f64::NEG_INFINITY),
        ] {
            assert_eq!(parse_float(text), expected, "{text:?}");
        }
        for text in ["", ".", "-", "abc", "+.", "e5", "infinity"] {
            assert!(parse_float(text).is_nan(), "{text:?}");
        }
    }
}
