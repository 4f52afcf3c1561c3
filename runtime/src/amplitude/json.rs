//! A [`MappingSpec`] read from JSON: how generated crates embed their mapping.

use metricsmith_spec::MappingSpec;

use super::{Mapping, MappingError};

/// Reads a [`MappingSpec`] from its JSON, as the metricsmith compiler writes it into generated
/// crates (serde's default representation of the `metricsmith-spec` types).
///
/// Generated code keeps its mapping as JSON text rather than Rust expressions: rustc compiles
/// a string constant in a fraction of the time it takes for the same data as one large function.
///
/// # Errors
/// [`MappingError::Json`] when `text` is not JSON or not the JSON of a `MappingSpec`, with the
/// line and column where reading stopped.
///
/// # Examples
/// ```
/// use metricsmith::amplitude::{MappingError, spec_from_json};
///
/// let spec = spec_from_json(
///     r#"{"service": "demo", "tables": [], "exact": [], "rules": [], "group_properties": [],
///        "layout": {"fields": [], "service": null, "event_properties": [],
///                   "user_properties": [], "append": [], "device_counts": null,
///                   "user_properties_tail": [], "newsletter": null},
///        "policy": {"time_falls_back_to_now": false, "require_user_or_device": false,
///                   "rewrites": []}}"#,
/// )?;
/// assert_eq!(spec.service, "demo");
///
/// let err = spec_from_json("{\n  \"service\": 1\n}").unwrap_err();
/// assert!(matches!(err, MappingError::Json { line: 2, .. }));
/// # Ok::<(), MappingError>(())
/// ```
pub fn spec_from_json(text: &str) -> Result<MappingSpec, MappingError> {
    serde_json::from_str(text).map_err(|err| {
        let (line, column) = (err.line(), err.column());
        // serde_json's `Display` is the message followed by this suffix when it knows a location;
        // the location is kept as numbers instead.
        let location = format!(" at line {line} column {column}");
        let text = err.to_string();
        let message = text.strip_suffix(&location).unwrap_or(&text).to_owned();
        MappingError::Json {
            message,
            line,
            column,
        }
    })
}

impl Mapping {
    /// Reads a [`MappingSpec`] from JSON ([`spec_from_json`]) and compiles it ([`Mapping::new`]).
    ///
    /// # Errors
    /// [`MappingError::Json`] when the text is not the JSON of a `MappingSpec`, else the errors
    /// of [`Mapping::new`].
    pub fn from_json(text: &str) -> Result<Self, MappingError> {
        Mapping::new(spec_from_json(text)?)
    }
}
