//! `Lazy<T>`: a subcommand's arguments that clap builds only when that subcommand is the one
//! given (`Command::defer`). Every call of kiste parses one command; building the
//! definitions of all the others (hundreds of options) cost milliseconds on each `run`.
//! Help, completions and man pages build the whole tree (`Command::build`).

use clap::{ArgMatches, Args, Command, Error, FromArgMatches};

/// The parsed arguments `T` of one subcommand, defined lazily.
#[derive(Debug, Clone)]
pub struct Lazy<T>(pub T);

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, Error> {
        T::from_arg_matches(m).map(Lazy)
    }

    fn from_arg_matches_mut(m: &mut ArgMatches) -> Result<Self, Error> {
        T::from_arg_matches_mut(m).map(Lazy)
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), Error> {
        self.0.update_from_arg_matches(m)
    }

    fn update_from_arg_matches_mut(&mut self, m: &mut ArgMatches) -> Result<(), Error> {
        self.0.update_from_arg_matches_mut(m)
    }
}

impl<T: Args> Args for Lazy<T> {
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }

    fn augment_args(cmd: Command) -> Command {
        cmd.defer(T::augment_args)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        cmd.defer(T::augment_args_for_update)
    }
}
