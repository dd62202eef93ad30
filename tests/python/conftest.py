"""Fixtures shared by the Python tests: the paper's network and the first three digits."""
import pytest

import evoae


@pytest.fixture(scope="module")
def net():
    return evoae.varadi_network()


@pytest.fixture(scope="module")
def images():
    return evoae.data.scale(evoae.data.ten_digits()[:3])
