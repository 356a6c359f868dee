//! Classic supervised learners in the scikit-learn mould: `fit` returns a fitted model.
