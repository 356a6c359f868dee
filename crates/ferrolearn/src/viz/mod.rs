//! Pictures: training curves, confusion matrices, weight templates and filters.
