//! Assembles every route and layer into one axum Router.
