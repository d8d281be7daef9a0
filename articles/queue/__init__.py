"""The queue: the article list and its filters, "next article", and the leases that keep two editors apart."""
