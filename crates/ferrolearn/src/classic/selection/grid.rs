//! Grid search candidates: every combination of the values given per hyperparameter.

use serde::{Deserialize, Serialize};

use super::params::{ParamSet, ParamValue};
use crate::{Error, Result};

/// parameter varying fastest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamGrid {
    axes: Vec<(String, Vec<ParamValue>)>,
}

impl ParamGrid {
    /// An empty grid (one candidate with no parameters).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter and its values.
    pub fn with(mut self, name: impl Into<String>, values: Vec<ParamValue>) -> Self {
        self.axes.push((name.into(), values));
        self
    }

    /// Adds a parameter written as `name=v1,v2,...` (values parsed by [`ParamValue::parse`]).
    pub fn with_spec(self, spec: &str) -> Result<Self> {
        let (name, values) = spec.split_once('=').ok_or_else(|| {
            Error::InvalidParameter(format!("grid axis `{spec}` is not of the form name=v1,v2"))
        })?;
        let values: Vec<ParamValue> = values
            .split(',')
            .filter(|v| !v.trim().is_empty())
            .map(ParamValue::parse)
            .collect();
        if name.trim().is_empty() || values.is_empty() {
            return Err(Error::InvalidParameter(format!(
                "grid axis `{spec}` needs a name and at least one value"
            )));
        }
        Ok(self.with(name.trim(), values))
    }

    /// Every combination of values.
    pub fn candidates(&self) -> Vec<ParamSet> {
        let mut out = vec![ParamSet::default()];
        for (name, values) in &self.axes {
            out = out
                .into_iter()
                .flat_map(|set| {
                    values.iter().map(move |v| {
                        let mut s = set.clone();
                        s.0.push((name.clone(), v.clone()));
                        s
                    })
                })
                .collect();
        }
        out
    }
}
