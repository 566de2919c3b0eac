//! Exporting a plan to other schedulers.
//!
//! [`argo`] turns a plan into an Argo Workflows `Workflow` (one pod per
//! part, running `score task run`), and `yaml` writes it as YAML;
//! `repo_url` keeps credentials out of the repository URL it names.
//! `score export argo` is the command; `docs/scale-out.md` explains when
//! and how to use it.

pub mod argo;
pub(crate) mod repo_url;
pub(crate) mod yaml;

pub use argo::{ArgoOptions, argo_workflow, task_names};
pub use yaml::to_yaml;
