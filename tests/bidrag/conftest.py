from .payments_cases import cases  # noqa: F401 - the payment-file tests' fixture
