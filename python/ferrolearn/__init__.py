"""ferrolearn: supervised machine learning on the CPU, from k-nearest neighbours to
convolutional networks.

`ferrolearn.sklearn` (and `neighbors`, `linear_model`, `svm`, `cluster`, `preprocessing`,
`neural_network`): scikit-learn-compatible estimators with scikit-learn's class and
parameter names.
"""

from ferrolearn._native import __version__
from ferrolearn.sklearn import *  # noqa: F401,F403
from ferrolearn.sklearn import __all__ as _estimators

__all__ = ["__version__", *_estimators]
