//! Hyperparameters by name and value ([`ParamSet`]), so a command line states a grid as
//! strings (`k=1,3,5 metric=l1,l2`) and a closure turns each set into a learner.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One hyperparameter value: an integer, a real number or a word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParamValue {
    /// An integer such as `k = 3`.
    Int(i64),
    /// A real number such as `alpha = 0.1`.
    Float(f64),
    /// A word such as `metric = manhattan`.
    Text(String),
}

impl ParamValue {
    /// Reads a value written on a command line: an integer if it parses as one, else a
    /// real number, else the text itself.
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        if let Ok(i) = s.parse::<i64>() {
            ParamValue::Int(i)
        } else if let Ok(f) = s.parse::<f64>() {
            ParamValue::Float(f)
        } else {
            ParamValue::Text(s.to_string())
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Text(s) => f.write_str(s),
        }
    }
}

/// Named hyperparameter values: one candidate of a search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamSet(pub Vec<(String, ParamValue)>);

impl ParamSet {
    /// The value named `name`.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn require(&self, name: &str) -> Result<&ParamValue> {
        self.get(name)
            .ok_or_else(|| Error::InvalidParameter(format!("parameter `{name}` is not set")))
    }

    /// The value named `name` as a real number (integers convert).
    pub fn get_f64(&self, name: &str) -> Result<f64> {
        match self.require(name)? {
            ParamValue::Int(i) => Ok(*i as f64),
            ParamValue::Float(x) => Ok(*x),
            ParamValue::Text(s) => Err(Error::InvalidParameter(format!(
                "parameter `{name}` must be a number, got `{s}`"
            ))),
        }
    }

    /// The value named `name` as a non-negative integer.
    pub fn get_usize(&self, name: &str) -> Result<usize> {
        match self.require(name)? {
            ParamValue::Int(i) if *i >= 0 => Ok(*i as usize),
            other => Err(Error::InvalidParameter(format!(
                "parameter `{name}` must be a non-negative integer, got `{other}`"
            ))),
        }
    }

    /// The value named `name` as text (numbers are formatted).
    pub fn get_str(&self, name: &str) -> Result<String> {
        Ok(self.require(name)?.to_string())
    }
}

impl fmt::Display for ParamSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (n, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}
