//! `rvc remote add|list|remove|default`

use std::path::Path;
use std::process::ExitCode;

use super::output::print_json;
use super::CmdResult;
use rvc::remote::settings::{self, NewRemote};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Add a remote: a path, file://, s3://, gs://, az:// or http(s):// URL.
    Add(AddArgs),
    /// List the remotes, with their options (credentials are never shown).
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a remote from the config (nothing on the remote is deleted).
    Remove { name: String },
    /// Make a remote the default for push, fetch and pull.
    Default {
        name: String,
        /// Set it in .rvc/config.local.toml (this machine only).
        #[arg(long)]
        local: bool,
    },
}

#[derive(clap::Args)]
struct AddArgs {
    name: String,
    url: String,
    /// Make it the default remote.
    #[arg(long)]
    default: bool,
    /// Write it to .rvc/config.local.toml (this machine only, not committed).
    #[arg(long)]
    local: bool,
    /// Replace a remote of the same name.
    #[arg(long)]
    force: bool,
    /// The service's endpoint, for S3-compatible servers (e.g. http://127.0.0.1:9000).
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// The region.
    #[arg(long)]
    region: Option<String>,
    /// Allow plain http:// endpoints.
    #[arg(long)]
    allow_http: bool,
    /// Address buckets by path (http://host/bucket) rather than by host name.
    #[arg(long)]
    path_style: bool,
    /// Any other object_store option, e.g. -o use_emulator=true.
    #[arg(short = 'o', long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let config = repo.config();
    match args.command {
        Sub::Add(a) => {
            let mut options: Vec<(String, String)> = Vec::new();
            if let Some(e) = a.endpoint {
                options.push(("endpoint".into(), e));
            }
            if let Some(r) = a.region {
                options.push(("region".into(), r));
            }
            if a.allow_http {
                options.push(("allow_http".into(), "true".into()));
            }
            if a.path_style {
                options.push(("path_style".into(), "true".into()));
            }
            for o in a.options {
                let Some((k, v)) = o.split_once('=') else {
                    eprintln!("error: `{o}` is not KEY=VALUE");
                    return Ok(ExitCode::from(super::EXIT_USAGE));
                };
                options.push((k.trim().to_string(), v.trim().to_string()));
            }
            let file = settings::add(
                repo.root(),
                config,
                &NewRemote {
                    name: a.name.clone(),
                    url: a.url.clone(),
                    options,
                    local: a.local,
                    default: a.default,
                    force: a.force,
                },
            )?;
            let shown = file.strip_prefix(repo.root()).unwrap_or(&file);
            println!(
                "added remote {} ({}) to {}{}",
                a.name,
                a.url,
                shown.display(),
                if a.default { ", as the default" } else { "" }
            );
        }
        Sub::List { json } => {
            let rows = settings::list(config);
            if json {
                print_json(&rows);
            } else if rows.is_empty() {
                println!("no remotes; add one with `rvc remote add NAME URL`");
            } else {
                for r in &rows {
                    println!(
                        "{}\t{}{}",
                        r.name,
                        r.url.as_deref().unwrap_or("(no url)"),
                        if r.default { "\t(default)" } else { "" }
                    );
                    for (k, v) in &r.options {
                        println!("    {k} = {v}");
                    }
                }
            }
        }
        Sub::Remove { name } => {
            settings::remove(repo.root(), config, &name)?;
            println!("removed remote {name} (its objects are left where they are)");
        }
        Sub::Default { name, local } => {
            if !config.remotes.contains_key(&name) {
                return Err(rvc::Error::Remote(rvc::error::RemoteError::UnknownRemote {
                    name,
                    known: config.remotes.keys().cloned().collect(),
                }));
            }
            settings::set_default(repo.root(), &name, local)?;
            println!("{name} is now the default remote");
        }
    }
    Ok(ExitCode::SUCCESS)
}
