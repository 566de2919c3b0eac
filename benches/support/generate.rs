//! A deterministic generator of large, realistic and *valid* `.score`
//! programs, shared by the benchmarks through
//! `#[path = "support/generate.rs"] mod generate;`.
//!
//! Benchmarks need inputs that are big (10k+ parts), look like what people
//! write (doc comments, comments, text-block briefs, contracts, bindings,
//! sequences, records, enums) and check clean: a score with errors would let
//! the checker skip work and flatter the numbers. So the generator first
//! builds a small model of the program with the checker's rules in mind, then
//! prints it:
//!
//! - parts are spread over a few *layers*; bindings (`input x = p.y`) and
//!   `sequence` edges only go from an earlier layer to a later one, so the
//!   order is a DAG and every layer is a wide wave of parallel parts;
//! - parts that may run at the same time own disjoint paths: most own their
//!   own directory (`src/mod_<i>/**`), some own files under a shared prefix
//!   (`src/shared/p<i>.rs`), and small *stage groups* own the same file but
//!   are ordered one after another by a `sequence` chain;
//! - a part reads only unowned paths or the files of a part it binds to
//!   (which therefore runs before it);
//! - every input is bound to an output of the same type, every part serves
//!   an intent, every intent has an `accept`, and no part is more complex
//!   than its agent's tier.
//!
//! A tiny splitmix64 keeps the output reproducible without a `rand`
//! dependency: the same `(parts, seed)` always yields the same bytes.

use std::collections::HashSet;
use std::fmt::Write as _;

/// Generates one `.score` program with `parts` parts, about `parts / 10`
/// contracts, `parts / 20` record types and enums, `parts / 8` intents and
/// 4 to 6 agents. Deterministic in `(parts, seed)`.
pub fn generate(parts: usize, seed: u64) -> String {
    let model = Model::build(parts, seed);
    let mut out = String::with_capacity(parts * 900 + 4096);
    model.render(&mut out, seed);
    out
}

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast and good enough to vary
/// the shape of a benchmark input.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must not be 0.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Tier {
    Routine,
    Moderate,
    Complex,
}

impl Tier {
    fn word(self) -> &'static str {
        match self {
            Tier::Routine => "routine",
            Tier::Moderate => "moderate",
            Tier::Complex => "complex",
        }
    }
}

/// A type as the generator writes it.
#[derive(Clone, PartialEq)]
enum Ty {
    Prim(&'static str),
    Record(usize),
    Enum(usize),
    List(Box<Ty>),
    Optional(Box<Ty>),
    /// `{Text: T}`
    Map(Box<Ty>),
}

struct Agent {
    name: &'static str,
    tier: Tier,
}

struct Record {
    name: String,
    doc: bool,
    /// (doc, name, type)
    fields: Vec<(bool, &'static str, Ty)>,
}

struct EnumDef {
    name: String,
    variants: Vec<&'static str>,
    multiline: bool,
}

struct Intent {
    name: String,
    statement: String,
    accepts: Vec<String>,
    priority: &'static str,
}

/// A contract fulfilled by exactly one part, which owns its directory.
struct Contract {
    name: String,
    owner: usize,
    input: Option<(&'static str, Ty)>,
    outputs: Vec<(&'static str, Ty)>,
}

/// A contract without `owns`, so that many parallel parts may fulfil it.
struct Mixin {
    name: String,
    output: (&'static str, Ty),
    ensures: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
enum Home {
    /// Owns `src/mod_<i>/**` (directly or through its contract).
    Dir,
    /// Owns `src/shared/p<i>.rs` and `src/shared/p<i>_*.rs`.
    Shared,
    /// Shares `src/core/stage_<g>.rs` with the other parts of stage group g,
    /// which a sequence chain orders one after another.
    Stage(usize),
}

enum Source {
    Score(&'static str),
    Part(usize, &'static str),
}

struct Binding {
    name: String,
    source: Source,
    ty: Ty,
    /// Written `input n: T = p.o` rather than `input n = p.o`.
    typed: bool,
}

struct Part {
    name: String,
    area: &'static str,
    layer: usize,
    home: Home,
    contract: Option<usize>,
    mixin: Option<usize>,
    /// Index into `Model::agents`; `None` leaves it to `default_agent`.
    agent: Option<usize>,
    complexity: Tier,
    outputs: Vec<(&'static str, Ty)>,
    bindings: Vec<Binding>,
    serves: Vec<usize>,
    reads: Vec<String>,
    ensures: Vec<String>,
    extra_owns: bool,
    doc: bool,
    brief: usize,
    retries: usize,
    timeout: Option<usize>,
    estimate: Option<usize>,
    budget: Option<usize>,
    approve: bool,
}

enum Step {
    One(usize),
    Group(Vec<usize>),
}

struct Model {
    agents: Vec<Agent>,
    records: Vec<Record>,
    enums: Vec<EnumDef>,
    intents: Vec<Intent>,
    contracts: Vec<Contract>,
    mixins: Vec<Mixin>,
    parts: Vec<Part>,
    layer_starts: Vec<usize>,
    /// Each chain is a list of steps; chains are printed a few per block.
    chains: Vec<Vec<Step>>,
}

const AREAS: &[&str] = &[
    "auth", "billing", "store", "api", "ui", "search", "ingest", "report", "notify", "admin",
    "gateway", "cache", "queue", "sched", "audit", "export", "media", "geo",
];
const NOUNS: &[&str] = &[
    "Order", "Invoice", "Account", "Session", "Event", "Ticket", "Shipment", "Product", "Review",
    "Payment", "Message", "Report", "Quota", "Tenant", "Upload",
];
const FIELDS: &[&str] = &[
    "id", "name", "count", "tags", "note", "owner", "created", "status", "items", "attrs",
    "weight", "parent", "url", "size", "enabled",
];
const VARIANTS: &[&str] = &[
    "draft", "active", "paused", "archived", "failed", "pending", "done", "blocked", "review",
];
const VERBS: &[&str] = &[
    "export", "import", "search", "approve", "refund", "notify", "archive", "sync", "render",
    "audit",
];
const OBJECTS: &[&str] = &[
    "invoices", "orders", "accounts", "reports", "uploads", "tickets", "events", "payments",
];
const PRIORITIES: &[&str] = &["must", "should", "could"];
const OUTPUTS: &[&str] = &[
    "api",
    "schema",
    "report",
    "config",
    "summary",
    "manifest",
    "endpoints",
    "events",
    "errors",
    "routes",
];
const SENTENCES: &[&str] = &[
    "Keep the public surface small and document every exported item.",
    "Validate every input at the boundary and return errors the caller can act on.",
    "Prefer plain data structures; no global state.",
    "Write unit tests next to the code for each branch you add.",
    "Log at debug level only; never log secrets or personal data.",
    "Make the operation idempotent: running it twice must not change the result.",
    "Stream large inputs instead of loading them into memory.",
    "Time out outbound calls after five seconds and retry with backoff.",
];
const ACCEPTS: &[&str] = &[
    "the same request submitted twice yields the same result",
    "an invalid request is rejected with a clear error",
    "the operation finishes within two seconds for 10k records",
    "an unauthorised user gets a 403 and nothing changes",
    "every change is recorded in the audit log",
    "the result can be downloaded as CSV",
];

impl Model {
    fn build(n: usize, seed: u64) -> Model {
        let mut rng = Rng(seed ^ 0x5C0E_5C0E_5C0E_5C0E);

        let agents = choose_agents(&mut rng);

        // Layers: bindings and sequence edges only go forward, so the program
        // has at most this many waves, each about n / layers wide.
        let layers = if n == 0 { 0 } else { rng.between(6, 10).min(n) };
        let layer_starts: Vec<usize> = (0..=layers)
            .map(|l| (l * n).div_ceil(layers.max(1)))
            .collect();
        let layer_of = |i: usize| (0..layers).rfind(|&l| layer_starts[l] <= i).unwrap_or(0);

        let records = make_records(&mut rng, (n / 30).max(1));
        let enums = make_enums(&mut rng, (n / 60).max(1));
        let intents = if n == 0 {
            Vec::new()
        } else {
            make_intents(&mut rng, (n / 8).max(1))
        };

        // Homes. Stage groups take one part from each of three consecutive
        // layers, so the chain that orders them goes forward too.
        let mut homes: Vec<Option<Home>> = vec![None; n];
        let groups = if layers >= 3 { n / 30 } else { 0 };
        let mut stage_groups: Vec<Vec<usize>> = Vec::new();
        for g in 0..groups {
            let first = rng.below(layers - 2);
            let mut members = Vec::new();
            for layer in first..first + 3 {
                let (lo, hi) = (layer_starts[layer], layer_starts[layer + 1]);
                for _ in 0..20 {
                    let i = rng.between(lo, hi - 1);
                    if homes[i].is_none() {
                        homes[i] = Some(Home::Stage(g));
                        members.push(i);
                        break;
                    }
                }
            }
            stage_groups.push(members);
        }
        let homes: Vec<Home> = homes
            .into_iter()
            .map(|h| {
                h.unwrap_or_else(|| {
                    if rng.chance(75) {
                        Home::Dir
                    } else {
                        Home::Shared
                    }
                })
            })
            .collect();

        // Contracts: about n / 10 in all, a tenth of them mixins.
        let total_contracts = if n == 0 { 0 } else { (n / 10).max(1) };
        let mixin_count = total_contracts / 10;
        let dirs: Vec<usize> = (0..n).filter(|&i| homes[i] == Home::Dir).collect();
        let primary = (total_contracts - mixin_count).min(dirs.len());
        let mut contract_of: Vec<Option<usize>> = vec![None; n];
        for k in 0..primary {
            contract_of[dirs[k * dirs.len() / primary]] = Some(k);
        }
        let mixins: Vec<Mixin> = (0..mixin_count)
            .map(|k| {
                let (name, output, ensures) = if k % 2 == 0 {
                    (
                        format!("Documented{k}"),
                        ("doc_index", Ty::List(Box::new(Ty::Prim("Path")))),
                        "every public item has a doc comment",
                    )
                } else {
                    (
                        format!("Observable{k}"),
                        ("health", Ty::Prim("Bool")),
                        "every request is traced with a span",
                    )
                };
                Mixin {
                    name,
                    output,
                    ensures,
                }
            })
            .collect();

        let mut contracts: Vec<Contract> = Vec::new();
        let mut parts: Vec<Part> = Vec::with_capacity(n);
        for (i, &home) in homes.iter().enumerate() {
            let layer = layer_of(i);
            let area = *rng.pick(AREAS);
            let name = format!("{area}_{i}");

            let agent = if rng.chance(35) {
                Some(rng.between(1, agents.len() - 1))
            } else {
                None
            };
            let tier = agents[agent.unwrap_or(0)].tier;
            let complexity = match rng.below(10) {
                0..=5 => Tier::Routine,
                6..=8 => Tier::Moderate,
                _ => Tier::Complex,
            };
            let complexity = if complexity > tier { tier } else { complexity };

            let mut outputs = Vec::new();
            for _ in 0..rng.between(1, 2) {
                let word = *rng.pick(OUTPUTS);
                if outputs.iter().all(|(w, _)| *w != word) {
                    outputs.push((word, random_ty(&mut rng, &records, &enums)));
                }
            }

            let earlier = layer_starts[layer];
            let mut bindings: Vec<Binding> = Vec::new();
            let mut bound: HashSet<(usize, &'static str)> = HashSet::new();
            let mut reads: Vec<String> = Vec::new();
            let mut bind_one = |rng: &mut Rng,
                                parts: &[Part],
                                contracts: &[Contract],
                                mixins: &[Mixin],
                                name: Option<&str>|
             -> Option<Binding> {
                for _ in 0..8 {
                    let j = rng.below(earlier);
                    let offered = outputs_of(&parts[j], contracts, mixins);
                    let (o, ty) = offered[rng.below(offered.len())].clone();
                    if bound.insert((j, o)) {
                        return Some(Binding {
                            name: name.map_or_else(|| format!("{o}_{j}"), str::to_string),
                            source: Source::Part(j, o),
                            ty,
                            typed: rng.chance(20),
                        });
                    }
                }
                None
            };

            let contract = contract_of[i].map(|_| {
                let k = contracts.len();
                let input = if earlier > 0 {
                    bind_one(&mut rng, &parts, &contracts, &mixins, Some("upstream")).map(|b| {
                        let ty = b.ty.clone();
                        bindings.push(Binding { typed: false, ..b });
                        ("upstream", ty)
                    })
                } else {
                    bindings.push(Binding {
                        name: "upstream".to_string(),
                        source: Source::Score("repo"),
                        ty: Ty::Prim("Text"),
                        typed: false,
                    });
                    Some(("upstream", Ty::Prim("Text")))
                };
                let outputs = vec![("iface", random_ty(&mut rng, &records, &enums))];
                contracts.push(Contract {
                    name: format!("{}{i}Boundary", capitalise(area)),
                    owner: i,
                    input,
                    outputs,
                });
                k
            });

            if earlier > 0 {
                for _ in 0..rng.below(4) {
                    if let Some(b) = bind_one(&mut rng, &parts, &contracts, &mixins, None) {
                        bindings.push(b);
                    }
                }
            }
            if rng.chance(10) {
                let input = if rng.chance(50) { "repo" } else { "release" };
                bindings.push(Binding {
                    name: input.to_string(),
                    source: Source::Score(input),
                    ty: Ty::Prim("Text"),
                    typed: rng.chance(30),
                });
            }

            // Reading a bound part's files is safe: the binding orders it
            // first. Stage files are shared with parts that may run alongside.
            for b in &bindings {
                if let Source::Part(j, _) = b.source {
                    match parts[j].home {
                        Home::Dir => reads.push(format!("src/mod_{j}/lib.rs")),
                        Home::Shared => reads.push(format!("src/shared/p{j}.rs")),
                        Home::Stage(_) => {}
                    }
                }
            }
            reads.sort();
            reads.dedup();
            if rng.chance(25) {
                reads.push("docs/spec/**".to_string());
            }

            let mut serves = vec![i % intents.len()];
            if rng.chance(30) {
                let other = rng.below(intents.len());
                if other != serves[0] {
                    serves.push(other);
                }
            }

            let mut ensures = Vec::new();
            match rng.below(5) {
                0 | 1 => ensures.push(format!("unit_tests(package: \"{name}\")")),
                2 => ensures.push(format!("lint(path: \"src/mod_{i}\")")),
                3 => ensures.push(format!(
                    "load_test(target: \"http://localhost:8080/{area}\", rps: {})",
                    rng.between(1, 20) * 50
                )),
                _ => {}
            }
            if rng.chance(30) {
                ensures.push(format!("\"{}\"", rng.pick(ACCEPTS)));
            }

            let mixin = if !mixins.is_empty() && rng.chance(15) {
                Some(rng.below(mixins.len()))
            } else {
                None
            };

            parts.push(Part {
                name,
                area,
                layer,
                home,
                contract,
                mixin,
                agent,
                complexity,
                outputs,
                bindings,
                serves,
                reads,
                ensures,
                extra_owns: rng.chance(30),
                doc: rng.chance(50),
                brief: rng.below(SENTENCES.len()),
                retries: if rng.chance(30) { rng.between(1, 3) } else { 0 },
                timeout: rng.chance(40).then(|| rng.between(5, 60)),
                estimate: rng.chance(40).then(|| rng.between(10, 120)),
                budget: rng.chance(20).then(|| rng.between(50, 400) * 1000),
                approve: rng.chance(2),
            });
        }

        // Sequences: every stage group in order, plus milestone chains with a
        // parallel group in the middle, all going forward through the layers.
        let mut chains: Vec<Vec<Step>> = stage_groups
            .into_iter()
            .filter(|m| m.len() >= 2)
            .map(|m| m.into_iter().map(Step::One).collect())
            .collect();
        if layers >= 3 {
            for _ in 0..n / 40 {
                let a = rng.below(layers - 2);
                let b = rng.between(a + 1, layers - 2);
                let c = rng.between(b + 1, layers - 1);
                let in_layer =
                    |rng: &mut Rng, l: usize| rng.between(layer_starts[l], layer_starts[l + 1] - 1);
                let first = in_layer(&mut rng, a);
                let mut group = vec![in_layer(&mut rng, b)];
                for _ in 0..rng.below(3) {
                    let p = in_layer(&mut rng, b);
                    if !group.contains(&p) {
                        group.push(p);
                    }
                }
                let last = in_layer(&mut rng, c);
                chains.push(vec![Step::One(first), Step::Group(group), Step::One(last)]);
            }
        }

        Model {
            agents,
            records,
            enums,
            intents,
            contracts,
            mixins,
            parts,
            layer_starts,
            chains,
        }
    }

    fn render(&self, out: &mut String, seed: u64) {
        let n = self.parts.len();
        let _ = writeln!(
            out,
            "// Generated by benches/support/generate.rs: {n} parts, seed {seed}.\n\
             // Do not edit: regenerate instead.\n"
        );
        out.push_str(
            "/// A large platform built by many agents in parallel.\n\
             score platform {\n\
             \x20 title \"Platform rebuild\"\n\
             \x20 workspace \".\"        // repository the parts write into\n\
             \x20 concurrency 16\n\
             \x20 default_agent coder\n\
             \x20 budget usd 2500\n\
             \x20 /// The repository to clone.\n\
             \x20 input repo: Text\n\
             \x20 input release: Text\n\
             }\n\n",
        );

        out.push_str(
            "/// Runs one package's unit tests.\n\
             check unit_tests(package: Text) {\n\
             \x20 run \"cargo test -p {package}\"\n\
             \x20 timeout 10m\n\
             }\n\n\
             check lint(path: Path) {\n\
             \x20 run \"cargo clippy --manifest-path {path}/Cargo.toml -- -D warnings\"\n\
             }\n\n\
             /* Load tests hit a locally started server; keep the rate modest\n\
             \x20  so that they stay stable on CI machines. */\n\
             check load_test(target: Text, rps: Int) {\n\
             \x20 run \"k6 run --rps {rps} {target}\"\n\
             \x20 timeout 5m\n\
             }\n\n",
        );

        for r in &self.records {
            self.render_record(out, r);
        }
        for e in &self.enums {
            if e.multiline {
                let _ = writeln!(out, "/// The states a {} goes through.", e.name);
                let _ = writeln!(out, "enum {} {{", e.name);
                for (k, v) in e.variants.iter().enumerate() {
                    if k == 0 {
                        let _ = writeln!(out, "  /// The initial state.");
                    }
                    let _ = writeln!(out, "  {v},");
                }
                out.push_str("}\n\n");
            } else {
                let _ = writeln!(out, "enum {} {{ {} }}\n", e.name, e.variants.join(", "));
            }
        }

        for intent in &self.intents {
            let _ = writeln!(out, "intent {} \"{}\" {{", intent.name, intent.statement);
            for a in &intent.accepts {
                let _ = writeln!(out, "  accept \"{a}\"");
            }
            let _ = writeln!(out, "  priority {}\n}}\n", intent.priority);
        }

        for agent in &self.agents {
            out.push_str(agent_text(agent.name));
            out.push('\n');
        }

        for m in &self.mixins {
            let _ = writeln!(
                out,
                "/// Mixed into parts that need it; owns nothing, so parallel parts may share it.\n\
                 contract {} {{\n  output {}: {}\n  reads \"docs/style.md\"\n  ensures \"{}\"\n}}\n",
                m.name,
                m.output.0,
                self.ty(&m.output.1),
                m.ensures
            );
        }

        for (layer, window) in self.layer_starts.windows(2).enumerate() {
            let _ = writeln!(
                out,
                "// ---- layer {layer}: parts {} to {} ----\n",
                window[0],
                window[1].saturating_sub(1)
            );
            for i in window[0]..window[1] {
                self.render_part(out, i);
            }
        }

        for (b, block) in self.chains.chunks(12).enumerate() {
            if b == 0 {
                out.push_str(
                    "/// Stage groups share a file, so they run one after another;\n\
                     /// milestones wait for whole groups.\n",
                );
            }
            out.push_str("sequence {\n");
            for chain in block {
                let steps: Vec<String> = chain
                    .iter()
                    .map(|s| match s {
                        Step::One(p) => self.parts[*p].name.clone(),
                        Step::Group(ps) => format!(
                            "[{}]",
                            ps.iter()
                                .map(|p| self.parts[*p].name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    })
                    .collect();
                let _ = writeln!(out, "  {}", steps.join(" -> "));
            }
            out.push_str("}\n\n");
        }
    }

    fn render_record(&self, out: &mut String, r: &Record) {
        if r.doc {
            let _ = writeln!(out, "/// A {} as it crosses a boundary.", r.name);
        }
        let _ = writeln!(out, "type {} {{", r.name);
        for (k, (doc, name, ty)) in r.fields.iter().enumerate() {
            if *doc {
                let _ = writeln!(out, "  /// The {name} of this record.");
            }
            let comma = if k % 2 == 0 { "," } else { "" };
            let _ = writeln!(out, "  {name}: {}{comma}", self.ty(ty));
        }
        out.push_str("}\n\n");
    }

    fn render_part(&self, out: &mut String, i: usize) {
        let p = &self.parts[i];
        if let Some(k) = p.contract {
            let c = &self.contracts[k];
            debug_assert_eq!(c.owner, i);
            let _ = writeln!(out, "/// The boundary of {}.", p.name);
            let _ = writeln!(out, "contract {} {{", c.name);
            if let Some((name, ty)) = &c.input {
                let _ = writeln!(out, "  input  {name}: {}", self.ty(ty));
            }
            for (name, ty) in &c.outputs {
                let _ = writeln!(out, "  output {name}: {}", self.ty(ty));
            }
            let _ = writeln!(out, "  owns   \"src/mod_{i}/**\"");
            out.push_str("  reads  \"Cargo.toml\", \"docs/spec/**\"\n");
            let _ = writeln!(out, "  ensures unit_tests(package: \"{}\")", p.name);
            out.push_str("  ensures \"every public function has a doc comment\"\n}\n\n");
        }

        if p.doc {
            let _ = writeln!(
                out,
                "/// The {} component, slice {i} (layer {}).",
                p.area, p.layer
            );
        }
        let mut head = format!("part {}", p.name);
        let fulfils: Vec<&str> = p
            .contract
            .map(|k| self.contracts[k].name.as_str())
            .into_iter()
            .chain(p.mixin.map(|k| self.mixins[k].name.as_str()))
            .collect();
        if !fulfils.is_empty() {
            let _ = write!(head, ": {}", fulfils.join(" + "));
        }
        if let Some(a) = p.agent {
            let _ = write!(head, " by {}", self.agents[a].name);
        }
        let _ = writeln!(out, "{head} {{");

        let serves: Vec<&str> = p
            .serves
            .iter()
            .map(|&k| self.intents[k].name.as_str())
            .collect();
        let _ = writeln!(out, "  serves {}", serves.join(", "));
        if p.complexity != Tier::Routine || i.is_multiple_of(3) {
            let _ = writeln!(out, "  complexity {}", p.complexity.word());
        }
        for b in &p.bindings {
            let source = match &b.source {
                Source::Score(name) => format!("score.{name}"),
                Source::Part(j, o) => format!("{}.{o}", self.parts[*j].name),
            };
            if b.typed {
                let _ = writeln!(out, "  input {}: {} = {source}", b.name, self.ty(&b.ty));
            } else {
                let _ = writeln!(out, "  input {} = {source}", b.name);
            }
        }
        for (name, ty) in &p.outputs {
            let _ = writeln!(out, "  output {name}: {}", self.ty(ty));
        }
        // One `owns` line: the part's own globs on top of its contract's.
        let mut owns: Vec<String> = match p.home {
            Home::Dir if p.contract.is_some() => Vec::new(),
            Home::Dir => vec![format!("src/mod_{i}/**"), format!("tests/mod_{i}/*.rs")],
            Home::Shared => vec![
                format!("src/shared/p{i}.rs"),
                format!("src/shared/p{i}_*.rs"),
            ],
            Home::Stage(g) => {
                out.push_str(
                    "  // shared with the rest of the stage group: ordered by a sequence\n",
                );
                vec![
                    format!("src/core/stage_{g}.rs"),
                    format!("src/core/stage_{g}/p{i}/**"),
                ]
            }
        };
        if p.extra_owns {
            if p.contract.is_some() {
                // Inside the contract's directory, as E0402 requires.
                owns.push(format!("src/mod_{i}/generated/**"));
            } else {
                owns.push(format!("docs/parts/{}.{{md,txt}}", p.name));
            }
        }
        if !owns.is_empty() {
            let owns: Vec<String> = owns.iter().map(|o| format!("\"{o}\"")).collect();
            let _ = writeln!(out, "  owns {}", owns.join(", "));
        }
        if !p.reads.is_empty() {
            let reads: Vec<String> = p.reads.iter().map(|r| format!("\"{r}\"")).collect();
            let _ = writeln!(out, "  reads {}", reads.join(", "));
        }
        for e in &p.ensures {
            let _ = writeln!(out, "  ensures {e}");
        }
        if p.retries > 0 {
            let _ = writeln!(out, "  retries {} /* the network is flaky */", p.retries);
        }
        if let Some(m) = p.timeout {
            let _ = writeln!(out, "  timeout {m}m");
        }
        if let Some(m) = p.estimate {
            let _ = writeln!(out, "  /// Used for the critical path.\n  estimate {m}m");
        }
        if let Some(t) = p.budget {
            let _ = writeln!(out, "  budget tokens {}_{:03}", t / 1000, t % 1000);
        }
        if p.approve {
            out.push_str("  approve \"the tech lead\"\n");
        }
        let intent = &self.intents[p.serves[0]];
        let _ = writeln!(
            out,
            "  brief \"\"\"\n    Build the {} component for slice {i}.\n    It exists so that: {}.\n\n    {}\n    {}\n    \"\"\"\n}}\n",
            p.area,
            intent.statement.to_lowercase(),
            SENTENCES[p.brief],
            SENTENCES[(p.brief + 3) % SENTENCES.len()],
        );
    }

    fn ty(&self, ty: &Ty) -> String {
        match ty {
            Ty::Prim(name) => (*name).to_string(),
            Ty::Record(k) => self.records[*k].name.clone(),
            Ty::Enum(k) => self.enums[*k].name.clone(),
            Ty::List(t) => format!("[{}]", self.ty(t)),
            Ty::Optional(t) => format!("{}?", self.ty(t)),
            Ty::Map(t) => format!("{{Text: {}}}", self.ty(t)),
        }
    }
}

/// Everything a part produces: its own outputs and those of its contracts.
fn outputs_of(part: &Part, contracts: &[Contract], mixins: &[Mixin]) -> Vec<(&'static str, Ty)> {
    let mut all = part.outputs.clone();
    if let Some(k) = part.contract {
        all.extend(contracts[k].outputs.iter().cloned());
    }
    if let Some(k) = part.mixin {
        all.push(mixins[k].output.clone());
    }
    all
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn random_ty(rng: &mut Rng, records: &[Record], enums: &[EnumDef]) -> Ty {
    let record = |rng: &mut Rng| Ty::Record(rng.below(records.len()));
    match rng.below(14) {
        0..=3 => Ty::Prim("Text"),
        4 => Ty::Prim("Int"),
        5 => Ty::Prim("Bool"),
        6 => Ty::Prim("Json"),
        7 => Ty::Prim("Path"),
        8 => Ty::List(Box::new(Ty::Prim("Text"))),
        9 => Ty::Map(Box::new(Ty::Prim("Int"))),
        10 => record(rng),
        11 => Ty::Optional(Box::new(record(rng))),
        12 => Ty::List(Box::new(record(rng))),
        _ => Ty::Enum(rng.below(enums.len())),
    }
}

fn make_records(rng: &mut Rng, count: usize) -> Vec<Record> {
    (0..count)
        .map(|k| {
            let mut fields: Vec<(bool, &'static str, Ty)> = Vec::new();
            for _ in 0..rng.between(2, 6) {
                let name = *rng.pick(FIELDS);
                if fields.iter().any(|(_, f, _)| *f == name) {
                    continue;
                }
                // Only earlier records: no record can contain itself (E0204).
                let ty = match rng.below(12) {
                    0..=2 => Ty::Prim("Text"),
                    3 => Ty::Prim("Int"),
                    4 => Ty::Prim("Float"),
                    5 => Ty::Prim("Bool"),
                    6 => Ty::Optional(Box::new(Ty::Prim("Text"))),
                    7 => Ty::List(Box::new(Ty::Prim("Text"))),
                    8 => Ty::Map(Box::new(Ty::Prim("Json"))),
                    9 => Ty::Prim("Path"),
                    _ if k > 0 => {
                        let inner = Ty::Record(rng.below(k));
                        if rng.chance(50) {
                            Ty::Optional(Box::new(inner))
                        } else {
                            Ty::List(Box::new(inner))
                        }
                    }
                    _ => Ty::Prim("Text"),
                };
                fields.push((rng.chance(20), name, ty));
            }
            Record {
                name: format!("{}{k}", rng.pick(NOUNS)),
                doc: rng.chance(60),
                fields,
            }
        })
        .collect()
}

fn make_enums(rng: &mut Rng, count: usize) -> Vec<EnumDef> {
    (0..count)
        .map(|k| {
            let start = rng.below(VARIANTS.len() - 2);
            let len = rng.between(2, (VARIANTS.len() - start).min(5));
            EnumDef {
                name: format!("{}State{k}", rng.pick(NOUNS)),
                variants: VARIANTS[start..start + len].to_vec(),
                multiline: rng.chance(40),
            }
        })
        .collect()
}

fn make_intents(rng: &mut Rng, count: usize) -> Vec<Intent> {
    (0..count)
        .map(|k| {
            let verb = *rng.pick(VERBS);
            let object = *rng.pick(OBJECTS);
            let accepts = (0..rng.between(1, 3))
                .map(|_| rng.pick(ACCEPTS).to_string())
                .collect();
            Intent {
                name: format!("{verb}_{object}_{k}"),
                statement: format!("A user can {verb} {object} (feature {k})"),
                accepts,
                priority: PRIORITIES[rng.below(PRIORITIES.len())],
            }
        })
        .collect()
}

/// The default agent comes first; the others follow in a seed-dependent
/// selection that always covers the four providers.
fn choose_agents(rng: &mut Rng) -> Vec<Agent> {
    let mut agents = vec![
        Agent {
            name: "coder",
            tier: Tier::Moderate,
        },
        Agent {
            name: "architect",
            tier: Tier::Complex,
        },
        Agent {
            name: "planner",
            tier: Tier::Complex,
        },
        Agent {
            name: "sim",
            tier: Tier::Complex,
        },
    ];
    if rng.chance(60) {
        agents.push(Agent {
            name: "local",
            tier: Tier::Moderate,
        });
    }
    if rng.chance(60) {
        agents.push(Agent {
            name: "scribe",
            tier: Tier::Routine,
        });
    }
    agents
}

fn agent_text(name: &str) -> &'static str {
    match name {
        "coder" => {
            "/// A local coding-agent CLI; the default for routine work.\n\
             agent coder: command {\n\
             \x20 run [\"aider\", \"--yes-always\", \"--message-file\", \"{prompt_file}\"]\n\
             \x20 env { RUST_LOG: \"info\", \"CARGO_TERM_COLOR\": \"never\" }\n\
             \x20 tier moderate\n\
             \x20 concurrency 4\n\
             }\n"
        }
        "architect" => {
            "/// Designs the hard parts.\n\
             agent architect: anthropic {\n\
             \x20 model \"claude-sonnet-4-5\"\n\
             \x20 key_env \"ANTHROPIC_API_KEY\"\n\
             \x20 max_tokens 16_000\n\
             \x20 tier complex\n\
             \x20 price_in 3\n\
             \x20 price_out 15\n\
             }\n"
        }
        "planner" => {
            "agent planner: openai {\n\
             \x20 model \"gpt-4.1\"\n\
             \x20 key_env \"OPENAI_API_KEY\"\n\
             \x20 temperature 0.2\n\
             \x20 tier complex\n\
             \x20 concurrency 8\n\
             \x20 price_in 2\n\
             \x20 price_out 8\n\
             }\n"
        }
        "sim" => {
            "/// Answers instantly with valid values: for dry runs.\n\
             agent sim: mock {\n\
             \x20 latency 20ms\n\
             \x20 fail_rate 0.05\n\
             \x20 seed 7\n\
             \x20 tier complex\n\
             }\n"
        }
        "local" => {
            "/* A self-hosted model behind an OpenAI-compatible server. */\n\
             agent local: openai {\n\
             \x20 model \"qwen2.5-coder-32b\"\n\
             \x20 endpoint \"http://localhost:8080/v1\"\n\
             \x20 max_tokens 8192\n\
             \x20 tier moderate\n\
             }\n"
        }
        _ => {
            "agent scribe: command {\n\
             \x20 run [\"./scripts/write-docs.sh\", \"{prompt_file}\", \"{output_file}\"]\n\
             \x20 tier routine\n\
             \x20 concurrency 2\n\
             }\n"
        }
    }
}
