//! One module per subcommand; each parses its own arguments and returns a [`crate::output::Report`].

pub(crate) mod audit;
pub(crate) mod check;
pub(crate) mod crl;
pub(crate) mod inspect;
pub(crate) mod lint;
pub(crate) mod token;
pub(crate) mod validate;
