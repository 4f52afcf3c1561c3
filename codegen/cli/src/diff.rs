//! `metricsmith diff OLD NEW`: what changed between two versions of a schema, and whether it
//! breaks consumers of the events.
//!
//! OLD and NEW are schema paths (an entry file or a directory) or `git:REV:PATH`, read from the
//! repository's history without a checkout: the schema files of REV are read with
//! `git ls-tree` and `git cat-file --batch` into a temporary directory, so includes come from
//! the same revision; PATH is relative to the top of the repository, as in `git show REV:PATH`.
//!
//! Exit status: 0 when nothing breaking remains (after `--allow`), 1 when something does, 2 on
//! a usage or I/O error or when a schema does not load.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use metricsmith_codegen::diff::{self, Allow};
use metricsmith_codegen::{Loader, Model, Style};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text, one block per change.
    Text,
    /// One JSON document (docs/diff.md describes it).
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Arguments of `metricsmith diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old schema: a path, or `git:REV:PATH` (e.g. `git:origin/main:schema/fxa`).
    pub old: String,
    /// The new schema: a path, or `git:REV:PATH`.
    pub new: String,
    /// How to print the changes (on stdout).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Accept a breaking change on purpose: `CODE:PATH=REASON` (a trailing `*` in PATH matches
    /// every path with that prefix). Repeat for several.
    #[arg(long = "allow", value_name = "CODE:PATH=REASON")]
    pub allow: Vec<String>,
    /// The largest schema file accepted, in bytes.
    #[arg(long, default_value_t = metricsmith_codegen::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
}

/// Runs the diff and returns the exit status.
pub fn run(args: &Args) -> ExitCode {
    match diff(args) {
        Ok((text, breaking)) => {
            // A closed pipe is not worth a panic.
            let _ = std::io::stdout().write_all(text.as_bytes());
            if breaking {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("{}", message.trim_end());
            ExitCode::from(2)
        }
    }
}

fn diff(args: &Args) -> Result<(String, bool), String> {
    let mut allows = Vec::new();
    for a in &args.allow {
        let (spec, reason) = a.split_once('=').ok_or_else(|| {
            format!("error: `--allow {a}` needs a reason: `--allow CODE:PATH=REASON`")
        })?;
        if reason.trim().is_empty() {
            return Err(format!("error: `--allow {a}` has an empty reason"));
        }
        allows.push(Allow::parse(spec, reason.trim()).map_err(|e| format!("error: {e}"))?);
    }
    let mut loader = Loader::new();
    loader.max_file_size(args.max_file_size).facts(false);
    let old = load(&loader, &args.old)?;
    let new = load(&loader, &args.new)?;
    allows.extend(accepted(&new)?);
    let report = diff::diff(&old, &new, &allows);
    let text = match args.format {
        Format::Text => diff::to_text(&report),
        Format::Json => format!("{:#}\n", diff::to_json(&report)),
        Format::Markdown => diff::to_markdown(&report),
    };
    Ok((text, report.breaking()))
}

/// The reviewer docs' changes page (`metricsmith docs --baseline OLD`): what changed from the
/// schema `old` (a path or `git:REV:PATH`) to the schemas `new`, in Markdown; `None` when the
/// docs are generated without a baseline.
///
/// # Errors
/// The message to print when a schema does not load.
pub fn changes_page(
    old: &str,
    new: &[PathBuf],
) -> Result<Option<metricsmith_codegen::GeneratedFile>, String> {
    let mut loader = Loader::new();
    loader.facts(false);
    let old_model = load(&loader, old)?;
    let new_model = loader
        .load_all(new)
        .map(|c| c.model)
        .map_err(|report| report.render(Style::Plain).trim_end().to_owned())?;
    let allows = accepted(&new_model)?;
    let report = diff::diff(&old_model, &new_model, &allows);
    let mut page = format!("# Changes since `{old}`\n\n");
    if report.changes.is_empty() {
        page.push_str("Nothing changed.\n");
    } else {
        page.push_str(
            "What changed in the schema, as `metricsmith diff` reports it: breaking changes first, \
             each with the path of what changed and where it is now.\n\n",
        );
        page.push_str(&diff::to_markdown(&report));
    }
    Ok(Some(metricsmith_codegen::GeneratedFile {
        path: "changes.md".to_owned(),
        contents: page.trim_end().to_owned() + "\n",
    }))
}

/// The NEW schema's `accepted_changes:`.
fn accepted(model: &Model) -> Result<Vec<Allow>, String> {
    diff::accepted(model).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("error: {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Loads a schema argument: a path, or `git:REV:PATH`.
fn load(loader: &Loader, arg: &str) -> Result<Model, String> {
    let style = if std::io::stderr().is_terminal() {
        Style::Styled
    } else {
        Style::Plain
    };
    let checked = match arg.strip_prefix("git:") {
        None => {
            let path = Path::new(arg);
            if !path.exists() {
                return Err(format!(
                    "error: cannot read `{arg}`: no such file or directory"
                ));
            }
            loader.load(path)
        }
        Some(spec) => {
            let (rev, path) = spec
                .split_once(':')
                .ok_or_else(|| format!("error: `{arg}` is not git:REV:PATH"))?;
            let tree = GitTree::read(rev, path)?;
            let root = tree.dir.join("tree");
            let target = root.join(path);
            if !target.exists() {
                return Err(format!(
                    "error: `{path}` does not exist at revision `{rev}` (PATH is relative to the top of the repository)"
                ));
            }
            // Names in messages and locations are the paths inside the repository.
            let here = std::env::current_dir().map_err(|e| format!("error: {e}"))?;
            std::env::set_current_dir(&root).map_err(|e| format!("error: {e}"))?;
            let result = loader.load(Path::new(path));
            std::env::set_current_dir(here).map_err(|e| format!("error: {e}"))?;
            result
        }
    };
    let checked = checked.map_err(|report| {
        format!(
            "{}\nerror: `{arg}` does not load, so it cannot be compared",
            report.render(style).trim_end()
        )
    })?;
    if checked.model.services.is_empty() {
        return Err(format!(
            "error: no service found in `{arg}`: pass a schema directory or an entry file (one with `service:`)"
        ));
    }
    Ok(checked.model)
}

/// The schema files of one revision, written under a temporary directory that is removed when
/// this is dropped.
struct GitTree {
    dir: PathBuf,
}

impl Drop for GitTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn git(args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("error: cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "error: `git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

impl GitTree {
    /// Reads every `*.yaml`/`*.yml` blob of `rev` (includes may leave PATH's directory).
    fn read(rev: &str, path: &str) -> Result<GitTree, String> {
        if rev.is_empty() || rev.starts_with('-') {
            return Err(format!("error: `{rev}` is not a revision"));
        }
        if path.is_empty() {
            return Err("error: `git:REV:PATH` needs a PATH".into());
        }
        let commit = git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{tree}}"),
        ])
        .map_err(|_| format!("error: `{rev}` is not a revision of this repository"))?;
        let tree = String::from_utf8_lossy(&commit).trim().to_owned();
        let listing = git(&["ls-tree", "-r", "-z", "--full-tree", &tree])?;
        let mut blobs: Vec<(String, String)> = Vec::new();
        for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, name)) = entry.split_once('\t') else {
                continue;
            };
            let mut meta = meta.split(' ');
            let (_mode, kind, oid) = (meta.next(), meta.next(), meta.next());
            if kind == Some("blob")
                && (name.ends_with(".yaml") || name.ends_with(".yml"))
                && let Some(oid) = oid
            {
                blobs.push((oid.to_owned(), name.to_owned()));
            }
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("metricsmith-diff-{}-{nanos}", std::process::id()));
        let tree = GitTree { dir };
        let root = tree.dir.join("tree");
        std::fs::create_dir_all(&root).map_err(|e| format!("error: {e}"))?;
        let mut child = Command::new("git")
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("error: cannot run git: {e}"))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or("error: git cat-file has no stdin")?;
        let stdout = child
            .stdout
            .take()
            .ok_or("error: git cat-file has no stdout")?;
        // Ids go in from another thread: git writes while it reads, and a full pipe on both
        // sides would stall.
        let ids: Vec<String> = blobs.iter().map(|(oid, _)| format!("{oid}\n")).collect();
        let writer = std::thread::spawn(move || {
            for id in ids {
                if stdin.write_all(id.as_bytes()).is_err() {
                    break;
                }
            }
        });
        let mut reader = BufReader::new(stdout);
        for (oid, name) in &blobs {
            let mut header = String::new();
            reader
                .read_line(&mut header)
                .map_err(|e| format!("error: reading git cat-file: {e}"))?;
            let size: usize = header
                .split(' ')
                .nth(2)
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| format!("error: git cat-file could not read {oid}: {header}"))?;
            let mut content = vec![0; size + 1];
            reader
                .read_exact(&mut content)
                .map_err(|e| format!("error: reading git cat-file: {e}"))?;
            content.pop();
            // Names come from git, but a hostile tree must not write outside the directory.
            if Path::new(name)
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                continue;
            }
            let file = root.join(name);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("error: {e}"))?;
            }
            std::fs::write(&file, content).map_err(|e| format!("error: {e}"))?;
        }
        let _ = writer.join();
        let _ = child.wait();
        Ok(tree)
    }
}
