"""Getting corrected annotations out: CSV for spreadsheets, JSONL for Prodigy and doccano, DocBin for spaCy, CoNLL."""
