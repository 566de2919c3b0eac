//! A plan as an Argo Workflows `Workflow`: each part runs `score task run`
//! in its own pod, the dependencies become the edges of one `dag`, and a
//! last step merges the parts' branches (`score merge`).
//!
//! The design, argued in `docs/scale-out.md`:
//!
//! - **Names.** DAG tasks and templates are named after the plan's tasks,
//!   mapped to DNS-1123 labels ([`task_names`]); the original id goes on the
//!   command line. Every task has its own template, because the timeout,
//!   retries, secrets and artifacts differ per task.
//! - **Edges** are written with `dependencies` (a list of names: no
//!   expression to parse), never `depends`. The DAG does not fail fast:
//!   independent branches go on after a failure, as in a local run.
//! - **Outputs** pass as artifacts: each task's `/score/outputs/ID.json` is
//!   its output artifact `result`, and its dependants receive it as an input
//!   artifact at `/score/inputs/ID.json`. Artifacts have no size limit
//!   (output parameters are stored in the Workflow object, which etcd caps
//!   at about 1 MiB); they need an artifact repository in the cluster.
//! - **The plan** is one workflow-level `raw` artifact (`score-plan`),
//!   embedded once: the DAG template takes it as an input and hands it to
//!   every pod at `/score/plan.json`. It is the plan as `score build` writes
//!   it, with every `{{` written `\u007b{` (the same JSON value), so that
//!   Argo's `{{...}}` templating never touches a prompt.
//! - **Retries.** `score task run` owns the task's `retries` (attempts with
//!   feedback, in one pod, as locally). Argo's `retryStrategy` only restarts
//!   a pod that did not get to an answer (node lost, eviction, OOM kill):
//!   it does not retry exit statuses 1 (the task failed) and 2 (it could
//!   not start) — see [`FINAL_EXIT_CODES`].
//! - **Deadlines.** A pod may run for every attempt and check of its task
//!   plus a margin ([`task_deadline_seconds`]).
//! - **Approvals** are a `suspend` step between the task and its
//!   dependants (`argo resume` approves).
//! - **Secrets** are referenced by name only: each `key_env` of the task's
//!   own agent is an environment variable from a key of one Secret. A
//!   `--repo` URL with credentials is written without them
//!   (`export::repo_url`): git credentials come from a Secret too.

use super::repo_url;
use crate::plan::{Plan, Provider, Task, format_duration, hash::sha256_hex};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The Secret holding the agents' API keys, one key per `key_env`.
pub const DEFAULT_SECRET: &str = "score-agent-keys";
/// The branch the parts start from when `--base` is not given.
pub const DEFAULT_BASE: &str = "main";
/// How many times Argo restarts a pod that did not get to an answer.
pub const DEFAULT_POD_RETRIES: u32 = 2;

/// Where each pod finds the plan.
pub const PLAN_PATH: &str = "/score/plan.json";
/// Where each pod finds its dependencies' outputs (`ID.json`).
pub const INPUTS_DIR: &str = "/score/inputs";
/// Where `score task run` writes the task's outputs (`ID.json`).
pub const OUTPUTS_DIR: &str = "/score/outputs";

/// The DAG template (the entrypoint).
pub const DAG_TEMPLATE: &str = "score-run";
/// The final step's DAG task and template.
pub const MERGE_TEMPLATE: &str = "score-merge";
/// The `suspend` template of approvals.
pub const APPROVAL_TEMPLATE: &str = "score-approval";
/// The workflow-level artifact that carries the plan.
pub const PLAN_ARTIFACT: &str = "score-plan";
/// Each task template's output artifact.
pub const RESULT_ARTIFACT: &str = "result";

/// The names the workflow uses for itself; a task that would map to one of
/// them gets a hash suffix. (Input artifacts are named after the tasks they
/// come from, so the plan artifact's name is reserved too.)
const RESERVED: [&str; 4] = [
    DAG_TEMPLATE,
    MERGE_TEMPLATE,
    APPROVAL_TEMPLATE,
    PLAN_ARTIFACT,
];

/// The exit statuses of `score task run` and `score merge` that a new pod
/// cannot change: 1, the task failed after its own retries (or the merge
/// met a conflict); 2, the command could not start (a bad plan, a missing
/// key or input). Every other end of a pod — killed by OOM (137), lost with
/// its node (`-1`), evicted — is retried by Argo.
pub const FINAL_EXIT_CODES: [&str; 2] = ["1", "2"];

/// The longest a DAG task or template name may be (a DNS-1123 label).
pub const MAX_NAME_LEN: usize = 63;

/// Time a pod needs besides its attempts: pulling the image, cloning,
/// pushing the part's branch.
const POD_MARGIN_MS: u64 = 10 * 60 * 1000;
/// The first pause before Argo restarts a pod; each next one doubles.
const BACKOFF_SECONDS: u64 = 30;
const BACKOFF_FACTOR: u64 = 2;
/// The merge step's deadline: a base plus a share per task.
const MERGE_BASE_SECONDS: u64 = 15 * 60;
const MERGE_PER_TASK_SECONDS: u64 = 30;

/// How the Workflow is wired to the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgoOptions {
    /// The container image with `score` and git (see the `Dockerfile`).
    pub image: String,
    /// The git repository the pods clone and push to. `None`: the Workflow
    /// asks for it (`argo submit -p repo=URL`); `Some`: it is the default
    /// of the `repo` parameter.
    pub repo: Option<String>,
    /// The ref the parts start from (the `base` parameter's default).
    pub base: String,
    /// The Kubernetes service account the pods run as.
    pub service_account: Option<String>,
    /// The Secret that holds the agents' API keys, one key per `key_env`.
    pub secret: String,
    /// A Secret with a `.git-credentials` file (git's `store` format) that
    /// the pods use to push; `None`: the cluster provides access otherwise.
    pub git_credentials: Option<String>,
    /// How many times Argo restarts a pod that did not get to an answer.
    pub pod_retries: u32,
}

impl ArgoOptions {
    /// The defaults: `repo` asked at submission, `base` `main`, the Secret
    /// `score-agent-keys`, no service account, no git credentials, two pod
    /// restarts.
    pub fn new(image: impl Into<String>) -> ArgoOptions {
        ArgoOptions {
            image: image.into(),
            repo: None,
            base: DEFAULT_BASE.to_string(),
            service_account: None,
            secret: DEFAULT_SECRET.to_string(),
            git_credentials: None,
            pod_retries: DEFAULT_POD_RETRIES,
        }
    }
}

impl ArgoOptions {
    /// Refuses settings the cluster would reject later, with the reason:
    /// an empty image or one with spaces, an empty repository or base,
    /// Secret and service account names that are not DNS-1123 subdomains.
    pub fn check(&self) -> Result<(), String> {
        if self.image.trim().is_empty() || self.image.chars().any(char::is_whitespace) {
            return Err(format!(
                "`--image {:?}` is not a container image reference; give one like `ghcr.io/acme/score:1`",
                self.image
            ));
        }
        if self.repo.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err("`--repo` is empty; give the URL the pods clone, or leave it out and pass `-p repo=URL` to `argo submit`".into());
        }
        if self.base.trim().is_empty() {
            return Err("`--base` is empty; give a branch or commit, e.g. `main`".into());
        }
        // The pods hand both to git, which would read a leading `-` as an
        // option (`--upload-pack=...` runs a program).
        if let Some(repo) = self.repo.as_deref().filter(|r| r.starts_with('-')) {
            return Err(format!(
                "`--repo {}` starts with `-`, which git would read as an option; give a URL or a path (a path starting with `-` as `./-...`)",
                repo_url::strip_credentials(repo).url
            ));
        }
        if self.base.starts_with('-') {
            return Err(format!(
                "`--base {}` starts with `-`, which git would read as an option; give a branch or commit, e.g. `main`",
                self.base
            ));
        }
        let names = [
            ("--secret", Some(&self.secret)),
            ("--git-credentials", self.git_credentials.as_ref()),
            ("--service-account", self.service_account.as_ref()),
        ];
        for (flag, name) in names {
            if let Some(name) = name
                && !is_dns_subdomain(name)
            {
                return Err(format!(
                    "`{flag} {name}` is not a Kubernetes object name: use lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit"
                ));
            }
        }
        Ok(())
    }
}

impl ArgoOptions {
    /// What to say when `--repo` carries credentials: the Workflow names the
    /// repository without them (see `export::repo_url`). The message never
    /// repeats them.
    pub fn credentials_warning(&self) -> Option<String> {
        let stripped = repo_url::strip_credentials(self.repo.as_deref()?);
        stripped.removed.then(|| {
            format!(
                "`--repo` holds credentials; they were left out of the workflow, whose `repo` \
                 parameter is `{}` (a workflow is shared and shown by Argo to everyone who can \
                 see it). Give them to the pods as a Kubernetes Secret instead: a git credential \
                 store file under the key `.git-credentials` (`kubectl create secret generic \
                 score-git --from-file=.git-credentials`), exported with `--git-credentials \
                 score-git` (see docs/scale-out.md). Revoke the token if it has been shared.",
                stripped.url
            )
        })
    }
}

/// Whether `name` is a DNS-1123 subdomain (what Kubernetes accepts as the
/// name of a Secret or service account).
pub fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Kubernetes keeps an object in etcd, which refuses requests over about
/// 1.5 MiB; past [`SIZE_WARNING_BYTES`] of JSON the Workflow is at risk.
pub const SIZE_WARNING_BYTES: usize = 1024 * 1024;

/// A warning when the Workflow is too big to be submitted safely (its plan
/// is embedded), with what to do.
pub fn size_warning(workflow: &Value) -> Option<String> {
    let bytes = serde_json::to_string(workflow)
        .map(|s| s.len())
        .unwrap_or(0);
    (bytes > SIZE_WARNING_BYTES).then(|| {
        format!(
            "the Workflow is {} KiB; Kubernetes refuses objects over about 1.5 MiB. Split the score, or shorten its briefs and docs",
            bytes / 1024
        )
    })
}

/// The plan as an Argo `Workflow` document (keys in Argo's conventional
/// order; the same plan and options always give the same value).
pub fn argo_workflow(plan: &Plan, options: &ArgoOptions) -> Value {
    let names = task_names(plan);
    let approvals = approval_names(plan, &names);
    let params = input_parameters(plan);
    let by_id: HashMap<&str, &Task> = plan.tasks.iter().map(|t| (t.id.as_str(), t)).collect();

    // The DAG node whose success means "this task is done": its approval
    // when it has one.
    let done =
        |id: &str| -> Option<String> { approvals.get(id).or_else(|| names.get(id)).cloned() };

    let mut dag_tasks = Vec::new();
    let mut has_dependants: BTreeSet<&str> = BTreeSet::new();
    for task in &plan.tasks {
        let name = &names[&task.id];
        let mut entry = Map::new();
        entry.insert("name".into(), json!(name));
        let deps: Vec<&str> = task
            .depends_on
            .iter()
            .map(String::as_str)
            .filter(|d| by_id.contains_key(d))
            .collect();
        if !deps.is_empty() {
            entry.insert(
                "dependencies".into(),
                json!(deps.iter().filter_map(|d| done(d)).collect::<Vec<_>>()),
            );
        }
        entry.insert("template".into(), json!(name));
        let mut artifacts = vec![json!({
            "name": PLAN_ARTIFACT,
            "from": format!("{{{{inputs.artifacts.{PLAN_ARTIFACT}}}}}"),
        })];
        for dep in &deps {
            has_dependants.insert(dep);
            let dep_name = &names[*dep];
            artifacts.push(json!({
                "name": dep_name,
                "from": format!("{{{{tasks.{dep_name}.outputs.artifacts.{RESULT_ARTIFACT}}}}}"),
            }));
        }
        entry.insert("arguments".into(), json!({ "artifacts": artifacts }));
        dag_tasks.push(Value::Object(entry));

        if let (Some(approval), Some(who)) = (approvals.get(&task.id), &task.approve) {
            dag_tasks.push(json!({
                "name": approval,
                "dependencies": [name],
                "template": APPROVAL_TEMPLATE,
                "arguments": {"parameters": [
                    {"name": "task", "value": task.id},
                    {"name": "approver", "value": defuse(who)},
                ]},
            }));
        }
    }
    let leaves: Vec<String> = plan
        .tasks
        .iter()
        .filter(|t| !has_dependants.contains(t.id.as_str()))
        .filter_map(|t| done(&t.id))
        .collect();
    let mut merge = Map::new();
    merge.insert("name".into(), json!(MERGE_TEMPLATE));
    if !leaves.is_empty() {
        merge.insert("dependencies".into(), json!(leaves));
    }
    merge.insert("template".into(), json!(MERGE_TEMPLATE));
    merge.insert(
        "arguments".into(),
        json!({"artifacts": [{
            "name": PLAN_ARTIFACT,
            "from": format!("{{{{inputs.artifacts.{PLAN_ARTIFACT}}}}}"),
        }]}),
    );
    dag_tasks.push(Value::Object(merge));

    let mut templates = vec![json!({
        "name": DAG_TEMPLATE,
        "inputs": {"artifacts": [{"name": PLAN_ARTIFACT}]},
        "dag": {"failFast": false, "tasks": dag_tasks},
    })];
    for task in &plan.tasks {
        templates.push(task_template(plan, task, &names, &params, options));
    }
    if !approvals.is_empty() {
        templates.push(json!({
            "name": APPROVAL_TEMPLATE,
            "inputs": {"parameters": [{"name": "task"}, {"name": "approver"}]},
            "suspend": {},
        }));
    }
    templates.push(merge_template(plan, options));

    let mut parameters = vec![];
    let mut repo = Map::new();
    repo.insert("name".into(), json!("repo"));
    if let Some(url) = &options.repo {
        // Never a token in the workflow: see `credentials_warning`.
        repo.insert("value".into(), json!(repo_url::strip_credentials(url).url));
    }
    repo.insert(
        "description".into(),
        json!("The git repository the parts clone and push to (a URL git can clone)."),
    );
    parameters.push(Value::Object(repo));
    parameters.push(json!({
        "name": "base",
        "value": options.base,
        "description": "The branch or commit the parts start from.",
    }));
    for (input, param) in &params {
        let spec = &plan.score.inputs[input];
        let description = match &spec.doc {
            Some(doc) => format!("The score input `{input}` ({}): {}", spec.ty, doc.trim()),
            None => format!("The score input `{input}` ({}).", spec.ty),
        };
        parameters.push(json!({"name": param, "description": defuse(&description)}));
    }

    let mut annotations = Map::new();
    annotations.insert(
        "workflows.argoproj.io/title".into(),
        json!(defuse(&plan.score.title)),
    );
    if let Some(doc) = &plan.score.doc {
        annotations.insert(
            "workflows.argoproj.io/description".into(),
            json!(defuse(doc.trim())),
        );
    }
    annotations.insert("score/source-hash".into(), json!(plan.source_hash));

    let mut spec = Map::new();
    spec.insert("entrypoint".into(), json!(DAG_TEMPLATE));
    spec.insert(
        "arguments".into(),
        json!({
            "parameters": parameters,
            "artifacts": [{
                "name": PLAN_ARTIFACT,
                "raw": {"data": embedded_plan(plan)},
            }],
        }),
    );
    if let Some(account) = &options.service_account {
        spec.insert("serviceAccountName".into(), json!(account));
    }
    if let Some(limit) = plan.score.concurrency {
        spec.insert("parallelism".into(), json!(limit));
    }
    let mut volumes = vec![
        json!({"name": "score-inputs", "emptyDir": {}}),
        json!({"name": "score-outputs", "emptyDir": {}}),
    ];
    if let Some(secret) = &options.git_credentials {
        volumes.push(json!({"name": "git-credentials", "secret": {"secretName": secret}}));
    }
    spec.insert("volumes".into(), json!(volumes));
    spec.insert("templates".into(), json!(templates));

    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": generate_name(&plan.score.name),
            "annotations": annotations,
        },
        "spec": spec,
    })
}

/// One task's template: its inputs (the plan and its dependencies'
/// outputs), its output, its deadline and pod retries, and the container
/// that runs `score task run`.
fn task_template(
    plan: &Plan,
    task: &Task,
    names: &BTreeMap<String, String>,
    params: &BTreeMap<String, String>,
    options: &ArgoOptions,
) -> Value {
    let mut inputs = vec![json!({"name": PLAN_ARTIFACT, "path": PLAN_PATH})];
    for dep in &task.depends_on {
        if let Some(dep_name) = names.get(dep) {
            inputs.push(json!({"name": dep_name, "path": format!("{INPUTS_DIR}/{dep}.json")}));
        }
    }
    let mut args: Vec<String> = [
        "task",
        "run",
        "--plan",
        PLAN_PATH,
        "--task",
        &task.id,
        "--inputs",
        INPUTS_DIR,
        "--outputs",
        OUTPUTS_DIR,
        "--repo",
        "{{workflow.parameters.repo}}",
        "--base",
        "{{workflow.parameters.base}}",
        "--run",
        "{{workflow.name}}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Every score input goes to every task, as `score run --input` gives
    // them to the whole run.
    for (input, param) in params {
        args.push("--input".into());
        args.push(format!("{input}={{{{workflow.parameters.{param}}}}}"));
    }
    let mut env = Vec::new();
    for key_env in agent_key_envs(plan, task) {
        env.push(json!({
            "name": key_env,
            "valueFrom": {"secretKeyRef": {"name": options.secret, "key": key_env}},
        }));
    }
    env.extend(git_credentials_env(options));
    let mut mounts = vec![
        json!({"name": "score-inputs", "mountPath": INPUTS_DIR}),
        json!({"name": "score-outputs", "mountPath": OUTPUTS_DIR}),
    ];
    mounts.extend(git_credentials_mount(options));

    let deadline = task_deadline_seconds(task);
    let mut container = Map::new();
    container.insert("image".into(), json!(options.image));
    container.insert("command".into(), json!(["score"]));
    container.insert("args".into(), json!(args));
    if !env.is_empty() {
        container.insert("env".into(), json!(env));
    }
    container.insert("volumeMounts".into(), json!(mounts));

    let mut template = Map::new();
    template.insert("name".into(), json!(names[&task.id]));
    template.insert(
        "metadata".into(),
        json!({"annotations": {"score/task": task.id}}),
    );
    template.insert("inputs".into(), json!({"artifacts": inputs}));
    template.insert(
        "outputs".into(),
        json!({"artifacts": [{
            "name": RESULT_ARTIFACT,
            "path": format!("{OUTPUTS_DIR}/{}.json", task.id),
            "archive": {"none": {}},
        }]}),
    );
    template.insert("activeDeadlineSeconds".into(), json!(deadline.to_string()));
    if let Some(retry) = retry_strategy(options.pod_retries, deadline) {
        template.insert("retryStrategy".into(), retry);
    }
    template.insert("container".into(), Value::Object(container));
    Value::Object(template)
}

/// The final step: `score merge` merges the part branches in DAG order.
fn merge_template(plan: &Plan, options: &ArgoOptions) -> Value {
    let deadline = MERGE_BASE_SECONDS + MERGE_PER_TASK_SECONDS * plan.tasks.len() as u64;
    let mut container = Map::new();
    container.insert("image".into(), json!(options.image));
    container.insert("command".into(), json!(["score"]));
    container.insert(
        "args".into(),
        json!([
            "merge",
            "--plan",
            PLAN_PATH,
            "--repo",
            "{{workflow.parameters.repo}}",
            "--base",
            "{{workflow.parameters.base}}",
            "--run",
            "{{workflow.name}}"
        ]),
    );
    let env = git_credentials_env(options);
    if !env.is_empty() {
        container.insert("env".into(), json!(env));
    }
    let mounts = git_credentials_mount(options);
    if !mounts.is_empty() {
        container.insert("volumeMounts".into(), json!(mounts));
    }
    let mut template = Map::new();
    template.insert("name".into(), json!(MERGE_TEMPLATE));
    template.insert(
        "inputs".into(),
        json!({"artifacts": [{"name": PLAN_ARTIFACT, "path": PLAN_PATH}]}),
    );
    template.insert("activeDeadlineSeconds".into(), json!(deadline.to_string()));
    if let Some(retry) = retry_strategy(options.pod_retries, deadline) {
        template.insert("retryStrategy".into(), retry);
    }
    template.insert("container".into(), Value::Object(container));
    Value::Object(template)
}

/// Argo's retries of a pod that did not get to an answer (see
/// [`FINAL_EXIT_CODES`]), with exponential backoff. `maxDuration` (the
/// window after the first attempt in which a retry may start) leaves room
/// for every attempt to run to its deadline.
fn retry_strategy(limit: u32, deadline_seconds: u64) -> Option<Value> {
    if limit == 0 {
        return None;
    }
    let mut pauses = 0u64;
    let mut pause = BACKOFF_SECONDS;
    for _ in 0..limit {
        pauses = pauses.saturating_add(pause);
        pause = pause.saturating_mul(BACKOFF_FACTOR);
    }
    let window = deadline_seconds
        .saturating_mul(u64::from(limit) + 1)
        .saturating_add(pauses);
    let expression = FINAL_EXIT_CODES
        .iter()
        .map(|code| format!("lastRetry.exitCode != \"{code}\""))
        .collect::<Vec<_>>()
        .join(" && ");
    Some(json!({
        "limit": limit.to_string(),
        "retryPolicy": "Always",
        "expression": expression,
        "backoff": {
            "duration": format_duration(BACKOFF_SECONDS * 1000),
            "factor": BACKOFF_FACTOR.to_string(),
            "maxDuration": format_duration(window.saturating_mul(1000)),
        },
    }))
}

/// How long one pod of `task` may run: every attempt (the task's `retries`
/// plus one) with its timeout and all its checks' timeouts, plus a margin
/// for cloning and pushing, rounded up to whole seconds.
pub fn task_deadline_seconds(task: &Task) -> u64 {
    let checks = task
        .checks
        .iter()
        .fold(0u64, |sum, c| sum.saturating_add(c.timeout_ms));
    let attempt = task.timeout_ms.saturating_add(checks);
    let total = attempt
        .saturating_mul(u64::from(task.retries) + 1)
        .saturating_add(POD_MARGIN_MS);
    total.div_ceil(1000)
}

/// The variables that hold the API keys of `task`'s agent (none for
/// `command` and `mock` agents, or an HTTP agent without a key).
fn agent_key_envs<'p>(plan: &'p Plan, task: &Task) -> Vec<&'p str> {
    match plan.agents.get(&task.agent).map(|a| &a.provider) {
        Some(Provider::Openai {
            key_env: Some(k), ..
        })
        | Some(Provider::Anthropic {
            key_env: Some(k), ..
        }) => vec![k.as_str()],
        _ => vec![],
    }
}

/// Where the git credentials Secret is mounted in the pods.
pub const GIT_CREDENTIALS_DIR: &str = "/score/git";

/// git reads `credential.helper` from these variables (git 2.31 and
/// later), so no config file has to be written into the image.
fn git_credentials_env(options: &ArgoOptions) -> Vec<Value> {
    if options.git_credentials.is_none() {
        return vec![];
    }
    vec![
        json!({"name": "GIT_CONFIG_COUNT", "value": "1"}),
        json!({"name": "GIT_CONFIG_KEY_0", "value": "credential.helper"}),
        json!({
            "name": "GIT_CONFIG_VALUE_0",
            "value": format!("store --file={GIT_CREDENTIALS_DIR}/.git-credentials"),
        }),
    ]
}

fn git_credentials_mount(options: &ArgoOptions) -> Vec<Value> {
    match options.git_credentials {
        Some(_) => vec![json!({
            "name": "git-credentials",
            "mountPath": GIT_CREDENTIALS_DIR,
            "readOnly": true,
        })],
        None => vec![],
    }
}

/// The plan as `score build` writes it, with every `{{` written `\u007b{`:
/// the same JSON value, but no `{{` for Argo's templating to expand (the
/// prompts hold `{{input.NAME}}` placeholders, and a brief may quote any
/// template syntax). JSON's own structure never has two `{` in a row, so
/// every pair is inside a string, where `\u007b` is `{`.
fn embedded_plan(plan: &Plan) -> String {
    let json = crate::plan::to_json(plan);
    let mut out = String::with_capacity(json.len());
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '{' && chars.peek() == Some(&'{') {
            out.push_str("\\u007b");
        } else {
            out.push(c);
        }
    }
    out
}

/// Text for people (a title, an approver) with `{{` broken up, so that Argo
/// does not take it for a template expression.
fn defuse(text: &str) -> String {
    let mut out = text.to_string();
    while out.contains("{{") {
        out = out.replace("{{", "{ {");
    }
    out
}

/// `metadata.generateName`: the score's name as a DNS label, short enough
/// that Argo's five random characters keep it a valid name.
fn generate_name(score: &str) -> String {
    let mut name = dns_label(score);
    if name.is_empty() {
        name = "score".into();
    }
    truncate_label(&mut name, 57);
    format!("{name}-")
}

/// `text` as a DNS-1123 label: lower case, every run of other characters
/// one `-`, no `-` at either end, at most 63 characters. May be empty.
pub fn dns_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    truncate_label(&mut out, MAX_NAME_LEN);
    out
}

fn truncate_label(name: &mut String, max: usize) {
    // ASCII only here, so byte positions are character positions.
    name.truncate(max);
    while name.ends_with('-') {
        name.pop();
    }
}

/// `base` with a suffix from the hash of `key`, unique among `taken`.
fn hashed_name(base: &str, key: &str, taken: &BTreeSet<String>) -> String {
    let hash = sha256_hex(key.as_bytes());
    for len in [6, 8, 12, 16, 24, 32, 64] {
        let mut stem = base.to_string();
        truncate_label(&mut stem, MAX_NAME_LEN - 1 - len);
        let name = if stem.is_empty() {
            hash[..len].to_string()
        } else {
            format!("{stem}-{}", &hash[..len])
        };
        if !taken.contains(&name) {
            return name;
        }
    }
    // Only reachable when 64 hex digits collide: count instead.
    (0u64..)
        .map(|i| format!("{}-{i}", &hash[..40]))
        .find(|n| !taken.contains(n))
        .unwrap_or_default()
}

/// The DAG task (and template) name of every task, by id.
///
/// An id that is already a DNS-1123 label keeps it. Any other id is mapped
/// by [`dns_label`] (`Store_API` → `store-api`, `billing.invoice` →
/// `billing-invoice`); when two ids map to the same label, or to one of the
/// workflow's own names (`score-run`, `score-merge`, `score-approval`,
/// `score-plan`), each mapped id gets `-` and the start of the sha256 of its
/// id instead (`store-api-3f9a1c`). A name depends only on its id and the
/// set of ids, not on their order.
pub fn task_names(plan: &Plan) -> BTreeMap<String, String> {
    let mut taken: BTreeSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    let candidates: Vec<(&str, String)> = plan
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), dns_label(&t.id)))
        .collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (_, candidate) in &candidates {
        *count.entry(candidate.as_str()).or_default() += 1;
    }
    let mut names = BTreeMap::new();
    for (id, candidate) in &candidates {
        if id == candidate && !taken.contains(candidate) {
            taken.insert(candidate.clone());
            names.insert(id.to_string(), candidate.clone());
        }
    }
    for (id, candidate) in &candidates {
        if names.contains_key(*id) {
            continue;
        }
        let name = if !candidate.is_empty()
            && count[candidate.as_str()] == 1
            && !taken.contains(candidate)
        {
            candidate.clone()
        } else {
            let base = if candidate.is_empty() {
                "task"
            } else {
                candidate
            };
            hashed_name(base, id, &taken)
        };
        taken.insert(name.clone());
        names.insert(id.to_string(), name);
    }
    names
}

/// The DAG task name of each approval (`NAME-approval`), by task id.
fn approval_names(plan: &Plan, names: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut taken: BTreeSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    taken.extend(names.values().cloned());
    let mut out = BTreeMap::new();
    for task in plan.tasks.iter().filter(|t| t.approve.is_some()) {
        let mut stem = names[&task.id].clone();
        truncate_label(&mut stem, MAX_NAME_LEN - "-approval".len());
        let wanted = format!("{stem}-approval");
        let name = if taken.contains(&wanted) {
            hashed_name(&wanted, &format!("approval:{}", task.id), &taken)
        } else {
            wanted
        };
        taken.insert(name.clone());
        out.insert(task.id.clone(), name);
    }
    out
}

/// The workflow parameter of each score input, by input name: the input's
/// own name, unless it is `repo` or `base` or not a valid parameter name
/// (then `input-NAME`, with other characters as `_`).
fn input_parameters(plan: &Plan) -> BTreeMap<String, String> {
    let valid = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    plan.score
        .inputs
        .keys()
        .map(|name| {
            let param = if valid(name) && name != "repo" && name != "base" {
                name.clone()
            } else {
                let safe: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                format!("input-{safe}")
            };
            (name.clone(), param)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::plan;
    use crate::plan::{Schema, Task, ValueSpec};

    fn task(id: &str, deps: &[&str]) -> Task {
        crate::plan::fixtures::task(id, deps, 1000)
    }

    #[test]
    fn labels_are_lower_case_with_dashes() {
        assert_eq!(dns_label("Store_API"), "store-api");
        assert_eq!(dns_label("billing.invoice"), "billing-invoice");
        assert_eq!(dns_label("__a__b__"), "a-b");
        assert_eq!(dns_label("été"), "t");
        assert_eq!(dns_label("___"), "");
        assert_eq!(dns_label(&"x".repeat(100)).len(), 63);
        assert_eq!(dns_label(&format!("{}_y", "x".repeat(62))), "x".repeat(62));
    }

    #[test]
    fn names_are_unique_valid_and_independent_of_order() {
        let ids = [
            "store_api",
            "Store_API",
            "store-api",
            "score_run",
            "a.b",
            "a_b",
            "___",
            "x_approval",
            "x",
        ];
        let long = "L".repeat(80);
        let mut tasks: Vec<Task> = ids.iter().map(|id| task(id, &[])).collect();
        tasks.push(task(&long, &[]));
        tasks.push(task(&format!("{long}_2"), &[]));
        let names = task_names(&plan(tasks.clone()));
        // The id that is already a label keeps it; its look-alikes get hashes.
        assert_eq!(names["store-api"], "store-api");
        assert!(names["store_api"].starts_with("store-api-"));
        assert!(names["Store_API"].starts_with("store-api-"));
        assert_ne!(names["store_api"], names["Store_API"]);
        assert!(names["score_run"].starts_with("score-run-"));
        assert!(names["a.b"].starts_with("a-b-") && names["a_b"].starts_with("a-b-"));
        assert_eq!(names["x_approval"], "x-approval");
        let unique: BTreeSet<&String> = names.values().collect();
        assert_eq!(unique.len(), names.len());
        for name in names.values() {
            assert!(name.len() <= MAX_NAME_LEN, "{name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !name.starts_with('-')
                    && !name.ends_with('-'),
                "{name}"
            );
        }
        tasks.reverse();
        assert_eq!(task_names(&plan(tasks)), names);
    }

    #[test]
    fn an_approval_name_that_is_taken_gets_a_hash() {
        let mut x = task("x", &[]);
        x.approve = Some("lead".into());
        let p = plan(vec![x, task("x_approval", &[])]);
        let names = task_names(&p);
        let approvals = approval_names(&p, &names);
        assert_eq!(names["x_approval"], "x-approval");
        assert!(approvals["x"].starts_with("x-approval-"));
    }

    #[test]
    fn deadlines_cover_every_attempt_and_check() {
        let mut t = task("t", &[]);
        t.timeout_ms = 60_000;
        t.retries = 2;
        t.checks.push(crate::plan::CheckRun {
            args: BTreeMap::new(),
            argv: vec![],
            check: "c".into(),
            command: "true".into(),
            timeout_ms: 30_500,
        });
        // 3 × 90.5 s + 600 s
        assert_eq!(task_deadline_seconds(&t), 872);
        t.timeout_ms = u64::MAX;
        assert_eq!(task_deadline_seconds(&t), u64::MAX.div_ceil(1000));
    }

    #[test]
    fn retries_leave_final_exit_statuses_alone() {
        let r = retry_strategy(2, 100).unwrap();
        assert_eq!(r["limit"], "2");
        assert_eq!(
            r["expression"],
            "lastRetry.exitCode != \"1\" && lastRetry.exitCode != \"2\""
        );
        // 3 × 100 s + 30 s + 60 s
        assert_eq!(r["backoff"]["maxDuration"], "6m30s");
        assert!(retry_strategy(0, 100).is_none());
    }

    #[test]
    fn the_embedded_plan_is_the_same_json_without_double_braces() {
        let mut t = task("t", &[]);
        t.brief = Some("{{{x}}} {{=1+1}} {\"{{\"}".into());
        let p = plan(vec![t]);
        let embedded = embedded_plan(&p);
        assert!(!embedded.contains("{{"));
        let back: Value = serde_json::from_str(&embedded).unwrap();
        let original: Value = serde_json::from_str(&crate::plan::to_json(&p)).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn approvals_sit_between_a_task_and_its_dependants() {
        let mut a = task("a", &[]);
        a.approve = Some("the {{lead}}".into());
        let p = plan(vec![a, task("b", &["a"])]);
        let wf = argo_workflow(&p, &ArgoOptions::new("img"));
        let tasks = wf["spec"]["templates"][0]["dag"]["tasks"]
            .as_array()
            .unwrap();
        let names: Vec<&str> = tasks.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["a", "a-approval", "b", MERGE_TEMPLATE]);
        assert_eq!(tasks[1]["dependencies"], json!(["a"]));
        assert_eq!(
            tasks[1]["arguments"]["parameters"][1]["value"],
            "the { {lead}}"
        );
        assert_eq!(tasks[2]["dependencies"], json!(["a-approval"]));
        // b still takes a's output, from a itself (an ancestor).
        assert_eq!(
            tasks[2]["arguments"]["artifacts"][1]["from"],
            "{{tasks.a.outputs.artifacts.result}}"
        );
        assert_eq!(tasks[3]["dependencies"], json!(["b"]));
    }

    #[test]
    fn score_inputs_become_parameters() {
        let mut p = plan(vec![task("a", &[])]);
        let spec = ValueSpec {
            doc: Some("Where to deploy.".into()),
            schema: Schema::new(json!({"type": "string"})),
            ty: "Text".into(),
        };
        p.score.inputs.insert("environment".into(), spec.clone());
        p.score.inputs.insert("repo".into(), spec);
        let wf = argo_workflow(&p, &ArgoOptions::new("img"));
        let params: Vec<&str> = wf["spec"]["arguments"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(params, ["repo", "base", "environment", "input-repo"]);
        let args = &wf["spec"]["templates"][1]["container"]["args"];
        let args: Vec<&str> = args
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(args.ends_with(&[
            "--input",
            "environment={{workflow.parameters.environment}}",
            "--input",
            "repo={{workflow.parameters.input-repo}}",
        ]));
    }

    #[test]
    fn credentials_in_the_repository_url_never_reach_the_workflow() {
        let p = plan(vec![task("a", &[])]);
        let options = ArgoOptions {
            repo: Some("https://bot:s3cr3t-t0ken@git.example.com/acme/shop.git".into()),
            ..ArgoOptions::new("ghcr.io/x/score:1")
        };
        assert!(options.check().is_ok());
        let yaml = crate::export::to_yaml(&argo_workflow(&p, &options));
        assert!(
            !yaml.contains("s3cr3t-t0ken") && !yaml.contains("bot:"),
            "{yaml}"
        );
        assert!(
            yaml.contains("https://git.example.com/acme/shop.git"),
            "{yaml}"
        );
        let warning = options.credentials_warning().unwrap();
        assert!(!warning.contains("s3cr3t-t0ken"), "{warning}");
        assert!(warning.contains("--git-credentials"), "{warning}");
        // Nothing to say about a URL without credentials.
        let clean = ArgoOptions {
            repo: Some("https://git.example.com/acme/shop.git".into()),
            ..ArgoOptions::new("ghcr.io/x/score:1")
        };
        assert_eq!(clean.credentials_warning(), None);
        assert_eq!(ArgoOptions::new("i").credentials_warning(), None);
    }

    #[test]
    fn options_the_cluster_would_refuse_are_refused() {
        assert!(ArgoOptions::new("ghcr.io/x/score:1").check().is_ok());
        let bad = |f: fn(&mut ArgoOptions)| {
            let mut o = ArgoOptions::new("ghcr.io/x/score:1");
            f(&mut o);
            o.check().unwrap_err()
        };
        assert!(bad(|o| o.image = "a b".into()).contains("`--image \"a b\"`"));
        assert!(bad(|o| o.repo = Some(" ".into())).contains("-p repo=URL"));
        assert!(bad(|o| o.base = String::new()).contains("--base"));
        assert!(bad(|o| o.secret = "Keys".into()).contains("`--secret Keys`"));
        assert!(bad(|o| o.git_credentials = Some("-x".into())).contains("--git-credentials"));
        assert!(bad(|o| o.service_account = Some("a..b".into())).contains("--service-account"));
        let e = bad(|o| o.repo = Some("--upload-pack=touch /tmp/x".into()));
        assert!(e.contains("starts with `-`"), "{e}");
        let e = bad(|o| o.base = "--orphan".into());
        assert!(e.contains("`--base --orphan` starts with `-`"), "{e}");
        assert!(is_dns_subdomain("score-agent-keys") && is_dns_subdomain("a.b-1"));
        assert!(!is_dns_subdomain("") && !is_dns_subdomain("a_b") && !is_dns_subdomain("a."));
    }

    #[test]
    fn big_workflows_are_flagged() {
        let small = argo_workflow(&plan(vec![task("a", &[])]), &ArgoOptions::new("img"));
        assert!(size_warning(&small).is_none());
        let mut t = task("a", &[]);
        t.prompt = "x".repeat(SIZE_WARNING_BYTES);
        let big = argo_workflow(&plan(vec![t]), &ArgoOptions::new("img"));
        assert!(size_warning(&big).unwrap().contains("1.5 MiB"));
    }

    #[test]
    fn generate_name_leaves_room_for_the_random_suffix() {
        assert_eq!(generate_name("Web_Shop"), "web-shop-");
        assert_eq!(generate_name("___"), "score-");
        assert_eq!(generate_name(&"a".repeat(99)).len(), 58);
    }
}
