//! The event layout and the per-service policy.

use super::*;

impl<'a> Lower<'a, '_> {
    pub(super) fn source(&mut self, file: usize, scalar: &Spanned<String>) -> Option<Source> {
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
                    ("snake_case_items", _, Some(key)) => Some(Source::SnakeCaseItems(key)),
                    _ => None,
                };
                if result.is_none() {
                    let (message, help) = if FUNCTIONS.contains(&name.as_str()) {
                        let signature = match name.as_str() {
                            "experiments" | "non_empty" | "snake_case_items" => {
                                format!("{name}(data.<key>)")
                            }
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

    pub(super) fn fields(&mut self, file: usize, map: &ast::Map<Spanned<String>>) -> Vec<Field> {
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

    pub(super) fn layout(
        &mut self,
        file: usize,
        def: &ast::LayoutDef,
        _ctx: &mut Amp<'_>,
    ) -> Layout {
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
            user_properties_last: self.fields(file, &def.user_properties_last),
        }
    }

    pub(super) fn policy(&mut self, file: usize, def: &ast::PolicyDef) -> Policy {
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
            require_user_or_device: def
                .require
                .as_ref()
                .is_some_and(|r| r.value == ast::RequirePolicy::UserOrDevice),
            rewrites,
        }
    }
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
