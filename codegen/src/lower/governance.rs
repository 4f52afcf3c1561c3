//! Governance: defaults merged under each definition's own owners, bugs, reviews and expiry.

use super::*;

impl<'a> Lower<'a, '_> {
    pub(super) fn defaults(&mut self) -> Governance {
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
                // Once here, rather than once for every definition that inherits it.
                if let Some(reason) = self.expired(merged.expires) {
                    let span = self.span(index, expires);
                    // Not a lint that `allow:` silences: the defaults have none.
                    self.push(
                        Diagnostic::new(
                            Code::Expired,
                            span,
                            format!("the default `expires` {reason}"),
                        )
                        .label("every event and family without its own `expires` has expired")
                        .help(
                            "renew the default after a new data review, or remove what is no \
                             longer collected",
                        ),
                    );
                }
            }
        }
        merged
    }

    /// Why `expires` has passed, if it has: a date before today or a version at most the
    /// current one.
    fn expired(&self, expires: Option<Expiry>) -> Option<String> {
        match expires {
            Some(Expiry::Date(date)) => (date <= self.options.today)
                .then(|| format!("expired on {date} (today is {})", self.options.today)),
            Some(Expiry::Version(version)) => self
                .options
                .current_version
                .filter(|&current| version <= current)
                .map(|current| format!("expired with version {version} (current is {current})")),
            _ => None,
        }
    }

    pub(super) fn expiry(&mut self, file: usize, text: &Spanned<String>) -> Option<Expiry> {
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
    pub(super) fn governance(
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
                .help("set them on the definition or in the file's `defaults:`")
                .allowed_at(format!("on the {what}")),
            );
        }
        // An inherited expiry is reported once, at the defaults.
        let expired = fields
            .expires
            .and_then(|_| self.expired(governance.expires));
        if let Some(reason) = expired {
            self.lint(
                allow,
                Diagnostic::new(
                    Code::Expired,
                    span,
                    format!("{what} `{}` {reason}", key.value),
                )
                .label("expired")
                .help("remove it, or renew `expires` after a new data review")
                .allowed_at(format!("on the {what}")),
            );
        }
        governance
    }

    /// `not_flow_for_services` only makes sense on a flow event.
    pub(super) fn not_flow_for_services(
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
}

pub(super) struct GovernanceFields<'a> {
    pub(super) owners: Option<&'a Vec<Spanned<String>>>,
    pub(super) bugs: Option<&'a Vec<Spanned<String>>>,
    pub(super) data_reviews: Option<&'a Vec<Spanned<String>>>,
    pub(super) expires: Option<&'a Spanned<String>>,
    pub(super) version: Option<&'a Spanned<u32>>,
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
