"""Team review: the double-annotation sample, two editors' versions, their agreement, adjudication."""
