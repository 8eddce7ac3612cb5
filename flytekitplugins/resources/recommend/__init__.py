"""Right-sizing: usage history -> recommendations (``model.Recommendation``)."""
