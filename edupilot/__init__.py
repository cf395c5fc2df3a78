"""EduPilot: pilot programmes and smart-campus certification for education bureaus."""

__version__ = "0.1.0"
