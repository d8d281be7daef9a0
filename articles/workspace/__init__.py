"""The editing workspace: the page of one article, its partials, and the answers to the changes made on it."""
