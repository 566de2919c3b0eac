//! The pest parser generated from `grammar/score.pest`.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/score.pest"]
pub(crate) struct ScoreParser;
