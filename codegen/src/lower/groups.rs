//! Amplitude groups and lookup tables, and the group expressions that name them.

use std::collections::BTreeMap;
use std::ops::Range;

use super::*;

impl<'a> Lower<'a, '_> {
    /// Tables, sorted by name, into `ctx`.
    pub(super) fn tables(
        &mut self,
        table_defs: &BTreeMap<String, Def<'a, ast::TableDef>>,
        ctx: &mut Amp<'_>,
    ) {
        let groups = ctx.groups;
        // Tables, sorted by name; `groups` is reserved for the lookup by group key.
        for (name, def) in table_defs {
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
                            self.unknown_group(def.file, v, &v.value, v.range.len(), groups);
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
    }

    /// Each group's event properties, by group key.
    pub(super) fn group_properties(
        &mut self,
        group_defs: &BTreeMap<String, Def<'a, ast::GroupDef>>,
        ctx: &mut Amp<'_>,
    ) -> BTreeMap<String, GroupProperties> {
        // Group event properties.
        let mut group_properties = BTreeMap::new();
        for (key, def) in group_defs {
            if let Some(props) = &def.def.event_properties {
                let when = self.conds(def.file, &props.when, Scope::Group, ctx);
                let mut set = Vec::new();
                for (name, value) in props.set.iter() {
                    match expr::parse_set(&value.value) {
                        Err(err) => self.expr_error(def.file, value, err),
                        Ok(parsed) => {
                            let v = self.value(def.file, value, &parsed.value, Scope::Group, ctx);
                            let cond = match &parsed.cond {
                                None => Some(None),
                                Some(c) => {
                                    self.cond(def.file, value, c, Scope::Group, ctx).map(Some)
                                }
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
        group_properties
    }

    pub(super) fn unknown_group(
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

    pub(super) fn group_expr(
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

    pub(super) fn table(
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
}

/// Groups by key; their event properties come later, once tables are known.
pub(super) fn groups<'a>(
    group_defs: &BTreeMap<String, Def<'a, ast::GroupDef>>,
) -> BTreeMap<String, Group> {
    let mut groups = BTreeMap::new();
    for (key, def) in group_defs {
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
    groups
}
