"""The debrief: what a session tells the trainee, computed from the transcript store.

``compute.debrief_session(store, id)`` gives a :class:`model.Debrief` (the child's timeline per
misconception, the trainee's talk, three suggestions); ``progress.trainee_progress`` the figures
across sessions; ``render``/``html``/``charts`` turn them into Markdown, JSON, HTML and charts.
Nothing is imported here, so importing the package costs nothing.
"""
