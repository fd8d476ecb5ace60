//! Request input parsed once into small domain types.
