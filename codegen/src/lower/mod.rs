//! Validate and lower: the AST of one service (entry file and includes) -> [`Service`].
//!
//! One pass collects every diagnostic; nothing here touches the filesystem.
//!
//! Each section of the schema has a module of its own, each adding methods to one `Lower`
//! that holds the files and the diagnostics:
//!
//! - `events`: events and their typed properties;
//! - `families`: event families and their parameters;
//! - `groups`: Amplitude groups and lookup tables;
//! - `rules`: exact names and ordered rules, their targets and values, shadowing, and the
//!   worked examples;
//! - `layout`: the event layout and the per-service policy;
//! - `collector`: the `POST /metrics` collector, its declared body and flow policy;
//! - `governance`: owners, bugs, reviews and expiry merged under the defaults;
//! - `coverage`: once the mapping is lowered, the names it maps and the events it leaves out;
//! - `facts`: once the service is valid, what several backends show (examples of events,
//!   families and rules, and what the mapping makes of them), so each backend only reads.

mod collector;
mod coverage;
mod events;
mod facts;
mod families;
mod governance;
mod groups;
mod layout;
mod rules;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;

use crate::ast::{self, Spanned};
use crate::diagnostic::{Code, Diagnostic, LintSite, Severity};
use crate::expr::{self, CondExpr, ExprError, GroupRef, Key, Piece, ValueExpr};
use crate::first_match::CompiledRules;
use crate::ident;
use crate::jsregex;
use crate::model::*;
use crate::parse::span_of;
use crate::shadow;
use crate::source::{FileId, SourceFile, Span};
use crate::suggest;

pub use events::naming_problem;
pub use governance::parse_date;
pub use layout::parse_window;
pub use rules::unescaped_dots;

/// The clock of an example that sets no `now` (the FxA corpus' frozen `Date.now`).
const DEFAULT_EXAMPLE_NOW_MS: i64 = 1_551_700_200_000;

/// Inputs of validation that do not come from the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Today's date, for the `expired` lint (a parameter, so checks are reproducible).
    pub today: Date,
    /// The current version of the services, for `expires: vNNN`.
    pub current_version: Option<u32>,
    /// Whether a valid service gets the facts its backends show: each event's, family's and
    /// rule's example and what the mapping makes of it (see `facts`). A check that only
    /// reports diagnostics skips them (a tenth of its work at 2,000 events); the model's
    /// examples are then empty.
    pub facts: bool,
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
        let mut service = service.filter(|_| !failed);
        if let Some(service) = service.as_mut().filter(|_| options.facts) {
            facts::compute(service);
        }
        (service, lower.diagnostics)
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
    "snake_case_items",
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

    /// Pushes a lint unless `allow` lists it, saying where `allow:` would silence it.
    fn lint(&mut self, allow: &[Spanned<String>], diagnostic: Diagnostic) {
        let allowed = diagnostic
            .code
            .lint()
            .is_some_and(|lint| allow.iter().any(|a| a.value == lint));
        if !allowed {
            let mut diagnostic = diagnostic;
            if diagnostic.allowed_at.is_none() {
                diagnostic.allowed_at = match diagnostic.code.lint_site() {
                    Some(LintSite::Definition) => Some("on the event or family".to_owned()),
                    Some(LintSite::Rule) => Some("on the rule".to_owned()),
                    None => None,
                };
            }
            self.push(diagnostic);
        }
    }

    /// Each `allow:` entry names a lint that is reported where it stands: one rule for every
    /// lint, so an entry is never silently without effect.
    /// `family`: the definition is a family.
    fn check_allow(
        &mut self,
        file: usize,
        allow: &[Spanned<String>],
        site: LintSite,
        family: bool,
    ) {
        let lints: Vec<&str> = Code::ALL.iter().filter_map(|c| c.lint()).collect();
        let reported_here = |c: Code| c.lint_site() == Some(site);
        let here: Vec<&str> = Code::ALL
            .iter()
            .filter(|c| reported_here(**c))
            .filter_map(|c| c.lint())
            .collect();
        let (place, other) = match (site, family) {
            (LintSite::Definition, false) => ("an event", "on the rule"),
            (LintSite::Definition, true) => ("a family", "on the rule or event"),
            (LintSite::Rule, _) => ("a rule", "on the event or family"),
        };
        for entry in allow {
            let span = self.span(file, entry);
            match Code::from_lint(&entry.value) {
                None => self.push(
                    Diagnostic::new(
                        Code::UnknownLint,
                        span,
                        format!("unknown lint `{}`", entry.value),
                    )
                    .label("not a lint name")
                    .help(
                        suggest::help(&entry.value, here.iter().copied())
                            .or_else(|| suggest::help(&entry.value, lints.iter().copied()))
                            .unwrap_or_else(|| format!("lints are {}", lints.join(", "))),
                    ),
                ),
                Some(code) if !reported_here(code) => self.push(
                    Diagnostic::new(
                        Code::UnknownLint,
                        span,
                        format!("`{}` is never reported on {place}", entry.value),
                    )
                    .label("has no effect here")
                    .help(format!(
                        "allow it {other} that the warning points at; here, {} can be allowed",
                        here.join(", ")
                    )),
                ),
                Some(_) => {}
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
        self.value_type_collisions(&event_defs, &family_defs, &events, &families);

        let amplitude = self.amplitude(&mut events, &event_defs, &mut families, &family_defs);
        let collector = self
            .single("collector", |f| f.collector.as_ref())
            .map(|(file, def)| self.collector(file, &def.value));

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
            defaults,
            events,
            families,
            amplitude,
            collector: collector.flatten(),
            accepted_changes: self.accepted_changes(),
        })
    }

    fn accepted_changes(&self) -> Vec<crate::model::AcceptedChange> {
        let mut out = Vec::new();
        for (file, f) in self.files.iter().enumerate() {
            for a in &f.ast.accepted_changes {
                out.push(crate::model::AcceptedChange {
                    change: a.change.value.clone(),
                    reason: a.reason.value.clone(),
                    location: self.location(file, &a.change),
                });
            }
        }
        out
    }

    fn expr_error(&mut self, file: usize, scalar: &Spanned<String>, err: ExprError) {
        let span = self.inner(file, scalar, err.range.clone());
        self.push(
            Diagnostic::new(Code::InvalidExpression, span, err.message.clone())
                .label(err.message)
                .maybe_help(err.help),
        );
    }

    fn amplitude(
        &mut self,
        events: &mut BTreeMap<String, Event>,
        event_defs: &BTreeMap<String, Def<'a, ast::EventDef>>,
        families: &mut BTreeMap<String, Family>,
        family_defs: &BTreeMap<String, Def<'a, ast::FamilyDef>>,
    ) -> Amplitude {
        let get_amp = |f: &'a ast::File| f.amplitude.as_ref();
        let group_defs = self.collect("group", move |f| get_amp(f).map(|a| &a.groups));
        let table_defs = self.collect("table", move |f| get_amp(f).map(|a| &a.tables));
        let exact_defs = self.collect("exact mapping", move |f| get_amp(f).map(|a| &a.exact));

        let mut groups = groups::groups(&group_defs);
        let mut ctx = Amp {
            groups: &groups,
            tables: Vec::new(),
            table_names: BTreeMap::new(),
        };
        self.tables(&table_defs, &mut ctx);
        let group_properties = self.group_properties(&group_defs, &mut ctx);
        let exact = self.exact(&exact_defs, &mut ctx);
        let (mut rules, compiled, compiled_rules) = self.rules(&mut ctx);
        self.exact_also_matched(&exact_defs, &compiled, &compiled_rules);

        let layout_def = self.single("layout", move |f| {
            get_amp(f).and_then(|a| a.layout.as_ref())
        });
        let layout = layout_def.map(|(file, layout)| self.layout(file, &layout.value, &mut ctx));
        let policy_def = self.single("policy", move |f| {
            get_amp(f).and_then(|a| a.policy.as_ref())
        });
        let policy = policy_def
            .map(|(file, policy)| self.policy(file, &policy.value))
            .unwrap_or_default();

        rules::mapped_by(events, &exact, &rules, &policy, &compiled_rules);
        self.coverage(coverage::Coverage {
            events,
            event_defs,
            families,
            family_defs,
            exact_defs: &exact_defs,
            compiled: &compiled,
            rules: &rules,
            compiled_rules: &compiled_rules,
            policy: &policy,
            layout: layout_def,
            policy_def,
        });

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
}

/// The rules that compiled, in rule order: rule index, file, definition and regex.
type Compiled<'a> = Vec<(usize, usize, &'a Spanned<ast::RuleDef>, regex::Regex)>;

struct Amp<'g> {
    groups: &'g BTreeMap<String, Group>,
    tables: Vec<Table>,
    table_names: BTreeMap<String, usize>,
}
