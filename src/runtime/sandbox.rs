//! The boundary around every program the runtime starts (command agents
//! and `ensures` checks): each is treated as an adversary, careless or
//! hostile. `docs/security.md` says what a program can and cannot do; this
//! module is how.
//!
//! - **Environment**: an allow-list, never the inherited environment:
//!   `PATH`, `HOME`, `LANG`, `LC_*`, `TERM`, `USER`, a private `TMPDIR`,
//!   the runtime's `SCORE_*` variables, the agent's `env`, and the
//!   variables the agent names in `pass_env` (agent programs only, not
//!   checks). Always, `--in-place` too: scrubbing costs a trusted command
//!   nothing and keeps the keys the runtime holds out of it.
//! - **Filesystem** (Linux, Landlock): writes only below the part's
//!   checkout, its private `TMPDIR`, the agent's `writes` and a few device
//!   files; reads everywhere, or only the agent's `reads` plus what running
//!   a program needs. Landlock also keeps the program from ptrace-ing or
//!   reading `/proc/PID/environ|mem` of processes outside its domain, and
//!   (ABI 6) from signalling them. `--in-place` is the explicit opt-out
//!   for trusted commands: no Landlock there.
//! - **Descendants**: every program runs as PID 2 of a PID namespace of
//!   its own, whose PID 1 is a tiny init of ours. When the program exits,
//!   the init exits and the kernel kills everything left in the namespace,
//!   `setsid`, double-forked or `nohup`'d: nothing outlives the attempt.
//!   (A child subreaper was the alternative: it sees orphans only once
//!   they are reparented, races with a process that forks as fast as it is
//!   killed, and cannot stop a daemon that escaped before; the namespace
//!   is one atomic kill by the kernel.) Without root, a user namespace
//!   with the identity uid/gid mapping comes with it.
//!
//! Where Landlock or namespaces are missing, [`support`] says so once; the
//! run says it once (see `runtime::prepare`), refuses to run an agent's
//! programs unconfined unless the agent says `confinement optional`, and
//! falls back to the process-group kill for descendants.
//!
//! Everything the forked child does is prepared in the parent
//! ([`ChildSetup::new`]: the Landlock ruleset's file descriptor, the
//! uid/gid maps as bytes): between `fork` and `exec` the child makes only
//! async-signal-safe system calls and allocates nothing.

use super::redact::Redactor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The environment variable names passed through from the runtime's own
/// environment to every program (besides `LC_*`).
pub const BASE_ENV: &[&str] = &["PATH", "HOME", "LANG", "TERM", "USER"];

/// Set (to anything) in the runtime's environment, makes [`support`]
/// report no Landlock and no PID namespace: how the tests play a machine
/// without them. It can only make the runtime stricter (a required
/// confinement is refused), never looser.
pub const PRETEND_UNSUPPORTED_ENV: &str = "SCORE_TEST_NO_SANDBOX";

/// Device files every confined program may write.
const WRITABLE_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    // POSIX shared memory and semaphores (Python's multiprocessing, test
    // runners) live here; a tmpfs, not the user's files.
    "/dev/shm",
];

/// What a program needs to read to run at all, when the agent declares
/// `reads`: the system's programs, libraries and configuration.
const SYSTEM_READS: &[&str] = &[
    "/bin", "/sbin", "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/dev",
    "/proc", "/sys", "/nix", "/snap",
];

/// How descendants are contained on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidNamespace {
    /// A PID namespace (the runtime may create one: root, or CAP_SYS_ADMIN).
    Plain,
    /// A PID namespace inside a user namespace of its own (no privilege).
    WithUser,
    /// Neither: only the process group is killed.
    Missing,
}

/// What this machine offers, probed once per process.
#[derive(Clone, Copy, Debug)]
pub struct Support {
    /// The Landlock ABI the kernel reports; `None`: no Landlock.
    pub landlock_abi: Option<i32>,
    pub pid_namespace: PidNamespace,
}

impl Support {
    /// One line for the user: what confines programs here.
    pub fn describe(&self) -> String {
        let fs = match self.landlock_abi {
            Some(abi) => format!("Landlock ABI {abi}"),
            None => "no Landlock".to_string(),
        };
        let pids = match self.pid_namespace {
            PidNamespace::Plain => "a PID namespace per program",
            PidNamespace::WithUser => "a user and PID namespace per program",
            PidNamespace::Missing => "no PID namespace (process groups only)",
        };
        format!("{fs}, {pids}")
    }
}

/// What this machine offers (probed on first use: a system call and two
/// short-lived forks).
pub fn support() -> Support {
    static SUPPORT: OnceLock<Support> = OnceLock::new();
    *SUPPORT.get_or_init(|| {
        if std::env::var_os(PRETEND_UNSUPPORTED_ENV).is_some() {
            return Support {
                landlock_abi: None,
                pid_namespace: PidNamespace::Missing,
            };
        }
        Support {
            landlock_abi: sys::landlock_abi(),
            pid_namespace: sys::probe_pid_namespace(),
        }
    })
}

/// The filesystem rules of one program (enforced with Landlock).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FsRules {
    /// Paths (directories or files) the program may write below.
    pub writes: Vec<PathBuf>,
    /// `None`: reads everywhere. `Some`: only these, the writable paths
    /// and `SYSTEM_READS`.
    pub reads: Option<Vec<PathBuf>>,
    /// Where Landlock is missing, run unconfined (`confinement optional`)
    /// rather than refuse.
    pub optional: bool,
}

/// A private temporary directory, removed when dropped.
#[derive(Debug)]
struct TmpDir {
    path: PathBuf,
    owned: bool,
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A scratch directory in a shared place (the system's temporary
/// directory) for programs that play outside any checkout (`score doctor
/// --live`, `score draft`): created private to this user, removed with
/// what they left in it when dropped. A path that exists already (perhaps
/// another user's, perhaps a link) is refused, never used nor removed.
#[derive(Debug)]
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    pub(crate) fn create(path: &Path) -> Result<ScratchDir, String> {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(path)
            .map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
        Ok(ScratchDir(path.to_path_buf()))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the programs of one attempt of one part (its agent's program and
/// its checks) may do, and how their output is cleaned. Cheap to clone;
/// the private `TMPDIR` is removed when the last clone is dropped.
#[derive(Clone)]
pub struct Confinement {
    tmp: Arc<TmpDir>,
    /// Landlock rules; `None`: the filesystem is not confined
    /// (`--in-place`).
    pub fs: Option<FsRules>,
    /// The environment of every program of the attempt (see
    /// [`base_environment`]), `TMPDIR` and `SCORE_CONDUCTOR_PID` included.
    pub env: Vec<(String, String)>,
    /// The agent's `pass_env` variables that are set: for the agent's
    /// program, not for checks.
    pub pass_env: Vec<(String, String)>,
    /// Masks the run's secrets in what the programs wrote.
    pub redactor: Arc<Redactor>,
}

impl Default for Confinement {
    /// No filesystem rules, the system's temporary directory, the scrubbed
    /// environment of this process, nothing to redact: for tests and
    /// benches that call an agent directly.
    fn default() -> Confinement {
        let tmp = std::env::temp_dir();
        Confinement {
            env: base_environment(&|name| std::env::var(name).ok(), &tmp),
            tmp: Arc::new(TmpDir {
                path: tmp,
                owned: false,
            }),
            fs: None,
            pass_env: Vec::new(),
            redactor: Redactor::none(),
        }
    }
}

impl std::fmt::Debug for Confinement {
    /// Names, never values: `pass_env` holds keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |vars: &[(String, String)]| -> Vec<String> {
            vars.iter().map(|(k, _)| k.clone()).collect()
        };
        f.debug_struct("Confinement")
            .field("tmp", &self.tmp.path)
            .field("fs", &self.fs)
            .field("env", &names(&self.env))
            .field("pass_env", &names(&self.pass_env))
            .field("redactor", &self.redactor)
            .finish()
    }
}

impl Confinement {
    /// The private temporary directory (`TMPDIR`).
    pub fn tmp(&self) -> &Path {
        &self.tmp.path
    }
}

/// The allow-listed environment: [`BASE_ENV`] and `LC_*` as `lookup`
/// finds them, `TMPDIR`, and the mark of the conductor
/// ([`super::process::CONDUCTOR_ENV`]).
pub fn base_environment(
    lookup: &dyn Fn(&str) -> Option<String>,
    tmp: &Path,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = BASE_ENV
        .iter()
        .filter_map(|name| lookup(name).map(|v| (name.to_string(), v)))
        .collect();
    let mut locale: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("LC_"))
        .filter_map(|k| lookup(&k).map(|v| (k, v)))
        .collect();
    locale.sort();
    env.extend(locale);
    env.push(("TMPDIR".into(), tmp.to_string_lossy().into_owned()));
    env.push((
        super::process::CONDUCTOR_ENV.into(),
        std::process::id().to_string(),
    ));
    env
}

/// The sandbox of one run: the settings of every agent, resolved once.
#[derive(Debug)]
pub struct Policy {
    /// `--in-place`: the filesystem is not confined (trusted commands).
    pub in_place: bool,
    /// Every secret the runtime holds.
    pub redactor: Arc<Redactor>,
    /// `BASE_ENV` and `LC_*` as they were when the run started.
    inherited: Vec<(String, String)>,
    /// `pass_env` values, by agent.
    passed: std::collections::HashMap<String, Vec<(String, String)>>,
    home: Option<PathBuf>,
    /// The names of the variables holding secrets (see
    /// [`hide_secret_values`]).
    secret_names: Vec<String>,
}

impl Policy {
    /// The sandbox for `plan`. `env` looks up the runtime's environment;
    /// `in_place` is `--in-place`. Also builds the run's [`Redactor`] from
    /// every secret the runtime holds: the HTTP agents' keys (`key_env`),
    /// the `pass_env` values, and the variables of the environment whose
    /// names look secret ([`super::redact::secret_looking`]).
    pub fn new(
        plan: &crate::plan::Plan,
        in_place: bool,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Policy {
        use crate::plan::Provider;
        let mut secrets: Vec<String> = Vec::new();
        let mut secret_names: Vec<String> = Vec::new();
        let mut passed = std::collections::HashMap::new();
        for (id, agent) in &plan.agents {
            match &agent.provider {
                Provider::Openai { key_env, .. } | Provider::Anthropic { key_env, .. } => {
                    secrets.extend(key_env.as_deref().and_then(env));
                    secret_names.extend(key_env.clone());
                }
                Provider::Command { pass_env, .. } => {
                    let values: Vec<(String, String)> = pass_env
                        .iter()
                        .filter_map(|name| env(name).map(|v| (name.clone(), v)))
                        .collect();
                    secrets.extend(values.iter().map(|(_, v)| v.clone()));
                    secret_names.extend(pass_env.iter().cloned());
                    passed.insert(id.clone(), values);
                }
                Provider::Mock { .. } => {}
            }
        }
        for (name, _) in std::env::vars_os() {
            if let Some(name) = name.to_str()
                && super::redact::secret_looking(name)
                && let Some(value) = env(name)
            {
                secrets.push(value);
                secret_names.push(name.to_string());
            }
        }
        let mut inherited = base_environment(env, Path::new(""));
        inherited.retain(|(k, _)| k != "TMPDIR" && k != super::process::CONDUCTOR_ENV);
        Policy {
            in_place,
            redactor: Arc::new(Redactor::new(secrets)),
            home: env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from),
            inherited,
            passed,
            secret_names,
        }
    }

    /// The confinement of one attempt (`name`, e.g. `api.2`) of a part
    /// played by agent `agent_id`, working in `checkout`: creates its
    /// private `TMPDIR` below `tmp_root` (removed with the last clone).
    pub fn attempt(
        &self,
        agent_id: &str,
        agent: &crate::plan::Agent,
        checkout: &Path,
        tmp_root: &Path,
        name: &str,
    ) -> Result<Confinement, String> {
        let tmp = tmp_root.join(name);
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| {
            format!(
                "cannot create the private temporary directory `{}`: {e}",
                tmp.display()
            )
        })?;
        let tmp = Arc::new(TmpDir {
            path: tmp,
            owned: true,
        });
        let mut env = self.inherited.clone();
        env.push(("TMPDIR".into(), tmp.path.to_string_lossy().into_owned()));
        env.push((
            super::process::CONDUCTOR_ENV.into(),
            std::process::id().to_string(),
        ));
        let fs = (!self.in_place).then(|| {
            let mut writes = vec![checkout.to_path_buf(), tmp.path.clone()];
            writes.extend(agent.writes.iter().map(|p| self.expand(p)));
            FsRules {
                writes,
                reads: agent
                    .reads
                    .as_ref()
                    .map(|reads| reads.iter().map(|p| self.expand(p)).collect()),
                optional: agent.confinement == crate::plan::ConfinementMode::Optional,
            }
        });
        Ok(Confinement {
            tmp,
            fs,
            env,
            pass_env: self.passed.get(agent_id).cloned().unwrap_or_default(),
            redactor: self.redactor.clone(),
        })
    }

    /// A declared path: `~` and `~/…` are below `HOME`.
    fn expand(&self, path: &str) -> PathBuf {
        match (path.strip_prefix('~'), &self.home) {
            (Some(""), Some(home)) => home.clone(),
            (Some(rest), Some(home)) if rest.starts_with('/') => {
                home.join(rest.trim_start_matches('/'))
            }
            _ => PathBuf::from(path),
        }
    }
}

/// Overwrites with `*`, in this process's initial environment block, the
/// values of the variables that hold the run's secrets (read already: the
/// policy and the performers hold copies).
///
/// That block is what `/proc/PID/environ` shows, and Landlock does not keep
/// a confined program from reading it: on Linux 6.18 (Landlock ABI 7) its
/// ptrace rule refuses `/proc/PID/mem` (ptrace attach) but not `environ`,
/// `maps` or `fd` (ptrace read), and an unconfined program (`--in-place`,
/// no Landlock) of the same user reads it anyway. Removing a variable
/// (`unsetenv`) would not do: the bytes stay in the block. Call it while
/// the process has one thread (before the async runtime starts): nothing
/// may read the environment meanwhile.
pub fn hide_secret_values(policy: &Policy) {
    #[cfg(target_os = "linux")]
    {
        let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
            return;
        };
        // `pid (comm) state ...`: after the command, field 3 onwards;
        // `env_start` and `env_end` are fields 50 and 51.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<usize>().ok());
        let (Some(start), Some(end)) = (field(50), field(51)) else {
            return;
        };
        if start == 0 || end <= start {
            return;
        }
        // SAFETY: the kernel reports [start, end) as this process's
        // environment block, on its initial stack: mapped, writable, and
        // referenced by no Rust value (the C `environ` strings point into
        // it; nothing reads them now, see above). Lengths are unchanged.
        let block = unsafe { std::slice::from_raw_parts_mut(start as *mut u8, end - start) };
        for entry in block.split_mut(|&b| b == 0) {
            if let Some(eq) = entry.iter().position(|&b| b == b'=')
                && policy
                    .secret_names
                    .iter()
                    .any(|name| name.as_bytes() == &entry[..eq])
            {
                entry[eq + 1..].fill(b'*');
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = policy;
}

/// Why a program cannot be started under its confinement.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything the forked child needs, prepared in the parent.
pub struct ChildSetup {
    #[cfg(target_os = "linux")]
    inner: sys::Prepared,
}

impl ChildSetup {
    /// The setup for a program under `fs` (`None`: no filesystem rules);
    /// `program` is its resolved path, made readable when `reads` is
    /// declared. Fails when Landlock is required and missing, or a rule
    /// cannot be made.
    pub fn new(fs: Option<&FsRules>, program: Option<&Path>) -> Result<ChildSetup, SetupError> {
        let support = support();
        if let Some(fs) = fs
            && support.landlock_abi.is_none()
            && !fs.optional
        {
            return Err(SetupError(
                "this system has no Landlock (Linux 5.13 or later, with Landlock enabled), so \
                 the program cannot be confined to its checkout; run it anyway with \
                 `confinement optional` on its agent, or trust every command with `--in-place`"
                    .into(),
            ));
        }
        #[cfg(target_os = "linux")]
        {
            let fs = fs.filter(|_| support.landlock_abi.is_some());
            Ok(ChildSetup {
                inner: sys::Prepared::new(fs, program, support.pid_namespace)?,
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = program;
            Ok(ChildSetup {})
        }
    }

    /// Runs in the forked child, before `exec`: async-signal-safe calls
    /// only. With a PID namespace, returns only in the process that goes
    /// on to `exec` the program.
    ///
    /// # Safety
    /// Call only between `fork` and `exec` (a `pre_exec` hook).
    pub unsafe fn apply(&self) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: the caller's contract.
            unsafe { self.inner.apply() }
        }
        #[cfg(not(target_os = "linux"))]
        Ok(())
    }
}

#[cfg(target_os = "linux")]
mod sys {
    //! The Linux side: Landlock rulesets and PID namespaces.

    use super::{FsRules, PidNamespace, SYSTEM_READS, SetupError, WRITABLE_DEVICES};
    use landlock::{
        ABI, Access, AccessFs, BitFlags, PathBeneath, PathFd, Ruleset, RulesetAttr,
        RulesetCreatedAttr, Scope,
    };
    use std::io;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::path::Path;

    /// The rights handled: those of ABI 7 (the kernel's own ABI lowers
    /// them, best effort). Rights of later ABIs (e.g. connecting to UNIX
    /// sockets by path) are left to a later version, deliberately: they
    /// would break programs in ways this version has not been tested for.
    const ABI_HANDLED: ABI = ABI::V7;

    /// The kernel's Landlock ABI, or `None`.
    pub fn landlock_abi() -> Option<i32> {
        // SAFETY: landlock_create_ruleset(NULL, 0, VERSION) only returns a
        // number; it touches no memory.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<u8>(),
                0usize,
                1u32, // LANDLOCK_CREATE_RULESET_VERSION
            )
        };
        (v > 0).then_some(v as i32)
    }

    /// Whether a PID namespace can be created here, plainly or inside a
    /// user namespace.
    pub fn probe_pid_namespace() -> PidNamespace {
        if probe(&Namespace::Plain) {
            PidNamespace::Plain
        } else if probe(&Namespace::with_user()) {
            PidNamespace::WithUser
        } else {
            PidNamespace::Missing
        }
    }

    /// Forks a child that enters the namespace and forks once inside it.
    fn probe(ns: &Namespace) -> bool {
        // SAFETY: the child makes async-signal-safe calls only and leaves
        // with _exit; the parent reaps it.
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                let ok = ns.enter().is_ok() && {
                    let inner = libc::fork();
                    if inner == 0 {
                        libc::_exit(0);
                    }
                    let mut status = 0;
                    inner > 0
                        && libc::waitpid(inner, &mut status, 0) == inner
                        && libc::WIFEXITED(status)
                        && libc::WEXITSTATUS(status) == 0
                };
                libc::_exit(if ok { 0 } else { 1 });
            }
            if pid < 0 {
                return false;
            }
            let mut status = 0;
            while libc::waitpid(pid, &mut status, 0) < 0 {
                if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    return false;
                }
            }
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
        }
    }

    /// How to enter a new PID namespace.
    pub enum Namespace {
        Plain,
        /// With a user namespace; the maps are written to
        /// `/proc/self/{uid,gid}_map` (identity: the program keeps its ids).
        User {
            uid_map: Vec<u8>,
            gid_map: Vec<u8>,
        },
    }

    impl Namespace {
        pub fn with_user() -> Namespace {
            // SAFETY: getuid/getgid cannot fail.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            Namespace::User {
                uid_map: format!("{uid} {uid} 1\n").into_bytes(),
                gid_map: format!("{gid} {gid} 1\n").into_bytes(),
            }
        }

        /// `unshare`: the next child of the caller is PID 1 of a new
        /// namespace. Async-signal-safe.
        unsafe fn enter(&self) -> io::Result<()> {
            // SAFETY: plain system calls on memory we own.
            unsafe {
                match self {
                    Namespace::Plain => check(libc::unshare(libc::CLONE_NEWPID)),
                    Namespace::User { uid_map, gid_map } => {
                        check(libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWPID))?;
                        write_file(c"/proc/self/setgroups", b"deny")?;
                        write_file(c"/proc/self/uid_map", uid_map)?;
                        write_file(c"/proc/self/gid_map", gid_map)
                    }
                }
            }
        }
    }

    fn check(result: libc::c_int) -> io::Result<()> {
        if result < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Writes `bytes` to `path` (async-signal-safe).
    unsafe fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> io::Result<()> {
        // SAFETY: open/write/close on a NUL-terminated path and our bytes.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let written = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
            let error = io::Error::last_os_error();
            libc::close(fd);
            if written != bytes.len() as isize {
                return Err(error);
            }
            Ok(())
        }
    }

    /// What the child applies.
    pub struct Prepared {
        /// The Landlock ruleset, built in the parent; `None`: no rules.
        ruleset: Option<OwnedFd>,
        namespace: Option<Namespace>,
    }

    impl Prepared {
        pub fn new(
            fs: Option<&FsRules>,
            program: Option<&Path>,
            pids: PidNamespace,
        ) -> Result<Prepared, SetupError> {
            let ruleset = match fs {
                Some(fs) => ruleset(fs, program)?,
                None => None,
            };
            let namespace = match pids {
                PidNamespace::Plain => Some(Namespace::Plain),
                PidNamespace::WithUser => Some(Namespace::with_user()),
                PidNamespace::Missing => None,
            };
            Ok(Prepared { ruleset, namespace })
        }

        pub unsafe fn apply(&self) -> io::Result<()> {
            // SAFETY: between fork and exec (the caller's contract); every
            // call below is async-signal-safe and allocates nothing.
            unsafe {
                if let Some(namespace) = &self.namespace {
                    contain(namespace)?;
                }
                if let Some(ruleset) = &self.ruleset {
                    check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
                    let restricted =
                        libc::syscall(libc::SYS_landlock_restrict_self, ruleset.as_raw_fd(), 0u32);
                    if restricted < 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
            }
            Ok(())
        }
    }

    /// The Landlock ruleset of `fs`, as a file descriptor.
    fn ruleset(fs: &FsRules, program: Option<&Path>) -> Result<Option<OwnedFd>, SetupError> {
        let error = |e: &dyn std::fmt::Display| SetupError(format!("cannot set up Landlock: {e}"));
        let all = AccessFs::from_all(ABI_HANDLED);
        let read = AccessFs::from_read(ABI_HANDLED);
        let handled = if fs.reads.is_some() {
            all
        } else {
            AccessFs::from_write(ABI_HANDLED)
        };
        let mut created = Ruleset::default()
            .handle_access(handled)
            .and_then(|r| r.scope(Scope::Signal))
            .and_then(|r| r.create())
            .map_err(|e| error(&e))?;
        let mut add = |path: &Path, access: BitFlags<AccessFs>| -> Result<(), SetupError> {
            // A path that does not exist cannot be reached: nothing to allow.
            let Ok(fd) = PathFd::new(path) else {
                return Ok(());
            };
            (&mut created)
                .add_rule(PathBeneath::new(fd, access & handled))
                .map_err(|e| error(&format!("{}: {e}", path.display())))?;
            Ok(())
        };
        for path in &fs.writes {
            add(path, all)?;
        }
        for device in WRITABLE_DEVICES {
            add(Path::new(device), all)?;
        }
        if let Some(reads) = &fs.reads {
            let resolv = std::fs::canonicalize("/etc/resolv.conf").ok();
            let extra = resolv.as_deref().and_then(Path::parent);
            let program_dir = program
                .and_then(|p| std::fs::canonicalize(p).ok())
                .and_then(|p| p.parent().map(Path::to_path_buf));
            for path in reads
                .iter()
                .map(|p| p.as_path())
                .chain(SYSTEM_READS.iter().map(Path::new))
                .chain(extra)
                .chain(program_dir.as_deref())
            {
                add(path, read)?;
            }
        }
        Ok(created.into())
    }

    /// Moves the caller into a PID namespace of its own: returns in PID 2,
    /// the process that execs the program; PID 1 (our init) and the
    /// process left outside (which the runtime waits for) never return.
    unsafe fn contain(namespace: &Namespace) -> io::Result<()> {
        // SAFETY: async-signal-safe calls only; the branches that do not
        // return leave with _exit.
        unsafe {
            namespace.enter()?;
            let mut fds = [0 as libc::c_int; 2];
            check(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC))?;
            let (status_read, status_write) = (fds[0], fds[1]);
            match libc::fork() {
                -1 => Err(io::Error::last_os_error()),
                0 => {
                    // PID 1. It dies with the process outside.
                    libc::close(status_read);
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                    match libc::fork() {
                        -1 => Err(io::Error::last_os_error()),
                        0 => {
                            // PID 2: the program.
                            libc::close(status_write);
                            Ok(())
                        }
                        program => init(program, status_write),
                    }
                }
                init_pid => relay(init_pid, status_read),
            }
        }
    }

    /// Closes every descriptor but `keep` (the standard streams, the
    /// runtime's pipes: only the program keeps those).
    unsafe fn close_all_but(keep: libc::c_int) {
        // SAFETY: closing descriptors is async-signal-safe.
        unsafe {
            let keep = keep as u32;
            let ranges = [(0, keep.checked_sub(1)), (keep + 1, Some(u32::MAX))];
            for (first, last) in ranges {
                let Some(last) = last else {
                    continue;
                };
                if libc::syscall(libc::SYS_close_range, first, last, 0u32) < 0 {
                    // Kernels before 5.9: one by one.
                    for fd in first..=last.min(4096) {
                        libc::close(fd as libc::c_int);
                    }
                }
            }
        }
    }

    /// PID 1: reaps every orphan until the program ends, passes its wait
    /// status on and exits, which kills whatever is left in the namespace.
    unsafe fn init(program: libc::pid_t, status_write: libc::c_int) -> ! {
        // SAFETY: async-signal-safe calls only.
        unsafe {
            libc::signal(libc::SIGCHLD, libc::SIG_DFL);
            close_all_but(status_write);
            loop {
                let mut status = 0;
                let pid = libc::waitpid(-1, &mut status, 0);
                if pid == program {
                    libc::write(
                        status_write,
                        (&status as *const libc::c_int).cast(),
                        std::mem::size_of::<libc::c_int>(),
                    );
                    libc::_exit(0);
                }
                if pid < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    libc::_exit(127);
                }
            }
        }
    }

    /// The process outside the namespace (the one the runtime started and
    /// waits for): waits for PID 1 and ends as the program ended, with its
    /// exit status or its signal.
    unsafe fn relay(init_pid: libc::pid_t, status_read: libc::c_int) -> ! {
        // SAFETY: async-signal-safe calls only.
        unsafe {
            libc::signal(libc::SIGCHLD, libc::SIG_DFL);
            close_all_but(status_read);
            let mut init_status = 0;
            while libc::waitpid(init_pid, &mut init_status, 0) < 0 {
                if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    libc::_exit(127);
                }
            }
            let mut status: libc::c_int = 0;
            let read = libc::read(
                status_read,
                (&mut status as *mut libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>(),
            );
            if read != std::mem::size_of::<libc::c_int>() as isize {
                // PID 1 did not get to say (it failed to start the program,
                // or was killed): its own status.
                status = init_status;
            }
            if libc::WIFSIGNALED(status) {
                let signal = libc::WTERMSIG(status);
                let no_core = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::setrlimit(libc::RLIMIT_CORE, &no_core);
                libc::signal(signal, libc::SIG_DFL);
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, signal);
                libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
                libc::kill(libc::getpid(), signal);
                libc::_exit(128 + signal);
            }
            libc::_exit(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                127
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_directory_that_exists_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let taken = dir.path().join("score-draft-x");
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("theirs"), "x").unwrap();
        let e = ScratchDir::create(&taken).err().unwrap();
        assert!(e.contains("cannot create"), "{e}");
        assert!(taken.join("theirs").is_file(), "not removed");
        let link = dir.path().join("score-draft-link");
        std::os::unix::fs::symlink(&taken, &link).unwrap();
        assert!(ScratchDir::create(&link).is_err());
        let fresh = dir.path().join("score-draft-y");
        {
            let scratch = ScratchDir::create(&fresh).unwrap();
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(scratch.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert!(!fresh.exists(), "removed when the draft ends");
    }

    #[test]
    fn declared_paths_expand_home() {
        let plan_env = |name: &str| match name {
            "HOME" => Some("/home/me".to_string()),
            "PATH" => Some("/usr/bin".to_string()),
            _ => None,
        };
        let policy = Policy {
            in_place: false,
            redactor: Redactor::none(),
            inherited: base_environment(&plan_env, Path::new("")),
            passed: Default::default(),
            home: Some(PathBuf::from("/home/me")),
            secret_names: Vec::new(),
        };
        assert_eq!(policy.expand("~"), PathBuf::from("/home/me"));
        assert_eq!(
            policy.expand("~/.claude"),
            PathBuf::from("/home/me/.claude")
        );
        assert_eq!(policy.expand("/opt/x"), PathBuf::from("/opt/x"));
        assert_eq!(policy.expand("~other"), PathBuf::from("~other"));
    }

    #[test]
    fn the_base_environment_is_an_allow_list() {
        let env = |name: &str| match name {
            "PATH" => Some("/usr/bin".to_string()),
            "OPENAI_API_KEY" => Some("sk-secret-value".to_string()),
            _ => None,
        };
        let vars = base_environment(&env, Path::new("/t"));
        let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["PATH", "TMPDIR", "SCORE_CONDUCTOR_PID"]);
    }

    /// Runs `sh -c script` under `setup`, returning its stdout.
    #[cfg(target_os = "linux")]
    fn run_under(setup: ChildSetup, script: &str) -> String {
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new("sh");
        command.args(["-c", script]);
        // SAFETY: `apply` is async-signal-safe (the function under test).
        unsafe {
            command.pre_exec(move || setup.apply());
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_program_is_pid_2_of_its_namespace_with_or_without_a_user_namespace() {
        let mut kinds = vec![PidNamespace::WithUser];
        if support().pid_namespace == PidNamespace::Plain {
            kinds.push(PidNamespace::Plain);
        }
        if support().pid_namespace == PidNamespace::Missing {
            return;
        }
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        for kind in kinds {
            let setup = ChildSetup {
                inner: sys::Prepared::new(None, None, kind).unwrap(),
            };
            let out = run_under(setup, "echo $$; id -u");
            assert_eq!(out, format!("2\n{uid}\n"), "{kind:?}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn exit_statuses_and_signals_come_through_the_namespace() {
        if support().pid_namespace == PidNamespace::Missing {
            return;
        }
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        for (script, code, signal) in [("exit 7", Some(7), None), ("kill -TERM $$", None, Some(15))]
        {
            let setup = ChildSetup::new(None, None).unwrap();
            let mut command = std::process::Command::new("sh");
            command.args(["-c", script]);
            // SAFETY: as above.
            unsafe {
                command.pre_exec(move || setup.apply());
            }
            let status = command.status().unwrap();
            assert_eq!((status.code(), status.signal()), (code, signal), "{script}");
        }
    }

    #[test]
    fn a_confinement_does_not_print_the_values_it_passes() {
        let confinement = Confinement {
            pass_env: vec![("API_KEY".into(), "sk-do-not-print".into())],
            ..Default::default()
        };
        let text = format!("{confinement:?}");
        assert!(
            text.contains("API_KEY") && !text.contains("sk-do-not-print"),
            "{text}"
        );
    }

    #[test]
    fn support_is_described() {
        let text = support().describe();
        assert!(text.contains("Landlock"), "{text}");
    }
}
