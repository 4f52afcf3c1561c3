//! A minimal writer of MaxMind DB files (format 2.0), for test databases.
//!
//! It writes an IPv6 tree with 24-bit records (IPv4 networks live under `::/96`, where
//! readers look for them), a data section without pointers, and the metadata.
//! Networks must not overlap.
//! Format: <https://maxmind.github.io/MaxMind-DB/>.

use std::net::IpAddr;

/// A value of the data section.
#[derive(Debug, Clone)]
pub enum Data {
    String(String),
    U16(u16),
    U32(u32),
    U64(u64),
    /// Keys in the order written.
    Map(Vec<(String, Data)>),
    Array(Vec<Data>),
}

#[derive(Debug, Clone, Copy)]
enum Record {
    Empty,
    Node(u32),
    Data(u32),
}

#[derive(Debug)]
pub struct Writer {
    nodes: Vec<[Record; 2]>,
    data: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self {
            nodes: vec![[Record::Empty; 2]],
            data: Vec::new(),
        }
    }

    /// Maps `network/prefix` (an IPv4 prefix counts IPv4 bits) to `value`.
    pub fn insert(&mut self, network: IpAddr, prefix: u8, value: &Data) {
        let (bits, len) = match network {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 96 + usize::from(prefix)),
            IpAddr::V6(v6) => (u128::from(v6), usize::from(prefix)),
        };
        assert!((1..=128).contains(&len), "prefix out of range");
        let offset = u32::try_from(self.data.len()).expect("a small data section");
        encode(value, &mut self.data);
        let mut node = 0usize;
        for i in 0..len {
            let bit = usize::from((bits >> (127 - i)) & 1 == 1);
            if i == len - 1 {
                assert!(
                    matches!(self.nodes[node][bit], Record::Empty),
                    "overlapping networks"
                );
                self.nodes[node][bit] = Record::Data(offset);
            } else {
                node = match self.nodes[node][bit] {
                    Record::Node(next) => next as usize,
                    Record::Empty => {
                        let next = self.nodes.len();
                        self.nodes.push([Record::Empty; 2]);
                        self.nodes[node][bit] =
                            Record::Node(u32::try_from(next).expect("a small tree"));
                        next
                    }
                    Record::Data(_) => panic!("overlapping networks"),
                };
            }
        }
    }

    /// The database file's bytes.
    pub fn finish(self, database_type: &str, build_epoch: u64) -> Vec<u8> {
        let node_count = u32::try_from(self.nodes.len()).expect("a small tree");
        let mut out = Vec::new();
        for node in &self.nodes {
            for record in node {
                let value = match *record {
                    Record::Empty => node_count,
                    Record::Node(n) => n,
                    Record::Data(offset) => node_count + 16 + offset,
                };
                assert!(value < 1 << 24, "a record beyond 24 bits");
                out.extend_from_slice(&value.to_be_bytes()[1..]);
            }
        }
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        let text = |s: &str| Data::String(s.to_owned());
        let metadata = Data::Map(vec![
            ("binary_format_major_version".to_owned(), Data::U16(2)),
            ("binary_format_minor_version".to_owned(), Data::U16(0)),
            ("build_epoch".to_owned(), Data::U64(build_epoch)),
            ("database_type".to_owned(), text(database_type)),
            (
                "description".to_owned(),
                Data::Map(vec![(
                    "en".to_owned(),
                    text("metricsmith test database (documentation address ranges)"),
                )]),
            ),
            ("ip_version".to_owned(), Data::U16(6)),
            ("languages".to_owned(), Data::Array(vec![text("en")])),
            ("node_count".to_owned(), Data::U32(node_count)),
            ("record_size".to_owned(), Data::U16(24)),
        ]);
        encode(&metadata, &mut out);
        out
    }
}

/// Type numbers of the format.
const STRING: u8 = 2;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;

fn encode(value: &Data, out: &mut Vec<u8>) {
    match value {
        Data::String(s) => {
            control(STRING, s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        Data::U16(n) => unsigned(UINT16, u64::from(*n), out),
        Data::U32(n) => unsigned(UINT32, u64::from(*n), out),
        Data::U64(n) => unsigned(UINT64, *n, out),
        Data::Map(pairs) => {
            control(MAP, pairs.len(), out);
            for (key, value) in pairs {
                encode(&Data::String(key.clone()), out);
                encode(value, out);
            }
        }
        Data::Array(items) => {
            control(ARRAY, items.len(), out);
            for item in items {
                encode(item, out);
            }
        }
    }
}

/// An unsigned integer in as few big-endian bytes as it needs.
fn unsigned(kind: u8, n: u64, out: &mut Vec<u8>) {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(kind, bytes.len() - skip, out);
    out.extend_from_slice(&bytes[skip..]);
}

/// The control byte (type and size), the extended-type byte, then the size's extra bytes.
fn control(kind: u8, size: usize, out: &mut Vec<u8>) {
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..29 => (u8::try_from(size).expect("under 29"), Vec::new()),
        29..285 => (29, vec![u8::try_from(size - 29).expect("one byte")]),
        285..65_821 => (
            30,
            u16::try_from(size - 285)
                .expect("two bytes")
                .to_be_bytes()
                .to_vec(),
        ),
        _ => (
            31,
            u32::try_from(size - 65_821)
                .expect("three bytes")
                .to_be_bytes()[1..]
                .to_vec(),
        ),
    };
    if kind <= 7 {
        out.push(kind << 5 | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend_from_slice(&extra);
}
