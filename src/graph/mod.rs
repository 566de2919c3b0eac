//! `score graph`: pictures of a plan's task graph.
//!
//! Two text formats are written here, deterministically: Graphviz DOT and
//! Mermaid (which GitHub renders in Markdown). Both show every part with its
//! agent, complexity (as a colour) and estimate, group the parts by wave
//! (waves run left to right) and draw the critical path in bold. SVG and
//! PNG are rendered from the DOT text by Graphviz's `dot` program, when it
//! is installed.

mod dot;
mod mermaid;

pub use dot::to_dot;
pub use mermaid::to_mermaid;

use crate::plan::Plan;
use crate::plan::types::{Complexity, Task};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::str::FromStr;

/// What `score graph --format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    /// Rendered by Graphviz.
    Svg,
    /// Rendered by Graphviz.
    Png,
}

impl GraphFormat {
    pub const NAMES: &'static [&'static str] = &["dot", "mermaid", "svg", "png"];

    pub fn as_str(self) -> &'static str {
        match self {
            GraphFormat::Dot => "dot",
            GraphFormat::Mermaid => "mermaid",
            GraphFormat::Svg => "svg",
            GraphFormat::Png => "png",
        }
    }

    /// Whether the format needs Graphviz's `dot` program.
    pub fn needs_graphviz(self) -> bool {
        matches!(self, GraphFormat::Svg | GraphFormat::Png)
    }

    /// The usual file extension (`mmd` for Mermaid).
    pub fn extension(self) -> &'static str {
        match self {
            GraphFormat::Dot => "dot",
            GraphFormat::Mermaid => "mmd",
            GraphFormat::Svg => "svg",
            GraphFormat::Png => "png",
        }
    }
}

impl fmt::Display for GraphFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GraphFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<GraphFormat, String> {
        match s.to_ascii_lowercase().as_str() {
            "dot" | "gv" | "graphviz" => Ok(GraphFormat::Dot),
            "mermaid" | "mmd" => Ok(GraphFormat::Mermaid),
            "svg" => Ok(GraphFormat::Svg),
            "png" => Ok(GraphFormat::Png),
            _ => Err(format!(
                "unknown graph format `{s}`: use one of {}",
                GraphFormat::NAMES.join(", ")
            )),
        }
    }
}

/// The message shown when `dot` is missing.
pub const DOT_NOT_FOUND: &str = "Graphviz `dot` was not found on PATH; install it (Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install graphviz`) or use `--format dot|mermaid`";

/// Why a picture could not be rendered.
#[derive(Debug)]
pub enum GraphError {
    /// Graphviz is not installed (or not on `PATH`).
    DotNotFound,
    /// `dot` ran but failed.
    DotFailed { status: String, stderr: String },
    /// Starting `dot` or talking to it failed.
    Io(std::io::Error),
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::DotNotFound => f.write_str(DOT_NOT_FOUND),
            GraphError::DotFailed { status, stderr } => {
                write!(f, "Graphviz `dot` failed ({status})")?;
                let stderr = stderr.trim();
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                Ok(())
            }
            GraphError::Io(e) => write!(f, "could not run Graphviz `dot`: {e}"),
        }
    }
}

impl std::error::Error for GraphError {}

/// The picture in `format`, as bytes ready to write. DOT and Mermaid never
/// fail; SVG and PNG run Graphviz.
/// What both pictures look up while drawing: the tasks by id, and the tasks
/// and edges of the critical path (drawn emphasised).
struct PlanIndex<'p> {
    critical: BTreeSet<&'p str>,
    critical_edges: BTreeSet<(&'p str, &'p str)>,
    by_id: HashMap<&'p str, &'p Task>,
}

impl<'p> PlanIndex<'p> {
    fn new(plan: &'p Plan) -> PlanIndex<'p> {
        let path = &plan.critical_path.tasks;
        PlanIndex {
            critical: path.iter().map(String::as_str).collect(),
            critical_edges: path
                .windows(2)
                .map(|w| (w[0].as_str(), w[1].as_str()))
                .collect(),
            by_id: plan.tasks.iter().map(|t| (t.id.as_str(), t)).collect(),
        }
    }
}

pub fn render(plan: &Plan, format: GraphFormat) -> Result<Vec<u8>, GraphError> {
    match format {
        GraphFormat::Dot => Ok(to_dot(plan).into_bytes()),
        GraphFormat::Mermaid => Ok(to_mermaid(plan).into_bytes()),
        GraphFormat::Svg | GraphFormat::Png => render_with_dot(&to_dot(plan), format),
    }
}

/// Runs `dot -Tsvg` (or `-Tpng`) on DOT text.
pub fn render_with_dot(dot_source: &str, format: GraphFormat) -> Result<Vec<u8>, GraphError> {
    render_with(dot_program(), dot_source, format)
}

/// `dot`, unless `SCORE_DOT` names another program (for packagers and for
/// testing the "not installed" path).
fn dot_program() -> String {
    std::env::var("SCORE_DOT").unwrap_or_else(|_| "dot".to_string())
}

fn render_with(
    program: String,
    dot_source: &str,
    format: GraphFormat,
) -> Result<Vec<u8>, GraphError> {
    let flag = match format {
        GraphFormat::Png => "-Tpng",
        _ => "-Tsvg",
    };
    let mut child = match Command::new(&program)
        .arg(flag)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(GraphError::DotNotFound),
        Err(e) => return Err(GraphError::Io(e)),
    };
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| GraphError::Io(std::io::Error::other("no pipe to the program's input")))?;
    let mut stdout = child.stdout.take().ok_or_else(|| {
        GraphError::Io(std::io::Error::other("no pipe from the program's output"))
    })?;
    let mut stderr = child.stderr.take().ok_or_else(|| {
        GraphError::Io(std::io::Error::other("no pipe from the program's errors"))
    })?;
    let source = dot_source.as_bytes().to_vec();
    // Write and read at the same time: a large graph fills the pipes.
    let (written, image, errors) = std::thread::scope(|s| {
        let writer = s.spawn(move || {
            let r = stdin.write_all(&source);
            drop(stdin);
            r
        });
        let err_reader = s.spawn(move || {
            let mut buf = Vec::new();
            stderr.read_to_end(&mut buf).map(|_| buf)
        });
        let mut image = Vec::new();
        let read = stdout.read_to_end(&mut image).map(|_| image);
        (
            writer
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("writer panicked"))),
            read,
            err_reader.join().unwrap_or_else(|_| Ok(Vec::new())),
        )
    });
    let status = child.wait().map_err(GraphError::Io)?;
    let stderr_text = String::from_utf8_lossy(&errors.unwrap_or_default()).into_owned();
    if !status.success() {
        return Err(GraphError::DotFailed {
            status: status.to_string(),
            stderr: stderr_text,
        });
    }
    // A broken pipe while writing only matters if `dot` also failed.
    let _ = written;
    image.map_err(GraphError::Io)
}

/// Fill and border colours per complexity: green, amber, red.
pub(crate) fn colours(c: Complexity) -> (&'static str, &'static str) {
    match c {
        Complexity::Routine => ("#c8e6c9", "#2e7d32"),
        Complexity::Moderate => ("#ffe0b2", "#ef6c00"),
        Complexity::Complex => ("#ffcdd2", "#c62828"),
    }
}

/// The colour of the critical path's edges and borders.
pub(crate) const CRITICAL: &str = "#1565c0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_with_a_helpful_error() {
        assert_eq!("DOT".parse::<GraphFormat>(), Ok(GraphFormat::Dot));
        assert_eq!("mermaid".parse::<GraphFormat>(), Ok(GraphFormat::Mermaid));
        let err = "jpeg".parse::<GraphFormat>().unwrap_err();
        assert_eq!(
            err,
            "unknown graph format `jpeg`: use one of dot, mermaid, svg, png"
        );
        assert!(GraphFormat::Png.needs_graphviz() && !GraphFormat::Dot.needs_graphviz());
    }

    #[test]
    fn a_missing_dot_program_says_how_to_install_it() {
        let err = render_with(
            "score-test-no-such-program-dot".into(),
            "digraph {}",
            GraphFormat::Svg,
        )
        .unwrap_err();
        assert!(matches!(err, GraphError::DotNotFound));
        let text = err.to_string();
        assert!(text.contains("apt-get install graphviz"), "{text}");
        assert!(text.contains("brew install graphviz"), "{text}");
        assert!(text.contains("--format dot|mermaid"), "{text}");
    }

    #[test]
    fn a_failing_program_reports_its_status() {
        // `false` exists on every POSIX system and exits with 1.
        if cfg!(unix) {
            let err = render_with("false".into(), "digraph {}", GraphFormat::Svg).unwrap_err();
            assert!(matches!(err, GraphError::DotFailed { .. }), "{err}");
        }
    }
}
