"""Child-likeness: how likely a reply was typed by a real child, learned from real children.

``child_likeness(text)`` is the calibrated probability; see ``scorer`` (inference, pure Python),
``train`` (scikit-learn, the ``scorer-train`` extra), ``dataset`` (sources and manifest).
"""

from trainers.childlike.scorer import child_likeness, default_model

__all__ = ["child_likeness", "default_model"]
