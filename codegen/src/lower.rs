//! Validate and lower: the AST of one service (entry file and includes) -> [`Service`].
//!
//! One pass collects every diagnostic; nothing here touches the filesystem.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;

use crate::ast::{self, Spanned};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::expr::{self, CondExpr, ExprError, GroupRef, Key, Piece, ValueExpr};
use crate::first_match::CompiledRules;
use crate::ident;
use crate::jsregex;
use crate::model::*;
use crate::parse::span_of;

/// The clock of an example that sets no `now` (the FxA corpus' frozen `Date.now`).
const DEFAULT_EXAMPLE_NOW_MS: i64 = 1_551_700_200_000;
use crate::shadow;
use crate::source::{FileId, SourceFile, Span};
use crate::suggest;

/// Inputs of validation that do not come from the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Today's date, for the `expired` lint (a parameter, so checks are reproducible).
    pub today: Date,
    /// The current version of the services, for `expires: vNNN`.
    pub current_version: Option<u32>,
}

/// One parsed file of a service.
#[derive(Debug, Clone, Copy)]
pub struct UnitFile<'a> {
    /// Its id.
    pub id: FileId,
    /// Its source.
    pub source: &'a SourceFile,
    /// Its AST.
    pub ast: &'a ast::File,
}

/// Lowers one service: `files[0]` is the entry file, the rest its includes in load order.
///
/// Returns the service when the entry declares one and no error was found, and every
/// diagnostic.
pub fn lower(files: &[UnitFile<'_>], options: &Options) -> (Option<Service>, Vec<Diagnostic>) {
    // The rules depend only on their patterns, so a thread of their own compiles them (each
    // rule's regex, and all of them for the first that matches) and then runs the shadowing
    // analysis (one DFA of every rule, the costliest check) while the events and properties
    // are lowered. `amplitude` takes the compiled rules and `reach` the analysis.
    let rules: Vec<&str> = files
        .iter()
        .filter_map(|f| f.ast.amplitude.as_ref())
        .flat_map(|a| &a.rules)
        .map(|r| r.value.pattern.value.as_str())
        .collect();
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::channel();
        let analysis = (rules.len() > 1)
            .then(|| {
                std::thread::Builder::new()
                    .name("metricsmith-rules".into())
                    .spawn_scoped(scope, move || {
                        let compiled: Vec<_> =
                            rules.iter().map(|js| jsregex::compile(js)).collect();
                        let regexes = compiled
                            .iter()
                            .map(|c| Some(c.as_ref().ok()?.regex.clone()));
                        let first = CompiledRules::new(regexes.collect());
                        let patterns: Vec<String> = compiled
                            .iter()
                            .filter_map(|c| Some(c.as_ref().ok()?.rust.clone()))
                            .collect();
                        // Lowering goes on without these when it has stopped waiting (a panic).
                        let _ = sender.send(EarlyRules { compiled, first });
                        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
                        shadow::analyse(&refs)
                    })
                    .ok()
            })
            .flatten();
        let mut lower = Lower {
            files,
            options,
            diagnostics: Vec::new(),
            patterns: HashMap::new(),
            early: analysis.map(|handle| (receiver, handle)),
        };
        let service = lower.service();
        let failed = lower
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error);
        (service.filter(|_| !failed), lower.diagnostics)
    })
}

/// What the rules thread sends first: every rule compiled, in rule order (entry file first),
/// and the ones that compiled, together.
struct EarlyRules {
    compiled: Vec<Result<jsregex::Translated, jsregex::JsRegexError>>,
    first: CompiledRules,
}

/// The rules thread: its compiled rules, then the shadowing analysis of the rules that
/// compiled, in rule order.
type Early<'s> = (
    std::sync::mpsc::Receiver<EarlyRules>,
    std::thread::ScopedJoinHandle<'s, Result<Vec<shadow::RuleReach>, shadow::TooLarge>>,
);

struct Lower<'a, 's> {
    files: &'a [UnitFile<'a>],
    options: &'a Options,
    diagnostics: Vec<Diagnostic>,
    /// Property patterns translated so far: thousands of properties share a few patterns, and
    /// compiling a regex is the costly part.
    patterns: HashMap<String, Result<(String, usize), jsregex::JsRegexError>>,
    early: Option<Early<'s>>,
}

/// A definition and the file it came from.
struct Def<'a, T> {
    file: usize,
    key: &'a Spanned<String>,
    def: &'a T,
}

enum PropertyContext {
    Shared,
    Event,
    Parameter,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// A rule with this many captures (`None` when its pattern did not compile).
    Rule(Option<usize>),
    /// An exact mapping: no captures.
    Exact,
    /// A group's event properties: captures of whatever rule produced the event.
    Group,
    /// The layout: functions, no captures, no lookups.
    Layout,
}

const FUNCTIONS: &[&str] = &[
    "app_version",
    "service_name",
    "oauth_client_id",
    "experiments",
    "non_empty",
];

impl<'a> Lower<'a, '_> {
    fn span<T>(&self, file: usize, spanned: &Spanned<T>) -> Span {
        let f = &self.files[file];
        span_of(f.id, f.source, spanned)
    }

    /// The file span of `local` inside the string scalar `spanned` (quotes handled); the whole
    /// scalar when the scalar has escapes or folding.
    fn inner(&self, file: usize, spanned: &Spanned<String>, local: Range<usize>) -> Span {
        let whole = self.span(file, spanned);
        let f = &self.files[file];
        let raw = f.source.text.get(whole.range()).unwrap_or("");
        let base = if raw == spanned.value {
            Some(whole.start)
        } else if raw.len() >= 2
            && (raw.starts_with('\'') || raw.starts_with('"'))
            && raw.get(1..raw.len() - 1) == Some(spanned.value.as_str())
        {
            Some(whole.start + 1)
        } else {
            None
        };
        match base {
            Some(base) if local.end <= spanned.value.len() => {
                let start = base + local.start;
                let end = (base + local.end).max(start);
                // An empty range points at one character when there is one.
                let end = if end == start {
                    f.source.text[start..]
                        .chars()
                        .next()
                        .filter(|c| *c != '\n')
                        .map_or(start, |c| start + c.len_utf8())
                } else {
                    end
                };
                Span::new(f.id, start..end)
            }
            _ => whole,
        }
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Pushes a lint unless `allow` lists it.
    fn lint(&mut self, allow: &[Spanned<String>], diagnostic: Diagnostic) {
        let allowed = diagnostic
            .code
            .lint()
            .is_some_and(|lint| allow.iter().any(|a| a.value == lint));
        if !allowed {
            self.push(diagnostic);
        }
    }

    fn check_allow(&mut self, file: usize, allow: &[Spanned<String>]) {
        let lints: Vec<&str> = crate::diagnostic::Code::ALL
            .iter()
            .filter_map(|c| c.lint())
            .collect();
        for entry in allow {
            if Code::from_lint(&entry.value).is_none() {
                let span = self.span(file, entry);
                self.push(
                    Diagnostic::new(
                        Code::UnknownLint,
                        span,
                        format!("unknown lint `{}`", entry.value),
                    )
                    .label("not a lint name")
                    .help(
                        suggest::help(&entry.value, lints.iter().copied())
                            .unwrap_or_else(|| format!("lints are {}", lints.join(", "))),
                    ),
                );
            }
        }
    }

    fn location(&self, file: usize, key: &Spanned<String>) -> Location {
        let f = &self.files[file];
        let span = self.span(file, key);
        let (line, column) = f.source.line_col(span.start);
        Location {
            file: f.source.name.clone(),
            line,
            column,
        }
    }

    /// Collects a top-level mapping of every file, reporting keys defined twice.
    fn collect<T>(
        &mut self,
        what: &str,
        get: impl Fn(&'a ast::File) -> Option<&'a ast::Map<T>>,
    ) -> BTreeMap<String, Def<'a, T>> {
        let mut map: BTreeMap<String, Def<'a, T>> = BTreeMap::new();
        for (index, file) in self.files.iter().enumerate() {
            let Some(entries) = get(file.ast) else {
                continue;
            };
            for (key, def) in entries.iter() {
                if let Some(first) = map.get(&key.value) {
                    let first_span = self.span(first.file, first.key);
                    let span = self.span(index, key);
                    self.push(
                        Diagnostic::new(
                            Code::Duplicate,
                            span,
                            format!("{what} `{}` is defined twice", key.value),
                        )
                        .label("defined again here")
                        .secondary(first_span, "first defined here"),
                    );
                } else {
                    map.insert(
                        key.value.clone(),
                        Def {
                            file: index,
                            key,
                            def,
                        },
                    );
                }
            }
        }
        map
    }

    /// A section that may appear in one file only (mozlog, layout, policy).
    fn single<T>(
        &mut self,
        what: &str,
        get: impl Fn(&'a ast::File) -> Option<&'a Spanned<T>>,
    ) -> Option<(usize, &'a Spanned<T>)> {
        let mut found: Option<(usize, &'a Spanned<T>)> = None;
        for (index, file) in self.files.iter().enumerate() {
            let Some(section) = get(file.ast) else {
                continue;
            };
            if let Some((first_file, first)) = found {
                let first_span = self.span(first_file, first);
                let span = self.span(index, section);
                self.push(
                    Diagnostic::new(Code::Duplicate, span, format!("`{what}` is defined twice"))
                        .label("defined again here")
                        .secondary(first_span, "first defined here")
                        .help(format!("a service has one `{what}` section")),
                );
            } else {
                found = Some((index, section));
            }
        }
        found
    }

    fn service(&mut self) -> Option<Service> {
        let entry = self.files.first()?;
        for (index, file) in self.files.iter().enumerate().skip(1) {
            if let Some(service) = &file.ast.service {
                let span = self.span(index, service);
                self.push(
                    Diagnostic::new(
                        Code::ServiceInInclude,
                        span,
                        "an included file declares `service:`",
                    )
                    .label("only entry files name a service")
                    .help("remove `service:` from this file, or do not include it"),
                );
            }
        }

        let defaults = self.defaults();
        let mozlog = self
            .single("mozlog", |f| f.mozlog.as_ref())
            .map(|(_, m)| Mozlog {
                logger: m.value.logger.value.clone(),
                stream: match m.value.stream.value {
                    ast::Stream::Stdout => Stream::Stdout,
                    ast::Stream::Stderr => Stream::Stderr,
                },
            });

        let shared_defs = self.collect("property", |f| Some(&f.properties));
        let mut shared = BTreeMap::new();
        for (name, def) in &shared_defs {
            if let Some(property) = self.property(
                def.file,
                def.key,
                def.def,
                PropertyContext::Shared,
                &BTreeMap::new(),
            ) {
                shared.insert(name.clone(), property);
            }
        }

        let event_defs = self.collect("event", |f| Some(&f.events));
        let family_defs = self.collect("family", |f| Some(&f.families));
        let mut events = BTreeMap::new();
        for (name, def) in &event_defs {
            if let Some(event) = self.event(def, &defaults, &shared) {
                events.insert(name.clone(), event);
            }
        }
        let mut families = BTreeMap::new();
        for (id, def) in &family_defs {
            if let Some(family) = self.family(def, &defaults, &shared) {
                families.insert(id.clone(), family);
            }
        }
        self.type_collisions(&event_defs, &family_defs, &events, &families);

        let amplitude = self.amplitude(&mut events);

        let name = entry.ast.service.as_ref()?.value.clone();
        Some(Service {
            name,
            description: entry.ast.description.clone(),
            files: self
                .files
                .iter()
                .map(|f| f.source.name.clone())
                .collect::<Vec<PathBuf>>(),
            mozlog,
            events,
            families,
            amplitude,
        })
    }

    fn defaults(&mut self) -> Governance {
        // Entry file first, then includes in load order: the first file that sets a field wins.
        let mut merged = Governance::default();
        let mut expires_set = false;
        for index in 0..self.files.len() {
            let Some(defaults) = &self.files[index].ast.defaults else {
                continue;
            };
            let d = &defaults.value;
            let strings = |v: &Option<Vec<Spanned<String>>>| {
                v.as_ref()
                    .map(|v| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>())
            };
            if merged.owners.is_empty() {
                merged.owners = strings(&d.owners).unwrap_or_default();
            }
            if merged.bugs.is_empty() {
                merged.bugs = strings(&d.bugs).unwrap_or_default();
            }
            if merged.data_reviews.is_empty() {
                merged.data_reviews = strings(&d.data_reviews).unwrap_or_default();
            }
            if !expires_set && let Some(expires) = &d.expires {
                expires_set = true;
                merged.expires = self.expiry(index, expires);
            }
        }
        merged
    }

    fn expiry(&mut self, file: usize, text: &Spanned<String>) -> Option<Expiry> {
        let value = text.value.trim();
        let parsed = if value == "never" {
            Some(Expiry::Never)
        } else if let Some(version) = value.strip_prefix('v') {
            version.parse().ok().map(Expiry::Version)
        } else {
            parse_date(value).map(Expiry::Date)
        };
        if parsed.is_none() {
            let span = self.span(file, text);
            self.push(
                Diagnostic::new(
                    Code::InvalidExpiry,
                    span,
                    format!("invalid `expires` value `{value}`"),
                )
                .label("not a date, version or `never`")
                .help("write a date `YYYY-MM-DD`, a version `vNNN`, or `never`"),
            );
        }
        parsed
    }

    #[allow(clippy::too_many_arguments)]
    fn governance(
        &mut self,
        file: usize,
        key: &Spanned<String>,
        what: &str,
        defaults: &Governance,
        fields: GovernanceFields<'_>,
        allow: &[Spanned<String>],
    ) -> Governance {
        let strings = |own: Option<&Vec<Spanned<String>>>, default: &Vec<String>| {
            own.map_or_else(
                || default.clone(),
                |v| v.iter().map(|s| s.value.clone()).collect(),
            )
        };
        let mut governance = Governance {
            owners: strings(fields.owners, &defaults.owners),
            bugs: strings(fields.bugs, &defaults.bugs),
            data_reviews: strings(fields.data_reviews, &defaults.data_reviews),
            expires: defaults.expires,
            version: fields.version.map(|v| v.value),
        };
        if let Some(expires) = fields.expires {
            governance.expires = self.expiry(file, expires);
        }
        let span = self.span(file, key);
        let mut missing = Vec::new();
        if governance.owners.is_empty() {
            missing.push("owners");
        }
        if governance.bugs.is_empty() {
            missing.push("bugs");
        }
        if governance.data_reviews.is_empty() {
            missing.push("data_reviews");
        }
        if governance.expires.is_none() && fields.expires.is_none() {
            missing.push("expires");
        }
        if !missing.is_empty() {
            self.lint(
                allow,
                Diagnostic::new(
                    Code::MissingGovernance,
                    span,
                    format!(
                        "{what} `{}` has no {}",
                        key.value,
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .label("governance metadata missing")
                .help("set them on the definition or in the file's `defaults:`"),
            );
        }
        let expired = match governance.expires {
            Some(Expiry::Date(date)) => (date <= self.options.today)
                .then(|| format!("expired on {date} (today is {})", self.options.today)),
            Some(Expiry::Version(version)) => self
                .options
                .current_version
                .filter(|&current| version <= current)
                .map(|current| format!("expired with version {version} (current is {current})")),
            _ => None,
        };
        if let Some(reason) = expired {
            self.lint(
                allow,
                Diagnostic::new(
                    Code::Expired,
                    span,
                    format!("{what} `{}` {reason}", key.value),
                )
                .label("expired")
                .help("remove it, or renew `expires` after a new data review"),
            );
        }
        governance
    }

    /// `not_flow_for_services` only makes sense on a flow event.
    fn not_flow_for_services(
        &mut self,
        file: usize,
        kinds: &Kinds,
        e: &ast::EventDef,
    ) -> Vec<String> {
        if let (Some(first), FlowKind::None) = (e.not_flow_for_services.first(), kinds.flow) {
            let span = self.span(file, first);
            self.push(
                Diagnostic::new(
                    Code::InvalidKinds,
                    span,
                    "`not_flow_for_services` on an event that is never a flow event",
                )
                .label("has no effect")
                .help("add `flow` or `optional-flow` to `kinds`, or remove this list"),
            );
        }
        let mut services: Vec<String> = e
            .not_flow_for_services
            .iter()
            .map(|s| s.value.clone())
            .collect();
        services.sort();
        services.dedup();
        services
    }

    fn kinds(&mut self, file: usize, key: &Spanned<String>, kinds: &[Spanned<ast::Kind>]) -> Kinds {
        let mut result = Kinds::default();
        let mut flow: Option<&Spanned<ast::Kind>> = None;
        let mut seen: Vec<ast::Kind> = Vec::new();
        for kind in kinds {
            if seen.contains(&kind.value) {
                let span = self.span(file, kind);
                self.push(
                    Diagnostic::new(Code::InvalidKinds, span, "kind listed twice")
                        .label("already listed"),
                );
                continue;
            }
            seen.push(kind.value);
            match kind.value {
                ast::Kind::Activity => result.activity = true,
                ast::Kind::Email => result.email = true,
                ast::Kind::Flow | ast::Kind::OptionalFlow | ast::Kind::NotFlow => {
                    if let Some(first) = flow {
                        let span = self.span(file, kind);
                        let first_span = self.span(file, first);
                        self.push(
                            Diagnostic::new(
                                Code::InvalidKinds,
                                span,
                                "`flow`, `optional-flow` and `not-flow` exclude each other",
                            )
                            .label("second flow kind")
                            .secondary(first_span, "first flow kind"),
                        );
                        continue;
                    }
                    flow = Some(kind);
                    result.flow = match kind.value {
                        ast::Kind::Flow => FlowKind::Required,
                        ast::Kind::OptionalFlow => FlowKind::Optional,
                        _ => FlowKind::None,
                    };
                }
            }
        }
        let span = self.span(file, key);
        if kinds.is_empty() {
            self.push(
                Diagnostic::new(
                    Code::InvalidKinds,
                    span,
                    format!("`{}` has no kinds", key.value),
                )
                .label("kinds missing")
                .help("add `kinds: [...]` with activity, flow, optional-flow, not-flow or email"),
            );
        } else if result.activity && flow.is_none() {
            self.push(
                Diagnostic::new(
                    Code::InvalidKinds,
                    span,
                    format!(
                        "activity event `{}` needs one of `flow`, `optional-flow`, `not-flow`",
                        key.value
                    ),
                )
                .label("flow kind missing")
                .help("say whether the activity event belongs to a flow"),
            );
        }
        result
    }

    fn naming(
        &mut self,
        file: usize,
        key: &Spanned<String>,
        name: &str,
        allow: &[Spanned<String>],
    ) {
        if let Some(problem) = naming_problem(name) {
            let span = self.span(file, key);
            self.lint(
                allow,
                Diagnostic::new(
                    Code::Naming,
                    span,
                    format!(
                        "`{}` does not follow the naming convention: {problem}",
                        key.value
                    ),
                )
                .label("inconsistent name")
                .help("event names are dot-separated segments of `[a-z][A-Za-z0-9_-]*`"),
            );
        }
    }

    fn properties(
        &mut self,
        file: usize,
        map: &ast::Map<ast::PropertyDef>,
        context: fn() -> PropertyContext,
        shared: &BTreeMap<String, Property>,
    ) -> Vec<Property> {
        let mut properties: Vec<Property> = Vec::with_capacity(map.0.len());
        let mut fields: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
        for (key, def) in map.iter() {
            let Some(property) = self.property(file, key, def, context(), shared) else {
                continue;
            };
            if let Some(first) = fields.get(&property.rust_name) {
                let span = self.span(file, key);
                let first_span = self.span(file, first);
                self.push(
                    Diagnostic::new(
                        Code::IdentCollision,
                        span,
                        format!(
                            "`{}` and `{}` both become the Rust field `{}`",
                            first.value, key.value, property.rust_name
                        ),
                    )
                    .label("this name")
                    .secondary(first_span, "collides with this one")
                    .help("rename one of them"),
                );
                continue;
            }
            fields.insert(property.rust_name.clone(), key);
            properties.push(property);
        }
        properties
    }

    fn property(
        &mut self,
        file: usize,
        key: &Spanned<String>,
        def: &ast::PropertyDef,
        context: PropertyContext,
        shared: &BTreeMap<String, Property>,
    ) -> Option<Property> {
        let key_span = self.span(file, key);
        let Some(rust_name) = ident::field_name(&key.value) else {
            self.push(
                Diagnostic::new(
                    Code::IdentCollision,
                    key_span,
                    format!("`{}` gives no Rust identifier", key.value),
                )
                .label("no letters or digits")
                .help("use a name with letters"),
            );
            return None;
        };
        let Some(ty) = &def.ty else {
            return match context {
                PropertyContext::Event => self.reference(file, key, def, rust_name, shared),
                PropertyContext::Shared | PropertyContext::Parameter => {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidConstraint,
                            key_span,
                            format!("`{}` has no `type`", key.value),
                        )
                        .label("type missing")
                        .help("add `type:` (string, hex, integer, boolean, enum or list)"),
                    );
                    None
                }
            };
        };
        if let Some(use_) = &def.use_ {
            let span = self.span(file, use_);
            self.push(
                Diagnostic::new(
                    Code::InvalidConstraint,
                    span,
                    "`use` refers to a shared property, so it cannot be combined with `type`",
                )
                .label("remove this or `type`"),
            );
        }
        let ty = self.property_type(file, ty, def, &context)?;
        let required = match context {
            PropertyContext::Parameter => true,
            _ => def.required.as_ref().is_some_and(|r| r.value),
        };
        Some(Property {
            name: key.value.clone(),
            rust_name,
            ty,
            required,
            sensitivity: sensitivity(def.sensitivity.as_ref()),
            description: def.description.clone(),
        })
    }

    fn reference(
        &mut self,
        file: usize,
        key: &Spanned<String>,
        def: &ast::PropertyDef,
        rust_name: String,
        shared: &BTreeMap<String, Property>,
    ) -> Option<Property> {
        let target = def.use_.as_ref().unwrap_or(key);
        let constraints = [
            ("pattern", def.pattern.is_some()),
            ("max_length", def.max_length.is_some()),
            ("length", def.length.is_some()),
            ("min", def.min.is_some()),
            ("max", def.max.is_some()),
            ("values", def.values.is_some()),
            ("items", def.items.is_some()),
            ("sensitivity", def.sensitivity.is_some()),
        ];
        for (name, set) in constraints {
            if set {
                let span = self.span(file, key);
                self.push(
                    Diagnostic::new(
                        Code::InvalidConstraint,
                        span,
                        format!("the reference `{}` cannot set `{name}`", key.value),
                    )
                    .label("a reference without `type` only sets `required` and `description`")
                    .help("change the shared property, or give this one its own `type`"),
                );
            }
        }
        let Some(base) = shared.get(&target.value) else {
            let span = self.span(file, target);
            self.push(
                Diagnostic::new(
                    Code::UnknownProperty,
                    span,
                    format!("unknown shared property `{}`", target.value),
                )
                .label("no property of this name in `properties:`")
                .help(
                    suggest::help(&target.value, shared.keys().map(String::as_str)).unwrap_or_else(
                        || {
                            "define it under the top-level `properties:`, or give it a `type`"
                                .into()
                        },
                    ),
                ),
            );
            return None;
        };
        Some(Property {
            name: key.value.clone(),
            rust_name,
            ty: base.ty.clone(),
            required: def.required.as_ref().map_or(base.required, |r| r.value),
            sensitivity: base.sensitivity,
            description: def.description.clone().or_else(|| base.description.clone()),
        })
    }

    fn property_type(
        &mut self,
        file: usize,
        ty: &Spanned<ast::TypeName>,
        def: &ast::PropertyDef,
        context: &PropertyContext,
    ) -> Option<PropertyType> {
        use ast::TypeName as T;
        let name = type_word(ty.value);
        let checks: [(&str, bool, bool); 7] = [
            ("pattern", def.pattern.is_some(), ty.value == T::String),
            (
                "max_length",
                def.max_length.is_some(),
                ty.value == T::String,
            ),
            ("length", def.length.is_some(), ty.value == T::Hex),
            ("min", def.min.is_some(), ty.value == T::Integer),
            ("max", def.max.is_some(), ty.value == T::Integer),
            ("values", def.values.is_some(), ty.value == T::Enum),
            ("items", def.items.is_some(), ty.value == T::List),
        ];
        let mut ok = true;
        for (constraint, set, applies) in checks {
            if set && !applies {
                ok = false;
                let span = self.span(file, ty);
                self.push(
                    Diagnostic::new(
                        Code::InvalidConstraint,
                        span,
                        format!("`{constraint}` does not apply to `{name}` properties"),
                    )
                    .label(format!("the type is `{name}`"))
                    .help(format!("remove `{constraint}` or change the type")),
                );
            }
        }
        if matches!(context, PropertyContext::Parameter) && matches!(ty.value, T::Boolean | T::List)
        {
            let span = self.span(file, ty);
            self.push(
                Diagnostic::new(
                    Code::FamilyParameters,
                    span,
                    format!("a name parameter cannot be a `{name}`"),
                )
                .label("not allowed in a name")
                .help("parameters are string, hex, enum or integer"),
            );
            ok = false;
        }
        let result = match ty.value {
            T::String => {
                let pattern = def.pattern.as_ref().and_then(|p| self.pattern(file, p));
                if def.pattern.is_some() && pattern.is_none() {
                    ok = false;
                }
                PropertyType::String {
                    pattern,
                    max_length: def.max_length.as_ref().map(|m| m.value),
                }
            }
            T::Hex => PropertyType::Hex {
                length: def.length.as_ref().map(|l| l.value),
            },
            T::Integer => {
                if let (Some(min), Some(max)) = (&def.min, &def.max)
                    && min.value > max.value
                {
                    ok = false;
                    let span = self.span(file, max);
                    let min_span = self.span(file, min);
                    self.push(
                        Diagnostic::new(
                            Code::InvalidConstraint,
                            span,
                            format!("`max` {} is below `min` {}", max.value, min.value),
                        )
                        .label("max")
                        .secondary(min_span, "min"),
                    );
                }
                PropertyType::Integer {
                    min: def.min.as_ref().map(|m| m.value),
                    max: def.max.as_ref().map(|m| m.value),
                }
            }
            T::Boolean => PropertyType::Boolean,
            T::Enum => {
                let mut values = Vec::new();
                let mut seen: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
                for value in def.values.iter().flatten() {
                    let span = self.span(file, value);
                    let Some(rust_name) = ident::variant_name(&value.value) else {
                        ok = false;
                        self.push(
                            Diagnostic::new(
                                Code::IdentCollision,
                                span,
                                format!("enum value `{}` gives no Rust identifier", value.value),
                            )
                            .label("no letters or digits"),
                        );
                        continue;
                    };
                    if let Some(first) = seen.get(&rust_name) {
                        ok = false;
                        let first_span = self.span(file, first);
                        let message = if first.value == value.value {
                            format!("enum value `{}` is listed twice", value.value)
                        } else {
                            format!(
                                "enum values `{}` and `{}` both become the Rust variant `{rust_name}`",
                                first.value, value.value
                            )
                        };
                        self.push(
                            Diagnostic::new(Code::IdentCollision, span, message)
                                .label("this value")
                                .secondary(first_span, "collides with this one"),
                        );
                        continue;
                    }
                    seen.insert(rust_name.clone(), value);
                    values.push(EnumValue {
                        value: value.value.clone(),
                        rust_name,
                    });
                }
                if def.values.as_ref().is_none_or(Vec::is_empty) {
                    ok = false;
                    let span = self.span(file, ty);
                    self.push(
                        Diagnostic::new(Code::InvalidConstraint, span, "an enum needs `values`")
                            .label("no values")
                            .help("add `values: [a, b]`"),
                    );
                }
                PropertyType::Enum { values }
            }
            T::List => match &def.items {
                Some(items) => match &items.value.ty {
                    Some(item_ty) => {
                        let item = self.property_type(file, item_ty, &items.value, context)?;
                        PropertyType::List {
                            items: Box::new(item),
                        }
                    }
                    None => {
                        let span = self.span(file, items);
                        self.push(
                            Diagnostic::new(Code::InvalidConstraint, span, "`items` has no `type`")
                                .label("type missing"),
                        );
                        return None;
                    }
                },
                None => {
                    let span = self.span(file, ty);
                    self.push(
                        Diagnostic::new(Code::InvalidConstraint, span, "a list needs `items`")
                            .label("no items")
                            .help("add `items: {type: string}`"),
                    );
                    return None;
                }
            },
        };
        ok.then_some(result)
    }

    fn pattern(&mut self, file: usize, pattern: &Spanned<String>) -> Option<Pattern> {
        // Looked up before inserting: thousands of properties share a few patterns, and the
        // key is only cloned for a pattern not seen yet.
        let translated = match self.patterns.get(&pattern.value) {
            Some(hit) => hit.clone(),
            None => {
                let result = jsregex::compile(&pattern.value).map(|t| (t.rust, t.captures));
                self.patterns.insert(pattern.value.clone(), result.clone());
                result
            }
        };
        match translated {
            Ok((rust, captures)) => Some(Pattern {
                js: pattern.value.clone(),
                rust,
                captures,
            }),
            Err(err) => {
                self.regex_error(file, pattern, &err);
                None
            }
        }
    }

    fn regex_error(&mut self, file: usize, pattern: &Spanned<String>, err: &jsregex::JsRegexError) {
        let span = self.inner(file, pattern, err.range.clone());
        let (code, message, help) = if err.unsupported {
            (
                Code::UnsupportedRegex,
                format!("unsupported regex: {}", err.message),
                "metricsmith matches in linear time, without lookaround or backreferences",
            )
        } else {
            (
                Code::InvalidRegex,
                format!("invalid regex: {}", err.message),
                "patterns are JavaScript regexes, as FxA wrote them",
            )
        };
        self.push(
            Diagnostic::new(code, span, message)
                .label(err.message.clone())
                .help(help),
        );
    }

    fn event(
        &mut self,
        def: &Def<'a, ast::EventDef>,
        defaults: &Governance,
        shared: &BTreeMap<String, Property>,
    ) -> Option<Event> {
        let (file, key, e) = (def.file, def.key, def.def);
        self.check_allow(file, &e.allow);
        self.naming(file, key, &key.value, &e.allow);
        let kinds = self.kinds(file, key, &e.kinds);
        // Declared order: it is the key order of the event's data in its mozlog lines.
        let properties = self.properties(file, &e.properties, || PropertyContext::Event, shared);
        let governance = self.governance(
            file,
            key,
            "event",
            defaults,
            GovernanceFields {
                owners: e.owners.as_ref(),
                bugs: e.bugs.as_ref(),
                data_reviews: e.data_reviews.as_ref(),
                expires: e.expires.as_ref(),
                version: e.version.as_ref(),
            },
            &e.allow,
        );
        let not_flow_for_services = self.not_flow_for_services(file, &kinds, e);
        let rust_name = self.type_name(file, key)?;
        Some(Event {
            name: key.value.clone(),
            rust_name,
            description: e.description.value.clone(),
            kinds,
            not_flow_for_services,
            properties,
            governance,
            logger: e.logger.as_ref().map(|l| l.value.clone()),
            location: self.location(file, key),
            amplitude: None,
        })
    }

    fn type_name(&mut self, file: usize, key: &Spanned<String>) -> Option<String> {
        let name = ident::type_name(&key.value);
        if name.is_none() {
            let span = self.span(file, key);
            self.push(
                Diagnostic::new(
                    Code::IdentCollision,
                    span,
                    format!("`{}` gives no Rust identifier", key.value),
                )
                .label("no letters or digits"),
            );
        }
        name
    }

    fn family(
        &mut self,
        def: &Def<'a, ast::FamilyDef>,
        defaults: &Governance,
        shared: &BTreeMap<String, Property>,
    ) -> Option<Family> {
        let (file, key, f) = (def.file, def.key, def.def);
        self.check_allow(file, &f.allow);
        let kinds = self.kinds(file, key, &f.kinds);
        let parameters_declared =
            self.properties(file, &f.parameters, || PropertyContext::Parameter, shared);
        let properties = self.properties(file, &f.properties, || PropertyContext::Event, shared);
        // Parameters and properties become fields of the same Rust struct.
        for property in &properties {
            let Some(parameter) = parameters_declared
                .iter()
                .find(|p| p.rust_name == property.rust_name)
            else {
                continue;
            };
            let keys = (
                f.properties.iter().find(|(k, _)| k.value == property.name),
                f.parameters.iter().find(|(k, _)| k.value == parameter.name),
            );
            if let (Some((property_key, _)), Some((parameter_key, _))) = keys {
                let span = self.span(file, property_key);
                let first = self.span(file, parameter_key);
                self.push(
                    Diagnostic::new(
                        Code::IdentCollision,
                        span,
                        format!(
                            "property `{}` and parameter `{}` both become the Rust field `{}`",
                            property.name, parameter.name, property.rust_name
                        ),
                    )
                    .label("this property")
                    .secondary(first, "collides with this parameter")
                    .help("rename one of them"),
                );
            }
        }
        let governance = self.governance(
            file,
            key,
            "family",
            defaults,
            GovernanceFields {
                owners: f.owners.as_ref(),
                bugs: f.bugs.as_ref(),
                data_reviews: f.data_reviews.as_ref(),
                expires: f.expires.as_ref(),
                version: f.version.as_ref(),
            },
            &f.allow,
        );

        let mut template = Vec::new();
        let mut used: Vec<String> = Vec::new();
        let mut ok = true;
        match expr::parse_template(&f.name.value) {
            Err(err) => {
                ok = false;
                self.expr_error(file, &f.name, err);
            }
            Ok(pieces) => {
                for piece in pieces {
                    match piece {
                        Piece::Text(text) => template.push(TemplatePart::Text(text)),
                        Piece::Placeholder(name, range) => {
                            if !f.parameters.iter().any(|(k, _)| k.value == name) {
                                ok = false;
                                let span = self.inner(file, &f.name, range);
                                let names: Vec<&str> =
                                    f.parameters.iter().map(|(k, _)| k.value.as_str()).collect();
                                self.push(
                                    Diagnostic::new(
                                        Code::FamilyParameters,
                                        span,
                                        format!("`{{{name}}}` is not a declared parameter"),
                                    )
                                    .label("undeclared")
                                    .help(
                                        suggest::help(&name, names.iter().copied()).unwrap_or_else(
                                            || format!("declare `{name}` under `parameters:`"),
                                        ),
                                    ),
                                );
                            } else if used.contains(&name) {
                                ok = false;
                                let span = self.inner(file, &f.name, range);
                                self.push(
                                    Diagnostic::new(
                                        Code::FamilyParameters,
                                        span,
                                        format!("`{{{name}}}` appears twice in the name"),
                                    )
                                    .label("second use"),
                                );
                            } else {
                                used.push(name.clone());
                            }
                            template.push(TemplatePart::Parameter(name));
                        }
                    }
                }
                for (param, _) in f.parameters.iter() {
                    if !used.contains(&param.value) && !template.is_empty() {
                        ok = false;
                        let span = self.span(file, param);
                        let name_span = self.span(file, &f.name);
                        self.push(
                            Diagnostic::new(
                                Code::FamilyParameters,
                                span,
                                format!("parameter `{}` is not used in the name", param.value),
                            )
                            .label("unused")
                            .secondary(name_span, "the name template")
                            .help(format!(
                                "add `{{{}}}` to the name, or remove it",
                                param.value
                            )),
                        );
                    }
                }
                if used.is_empty() && ok {
                    let span = self.span(file, &f.name);
                    self.push(
                        Diagnostic::new(
                            Code::FamilyParameters,
                            span,
                            "a family name needs at least one `{parameter}`",
                        )
                        .label("no parameters")
                        .help("an event with a fixed name belongs under `events:`"),
                    );
                    ok = false;
                }
                let shape: String = template
                    .iter()
                    .map(|p| match p {
                        TemplatePart::Text(t) => t.as_str(),
                        TemplatePart::Parameter(_) => "x",
                    })
                    .collect();
                self.naming(file, &f.name, &shape, &f.allow);
            }
        }
        let mut parameters = Vec::new();
        for name in &used {
            if let Some(p) = parameters_declared.iter().find(|p| &p.name == name) {
                parameters.push(p.clone());
            }
        }
        let rust_name = self.type_name(file, key)?;
        ok.then(|| Family {
            id: key.value.clone(),
            rust_name,
            name_template: template,
            name: f.name.value.clone(),
            parameters,
            description: f.description.value.clone(),
            kinds,
            properties,
            governance,
            logger: f.logger.as_ref().map(|l| l.value.clone()),
            location: self.location(file, key),
        })
    }

    fn type_collisions(
        &mut self,
        event_defs: &BTreeMap<String, Def<'a, ast::EventDef>>,
        family_defs: &BTreeMap<String, Def<'a, ast::FamilyDef>>,
        events: &BTreeMap<String, Event>,
        families: &BTreeMap<String, Family>,
    ) {
        let mut seen: BTreeMap<&str, (usize, &Spanned<String>)> = BTreeMap::new();
        // Every lowered event and family came from these maps, so the lookups always succeed.
        let all = events
            .values()
            .filter_map(|e| Some((e.rust_name.as_str(), event_defs.get(&e.name)?)))
            .map(|(r, d)| (r, d.file, d.key))
            .chain(
                families
                    .values()
                    .filter_map(|f| Some((f.rust_name.as_str(), family_defs.get(&f.id)?)))
                    .map(|(r, d)| (r, d.file, d.key)),
            );
        // In file order, so "first" is the one a reader meets first.
        let mut all: Vec<_> = all.collect();
        all.sort_by_key(|&(_, file, key)| (file, key.range.start));
        let mut found = Vec::new();
        for (rust_name, file, key) in all {
            if let Some(&(first_file, first)) = seen.get(rust_name) {
                found.push((rust_name.to_string(), file, key, first_file, first));
            } else {
                seen.insert(rust_name, (file, key));
            }
        }
        for (rust_name, file, key, first_file, first) in found {
            let span = self.span(file, key);
            let first_span = self.span(first_file, first);
            self.push(
                Diagnostic::new(
                    Code::IdentCollision,
                    span,
                    format!(
                        "`{}` and `{}` both become the Rust type `{rust_name}`",
                        first.value, key.value
                    ),
                )
                .label("this name")
                .secondary(first_span, "collides with this one")
                .help("rename one of them"),
            );
        }
    }

    fn expr_error(&mut self, file: usize, scalar: &Spanned<String>, err: ExprError) {
        let span = self.inner(file, scalar, err.range.clone());
        self.push(
            Diagnostic::new(Code::InvalidExpression, span, err.message.clone())
                .label(err.message)
                .maybe_help(err.help),
        );
    }
}

struct GovernanceFields<'a> {
    owners: Option<&'a Vec<Spanned<String>>>,
    bugs: Option<&'a Vec<Spanned<String>>>,
    data_reviews: Option<&'a Vec<Spanned<String>>>,
    expires: Option<&'a Spanned<String>>,
    version: Option<&'a Spanned<u32>>,
}

fn type_word(ty: ast::TypeName) -> &'static str {
    match ty {
        ast::TypeName::String => "string",
        ast::TypeName::Hex => "hex",
        ast::TypeName::Integer => "integer",
        ast::TypeName::Boolean => "boolean",
        ast::TypeName::Enum => "enum",
        ast::TypeName::List => "list",
    }
}

fn sensitivity(s: Option<&Spanned<ast::Sensitivity>>) -> Sensitivity {
    match s.map(|s| s.value) {
        None | Some(ast::Sensitivity::Technical) => Sensitivity::Technical,
        Some(ast::Sensitivity::Interaction) => Sensitivity::Interaction,
        Some(ast::Sensitivity::Identifier) => Sensitivity::Identifier,
        Some(ast::Sensitivity::Sensitive) => Sensitivity::Sensitive,
    }
}

/// Parses `YYYY-MM-DD` (a real calendar date).
pub fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let date = Date {
        year: y.parse().ok()?,
        month: m.parse().ok()?,
        day: d.parse().ok()?,
    };
    let leap = (date.year.is_multiple_of(4) && !date.year.is_multiple_of(100))
        || date.year.is_multiple_of(400);
    let days = match date.month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&date.day).then_some(date)
}

/// Why a name breaks the convention, if it does.
pub fn naming_problem(name: &str) -> Option<String> {
    if name.chars().any(char::is_whitespace) {
        return Some("it contains whitespace".into());
    }
    for segment in name.split('.') {
        let Some(first) = segment.chars().next() else {
            return Some(if name.ends_with('.') {
                "it ends with a dot".into()
            } else if name.starts_with('.') {
                "it starts with a dot".into()
            } else {
                "it has an empty segment".into()
            });
        };
        if first.is_ascii_uppercase() {
            return Some(format!(
                "segment `{segment}` starts with an uppercase letter"
            ));
        }
        if !first.is_ascii_lowercase() {
            return Some(format!("segment `{segment}` does not start with a letter"));
        }
        if let Some(c) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Some(format!("segment `{segment}` contains `{c}`"));
        }
    }
    None
}

/// The JavaScript offsets of unescaped `.` outside classes that are followed by a name
/// character (so `x.y` was probably meant as a literal dot).
pub fn unescaped_dots(js: &str) -> Vec<usize> {
    let mut dots = Vec::new();
    let mut escaped = false;
    let mut in_class = false;
    let bytes = js.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' => escaped = true,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'.' if !in_class
                && bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') =>
            {
                dots.push(i);
            }
            _ => {}
        }
    }
    dots
}

// The Amplitude section.
impl<'a> Lower<'a, '_> {
    fn amplitude(&mut self, events: &mut BTreeMap<String, Event>) -> Amplitude {
        let get_amp = |f: &'a ast::File| f.amplitude.as_ref();
        let group_defs = self.collect("group", move |f| get_amp(f).map(|a| &a.groups));
        let table_defs = self.collect("table", move |f| get_amp(f).map(|a| &a.tables));
        let exact_defs = self.collect("exact mapping", move |f| get_amp(f).map(|a| &a.exact));

        let mut groups = BTreeMap::new();
        for (key, def) in &group_defs {
            groups.insert(
                key.clone(),
                Group {
                    key: key.clone(),
                    prefix: def.def.prefix.value.clone(),
                    description: def.def.description.clone(),
                    event_properties: None,
                },
            );
        }

        let mut ctx = Amp {
            groups: &groups,
            tables: Vec::new(),
            table_names: BTreeMap::new(),
        };
        // Tables, sorted by name; `groups` is reserved for the lookup by group key.
        for (name, def) in &table_defs {
            if name == "groups" {
                let span = self.span(def.file, def.key);
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        span,
                        "the table name `groups` is reserved",
                    )
                    .label("reserved")
                    .help("`groups[category]` looks a group up by its key; rename this table"),
                );
                continue;
            }
            let values_are_groups = def.def.values.is_some();
            let mut entries = Vec::new();
            for (k, v) in def.def.entries.iter() {
                let value = if values_are_groups {
                    match groups.get(&v.value) {
                        Some(group) => group.prefix.clone(),
                        None => {
                            self.unknown_group(def.file, v, &v.value, v.range.len(), &groups);
                            continue;
                        }
                    }
                } else {
                    v.value.clone()
                };
                entries.push((k.value.clone(), value));
            }
            entries.sort();
            ctx.table_names.insert(name.clone(), ctx.tables.len());
            ctx.tables.push(Table {
                name: name.clone(),
                description: def.def.description.clone(),
                values_are_groups,
                entries,
            });
        }

        // Group event properties.
        let mut group_properties = BTreeMap::new();
        for (key, def) in &group_defs {
            if let Some(props) = &def.def.event_properties {
                let when = self.conds(def.file, &props.when, Scope::Group, &mut ctx);
                let mut set = Vec::new();
                for (name, value) in props.set.iter() {
                    match expr::parse_set(&value.value) {
                        Err(err) => self.expr_error(def.file, value, err),
                        Ok(parsed) => {
                            let v =
                                self.value(def.file, value, &parsed.value, Scope::Group, &mut ctx);
                            let cond = match &parsed.cond {
                                None => Some(None),
                                Some(c) => self
                                    .cond(def.file, value, c, Scope::Group, &mut ctx)
                                    .map(Some),
                            };
                            if let (Some(v), Some(cond)) = (v, cond) {
                                set.push(PropertyRule {
                                    name: name.value.clone(),
                                    value: v,
                                    when: cond.into_iter().collect(),
                                });
                            }
                        }
                    }
                }
                group_properties.insert(key.clone(), GroupProperties { when, set });
            }
        }

        // Exact mappings.
        let mut exact = BTreeMap::new();
        for (name, def) in &exact_defs {
            let mut targets = Vec::new();
            self.target(def.file, def.def, Scope::Exact, &mut ctx, &mut targets);
            exact.insert(name.clone(), targets);
        }

        // Rules, in file order (entry first, then includes), compiled by the rules thread when
        // there is one.
        let early = self
            .early
            .as_ref()
            .and_then(|(receiver, _)| receiver.recv().ok());
        let (mut early_compiled, early_first) = match early {
            Some(EarlyRules { compiled, first }) => (Some(compiled.into_iter()), Some(first)),
            None => (None, None),
        };
        let mut rules = Vec::new();
        let mut compiled: Vec<(usize, usize, &'a Spanned<ast::RuleDef>, regex::Regex)> = Vec::new();
        for (file_index, file) in self.files.iter().enumerate() {
            let Some(amp) = &file.ast.amplitude else {
                continue;
            };
            for rule in &amp.rules {
                let r = &rule.value;
                self.check_allow(file_index, &r.allow);
                let result = early_compiled
                    .as_mut()
                    .and_then(Iterator::next)
                    .unwrap_or_else(|| jsregex::compile(&r.pattern.value));
                let translated = match result {
                    Ok(t) => Some(t),
                    Err(err) => {
                        self.regex_error(file_index, &r.pattern, &err);
                        None
                    }
                };
                let captures = translated.as_ref().map(|t| t.captures);
                let dots = unescaped_dots(&r.pattern.value);
                if let Some(&first) = dots.first() {
                    let span = self.inner(file_index, &r.pattern, first..first + 1);
                    let mut d = Diagnostic::new(
                        Code::UnescapedDot,
                        span,
                        "unescaped `.` in a pattern for dotted names matches any character",
                    )
                    .label("matches any character")
                    .help("write `\\.` for a literal dot");
                    for &other in &dots[1..] {
                        let s = self.inner(file_index, &r.pattern, other..other + 1);
                        d = d.secondary(s, "here too");
                    }
                    self.lint(&r.allow, d);
                }
                let mut targets = Vec::new();
                let main = ast::TargetDef {
                    group: r.group.clone(),
                    event: r.event.clone(),
                    when: r.when.clone(),
                    time_offset: None,
                    also: r.also.clone(),
                };
                self.target(
                    file_index,
                    &main,
                    Scope::Rule(captures),
                    &mut ctx,
                    &mut targets,
                );
                let index = rules.len();
                let location = {
                    let f = &self.files[file_index];
                    let span = self.span(file_index, &r.pattern);
                    let (line, column) = f.source.line_col(span.start);
                    Location {
                        file: f.source.name.clone(),
                        line,
                        column,
                    }
                };
                if let Some(t) = translated {
                    rules.push(Rule {
                        index,
                        js_pattern: r.pattern.value.clone(),
                        rust_pattern: t.rust.clone(),
                        captures: t.captures,
                        description: r.description.clone(),
                        targets,
                        shadowed: false,
                        shadowed_by: Vec::new(),
                        location,
                    });
                    compiled.push((index, file_index, rule, t.regex));
                } else {
                    rules.push(Rule {
                        index,
                        js_pattern: r.pattern.value.clone(),
                        rust_pattern: String::new(),
                        captures: 0,
                        description: r.description.clone(),
                        targets,
                        shadowed: false,
                        shadowed_by: Vec::new(),
                        location,
                    });
                }
            }
        }

        let compiled_rules = early_first.unwrap_or_else(|| {
            let mut regexes = vec![None; rules.len()];
            for (index, .., regex) in &compiled {
                regexes[*index] = Some(regex.clone());
            }
            CompiledRules::new(regexes)
        });
        self.exact_also_matched(&exact_defs, &compiled, &compiled_rules);

        let layout = self
            .single("layout", move |f| {
                get_amp(f).and_then(|a| a.layout.as_ref())
            })
            .map(|(file, layout)| self.layout(file, &layout.value, &mut ctx));
        let policy = self
            .single("policy", move |f| {
                get_amp(f).and_then(|a| a.policy.as_ref())
            })
            .map(|(file, policy)| self.policy(file, &policy.value))
            .unwrap_or_default();

        // Which mapping handles each event name.
        if !exact.is_empty() || !rules.is_empty() {
            for event in events.values_mut() {
                event.amplitude = if exact.contains_key(&event.name) {
                    Some(MappedBy::Exact)
                } else if policy.rewrites.iter().any(|r| r.event == event.name) {
                    None
                } else {
                    Some(
                        compiled_rules
                            .first(&event.name)
                            .map_or(MappedBy::Unmapped, MappedBy::Rule),
                    )
                };
            }
        }

        let Amp { tables, .. } = ctx;
        for (key, properties) in group_properties {
            if let Some(group) = groups.get_mut(&key) {
                group.event_properties = Some(properties);
            }
        }
        let examples = self.examples();
        // Last, so that the rules thread's analysis has the most time to finish.
        self.reach(&mut rules, &compiled);
        Amplitude {
            groups,
            tables,
            exact,
            rules,
            layout,
            policy,
            examples,
            compiled: compiled_rules,
        }
    }

    /// Worked examples of every file, entry file first; their JSON must be objects.
    fn examples(&mut self) -> Vec<Example> {
        let mut examples = Vec::new();
        for file_index in 0..self.files.len() {
            let Some(amp) = &self.files[file_index].ast.amplitude else {
                continue;
            };
            for example in &amp.examples {
                let e = &example.value;
                let not_object = |v: &serde_json::Value| !v.is_object();
                let bad =
                    e.data.as_ref().is_some_and(not_object) || e.expect.iter().any(not_object);
                if bad {
                    let span = self.span(file_index, &e.event);
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            span,
                            "an example's `data` and each of its `expect` entries must be mappings",
                        )
                        .label("in this example")
                        .help("write `data: {uid: ...}` and `expect: [{op: amplitudeEvent, ...}]`"),
                    );
                    continue;
                }
                // serde_json keeps the declared key order (feature `preserve_order`).
                let text = |v: &serde_json::Value| v.to_string();
                examples.push(Example {
                    description: e.description.clone(),
                    event: e.event.value.clone(),
                    time: e.time.as_ref().map(text),
                    data: e.data.as_ref().map(text),
                    oauth_clients: e
                        .oauth_clients
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    app_version: e.app_version.clone(),
                    now_ms: e.now.unwrap_or(DEFAULT_EXAMPLE_NOW_MS),
                    expect: e.expect.iter().map(text).collect(),
                    location: self.location(file_index, &e.event),
                });
            }
        }
        examples
    }

    fn reach(
        &mut self,
        rules: &mut [Rule],
        compiled: &[(usize, usize, &'a Spanned<ast::RuleDef>, regex::Regex)],
    ) {
        if compiled.is_empty() {
            return;
        }
        let early = self.early.take().map(|(_, handle)| {
            // A panic in the analysis (a bug) goes on here.
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        let analysis = early.unwrap_or_else(|| {
            let patterns: Vec<&str> = compiled
                .iter()
                .map(|(i, ..)| rules[*i].rust_pattern.as_str())
                .collect();
            shadow::analyse(&patterns)
        });
        match analysis {
            Err(shadow::TooLarge(reason)) => {
                let (_, file, rule, _) = &compiled[0];
                let span = self.span(*file, &rule.value.pattern);
                let allow = &rule.value.allow;
                self.lint(
                    allow,
                    Diagnostic::new(
                        Code::AnalysisTooLarge,
                        span,
                        "the rules are too large to check for shadowing",
                    )
                    .label("analysis skipped from this rule on")
                    .help(format!("the automaton exceeded its size limit: {reason}")),
                );
            }
            Ok(reach) => {
                for (k, result) in reach.into_iter().enumerate() {
                    let (index, file, rule, _) = &compiled[k];
                    let span = self.span(*file, &rule.value.pattern);
                    if result.matches_nothing {
                        self.lint(
                            &rule.value.allow,
                            Diagnostic::new(
                                Code::UnmatchableRule,
                                span,
                                format!("rule {} matches no event name", index + 1),
                            )
                            .label("this pattern matches nothing")
                            .help("check the anchors and classes of the pattern"),
                        );
                    } else if let Some(by) = result.shadowed_by {
                        let mut d = Diagnostic::new(
                            Code::ShadowedRule,
                            span,
                            format!(
                                "rule {} can never win: earlier rules match every name it matches",
                                index + 1
                            ),
                        )
                        .label("shadowed rule")
                        .help("move it before the rules that shadow it, or remove it");
                        for &j in &by {
                            let (_, jf, jr, _) = &compiled[j];
                            let jspan = self.span(*jf, &jr.value.pattern);
                            d = d.secondary(
                                jspan,
                                format!("rule {} matches first", compiled[j].0 + 1),
                            );
                        }
                        rules[*index].shadowed = true;
                        rules[*index].shadowed_by = by.iter().map(|&j| compiled[j].0).collect();
                        self.lint(&rule.value.allow, d);
                    }
                }
            }
        }
    }

    fn exact_also_matched(
        &mut self,
        exact_defs: &BTreeMap<String, Def<'a, ast::TargetDef>>,
        compiled: &[(usize, usize, &'a Spanned<ast::RuleDef>, regex::Regex)],
        rules: &CompiledRules,
    ) {
        for (name, def) in exact_defs {
            let first = rules.first(name);
            // `compiled` holds the rules that compiled, in rule order.
            let found = first.and_then(|i| {
                let k = compiled.binary_search_by_key(&i, |c| c.0).ok()?;
                compiled.get(k)
            });
            if let Some((index, file, rule, _)) = found {
                let span = self.span(def.file, def.key);
                let rule_span = self.span(*file, &rule.value.pattern);
                self.lint(
                    &rule.value.allow,
                    Diagnostic::new(
                        Code::ExactAlsoMatched,
                        span,
                        format!(
                            "`{name}` has an exact mapping and also matches rule {}",
                            index + 1
                        ),
                    )
                    .label("the exact mapping wins")
                    .secondary(rule_span, "this rule also matches"),
                );
            }
        }
    }

    fn unknown_group(
        &mut self,
        file: usize,
        scalar: &Spanned<String>,
        name: &str,
        _len: usize,
        groups: &BTreeMap<String, Group>,
    ) {
        let span = self.span(file, scalar);
        self.push(
            Diagnostic::new(Code::UnknownGroup, span, format!("unknown group `{name}`"))
                .label("no group with this key")
                .help(
                    suggest::help(name, groups.keys().map(String::as_str))
                        .unwrap_or_else(|| "define it under `amplitude: groups:`".into()),
                ),
        );
    }

    fn target(
        &mut self,
        file: usize,
        def: &ast::TargetDef,
        scope: Scope,
        ctx: &mut Amp<'_>,
        out: &mut Vec<Target>,
    ) {
        let group = self.group_expr(file, &def.group, scope, ctx);
        let event = self.event_template(file, &def.event, scope);
        let when = self.conds(file, &def.when, scope, ctx);
        if let (Some(group), Some(event)) = (group, event) {
            out.push(Target {
                group,
                event,
                when,
                time_offset: def.time_offset,
            });
        }
        for also in &def.also {
            self.target(file, also, scope, ctx, out);
        }
    }

    fn group_expr(
        &mut self,
        file: usize,
        scalar: &Spanned<String>,
        scope: Scope,
        ctx: &mut Amp<'_>,
    ) -> Option<GroupExpr> {
        match expr::parse_group(&scalar.value) {
            Err(err) => {
                self.expr_error(file, scalar, err);
                None
            }
            Ok(GroupRef::Key(key, range)) => match ctx.groups.get(&key) {
                Some(group) => Some(GroupExpr::Fixed(group.prefix.clone())),
                None => {
                    let span = self.inner(file, scalar, range);
                    let tables: Vec<String> = ctx.table_names.keys().cloned().collect();
                    let help = suggest::help(&key, ctx.groups.keys().map(String::as_str))
                        .or_else(|| {
                            tables.iter().find(|t| **t == key).map(|t| {
                                format!("to look a group up in `{t}`, write `{t}[category]`")
                            })
                        })
                        .unwrap_or_else(|| "define it under `amplitude: groups:`".into());
                    self.push(
                        Diagnostic::new(Code::UnknownGroup, span, format!("unknown group `{key}`"))
                            .label("no group with this key")
                            .help(help),
                    );
                    None
                }
            },
            Ok(GroupRef::Lookup {
                table,
                table_range,
                key,
            }) => {
                let id = self.table(file, scalar, &table, table_range.clone(), ctx)?;
                if !ctx.tables[id.0].values_are_groups {
                    let span = self.inner(file, scalar, table_range);
                    self.push(
                        Diagnostic::new(
                            Code::TableNotGroups,
                            span,
                            format!("table `{table}` does not hold groups"),
                        )
                        .label("used as a group lookup")
                        .help(format!(
                            "add `values: group` to `{table}` if its values are group keys"
                        )),
                    );
                    return None;
                }
                let capture = match key {
                    Key::Capture(capture, range) => {
                        self.capture(file, scalar, capture, range, scope)?;
                        capture
                    }
                    Key::Data(_, range) => {
                        let span = self.inner(file, scalar, range);
                        self.push(
                            Diagnostic::new(
                                Code::InvalidExpression,
                                span,
                                "a group lookup takes `category` or `target`",
                            )
                            .label("not a capture"),
                        );
                        return None;
                    }
                };
                Some(GroupExpr::Lookup {
                    table: id,
                    key: capture,
                })
            }
        }
    }

    fn table(
        &mut self,
        file: usize,
        scalar: &Spanned<String>,
        name: &str,
        range: Range<usize>,
        ctx: &mut Amp<'_>,
    ) -> Option<TableId> {
        if let Some(&id) = ctx.table_names.get(name) {
            return Some(TableId(id));
        }
        if name == "groups" {
            let mut entries: Vec<(String, String)> = ctx
                .groups
                .values()
                .map(|g| (g.key.clone(), g.prefix.clone()))
                .collect();
            entries.sort();
            let id = ctx.tables.len();
            ctx.tables.push(Table {
                name: "groups".into(),
                description: "Group key -> prefix (the reserved table of every service).".into(),
                values_are_groups: true,
                entries,
            });
            ctx.table_names.insert("groups".into(), id);
            return Some(TableId(id));
        }
        let span = self.inner(file, scalar, range);
        let mut names: Vec<&str> = ctx.table_names.keys().map(String::as_str).collect();
        names.push("groups");
        self.push(
            Diagnostic::new(Code::UnknownTable, span, format!("unknown table `{name}`"))
                .label("no table of this name")
                .help(
                    suggest::help(name, names.iter().copied())
                        .unwrap_or_else(|| "define it under `amplitude: tables:`".into()),
                ),
        );
        None
    }

    fn capture(
        &mut self,
        file: usize,
        scalar: &Spanned<String>,
        capture: Capture,
        range: Range<usize>,
        scope: Scope,
    ) -> Option<()> {
        let word = match capture {
            Capture::Category => "category",
            Capture::Target => "target",
        };
        let problem = match scope {
            Scope::Group | Scope::Rule(None) => None,
            Scope::Exact => Some(format!("`{word}` is not available in an exact mapping")),
            Scope::Layout => Some(format!("`{word}` is not available in the layout")),
            Scope::Rule(Some(n)) => match capture {
                Capture::Category if n == 0 => {
                    Some("`category` needs a capture group in the pattern".to_string())
                }
                Capture::Target if n != 2 => Some(format!(
                    "`target` needs exactly two capture groups, the pattern has {n}"
                )),
                _ => None,
            },
        };
        match problem {
            None => Some(()),
            Some(message) => {
                let span = self.inner(file, scalar, range);
                let help = match scope {
                    Scope::Exact => "exact mappings match a whole name, so nothing is captured",
                    Scope::Layout => "the layout applies to every event; use `data.<key>`",
                    _ => {
                        "category is group 1 when the pattern has groups; target is group 2 only with exactly two groups"
                    }
                };
                self.push(
                    Diagnostic::new(Code::CaptureUnavailable, span, message)
                        .label("no such capture")
                        .help(help),
                );
                None
            }
        }
    }

    fn event_template(
        &mut self,
        file: usize,
        scalar: &Spanned<String>,
        scope: Scope,
    ) -> Option<Vec<Part>> {
        if scalar.value.is_empty() {
            let span = self.span(file, scalar);
            self.push(
                Diagnostic::new(Code::InvalidValue, span, "empty event name")
                    .label("an empty name drops the event"),
            );
            return None;
        }
        let pieces = match expr::parse_template(&scalar.value) {
            Ok(p) => p,
            Err(err) => {
                self.expr_error(file, scalar, err);
                return None;
            }
        };
        let mut parts = Vec::new();
        let mut ok = true;
        for piece in pieces {
            match piece {
                Piece::Text(t) => parts.push(Part::Text(t)),
                Piece::Placeholder(name, range) => {
                    let capture = match name.as_str() {
                        "category" => Capture::Category,
                        "target" => Capture::Target,
                        _ => {
                            ok = false;
                            let span = self.inner(file, scalar, range);
                            self.push(
                                Diagnostic::new(
                                    Code::InvalidExpression,
                                    span,
                                    format!("unknown placeholder `{{{name}}}`"),
                                )
                                .label("not a capture")
                                .help(
                                    suggest::help(&name, ["category", "target"]).unwrap_or_else(
                                        || "event templates use `{category}` and `{target}`".into(),
                                    ),
                                ),
                            );
                            continue;
                        }
                    };
                    if self.capture(file, scalar, capture, range, scope).is_none() {
                        ok = false;
                    }
                    parts.push(Part::Capture(capture));
                }
            }
        }
        ok.then_some(parts)
    }

    fn conds(
        &mut self,
        file: usize,
        list: &[Spanned<String>],
        scope: Scope,
        ctx: &mut Amp<'_>,
    ) -> Vec<Cond> {
        let mut conds = Vec::new();
        for scalar in list {
            match expr::parse_cond(&scalar.value) {
                Err(err) => self.expr_error(file, scalar, err),
                Ok(parsed) => {
                    if let Some(cond) = self.cond(file, scalar, &parsed, scope, ctx) {
                        conds.push(cond);
                    }
                }
            }
        }
        conds
    }

    fn cond(
        &mut self,
        file: usize,
        scalar: &Spanned<String>,
        cond: &CondExpr,
        scope: Scope,
        ctx: &mut Amp<'_>,
    ) -> Option<Cond> {
        match cond {
            CondExpr::EventIs(name, _) => Some(Cond::EventIs(name.clone())),
            CondExpr::Truthy(value) => self
                .value(file, scalar, value, scope, ctx)
                .map(Cond::Truthy),
        }
    }

    fn value(
        &mut self,
        file: usize,
        scalar: &Spanned<String>,
        value: &ValueExpr,
        scope: Scope,
        ctx: &mut Amp<'_>,
    ) -> Option<Value> {
        match value {
            ValueExpr::Literal(text, _) => Some(Value::Literal(text.clone())),
            ValueExpr::Data(key, _) => Some(Value::Data(key.clone())),
            ValueExpr::Capture(capture, range) => {
                self.capture(file, scalar, *capture, range.clone(), scope)?;
                Some(Value::Capture(*capture))
            }
            ValueExpr::Lookup {
                table,
                table_range,
                key,
            } => {
                let id = self.table(file, scalar, table, table_range.clone(), ctx)?;
                match key {
                    Key::Capture(capture, range) => {
                        self.capture(file, scalar, *capture, range.clone(), scope)?;
                        Some(Value::Lookup {
                            table: id,
                            key: *capture,
                        })
                    }
                    Key::Data(data, _) => Some(Value::LookupData {
                        table: id,
                        key: data.clone(),
                    }),
                }
            }
            ValueExpr::Call {
                name, name_range, ..
            } => {
                let span = self.inner(file, scalar, name_range.clone());
                let (message, help) = if FUNCTIONS.contains(&name.as_str()) {
                    (
                        format!("the function `{name}()` is only allowed in `layout`"),
                        "use a capture, `data.<key>` or a table lookup here".to_string(),
                    )
                } else {
                    (
                        format!("unknown function `{name}`"),
                        suggest::help(name, FUNCTIONS.iter().copied())
                            .unwrap_or_else(|| format!("functions are {}", FUNCTIONS.join(", "))),
                    )
                };
                self.push(
                    Diagnostic::new(Code::FunctionNotAllowed, span, message)
                        .label("function call")
                        .help(help),
                );
                None
            }
        }
    }

    fn source(&mut self, file: usize, scalar: &Spanned<String>) -> Option<Source> {
        let parsed = match expr::parse_value(&scalar.value) {
            Ok(p) => p,
            Err(err) => {
                self.expr_error(file, scalar, err);
                return None;
            }
        };
        match parsed {
            ValueExpr::Literal(text, _) => Some(Source::Literal(text)),
            ValueExpr::Data(key, _) => Some(Source::Data(key)),
            ValueExpr::Capture(capture, range) => {
                self.capture(file, scalar, capture, range, Scope::Layout);
                None
            }
            ValueExpr::Lookup { table_range, .. } => {
                let span = self.inner(file, scalar, table_range);
                self.push(
                    Diagnostic::new(
                        Code::InvalidExpression,
                        span,
                        "table lookups are not available in the layout",
                    )
                    .label("lookup")
                    .help("use group `event_properties` for values that depend on the rule"),
                );
                None
            }
            ValueExpr::Call {
                name,
                name_range,
                args,
                range,
            } => {
                let span = self.inner(file, scalar, name_range.clone());
                let data_arg = match args.as_slice() {
                    [ValueExpr::Data(key, _)] => Some(key.clone()),
                    _ => None,
                };
                let result = match (name.as_str(), args.is_empty(), data_arg) {
                    ("app_version", true, _) => Some(Source::AppVersion),
                    ("service_name", true, _) => Some(Source::ServiceName),
                    ("oauth_client_id", true, _) => Some(Source::OauthClientId),
                    ("experiments", _, Some(key)) => Some(Source::Experiments(key)),
                    ("non_empty", _, Some(key)) => Some(Source::NonEmptyArray(key)),
                    _ => None,
                };
                if result.is_none() {
                    let (message, help) = if FUNCTIONS.contains(&name.as_str()) {
                        let signature = match name.as_str() {
                            "experiments" | "non_empty" => format!("{name}(data.<key>)"),
                            _ => format!("{name}()"),
                        };
                        (
                            format!("wrong arguments for `{name}`"),
                            format!("write `{signature}`"),
                        )
                    } else {
                        (
                            format!("unknown function `{name}`"),
                            suggest::help(&name, FUNCTIONS.iter().copied()).unwrap_or_else(|| {
                                format!("functions are {}", FUNCTIONS.join(", "))
                            }),
                        )
                    };
                    let span = if FUNCTIONS.contains(&name.as_str()) {
                        self.inner(file, scalar, range)
                    } else {
                        span
                    };
                    self.push(
                        Diagnostic::new(Code::FunctionNotAllowed, span, message)
                            .label("this call")
                            .help(help),
                    );
                }
                result
            }
        }
    }

    fn fields(&mut self, file: usize, map: &ast::Map<Spanned<String>>) -> Vec<Field> {
        let mut fields = Vec::new();
        for (name, value) in map.iter() {
            if let Some(source) = self.source(file, value) {
                fields.push(Field {
                    name: name.value.clone(),
                    source,
                });
            }
        }
        fields
    }

    fn layout(&mut self, file: usize, def: &ast::LayoutDef, _ctx: &mut Amp<'_>) -> Layout {
        let device_counts = def.device_counts.as_ref().map(|d| {
            let mut windows = Vec::new();
            for (name, window) in d.windows.iter() {
                match parse_window(&window.value) {
                    Some(ms) => windows.push((name.value.clone(), ms)),
                    None => {
                        let span = self.span(file, window);
                        self.push(
                            Diagnostic::new(
                                Code::InvalidExpiry,
                                span,
                                format!("invalid time window `{}`", window.value),
                            )
                            .label("not a window")
                            .help(
                                "write a number and a unit: `500ms`, `30s`, `30m`, `12h` or `28d`",
                            ),
                        );
                    }
                }
            }
            DeviceCounts {
                data: d.data.clone(),
                time_key: d.time_key.clone(),
                count: d.count.clone(),
                windows,
            }
        });
        Layout {
            fields: self.fields(file, &def.fields),
            service: def.service.as_ref().map(|s| ServiceRule {
                data: s.data.clone(),
                ignore: s.ignore.clone(),
                passthrough: s.passthrough.clone(),
                unknown: s.unknown.clone(),
            }),
            event_properties: self.fields(file, &def.event_properties),
            user_properties: self.fields(file, &def.user_properties),
            append: self.fields(file, &def.append),
            device_counts,
            user_properties_tail: self.fields(file, &def.user_properties_tail),
            newsletter: def.newsletter.as_ref().map(|n| Newsletter {
                name: n.name.clone(),
                by_category: n
                    .by_category
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.clone()))
                    .collect(),
                data: n.data.clone(),
                when_true: n.when_true.clone(),
                when_false: n.when_false.clone(),
            }),
        }
    }

    fn policy(&mut self, file: usize, def: &ast::PolicyDef) -> Policy {
        let mut rewrites = Vec::new();
        for (source, template) in def.rewrites.iter() {
            let pieces = match expr::parse_template(&template.value) {
                Ok(p) => p,
                Err(err) => {
                    self.expr_error(file, template, err);
                    continue;
                }
            };
            let mut to = Vec::new();
            let mut ok = true;
            for piece in pieces {
                match piece {
                    Piece::Text(t) => to.push(RewritePart::Text(t)),
                    Piece::Placeholder(name, range) => match name.strip_prefix("data.") {
                        Some(key) if !key.is_empty() => to.push(RewritePart::Data(key.to_string())),
                        _ => {
                            ok = false;
                            let span = self.inner(file, template, range);
                            self.push(
                                Diagnostic::new(
                                    Code::InvalidExpression,
                                    span,
                                    format!("unknown placeholder `{{{name}}}` in a rewrite"),
                                )
                                .label("not a data key")
                                .help("rewrites use `{data.<key>}`"),
                            );
                        }
                    },
                }
            }
            if ok {
                rewrites.push(Rewrite {
                    event: source.value.clone(),
                    to,
                });
            }
        }
        rewrites.sort_by(|a, b| a.event.cmp(&b.event));
        Policy {
            time_falls_back_to_now: def.time == Some(ast::TimePolicy::EventOrNow),
            require_user_or_device: def.require == Some(ast::RequirePolicy::UserOrDevice),
            rewrites,
        }
    }
}

struct Amp<'g> {
    groups: &'g BTreeMap<String, Group>,
    tables: Vec<Table>,
    table_names: BTreeMap<String, usize>,
}

/// Parses `500ms`, `30s`, `30m`, `12h`, `28d` into milliseconds.
pub fn parse_window(text: &str) -> Option<i64> {
    let digits = text.trim().chars().take_while(char::is_ascii_digit).count();
    let (number, unit) = text.trim().split_at(digits);
    let number: i64 = number.parse().ok()?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    number.checked_mul(factor)
}
