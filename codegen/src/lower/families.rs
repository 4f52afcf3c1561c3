//! Event families: name templates and their typed parameters, and Rust type collisions.

use std::collections::BTreeMap;

use super::governance::GovernanceFields;
use super::*;

impl<'a> Lower<'a, '_> {
    pub(super) fn family(
        &mut self,
        def: &Def<'a, ast::FamilyDef>,
        defaults: &Governance,
        shared: &BTreeMap<String, Property>,
    ) -> Option<Family> {
        let (file, key, f) = (def.file, def.key, def.def);
        self.check_allow(file, &f.allow, LintSite::Definition, true);
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
            amplitude: None,
            example: EventExample::default(),
            example_values: Vec::new(),
            value_examples: Vec::new(),
        })
    }

    pub(super) fn type_collisions(
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

    /// Two properties whose constraints differ but whose value types in generated code would
    /// have one name (`values::Format` for `format` of two events): an error naming both,
    /// never a rename that depends on declaration order.
    pub(super) fn value_type_collisions(
        &mut self,
        event_defs: &BTreeMap<String, Def<'a, ast::EventDef>>,
        family_defs: &BTreeMap<String, Def<'a, ast::FamilyDef>>,
        events: &BTreeMap<String, Event>,
        families: &BTreeMap<String, Family>,
    ) {
        // The order of `Service::value_type_order`, which names the types.
        let mut properties: Vec<Owned<'_, 'a>> = Vec::new();
        // A property's own key, or (never expected) its event's or family's.
        let find = |file: usize,
                    owner: &'a Spanned<String>,
                    map: &'a ast::Map<ast::PropertyDef>,
                    name: &str| {
            let key = map
                .iter()
                .find(|(k, _)| k.value == name)
                .map_or(owner, |(k, _)| k);
            (file, key)
        };
        for (name, event) in events {
            let def = event_defs.get(name);
            for p in &event.properties {
                let at = def.map(|d| find(d.file, d.key, &d.def.properties, &p.name));
                properties.push((p, name, at));
            }
        }
        for (id, family) in families {
            let def = family_defs.get(id);
            for p in &family.parameters {
                let at = def.map(|d| find(d.file, d.key, &d.def.parameters, &p.name));
                properties.push((p, id, at));
            }
            for p in &family.properties {
                let at = def.map(|d| find(d.file, d.key, &d.def.properties, &p.name));
                properties.push((p, id, at));
            }
        }
        let mut keys = std::collections::BTreeSet::new();
        let mut names: BTreeMap<String, Owned<'_, 'a>> = BTreeMap::new();
        for (p, owner, at) in properties {
            let Some(key) = p.ty.value_key() else {
                continue;
            };
            if !keys.insert(key) {
                continue;
            }
            let name = ident::value_type_name(&p.rust_name);
            // A text type also defines `<name>Rule`, its constraints.
            let mut taken = vec![name.clone()];
            if matches!(key, ValueKey::Text(..)) {
                taken.push(format!("{name}Rule"));
            }
            // One report per property: its first name that is taken.
            let clash = taken
                .iter()
                .find_map(|n| names.get(n).map(|&first| (n.clone(), first)));
            if let Some((type_name, (first, first_owner, first_at))) = clash {
                // Every lowered event and family came from its definitions, so both are known.
                if let (Some((file, key_span)), Some((first_file, first_key))) = (at, first_at) {
                    let span = self.span(file, key_span);
                    let first_span = self.span(first_file, first_key);
                    self.push(
                        Diagnostic::new(
                            Code::IdentCollision,
                            span,
                            format!(
                                "`{}` of `{owner}` and `{}` of `{first_owner}` both need the \
                                 Rust type `values::{type_name}`, with different constraints",
                                p.name, first.name
                            ),
                        )
                        .label("this property")
                        .secondary(first_span, "collides with this one")
                        .help(
                            "give both the same constraints (a shared property under \
                             `properties:` does), or rename one of them",
                        ),
                    );
                }
            } else {
                for type_name in taken {
                    names.insert(type_name, (p, owner, at));
                }
            }
        }
    }
}

/// A property, the event or family that has it, and its key (file and span), when known.
type Owned<'m, 'a> = (&'m Property, &'m str, Option<(usize, &'a Spanned<String>)>);
