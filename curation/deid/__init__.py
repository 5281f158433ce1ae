"""De-identification of clinical notes: HIPAA Safe Harbor recognizers, consistent surrogates, per-patient date
shifting, PHI span annotation, evaluation against gold spans, and the rules that keep raw notes out of releases."""
