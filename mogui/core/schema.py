"""Print the project JSON Schema.

Usage: ``python -m mogui.core.schema > resources/project.schema.json``
"""

import json

from mogui.core.io import json_schema

if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2))
