//! Pictures of learned weights: linear classifier templates and first-layer conv filters.
