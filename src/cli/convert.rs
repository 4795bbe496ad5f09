//! `emqx-render convert --to VERSION FILE`: the converted resources on stdout, what has no
//! equivalent on stderr. Exit 0 converted, 1 nothing to convert, 2 usage, I/O or invalid spec.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{EXIT_ERROR, print_diagnostics, read_sources};
use crate::convert::{ConvertError, Target, convert};
use crate::output;

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The operator generation to write.
    #[arg(long, value_enum)]
    pub to: Target,
    /// The spec file (`-` for standard input).
    pub file: PathBuf,
}

pub fn run(a: ConvertArgs) -> anyhow::Result<ExitCode> {
    let sources = read_sources(std::slice::from_ref(&a.file))?;
    let Some(source) = sources.first() else {
        anyhow::bail!("no input");
    };
    let converted = match convert(source, a.to) {
        Ok(c) => c,
        Err(ConvertError::Invalid(d)) => {
            print_diagnostics(&d.0, false)?;
            let _ = writeln!(
                io::stderr().lock(),
                "error: {} is not a valid spec; nothing converted",
                a.file.display()
            );
            return Ok(ExitCode::from(EXIT_ERROR));
        }
        Err(ConvertError::Nothing) => {
            let _ = writeln!(
                io::stderr().lock(),
                "error: {} holds no EMQX resource to convert",
                a.file.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let mut text = String::new();
    for d in &converted.documents {
        text.push_str("---\n");
        text.push_str(&output::object_yaml(d, "", "")?);
    }
    {
        let mut err = io::stderr().lock();
        for n in &converted.notes {
            writeln!(err, "note: {n}")?;
        }
        writeln!(err, "note: comments of the input are not carried over")?;
    }
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
