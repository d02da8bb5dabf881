"""Built-in answer rules. Each module registers its rules in pyproject's ``utta.rules`` group."""
