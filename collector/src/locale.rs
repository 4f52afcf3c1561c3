//! `Accept-Language` negotiation as i18n-abide 0.0.26 did it for the content server (the corpus
//! README's "Locale negotiation" section), and i18n-abide's locale form of a language tag.

use metricsmith_codegen::model::Languages;

/// The negotiated language (as written in the header, or the default) for `header`.
///
/// ```
/// use metricsmith_codegen::model::Languages;
/// let languages = Languages {
///     default: "en".into(),
///     debug: None,
///     supported: vec!["en".into(), "pt-BR".into(), "sr-LATN".into()],
/// };
/// assert_eq!(metricsmith_collector::negotiate(Some("pt-br,en;q=0.5"), &languages), "pt-br");
/// assert_eq!(metricsmith_collector::negotiate(Some("en-US"), &languages), "en");
/// assert_eq!(metricsmith_collector::negotiate(None, &languages), "en");
/// ```
pub fn negotiate(header: Option<&str>, languages: &Languages) -> String {
    let Some(header) = header else {
        return languages.default.clone();
    };
    let mut parsed: Vec<(&str, f64)> = header
        .split(',')
        .map(|part| {
            let mut pieces = part.split(';');
            let lang = pieces.next().unwrap_or("").trim();
            let quality = pieces
                .next()
                .and_then(|q| q.trim_start().strip_prefix("q="))
                .map(metricsmith::js::parse_float)
                .filter(|q| !q.is_nan())
                .unwrap_or(1.0);
            (lang, quality)
        })
        .collect();
    // A stable sort, highest quality first.
    parsed.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
    let supported = |tag: &str| {
        languages
            .supported
            .iter()
            .any(|s| s.eq_ignore_ascii_case(tag))
    };
    for (lang, _) in parsed {
        if supported(lang) {
            return lang.to_owned();
        }
        let primary = lang.split('-').next().unwrap_or("");
        if !primary.is_empty() && supported(primary) {
            return primary.to_owned();
        }
    }
    languages.default.clone()
}

/// i18n-abide's `localeFrom`: `pt-BR` -> `pt_BR`, `sr-LATN` -> `sr_Latn`, `en` -> `en`.
pub(crate) fn locale_from(language: &str) -> String {
    let parts: Vec<&str> = language.split('-').collect();
    match parts.as_slice() {
        [one] => one.to_lowercase(),
        [first, second] => {
            let region = if second.chars().count() <= 2 {
                second.to_uppercase()
            } else {
                let mut chars = second.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase()
                })
            };
            format!("{}_{region}", first.to_lowercase())
        }
        [first, _, third] => format!("{}_{}", first.to_lowercase(), third.to_uppercase()),
        _ => language.to_owned(),
    }
}
