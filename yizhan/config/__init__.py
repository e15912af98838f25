"""The hall's configuration: `load_config(dir)` → `HallConfig`, or `ConfigError` with every problem."""

from yizhan.config.loader import ConfigError, ConfigProblem, load_config, parse_config
from yizhan.config.model import HallConfig

__all__ = ["ConfigError", "ConfigProblem", "HallConfig", "load_config", "parse_config"]
