//! Events and their properties: kinds, naming, typed properties and their patterns.

use std::collections::BTreeMap;

use super::governance::GovernanceFields;
use super::*;

impl<'a> Lower<'a, '_> {
    pub(super) fn kinds(
        &mut self,
        file: usize,
        key: &Spanned<String>,
        kinds: &[Spanned<ast::Kind>],
    ) -> Kinds {
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

    pub(super) fn naming(
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

    pub(super) fn properties(
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

    pub(super) fn property(
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

    pub(super) fn reference(
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

    pub(super) fn property_type(
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

    pub(super) fn pattern(&mut self, file: usize, pattern: &Spanned<String>) -> Option<Pattern> {
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

    pub(super) fn regex_error(
        &mut self,
        file: usize,
        pattern: &Spanned<String>,
        err: &jsregex::JsRegexError,
    ) {
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

    pub(super) fn event(
        &mut self,
        def: &Def<'a, ast::EventDef>,
        defaults: &Governance,
        shared: &BTreeMap<String, Property>,
    ) -> Option<Event> {
        let (file, key, e) = (def.file, def.key, def.def);
        self.check_allow(file, &e.allow, LintSite::Definition, false);
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
            example: EventExample::default(),
        })
    }

    pub(super) fn type_name(&mut self, file: usize, key: &Spanned<String>) -> Option<String> {
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
