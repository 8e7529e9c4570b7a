//! How a command ends: [`Failure`] carries the exit code (1 for failed work, 2 for bad input)
//! and the sentences to print on stderr; JSON and table printing helpers.

use std::process::ExitCode;

/// A command that did not succeed.
#[derive(Debug)]
pub struct Failure {
    /// 1: the work failed; 2: bad input or usage.
    pub code: u8,
    /// One line per problem, each naming its input.
    pub lines: Vec<String>,
}

impl Failure {
    /// Bad input or usage (exit 2).
    pub fn input(msg: impl std::fmt::Display) -> Failure {
        Failure {
            code: 2,
            lines: vec![msg.to_string()],
        }
    }

    /// The work failed (exit 1).
    pub fn work(msg: impl std::fmt::Display) -> Failure {
        Failure {
            code: 1,
            lines: vec![msg.to_string()],
        }
    }

    /// Prints the lines to stderr and gives the exit code.
    pub fn report(self) -> ExitCode {
        for l in &self.lines {
            eprintln!("loa: {l}");
        }
        ExitCode::from(self.code)
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Failure {
        Failure::input(e)
    }
}

/// The exit code for a store error: 2 when the operator named something wrong (an unknown
/// id, a forbidden state change, removing evidence), 1 when the database failed.
pub fn exit_code_of(e: &crate::store::StoreError) -> u8 {
    use crate::store::StoreError as E;
    match e {
        E::NotFound(_) | E::BadTransition { .. } | E::HasAired { .. } | E::Claimed { .. } => 2,
        _ => 1,
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Failure {
        Failure {
            code: exit_code_of(&e),
            lines: vec![e.to_string()],
        }
    }
}

/// Prints one JSON document to stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::work(format!("cannot encode the JSON output: {e}")))?;
    println!("{text}");
    Ok(())
}

/// The language of a command's words (`--lang`): Vietnamese unless asked otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LangArg {
    /// Tiếng Việt.
    #[default]
    Vi,
    /// English.
    En,
}

impl From<LangArg> for crate::lang::Lang {
    fn from(a: LangArg) -> crate::lang::Lang {
        match a {
            LangArg::Vi => crate::lang::Lang::Vi,
            LangArg::En => crate::lang::Lang::En,
        }
    }
}
