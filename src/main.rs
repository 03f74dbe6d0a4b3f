//! The `mlguard` command line: argument parsing, printing and exit codes (0 clean, 1 findings or
//! changes, 2 usage or runtime errors). Everything else lives in the library's `commands`.

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use mlguard::commands::framework::{self, FrameworkRequest, Invocation};
use mlguard::commands::install::{AttributesFile, Scope};
use mlguard::commands::scan::{BaselineRequest, FailOn, ScanRequest, Target, Verdict};
use mlguard::commands::strip::{Selection, StripRequest};
use mlguard::commands::{
    self, Action, ConfigSource, Format, Mode, Settings, StripInput, filter, hook, install, status,
};
use mlguard::scan::history::{Phase, Progress};

#[derive(Parser)]
#[command(
    name = "mlguard",
    version,
    about = "Keeps notebook outputs and credentials out of ML repositories"
)]
struct Cli {
    /// Read the settings from this file (.mlguard.toml syntax, or a pyproject.toml with
    /// [tool.mlguard]) instead of looking for one; --no-config wins over it
    #[arg(long, global = true, value_name = "FILE", env = "MLGUARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Strip outputs, execution counts and volatile metadata from notebooks (nbstripout-compatible)
    Strip(StripArgs),
    /// Scan files, directories or the staged changes for credentials (exit 1 when any is found)
    Scan(ScanArgs),
    /// Set up the notebook filter, its attributes and the pre-commit hook in this clone
    Install(InstallArgs),
    /// Remove exactly what `install` added (a hook that was there before is restored)
    Uninstall(UninstallArgs),
    /// Show what is configured and whether git applies it (exit 0 only when fully installed)
    Status,
    /// git's long-running filter protocol (configured by `install` as filter.mlguard.process)
    FilterProcess,
    /// Run a git hook's checks (`install` writes a hook script that calls this)
    Hook {
        #[arg(value_enum)]
        name: HookName,
        /// pre-commit-framework: the files the framework hands the hook
        files: Vec<PathBuf>,
    },
    /// Print a shell completion script (e.g. `mlguard completions bash > ~/.local/share/bash-completion/completions/mlguard`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): `mlguard man > mlguard.1`, `mlguard man scan > mlguard-scan.1`
    Man {
        /// A subcommand's page instead of mlguard's own
        subcommand: Option<String>,
    },
}

#[derive(Args)]
struct InstallArgs {
    /// In the user's git configuration, for every repository
    #[arg(long, conflicts_with = "gitattributes")]
    global: bool,
    /// Write the attributes to the committed .gitattributes instead of .git/info/attributes
    #[arg(long)]
    gitattributes: bool,
}

#[derive(Args)]
struct UninstallArgs {
    /// From the user's git configuration (undoes `install --global`)
    #[arg(long, conflicts_with = "gitattributes")]
    global: bool,
    /// Remove the attribute lines from the committed .gitattributes (undoes `install --gitattributes`)
    #[arg(long)]
    gitattributes: bool,
}

fn scope(global: bool, gitattributes: bool) -> Scope {
    match (global, gitattributes) {
        (true, _) => Scope::User,
        (false, true) => Scope::Clone(AttributesFile::Committed),
        (false, false) => Scope::Clone(AttributesFile::Info),
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum HookName {
    /// The hook `mlguard install` writes: staged notebooks stripped, no staged credential
    PreCommit,
    /// The pre-commit framework's `mlguard-scan` hook: scans the push range, the staged
    /// changes or the handed files, depending on how the framework called it
    PreCommitFramework,
}

#[derive(Args)]
struct ScanArgs {
    /// Files and directories to scan (default: the current directory)
    paths: Vec<PathBuf>,
    /// Scan what the next commit adds (the index), instead of files
    #[arg(long, conflicts_with_all = ["paths", "range", "history"])]
    staged: bool,
    /// Scan the content added by each commit of a range, e.g. origin/main..HEAD (CI on a push;
    /// an empty or all-zero start means from the root), and report each secret's exposure
    #[arg(long, value_name = "A..B", conflicts_with_all = ["paths", "history"])]
    range: Option<String>,
    /// Scan every blob reachable from any ref, each once, and report each secret's exposure
    #[arg(long, conflicts_with = "paths")]
    history: bool,
    /// Report format
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Exit 1 on warnings (code smells) too
    #[arg(long)]
    strict: bool,
    /// Ignore findings recorded in this baseline file (default: [scan] baseline)
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the current findings to the baseline file and exit 0
    #[arg(long)]
    update_baseline: bool,
    /// Ignore .mlguard.toml and pyproject.toml
    #[arg(long)]
    no_config: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Sarif,
    Github,
}

#[derive(Args)]
struct StripArgs {
    /// Notebooks to rewrite in place; none: read stdin, write stdout (the git clean filter)
    files: Vec<PathBuf>,
    /// Print the stripped notebooks to stdout instead of rewriting them (for diff.<driver>.textconv)
    #[arg(short = 't', long)]
    textconv: bool,
    /// Only print which notebooks would be stripped
    #[arg(long)]
    dry_run: bool,
    /// Exit 1 when any notebook would be stripped (implies --dry-run); the CI check
    #[arg(long)]
    verify: bool,
    /// Process files of any extension, not only .ipynb and .zpln
    #[arg(short = 'f', long)]
    force: bool,
    /// Keep outputs
    #[arg(long)]
    keep_output: bool,
    /// Keep execution counts (and v3 prompt numbers)
    #[arg(long)]
    keep_count: bool,
    /// Keep cell ids instead of renumbering them 0, 1, 2, ...
    #[arg(long)]
    keep_id: bool,
    /// Extra keys to strip, space-separated: metadata.PATH or cell.PATH
    #[arg(long, value_name = "KEYS")]
    extra_keys: Vec<String>,
    /// Keys to keep although stripped by default, space-separated (exact names)
    #[arg(long, value_name = "KEYS")]
    keep_metadata_keys: Vec<String>,
    /// Drop cells whose source is empty or whitespace
    #[arg(long)]
    drop_empty_cells: bool,
    /// Drop cells carrying any of these tags, space-separated
    #[arg(long, value_name = "TAGS")]
    drop_tagged_cells: Vec<String>,
    /// Strip the outputs of init cells too
    #[arg(long)]
    strip_init_cells: bool,
    /// Keep outputs of at most SIZE characters (k, M, G suffixes: powers of 1000)
    #[arg(long, value_name = "SIZE")]
    max_size: Option<String>,
    /// Keep outputs of these types even when stripping: TYPE or TYPE:NAME, space-separated
    #[arg(long, value_name = "TYPES")]
    keep_output_type: Vec<String>,
    /// Drop outputs of these types even when keeping outputs: TYPE or TYPE:NAME, space-separated
    #[arg(long, value_name = "TYPES")]
    drop_output_type: Vec<String>,
    /// Notebook kind
    #[arg(short = 'm', long, value_enum, default_value_t = ModeArg::Jupyter)]
    mode: ModeArg,
    /// Accepted for nbstripout compatibility: output always uses \n
    #[arg(long, hide = true)]
    unix_newlines: bool,
    /// Ignore .mlguard.toml and pyproject.toml
    #[arg(long)]
    no_config: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Jupyter,
    Zeppelin,
}

/// A failure that ends the command with exit code 2.
struct Fatal(String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(error: E) -> Self {
        Fatal(error.to_string())
    }
}

/// `mlguard strip`'s options that, as in nbstripout, take several values: the words after the
/// option up to the next option, existing path or notebook name.
const MULTI_VALUE: [&str; 5] = [
    "--keep-output-type",
    "--drop-output-type",
    "--extra-keys",
    "--keep-metadata-keys",
    "--drop-tagged-cells",
];

/// Joins the extra values of `MULTI_VALUE` options into the option's one value (lists are
/// split on whitespace later), so that `--keep-output-type stream:stdout execute_result nb.ipynb`
/// means two types and one notebook, as it does for nbstripout (which, unlike mlguard, also
/// takes `nb.ipynb` for a type).
fn join_multi_values(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    // The subcommand comes after the global `--config FILE`, when that is given first.
    let mut position = 1;
    while let Some(arg) = args.get(position) {
        if arg == "--config" {
            position += 2;
        } else if arg.to_string_lossy().starts_with("--config=") {
            position += 1;
        } else {
            break;
        }
    }
    let is_strip = args.get(position).is_some_and(|a| a == "strip");
    if !is_strip {
        return args;
    }
    let takes_more = |arg: &std::ffi::OsString| {
        let text = arg.to_string_lossy();
        !text.starts_with('-')
            && !std::path::Path::new(arg).exists()
            && Mode::of_path(std::path::Path::new(arg)).is_none()
    };
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter().peekable();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            out.push(arg);
            out.extend(iter);
            break;
        }
        let multi = MULTI_VALUE.iter().any(|option| arg == *option);
        out.push(arg);
        if multi {
            if let Some(mut value) = iter.next() {
                while let Some(more) = iter.next_if(takes_more) {
                    value.push(" ");
                    value.push(more);
                }
                out.push(value);
            }
        }
    }
    out
}

fn main() -> ExitCode {
    let cli = parse_cli(join_multi_values(std::env::args_os().collect()));
    let config = cli.config;
    // A panic anywhere is a runtime error (exit 2), never a crash code a hook might misread.
    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Strip(args) => run_strip(&args, config.as_deref()),
        Command::Scan(args) => run_scan(&args, config.as_deref()),
        Command::Install(args) => run_install(&args),
        Command::Uninstall(args) => run_uninstall(&args),
        Command::Status => run_status(config.as_deref()),
        Command::FilterProcess => run_filter_process(config.as_deref()),
        Command::Hook {
            name: HookName::PreCommit,
            files,
        } => {
            if files.is_empty() {
                run_pre_commit_hook(config.as_deref())
            } else {
                Err(Fatal("hook pre-commit takes no files".into()))
            }
        }
        Command::Hook {
            name: HookName::PreCommitFramework,
            files,
        } => run_framework_hook(files, config.as_deref()),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mlguard", &mut out);
            print_stdout(&out).map(|()| ExitCode::SUCCESS)
        }
        Command::Man { subcommand } => run_man(subcommand.as_deref()),
    });
    match result {
        Ok(Ok(code)) => code,
        Ok(Err(Fatal(message))) => {
            eprintln!("mlguard: error: {message}");
            ExitCode::from(2)
        }
        Err(_) => {
            eprintln!(
                "mlguard: error: internal error (a panic, reported above); nothing was checked"
            );
            ExitCode::from(2)
        }
    }
}

/// Parses the command line. `--version` also names the rule set: parsing the rules costs a
/// millisecond, which the filter and the hooks do not pay, so it is done only when asked for.
fn parse_cli(args: Vec<std::ffi::OsString>) -> Cli {
    let mut command = Cli::command();
    let asks_version = args
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| *a == "--version" || *a == "-V");
    if asks_version {
        let rules = match mlguard::scan::rules::builtin_summary() {
            Ok((version, count)) => format!("rule set {version}, {count} rules"),
            Err(e) => format!("rule set unreadable: {e}"),
        };
        // Once per process, so the string may live as long as clap needs it.
        let version: &'static str = format!("{} ({rules})", env!("CARGO_PKG_VERSION")).leak();
        command = command.version(version);
    }
    let matches = command.get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// `--no-config` > `--config FILE` / `MLGUARD_CONFIG` > the nearest file up to the repository root.
fn config_source(no_config: bool, config: Option<&Path>) -> Result<ConfigSource, Fatal> {
    Ok(match (no_config, config) {
        (true, _) => ConfigSource::Defaults,
        (false, Some(file)) => ConfigSource::File(file.to_path_buf()),
        (false, None) => ConfigSource::Discover(std::env::current_dir()?),
    })
}

fn load_settings(no_config: bool, config: Option<&Path>) -> Result<Settings, Fatal> {
    Ok(Settings::load(&config_source(no_config, config)?)?)
}

fn strip_input(args: &StripArgs) -> StripInput {
    let flag = |set: bool| set.then_some(true);
    StripInput {
        keep_output: flag(args.keep_output),
        keep_count: flag(args.keep_count),
        keep_id: flag(args.keep_id),
        extra_keys: args.extra_keys.clone(),
        keep_metadata_keys: args.keep_metadata_keys.clone(),
        drop_empty_cells: flag(args.drop_empty_cells),
        drop_tagged_cells: args.drop_tagged_cells.clone(),
        strip_init_cells: flag(args.strip_init_cells),
        max_size: args.max_size.clone(),
        keep_output_type: args.keep_output_type.clone(),
        drop_output_type: args.drop_output_type.clone(),
        mode: Some(match args.mode {
            ModeArg::Jupyter => Mode::Jupyter,
            ModeArg::Zeppelin => Mode::Zeppelin,
        }),
    }
}

fn run_strip(args: &StripArgs, config: Option<&Path>) -> Result<ExitCode, Fatal> {
    let mut settings = load_settings(args.no_config, config)?;
    settings.apply_strip_input(&strip_input(args))?;
    let action = match (args.dry_run || args.verify, args.textconv) {
        (true, _) => Action::Check,
        (false, true) => Action::Print,
        (false, false) => Action::InPlace,
    };
    let mut out = Vec::new();
    let any_change = if args.files.is_empty() {
        let mut input = Vec::with_capacity(stdin_size_hint());
        io::stdin()
            .read_to_end(&mut input)
            .map_err(|e| Fatal(format!("stdin: {e}")))?;
        let action = if action == Action::InPlace {
            Action::Print
        } else {
            action
        };
        // Written as it is walked: the stripped notebook is never held whole.
        let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
        let written = commands::strip::strip_stdin(&input, &settings.strip, action, &mut stdout)
            .and_then(|changed| Ok(stdout.flush().map(|()| changed)?));
        match written {
            Err(commands::strip::StripError::Output(e))
                if e.kind() == io::ErrorKind::BrokenPipe =>
            {
                std::process::exit(0)
            }
            written => written?,
        }
    } else {
        let request = StripRequest {
            files: args.files.clone(),
            action,
            selection: if args.force {
                Selection::Any
            } else {
                Selection::Notebooks
            },
        };
        let outcome = commands::strip::strip_files(&request, &settings.strip, &mut out)?;
        print_stdout(&out)?;
        for path in &outcome.skipped {
            eprintln!(
                "mlguard: note: {}: skipped, not a notebook (.ipynb or .zpln); -f processes it anyway",
                shown(path)
            );
        }
        for path in &outcome.empty_directories {
            eprintln!(
                "mlguard: note: {}: no notebook in this directory",
                shown(path)
            );
        }
        for failure in &outcome.failures {
            eprintln!("mlguard: error: {failure}");
        }
        if !outcome.failures.is_empty() {
            return Ok(ExitCode::from(2));
        }
        outcome.changed
    };
    Ok(ExitCode::from(u8::from(args.verify && any_change)))
}

/// A path as printed: control characters escaped.
fn shown(path: &std::path::Path) -> String {
    commands::printable(&path.to_string_lossy()).into_owned()
}

/// The size of stdin when it is a regular file (a redirect), so it is read without regrowing.
fn stdin_size_hint() -> usize {
    use std::os::fd::AsFd;
    let metadata = io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata());
    metadata.map_or(64 * 1024, |m| {
        if m.is_file() {
            m.len() as usize + 1
        } else {
            64 * 1024
        }
    })
}

fn run_scan(args: &ScanArgs, config: Option<&Path>) -> Result<ExitCode, Fatal> {
    let settings = load_settings(args.no_config, config)?;
    let target = match (&args.range, args.history, args.staged) {
        (Some(range), _, _) => Target::Range(range.clone()),
        (None, true, _) => Target::History,
        (None, false, true) => Target::Staged,
        (None, false, false) => Target::Paths(args.paths.clone()),
    };
    let request = ScanRequest {
        target,
        format: match args.format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
        },
        fail_on: if args.strict {
            FailOn::Warnings
        } else {
            FailOn::Errors
        },
        baseline: BaselineRequest {
            file: args.baseline.clone(),
            update: args.update_baseline,
        },
    };
    let history = matches!(request.target, Target::Range(_) | Target::History);
    let outcome = if history && io::stderr().is_terminal() {
        let line = ProgressLine::default();
        let sink = |progress: &Progress| line.show(progress);
        let outcome = commands::scan::run_with_progress(&settings, request, &sink);
        line.clear();
        outcome?
    } else {
        commands::scan::run(&settings, request)?
    };
    print_stdout(&outcome.report)?;
    for note in &outcome.notes {
        eprintln!("mlguard: note: {note}");
    }
    if let Some(summary) = &outcome.summary {
        eprintln!("{summary}");
    }
    if !outcome.unreadable.is_empty() {
        for problem in &outcome.unreadable {
            eprintln!("mlguard: error: {problem}");
        }
        eprintln!(
            "mlguard: error: the scan is incomplete: the report above covers only what could be read"
        );
        return Ok(ExitCode::from(2));
    }
    Ok(match outcome.verdict {
        Verdict::Clean => ExitCode::SUCCESS,
        Verdict::Findings => ExitCode::from(1),
        Verdict::BaselineWritten { path, count } => {
            eprintln!("mlguard: wrote {count} finding(s) to {}", path.display());
            ExitCode::SUCCESS
        }
    })
}

/// The progress line of a long history scan on a terminal: shown after the first second,
/// rewritten in place, erased at the end.
#[derive(Default)]
struct ProgressLine {
    shown: std::sync::atomic::AtomicBool,
}

impl ProgressLine {
    const AFTER: std::time::Duration = std::time::Duration::from_secs(1);

    fn show(&self, progress: &Progress) {
        if progress.elapsed < Self::AFTER {
            return;
        }
        self.shown.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut stderr = io::stderr().lock();
        let _ = match progress.phase {
            Phase::Scanning => write!(
                stderr,
                "\r\x1b[Kmlguard: scanning history: {} blobs, {} MB, {:.1} s",
                progress.blobs,
                progress.bytes / 1_000_000,
                progress.elapsed.as_secs_f64()
            ),
            Phase::Following => write!(
                stderr,
                "\r\x1b[Kmlguard: {} blobs, {} MB scanned; following the secrets found through the commits, {:.1} s",
                progress.blobs,
                progress.bytes / 1_000_000,
                progress.elapsed.as_secs_f64()
            ),
        };
        let _ = stderr.flush();
    }

    fn clear(&self) {
        if self.shown.load(std::sync::atomic::Ordering::Relaxed) {
            eprint!("\r\x1b[K");
        }
    }
}

fn print_lines(lines: &[String]) -> Result<(), Fatal> {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    print_stdout(text.as_bytes())
}

fn run_install(args: &InstallArgs) -> Result<ExitCode, Fatal> {
    let exe = std::env::current_exe()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    print_lines(&install::install(
        &exe,
        scope(args.global, args.gitattributes),
    )?)?;
    Ok(ExitCode::SUCCESS)
}

fn run_uninstall(args: &UninstallArgs) -> Result<ExitCode, Fatal> {
    print_lines(&install::uninstall(scope(args.global, args.gitattributes))?)?;
    Ok(ExitCode::SUCCESS)
}

fn run_status(config: Option<&Path>) -> Result<ExitCode, Fatal> {
    let settings = load_settings(false, config)?;
    let status = status::status(&settings.strip)?;
    print_lines(&status.lines)?;
    Ok(ExitCode::from(u8::from(!status.fully_installed)))
}

fn run_filter_process(config: Option<&Path>) -> Result<ExitCode, Fatal> {
    use std::os::fd::AsFd;
    let settings = load_settings(false, config)?;
    // The raw descriptors: stdout's own line buffering would split each answer in two writes
    // (up to its last newline, then the closing flush packets), and git would wait for the
    // second; that is a round trip per file of a `git add`.
    let raw = |fd: std::os::fd::BorrowedFd| fd.try_clone_to_owned().map(std::fs::File::from);
    // A buffer smaller than a packet: headers and keys are buffered, a content packet is read
    // straight into the request's buffer.
    let mut input = io::BufReader::with_capacity(16 << 10, raw(io::stdin().as_fd())?);
    let mut output = io::BufWriter::with_capacity(1 << 16, raw(io::stdout().as_fd())?);
    filter::serve(&settings, &mut input, &mut output, &mut io::stderr())?;
    Ok(ExitCode::SUCCESS)
}

/// The pre-commit checks: staged notebooks must be stripped, and no credential may be added.
fn run_pre_commit_hook(config: Option<&Path>) -> Result<ExitCode, Fatal> {
    let outcome = hook::pre_commit(&load_settings(false, config)?)?;
    print_stdout(&outcome.report)?;
    for note in &outcome.notes {
        eprintln!("mlguard: note: {note}");
    }
    if !outcome.refused() {
        return Ok(ExitCode::SUCCESS);
    }
    for line in outcome.refusal() {
        eprintln!("{line}");
    }
    Ok(ExitCode::from(1))
}

fn run_man(subcommand: Option<&str>) -> Result<ExitCode, Fatal> {
    let command = Cli::command();
    let page = match subcommand {
        None => command,
        Some(name) => command
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| Fatal(format!("man: no subcommand `{name}`")))?
            .name(&*format!("mlguard-{name}").leak())
            .version(env!("CARGO_PKG_VERSION")),
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| Fatal(format!("man page: {e}")))?;
    print_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The pre-commit framework's scan hook: what it scans depends on how the framework called it.
fn run_framework_hook(files: Vec<PathBuf>, config: Option<&Path>) -> Result<ExitCode, Fatal> {
    let request = FrameworkRequest {
        invocation: Invocation::detect(|name| std::env::var(name).ok()),
        files,
    };
    let outcome = framework::run(&load_settings(false, config)?, request)?;
    print_stdout(&outcome.report)?;
    for note in &outcome.notes {
        eprintln!("mlguard: note: {note}");
    }
    eprintln!("{}", outcome.summary);
    Ok(ExitCode::from(u8::from(outcome.failed())))
}

/// Writes to stdout; a reader that went away early (`| head`) is not an error.
fn print_stdout(bytes: &[u8]) -> Result<(), Fatal> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Fatal(format!("stdout: {e}"))),
        Ok(()) => Ok(()),
    }
}
