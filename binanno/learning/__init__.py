"""What the annotation loop decides: which updates to keep, what to ask, what it costs."""
