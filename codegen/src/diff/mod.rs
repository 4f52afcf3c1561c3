//! Schema evolution: what changed between two validated models, and what it breaks.
//!
//! [`diff`] compares two [`Model`]s field by field (events, families, properties, kinds,
//! mozlog, tables, groups, governance) and decides exactly, on automata, which incoming event
//! names the Amplitude mapping now maps differently ([`mapping`]).
//! Every [`Change`] has a stable [`ChangeCode`], a [`Severity`], the dotted path of what changed
//! (`auth-server.events.account.login.properties.uid`), the old and new values, and the NEW
//! location when there is one.
//!
//! A breaking change is accepted on purpose with an [`Allow`] (`--allow CODE:PATH` on the
//! command line), which carries the reason a reviewer reads.
//!
//! ```
//! use metricsmith_codegen::diff::{self, Severity};
//! use metricsmith_codegen::{Date, Loader};
//!
//! let dir = std::env::temp_dir().join(format!("metricsmith-diff-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let (old, new) = (dir.join("old.yaml"), dir.join("new.yaml"));
//! let head = "metricsmith: 1\nservice: svc\ndefaults: {owners: [a@example.com], bugs: [https://bugs.example/1], data_reviews: [https://bugs.example/2], expires: never}\nevents:\n";
//! std::fs::write(&old, format!("{head}  a.b: {{description: An event., kinds: [activity, not-flow]}}\n")).unwrap();
//! std::fs::write(&new, format!("{head}  a.c: {{description: An event., kinds: [activity, not-flow]}}\n")).unwrap();
//! let mut loader = Loader::new();
//! loader.today(Date { year: 2026, month: 1, day: 1 });
//! let (old, new) = (loader.load(&old).unwrap().model, loader.load(&new).unwrap().model);
//! let report = diff::diff(&old, &new, &[]);
//! assert!(report.breaking());
//! assert_eq!(report.changes[0].code.as_str(), "event-renamed");
//! assert_eq!(report.changes[0].severity, Severity::Breaking);
//! ```

mod fields;
pub mod mapping;
pub mod names;
mod render;

use std::fmt;

use crate::model::{Location, Model};

pub use mapping::{Definition, MappingChange, NameExample};
pub use names::{NameSet, Size};
pub use render::{to_json, to_markdown, to_text};

/// How a change affects consumers of the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Data or code that worked before may now break (a removed event, a narrowed property,
    /// names that now map to other amplitude events).
    Breaking,
    /// Everything that worked before still works (an added event, a widened property).
    Compatible,
    /// Worth a reviewer's eye, breaks nothing (descriptions, governance).
    Info,
}

impl Severity {
    /// The name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Breaking => "breaking",
            Severity::Compatible => "compatible",
            Severity::Info => "info",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $name:literal: $doc:literal,)*) => {
        /// The stable code of a kind of change; `as_str` is what outputs and `--allow` use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum ChangeCode {
            $(#[doc = $doc] $variant,)*
        }

        impl ChangeCode {
            /// The code as written in outputs and `--allow CODE:PATH`.
            pub fn as_str(self) -> &'static str {
                match self { $(ChangeCode::$variant => $name,)* }
            }

            /// The code named `name`.
            pub fn from_name(name: &str) -> Option<ChangeCode> {
                match name { $($name => Some(ChangeCode::$variant),)* _ => None }
            }

            /// Every code, in declared order.
            pub const ALL: &'static [ChangeCode] = &[$(ChangeCode::$variant,)*];
        }
    };
}

codes! {
    ServiceRemoved = "service-removed": "A service is gone.",
    ServiceAdded = "service-added": "A service is new.",
    EventRemoved = "event-removed": "An event is gone.",
    EventRenamed = "event-renamed": "An event is gone and a similar new one looks like its new name.",
    EventAdded = "event-added": "An event is new.",
    FamilyRemoved = "family-removed": "An event family is gone.",
    FamilyAdded = "family-added": "An event family is new.",
    FamilyNameChanged = "family-name-changed": "A family's name template changed.",
    KindRemoved = "kind-removed": "An event is no longer logged as an activity, flow or email event.",
    KindAdded = "kind-added": "An event is now also logged as an activity, flow or email event.",
    FlowNarrowed = "flow-narrowed": "An event is a flow event in fewer cases.",
    FlowWidened = "flow-widened": "An event is a flow event in more cases.",
    PropertyRemoved = "property-removed": "A property is gone.",
    PropertyAdded = "property-added": "An optional property is new.",
    PropertyAddedRequired = "property-added-required": "A required property is new: producers must send it.",
    PropertyRequired = "property-required": "An optional property is now required.",
    PropertyOptional = "property-optional": "A required property is now optional: consumers may miss it.",
    TypeChanged = "type-changed": "A property's type changed.",
    PatternNarrowed = "pattern-narrowed": "A property's pattern accepts fewer values.",
    PatternWidened = "pattern-widened": "A property's pattern accepts more values.",
    PatternChanged = "pattern-changed": "A property's pattern accepts other values (some fewer, some more).",
    LengthNarrowed = "length-narrowed": "A property's maximum or exact length accepts fewer values.",
    LengthWidened = "length-widened": "A property's maximum length accepts more values.",
    RangeNarrowed = "range-narrowed": "An integer property's range shrank.",
    RangeWidened = "range-widened": "An integer property's range grew.",
    EnumValueRemoved = "enum-value-removed": "An enum property lost a value.",
    EnumValueAdded = "enum-value-added": "An enum property gained a value.",
    SensitivityChanged = "sensitivity-changed": "A property's data category changed.",
    MozlogChanged = "mozlog-changed": "The logger name, stream or an event's logger suffix changed.",
    TableRemoved = "table-removed": "A lookup table is gone.",
    TableAdded = "table-added": "A lookup table is new.",
    TableEntryRemoved = "table-entry-removed": "A lookup table lost a key.",
    TableEntryAdded = "table-entry-added": "A lookup table gained a key.",
    TableEntryChanged = "table-entry-changed": "A lookup table maps a key to another value.",
    GroupChanged = "group-changed": "An Amplitude group's prefix or event properties changed.",
    LayoutChanged = "layout-changed": "The shape of every amplitude event changed.",
    MappingChanged = "mapping-changed": "Incoming names now map differently: other event types, groups or event properties.",
    MappingDropped = "mapping-dropped": "Incoming names no longer produce amplitude events.",
    MappingProduced = "mapping-produced": "Incoming names now produce amplitude events where they produced none.",
    MappingTooLarge = "mapping-too-large": "The mapping could not be compared: the automaton exceeds its size limit.",
    DescriptionChanged = "description-changed": "A description changed.",
    GovernanceChanged = "governance-changed": "Owners, bugs, data reviews, expiry or version changed.",
}

impl fmt::Display for ChangeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change between the two models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its kind.
    pub code: ChangeCode,
    /// How it affects consumers.
    pub severity: Severity,
    /// The dotted path of what changed, service first.
    pub path: String,
    /// What changed, in words.
    pub message: String,
    /// The old value, when there was one.
    pub old: Option<String>,
    /// The new value, when there is one.
    pub new: Option<String>,
    /// Where the change is in the NEW schema (in the OLD one for what was removed).
    pub location: Option<Location>,
    /// For mapping changes: the names affected.
    pub mapping: Option<MappingChange>,
    /// The reason, when an [`Allow`] accepts this change.
    pub allowed: Option<String>,
}

/// Accepts a breaking change on purpose: its code and path, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    /// The change's code.
    pub code: ChangeCode,
    /// The change's path; a trailing `*` matches every path with the prefix before it.
    pub path: String,
    /// Why the change is acceptable.
    pub reason: String,
}

impl Allow {
    /// Parses `CODE:PATH` (the command line's form; the reason comes separately).
    ///
    /// # Errors
    /// A message when the code is unknown or the path is missing.
    pub fn parse(spec: &str, reason: &str) -> Result<Allow, String> {
        let (code, path) = spec
            .split_once(':')
            .ok_or_else(|| format!("`{spec}` is not CODE:PATH"))?;
        let code = ChangeCode::from_name(code).ok_or_else(|| {
            let names: Vec<&str> = ChangeCode::ALL.iter().map(|c| c.as_str()).collect();
            let hint = crate::suggest::help(code, names.iter().copied())
                .unwrap_or_else(|| format!("codes are {}", names.join(", ")));
            format!("unknown change code `{code}`: {hint}")
        })?;
        if path.is_empty() {
            return Err(format!("`{spec}` has no path"));
        }
        Ok(Allow {
            code,
            path: path.to_owned(),
            reason: reason.to_owned(),
        })
    }

    fn accepts(&self, change: &Change) -> bool {
        self.code == change.code
            && match self.path.strip_suffix('*') {
                Some(prefix) => change.path.starts_with(prefix),
                None => self.path == change.path,
            }
    }
}

/// The changes between two models.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// Every change: by service, field-level changes in path order, then mapping changes.
    pub changes: Vec<Change>,
    /// Allows that accepted no change (likely stale or mistyped), as `CODE:PATH`.
    pub unused_allows: Vec<String>,
}

impl Report {
    /// Whether a breaking change remains that no [`Allow`] accepted.
    pub fn breaking(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.severity == Severity::Breaking && c.allowed.is_none())
    }

    /// How many changes have each severity, in the order breaking, compatible, info.
    pub fn counts(&self) -> [usize; 3] {
        let count = |s| self.changes.iter().filter(|c| c.severity == s).count();
        [
            count(Severity::Breaking),
            count(Severity::Compatible),
            count(Severity::Info),
        ]
    }
}

/// The breaking changes a model accepts on purpose (`accepted_changes:` in its schema files).
///
/// # Errors
/// Every entry that does not parse or has an empty reason, with its location.
pub fn accepted(model: &Model) -> Result<Vec<Allow>, Vec<String>> {
    let mut allows = Vec::new();
    let mut errors = Vec::new();
    for service in model.services.values() {
        for a in &service.accepted_changes {
            let at = format!(
                "{}:{}:{}",
                crate::diagnostic::display_path(&a.location.file),
                a.location.line,
                a.location.column
            );
            if a.reason.trim().is_empty() {
                errors.push(format!(
                    "{at}: accepted change `{}` has an empty reason",
                    a.change
                ));
                continue;
            }
            match Allow::parse(&a.change, a.reason.trim()) {
                Ok(allow) => {
                    if !allows.contains(&allow) {
                        allows.push(allow);
                    }
                }
                Err(e) => errors.push(format!("{at}: {e}")),
            }
        }
    }
    if errors.is_empty() {
        Ok(allows)
    } else {
        Err(errors)
    }
}

/// Compares two models; `allows` accept breaking changes on purpose.
pub fn diff(old: &Model, new: &Model, allows: &[Allow]) -> Report {
    let mut changes = Vec::new();
    fields::models(old, new, &mut changes);
    let mut used = vec![false; allows.len()];
    for change in &mut changes {
        if let Some((i, allow)) = allows.iter().enumerate().find(|(_, a)| a.accepts(change)) {
            change.allowed = Some(allow.reason.clone());
            used[i] = true;
        }
    }
    let unused_allows = allows
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(a, _)| format!("{}:{}", a.code, a.path))
        .collect();
    Report {
        changes,
        unused_allows,
    }
}
