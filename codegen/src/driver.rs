//! The driver: loads schemas, runs the backends and writes files that changed.
//!
//! This is the only part of the compiler that touches the filesystem besides the loader.
//!
//! In a build script:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), metricsmith_codegen::Error> {
//!     metricsmith_codegen::compile("schema/auth-server.yaml")
//! }
//! ```
//!
//! and in the crate, one module per service:
//!
//! ```ignore
//! pub mod auth_server {
//!     include!(concat!(env!("OUT_DIR"), "/auth_server.rs"));
//! }
//! ```

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use heck::ToSnakeCase;

use crate::backend;
use crate::backend::code::Code;
use crate::diagnostic::{Report, Style};
use crate::loader::Loader;
use crate::model::{Model, Service};

/// Why code generation failed.
///
/// `Display` and `Debug` both print the rendered report, so a build script that returns it
/// shows readable diagnostics.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The schema has errors; `rendered` is the plain-text report.
    #[error("{rendered}")]
    Schema {
        /// The diagnostics.
        report: Box<Report>,
        /// The report rendered as plain text.
        rendered: String,
    },
    /// A user template does not parse or fails to render; `rendered` is the plain-text report,
    /// each error at the template's file:line.
    #[error("{rendered}")]
    Template {
        /// The diagnostics, with the templates as their sources.
        report: Box<Report>,
        /// The report rendered as plain text.
        rendered: String,
    },
    /// No schema was given to the builder.
    #[error("no schema given: call `Builder::schema`")]
    NoSchema,
    /// Neither `out_dir` nor `OUT_DIR` is set.
    #[error("no output directory: call `Builder::out_dir` or run from a build script")]
    NoOutDir,
    /// A schema directory could not be listed.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A generated file could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A backend produced something invalid (a metricsmith bug, not a schema problem).
    #[error("internal error generating `{file}`: {message}")]
    Internal {
        /// The file being generated.
        file: String,
        /// What went wrong.
        message: String,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One generated file, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The path relative to the output directory, with `/` separators.
    pub path: String,
    /// The contents.
    pub contents: String,
}

/// What [`Builder::generate`] produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Generated {
    /// The files, sorted by path.
    pub files: Vec<GeneratedFile>,
    /// Every schema file read (entry files and includes): the inputs to watch.
    pub inputs: Vec<PathBuf>,
    /// Warnings and infos (rendered); empty when there were none.
    pub warnings: String,
    /// How many of the diagnostics in `warnings` are warnings (not infos): the proc-macro
    /// surfaces them as a compiler warning.
    pub warning_count: usize,
}

impl Generated {
    /// The file at `path`, if it was generated.
    pub fn file(&self, path: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.contents.as_str())
    }
}

/// Options of a code-generation run: which schemas, which outputs, where to.
///
/// # Examples
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), metricsmith_codegen::Error> {
///     metricsmith_codegen::Builder::new()
///         .schema("schema/auth-server.yaml")
///         .schema("schema/oauth-server.yaml")
///         .compile()
/// }
/// ```
///
/// In memory (what the CLI and the proc-macro do):
///
/// ```no_run
/// let generated = metricsmith_codegen::Builder::new()
///     .schema("schema/fxa/oauth-server.yaml")
///     .generate()?;
/// assert!(generated.file("oauth_server.rs").is_some());
/// # Ok::<(), metricsmith_codegen::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    schemas: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    tests: bool,
    docs: bool,
    json_schema: bool,
    krate: bool,
    code: Option<bool>,
    emit_rerun: bool,
    loader: Loader,
    sequential: bool,
    templates: Option<PathBuf>,
}

/// Generates the Rust modules of the schema at `path` into `OUT_DIR`, as a build script does.
///
/// The same as `Builder::new().schema(path).compile()`.
///
/// # Errors
/// See [`Builder::compile`].
pub fn compile(path: impl AsRef<Path>) -> Result<(), Error> {
    Builder::new().schema(path).compile()
}

const HEADER: &str = "// @generated by metricsmith from";

impl Builder {
    /// A builder that generates only Rust code.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a schema: an entry file, or a directory of schema files.
    pub fn schema(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.schemas.push(path.as_ref().to_owned());
        self
    }

    /// Renders every `*.tera` file directly in `dir` with tera 2 over the view of the model
    /// that docs/templates.md describes (versioned: `view_version`), into a file named after
    /// the template without `.tera` at the top of the output (`dictionary.csv.tera` ->
    /// `dictionary.csv`).
    ///
    /// A template that does not parse or fails to render is an [`Error::Template`] whose
    /// diagnostics point at the template's line; every template is tried, and all errors are
    /// reported together.
    ///
    /// ```no_run
    /// let generated = metricsmith_codegen::Builder::new()
    ///     .schema("schema/fxa")
    ///     .code(false)
    ///     .templates("codegen/templates")
    ///     .generate()?;
    /// assert!(generated.files.iter().any(|f| f.path == "data-dictionary.csv"));
    /// # Ok::<(), metricsmith_codegen::Error>(())
    /// ```
    pub fn templates(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.templates = Some(dir.as_ref().to_owned());
        self
    }

    /// Where [`compile`](Self::compile) writes (default: `OUT_DIR`).
    pub fn out_dir(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.out_dir = Some(path.as_ref().to_owned());
        self
    }

    /// The loader options (today's date for the `expired` lint, the current version).
    pub fn loader(&mut self, loader: Loader) -> &mut Self {
        self.loader = loader;
        self
    }

    /// Whether the Rust code is generated (default: true).
    pub fn code(&mut self, yes: bool) -> &mut Self {
        self.code = Some(yes);
        self
    }

    /// Adds the generated per-event and per-rule tests to each module (default: false).
    pub fn tests(&mut self, yes: bool) -> &mut Self {
        self.tests = yes;
        self
    }

    /// Whether generation may use a thread per core (default: true).
    ///
    /// The output is the same bytes either way (a unit test checks it on FxA). The proc-macro
    /// turns it off: it runs inside rustc, which schedules its own threads. Lowering still
    /// analyses rule shadowing on a thread of its own.
    pub fn parallel(&mut self, yes: bool) -> &mut Self {
        self.sequential = !yes;
        self
    }

    /// Generates reviewer docs in Markdown (default: false).
    pub fn docs(&mut self, yes: bool) -> &mut Self {
        self.docs = yes;
        self
    }

    /// Generates the JSON Schema of each service's amplitude events (default: false).
    pub fn json_schema(&mut self, yes: bool) -> &mut Self {
        self.json_schema = yes;
        self
    }

    /// Lays the output out as a crate: `src/lib.rs` with one `pub mod` per service,
    /// `src/<service>.rs`, and docs under `docs/` (default: false, modules at the top).
    pub fn crate_layout(&mut self, yes: bool) -> &mut Self {
        self.krate = yes;
        self
    }

    /// Generates every file in memory.
    ///
    /// # Errors
    /// [`Error::Schema`] with every diagnostic when a schema has errors, [`Error::NoSchema`],
    /// [`Error::Read`] for an unreadable schema directory.
    pub fn generate(&self) -> Result<Generated, Error> {
        let (model, inputs, warnings, warning_count) = self.load()?;
        let mut files = Vec::new();
        let code = self.code.unwrap_or(true);
        let src = if self.krate { "src/" } else { "" };
        let docs = if code { "docs/" } else { "" };
        if code && self.krate {
            files.push(GeneratedFile {
                path: "src/lib.rs".to_owned(),
                contents: crate_root(&model, &self.source_name()),
            });
        }
        for service in model.services.values() {
            let module = module_name(service);
            let source = entry_name(service);
            // The docs, the tests module and the rest of the Rust module are independent:
            // each is built on a thread of its own.
            std::thread::scope(|scope| -> Result<(), Error> {
                let render = || backend::docs::render_service(service);
                let pages = match (self.docs, self.sequential) {
                    (false, _) => None,
                    (true, false) => Some(Pages::Spawned(scope.spawn(render))),
                    (true, true) => Some(Pages::Done(render())),
                };
                if code {
                    let path = format!("{src}{module}.rs");
                    let contents = module_text(service, self.tests, &source, self.sequential);
                    files.push(GeneratedFile { path, contents });
                }
                if let Some(pages) = pages {
                    let pages = match pages {
                        Pages::Spawned(handle) => join(handle),
                        Pages::Done(pages) => pages,
                    };
                    for (name, contents) in pages.map_err(|message| Error::Internal {
                        file: format!("{docs}{}", service.name),
                        message,
                    })? {
                        files.push(GeneratedFile {
                            path: format!("{docs}{name}"),
                            contents,
                        });
                    }
                    if let Some(collector) = &service.collector {
                        files.push(GeneratedFile {
                            path: format!("{docs}{}-collector.md", service.name),
                            contents: backend::collector::page(service, collector),
                        });
                    }
                }
                Ok(())
            })?;
            if self.json_schema {
                files.push(GeneratedFile {
                    path: format!("{docs}{}.amplitude-event.schema.json", service.name),
                    contents: backend::json_schema::render(service),
                });
                if let Some(collector) = &service.collector {
                    files.push(GeneratedFile {
                        path: format!("{docs}{}.collector-body.schema.json", service.name),
                        contents: backend::collector::json_schema(service, collector),
                    });
                }
            }
        }
        let mut inputs = inputs;
        if let Some(dir) = &self.templates {
            let (rendered, read) = render_templates(&model, dir)?;
            files.extend(rendered);
            // A build script reruns when a template changes or one is added.
            if self.emit_rerun {
                println!("cargo:rerun-if-changed={}", dir.display());
                for path in &read {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
            inputs.extend(read);
            inputs.sort();
        }
        if self.docs {
            let index = backend::docs::render_index(&model).map_err(|message| Error::Internal {
                file: format!("{docs}README.md"),
                message,
            })?;
            files.push(GeneratedFile {
                path: format!("{docs}README.md"),
                contents: index,
            });
        }
        if let (true, Some(warehouse)) = (self.docs, &model.warehouse) {
            files.extend(crate::warehouse::render_files(warehouse, docs));
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Generated {
            files,
            inputs,
            warnings,
            warning_count,
        })
    }

    /// Generates the Rust modules into the output directory, as a build script does: prints
    /// `cargo:rerun-if-changed` for every input file and writes only files whose content
    /// changed, so unchanged output does not rebuild the crate.
    ///
    /// On schema errors it prints each line of the rendered report as `cargo::error=`, so
    /// cargo shows the diagnostics and fails the build, and returns the error.
    ///
    /// # Errors
    /// As [`generate`](Self::generate), plus [`Error::NoOutDir`] and [`Error::Write`].
    pub fn compile(&self) -> Result<(), Error> {
        let mut this = self.clone();
        this.emit_rerun = true;
        let generated = match this.generate() {
            Ok(generated) => generated,
            Err(err) => {
                if let Error::Schema { rendered, .. } = &err {
                    for line in rendered.lines() {
                        println!("cargo::error={line}");
                    }
                }
                return Err(err);
            }
        };
        for line in generated.warnings.lines() {
            println!("cargo::warning={line}");
        }
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        write_all(&out_dir, &generated.files)?;
        Ok(())
    }

    fn source_name(&self) -> String {
        match self.schemas.as_slice() {
            [one] => display_name(one),
            many => many
                .iter()
                .map(|p| display_name(p))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn load(&self) -> Result<(Model, Vec<PathBuf>, String, usize), Error> {
        if self.schemas.is_empty() {
            return Err(Error::NoSchema);
        }
        let result = self.loader.load_all(&self.schemas);
        let report = match &result {
            Ok(checked) => &checked.report,
            Err(report) => report,
        };
        // Every file read, even on failure: fixing any of them must rerun the build script.
        let mut inputs: Vec<PathBuf> = report.sources.iter().map(|(_, f)| f.name.clone()).collect();
        if let Ok(checked) = &result {
            inputs.extend(
                checked
                    .model
                    .services
                    .values()
                    .flat_map(|s| s.files.iter().cloned()),
            );
        }
        inputs.extend(self.schemas.iter().cloned());
        inputs.sort();
        inputs.dedup();
        if self.emit_rerun {
            for input in &inputs {
                println!("cargo:rerun-if-changed={}", input.display());
            }
        }
        match result {
            Ok(checked) => {
                let warnings = if checked.report.diagnostics.is_empty() {
                    String::new()
                } else {
                    checked.report.render(Style::Plain)
                };
                let count = checked
                    .report
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == crate::Severity::Warning)
                    .count();
                Ok((checked.model, inputs, warnings, count))
            }
            Err(report) => {
                let rendered = report.render(Style::Plain);
                Err(Error::Schema {
                    report: Box::new(report),
                    rendered,
                })
            }
        }
    }
}

/// The file name of a path, for headers (never an absolute path).
fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The entry file's name, as the header names it.
pub(crate) fn entry_name(service: &Service) -> String {
    service
        .files
        .first()
        .map(|p| display_name(p))
        .unwrap_or_else(|| service.name.clone())
}

/// The user templates in `dir` rendered over `model`, and the template files read.
fn render_templates(
    model: &Model,
    dir: &Path,
) -> Result<(Vec<GeneratedFile>, Vec<PathBuf>), Error> {
    let templates =
        backend::templates::read_dir(dir).map_err(|(path, source)| Error::Read { path, source })?;
    let read = templates.iter().map(|t| t.name.clone()).collect();
    match backend::templates::render(model, templates) {
        Ok(rendered) => Ok((
            rendered
                .into_iter()
                .map(|(path, contents)| GeneratedFile { path, contents })
                .collect(),
            read,
        )),
        Err(report) => {
            let rendered = report.render(Style::Plain);
            Err(Error::Template {
                report: Box::new(report),
                rendered,
            })
        }
    }
}

/// The Rust module name of a service: `auth-server` -> `auth_server`.
pub fn module_name(service: &Service) -> String {
    service.name.to_snake_case()
}

fn header(source: &str) -> String {
    format!("{HEADER} {source}. Do not edit.\n\n")
}

/// The Rust module of `service` behind the `@generated` header, with its tests module when
/// `tests` is set: the tests are written on a thread of their own unless `sequential`.
fn module_text(service: &Service, tests: bool, source: &str, sequential: bool) -> String {
    let emit_tests = || {
        if tests {
            backend::tests::emit_tests(service)
        } else {
            String::new()
        }
    };
    let header = header(source);
    let room = if tests {
        backend::tests::estimated_len(service)
    } else {
        0
    };
    let module = || backend::rust::emit_service_after(service, &header, room);
    let (mut module, tests) = if sequential {
        (module(), emit_tests())
    } else {
        std::thread::scope(|scope| {
            let tests = scope.spawn(emit_tests);
            let module = module();
            (module, join(tests))
        })
    };
    module.push_str(&tests);
    module
}

/// Docs pages rendered on a thread of their own, or in place.
enum Pages<'scope> {
    Spawned(std::thread::ScopedJoinHandle<'scope, Result<Vec<(String, String)>, String>>),
    Done(Result<Vec<(String, String)>, String>),
}

/// The result of a scoped thread; a panic in it (a metricsmith bug) goes on in this thread.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn crate_root(model: &Model, source: &str) -> String {
    let mut code = Code::default();
    code.line(
        "//! Typed metrics events, their Amplitude mappings and tests, generated by metricsmith.",
    );
    code.line("//!");
    code.line(
        "//! Each module holds `mapping()`, one struct per event and per family, and `values`.",
    );
    code.line("// Generated code must build without warnings; checked when its tests build.");
    code.line("#![cfg_attr(test, deny(warnings))]");
    for service in model.services.values() {
        let mut text = format!("The `{}` service.", service.name);
        if let Some(d) = &service.description {
            text = format!("{}\n\n{}", d.trim(), text);
        }
        code.doc(&text);
        code.fmt(format_args!("pub mod {};", module_name(service)));
    }
    format!("{}{}", header(source), code.finish())
}

/// Writes `contents` to `path` unless the file already holds exactly that; returns whether it
/// wrote.
///
/// # Errors
/// The I/O error of creating the directory or writing the file.
pub fn write_if_changed(path: &Path, contents: &str) -> io::Result<bool> {
    if holds(path, contents.as_bytes()).unwrap_or(false) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, contents)?;
    Ok(true)
}

/// Whether the file at `path` holds exactly `contents`: compared by length, then in chunks,
/// so that a generated module of several megabytes is never read into memory whole.
fn holds(path: &Path, contents: &[u8]) -> io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    if file.metadata()?.len() != contents.len() as u64 {
        return Ok(false);
    }
    let mut buffer = vec![0; COMPARE_CHUNK];
    let mut rest = contents;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(rest.is_empty());
        }
        match rest.split_at_checked(n) {
            Some((head, tail)) if head == &buffer[..n] => rest = tail,
            // Different bytes, or the file grew since its length was read.
            _ => return Ok(false),
        }
    }
}

/// The bytes [`holds`] reads at a time.
const COMPARE_CHUNK: usize = 64 * 1024;

/// Writes every file under `dir` that changed; returns the paths written.
///
/// # Errors
/// [`Error::Write`].
pub fn write_all(dir: &Path, files: &[GeneratedFile]) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    for file in files {
        let path = dir.join(&file.path);
        if write_if_changed(&path, &file.contents).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })? {
            written.push(path);
        }
    }
    Ok(written)
}

/// The file in an output directory that lists what [`sync_dir`] wrote there, one path a line.
pub const MANIFEST: &str = ".metricsmith-generated";

/// What [`sync_dir`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Synced {
    /// The files written (their content changed).
    pub written: Vec<PathBuf>,
    /// The files removed: generated before, not any more (their service left the schema).
    pub removed: Vec<PathBuf>,
}

/// Writes every file under `dir` that changed, removes the files of an earlier run that this
/// one does not generate, and lists this run's files in [`MANIFEST`].
///
/// A file of an earlier run is one that its manifest lists, or a `.rs` file directly under
/// `dir/src` that starts with metricsmith's `@generated` header: a service removed from the
/// schema leaves no module or page behind. Nothing else is removed.
///
/// # Errors
/// [`Error::Write`].
pub fn sync_dir(dir: &Path, files: &[GeneratedFile]) -> Result<Synced, Error> {
    let written = write_all(dir, files)?;
    let current: std::collections::BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let manifest = dir.join(MANIFEST);
    let mut earlier: Vec<String> = std::fs::read_to_string(&manifest)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    for entry in std::fs::read_dir(dir.join("src"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = entry.path();
        let generated = path.extension().is_some_and(|e| e == "rs")
            && std::fs::read_to_string(&path).is_ok_and(|text| text.starts_with(HEADER));
        if let (true, Some(name)) = (generated, path.file_name().and_then(|n| n.to_str())) {
            earlier.push(format!("src/{name}"));
        }
    }
    earlier.sort();
    earlier.dedup();
    let mut removed = Vec::new();
    for path in earlier {
        // Only paths inside `dir`, as the manifest wrote them.
        let relative = Path::new(&path);
        let inside = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if current.contains(path.as_str()) || !inside {
            continue;
        }
        let full = dir.join(relative);
        match std::fs::remove_file(&full) {
            Ok(()) => removed.push(full),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Write { path: full, source }),
        }
    }
    let mut listing = String::from(
        "# The files `metricsmith generate` wrote here; the next run removes those it no longer writes.\n",
    );
    for path in &current {
        listing.push_str(path);
        listing.push('\n');
    }
    write_if_changed(&manifest, &listing).map_err(|source| Error::Write {
        path: manifest.clone(),
        source,
    })?;
    Ok(Synced { written, removed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_if_changed_skips_identical_content() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("metricsmith-driver-{}", std::process::id()));
        let path = dir.join("a/b.rs");
        assert!(write_if_changed(&path, "x")?);
        assert!(!write_if_changed(&path, "x")?);
        assert!(write_if_changed(&path, "y")?);
        // Same length, different last chunk; longer than one chunk; shorter.
        let long = "z".repeat(COMPARE_CHUNK * 2 + 5);
        assert!(write_if_changed(&path, &long)?);
        assert!(!write_if_changed(&path, &long)?);
        let mut changed = long.clone();
        changed.replace_range(COMPARE_CHUNK * 2 + 4.., "y");
        assert!(write_if_changed(&path, &changed)?);
        assert_eq!(std::fs::read_to_string(&path)?, changed);
        assert!(write_if_changed(&path, &long[..COMPARE_CHUNK])?);
        assert_eq!(std::fs::read_to_string(&path)?.len(), COMPARE_CHUNK);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn sequential_generation_gives_the_bytes_of_threaded_generation() -> Result<(), Error> {
        let fxa = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/fxa");
        let mut builder = Builder::new();
        builder
            .schema(fxa)
            .tests(true)
            .docs(true)
            .crate_layout(true);
        let threaded = builder.generate()?;
        let sequential = builder.parallel(false).generate()?;
        assert_eq!(threaded.files, sequential.files);
        Ok(())
    }
}
