//! The `POST /metrics` collector: its declared body, flow policy and languages.
//!
//! Checks that every constraint applies to its field's type, that settings and body fields
//! referred to exist (with did-you-mean), and that the body declares what the handler reads.

use super::*;

/// The collector settings a `max_setting` may name.
const SETTINGS: &[&str] = &["max_event_offset"];

/// What each handler reads from the validated body: a path and the type it needs.
const CONTENT_NEEDS: &[(&str, ast::FieldType)] = &[
    ("events", ast::FieldType::Array),
    ("events[].type", ast::FieldType::String),
    ("events[].offset", ast::FieldType::Integer),
    ("flushTime", ast::FieldType::Integer),
    ("startTime", ast::FieldType::Integer),
];
const PAYMENTS_NEEDS: &[(&str, ast::FieldType)] = &[
    ("data", ast::FieldType::Object),
    ("events", ast::FieldType::Array),
    ("events[].type", ast::FieldType::String),
];

/// A constraint's name, where it is written (when it is), and the types it applies to.
type Constraint<'a> = (&'a str, Option<Range<u32>>, &'a [ast::FieldType]);

/// body-parser's default limit (100 kB).
const DEFAULT_MAX_BODY: u64 = 100 * 1024;

impl<'a> Lower<'a, '_> {
    pub(super) fn collector(&mut self, file: usize, def: &ast::CollectorDef) -> Option<Collector> {
        let unknown_keys = unknown(def.unknown_keys.as_ref().map(|u| u.value));
        let mut ok = true;
        let body = self.object_shape(file, Some(&def.body), unknown_keys, &mut ok);
        let handler = match def.handler.value {
            ast::HandlerName::ContentServer => Handler::ContentServer,
            ast::HandlerName::PaymentsServer => Handler::PaymentsServer,
        };
        let needs = match handler {
            Handler::ContentServer => CONTENT_NEEDS,
            Handler::PaymentsServer => PAYMENTS_NEEDS,
        };
        let mut failed: Vec<&str> = Vec::new();
        for (path, ty) in needs {
            // Only the outermost problem: `events[].type` says nothing new when `events` failed.
            if failed.iter().any(|f| path.starts_with(&format!("{f}[]"))) {
                continue;
            }
            if let Err(message) = declared(&def.body, path, *ty) {
                failed.push(path);
                let span = self.span(file, &def.handler);
                self.push(
                    Diagnostic::new(
                        Code::HandlerNeedsField,
                        span,
                        format!(
                            "the `{}` handler reads `{path}`, but {message}",
                            handler.as_str()
                        ),
                    )
                    .label("this handler")
                    .help(format!(
                        "declare `{path}` in `body:` with `type: {}`",
                        type_name(*ty)
                    )),
                );
                ok = false;
            }
        }
        let flow = match (&def.flow, handler) {
            (Some(flow), _) => self.flow_policy(file, &flow.value, &def.body, &mut ok),
            (None, Handler::ContentServer) => {
                let span = self.span(file, &def.handler);
                self.push(
                    Diagnostic::new(
                        Code::HandlerNeedsField,
                        span,
                        "the `content-server` handler needs a `flow:` policy",
                    )
                    .label("this handler")
                    .help("add `flow:` with `properties`, `picked`, `max_length` and `auth_views`"),
                );
                ok = false;
                None
            }
            (None, Handler::PaymentsServer) => None,
        };
        let languages = def
            .languages
            .as_ref()
            .map(|l| self.languages(file, &l.value, &mut ok));
        if languages.is_none() && handler == Handler::ContentServer {
            let span = self.span(file, &def.handler);
            self.push(
                Diagnostic::new(
                    Code::HandlerNeedsField,
                    span,
                    "the `content-server` handler needs `languages:` to negotiate `Accept-Language`",
                )
                .label("this handler")
                .help("add `languages:` with `default` and `supported`"),
            );
            ok = false;
        }
        let path = def
            .path
            .as_ref()
            .map_or_else(|| "/metrics".to_owned(), |p| p.value.clone());
        if !path.starts_with('/') {
            if let Some(p) = &def.path {
                let span = self.span(file, p);
                self.push(
                    Diagnostic::new(Code::InvalidValue, span, format!("invalid path `{path}`"))
                        .label("not an absolute path")
                        .help("write the route's path from the root, e.g. `/metrics`"),
                );
            }
            ok = false;
        }
        let mut unmapped = Vec::new();
        for pattern in &def.unmapped {
            match self.pattern(file, pattern) {
                Some(p) => unmapped.push(p),
                None => ok = false,
            }
        }
        let body = body?;
        ok.then(|| Collector {
            description: def.description.clone(),
            handler,
            path,
            validation_logger: def.validation_logger.value.clone(),
            convert: def.convert.as_ref().is_some_and(|c| c.value),
            max_body_bytes: def
                .max_body_bytes
                .as_ref()
                .map_or(DEFAULT_MAX_BODY, |m| m.value),
            client_metrics: def.client_metrics.as_ref().is_some_and(|c| c.value),
            body,
            flow,
            languages: languages.flatten(),
            unmapped,
        })
    }

    fn object_shape(
        &mut self,
        file: usize,
        fields: Option<&ast::Map<ast::FieldDef>>,
        unknown_keys: UnknownKeys,
        ok: &mut bool,
    ) -> Option<ObjectShape> {
        let Some(fields) = fields else {
            return Some(ObjectShape {
                fields: None,
                unknown_keys,
            });
        };
        let mut seen: BTreeMap<&str, &Spanned<String>> = BTreeMap::new();
        let mut out = Vec::new();
        for (key, def) in fields.iter() {
            if let Some(first) = seen.get(key.value.as_str()) {
                let first_span = self.span(file, first);
                let span = self.span(file, key);
                self.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        span,
                        format!("body field `{}` is defined twice", key.value),
                    )
                    .label("defined again here")
                    .secondary(first_span, "first defined here"),
                );
                *ok = false;
                continue;
            }
            seen.insert(&key.value, key);
            if let Some(rule) = self.value_rule(file, def, unknown_keys, ok) {
                out.push(BodyField {
                    name: key.value.clone(),
                    description: def.description.clone(),
                    required: def.required.as_ref().is_some_and(|r| r.value),
                    rule,
                });
            }
        }
        Some(ObjectShape {
            fields: Some(out),
            unknown_keys,
        })
    }

    fn value_rule(
        &mut self,
        file: usize,
        def: &ast::FieldDef,
        unknown_keys: UnknownKeys,
        ok: &mut bool,
    ) -> Option<ValueRule> {
        use ast::FieldType as T;
        let ty = def.ty.value;
        // Each constraint and the types it applies to.
        let constraints: [Constraint<'_>; 13] = [
            (
                "values",
                def.values
                    .as_ref()
                    .and_then(|v| v.first())
                    .map(|v| v.range.clone()),
                &[T::String],
            ),
            (
                "pattern",
                def.pattern.as_ref().map(|v| v.range.clone()),
                &[T::String],
            ),
            (
                "hex",
                def.hex.as_ref().map(|v| v.range.clone()),
                &[T::String],
            ),
            (
                "length",
                def.length.as_ref().map(|v| v.range.clone()),
                &[T::String, T::Uri],
            ),
            (
                "max_length",
                def.max_length.as_ref().map(|v| v.range.clone()),
                &[T::String, T::Uri],
            ),
            (
                "schemes",
                def.schemes
                    .as_ref()
                    .and_then(|v| v.first())
                    .map(|v| v.range.clone()),
                &[T::Uri],
            ),
            (
                "min",
                def.min.as_ref().map(|v| v.range.clone()),
                &[T::Integer, T::Number],
            ),
            (
                "max",
                def.max.as_ref().map(|v| v.range.clone()),
                &[T::Integer, T::Number],
            ),
            (
                "max_setting",
                def.max_setting.as_ref().map(|v| v.range.clone()),
                &[T::Integer],
            ),
            (
                "fields",
                def.fields.as_ref().map(|_| def.ty.range.clone()),
                &[T::Object],
            ),
            (
                "unknown_keys",
                def.unknown_keys.as_ref().map(|v| v.range.clone()),
                &[T::Object],
            ),
            (
                "items",
                def.items.as_ref().map(|v| v.range.clone()),
                &[T::Array],
            ),
            (
                "max_items",
                def.max_items.as_ref().map(|v| v.range.clone()),
                &[T::Array],
            ),
        ];
        for (name, range, types) in constraints {
            let Some(range) = range else { continue };
            if !types.contains(&ty) {
                let at = Spanned {
                    value: (),
                    range,
                    line_col: def.ty.line_col,
                };
                let span = self.span(file, &at);
                let applies: Vec<&str> = types.iter().map(|t| type_name(*t)).collect();
                self.push(
                    Diagnostic::new(
                        Code::InvalidConstraint,
                        span,
                        format!("`{name}` does not apply to `{}` fields", type_name(ty)),
                    )
                    .label(format!("not a constraint of `{}`", type_name(ty)))
                    .help(format!("`{name}` applies to {}", applies.join(", "))),
                );
                *ok = false;
            }
        }
        if def.max.is_some()
            && let Some(setting) = &def.max_setting
        {
            let span = self.span(file, setting);
            self.push(
                Diagnostic::new(
                    Code::InvalidConstraint,
                    span,
                    "`max` and `max_setting` both set the maximum",
                )
                .label("a second maximum")
                .help("keep one of them"),
            );
            *ok = false;
        }
        let max = match (&def.max, &def.max_setting) {
            (Some(max), _) => Some(Limit::Value(max.value)),
            (None, Some(setting)) => {
                if setting.value == "max_event_offset" {
                    Some(Limit::MaxEventOffset)
                } else {
                    let span = self.span(file, setting);
                    self.push(
                        Diagnostic::new(
                            Code::UnknownSetting,
                            span,
                            format!("unknown collector setting `{}`", setting.value),
                        )
                        .label("not a setting")
                        .help(
                            suggest::help(&setting.value, SETTINGS.iter().copied())
                                .unwrap_or_else(|| format!("settings are {}", SETTINGS.join(", "))),
                        ),
                    );
                    *ok = false;
                    None
                }
            }
            (None, None) => None,
        };
        let numbers = NumberShape {
            min: def.min.as_ref().map(|m| m.value),
            max,
        };
        let shape = match ty {
            T::String | T::Uri => Shape::String(StringShape {
                values: def
                    .values
                    .iter()
                    .flatten()
                    .map(|v| v.value.clone())
                    .collect(),
                hex: def.hex.as_ref().is_some_and(|h| h.value),
                length: def.length.as_ref().map(|l| l.value),
                max_length: def.max_length.as_ref().map(|l| l.value),
                pattern: match &def.pattern {
                    Some(p) => {
                        let pattern = self.pattern(file, p);
                        *ok &= pattern.is_some();
                        pattern
                    }
                    None => None,
                },
                uri_schemes: (ty == T::Uri).then(|| {
                    def.schemes
                        .iter()
                        .flatten()
                        .map(|s| s.value.clone())
                        .collect()
                }),
            }),
            T::Integer => Shape::Integer(numbers),
            T::Number => Shape::Number(numbers),
            T::Boolean => Shape::Boolean,
            T::Object => {
                let inner = def
                    .unknown_keys
                    .as_ref()
                    .map_or(unknown_keys, |u| unknown(Some(u.value)));
                Shape::Object(self.object_shape(file, def.fields.as_ref(), inner, ok)?)
            }
            T::Array => match &def.items {
                Some(items) => Shape::Array(ArrayShape {
                    items: Box::new(self.value_rule(file, &items.value, unknown_keys, ok)?),
                    max_items: def.max_items.as_ref().map(|m| m.value),
                }),
                None => {
                    let span = self.span(file, &def.ty);
                    self.push(
                        Diagnostic::new(
                            Code::InvalidConstraint,
                            span,
                            "an `array` field needs `items`",
                        )
                        .label("no item type")
                        .help("add `items:` with the type of each element"),
                    );
                    *ok = false;
                    return None;
                }
            },
        };
        Some(ValueRule {
            allow: def
                .allow
                .iter()
                .flatten()
                .map(|a| a.value.clone())
                .collect(),
            nullable: def.nullable.as_ref().is_some_and(|n| n.value),
            shape,
        })
    }

    fn body_field(
        &mut self,
        file: usize,
        body: &ast::Map<ast::FieldDef>,
        name: &Spanned<String>,
        what: &str,
    ) -> bool {
        // The content server's flow code also reads `client_id`, which Joi strips; a property
        // of the policy may name it.
        if body.iter().any(|(k, _)| k.value == name.value) || name.value == "client_id" {
            return true;
        }
        let span = self.span(file, name);
        let names = body.iter().map(|(k, _)| k.value.as_str());
        self.push(
            Diagnostic::new(
                Code::UnknownBodyField,
                span,
                format!("{what} `{}` is not a field of the body", name.value),
            )
            .label("not declared in `body:`")
            .maybe_help(suggest::help(&name.value, names)),
        );
        false
    }

    fn flow_policy(
        &mut self,
        file: usize,
        def: &ast::FlowDef,
        body: &ast::Map<ast::FieldDef>,
        ok: &mut bool,
    ) -> Option<FlowPolicy> {
        let mut properties = Vec::new();
        for (name, pattern) in def.properties.iter() {
            *ok &= self.body_field(file, body, name, "flow property");
            match self.pattern(file, pattern) {
                Some(p) => properties.push((name.value.clone(), p)),
                None => *ok = false,
            }
        }
        let mut picked = Vec::new();
        for (name, p) in def.picked.iter() {
            *ok &= self.body_field(file, body, name, "picked property");
            if let Some(fallback) = &p.fallback {
                *ok &= self.body_field(file, body, fallback, "fallback");
            }
            let pattern = match &p.pattern {
                Some(js) => {
                    let compiled = self.pattern(file, js);
                    *ok &= compiled.is_some();
                    compiled
                }
                None => None,
            };
            picked.push(Picked {
                name: name.value.clone(),
                pattern,
                dnt: p.dnt.as_ref().is_none_or(|d| d.value),
                fallback: p.fallback.as_ref().map(|f| f.value.clone()),
            });
        }
        Some(FlowPolicy {
            properties,
            picked,
            max_length: def.max_length.value,
            auth_views: def.auth_views.iter().map(|v| v.value.clone()).collect(),
        })
    }

    fn languages(
        &mut self,
        file: usize,
        def: &ast::LanguagesDef,
        ok: &mut bool,
    ) -> Option<Languages> {
        let mut seen: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
        for tag in &def.supported {
            let valid = !tag.value.is_empty()
                && tag.value.split('-').all(|part| {
                    !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric())
                });
            if !valid {
                let span = self.span(file, tag);
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        span,
                        format!("invalid language tag `{}`", tag.value),
                    )
                    .label("not a language tag")
                    .help("write a BCP 47 tag such as `pt-BR`"),
                );
                *ok = false;
            }
            if let Some(first) = seen.get(&tag.value.to_lowercase()) {
                let first_span = self.span(file, first);
                let span = self.span(file, tag);
                self.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        span,
                        format!("language `{}` is listed twice", tag.value),
                    )
                    .label("listed again here")
                    .secondary(first_span, "first listed here"),
                );
                *ok = false;
            } else {
                seen.insert(tag.value.to_lowercase(), tag);
            }
        }
        if !seen.contains_key(&def.default.value.to_lowercase()) {
            let span = self.span(file, &def.default);
            let tags = def.supported.iter().map(|t| t.value.as_str());
            self.push(
                Diagnostic::new(
                    Code::UnknownLanguage,
                    span,
                    format!(
                        "the default language `{}` is not supported",
                        def.default.value
                    ),
                )
                .label("not in `supported`")
                .help(
                    suggest::help(&def.default.value, tags)
                        .unwrap_or_else(|| "add it to `supported`".to_owned()),
                ),
            );
            *ok = false;
        }
        Some(Languages {
            default: def.default.value.clone(),
            debug: def.debug.as_ref().map(|d| d.value.clone()),
            supported: def.supported.iter().map(|t| t.value.clone()).collect(),
        })
    }
}

fn unknown(value: Option<ast::UnknownKeys>) -> UnknownKeys {
    match value {
        None | Some(ast::UnknownKeys::Strip) => UnknownKeys::Strip,
        Some(ast::UnknownKeys::Reject) => UnknownKeys::Reject,
        Some(ast::UnknownKeys::Keep) => UnknownKeys::Keep,
    }
}

fn type_name(ty: ast::FieldType) -> &'static str {
    match ty {
        ast::FieldType::String => "string",
        ast::FieldType::Uri => "uri",
        ast::FieldType::Integer => "integer",
        ast::FieldType::Number => "number",
        ast::FieldType::Boolean => "boolean",
        ast::FieldType::Object => "object",
        ast::FieldType::Array => "array",
    }
}

/// Whether `path` (`a`, `a.b`, `a[].b`) is declared with type `ty`; else why not.
fn declared(body: &ast::Map<ast::FieldDef>, path: &str, ty: ast::FieldType) -> Result<(), String> {
    let mut fields = Some(body);
    let mut def: Option<&ast::FieldDef> = None;
    for part in path.split('.') {
        let (name, item) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        let Some(found) = fields.and_then(|f| f.iter().find(|(k, _)| k.value == name)) else {
            return Err("the body does not declare it".to_owned());
        };
        let mut current = &found.1;
        if item {
            match &current.items {
                Some(items) => current = &items.value,
                None => return Err(format!("`{name}` is not an array")),
            }
        }
        fields = current.fields.as_ref();
        def = Some(current);
    }
    match def {
        Some(def) if def.ty.value == ty => Ok(()),
        Some(def) => Err(format!("it is declared as `{}`", type_name(def.ty.value))),
        None => Err("the body does not declare it".to_owned()),
    }
}
