//! The command line: `baton [serve|ingest|ask|eval]` with global `--data-dir`, `--addr`, `--config`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "baton",
    version,
    about = "Self-hosted AI support desk: answers from your docs, hands off to your team."
)]
pub struct Cli {
    /// Data directory (database, uploads).
    #[arg(long, global = true, env = "BATON_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, global = true, env = "BATON_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Config file (default: ./baton.toml, then <data dir>/baton.toml).
    #[arg(long, global = true, env = "BATON_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Learn a local folder, a file or a website (URL) into the knowledge base.
    Ingest {
        /// Folder, file, or http(s) URL to crawl.
        target: String,
        /// Display name of the source.
        #[arg(long)]
        name: Option<String>,
    },
    /// Ask the knowledge base a question.
    Ask {
        question: String,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
        /// Also print the ten best passages with their scores (why this answer).
        #[arg(long)]
        explain: bool,
    },
    /// Measure answer quality on a corpus and a questions file.
    Eval {
        /// Corpus folder (citations are compared by path relative to it).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Questions, JSON lines: {"q", "expect": [paths], "out_of_scope"?}.
        #[arg(long)]
        questions: Option<PathBuf>,
        /// Answer nuggets, JSON lines: {"q", "nuggets": [[alternative, ...], ...]}; adds
        /// `answer_pass` and `answer_chars_p50` to the metrics.
        #[arg(long)]
        nuggets: Option<PathBuf>,
        /// Labelled visitor messages for the handoff classifiers.
        #[arg(long)]
        triggers: Option<PathBuf>,
        /// End with one line of JSON metrics.
        #[arg(long)]
        json: bool,
        /// Keep the evaluation store in this folder (repeated runs re-ingest incrementally).
        #[arg(long, hide = true)]
        store: Option<PathBuf>,
        /// Dense weights to compare, e.g. 0.3,0.5,0.7 (tuning).
        #[arg(long, hide = true, value_delimiter = ',')]
        dense_weight: Vec<f32>,
        /// Write per-question confidence features here (tuning).
        #[arg(long, hide = true)]
        features: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    // `baton __pdf-text`: the PDF reader child process (see `knowledge::pdf`), before anything
    // else starts.
    if std::env::args_os().nth(1).is_some_and(|a| a == crate::knowledge::pdf::SUBCOMMAND) {
        return crate::knowledge::pdf::child_main();
    }
    if let Ok(exe) = std::env::current_exe() {
        crate::knowledge::pdf::set_helper(exe);
    }
    let cli = Cli::parse();
    init_tracing();
    let overrides =
        Overrides { config_file: cli.config.clone(), data_dir: cli.data_dir.clone(), addr: cli.addr };
    let config = match Config::load(&overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => crate::server::serve(config).await.map(|_| ExitCode::SUCCESS),
        Command::Ingest { target, name } => {
            let state = crate::AppState::new(config.clone(), true)?;
            let k = &state.knowledge;
            let id = if target.starts_with("http://") || target.starts_with("https://") {
                k.crawl_site(&target, &config.crawl)?
            } else {
                k.ingest_path(std::path::Path::new(&target), name)?
            };
            let status =
                crate::eval::follow(k, &id, std::io::IsTerminal::is_terminal(&std::io::stderr())).await?;
            crate::eval::print_source(&status);
            Ok(if status.status == crate::knowledge::JobStatus::Done {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Ask { question, json, explain } => {
            let state = crate::AppState::new(config.clone(), true)?;
            if explain {
                let r = state.knowledge.retrieve(&question).await?;
                let (_, f) = state.knowledge.compose_explained(
                    &question,
                    &r,
                    config.answer.confidence_threshold,
                    config.answer.max_citations,
                )?;
                eprintln!("features: {}", serde_json::to_string(&f)?);
                for h in r.hits.iter().take(10) {
                    eprintln!(
                        "{:.3} cos {:.3} bm25 {:5.2} cov {:.2}  {} > {}",
                        h.score,
                        h.cosine,
                        h.bm25,
                        h.coverage,
                        h.doc.path,
                        h.chunk.headings.join(" > ")
                    );
                }
            }
            let a = state
                .knowledge
                .answer(&question, config.answer.confidence_threshold, config.answer.max_citations)
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&a)?);
            } else {
                println!("{}\n", a.text);
                for c in &a.citations {
                    let link = if c.url.is_empty() { &c.path } else { &c.url };
                    println!("[{}] {} ({link})", c.n, c.title);
                }
                println!("\nconfidence {:.2}{}", a.confidence, if a.unsure { " (unsure)" } else { "" });
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval { corpus, questions, nuggets, triggers, json, store, dense_weight, features } => {
            let args = crate::eval::EvalArgs {
                corpus,
                questions,
                nuggets,
                triggers,
                json,
                store,
                dense_weights: dense_weight,
                features,
            };
            crate::eval::run(&config, args).await.map(|_| ExitCode::SUCCESS)
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("BATON_LOG").unwrap_or_else(|_| EnvFilter::new("info,poem=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
