//! opdeck's integration tests, one module per concern.
//! Each module's first line says what it covers.
