"""Token-labelled NER data (HILGEN): IOB/BIO tag sequences, character spans, and their conversions."""
