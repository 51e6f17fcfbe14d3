from .decision_log_cases import decided  # noqa: F401 - the decision-log and export tests' fixture
