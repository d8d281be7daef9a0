"""How good the model is against the editors, what review costs them, and the charts that show it."""
