//! A fitted classic model of any kind and the pipeline (scaler + model) that is saved and
//! predicts: classes or values, and the class probabilities or decision scores of the models
//! that give them, as scikit-learn's `predict_proba` and `decision_function`.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::scaler::FittedScaler;
use crate::classic::kmeans::KMeansModel;
use crate::classic::knn::FittedKnnClassifier;
use crate::classic::linear::{FittedGdRegressor, FittedPolynomialRegression, LinearModel};
use crate::classic::logistic::LogisticModel;
use crate::classic::mlp::MlpModel;
use crate::classic::multiclass_svm::MulticlassSvmModel;
use crate::classic::perceptron::PerceptronModel;
use crate::classic::sgd::{SgdClassifierModel, SgdRegressorModel};
use crate::classic::softmax::SoftmaxModel;
use crate::classic::svm::LinearSvmModel;
use crate::classic::{Classifier, Regressor};
use crate::{Error, Result};

/// A fitted model of any kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "fitted", rename_all = "snake_case")]
pub enum FittedModel {
    /// kNN classifier.
    Knn(FittedKnnClassifier),
    /// Binary logistic regression.
    Logistic(LogisticModel),
    /// Softmax regression (also multiclass `logistic`).
    Softmax(SoftmaxModel),
    /// Linear SVM.
    Svm(LinearSvmModel),
    /// Multiclass SVM.
    Multisvm(MulticlassSvmModel),
    /// Perceptron.
    Perceptron(PerceptronModel),
    /// Linear classifier by SGD.
    Sgd(SgdClassifierModel),
    /// Linear regressor by SGD.
    SgdRegressor(SgdRegressorModel),
    /// Multi-layer perceptron.
    Mlp(MlpModel),
    /// Least squares or ridge, closed form.
    Linear(LinearModel),
    /// Least squares or ridge by gradient descent.
    LinearGd(FittedGdRegressor),
    /// Polynomial regression.
    Poly(FittedPolynomialRegression),
    /// k-means centres (predicts cluster ids).
    Kmeans(KMeansModel),
}

/// A scaler and the model fitted on the scaled rows: the unit that is saved and predicts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FittedPipeline {
    /// Applied to every input first.
    pub scaler: FittedScaler,
    /// The fitted model.
    pub model: FittedModel,
}

impl FittedPipeline {
    /// Class probabilities `[N, n_classes]` for the models that define them, as
    /// scikit-learn's `predict_proba`: logistic, softmax, mlp, knn (the share of the k
    /// neighbours in each class) and sgd with loss log_loss or modified_huber; `None` for the
    /// others.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>> {
        let xs = self.scaler.transform(x)?;
        Ok(match &self.model {
            FittedModel::Logistic(m) => Some(m.predict_proba(xs.view())?),
            FittedModel::Softmax(m) => Some(m.predict_proba(xs.view())?),
            FittedModel::Mlp(m) => Some(m.predict_proba(xs.view())?),
            FittedModel::Knn(m) => Some(m.predict_proba(xs.view())?),
            FittedModel::Sgd(m) => m.predict_proba(xs.view())?,
            _ => None,
        })
    }

    /// The classes of `x` and, for the models that define them, their probabilities
    /// ([`Self::predict_proba`]); a kNN model searches the neighbours once for both.
    pub fn predict_with_proba(
        &self,
        x: ArrayView2<f64>,
    ) -> Result<(Array1<usize>, Option<Array2<f64>>)> {
        if let FittedModel::Knn(m) = &self.model {
            let (labels, proba) = m.predict_with_proba(self.scaler.transform(x)?.view())?;
            return Ok((labels, Some(proba)));
        }
        Ok((Classifier::predict(self, x)?, self.predict_proba(x)?))
    }

    /// Decision scores of the SVMs and sgd: `[N, 1]` for a two-class svm or sgd (positive
    /// means the second class, as scikit-learn's single column), `[N, n_classes]` for a
    /// one-vs-rest svm or sgd and for multisvm (whose weights hold a row per class even for
    /// two); `None` for the other models.
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>> {
        let xs = self.scaler.transform(x)?;
        Ok(match &self.model {
            FittedModel::Svm(m) => Some(m.decision_function(xs.view())?),
            FittedModel::Multisvm(m) => Some(m.decision_function(xs.view())?),
            FittedModel::Sgd(m) => Some(m.decision_function(xs.view())?),
            _ => None,
        })
    }

    fn as_classifier(&self) -> Option<&dyn Classifier> {
        Some(match &self.model {
            FittedModel::Knn(m) => m,
            FittedModel::Logistic(m) => m,
            FittedModel::Softmax(m) => m,
            FittedModel::Svm(m) => m,
            FittedModel::Multisvm(m) => m,
            FittedModel::Perceptron(m) => m,
            FittedModel::Sgd(m) => m,
            FittedModel::Mlp(m) => m,
            FittedModel::Kmeans(m) => m,
            FittedModel::Linear(_)
            | FittedModel::LinearGd(_)
            | FittedModel::Poly(_)
            | FittedModel::SgdRegressor(_) => return None,
        })
    }

    fn as_regressor(&self) -> Option<&dyn Regressor> {
        Some(match &self.model {
            FittedModel::Linear(m) => m,
            FittedModel::LinearGd(m) => m,
            FittedModel::Poly(m) => m,
            FittedModel::SgdRegressor(m) => m,
            _ => return None,
        })
    }

    fn not_a(&self, what: &str) -> Error {
        Error::InvalidParameter(format!("the fitted model is not a {what}"))
    }
}

impl Classifier for FittedPipeline {
    fn n_features(&self) -> usize {
        self.as_classifier().map_or(0, |m| m.n_features())
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        let m = self
            .as_classifier()
            .ok_or_else(|| self.not_a("classifier"))?;
        m.predict(self.scaler.transform(x)?.view())
    }
}

impl Regressor for FittedPipeline {
    fn n_features(&self) -> usize {
        self.as_regressor().map_or(0, |m| m.n_features())
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        let m = self.as_regressor().ok_or_else(|| self.not_a("regressor"))?;
        m.predict(self.scaler.transform(x)?.view())
    }
}
