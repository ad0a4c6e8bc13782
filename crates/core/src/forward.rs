//! Rendering identity values into header-safe `forward_headers` values.
