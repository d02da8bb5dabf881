"""sqlite-utils, imported without pandas.

sqlite-utils imports pandas at module load when it is installed (about 0.5 s, most of the chat's
start-up budget) only so that it can store DataFrame values, which utta never passes. Unless
something already imported pandas, it is hidden while sqlite-utils loads.
"""

from __future__ import annotations

import sys

if "pandas" in sys.modules:
    from sqlite_utils import Database
    from sqlite_utils.db import NotFoundError
else:
    sys.modules["pandas"] = None  # type: ignore[assignment]  # makes `import pandas` fail fast
    try:
        from sqlite_utils import Database
        from sqlite_utils.db import NotFoundError
    finally:
        del sys.modules["pandas"]

__all__ = ["Database", "NotFoundError"]
