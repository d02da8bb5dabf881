"""The child model: how a simulated child reads a question and answers it from what it believes.

- :mod:`agent.child.reader` reads the problem in the teacher's message.
- :mod:`agent.child.rules` holds the named answer rules (registered through the ``utta.rules``
  entry point group); a persona's misconception names the rule it answers by while held and the
  correct rule it answers by once resolved.
- :mod:`agent.child.think` picks the rule for a question and computes the child's answer.
- :mod:`agent.child.voice` says that answer in the persona's voice (the offline brain).
- :mod:`agent.child.probes` generates problems, and :mod:`agent.child.probe_lines` the teaching,
  telling and chit-chat lines, for benchmarks and evaluation (`utta eval`).

Importing this package reads nothing and loads no model.
"""
