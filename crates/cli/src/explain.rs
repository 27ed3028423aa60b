//! `metrica-s2s explain`: the catalogue, read by people.

use crate::exit;
use anyhow::bail;
use clap::Args;
use metrica_s2s_rules::{docs, Code};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The diagnostic code, e.g. timestamp-too-old.
    #[arg(required_unless_present_any = ["list", "markdown"])]
    code: Option<String>,
    /// List every code with its severity and when it fires.
    #[arg(long, conflicts_with = "markdown")]
    list: bool,
    /// Print the whole catalogue as Markdown (this is how docs/rules.md is made).
    #[arg(long)]
    markdown: bool,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<u8> {
    if args.markdown {
        print!("{}", docs::rules_markdown());
        return Ok(exit::SUCCESS);
    }
    if args.list {
        for code in Code::ALL {
            let r = code.rule();
            println!(
                "{:<28} {:<8} {}",
                r.code,
                r.severity.describe().split(' ').next().unwrap_or(""),
                r.when
            );
        }
        return Ok(exit::SUCCESS);
    }
    let name = args.code.unwrap_or_default();
    match Code::from_name(&name) {
        Some(code) => {
            print!("{}", docs::explain(code));
            Ok(exit::SUCCESS)
        }
        None => {
            let near = Code::suggest(&name)
                .map(|c| format!("; did you mean {c}?"))
                .unwrap_or_default();
            bail!(
                "unknown code {}{near} (metrica-s2s explain --list shows every code)",
                metrica_s2s_rules::quote_str(&name)
            )
        }
    }
}
