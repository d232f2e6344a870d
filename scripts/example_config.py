"""Write ``parley.example.toml`` from the Settings model (every option, its doc and default).

Run: .venv/bin/python scripts/example_config.py > parley.example.toml
``tests/contract/test_example_config.py`` checks that the committed file is this output.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic_core import PydanticUndefined

from parley.config import Settings


def main() -> None:
    print("# Parley settings. Every option can also be set as an environment variable PARLEY_<NAME>")
    print("# (e.g. PARLEY_DATABASE_URL). Pass this file with `parley --config FILE` or PARLEY_CONFIG.")
    print("# Uncomment what you change; the values shown are the defaults.")
    for name, field in Settings.model_fields.items():
        print()
        for line in (field.description or "").split(". "):
            print(f"# {line.strip().rstrip('.')}.")
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("secret"):
            print("# (secret: prefer the environment variable)")
        default = field.default
        if default is PydanticUndefined and field.default_factory is not None:
            default = field.default_factory()  # type: ignore[call-arg]
        if default is None:
            print(f"# {name} = ")
        elif isinstance(default, Path):
            print(f"# {name} = {json.dumps(str(default))}")
        else:
            print(f"# {name} = {json.dumps(default, ensure_ascii=False)}")


if __name__ == "__main__":
    main()
