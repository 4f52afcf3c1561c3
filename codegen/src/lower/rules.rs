//! Exact names and ordered rules: targets, captures, conditions and values; shadowing; worked
//! examples.

use std::collections::BTreeMap;
use std::ops::Range;

use super::*;

impl<'a> Lower<'a, '_> {
    /// Exact names and their targets.
    pub(super) fn exact(
        &mut self,
        exact_defs: &BTreeMap<String, Def<'a, ast::TargetDef>>,
        ctx: &mut Amp<'_>,
    ) -> BTreeMap<String, Vec<Target>> {
        // Exact mappings.
        let mut exact = BTreeMap::new();
        for (name, def) in exact_defs {
            let mut targets = Vec::new();
            self.target(def.file, def.def, Scope::Exact, ctx, &mut targets);
            exact.insert(name.clone(), targets);
        }
        exact
    }

    /// The rules, compiled: each rule, the ones that compiled, and all of them for the first
    /// that matches.
    pub(super) fn rules(&mut self, ctx: &mut Amp<'_>) -> (Vec<Rule>, Compiled<'a>, CompiledRules) {
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
        let mut compiled: Compiled<'a> = Vec::new();
        for (file_index, file) in self.files.iter().enumerate() {
            let Some(amp) = &file.ast.amplitude else {
                continue;
            };
            for rule in &amp.rules {
                let r = &rule.value;
                self.check_allow(file_index, &r.allow, LintSite::Rule, false);
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
                    .help("write `\\.` for a literal dot")
                    .allowed_at(format!("on rule {}", rules.len() + 1));
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
                self.target(file_index, &main, Scope::Rule(captures), ctx, &mut targets);
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
                let (rust_pattern, captures) = translated
                    .as_ref()
                    .map_or((String::new(), 0), |t| (t.rust.clone(), t.captures));
                rules.push(Rule {
                    index,
                    js_pattern: r.pattern.value.clone(),
                    rust_pattern,
                    captures,
                    description: r.description.clone(),
                    targets,
                    shadowed: false,
                    shadowed_by: Vec::new(),
                    location,
                    unmatchable: false,
                    example: None,
                    takes_from: Vec::new(),
                    exact_matched: Vec::new(),
                });
                if let Some(t) = translated {
                    compiled.push((index, file_index, rule, t.regex));
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
        (rules, compiled, compiled_rules)
    }

    /// Worked examples of every file, entry file first; their JSON must be objects.
    pub(super) fn examples(&mut self) -> Vec<Example> {
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

    pub(super) fn reach(
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
            Err(shadow::TooLarge {
                reason,
                rule: k,
                alone,
            }) => {
                let (index, file, rule, _) = &compiled[k.min(compiled.len() - 1)];
                let span = self.span(*file, &rule.value.pattern);
                let allow = &rule.value.allow;
                let (with, advice) = if alone {
                    (
                        "on its own".to_owned(),
                        "simplify its pattern: long or nested repetitions of overlapping \
                         classes grow the automaton",
                    )
                } else {
                    (
                        format!(
                            "with the {} before it",
                            if *index == 1 { "rule" } else { "rules" }
                        ),
                        "anchor the rules up to it with `^` and `$` where they allow it: \
                         unanchored patterns make every state carry every rule",
                    )
                };
                self.lint(
                    allow,
                    Diagnostic::new(
                        Code::AnalysisTooLarge,
                        span,
                        "the rules are too large to check for shadowing",
                    )
                    .label(format!(
                        "rule {} makes the automaton too large {with}",
                        index + 1
                    ))
                    .help(format!("no rule was checked; {advice} ({reason})"))
                    .allowed_at(format!("on rule {}", index + 1)),
                );
            }
            Ok(reach) => {
                for (k, result) in reach.into_iter().enumerate() {
                    let (index, file, rule, _) = &compiled[k];
                    let span = self.span(*file, &rule.value.pattern);
                    if result.matches_nothing {
                        rules[*index].unmatchable = true;
                        self.lint(
                            &rule.value.allow,
                            Diagnostic::new(
                                Code::UnmatchableRule,
                                span,
                                format!("rule {} matches no event name", index + 1),
                            )
                            .label("this pattern matches nothing")
                            .help("check the anchors and classes of the pattern")
                            .allowed_at(format!("on rule {}", index + 1)),
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
                        .help("move it before the rules that shadow it, or remove it")
                        .allowed_at(format!("on rule {}", index + 1));
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

    pub(super) fn exact_also_matched(
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
                    .secondary(rule_span, "this rule also matches")
                    .allowed_at(format!("on rule {}", index + 1)),
                );
            }
        }
    }

    pub(super) fn target(
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

    pub(super) fn capture(
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

    pub(super) fn event_template(
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
                    // `{snake_case(target)}`: FxA's toSnakeCase of a capture.
                    let (snake, name) = match name
                        .strip_prefix("snake_case(")
                        .and_then(|n| n.strip_suffix(')'))
                    {
                        Some(inner) => (true, inner.trim().to_owned()),
                        None => (false, name),
                    };
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
                    parts.push(if snake {
                        Part::SnakeCapture(capture)
                    } else {
                        Part::Capture(capture)
                    });
                }
            }
        }
        ok.then_some(parts)
    }

    pub(super) fn conds(
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

    pub(super) fn cond(
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

    pub(super) fn value(
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
}

/// The JavaScript offsets of unescaped `.` outside classes that no quantifier follows: in a
/// pattern for dotted names, a lone `.` (before a name, a group, a class, an escape or the
/// end) was almost always meant as a literal dot, while `.*`, `.+`, `.?` and `.{n}` say "any".
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
            b'.' if !in_class && !matches!(bytes.get(i + 1), Some(b'*' | b'+' | b'?' | b'{')) => {
                dots.push(i);
            }
            _ => {}
        }
    }
    dots
}

/// Which mapping handles each event name, when it can be decided statically: not for an event
/// that a policy rewrite renames first.
pub(super) fn mapped_by(
    events: &mut BTreeMap<String, Event>,
    exact: &BTreeMap<String, Vec<Target>>,
    rules: &[Rule],
    policy: &Policy,
    compiled_rules: &CompiledRules,
) {
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
}
