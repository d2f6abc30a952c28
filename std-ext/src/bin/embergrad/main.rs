//! `embergrad`: train, evaluate and use dense networks from the command line.
//!
//! `embergrad train --data data/digits/digits_train.csv --test data/digits/digits_test.csv`
//! trains a classifier on the digits data shipped in the repository. Bad arguments end with
//! exit code 2 and a message before any work is done; failures while working with code 1.
//! Output goes to stdout line by line and a reader that goes away (`| head`) ends the
//! printing quietly, never the saving.

mod args;
mod data;
mod paths;
mod plan;
mod train;
mod use_model;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

/// Prints a line to stdout; false (and nothing else happens) if stdout is gone, e.g. a
/// closed pipe: printing never stops a command's real work.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        $crate::printed(writeln!(std::io::stdout().lock(), $($arg)*))
    }};
}

/// Whether a line reached stdout (see [`say!`]).
pub fn printed(result: std::io::Result<()>) -> bool {
    result.is_ok()
}

/// Why a command failed, and the exit code that says so.
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// A bad argument (exit code 2, as clap's own).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure { message: message.into(), code: 2 }
    }

    /// A failure while working: data, files, training (exit code 1).
    pub fn run(message: impl Into<String>) -> Self {
        Failure { message: message.into(), code: 1 }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Train(args) => train::train(*args),
        Command::Eval(args) => use_model::eval(args),
        Command::Predict(args) => use_model::predict(args),
        Command::Export { model, format: _, out } => use_model::export(&model, &out),
        Command::Import { from, out } => use_model::import(&from, &out),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
