//! The `mlguard` command line: argument parsing, printing and exit codes (0 clean, 1 findings or
//! changes, 2 usage or runtime errors). Everything else lives in the library.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use mlguard::baseline;
use mlguard::config::{self, Loaded};
use mlguard::files::{self, Action};
use mlguard::filter_process;
use mlguard::history;
use mlguard::hook;
use mlguard::install::{self, InstallOptions};
use mlguard::report::{self, Format};
use mlguard::rules::{Severity, Volume};
use mlguard::scan::{Finding, Scanner, sort_findings};
use mlguard::sources;
use mlguard::strip::{self, Mode, OutputType, Render, StripOptions};

#[derive(Parser)]
#[command(
    name = "mlguard",
    version,
    about = "Keeps notebook outputs and credentials out of ML repositories"
)]
struct Cli {
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
    Uninstall(InstallArgs),
    /// Show what is configured and whether git applies it (exit 0 only when fully installed)
    Status,
    /// git's long-running filter protocol (configured by `install` as filter.mlguard.process)
    FilterProcess,
    /// Run a git hook's checks (`install` writes a hook script that calls this)
    Hook {
        #[arg(value_enum)]
        name: HookName,
    },
}

#[derive(Args)]
struct InstallArgs {
    /// In the user's git configuration, for every repository
    #[arg(long)]
    global: bool,
    /// Write the attributes to the committed .gitattributes instead of .git/info/attributes
    #[arg(long)]
    gitattributes: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum HookName {
    PreCommit,
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
    /// Ignore findings recorded in this baseline file
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the current findings to the --baseline file and exit 0
    #[arg(long, requires = "baseline")]
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Strip(args) => run_strip(&args),
        Command::Scan(args) => run_scan(&args),
        Command::Install(args) => run_install(&args),
        Command::Uninstall(args) => run_uninstall(&args),
        Command::Status => run_status(),
        Command::FilterProcess => run_filter_process(),
        Command::Hook {
            name: HookName::PreCommit,
        } => run_pre_commit_hook(),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(message)) => {
            eprintln!("mlguard: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn split_words(values: &[String]) -> impl Iterator<Item = String> + '_ {
    values
        .iter()
        .flat_map(|v| v.split(|c: char| c.is_whitespace() || c == ','))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
}

fn output_types(values: &[String]) -> Result<Vec<OutputType>, Fatal> {
    split_words(values)
        .map(|w| w.parse().map_err(Fatal))
        .collect()
}

/// Configuration first, then the command line on top (flags can only turn settings on).
fn strip_options(args: &StripArgs) -> Result<StripOptions, Fatal> {
    let loaded = load_config(args.no_config)?;
    let mut options = loaded.strip_options()?;
    options.keep_output |= args.keep_output;
    options.keep_count |= args.keep_count;
    options.keep_id |= args.keep_id;
    options.drop_empty_cells |= args.drop_empty_cells;
    options.strip_init_cells |= args.strip_init_cells;
    for key in split_words(&args.extra_keys).collect::<Vec<_>>() {
        strip::validate_key_path(&key).map_err(|e| Fatal(format!("--extra-keys: {e}")))?;
        options.extra_keys.push(key);
    }
    options.keep_metadata_keys.extend(
        args.keep_metadata_keys
            .iter()
            .flat_map(|v| v.split_whitespace())
            .map(str::to_string),
    );
    options.drop_tagged_cells.extend(
        args.drop_tagged_cells
            .iter()
            .flat_map(|v| v.split_whitespace())
            .map(str::to_string),
    );
    if let Some(size) = &args.max_size {
        options.max_size =
            config::parse_size(size).map_err(|e| Fatal(format!("--max-size: {e}")))?;
    }
    options
        .keep_output_types
        .extend(output_types(&args.keep_output_type)?);
    options
        .drop_output_types
        .extend(output_types(&args.drop_output_type)?);
    options.mode = match args.mode {
        ModeArg::Jupyter => Mode::Jupyter,
        ModeArg::Zeppelin => Mode::Zeppelin,
    };
    Ok(options)
}

fn run_strip(args: &StripArgs) -> Result<ExitCode, Fatal> {
    let options = strip_options(args)?;
    let check_only = args.dry_run || args.verify;
    let any_change = if args.files.is_empty() {
        strip_stdin(&options, check_only)?
    } else {
        let action = match (check_only, args.textconv) {
            (true, _) => Action::Check,
            (false, true) => Action::Print,
            (false, false) => Action::InPlace,
        };
        let (changed, failed) = strip_files(args, &options, action)?;
        if failed {
            return Ok(ExitCode::from(2));
        }
        changed
    };
    Ok(ExitCode::from(u8::from(args.verify && any_change)))
}

fn strip_stdin(options: &StripOptions, check_only: bool) -> Result<bool, Fatal> {
    let mut input = Vec::with_capacity(stdin_size_hint());
    io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| Fatal(format!("stdin: {e}")))?;
    let render = if check_only {
        Render::Never
    } else {
        Render::Always
    };
    let stripped =
        strip::strip_bytes(&input, options, render).map_err(|e| Fatal(format!("stdin: {e}")))?;
    if check_only {
        if stripped.changed {
            print_stdout(b"Dry run: would have stripped input from stdin\n")?;
        }
    } else {
        print_stdout(&stripped.output)?;
    }
    Ok(stripped.changed)
}

/// Strips each file, reporting errors as they come and carrying on with the rest.
fn strip_files(
    args: &StripArgs,
    options: &StripOptions,
    action: Action,
) -> Result<(bool, bool), Fatal> {
    let (mut any_change, mut failed) = (false, false);
    for path in &args.files {
        if !args.force && !files::is_notebook_path(path) {
            continue;
        }
        match files::strip_file(path, options, action) {
            Ok(stripped) => {
                any_change |= stripped.changed;
                if action == Action::Print {
                    print_stdout(&stripped.output)?;
                } else if action == Action::Check && stripped.changed {
                    print_stdout(
                        format!("Dry run: would have stripped {}\n", path.display()).as_bytes(),
                    )?;
                }
            }
            Err(error) => {
                eprintln!("mlguard: error: {error}");
                failed = true;
            }
        }
    }
    Ok((any_change, failed))
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

fn load_config(no_config: bool) -> Result<Loaded, Fatal> {
    if no_config {
        Ok(Loaded::default())
    } else {
        Ok(config::discover(&std::env::current_dir()?)?)
    }
}

fn run_scan(args: &ScanArgs) -> Result<ExitCode, Fatal> {
    let loaded = load_config(args.no_config)?;
    let volume = if args.staged {
        Volume::Small
    } else {
        Volume::Large
    };
    let setup = loaded.scan_setup(volume)?;
    let (rules, options) = (&setup.rules, &setup.sources);
    let scanner = Scanner::new(rules, setup.allow);
    let mut notes = Vec::new();
    let mut findings = if let Some(selection) = history_selection(args) {
        let report = history::scan_history(&scanner, &selection, options.max_file_size)?;
        notes.extend(report.skipped.iter().map(|s| {
            format!(
                "skipped {} ({} bytes, over the {}-byte limit)",
                s.path, s.size, options.max_file_size
            )
        }));
        notes.push(format!("{} blob(s) scanned", report.blobs_scanned));
        report
            .findings
            .into_iter()
            .map(|(mut finding, exposure)| {
                finding.exposure = Some(exposure);
                finding
            })
            .collect()
    } else {
        let mut findings = if args.staged {
            sources::scan_staged(&scanner, options)?
        } else {
            let roots = if args.paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                args.paths.clone()
            };
            let files = sources::list_files(&roots, options)?;
            sources::scan_files(&scanner, &files, options)?
        };
        sort_findings(&mut findings);
        findings
    };
    if let Some(path) = &args.baseline {
        if args.update_baseline {
            baseline::save(path, rules, &findings)?;
            eprintln!(
                "mlguard: wrote {} finding(s) to {}",
                findings.len(),
                path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let known = baseline::load(path)?;
        findings.retain(|f| !known.contains(&baseline::entry(rules, f)));
    }
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
    };
    let mut buffer = Vec::new();
    report::write(&mut buffer, format, rules, &findings, &notes)?;
    print_stdout(&buffer)?;
    if format != Format::Sarif {
        for note in &notes {
            eprintln!("mlguard: note: {note}");
        }
    }
    let errors = findings
        .iter()
        .filter(|f| rules.rules[f.rule].spec.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if format == Format::Text {
        eprintln!("{}", summary(errors, warnings, &findings));
    }
    Ok(ExitCode::from(u8::from(
        errors > 0 || (args.strict && warnings > 0),
    )))
}

fn install_options(args: &InstallArgs) -> InstallOptions {
    InstallOptions {
        global: args.global,
        gitattributes: args.gitattributes,
    }
}

fn print_lines(lines: &[String]) -> Result<(), Fatal> {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    print_stdout(text.as_bytes())
}

fn run_install(args: &InstallArgs) -> Result<ExitCode, Fatal> {
    let exe = std::env::current_exe()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    print_lines(&install::install(&exe, &install_options(args))?)?;
    Ok(ExitCode::SUCCESS)
}

fn run_uninstall(args: &InstallArgs) -> Result<ExitCode, Fatal> {
    print_lines(&install::uninstall(&install_options(args))?)?;
    Ok(ExitCode::SUCCESS)
}

fn run_status() -> Result<ExitCode, Fatal> {
    let loaded = load_config(false)?;
    let status = install::status(&loaded.strip_options()?)?;
    print_lines(&status.lines)?;
    Ok(ExitCode::from(u8::from(!status.fully_installed)))
}

fn run_filter_process() -> Result<ExitCode, Fatal> {
    let loaded = load_config(false)?;
    let options = loaded.strip_options()?;
    let mut input = io::BufReader::with_capacity(1 << 16, io::stdin().lock());
    let mut output = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    filter_process::serve(&mut input, &mut output, &mut io::stderr(), &options)?;
    Ok(ExitCode::SUCCESS)
}

/// The pre-commit checks: staged notebooks must be stripped, and no credential may be added.
fn run_pre_commit_hook() -> Result<ExitCode, Fatal> {
    let mut report = Vec::new();
    let outcome = hook::pre_commit(&load_config(false)?, &mut report)?;
    print_stdout(&report)?;
    if outcome == hook::PreCommitOutcome::default() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "mlguard: commit refused: {} notebook(s) with outputs, {} credential(s); fix them and commit again",
        outcome.unstripped_notebooks, outcome.credentials
    );
    Ok(ExitCode::from(1))
}

fn history_selection(args: &ScanArgs) -> Option<history::Selection> {
    match (&args.range, args.history) {
        (Some(range), _) => Some(history::Selection::Range(range.clone())),
        (None, true) => Some(history::Selection::All),
        (None, false) => None,
    }
}

fn summary(errors: usize, warnings: usize, findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "mlguard: no credentials found".into();
    }
    let files: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.path.as_str()).collect();
    format!(
        "mlguard: {errors} credential(s) and {warnings} warning(s) in {} file(s)",
        files.len()
    )
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
