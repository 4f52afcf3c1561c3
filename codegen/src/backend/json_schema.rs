//! JSON Schema.
use crate::model::Service;
/// The schema.
pub fn render(_service: &Service) -> String {
    String::new()
}
