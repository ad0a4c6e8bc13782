//! String patterns of role matchers: exact, `prefix`, `suffix`, `glob`.
