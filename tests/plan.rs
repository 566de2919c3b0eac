//! The plan compiler end to end: the examples' plans (snapshots, schema,
//! determinism), one task's prompt, the `score plan` summary, prompt
//! template overrides, and properties of waves, critical paths and hashes on
//! generated scores.

mod support;

use support::generate;

use proptest::prelude::*;
use score::plan::{self, Plan};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(p)
}

/// Loads, checks and builds the score at `entry`.
fn build_at(entry: &Path) -> Result<Plan, String> {
    let program = score::syntax::load(entry, &read).map_err(|e| e.to_string())?;
    let checked = score::check::check(&program);
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "{} has errors:\n{}",
            entry.display(),
            errors.join("\n")
        ));
    }
    let dir = entry.parent().unwrap_or(Path::new(""));
    plan::build(&checked, &program.sources, dir).map_err(|e| e.to_string())
}

/// Builds an example given relative to the crate root.
fn build(relative: &str) -> Plan {
    build_at(&root().join(relative)).unwrap_or_else(|e| panic!("{e}"))
}

/// Builds a score held in memory (a generated one), as if it were the file
/// `gen.score` in an empty directory.
fn build_text(text: &str) -> Plan {
    let program = score::syntax::load_source("gen.score", text.to_string(), Path::new(""), &read);
    let checked = score::check::check(&program);
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert!(errors.is_empty(), "{}\n{text}", errors.join("\n"));
    plan::build(&checked, &program.sources, Path::new("")).unwrap_or_else(|e| panic!("{e}"))
}

const EXAMPLES: &[(&str, &str)] = &[
    ("shortener", "examples/shortener.score"),
    ("webshop", "examples/webshop/main.score"),
    ("quickstart", "examples/quickstart/quickstart.score"),
];

#[test]
fn plan_snapshots() {
    for (name, path) in EXAMPLES {
        insta::assert_snapshot!(format!("plan_{name}"), plan::to_json(&build(path)));
    }
}

#[test]
fn prompt_snapshot() {
    let plan = build("examples/shortener.score");
    let store = plan
        .task("store")
        .expect("the shortener has a `store` part");
    insta::assert_snapshot!("prompt_shortener_store", store.prompt);
    // Every section at once: doc, intents, contract, inputs, outputs,
    // checks, postconditions, retries, approval and brief.
    let plan = build("examples/webshop/main.score");
    let payments = plan
        .task("payments")
        .expect("the webshop has a `payments` part");
    insta::assert_snapshot!("prompt_webshop_payments", payments.prompt);
}

#[test]
fn summary_snapshots() {
    for (name, path) in EXAMPLES {
        insta::assert_snapshot!(format!("summary_{name}"), plan::summary(&build(path)));
    }
}

#[test]
fn builds_are_byte_identical_wherever_the_project_lives() {
    for (_, path) in EXAMPLES {
        let first = plan::to_json(&build(path));
        let second = plan::to_json(&build(path));
        assert_eq!(first, second, "{path}: two builds differ");
        // The same score named through another (relative) path.
        let relative = PathBuf::from(path);
        let third = plan::to_json(&build_at(&relative).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(
            first, third,
            "{path}: the plan depends on how the file is named"
        );
        // Written straight from the types, with every key in order.
        let value: Value = serde_json::from_str(&first).unwrap();
        assert!(plan::keys_are_sorted(&value), "{path}: keys out of order");
        let root = root().to_string_lossy().into_owned();
        assert!(
            !first.contains(&root),
            "{path}: the plan holds a build-machine path"
        );
        assert!(first.ends_with("}\n"));
    }
}

#[test]
fn the_plan_schema_is_a_valid_draft_2020_12_schema() {
    let schema: Value = serde_json::from_str(plan::PLAN_SCHEMA).unwrap();
    assert!(jsonschema::draft202012::meta::is_valid(&schema));
    let on_disk = std::fs::read_to_string(root().join("schemas/score-plan-1.json")).unwrap();
    assert_eq!(on_disk, plan::PLAN_SCHEMA);
}

/// The entry files of every example: the `.score` files under `examples/`
/// that declare a `score`.
fn example_entries() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "score")
                && std::fs::read_to_string(&p)
                    .unwrap_or_default()
                    .lines()
                    .any(|l| l.starts_with("score "))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("examples"), &mut out);
    out
}

#[test]
fn every_example_plan_matches_the_schema() {
    let entries = example_entries();
    assert!(entries.len() >= EXAMPLES.len(), "{entries:?}");
    for entry in entries {
        let plan = build_at(&entry).unwrap_or_else(|e| panic!("{e}"));
        let json = plan::to_json(&plan);
        let value: Value = serde_json::from_str(&json).unwrap();
        if let Err(problems) = plan::validate(&value) {
            panic!(
                "the plan of {} does not match the schema:\n{}",
                entry.display(),
                problems.join("\n")
            );
        }
        // Every value schema in the plan is itself a valid schema.
        for task in &plan.tasks {
            let schemas = task
                .inputs
                .values()
                .map(|i| &i.schema)
                .chain(task.outputs.values().map(|o| &o.schema))
                .chain(std::iter::once(&task.result_schema));
            for s in schemas {
                assert!(
                    jsonschema::draft202012::meta::is_valid(s),
                    "{}: task {} has an invalid schema {}",
                    entry.display(),
                    task.id,
                    **s
                );
            }
        }
        // And it reads back as the same plan.
        assert_eq!(plan::load(&json).unwrap(), plan);
    }
}

#[test]
fn the_schema_rejects_malformed_plans() {
    let plan = build("examples/shortener.score");
    let good: Value = serde_json::from_str(&plan::to_json(&plan)).unwrap();

    let mut v = good.clone();
    v["tasks"][0].as_object_mut().unwrap().remove("hash");
    let problems = plan::validate(&v).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("/tasks/0") && p.contains("hash")),
        "{problems:?}"
    );

    let mut v = good.clone();
    v["tasks"][1]["retries"] = serde_json::json!(-1);
    let problems = plan::validate(&v).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("at /tasks/1/retries")),
        "{problems:?}"
    );

    let mut v = good.clone();
    v["sources"]["/home/me/shortener.score"] = v["source_hash"].clone();
    assert!(plan::validate(&v).is_err(), "absolute names are refused");

    let mut v = good.clone();
    v["format"] = serde_json::json!("score-plan/2");
    let err = plan::load(&v.to_string()).unwrap_err();
    assert!(err.to_string().contains("\"score-plan/2\""), "{err}");
    assert!(
        plan::load("{}")
            .unwrap_err()
            .to_string()
            .contains("not a score plan")
    );
    assert!(plan::load("nope").is_err());

    // Schema-valid but not runnable: a dependency on a task that is missing.
    let mut v = good;
    v["tasks"][0]["depends_on"] = serde_json::json!(["ghost"]);
    let err = plan::load(&v.to_string()).unwrap_err();
    assert!(err.to_string().contains("`ghost`"), "{err}");
}

#[test]
fn a_score_can_bring_its_own_prompt_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("prompts")).unwrap();
    let score = r#"
score demo {
  title "Demo"
  default_agent bot
  prompt_template "prompts/agent.md"
}

agent bot: mock {
  tier complex
}

intent greet "Say hello" {
  accept "it says hello"
}

part hello {
  serves greet
  output text: Text
  brief "Say hello."
}

part shout {
  serves greet
  input text = hello.text
  brief "Say it louder."
}
"#;
    std::fs::write(dir.path().join("demo.score"), score).unwrap();
    std::fs::write(
        dir.path().join("prompts/agent.md"),
        "{{! a house style }}\n{{task}} for {{title}}:\n{{brief}}\n{{#inputs}}\nwith {{input.text}}\n{{/inputs}}\n",
    )
    .unwrap();
    let plan = build_at(&dir.path().join("demo.score")).unwrap();
    assert_eq!(
        plan.task("hello").unwrap().prompt,
        "hello for Demo:\nSay hello.\n"
    );
    assert_eq!(
        plan.task("shout").unwrap().prompt,
        "shout for Demo:\nSay it louder.\nwith {{input.text}}\n"
    );
    assert_eq!(
        plan.score.prompt_template.as_deref(),
        Some("prompts/agent.md")
    );
    assert!(
        plan.sources.contains_key("prompts/agent.md"),
        "{:?}",
        plan.sources
    );

    // Editing the template changes the source hash and every task's hash.
    std::fs::write(dir.path().join("prompts/agent.md"), "{{task}}: {{brief}}\n").unwrap();
    let edited = build_at(&dir.path().join("demo.score")).unwrap();
    assert_ne!(edited.source_hash, plan.source_hash);
    for task in &plan.tasks {
        assert_ne!(edited.task(&task.id).unwrap().hash, task.hash);
    }

    // A broken template stops the build with its line.
    std::fs::write(dir.path().join("prompts/agent.md"), "ok\n{{breif}}\n").unwrap();
    let err = build_at(&dir.path().join("demo.score")).unwrap_err();
    assert!(err.contains("prompts/agent.md"), "{err}");
    assert!(
        err.contains("line 2: unknown section `breif`; did you mean `brief`?"),
        "{err}"
    );

    // A missing one too, saying where it was looked for.
    std::fs::remove_file(dir.path().join("prompts/agent.md")).unwrap();
    let err = build_at(&dir.path().join("demo.score")).unwrap_err();
    assert!(
        err.contains("cannot read the prompt template `prompts/agent.md`"),
        "{err}"
    );
}

// ------------------------------------------------------------ properties

/// A generated score: `deps[j]` lists the parts that part `j` runs after
/// (all with a smaller index, so the graph is acyclic); part names are
/// shuffled so that name order and dependency order disagree.
#[derive(Clone, Debug)]
struct Gen {
    names: Vec<String>,
    deps: Vec<Vec<usize>>,
    estimates_s: Vec<u64>,
    complexity: Vec<&'static str>,
    /// Input bindings: (consumer, producer), producer earlier.
    bindings: Vec<(usize, usize)>,
}

fn gen_score() -> impl Strategy<Value = Gen> {
    (1usize..10).prop_flat_map(|n| {
        let deps = proptest::collection::vec(
            proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
            n,
        );
        let estimates = proptest::collection::vec(1u64..120, n);
        let complexity = proptest::collection::vec(
            prop::sample::select(vec!["routine", "moderate", "complex"]),
            n,
        );
        let bindings = proptest::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            0..3,
        );
        let perm = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
        (Just(n), deps, estimates, complexity, bindings, perm).prop_map(
            |(n, deps, estimates_s, complexity, bindings, perm)| {
                let deps: Vec<Vec<usize>> = deps
                    .into_iter()
                    .enumerate()
                    .map(|(j, ds)| {
                        let mut ds: Vec<usize> = if j == 0 {
                            vec![]
                        } else {
                            ds.into_iter().map(|i| i.index(j)).collect()
                        };
                        ds.sort();
                        ds.dedup();
                        ds
                    })
                    .collect();
                let bindings = if n < 2 {
                    vec![]
                } else {
                    let mut seen = BTreeSet::new();
                    bindings
                        .into_iter()
                        .map(|(a, b)| {
                            let consumer = 1 + a.index(n - 1);
                            (consumer, b.index(consumer))
                        })
                        .filter(|b| seen.insert(b.0))
                        .collect()
                };
                Gen {
                    names: perm.iter().map(|p| format!("p{p}")).collect(),
                    deps,
                    estimates_s,
                    complexity,
                    bindings,
                }
            },
        )
    })
}

impl Gen {
    fn render(&self, changed_brief: Option<usize>) -> String {
        let mut s = String::from(
            "score gen {\n  default_agent bot\n}\n\nagent bot: mock {\n  tier complex\n}\n\nintent work \"Do the work\" {\n  accept \"it is done\"\n}\n\n",
        );
        for (j, name) in self.names.iter().enumerate() {
            s.push_str(&format!("part {name} {{\n  serves work\n"));
            s.push_str(&format!("  complexity {}\n", self.complexity[j]));
            s.push_str(&format!("  estimate {}s\n", self.estimates_s[j]));
            s.push_str(&format!("  output out_{name}: Int\n"));
            for (consumer, producer) in &self.bindings {
                if *consumer == j {
                    let p = &self.names[*producer];
                    s.push_str(&format!("  input from_{p} = {p}.out_{p}\n"));
                }
            }
            let brief = if changed_brief == Some(j) {
                "Changed."
            } else {
                "Work."
            };
            s.push_str(&format!("  brief \"{brief}\"\n}}\n\n"));
        }
        for (j, ds) in self.deps.iter().enumerate() {
            for &i in ds {
                s.push_str(&format!(
                    "sequence {{ {} -> {} }}\n",
                    self.names[i], self.names[j]
                ));
            }
        }
        s
    }

    /// Every dependency edge (sequence or binding), by index.
    fn edges(&self) -> BTreeSet<(usize, usize)> {
        let mut e = BTreeSet::new();
        for (j, ds) in self.deps.iter().enumerate() {
            for &i in ds {
                e.insert((i, j));
            }
        }
        for &(c, p) in &self.bindings {
            e.insert((p, c));
        }
        e
    }

    /// The indices downstream of `k` (excluding `k`).
    fn descendants(&self, k: usize) -> BTreeSet<usize> {
        let edges = self.edges();
        let mut out = BTreeSet::new();
        let mut stack = vec![k];
        while let Some(x) = stack.pop() {
            for &(a, b) in &edges {
                if a == x && out.insert(b) {
                    stack.push(b);
                }
            }
        }
        out
    }

    /// The longest path by estimate, by enumerating every path.
    fn brute_force_longest(&self) -> u64 {
        let edges = self.edges();
        fn longest_from(x: usize, g: &Gen, edges: &BTreeSet<(usize, usize)>) -> u64 {
            let here = g.estimates_s[x] * 1000;
            let best = edges
                .iter()
                .filter(|(a, _)| *a == x)
                .map(|&(_, b)| longest_from(b, g, edges))
                .max()
                .unwrap_or(0);
            here + best
        }
        (0..self.names.len())
            .map(|x| longest_from(x, self, &edges))
            .max()
            .unwrap_or(0)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn waves_respect_dependencies(g in gen_score()) {
        let plan = build_text(&g.render(None));
        let wave_of: BTreeMap<&str, usize> = plan
            .waves
            .iter()
            .enumerate()
            .flat_map(|(w, ids)| ids.iter().map(move |id| (id.as_str(), w)))
            .collect();
        prop_assert_eq!(wave_of.len(), plan.tasks.len(), "every task in exactly one wave");
        for task in &plan.tasks {
            let w = wave_of[task.id.as_str()];
            prop_assert_eq!(task.wave, w);
            for dep in &task.depends_on {
                prop_assert!(wave_of[dep.as_str()] < w, "{} depends on {} in a later wave", task.id, dep);
            }
            // As early as possible: a task after wave 0 waits for something
            // in the wave just before.
            if w > 0 {
                prop_assert!(task.depends_on.iter().any(|d| wave_of[d.as_str()] == w - 1));
            }
        }
        // The plan's dependencies are exactly the score's.
        let index: BTreeMap<&str, usize> = g.names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        let mut edges = BTreeSet::new();
        for task in &plan.tasks {
            for dep in &task.depends_on {
                edges.insert((index[dep.as_str()], index[task.id.as_str()]));
            }
        }
        prop_assert_eq!(edges, g.edges());
    }

    #[test]
    fn the_critical_path_is_a_longest_path(g in gen_score()) {
        let plan = build_text(&g.render(None));
        let cp = &plan.critical_path;
        prop_assert!(!cp.tasks.is_empty());
        // A chain of dependencies...
        for pair in cp.tasks.windows(2) {
            let later = plan.task(&pair[1]).unwrap();
            prop_assert!(later.depends_on.contains(&pair[0]), "{} does not depend on {}", pair[1], pair[0]);
        }
        // ...whose estimates add up to the stated length...
        let sum: u64 = cp.tasks.iter().map(|id| plan.task(id).unwrap().estimate_ms).sum();
        prop_assert_eq!(sum, cp.estimate_ms);
        // ...and no path is longer.
        prop_assert_eq!(cp.estimate_ms, g.brute_force_longest());
    }

    #[test]
    fn hashes_change_downstream_of_a_change_and_nowhere_else(
        g in gen_score(),
        pick in any::<prop::sample::Index>(),
    ) {
        let k = pick.index(g.names.len());
        let before = build_text(&g.render(None));
        let after = build_text(&g.render(Some(k)));
        let mut expected: BTreeSet<usize> = g.descendants(k);
        expected.insert(k);
        for (i, name) in g.names.iter().enumerate() {
            let a = &before.task(name).unwrap().hash;
            let b = &after.task(name).unwrap().hash;
            if expected.contains(&i) {
                prop_assert_ne!(a, b, "{} is downstream of {} but kept its hash", name, g.names[k]);
            } else {
                prop_assert_eq!(a, b, "{} is not downstream of {} but its hash changed", name, g.names[k]);
            }
        }
    }
}

// ------------------------------------------------------------------ scale

/// A large generated score goes through the whole pipeline (load, check,
/// build, JSON). Its speed is measured in `benches/build.rs`, not here.
#[test]
fn a_large_score_builds() {
    let parts = 1_000;
    let dir = tempfile::tempdir().unwrap();
    let entry = dir.path().join("big.score");
    std::fs::write(&entry, generate::generate(parts, 7)).unwrap();
    let plan = build_at(&entry).unwrap_or_else(|e| panic!("{e}"));
    let json = plan::to_json(&plan);
    assert_eq!(plan.tasks.len(), parts);
    assert!(json.len() > parts * 100);
}
