//! Our JSON extractor, so malformed bodies get our error body.
