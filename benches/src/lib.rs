//! Synthetic schemas and inputs for metricsmith's benchmarks.
//!
//! Everything here is a pure function of its parameters: the same [`Shape`] always gives
//! byte-identical files, so two machines benchmark the same input.
//!
//! The synthetic service is laid out like FxA's: event `i` is action `i % 5` of object `i / 5`
//! (`obj00042.submit`), and every 4 objects (20 events) share an area (`a0002`).
//! Its Amplitude mapping has an exact entry for every `success` event and one ordered regex
//! rule per area for the first `rules` areas, which maps the four other actions of the area
//! through captures and table lookups.
//! The glean_parser equivalent has one `event` metric per event, in one category per area, with
//! one extra key per property.

pub mod glean;
pub mod lines;
pub mod schema;

/// Events per area: one area is one regex rule.
pub const EVENTS_PER_AREA: usize = 20;

/// The actions of an object, in event order; `success` is mapped exactly, the others by rules.
pub const ACTIONS: [&str; 5] = ["view", "submit", "engage", "fail", "success"];

/// The action mapped by the exact table rather than by a rule.
pub const EXACT_ACTION: usize = 4;

/// The size of a synthetic schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Number of events.
    pub events: usize,
    /// Typed properties per event.
    pub properties: usize,
    /// Number of ordered regex rules.
    pub rules: usize,
}

impl Shape {
    /// A shape with the default number of rules: one per area (`events / 20`, at least 1).
    pub fn new(events: usize, properties: usize) -> Shape {
        Shape {
            events,
            properties,
            rules: Shape::default_rules(events),
        }
    }

    /// The default number of rules for `events` events.
    pub fn default_rules(events: usize) -> usize {
        (events / EVENTS_PER_AREA).max(1)
    }

    /// The number of areas that hold events.
    pub fn areas(&self) -> usize {
        self.events.div_ceil(EVENTS_PER_AREA)
    }

    /// The events, in order.
    pub fn events(&self) -> impl Iterator<Item = Event> {
        (0..self.events).map(Event::new)
    }
}

/// One synthetic event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Its index.
    pub index: usize,
    /// Its object (`index / 5`).
    pub object: usize,
    /// Its action, an index into [`ACTIONS`].
    pub action: usize,
    /// Its area.
    pub area: usize,
}

impl Event {
    /// Event number `index`.
    pub fn new(index: usize) -> Event {
        let object = index / ACTIONS.len();
        Event {
            index,
            object,
            action: index % ACTIONS.len(),
            area: index / EVENTS_PER_AREA,
        }
    }

    /// The metricsmith event name, e.g. `a0002.obj00042.submit`.
    pub fn name(&self) -> String {
        format!(
            "{}.{}.{}",
            area_name(self.area),
            object_name(self.object),
            ACTIONS[self.action]
        )
    }

    /// Whether the exact table maps it.
    pub fn is_exact(&self) -> bool {
        self.action == EXACT_ACTION
    }

    /// Whether a rule maps it, for `rules` rules.
    pub fn is_ruled(&self, rules: usize) -> bool {
        !self.is_exact() && self.area < rules
    }
}

/// The name of an area, e.g. `a0002`.
pub fn area_name(area: usize) -> String {
    format!("a{area:04}")
}

/// The name of an object, e.g. `obj00042`.
pub fn object_name(object: usize) -> String {
    format!("obj{object:05}")
}

/// The type of a property, by its position in an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    /// A string with a pattern and a maximum length.
    Pattern,
    /// A hex string of fixed length.
    Hex,
    /// An integer in a range.
    Integer,
    /// A boolean.
    Boolean,
    /// An enum of four values.
    Enum,
}

/// The values of the synthetic enum properties.
pub const ENUM_VALUES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];

/// Property `j` of an event: its name and type.
pub fn property(j: usize) -> (String, PropertyType) {
    const BASES: [(&str, PropertyType); 5] = [
        ("label", PropertyType::Pattern),
        ("token", PropertyType::Hex),
        ("amount", PropertyType::Integer),
        ("enabled", PropertyType::Boolean),
        ("choice", PropertyType::Enum),
    ];
    let (base, ty) = BASES[j % BASES.len()];
    let round = j / BASES.len();
    if round == 0 {
        (base.to_owned(), ty)
    } else {
        (format!("{base}_{round}"), ty)
    }
}

/// A small deterministic generator (SplitMix64): the same seed gives the same sequence on every
/// platform, with no dependency.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0; the tiny modulo bias does not matter here).
    pub fn below(&mut self, bound: usize) -> usize {
        // usize is at most 64 bits on every supported target, so the remainder fits.
        (self.next_u64() % bound.max(1) as u64) as usize
    }

    /// `len` lowercase hex characters.
    pub fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(len);
        let mut bits = 0u64;
        for i in 0..len {
            if i.is_multiple_of(16) {
                bits = self.next_u64();
            }
            out.push(char::from(DIGITS[(bits & 0xf) as usize]));
            bits >>= 4;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_laid_out_by_object_and_area() {
        let cases = [
            (0, "a0000.obj00000.view"),
            (4, "a0000.obj00000.success"),
            (5, "a0000.obj00001.view"),
            (19, "a0000.obj00003.success"),
            (20, "a0001.obj00004.view"),
            (1999, "a0099.obj00399.success"),
        ];
        for (index, name) in cases {
            assert_eq!(Event::new(index).name(), name, "event {index}");
        }
    }

    #[test]
    fn default_rules_are_one_per_area() {
        let cases = [(1, 1), (20, 1), (500, 25), (2000, 100), (8000, 400)];
        for (events, rules) in cases {
            assert_eq!(Shape::new(events, 5).rules, rules, "{events} events");
        }
        assert_eq!(Shape::new(21, 5).areas(), 2);
    }

    #[test]
    fn properties_cycle_through_the_types() {
        let cases = [
            (0, "label", PropertyType::Pattern),
            (1, "token", PropertyType::Hex),
            (2, "amount", PropertyType::Integer),
            (3, "enabled", PropertyType::Boolean),
            (4, "choice", PropertyType::Enum),
            (5, "label_1", PropertyType::Pattern),
            (11, "token_2", PropertyType::Hex),
        ];
        for (j, name, ty) in cases {
            assert_eq!(property(j), (name.to_owned(), ty), "property {j}");
        }
    }

    #[test]
    fn splitmix_is_deterministic() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        assert_eq!(a.hex(40), b.hex(40));
        assert_eq!(a.hex(32).len(), 32);
        assert!(a.below(3) < 3);
    }
}
