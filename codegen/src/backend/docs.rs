//! Reviewer docs.
use crate::model::{Model, Service};
/// Docs of one service: (file name, contents).
pub fn render_service(_service: &Service) -> Result<Vec<(String, String)>, String> {
    Ok(Vec::new())
}
/// The index.
pub fn render_index(_model: &Model) -> Result<String, String> {
    Ok(String::new())
}
