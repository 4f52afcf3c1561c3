//! The loader: the only part of the front end that touches the filesystem.
//!
//! It reads each file once (a file included twice through different paths is loaded once),
//! follows includes, groups files into services, and hands each service to [`crate::lower`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use crate::ast;
use crate::diagnostic::{Code, Diagnostic, Report};
use crate::lower::{self, UnitFile};
use crate::model::{Date, Model};
use crate::parse;
use crate::source::{FileId, SourceFile, Sources, Span};

/// The default limit on the size of one schema file: 16 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// A successful check: the model, and the warnings and infos found on the way.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The validated model.
    pub model: Model,
    /// Warnings and infos (never errors).
    pub report: Report,
}

/// Loads and checks schema files.
///
/// # Example
/// ```
/// use metricsmith_codegen::{Date, Loader};
///
/// let dir = std::env::temp_dir().join("metricsmith-loader-doc");
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("svc.yaml");
/// std::fs::write(&file, "metricsmith: 1\nservice: svc\n").unwrap();
/// let checked = Loader::new()
///     .today(Date { year: 2026, month: 1, day: 1 })
///     .load(&file)
///     .unwrap();
/// assert!(checked.model.services.contains_key("svc"));
/// ```
#[derive(Debug, Clone)]
pub struct Loader {
    max_file_size: u64,
    options: lower::Options,
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new()
    }
}

impl Loader {
    /// A loader with the default size limit, today's date (UTC) and no current version.
    pub fn new() -> Loader {
        Loader {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            options: lower::Options {
                today: today(),
                current_version: None,
                facts: true,
            },
        }
    }

    /// Sets the largest file size accepted, in bytes.
    pub fn max_file_size(&mut self, bytes: u64) -> &mut Loader {
        self.max_file_size = bytes;
        self
    }

    /// Sets the date the `expired` lint compares with.
    pub fn today(&mut self, date: Date) -> &mut Loader {
        self.options.today = date;
        self
    }

    /// Sets the current version that `expires: vNNN` compares with.
    pub fn current_version(&mut self, version: Option<u32>) -> &mut Loader {
        self.options.current_version = version;
        self
    }

    /// Sets whether the model gets the facts that backends show (on by default): each
    /// event's, family's and rule's example and what the mapping makes of it.
    /// A check that only reports diagnostics turns them off; backends need them.
    pub fn facts(&mut self, facts: bool) -> &mut Loader {
        self.options.facts = facts;
        self
    }

    /// Loads one schema file or every `*.yaml`/`*.yml` file under a directory.
    ///
    /// # Errors
    /// A [`Report`] holding every diagnostic when any is an error.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Checked, Report> {
        self.load_all(&[path.as_ref().to_path_buf()])
    }

    /// Loads several files or directories as one model.
    ///
    /// Files with `service:` are entry files; include-only files are checked through the
    /// entry files that include them, and on their own when nothing includes them.
    ///
    /// # Errors
    /// A [`Report`] holding every diagnostic when any is an error.
    pub fn load_all(&self, paths: &[PathBuf]) -> Result<Checked, Report> {
        let mut run = Run {
            loader: self,
            sources: Sources::new(),
            files: BTreeMap::new(),
            order: Vec::new(),
            diagnostics: Vec::new(),
        };
        let mut roots = Vec::new();
        for path in paths {
            if path.is_dir() {
                let mut found = Vec::new();
                collect_yaml(path, &mut found, 0);
                found.sort();
                roots.extend(found);
            } else {
                roots.push(path.clone());
            }
        }
        let mut root_keys = Vec::new();
        for root in &roots {
            root_keys.push(run.read(root, None));
        }
        let mut included = BTreeSet::new();
        let mut units = Vec::new();
        for key in root_keys.iter().flatten() {
            let unit = run.unit(key);
            included.extend(unit.iter().skip(1).cloned());
            units.push(unit);
        }
        let mut model = Model::default();
        let mut through: Vec<(Diagnostic, Vec<String>)> = Vec::new();
        let mut service_spans: BTreeMap<String, Span> = BTreeMap::new();
        for unit in units {
            let Some(entry) = unit.first() else { continue };
            let is_entry = run.files[entry]
                .ast
                .as_ref()
                .is_some_and(|a| a.service.is_some());
            if !is_entry && included.contains(entry) {
                // Checked through its includers.
                continue;
            }
            let files: Vec<UnitFile<'_>> = unit
                .iter()
                .filter_map(|key| {
                    let loaded = &run.files[key];
                    Some(UnitFile {
                        id: loaded.id,
                        source: run.sources.get(loaded.id)?,
                        ast: loaded.ast.as_ref()?,
                    })
                })
                .collect();
            if files.len() != unit.len() {
                // Some file of the unit did not parse; its diagnostics are already recorded,
                // and semantic checks would only add noise.
                continue;
            }
            let (service, diagnostics) = lower::lower(&files, &self.options);
            let entry_id = run.files[entry].id;
            let service_name = files
                .first()
                .and_then(|f| f.ast.service.as_ref())
                .map(|s| s.value.clone());
            for diagnostic in diagnostics {
                // A problem in a shared file may depend on the service that includes it (a
                // table only one service lacks), so say which services it was found through.
                let shared = diagnostic.primary.span.file != entry_id;
                match (&service_name, shared) {
                    (Some(name), true) => {
                        match through.iter_mut().find(|(d, _)| *d == diagnostic) {
                            Some((_, services)) => services.push(name.clone()),
                            None => through.push((diagnostic, vec![name.clone()])),
                        }
                    }
                    _ => run.diagnostics.push(diagnostic),
                }
            }
            if let Some(service) = service {
                let entry_ast = run.files[entry].ast.as_ref();
                let span = entry_ast.and_then(|a| a.service.as_ref()).and_then(|s| {
                    let id = run.files[entry].id;
                    Some(parse::span_of(id, run.sources.get(id)?, s))
                });
                if let (Some(first), Some(span)) = (service_spans.get(&service.name), span) {
                    run.diagnostics.push(
                        Diagnostic::new(
                            Code::DuplicateService,
                            span,
                            format!("service `{}` is defined twice", service.name),
                        )
                        .label("defined again here")
                        .secondary(*first, "first defined here"),
                    );
                    continue;
                }
                if let Some(span) = span {
                    service_spans.insert(service.name.clone(), span);
                }
                model.services.insert(service.name.clone(), service);
            }
        }
        let files = run.files.values();
        let sections = files.filter_map(|f| Some((f.id, run.sources.get(f.id)?, f.ast.as_ref()?)));
        crate::warehouse::lower_all(sections, &mut model, &mut run.diagnostics);
        for (mut diagnostic, services) in through {
            let list = services
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            diagnostic.notes.push(if services.len() == 1 {
                format!("found while checking service {list}")
            } else {
                format!("found while checking services {list}")
            });
            run.diagnostics.push(diagnostic);
        }
        let mut report = Report {
            sources: run.sources,
            diagnostics: run.diagnostics,
        };
        report.sort();
        if report.has_errors() {
            Err(report)
        } else {
            Ok(Checked { model, report })
        }
    }
}

/// Loads and checks one schema file or directory with the default [`Loader`].
///
/// # Errors
/// A [`Report`] holding every diagnostic when any is an error.
pub fn load(path: impl AsRef<Path>) -> Result<Checked, Report> {
    Loader::new().load(path)
}

struct Loaded {
    id: FileId,
    ast: Option<ast::File>,
}

struct Run<'l> {
    loader: &'l Loader,
    sources: Sources,
    // By canonical path (or the path itself when it cannot be canonicalized).
    files: BTreeMap<PathBuf, Loaded>,
    order: Vec<PathBuf>,
    diagnostics: Vec<Diagnostic>,
}

impl Run<'_> {
    /// Reads and parses a file once; `from` is the include entry that names it.
    fn read(&mut self, path: &Path, from: Option<Span>) -> Option<PathBuf> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if self.files.contains_key(&key) {
            return Some(key);
        }
        let name = normalize(path);
        let metadata = std::fs::metadata(path);
        let problem = match &metadata {
            Err(err) => Some((
                if from.is_some() {
                    Code::MissingInclude
                } else {
                    Code::Io
                },
                format!("cannot read `{}`: {}", name.display(), io_message(err)),
            )),
            Ok(m) if !m.is_file() => Some((
                Code::NotAFile,
                format!("`{}` is a directory, not a file", name.display()),
            )),
            Ok(m) if m.len() > self.loader.max_file_size => Some((
                Code::TooLarge,
                format!(
                    "`{}` is {} bytes, over the limit of {} bytes",
                    name.display(),
                    m.len(),
                    self.loader.max_file_size
                ),
            )),
            Ok(_) => None,
        };
        let bytes = match problem {
            None => match std::fs::read(path) {
                Ok(bytes) => Ok(bytes),
                Err(err) => Err((
                    Code::Io,
                    format!("cannot read `{}`: {}", name.display(), io_message(&err)),
                )),
            },
            Some(problem) => Err(problem),
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err((code, message)) => {
                let span = match from {
                    Some(span) => span,
                    None => {
                        let id = self
                            .sources
                            .add(SourceFile::new(name.clone(), String::new()));
                        Span::new(id, 0..0)
                    }
                };
                let help = match code {
                    Code::TooLarge => "split the schema into files joined with `include:`",
                    Code::NotAFile => {
                        "name a schema file (a directory is accepted on the command line only)"
                    }
                    _ => "check the path (includes are relative to the including file)",
                };
                self.diagnostics.push(
                    Diagnostic::new(code, span, message)
                        .label(if from.is_some() { "included here" } else { "" })
                        .help(help),
                );
                return None;
            }
        };
        let (text, bad_utf8) = match String::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(err) => {
                let at = err.utf8_error().valid_up_to();
                (
                    String::from_utf8_lossy(err.as_bytes()).into_owned(),
                    Some(at),
                )
            }
        };
        let id = self.sources.add(SourceFile::new(name.clone(), text));
        self.order.push(key.clone());
        if let Some(at) = bad_utf8 {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::NotUtf8,
                    Span::new(id, at..at + 1),
                    format!("`{}` is not valid UTF-8", name.display()),
                )
                .label("invalid byte sequence here")
                .help("schema files are UTF-8 text"),
            );
            self.files.insert(key.clone(), Loaded { id, ast: None });
            return Some(key);
        }
        let source = self.sources.get(id)?;
        let (ast, diagnostics) = parse::parse_file(id, source);
        self.diagnostics.extend(diagnostics);
        self.files.insert(key.clone(), Loaded { id, ast });
        Some(key)
    }

    /// The files of the unit rooted at `entry`: itself, then its includes depth first.
    fn unit(&mut self, entry: &Path) -> Vec<PathBuf> {
        let mut unit = Vec::new();
        let mut stack = Vec::new();
        self.visit(entry, &mut stack, &mut unit);
        unit
    }

    fn visit(&mut self, key: &Path, stack: &mut Vec<PathBuf>, unit: &mut Vec<PathBuf>) {
        if unit.iter().any(|k| k == key) {
            return;
        }
        unit.push(key.to_path_buf());
        stack.push(key.to_path_buf());
        let Some(loaded) = self.files.get(key) else {
            stack.pop();
            return;
        };
        let id = loaded.id;
        let includes: Vec<ast::Spanned<String>> = loaded
            .ast
            .as_ref()
            .map(|a| a.include.clone())
            .unwrap_or_default();
        let Some(name) = self.sources.get(id).map(|s| s.name.clone()) else {
            stack.pop();
            return;
        };
        for include in includes {
            let Some(source) = self.sources.get(id) else {
                continue;
            };
            let span = parse::span_of(id, source, &include);
            let base = name.parent().unwrap_or(Path::new(""));
            let path = base.join(&include.value);
            let Some(child) = self.read(&path, Some(span)) else {
                continue;
            };
            if let Some(position) = stack.iter().position(|k| *k == child) {
                let cycle: Vec<String> = stack[position..]
                    .iter()
                    .chain(std::iter::once(&child))
                    .filter_map(|k| self.files.get(k))
                    .filter_map(|l| self.sources.get(l.id))
                    .map(|s| crate::diagnostic::display_path(&s.name))
                    .collect();
                self.diagnostics.push(
                    Diagnostic::new(Code::IncludeCycle, span, "include cycle")
                        .label(format!("includes {}", cycle.join(" -> ")))
                        .help("shared definitions belong in a file that includes nothing that includes it"),
                );
                continue;
            }
            self.visit(&child, stack, unit);
        }
        stack.pop();
    }
}

fn io_message(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let text = err.to_string();
            text.split(" (os error")
                .next()
                .unwrap_or(&text)
                .to_lowercase()
        }
    }
}

/// Removes `.` and resolves `..` lexically, so names stay relative and readable.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            // Only a normal component can be undone: `../..` stays `../..`.
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 32 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_yaml(&path, out, depth + 1);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Today's date in UTC from the system clock.
pub fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date {
        year: u16::try_from(year).unwrap_or(u16::MAX),
        month: u8::try_from(month).unwrap_or(1),
        day: u8::try_from(day).unwrap_or(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(
            civil_from_days(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            civil_from_days(20_819),
            Date {
                year: 2027,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            civil_from_days(11_016),
            Date {
                year: 2000,
                month: 2,
                day: 29
            }
        );
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(
            normalize(Path::new("a/./b/../c.yaml")),
            PathBuf::from("a/c.yaml")
        );
        assert_eq!(
            normalize(Path::new("../x.yaml")),
            PathBuf::from("../x.yaml")
        );
        assert_eq!(
            normalize(Path::new("../../x.yaml")),
            PathBuf::from("../../x.yaml")
        );
        assert_eq!(
            normalize(Path::new("a/../../b/./../c.yaml")),
            PathBuf::from("../c.yaml")
        );
        assert_eq!(normalize(Path::new("/../x.yaml")), PathBuf::from("/x.yaml"));
    }
}
