//! The user agents and Accept-Language headers of the shared collector corpus
//! (../shared/conformance/collector), recorded from FxA's content server 1.134.0 (uap-core
//! 0.6.7) and payments server 1.148.4 (uap-core 0.6.9).
//!
//! Every case that produced an Amplitude event gives the expected browser, browser version,
//! OS, OS version and form factor of its `User-Agent` header; every content case that produced
//! a flow line gives the expected locale of its `Accept-Language` header.
//! Where today's uap-core answers differently from the 2019 regexes, the case is listed in
//! [`UAP_CORE_DIFFERENCES`] with the reason, and the test asserts exactly that list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use metricsmith_enrich::{Languages, UserAgent, UserAgentParser};
use serde_json::Value;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/collector")
        .join(name)
}

fn cases(name: &str) -> Vec<Value> {
    let path = corpus(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

/// The five derived fields, in the order of [`FIELDS`].
type Fields = [Option<String>; 5];
const FIELDS: [&str; 5] = ["browser", "browserVersion", "os", "osVersion", "formFactor"];

fn fields_of(ua: &UserAgent) -> Fields {
    [
        ua.browser.clone(),
        ua.browser_version.clone(),
        ua.os.clone(),
        ua.os_version.clone(),
        ua.form_factor.clone(),
    ]
}

/// The fields FxA derived, read back from the first `amplitudeEvent` of a case; for payments,
/// `None` for a field the posted `data` overrides (the posted data wins, README item 19).
fn expected_fields(case: &Value) -> Option<[Option<Option<String>>; 5]> {
    let log = case["expected"]["log"].as_array()?;
    let event = log.iter().find(|l| l["op"] == "amplitudeEvent")?;
    let fields = &event["fields"];
    let user: Value = serde_json::from_str(fields["user_properties"].as_str()?).ok()?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let posted = serde_json::from_str::<Value>(case["request"]["body"].as_str().unwrap_or(""))
        .ok()
        .and_then(|body| body.get("data").cloned())
        .unwrap_or(Value::Null);
    let unless_posted =
        |i: usize, value: Option<String>| posted.get(FIELDS[i]).is_none().then_some(value);
    Some([
        unless_posted(0, text(&user["ua_browser"])),
        unless_posted(1, text(&user["ua_version"])),
        unless_posted(2, text(&fields["os_name"])),
        unless_posted(3, text(&fields["os_version"])),
        unless_posted(4, text(&fields["device_model"])),
    ])
}

/// Where today's uap-core (0.18.0, shipped by `ua-parser` 0.2.2) answers differently from the
/// regexes the corpus was recorded with: case id, field, the 2019 value, today's value, why.
/// The test fails when a listed case agrees again or an unlisted one differs.
/// (case id, field, 2019 value, today's value, reason).
type Difference = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

const UAP_CORE_DIFFERENCES: &[Difference] = &[
    ("c-fields-014", "formFactor", None, Some("Mac"), MAC),
    ("c-flowaction-007", "formFactor", None, Some("Mac"), MAC),
    ("c-flowaction-056", "formFactor", None, Some("Mac"), MAC),
    ("c-flowvalid-022", "formFactor", None, Some("Mac"), MAC),
    ("c-invalid-152", "formFactor", None, Some("Mac"), MAC),
    (
        "c-locale-003",
        "formFactor",
        None,
        Some("Nintendo Switch"),
        SWITCH,
    ),
    (
        "c-locale-008",
        "browser",
        Some("Chrome"),
        Some("Edge"),
        EDGE,
    ),
    (
        "c-locale-008",
        "browserVersion",
        Some("75.0.3738"),
        Some("75.0.107"),
        EDGE,
    ),
    ("c-locale-016", "formFactor", None, Some("Mac"), MAC),
    ("c-locale-055", "formFactor", None, Some("Mac"), MAC),
    ("c-misc-005", "formFactor", None, Some("Mac"), MAC),
    ("c-random-064", "formFactor", None, Some("Mac"), MAC),
    ("c-random-070", "formFactor", None, Some("Mac"), MAC),
    ("c-random-077", "formFactor", None, Some("Mac"), MAC),
    ("c-random-144", "formFactor", None, Some("Mac"), MAC),
    ("c-random-145", "formFactor", None, Some("Mac"), MAC),
    (
        "c-random-207",
        "browser",
        Some("Chrome"),
        Some("Edge"),
        EDGE,
    ),
    (
        "c-random-207",
        "browserVersion",
        Some("75.0.3738"),
        Some("75.0.107"),
        EDGE,
    ),
    (
        "c-service-001",
        "browser",
        Some("Chrome"),
        Some("Edge"),
        EDGE,
    ),
    (
        "c-service-001",
        "browserVersion",
        Some("75.0.3738"),
        Some("75.0.107"),
        EDGE,
    ),
    ("c-settings-003", "formFactor", None, Some("Mac"), MAC),
    ("c-ua-008", "formFactor", None, Some("Mac"), MAC),
    ("c-valid-067", "formFactor", None, Some("Mac"), MAC),
    ("p-data-001", "formFactor", None, Some("Pixel 3"), PIXEL),
    ("p-data-002", "formFactor", None, Some("Mac"), MAC),
    ("p-data-006", "formFactor", None, Some("Mac"), MAC),
    ("p-data-025", "formFactor", Some("rv:65.0"), None, RV_FIXED),
    ("p-event-019", "formFactor", None, Some("Mac"), MAC),
    ("p-random-024", "formFactor", None, Some("Mac"), MAC),
    ("p-random-051", "formFactor", None, Some("Mac"), MAC),
    (
        "p-random-054",
        "formFactor",
        Some("wv"),
        Some("Pacific"),
        WV_FIXED,
    ),
    (
        "p-spec-001",
        "formFactor",
        Some("wv"),
        Some("Pacific"),
        WV_FIXED,
    ),
    ("p-ua-001", "formFactor", None, Some("Mac"), MAC),
    ("p-ua-009", "formFactor", None, Some("Mac"), MAC),
    (
        "p-ua-025",
        "formFactor",
        Some("wv"),
        Some("Pacific"),
        WV_FIXED,
    ),
    ("p-ua-037", "formFactor", None, Some("Mac"), MAC),
    ("p-valid-026", "formFactor", Some("rv:65.0"), None, RV_FIXED),
    ("p-valid-037", "formFactor", None, Some("Mac"), MAC),
];

const MAC: &str = "today's uap-core gives Macintosh user agents a device (brand Apple, family Mac); \
    in 0.6.7 and 0.6.9 a Mac had no device brand, so FxA sent no form factor";
const SWITCH: &str =
    "today's uap-core knows the Nintendo Switch as a device with a brand; 0.6.7 did not";
const EDGE: &str = "Chromium-based Edge (`Edg/75`) is Edge since a uap-core release between 0.6.7 \
    and 0.6.9: the content server's 0.6.7 said Chrome, the payments server's 0.6.9 agrees with today";
const PIXEL: &str = "today's uap-core gives Google's Pixel phones the brand Google; in 0.6.9 a \
    `Pixel 3` had no brand, so FxA sent no form factor";
const WV_FIXED: &str = "uap-core 0.6.9 took the WebView marker `wv` for the model of \
    `Pacific Build/..; wv`; today's regexes give `Pacific`, as 0.6.7 did";
const RV_FIXED: &str = "uap-core 0.6.9 took `rv:65.0` for the device of a Firefox for Android \
    tablet; today's regexes give no brand, as 0.6.7 did";

#[test]
fn user_agents_derive_what_fxa_derived() {
    let parser = UserAgentParser::new().expect("the embedded regexes load");
    let mut compared = 0;
    let mut differences = BTreeMap::new();
    for file in ["content-post-metrics.jsonl", "payments-post-metrics.jsonl"] {
        for case in cases(file) {
            let Some(expected) = expected_fields(&case) else {
                continue;
            };
            let id = case["id"].as_str().unwrap_or("?").to_owned();
            let got = match case["request"]["headers"]["user-agent"].as_str() {
                Some(header) => fields_of(&parser.parse(header)),
                None => Default::default(),
            };
            for (i, (expected, got)) in expected.into_iter().zip(got).enumerate() {
                let Some(expected) = expected else { continue };
                compared += 1;
                if expected != got {
                    differences.insert((id.clone(), FIELDS[i]), (expected, got));
                }
            }
        }
    }
    let listed: BTreeMap<_, _> = UAP_CORE_DIFFERENCES
        .iter()
        .map(|(id, field, then, now, _)| {
            (
                ((*id).to_owned(), *field),
                (then.map(str::to_owned), now.map(str::to_owned)),
            )
        })
        .collect();
    assert!(compared > 1200, "only {compared} fields compared");
    if differences != listed {
        let mut report = String::new();
        for ((id, field), (then, now)) in &differences {
            if listed.get(&(id.clone(), *field)) != Some(&(then.clone(), now.clone())) {
                report.push_str(&format!(
                    "    (\"{id}\", \"{field}\", {then:?}, {now:?}, \"\"),\n"
                ));
            }
        }
        for (key, value) in &listed {
            if differences.get(key) != Some(value) {
                report.push_str(&format!("listed but not observed: {key:?} {value:?}\n"));
            }
        }
        panic!("UAP_CORE_DIFFERENCES is stale:\n{report}");
    }
}

/// fxa-shared 1.0.20 `l10n/supportedLanguages.json`, the content server's configuration.
const FXA_SUPPORTED_LANGUAGES: &[&str] = &[
    "ar", "ast", "az", "bg", "bn-BD", "ca", "cak", "cs", "cy", "da", "de", "dsb", "en", "en-GB",
    "es", "es-AR", "es-CL", "es-ES", "es-MX", "et", "fa", "ff", "fi", "fr", "fy", "fy-NL", "he",
    "hi-IN", "hsb", "hu", "id", "it", "ja", "ka", "kab", "kk", "ko", "lt", "lv", "nl", "nb-NO",
    "nn-NO", "pa", "pl", "pt", "pt-BR", "pt-PT", "rm", "ro", "ru", "sk", "sl", "sq", "sr",
    "sr-LATN", "sv", "sv-SE", "te", "tr", "uk", "zh-CN", "zh-TW",
];

#[test]
fn locales_negotiate_as_i18n_abide_did() {
    let languages = Languages::new(FXA_SUPPORTED_LANGUAGES, "en", "it-CH");
    let mut compared = 0;
    let mut locale_cases = 0;
    for case in cases("content-post-metrics.jsonl") {
        let id = case["id"].as_str().unwrap_or("?");
        let header = case["request"]["headers"]["accept-language"].as_str();
        let flow_locales: Vec<&str> = case["expected"]["stderr"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|line| line["op"] == "flowEvent")
            .filter_map(|line| line["locale"].as_str())
            .collect();
        if id.starts_with("c-locale-") {
            locale_cases += 1;
            assert!(!flow_locales.is_empty(), "{id} has no flow line");
        }
        let got = languages.negotiate(header);
        for expected in flow_locales {
            compared += 1;
            assert_eq!(got.locale, expected, "{id}: Accept-Language {header:?}");
        }
    }
    assert!(locale_cases >= 15, "only {locale_cases} locale cases");
    assert!(compared > 300, "only {compared} locales compared");
}
