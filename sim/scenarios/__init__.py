"""Market scenarios for the demo and tests: documented, seeded path models loaded from ``scenarios/*.toml``."""

from sim.scenarios.paths import ScenarioPath, generate_path
from sim.scenarios.spec import ScenarioSpec, list_scenarios, load_scenario

__all__ = ["ScenarioPath", "ScenarioSpec", "generate_path", "list_scenarios", "load_scenario"]
