//! The Rust backend: one module per service.
//!
//! The module holds:
//! - `SERVICE` and `mapping()`: the Amplitude mapping as a `MappingSpec` literal compiled once
//!   into the runtime's `Mapping` (exact names in a hash map, every rule in one `RegexSet`);
//! - one struct per event and per family, implementing `metricsmith::types::Event`;
//! - `values`: one type per distinct enum or constrained string, shared by every event that
//!   uses it.
//!
//! Per-event code is a struct, two consts and a `write_data` with one call per property: every
//! piece of shared logic is a generic function of the runtime, so the compile cost per event
//! stays small.

use std::collections::BTreeMap;

use heck::{ToShoutySnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{
    Amplitude, Capture, Cond, Event, Family, Field, FlowKind, GroupExpr, Kinds, Layout, Part,
    Property, PropertyRule, PropertyType, RewritePart, Service, Source, Target, TemplatePart,
    Value,
};

/// The Rust module of `service`: what `include!` or the `schema!` macro expands to.
///
/// The items carry no inner attributes, so the result can be `include!`d inside a `mod`.
pub fn emit_service(service: &Service) -> TokenStream {
    let parts = ServiceParts::new(service, usize::MAX);
    (0..parts.len()).map(|i| parts.emit(i)).collect()
}

/// The module of [`emit_service`] in consecutive parts of whole items, at most a given number
/// of events or families per part.
///
/// The driver parses and prints each part on its own, on several threads, so the syntax tree of
/// the whole module never exists at once.
#[derive(Debug)]
pub struct ServiceParts<'a> {
    service: &'a Service,
    types: ValueTypes,
    events: Vec<&'a Event>,
    families: Vec<&'a Family>,
    per_part: usize,
}

impl<'a> ServiceParts<'a> {
    /// The parts of `service`, with at most `per_part` events or families each.
    pub fn new(service: &'a Service, per_part: usize) -> Self {
        Self {
            service,
            types: ValueTypes::collect(service),
            events: service.events.values().collect(),
            families: service.families.values().collect(),
            per_part: per_part.max(1),
        }
    }

    /// The number of parts.
    pub fn len(&self) -> usize {
        2 + self.events.len().div_ceil(self.per_part) + self.families.len().div_ceil(self.per_part)
    }

    /// Whether there are no parts (never: the service name and mapping are one).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The items of part `i`, in `0..len()`; empty past the end.
    pub fn emit(&self, i: usize) -> TokenStream {
        let event_parts = self.events.len().div_ceil(self.per_part);
        let family_parts = self.families.len().div_ceil(self.per_part);
        let chunk = |k: usize, len: usize| k * self.per_part..((k + 1) * self.per_part).min(len);
        if i == 0 {
            let name = &self.service.name;
            let mapping = emit_mapping(self.service);
            quote! {
                /// The service name.
                pub const SERVICE: &str = #name;

                #mapping
            }
        } else if i <= event_parts {
            self.events[chunk(i - 1, self.events.len())]
                .iter()
                .map(|e| emit_event(e, &self.types))
                .collect()
        } else if i <= event_parts + family_parts {
            self.families[chunk(i - 1 - event_parts, self.families.len())]
                .iter()
                .map(|f| emit_family(f, &self.types))
                .collect()
        } else if i == event_parts + family_parts + 1 {
            self.types.emit()
        } else {
            TokenStream::new()
        }
    }
}

/// An identifier, raw when the model gave `r#name`.
pub(crate) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

fn doc(text: &str) -> TokenStream {
    let lines = text
        .trim()
        .lines()
        .map(|line| format!(" {}", line.trim_end()));
    quote! { #(#[doc = #lines])* }
}

// ---- value types ----------------------------------------------------------------------------

/// The shared value types of a service: one per distinct constraint, named after the first
/// property that uses it.
#[derive(Debug)]
pub(crate) struct ValueTypes {
    texts: BTreeMap<(String, Option<u64>), String>,
    enums: BTreeMap<Vec<(String, String)>, String>,
    names: BTreeMap<String, ()>,
    /// In declaration order.
    order: Vec<ValueType>,
}

#[derive(Debug)]
enum ValueType {
    Text {
        name: String,
        pattern: Option<String>,
        max_length: Option<u64>,
        description: String,
    },
    Enum {
        name: String,
        values: Vec<(String, String)>,
        description: String,
    },
}

fn text_key(ty: &PropertyType) -> Option<(String, Option<u64>)> {
    match ty {
        PropertyType::String {
            pattern,
            max_length,
        } if pattern.is_some() || max_length.is_some() => Some((
            pattern.as_ref().map(|p| p.rust.clone()).unwrap_or_default(),
            *max_length,
        )),
        _ => None,
    }
}

fn enum_key(ty: &PropertyType) -> Option<Vec<(String, String)>> {
    match ty {
        PropertyType::Enum { values } => Some(
            values
                .iter()
                .map(|v| (v.value.clone(), v.rust_name.clone()))
                .collect(),
        ),
        _ => None,
    }
}

impl ValueTypes {
    pub(crate) fn collect(service: &Service) -> Self {
        let mut types = ValueTypes {
            texts: BTreeMap::new(),
            enums: BTreeMap::new(),
            names: BTreeMap::new(),
            order: Vec::new(),
        };
        let properties = service.events.values().flat_map(|e| &e.properties).chain(
            service
                .families
                .values()
                .flat_map(|f| f.parameters.iter().chain(&f.properties)),
        );
        for property in properties {
            types.add(&property.rust_name, &property.ty);
        }
        types
    }

    fn fresh_name(&mut self, base: &str) -> String {
        let base = base.trim_start_matches("r#").to_upper_camel_case();
        let mut name = base.clone();
        let mut n = 2;
        while self.names.contains_key(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.names.insert(name.clone(), ());
        name
    }

    fn add(&mut self, base: &str, ty: &PropertyType) {
        if let PropertyType::List { items } = ty {
            return self.add(base, items);
        }
        if let Some(key) = text_key(ty)
            && !self.texts.contains_key(&key)
        {
            let name = self.fresh_name(base);
            let (pattern, max_length) = key.clone();
            let pattern = (!pattern.is_empty()).then_some(pattern);
            let mut description = format!("A `{base}` value");
            if let Some(max) = max_length {
                description.push_str(&format!(" of at most {max} characters"));
            }
            if let Some(p) = &pattern {
                description.push_str(&format!(" matching `{p}`"));
            }
            description.push('.');
            self.order.push(ValueType::Text {
                name: name.clone(),
                pattern,
                max_length,
                description,
            });
            self.texts.insert(key, name);
        }
        if let Some(key) = enum_key(ty)
            && !self.enums.contains_key(&key)
        {
            let name = self.fresh_name(base);
            self.order.push(ValueType::Enum {
                name: name.clone(),
                values: key.clone(),
                description: format!("The values of `{base}`."),
            });
            self.enums.insert(key, name);
        }
    }

    /// The Rust type of a value of `ty` (not wrapped in `Option`).
    pub(crate) fn rust_type(&self, ty: &PropertyType) -> TokenStream {
        match ty {
            PropertyType::String { .. } | PropertyType::Enum { .. } => {
                let name = text_key(ty)
                    .and_then(|k| self.texts.get(&k))
                    .or_else(|| enum_key(ty).and_then(|k| self.enums.get(&k)));
                match name {
                    Some(name) => {
                        let name = format_ident!("{}", name);
                        quote!(values::#name)
                    }
                    None => quote!(::std::string::String),
                }
            }
            PropertyType::Hex { length } => {
                let n = Literal::usize_unsuffixed(length.unwrap_or(0) as usize);
                quote!(::metricsmith::types::Hex<#n>)
            }
            PropertyType::Integer {
                min: None,
                max: None,
            } => quote!(i64),
            PropertyType::Integer { min, max } => {
                let min = int_lit(min.unwrap_or(i64::MIN));
                let max = int_lit(max.unwrap_or(i64::MAX));
                quote!(::metricsmith::types::Int<#min, #max>)
            }
            PropertyType::Boolean => quote!(bool),
            PropertyType::List { items } => {
                let item = self.rust_type(items);
                quote!(::std::vec::Vec<#item>)
            }
        }
    }

    /// The field type of a property.
    pub(crate) fn field_type(&self, property: &Property) -> TokenStream {
        let ty = self.rust_type(&property.ty);
        if property.required {
            ty
        } else {
            quote!(::std::option::Option<#ty>)
        }
    }

    fn emit(&self) -> TokenStream {
        if self.order.is_empty() {
            return TokenStream::new();
        }
        let items = self.order.iter().map(|ty| match ty {
            ValueType::Text {
                name,
                pattern,
                max_length,
                description,
            } => {
                let doc = doc(description);
                let ty = format_ident!("{}", name);
                let rule = format_ident!("{}Rule", name);
                let rule_doc = format!(" The constraints of [`{name}`].");
                let max = match max_length {
                    Some(n) => {
                        let n = Literal::usize_unsuffixed(*n as usize);
                        quote!(::core::option::Option::Some(#n))
                    }
                    None => quote!(::core::option::Option::None),
                };
                let (pattern_static, pattern_ref) = match pattern {
                    Some(p) => {
                        let id = format_ident!("{}_PATTERN", name.to_shouty_snake_case());
                        (
                            quote! {
                                static #id: ::metricsmith::types::LazyRegex =
                                    ::metricsmith::types::LazyRegex::new(#p);
                            },
                            quote!(::core::option::Option::Some(&#id)),
                        )
                    }
                    None => (TokenStream::new(), quote!(::core::option::Option::None)),
                };
                quote! {
                    #doc
                    pub type #ty = ::metricsmith::types::Text<#rule>;
                    #[doc = #rule_doc]
                    #[derive(Debug)]
                    pub enum #rule {}
                    #pattern_static
                    impl ::metricsmith::types::TextRule for #rule {
                        const MAX_LENGTH: ::core::option::Option<usize> = #max;
                        const PATTERN: ::core::option::Option<&'static ::metricsmith::types::LazyRegex> = #pattern_ref;
                    }
                }
            }
            ValueType::Enum {
                name,
                values,
                description,
            } => {
                let doc = doc(description);
                let ty = format_ident!("{}", name);
                let variants: Vec<Ident> = values.iter().map(|(_, v)| ident(v)).collect();
                let strings: Vec<&String> = values.iter().map(|(s, _)| s).collect();
                let variant_docs = values.iter().map(|(s, _)| format!(" `{s}`"));
                let strings2 = &strings;
                quote! {
                    #doc
                    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
                    pub enum #ty {
                        #(#[doc = #variant_docs] #variants,)*
                    }
                    impl #ty {
                        /// Every value, in declared order.
                        pub const ALL: &'static [Self] = &[#(Self::#variants),*];
                        /// The value as it appears in event data.
                        pub const fn as_str(self) -> &'static str {
                            match self { #(Self::#variants => #strings2,)* }
                        }
                    }
                    impl ::core::str::FromStr for #ty {
                        type Err = ::metricsmith::types::InvalidValue;
                        fn from_str(value: &str) -> ::core::result::Result<Self, Self::Err> {
                            match value {
                                #(#strings2 => ::core::result::Result::Ok(Self::#variants),)*
                                _ => ::core::result::Result::Err(::metricsmith::types::InvalidValue::Enum {
                                    expected: &[#(#strings2),*],
                                    value: value.into(),
                                }),
                            }
                        }
                    }
                    impl ::core::fmt::Display for #ty {
                        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                            f.write_str(self.as_str())
                        }
                    }
                    impl ::metricsmith::types::ToJson for #ty {
                        fn to_json(&self) -> ::core::option::Option<::metricsmith::__private::serde_json::Value> {
                            ::core::option::Option::Some(self.as_str().into())
                        }
                    }
                }
            }
        });
        quote! {
            /// Value types shared by the events of this service.
            pub mod values {
                #(#items)*
            }
        }
    }
}

fn int_lit(n: i64) -> TokenStream {
    if n == i64::MIN {
        quote!({ i64::MIN })
    } else if n == i64::MAX {
        quote!({ i64::MAX })
    } else if n < 0 {
        let lit = Literal::i64_unsuffixed(n.unsigned_abs() as i64);
        quote!({ -#lit })
    } else {
        let lit = Literal::i64_unsuffixed(n);
        quote!(#lit)
    }
}

// ---- events ---------------------------------------------------------------------------------

fn kinds_tokens(kinds: &Kinds, not_flow_for_services: &[String]) -> TokenStream {
    // emailEvent lines are written by the mailer integration, not by the emitter.
    let Kinds { activity, flow, .. } = kinds;
    let named = match (activity, flow) {
        (true, FlowKind::None) => Some(quote!(ACTIVITY)),
        (false, FlowKind::Required) => Some(quote!(FLOW)),
        (true, FlowKind::Required) => Some(quote!(HYBRID)),
        (true, FlowKind::Optional) => Some(quote!(HYBRID_OPTIONAL)),
        (false, FlowKind::None) => Option::None,
        (false, FlowKind::Optional) => Option::None,
    };
    if let Some(named) = named.filter(|_| not_flow_for_services.is_empty()) {
        return quote!(::metricsmith::emit::EventKinds::#named);
    }
    let flow = match flow {
        FlowKind::Required => quote!(Required),
        FlowKind::Optional => quote!(Optional),
        FlowKind::None => quote!(None),
    };
    quote! {
        ::metricsmith::emit::EventKinds {
            activity: #activity,
            flow: ::metricsmith::emit::FlowKind::#flow,
            not_flow_for_services: &[#(#not_flow_for_services),*],
        }
    }
}

fn logger_tokens(logger: &Option<String>) -> TokenStream {
    match logger {
        Some(l) => quote!(::core::option::Option::Some(#l)),
        None => quote!(::core::option::Option::None),
    }
}

fn field_defs<'a>(
    properties: impl Iterator<Item = &'a Property>,
    types: &ValueTypes,
) -> Vec<TokenStream> {
    properties
        .map(|p| {
            let doc = doc(p.description.as_deref().unwrap_or(&p.name));
            let name = ident(&p.rust_name);
            let ty = types.field_type(p);
            quote!(#doc pub #name: #ty,)
        })
        .collect()
}

fn puts<'a>(properties: impl Iterator<Item = &'a Property>) -> Vec<TokenStream> {
    properties
        .map(|p| {
            let key = &p.name;
            let name = ident(&p.rust_name);
            quote!(::metricsmith::types::put(data, #key, &self.#name);)
        })
        .collect()
}

fn write_data(puts: &[TokenStream]) -> TokenStream {
    // The trait's default writes nothing.
    if puts.is_empty() {
        return TokenStream::new();
    }
    quote! {
        fn write_data(&self, data: &mut ::metricsmith::types::Data) {
            #(#puts)*
        }
    }
}

fn event_doc(description: &str, name: &str) -> TokenStream {
    doc(&format!("`{name}`: {}", description.trim()))
}

fn emit_event(event: &Event, types: &ValueTypes) -> TokenStream {
    let doc = event_doc(&event.description, &event.name);
    let ty = ident(&event.rust_name);
    let name = &event.name;
    let kinds = kinds_tokens(&event.kinds, &event.not_flow_for_services);
    let logger = logger_tokens(&event.logger);
    let fields = field_defs(event.properties.iter(), types);
    let write = write_data(&puts(event.properties.iter()));
    let def = if fields.is_empty() {
        quote! {
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
            pub struct #ty;
        }
    } else {
        // Only Debug and Clone: every derive is code per event (compile cost).
        quote! {
            #[derive(Debug, Clone)]
            pub struct #ty { #(#fields)* }
        }
    };
    quote! {
        #doc
        #def
        impl #ty {
            /// The event name.
            pub const NAME: &'static str = #name;
        }
        impl ::metricsmith::types::Event for #ty {
            const KINDS: ::metricsmith::emit::EventKinds = #kinds;
            const LOGGER: ::core::option::Option<&'static str> = #logger;
            fn name(&self) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed(Self::NAME)
            }
            #write
        }
    }
}

/// The `format!` string of a family's name template.
fn format_string(parts: &[TemplatePart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            TemplatePart::Text(t) => t.replace('{', "{{").replace('}', "}}"),
            TemplatePart::Parameter(_) => "{}".to_owned(),
        })
        .collect()
}

/// Whether constructing a value of `ty` from its argument can fail.
pub(crate) fn validated(ty: &PropertyType) -> bool {
    match ty {
        PropertyType::String { .. } => text_key(ty).is_some(),
        PropertyType::Hex { .. } => true,
        PropertyType::Integer { min, max } => min.is_some() || max.is_some(),
        PropertyType::Boolean | PropertyType::Enum { .. } => false,
        PropertyType::List { .. } => false,
    }
}

/// The constructor argument type of a family parameter and how it becomes the field value
/// (empty when the argument is the value).
fn parameter_arg(p: &Property, types: &ValueTypes) -> (TokenStream, TokenStream) {
    let name = ident(&p.rust_name);
    match &p.ty {
        ty @ (PropertyType::String { .. } | PropertyType::Hex { .. }) if validated(ty) => {
            let ty = types.rust_type(ty);
            (quote!(&str), quote!(<#ty>::new(#name)?))
        }
        PropertyType::String { .. } => (quote!(&str), quote!(::std::string::String::from(#name))),
        ty @ PropertyType::Integer { .. } if validated(ty) => {
            let ty = types.rust_type(ty);
            (quote!(i64), quote!(<#ty>::new(#name)?))
        }
        ty => (types.rust_type(ty), TokenStream::new()),
    }
}

fn emit_family(family: &Family, types: &ValueTypes) -> TokenStream {
    let family_doc = event_doc(&family.description, &family.name);
    let ty = ident(&family.rust_name);
    let template = &family.name;
    let kinds = kinds_tokens(&family.kinds, &[]);
    let logger = logger_tokens(&family.logger);
    let fields = field_defs(family.parameters.iter().chain(&family.properties), types);
    let write = write_data(&puts(family.properties.iter()));
    let format = format_string(&family.name_template);
    let rendered = family.name_template.iter().filter_map(|p| match p {
        TemplatePart::Parameter(name) => family
            .parameters
            .iter()
            .find(|q| &q.name == name)
            .map(|q| ident(&q.rust_name)),
        TemplatePart::Text(_) => None,
    });

    let fallible = family.parameters.iter().any(|p| validated(&p.ty));
    let mut args = Vec::new();
    let mut inits = Vec::new();
    for p in &family.parameters {
        let name = ident(&p.rust_name);
        let (arg, init) = parameter_arg(p, types);
        args.push(quote!(#name: #arg));
        if init.is_empty() {
            inits.push(quote!(#name));
        } else {
            inits.push(quote!(#name: #init));
        }
    }
    for p in &family.properties {
        let name = ident(&p.rust_name);
        let ty = types.field_type(p);
        args.push(quote!(#name: #ty));
        inits.push(quote!(#name));
    }
    let example = family.name.clone();
    let new_doc = if fallible {
        doc(&format!(
            "The `{example}` event of these parameters.\n\n# Errors\nA parameter that does not satisfy its type."
        ))
    } else {
        doc(&format!("The `{example}` event of these parameters."))
    };
    // Clippy's default limit is seven.
    let allow = if args.len() > 7 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        TokenStream::new()
    };
    let constructor = if fallible {
        quote! {
            #new_doc
            #allow
            pub fn new(#(#args),*) -> ::core::result::Result<Self, ::metricsmith::types::InvalidValue> {
                ::core::result::Result::Ok(Self { #(#inits),* })
            }
        }
    } else {
        quote! {
            #new_doc
            #allow
            pub fn new(#(#args),*) -> Self {
                Self { #(#inits),* }
            }
        }
    };
    quote! {
        #family_doc
        #[derive(Debug, Clone)]
        pub struct #ty { #(#fields)* }
        impl #ty {
            /// The name template.
            pub const TEMPLATE: &'static str = #template;
            #constructor
        }
        impl ::metricsmith::types::Event for #ty {
            const KINDS: ::metricsmith::emit::EventKinds = #kinds;
            const LOGGER: ::core::option::Option<&'static str> = #logger;
            fn name(&self) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Owned(::std::format!(#format, #(self.#rendered),*))
            }
            #write
        }
    }
}

// ---- the mapping ----------------------------------------------------------------------------

fn emit_mapping(service: &Service) -> TokenStream {
    let spec = spec_literal(service);
    let doc = format!(
        " The Amplitude mapping of `{}`, compiled on first use and kept for the life of the process.",
        service.name
    );
    quote! {
        static MAPPING: ::std::sync::LazyLock<::std::sync::Arc<::metricsmith::amplitude::Mapping>> =
            ::std::sync::LazyLock::new(|| {
                // Cannot fail: the metricsmith compiler compiled every rule pattern with the
                // same `regex` crate and resolved every table id before writing this spec.
                ::std::sync::Arc::new(
                    ::metricsmith::amplitude::Mapping::new(spec())
                        .expect("metricsmith validated this mapping"),
                )
            });

        #[doc = #doc]
        pub fn mapping() -> &'static ::metricsmith::amplitude::Mapping {
            &MAPPING
        }

        /// [`mapping`] as a transform for `metricsmith::emit::Emitter`.
        pub fn transform(
            oauth_clients: ::metricsmith::amplitude::OauthClients,
            app_version: ::core::option::Option<::std::string::String>,
        ) -> ::metricsmith::emit::MappingTransform {
            ::metricsmith::emit::MappingTransform {
                mapping: ::std::sync::Arc::clone(&MAPPING),
                oauth_clients,
                app_version,
            }
        }

        /// The data of [`mapping`].
        pub fn spec() -> ::metricsmith::amplitude::MappingSpec {
            use ::metricsmith::amplitude::*;
            #spec
        }
    }
}

fn s(text: &str) -> TokenStream {
    quote!(String::from(#text))
}

fn list(items: impl IntoIterator<Item = TokenStream>) -> TokenStream {
    let items: Vec<TokenStream> = items.into_iter().collect();
    if items.is_empty() {
        quote!(Vec::new())
    } else {
        quote!(vec![#(#items),*])
    }
}

fn pairs(pairs: &[(String, String)]) -> TokenStream {
    if pairs.is_empty() {
        return quote!(Vec::new());
    }
    let keys = pairs.iter().map(|(k, _)| k);
    let values = pairs.iter().map(|(_, v)| v);
    quote!(::metricsmith::types::pairs(&[#((#keys, #values)),*]))
}

fn capture(c: Capture) -> TokenStream {
    match c {
        Capture::Category => quote!(Capture::Category),
        Capture::Target => quote!(Capture::Target),
    }
}

fn value(v: &Value) -> TokenStream {
    match v {
        Value::Literal(t) => {
            let t = s(t);
            quote!(Value::Literal(#t))
        }
        Value::Capture(c) => {
            let c = capture(*c);
            quote!(Value::Capture(#c))
        }
        Value::Data(k) => {
            let k = s(k);
            quote!(Value::Data(#k))
        }
        Value::Lookup { table, key } => {
            let t = table.0;
            let key = capture(*key);
            quote!(Value::Lookup { table: TableId(#t), key: #key })
        }
        Value::LookupData { table, key } => {
            let t = table.0;
            let key = s(key);
            quote!(Value::LookupData { table: TableId(#t), key: #key })
        }
    }
}

fn cond(c: &Cond) -> TokenStream {
    match c {
        Cond::Truthy(v) => {
            let v = value(v);
            quote!(Cond::Truthy(#v))
        }
        Cond::EventIs(e) => {
            let e = s(e);
            quote!(Cond::EventIs(#e))
        }
    }
}

/// The group prefix and event name of a target that is only those.
fn simple_target(t: &Target) -> Option<(&str, &str)> {
    match (
        &t.group,
        t.event.as_slice(),
        t.when.as_slice(),
        t.time_offset,
    ) {
        (GroupExpr::Fixed(group), [Part::Text(event)], [], None) => Some((group, event)),
        _ => None,
    }
}

fn target(t: &Target) -> TokenStream {
    // The common case (a fixed group, a literal name, nothing else) goes through one helper.
    if let Some((group, event)) = simple_target(t) {
        return quote!(::metricsmith::amplitude::Target::fixed(#group, #event));
    }
    let group = match &t.group {
        GroupExpr::Fixed(prefix) => {
            let prefix = s(prefix);
            quote!(GroupExpr::Fixed(#prefix))
        }
        GroupExpr::Lookup { table, key } => {
            let t = table.0;
            let key = capture(*key);
            quote!(GroupExpr::Lookup { table: TableId(#t), key: #key })
        }
    };
    let event = list(t.event.iter().map(|p| match p {
        Part::Text(text) => {
            let text = s(text);
            quote!(Part::Text(#text))
        }
        Part::Capture(c) => {
            let c = capture(*c);
            quote!(Part::Capture(#c))
        }
    }));
    let when = list(t.when.iter().map(cond));
    let offset = match t.time_offset {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    };
    quote!(Target { group: #group, event: #event, when: #when, time_offset: #offset })
}

fn field(f: &Field) -> TokenStream {
    let name = s(&f.name);
    let source = match &f.source {
        Source::Data(k) => {
            let k = s(k);
            quote!(Source::Data(#k))
        }
        Source::AppVersion => quote!(Source::AppVersion),
        Source::ServiceName => quote!(Source::ServiceName),
        Source::OauthClientId => quote!(Source::OauthClientId),
        Source::Experiments(k) => {
            let k = s(k);
            quote!(Source::Experiments(#k))
        }
        Source::NonEmptyArray(k) => {
            let k = s(k);
            quote!(Source::NonEmptyArray(#k))
        }
        Source::Literal(t) => {
            let t = s(t);
            quote!(Source::Literal(#t))
        }
    };
    quote!(Field { name: #name, source: #source })
}

fn fields(fs: &[Field]) -> TokenStream {
    list(fs.iter().map(field))
}

fn strings(items: &[String]) -> TokenStream {
    list(items.iter().map(|i| s(i)))
}

fn layout(layout: &Option<Layout>) -> TokenStream {
    let Some(l) = layout else {
        return quote!(Layout::default());
    };
    let f = fields(&l.fields);
    let service = match &l.service {
        Some(r) => {
            let data = s(&r.data);
            let ignore = strings(&r.ignore);
            let passthrough = strings(&r.passthrough);
            let unknown = s(&r.unknown);
            quote!(Some(ServiceRule { data: #data, ignore: #ignore, passthrough: #passthrough, unknown: #unknown }))
        }
        None => quote!(None),
    };
    let event_properties = fields(&l.event_properties);
    let user_properties = fields(&l.user_properties);
    let append = fields(&l.append);
    let device_counts = match &l.device_counts {
        Some(d) => {
            let data = s(&d.data);
            let time_key = s(&d.time_key);
            let count = s(&d.count);
            let windows = list(d.windows.iter().map(|(k, ms)| {
                let k = s(k);
                quote!((#k, #ms))
            }));
            quote!(Some(DeviceCounts { data: #data, time_key: #time_key, count: #count, windows: #windows }))
        }
        None => quote!(None),
    };
    let tail = fields(&l.user_properties_tail);
    let newsletter = match &l.newsletter {
        Some(n) => {
            let name = s(&n.name);
            let by_category = pairs(&n.by_category);
            let data = s(&n.data);
            let t = s(&n.when_true);
            let f = s(&n.when_false);
            quote!(Some(Newsletter { name: #name, by_category: #by_category, data: #data, when_true: #t, when_false: #f }))
        }
        None => quote!(None),
    };
    quote! {
        Layout {
            fields: #f,
            service: #service,
            event_properties: #event_properties,
            user_properties: #user_properties,
            append: #append,
            device_counts: #device_counts,
            user_properties_tail: #tail,
            newsletter: #newsletter,
        }
    }
}

fn property_rule(r: &PropertyRule) -> TokenStream {
    let name = s(&r.name);
    let v = value(&r.value);
    let when = list(r.when.iter().map(cond));
    quote!(PropertyRule { name: #name, value: #v, when: #when })
}

fn spec_literal(service: &Service) -> TokenStream {
    let Amplitude {
        groups,
        tables,
        exact,
        rules,
        layout: shape,
        policy,
        // Examples become tests (backend::tests), not part of the mapping.
        examples: _,
    } = &service.amplitude;
    let name = s(&service.name);
    let tables = list(tables.iter().map(|t| pairs(&t.entries)));
    // Runs of exact names whose one target is simple are static tables (data, not code: the
    // compile cost of a 2,000-event crate); the others are literals. Schema order is kept.
    let mut pieces = Vec::new();
    let mut run = Vec::new();
    for (name, targets) in exact {
        if let [t] = targets.as_slice()
            && let Some((group, event)) = simple_target(t)
        {
            run.push(quote!((#name, #group, #event)));
            continue;
        }
        if !run.is_empty() {
            pieces.push(quote!(exact.extend(::metricsmith::types::exact(&[#(#run),*]));));
            run.clear();
        }
        let name = s(name);
        let targets = list(targets.iter().map(target));
        pieces.push(quote!(exact.push((#name, #targets));));
    }
    if !run.is_empty() {
        pieces.push(quote!(exact.extend(::metricsmith::types::exact(&[#(#run),*]));));
    }
    let count = exact.len();
    let exact = if pieces.is_empty() {
        quote!(Vec::new())
    } else {
        quote! {{
            let mut exact = Vec::with_capacity(#count);
            #(#pieces)*
            exact
        }}
    };
    let rules = list(rules.iter().map(|r| {
        let pattern = s(&r.rust_pattern);
        let targets = list(r.targets.iter().map(target));
        quote!(Rule { pattern: #pattern, targets: #targets })
    }));
    let group_properties = list(groups.values().filter_map(|g| {
        let props = g.event_properties.as_ref()?;
        let prefix = s(&g.prefix);
        let when = list(props.when.iter().map(cond));
        let set = list(props.set.iter().map(property_rule));
        Some(quote!(GroupProperties { prefix: #prefix, when: #when, set: #set }))
    }));
    let shape = layout(shape);
    let rewrites = list(policy.rewrites.iter().map(|r| {
        let event = s(&r.event);
        let to = list(r.to.iter().map(|p| match p {
            RewritePart::Text(t) => {
                let t = s(t);
                quote!(RewritePart::Text(#t))
            }
            RewritePart::Data(k) => {
                let k = s(k);
                quote!(RewritePart::Data(#k))
            }
        }));
        quote!(Rewrite { event: #event, to: #to })
    }));
    let time = policy.time_falls_back_to_now;
    let require = policy.require_user_or_device;
    quote! {
        MappingSpec {
            service: #name,
            tables: #tables,
            exact: #exact,
            rules: #rules,
            group_properties: #group_properties,
            layout: #shape,
            policy: Policy {
                time_falls_back_to_now: #time,
                require_user_or_device: #require,
                rewrites: #rewrites,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_strings_escape_braces() {
        let parts = [
            TemplatePart::Text("a{".into()),
            TemplatePart::Parameter("x".into()),
            TemplatePart::Text("}.b".into()),
        ];
        assert_eq!(format_string(&parts), "a{{{}}}.b");
    }

    #[test]
    fn negative_bounds_are_blocks() {
        assert_eq!(int_lit(-3).to_string(), "{ - 3 }");
        assert_eq!(int_lit(7).to_string(), "7");
    }
}
