"""Shared test configuration."""

import os

import fastw2v


def pytest_report_header(config):
    # The suite is meant to test the installed package; say which copy was imported.
    return f"fastw2v {fastw2v.__version__} from {os.path.dirname(fastw2v.__file__)}"
