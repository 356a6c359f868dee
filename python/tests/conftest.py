"""Test settings shared by the suite."""

import os

# scikit-learn runs its array-API checks (NumPy inputs with array-API dispatch on) only when
# this is set before SciPy is first imported; without it they would be skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
