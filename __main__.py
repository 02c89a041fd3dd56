"""Pulumi entry point: validate the stack config, build the program, export its outputs."""

import pulumi

from components.config.problems import ConfigError
from components.config.stack import from_pulumi
from components.program import build

try:
    CONFIG = from_pulumi()
except ConfigError as error:
    # A clean, complete list of problems instead of a traceback; nothing has been registered.
    raise pulumi.RunError(error.render()) from None

for output_name, value in build(CONFIG).items():
    pulumi.export(output_name, value)
