//! The version handshake between generated code and this runtime, checked by rustc.
//!
//! Generated code holds `const _: () = check_spec_format(N, "<schema>");` with the
//! [`SPEC_FORMAT`] of the compiler that wrote it.
//! A const item that panics is a compile error, and its message is the panic's: it names both
//! versions and how to regenerate the code.

use crate::SPEC_FORMAT;

/// Fails to compile (when called in a const item) unless `written`, the spec format the code
/// was generated for, is the one this runtime reads; `schema` names the entry file it was
/// generated from.
///
/// # Panics
/// When the versions differ, with a message naming both: in a const item, at compile time.
pub const fn check_spec_format(written: u32, schema: &str) {
    if written == SPEC_FORMAT {
        return;
    }
    let mut message = Message::new();
    message.push("metricsmith: this code was generated from `");
    message.push(schema);
    message.push("` for spec format ");
    message.number(written);
    message.push(", but this runtime (metricsmith ");
    message.push(env!("CARGO_PKG_VERSION"));
    message.push(") reads spec format ");
    message.number(SPEC_FORMAT);
    message.push(
        "; regenerate it with the metricsmith compiler of the runtime's version \
         (`metricsmith generate`, the `metricsmith-codegen` build dependency or the `schema!` macro of metricsmith ",
    );
    message.push(env!("CARGO_PKG_VERSION"));
    message.push(")");
    panic!("{}", message.as_str());
}

/// The longest message; a longer one (a very long schema name) is cut short.
const CAPACITY: usize = 1024;

/// Text built at compile time: a const fn cannot allocate a `String`.
struct Message {
    bytes: [u8; CAPACITY],
    len: usize,
}

impl Message {
    const fn new() -> Self {
        Message {
            bytes: [0; CAPACITY],
            len: 0,
        }
    }

    const fn push(&mut self, text: &str) {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < CAPACITY {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
    }

    const fn number(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < CAPACITY {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
        }
    }

    const fn as_str(&self) -> &str {
        match core::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(text) => text,
            // Cut inside a character of the schema name.
            Err(_) => {
                "metricsmith: this code was generated for another spec format than this runtime reads; regenerate it with the metricsmith compiler of the runtime's version"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The same format passes, in a const item as generated code uses it.
    const _: () = check_spec_format(SPEC_FORMAT, "auth-server.yaml");

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0, 7, 10, 1234, u32::MAX] {
            let mut m = Message::new();
            m.number(n);
            assert_eq!(m.as_str(), n.to_string());
        }
    }

    #[test]
    fn a_long_schema_name_is_cut_at_the_capacity() {
        let mut m = Message::new();
        m.push(&"x".repeat(CAPACITY + 10));
        assert_eq!(m.as_str().len(), CAPACITY);
        // A character cut in half gives the fixed message.
        let mut m = Message::new();
        m.push(&"x".repeat(CAPACITY - 1));
        m.push("é");
        assert!(
            m.as_str()
                .starts_with("metricsmith: this code was generated for another")
        );
    }

    #[test]
    fn a_mismatch_names_both_versions() {
        let caught = std::panic::catch_unwind(|| check_spec_format(SPEC_FORMAT + 1, "x.yaml"));
        let payload = caught.expect_err("a mismatch panics");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        assert!(
            message.contains(&format!("for spec format {}", SPEC_FORMAT + 1)),
            "{message}"
        );
        assert!(
            message.contains(&format!("reads spec format {SPEC_FORMAT}")),
            "{message}"
        );
        assert!(message.contains("`x.yaml`"), "{message}");
    }
}
